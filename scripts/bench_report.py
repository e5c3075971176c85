#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
#
# Turn the raw results of scripts/bench into a table on stdout and, with --docs/--plot, the page
# docs/benchmarks.md and its plot (gnuplot, pngcairo). Python standard library only.
#
# Usage: bench_report.py RESULTS_DIR [--docs FILE] [--plot FILE.png]
#
# RESULTS_DIR holds what scripts/bench wrote: machine.txt (key=value), pipeline.jsonl and
# scale.jsonl (one JSON object per line from the benchmark programs), e2e.jsonl (one
# turnpike-load summary per line, with "relay", "run" and "step" added; step 0 is the flat-out
# probe, steps 1.. the ladder of offered loads).
import json
import os
import statistics
import subprocess
import sys
import tempfile

LOSSLESS = 0.1  # percent: the loss below which a rate counts as lossless (DESIGN.md §10)
RELAYS = [("dpdk", "turnpike-DPDK (memif)"), ("sockets", "turnpike-sockets (loopback)"),
          ("coturn", "coturn (loopback)")]
NAMES = dict(RELAYS)


def load_jsonl(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return rows


def loss(r):
    """Percent lost, counting datagrams the relay's input refused (memif ring full) as lost."""
    tried = r["sent"] + r.get("tx_failed", 0)
    return 100.0 * (tried - r["received"]) / tried if tried else 100.0


def median(xs):
    return statistics.median(xs) if xs else None


def fmt_pps(x):
    if x is None:
        return "n/a"
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    return "%.0f k" % (x / 1e3)


def fmt(x, spec="%.1f"):
    return "n/a" if x is None else spec % x


def e2e_cases(rows):
    """(relay, payload, allocations) -> per-run lossless rate and the latency there."""
    runs = {}
    for r in rows:
        key = (r["relay"], r["payload"], r["allocations"])
        runs.setdefault(key, {}).setdefault(r["run"], []).append(r)
    out = {}
    for key, per_run in runs.items():
        lossless, p50, p99, p999, flat = [], [], [], [], []
        for steps in per_run.values():
            probe = [s for s in steps if s["step"] == 0]
            if probe:
                flat.append(probe[0]["relayed_pps"])
            ok = [s for s in steps if s["step"] > 0 and loss(s) < LOSSLESS
                  and s.get("errors", 0) == 0]
            if not ok:
                lossless.append(0.0)
                continue
            best = max(ok, key=lambda s: s["relayed_pps"])
            lossless.append(best["relayed_pps"])
            p50.append(best["lat_p50_us"])
            p99.append(best["lat_p99_us"])
            p999.append(best["lat_p999_us"])
        out[key] = dict(runs=len(per_run), lossless=median(lossless), flat=median(flat),
                        p50=median(p50), p99=median(p99), p999=median(p999),
                        spread=(min(lossless), max(lossless)) if lossless else None)
    return out


def e2e_table(cases):
    keys = sorted({(k[1], k[2]) for k in cases})
    present = [r for r, _ in RELAYS if any(k[0] == r for k in cases)]
    head = ["payload", "allocations"]
    for r in present:
        head += [NAMES[r] + " lossless pps", "p50 / p99 / p99.9 µs"]
    if "coturn" in present:
        for r in present:
            if r != "coturn":
                head.append("%s ÷ coturn" % r)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for payload, allocs in keys:
        row = ["%d B" % payload, str(allocs)]
        for r in present:
            c = cases.get((r, payload, allocs))
            if not c:
                row += ["n/a", "n/a"]
                continue
            row.append("%s (%s–%s)" % (fmt_pps(c["lossless"]), fmt_pps(c["spread"][0]),
                                       fmt_pps(c["spread"][1])))
            row.append("%s / %s / %s" % (fmt(c["p50"], "%.0f"), fmt(c["p99"], "%.0f"),
                                         fmt(c["p999"], "%.0f")))
        if "coturn" in present:
            base = cases.get(("coturn", payload, allocs))
            for r in present:
                if r == "coturn":
                    continue
                c = cases.get((r, payload, allocs))
                if base and c and base["lossless"]:
                    row.append("%.1f×" % (c["lossless"] / base["lossless"]))
                else:
                    row.append("n/a")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def ladder_curves(rows, payload, allocs):
    """relay -> [(offered, relayed, p99)] medians per ladder step."""
    curves = {}
    for relay, _ in RELAYS:
        steps = {}
        for r in rows:
            if (r["relay"], r["payload"], r["allocations"]) == (relay, payload, allocs) \
                    and r["step"] > 0:
                steps.setdefault(r["step"], []).append(r)
        pts = []
        for st in sorted(steps):
            rs = steps[st]
            pts.append((median([x["offered_pps"] for x in rs]),
                        median([x["relayed_pps"] for x in rs]),
                        median([x["lat_p99_us"] for x in rs])))
        if pts:
            curves[relay] = pts
    return curves


def plot(rows, png, payload=100, allocs=1000):
    curves = ladder_curves(rows, payload, allocs)
    if not curves:
        return False
    with tempfile.TemporaryDirectory() as d:
        plots_pps, plots_lat = [], []
        for relay, pts in curves.items():
            path = os.path.join(d, relay + ".dat")
            with open(path, "w") as f:
                for o, r, p in pts:
                    f.write("%f %f %f\n" % (o / 1e3, r / 1e3, p))
            plots_pps.append("'%s' using 1:2 with linespoints lw 2 title '%s'" %
                             (path, NAMES[relay]))
            plots_lat.append("'%s' using 1:3 with linespoints lw 2 title '%s'" %
                             (path, NAMES[relay]))
        script = """
set terminal pngcairo size 1100,480 font 'sans,10'
set output '%s'
set multiplot layout 1,2 title 'turnpike-load, ChannelData both ways, %d-byte payloads, %d allocations (medians)'
set grid
set key top left
set logscale xy
set xlabel 'offered load (kpps)'
set ylabel 'relayed (kpps)'
set title 'Relayed packets/s'
plot %s
set ylabel 'p99 latency (µs)'
set title 'p99 latency'
plot %s
unset multiplot
""" % (png, payload, allocs, ", ".join(plots_pps), ", ".join(plots_lat))
        r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if r.returncode != 0:
            sys.stderr.write("gnuplot failed: %s\n" % r.stderr)
            return False
    return True


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__ or "usage: bench_report.py RESULTS_DIR [--docs FILE] [--plot FILE.png]")
        return 0
    res = args[0]
    docs = plot_png = None
    i = 1
    while i < len(args):
        if args[i] == "--docs":
            docs = args[i + 1]
            i += 2
        elif args[i] == "--plot":
            plot_png = args[i + 1]
            i += 2
        else:
            sys.stderr.write("bench_report.py: unknown option %s\n" % args[i])
            return 2
    machine = {}
    if os.path.exists(os.path.join(res, "machine.txt")):
        with open(os.path.join(res, "machine.txt")) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    machine[k] = v
    e2e = load_jsonl(os.path.join(res, "e2e.jsonl"))
    pipe = load_jsonl(os.path.join(res, "pipeline.jsonl"))
    scale = load_jsonl(os.path.join(res, "scale.jsonl"))
    cases = e2e_cases(e2e)

    import bench_page  # the page's tables and prose live next to this script

    print("\nTargets")
    pipe_md, pipe_rows = bench_page.pipeline_section(pipe)
    print(bench_page.targets(cases, pipe_rows, scale))
    print("\nEnd to end: lossless (< %.1f %% loss) relayed packets/s, medians of %s runs"
          % (LOSSLESS, machine.get("runs", "?")))
    print(e2e_table(cases))
    print("\nDPDK pipeline, cycles per packet")
    print(pipe_md)
    print("\nScale")
    for part in bench_page.scale_section(scale):
        print(part + "\n")

    if plot_png:
        if plot(e2e, plot_png):
            print("\nwrote %s" % plot_png)
        else:
            print("\nno plot (no ladder results or gnuplot failed)")
    if docs:
        page = bench_page.render(machine=machine, cases=cases, e2e_table=e2e_table(cases),
                                 pipeline=pipe, scale=scale,
                                 plot=os.path.basename(plot_png or ""))
        with open(docs, "w") as f:
            f.write(page)
        print("wrote %s" % docs)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
