#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The benchmarks still run and say something sensible: bench/turnpike-bench-pipeline and
# bench/turnpike-bench-scale with --quick --json-only (a few seconds each). Not a performance
# check (scripts/bench is that): every line must be a JSON object, the pipeline must report
# every path at each allocation count with a positive cost and no errors, and the scale
# benchmark must report memory, allocation rate and lookups up to 1M allocations.
# One PASS/FAIL line per binary and a last line "N passed, M failed".
#
# Usage: tests/bench/smoke.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: $0 BUILD_DIR}
passed=0
failed=0
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT

check() {
	local name=$1 bin=$2 verdict rc
	shift 2
	if [ ! -x "$bin" ]; then
		echo "SKIP  bench $name: $bin not built (no DPDK?)"
		return
	fi
	timeout 300 "$bin" --quick --json-only >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		echo "FAIL  bench $name: exit status $rc"
		tail -5 "$TMP/$name.err"
		return
	fi
	verdict=$(python3 - "$name" "$TMP/$name.out" <<'PYEOF'
import json, sys
name, path = sys.argv[1], sys.argv[2]
try:
    rows = [json.loads(l) for l in open(path) if l.strip()]
except ValueError as e:
    print("a line is not JSON: %s" % e)
    sys.exit()
if name == "pipeline":
    paths = {r["path"] for r in rows}
    counts = list(dict.fromkeys(r["allocations"] for r in rows))
    bad = [r for r in rows if r.get("errors") or not r["cycles"] > 0 or not r["floor_cycles"] > 0]
    if len(paths) != 8 or len(counts) != 3 or len(rows) != 24 or bad:
        print("%d rows, %d paths, %d allocation counts, %d bad" % (len(rows), len(paths), len(counts), len(bad)))
    else:
        print("ok: 8 paths x %s allocations" % "/".join(counts))
else:
    tests = {r["test"] for r in rows}
    mem = [r for r in rows if r["test"] == "memory" and r["allocations_n"] == 1000000]
    rate = [r for r in rows if r["test"] == "alloc_rate" and r["allocs_per_s"] > 0]
    if tests != {"memory", "alloc_rate", "lookup"} or not mem or not mem[0]["bytes_per_alloc"] > 0 or len(rate) != 2:
        print("tests %s, 1M memory rows %d, rate rows %d" % (sorted(tests), len(mem), len(rate)))
    else:
        print("ok: %.0f bytes/allocation at 1M, %d authenticated allocations/s" % (mem[0]["bytes_per_alloc"], rate[0]["allocs_per_s"]))
PYEOF
	)
	if [ "${verdict%%:*}" = ok ]; then
		passed=$((passed + 1))
		echo "PASS  bench $name --quick: ${verdict#ok: }"
	else
		failed=$((failed + 1))
		echo "FAIL  bench $name --quick: $verdict"
	fi
}

check pipeline "$build/bench/turnpike-bench-pipeline"
check scale "$build/bench/turnpike-bench-scale"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
