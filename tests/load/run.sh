#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Tests of turnpike-load, the TURN load generator (docs/load.md), against the relay of the same
# build and against coturn:
#
#   tests/load/run.sh BUILD_DIR
#
# Starts BUILD_DIR/src/app/turnpike on the sockets plane on loopback (free ports from
# tests/lib/free_ports.py), runs the generator's command-line checks and short runs (channel,
# send, TURN REST, wrong password), then a run against coturn's turnserver, and, when the build
# has DPDK and this is root, a run over memif against the relay's DPDK plane. Each check reads
# the JSON summary (the generator's last stdout line). A run that only lost packets is run once
# more (the machine may be busy), and its PASS line says so.
#
# Prints one line per check and a last line "N passed, M failed"; exits non-zero on any failure.
# Takes about 25 s. Environment: TP_KEEP_TMP=1 keeps the temporary directory (configs, logs).
set -uo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" 2>/dev/null && pwd) || {
	echo "FAIL  load: $1 is not a directory"
	echo "0 passed, 1 failed"
	exit 1
}
RELAY=$BUILD/src/app/turnpike
LOAD=$BUILD/tools/load/turnpike-load
HERE=$(cd "$(dirname "$0")" && pwd)

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'PASS  load %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL  load %s\n' "$*"; }
skip() { printf 'SKIP  load %s\n' "$*"; }
indent() { sed 's/^/        /'; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

for f in "$RELAY" "$LOAD"; do
	if [ ! -x "$f" ]; then
		bad "setup: $f is not an executable"
		finish
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-load.XXXXXX") || exit 2
TP_PID=
CT_PID=
DP_PID=

# Stop @pid with SIGTERM, wait at most 5 s, then SIGKILL.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
	stop_pid "$TP_PID"
	stop_pid "$CT_PID"
	stop_pid "$DP_PID"
	rm -rf "/var/run/dpdk/ldrelay$$" "/var/run/dpdk/ldgen$$" 2>/dev/null
	if [ "${TP_KEEP_TMP:-0}" = 1 ]; then
		echo "kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A field of the JSON summary on the last line of file $1.
field() {
	tail -1 "$1" | python3 -c 'import json, sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$2" \
		2>/dev/null
}

# The verdict on a finished run whose stdout is $1: "ok", "loss" or a reason.
verdict() {
	python3 - "$1" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        s = json.loads(f.read().strip().splitlines()[-1])
except Exception as e:
    print("no JSON summary (%s)" % e)
    sys.exit()
keys = ("backend server allocations payload mode direction target_pps duration_s setup_s "
        "allocs_per_s sent received offered_pps relayed_pps loss_pct reordered duplicates "
        "lat_p50_us lat_p99_us lat_p999_us errors").split()
missing = [k for k in keys if k not in s]
if missing:
    print("summary lacks " + ",".join(missing))
elif s["sent"] <= 0:
    print("nothing was sent")
elif s["errors"] != 0 or s["duplicates"] != 0:
    print("errors=%s duplicates=%s" % (s["errors"], s["duplicates"]))
elif not s["lat_p50_us"] > 0:
    print("lat_p50_us is %s" % s["lat_p50_us"])
elif s["received"] != s["sent"] or s["loss_pct"] != 0:
    print("loss")
else:
    print("ok")
EOF
}

# Run the generator as case $1 with the remaining arguments; a run that only lost packets gets
# one more try. Prints the PASS/FAIL line.
# Sets LAST_OUT to the stdout file of the run it judged.
LAST_OUT=
run_case() {
	local name=$1 out v try note=""
	shift
	for try in 1 2; do
		out="$TMP/$name.$try.out"
		timeout 60 "$LOAD" --progress 0 "$@" >"$out" 2>"$TMP/$name.$try.err"
		local rc=$?
		if [ $rc -ne 0 ]; then
			bad "$name: exit $rc"
			indent <"$TMP/$name.$try.err" | tail -5
			return
		fi
		v=$(verdict "$out")
		LAST_OUT=$out
		[ "$v" = loss ] && [ $try = 1 ] && note=" (second run: the first lost packets)" && continue
		break
	done
	if [ "$v" = ok ]; then
		ok "$name: sent=$(field "$out" sent) received=$(field "$out" received)" \
			"p50=$(field "$out" lat_p50_us)us setup=$(field "$out" setup_s)s$note"
	else
		bad "$name: $v: sent=$(field "$out" sent) received=$(field "$out" received)" \
			"loss=$(field "$out" loss_pct)%"
		tail -6 "$out" | head -5 | indent
	fi
}

# --- the command line ---
if "$LOAD" --help >"$TMP/help.out" 2>&1; then
	miss=""
	for w in sockets dpdk --allocations --rate --payload --mode --direction --rest-secret \
		--peer --client-ip --dpdk-ip loss_pct lat_p999_us; do
		grep -q -- "$w" "$TMP/help.out" || miss="$miss $w"
	done
	if [ -z "$miss" ]; then
		ok "--help: exit 0, documents both back ends and the summary keys"
	else
		bad "--help does not mention:$miss"
	fi
else
	bad "--help: exit status $?"
fi
"$LOAD" --server 127.0.0.1:3478 --user u --password p --no-such-option >/dev/null 2>"$TMP/bad.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "no-such-option" "$TMP/bad.err"; then
	ok "a bad option: exit 2 ($(head -1 "$TMP/bad.err"))"
else
	bad "a bad option: exit $rc, message: $(head -1 "$TMP/bad.err")"
fi
"$LOAD" --server 127.0.0.1:3478 --user u --password p --payload 10 >/dev/null 2>"$TMP/bad2.err"
rc=$?
if [ $rc -eq 2 ]; then
	ok "--payload 10: exit 2 ($(head -1 "$TMP/bad2.err"))"
else
	bad "--payload 10: exit $rc"
fi

# --- the relay on loopback: +0 turnpike, +1 coturn, +16..+115 turnpike relay ports,
# +128..+227 coturn relay ports ---
if ! BASE=$(timeout 20 python3 "$HERE/../lib/free_ports.py" 256 0); then
	bad "setup: no block of free loopback ports found"
	finish
fi
SECRET=load-rest-secret-$$-$RANDOM
cat >"$TMP/relay.json" <<EOF
{
  "realm": "load.test",
  "listen": [ { "transport": "udp", "address": "127.0.0.1", "port": $BASE } ],
  "relay": { "address": "127.0.0.1", "port_min": $((BASE + 16)), "port_max": $((BASE + 115)) },
  "auth": { "users": [ { "name": "u", "password": "p" } ], "secret": "$SECRET" },
  "limits": { "allocations_per_user": 1000, "unauth_rate": 100000 },
  "peers": { "allow_loopback": true },
  "dataplane": { "kind": "sockets", "workers": 1 },
  "log": { "level": "info" }
}
EOF
"$RELAY" --config "$TMP/relay.json" >"$TMP/relay.log" 2>&1 &
TP_PID=$!
for ((i = 0; i < 100; i++)); do
	grep -q "running (realm" "$TMP/relay.log" && break
	kill -0 "$TP_PID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "running (realm" "$TMP/relay.log"; then
	bad "setup: turnpike did not start"
	indent <"$TMP/relay.log" | tail -10
	finish
fi
SRV=127.0.0.1:$BASE

run_case "channel both c2p+p2c, 10 allocations, 20 kpps" --server "$SRV" --user u --password p \
	--allocations 10 --rate 20000 --duration 2 --warmup 0.5 --mode channel --direction both
run_case "send indications both, 10 allocations" --server "$SRV" --user u --password p \
	--allocations 10 --rate 10000 --duration 1 --warmup 0.3 --mode send --direction both
run_case "TURN REST credentials, 20 allocations, c2p" --server "$SRV" --rest-secret "$SECRET" \
	--rest-user loadtest --allocations 20 --rate 10000 --duration 1 --warmup 0.3 --direction c2p

# Refreshes during a run: Refresh, CreatePermission and ChannelBind again every second for each
# allocation, while traffic flows without loss.
run_case "refresh cycles during traffic, 5 allocations" --server "$SRV" --user u --password p \
	--allocations 5 --rate 2000 --duration 3 --warmup 0.2 --refresh 1
rf=$(field "$LAST_OUT" refreshes)
if [ "${rf:-0}" -ge 10 ] 2>/dev/null; then
	ok "refreshes=$rf in that run (5 allocations, every second for 3 s)"
else
	bad "expected at least 10 refresh cycles, got '${rf}'"
fi

# --steps: one more measurement per fraction, on the same allocations, at that fraction of the
# first measurement's rate; one JSON line each.
timeout 60 "$LOAD" --server "$SRV" --user u --password p --allocations 5 --rate 20000 \
	--steps 0.5,0.25 --duration 0.5 --warmup 0.2 --progress 0 >"$TMP/steps.out" 2>"$TMP/steps.err"
rc=$?
v=$(python3 - "$TMP/steps.out" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
want = [(0, 20000), (1, 10000), (2, 5000)]
got = [(r["step"], r["target_pps"]) for r in rows]
lost = [r["step"] for r in rows if r["received"] != r["sent"] or r["sent"] == 0]
print("ok" if got == want and not lost else "steps/targets %s, want %s; lossy or empty: %s" % (got, want, lost))
EOF
)
if [ $rc -eq 0 ] && [ "$v" = ok ]; then
	ok "--steps 0.5,0.25: three summaries at 20000, 10000 and 5000 pps, nothing lost"
else
	bad "--steps: exit $rc: $v"
	tail -3 "$TMP/steps.err" | indent
fi

timeout 30 "$LOAD" --server "$SRV" --user u --password wrong --allocations 3 --duration 1 \
	>"$TMP/wrong.out" 2>"$TMP/wrong.err"
rc=$?
if [ $rc -ne 0 ] && grep -q "401" "$TMP/wrong.err"; then
	ok "wrong password: exit $rc: $(grep 401 "$TMP/wrong.err" | head -1)"
else
	bad "wrong password: exit $rc, message: $(head -2 "$TMP/wrong.err")"
fi
stop_pid "$TP_PID"
TP_PID=

# --- coturn ---
if command -v turnserver >/dev/null; then
	turnserver -n --no-cli --no-tls --no-dtls --no-tcp --listening-ip 127.0.0.1 \
		--listening-port $((BASE + 1)) --relay-ip 127.0.0.1 --min-port $((BASE + 128)) \
		--max-port $((BASE + 227)) --lt-cred-mech --user u:p --realm r --allow-loopback-peers \
		--pidfile "$TMP/coturn.pid" --log-file "$TMP/coturn.log" --simple-log --no-stdout-log \
		--db "$TMP/coturn.db" >"$TMP/coturn.out" 2>&1 &
	CT_PID=$!
	# Ready when it answers a TURN request: the generator's setup retransmits for a while.
	sleep 0.5
	if kill -0 "$CT_PID" 2>/dev/null; then
		run_case "coturn: channel both, 10 allocations" --server 127.0.0.1:$((BASE + 1)) \
			--user u --password p --allocations 10 --rate 20000 --duration 2 --warmup 0.5 \
			--setup-timeout 10
	else
		bad "coturn: turnserver did not start"
		indent <"$TMP/coturn.out" | tail -5
	fi
	stop_pid "$CT_PID"
	CT_PID=
else
	bad "coturn: turnserver is not installed (Debian package coturn)"
fi

# --- DPDK: the relay's DPDK plane and the generator's DPDK back end over memif ---
if ! "$RELAY" --version | grep -q "data planes:.*dpdk"; then
	skip "memif: this build has no DPDK"
elif [ "$(id -u)" != 0 ]; then
	skip "memif: not root"
else
	MD=$TMP/memif
	mkdir -p "$MD"
	rm -f "$MD/memif.sock"
	cat >"$TMP/dpdk.json" <<EOF
{
  "realm": "load.test",
  "listen": [ { "transport": "udp", "address": "10.77.0.1", "port": 3478 } ],
  "relay": { "address": "10.77.0.1", "port_min": 49152, "port_max": 65535 },
  "auth": { "users": [ { "name": "u", "password": "p" } ] },
  "limits": { "allocations_per_user": 1000, "unauth_rate": 100000 },
  "peers": { "allow": [ "10.77.0.0/24" ] },
  "dataplane": {
    "kind": "dpdk",
    "workers": 1,
    "dpdk": {
      "eal": [ "--lcores", "0@1,1@1", "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
               "--file-prefix=ldrelay$$",
               "--vdev=net_memif0,role=server,socket=$MD/memif.sock,socket-abstract=no" ],
      "ports": [ { "device": "net_memif0", "addresses": [ "10.77.0.1/24" ] } ],
      "mbufs": 8192
    }
  },
  "log": { "level": "info" }
}
EOF
	# The relay first (both of its lcores on CPU 1), and its socket must exist before the
	# generator (memif client, CPU 0) starts: RIG.md §2, memif.
	"$RELAY" --config "$TMP/dpdk.json" >"$TMP/dpdk-relay.log" 2>&1 &
	DP_PID=$!
	for ((i = 0; i < 150; i++)); do
		grep -q "running (realm" "$TMP/dpdk-relay.log" && [ -S "$MD/memif.sock" ] && break
		kill -0 "$DP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q "running (realm" "$TMP/dpdk-relay.log" && [ -S "$MD/memif.sock" ]; then
		run_case "memif: DPDK relay, DPDK generator, channel both, 10 allocations" \
			--backend dpdk --server 10.77.0.1:3478 --user u --password p \
			--dpdk-ip 10.77.0.10/24 --peer 10.77.0.20:9000 --allocations 10 --rate 20000 \
			--duration 2 --warmup 0.5 -- -l 0 --no-pci --no-huge -m 256 --no-shconf \
			--file-prefix=ldgen$$ \
			"--vdev=net_memif0,role=client,socket=$MD/memif.sock,socket-abstract=no"
		# A generator that leaves its allocations behind (--keep, as one that died would):
		# the DPDK back end's client ports are fixed, so the next run's Allocates get 437 and
		# must move to new ports (rebinds) and then relay everything.
		timeout 60 "$LOAD" --backend dpdk --server 10.77.0.1:3478 --user u --password p \
			--dpdk-ip 10.77.0.10/24 --peer 10.77.0.20:9000 --allocations 10 --rate 1000 \
			--duration 0.5 --warmup 0 --progress 0 --keep -- -l 0 --no-pci --no-huge -m 256 \
			--no-shconf --file-prefix=ldgen$$ \
			"--vdev=net_memif0,role=client,socket=$MD/memif.sock,socket-abstract=no" \
			>"$TMP/kept.out" 2>&1
		run_case "memif: after a run that kept its allocations, 437 answers move the clients to new ports" \
			--backend dpdk --server 10.77.0.1:3478 --user u --password p \
			--dpdk-ip 10.77.0.10/24 --peer 10.77.0.20:9000 --allocations 10 --rate 20000 \
			--duration 1 --warmup 0.3 -- -l 0 --no-pci --no-huge -m 256 --no-shconf \
			--file-prefix=ldgen$$ \
			"--vdev=net_memif0,role=client,socket=$MD/memif.sock,socket-abstract=no"
		rb=$(field "$LAST_OUT" rebinds)
		if [ "$rb" = 10 ]; then
			ok "memif: rebinds=10 in that run's summary"
		else
			bad "memif: expected rebinds=10 after the run that kept its allocations, got '${rb}'"
		fi
	else
		bad "memif: the DPDK relay did not start"
		indent <"$TMP/dpdk-relay.log" | tail -10
	fi
	stop_pid "$DP_PID"
	DP_PID=
	rm -rf "$MD"
fi

finish
