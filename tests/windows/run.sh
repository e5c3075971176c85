#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs the Windows build under Wine, on loopback only:
#   1. every unit-test program of the portable modules (test_*.exe, CK_FORK=no);
#   2. our own functional suite, tests/func/test_func: the Linux program (from build/; built
#      with ninja -C build tests/func/test_func when missing) with our own TURN client, starting
#      turnpike.exe through wine for every test (TP_FUNC_WRAPPER=wine) with a config of its own
#      on a Unix path, stopping it with Ctrl-C (TP_FUNC_STOP_SIGNAL=INT) and requiring exit 0,
#      with timeouts x3 (TP_FUNC_TIMEOUT_SCALE). For a build without TLS (the cross build) its
#      configs have no TLS listeners and the tests that need TLS are not registered
#      (TP_FUNC_NO_TLS=1); the two-worker test gives way to one that asserts the logged
#      single-worker fallback (TP_FUNC_SINGLE_WORKER=1). test_func prints the names it left
#      out, shown here. Its checks count like a unit program's;
#   3. turnpike.exe itself: --config / --check-config with C:\ paths, Wine's Z:\ mapping of a
#      Unix path, a Unix path and a relative config\dev.json; the single-worker fallback; the
#      refusal of TLS listeners in a build without TLS; then coturn's turnutils_uclient
#      relaying through it to turnutils_peer over UDP and TCP, with long-term credentials and
#      with TURN REST credentials (every message sent must come back: tot_send_msgs ==
#      tot_recv_msgs and no loss); and a clean stop on Ctrl-C (exit 0).
#
#   tests/windows/run.sh [PATH/TO/turnpike.exe]      (default: build-windows/src/app/turnpike.exe)
#
# Build first with ./scripts/build-windows. Prints one line per check and a last line
# "N passed, M failed"; exits non-zero on any failure.
#
# Wine runs in its own prefix, kept between runs in $TP_WINE_PREFIX (default
# /var/cache/turnpike-mingw/wineprefix, or ~/.cache/turnpike-mingw/wineprefix when not root);
# runs that share it take turns (flock), and each ends with wineserver -k for it.
#
# Wine limitations are told apart from failures by name: the two unit checks that need a source
# address set through IP_PKTINFO (Wine's WSASendMsg ignores it) count as expected failures, and
# a program that Wine did not start at all (no output, or "wine client error") is run once more,
# with a line that says so. So is test_func when its only failures are relays that exited or
# stayed silent at start without logging a single line of turnpike.exe's own.
#
# Environment: TP_KEEP_TMP=1 keeps the temporary directory (configs, logs); TP_WINE_PREFIX the
# prefix; TP_WINEDEBUG Wine's debug channels (default -all).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

passed=0
failed=0
xfailed=0
ok() { passed=$((passed + 1)); printf 'PASS  %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
indent() { sed 's/^/        /'; }
finish() {
	[ "$xfailed" -eq 0 ] || printf '(%s expected failures: Wine limitations, listed above)\n' "$xfailed"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

tp_need_pkgs wine wine64 coturn python3 >/dev/null || {
	bad "setup: cannot install wine, wine64, coturn, python3"
	finish
}

EXE=${1:-build-windows/src/app/turnpike.exe}
if [ ! -f "$EXE" ]; then
	bad "setup: $EXE not found (run ./scripts/build-windows first)"
	finish
fi
EXE=$(cd "$(dirname "$EXE")" && pwd)/$(basename "$EXE")
BUILD=$(cd "$(dirname "$EXE")/../.." && pwd)

if [ "$(id -u)" -eq 0 ]; then
	CACHE=/var/cache/turnpike-mingw
else
	CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/turnpike-mingw
fi
export WINEPREFIX=${TP_WINE_PREFIX:-$CACHE/wineprefix}
export WINEDEBUG=${TP_WINEDEBUG:--all}
# No Mono or Gecko installer when the prefix is created: nothing here needs them.
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
unset DISPLAY

TMP=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-windows.XXXXXX") || exit 2
LOG=$TMP
TP_PID=
PEER_PIDS=()
CASE_PIDS=()
LOCK_FD=

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
	local p
	if [ -n "$TP_PID" ] && kill -0 "$TP_PID" 2>/dev/null; then
		kill -KILL "$TP_PID" 2>/dev/null
		wait "$TP_PID" 2>/dev/null
	fi
	for p in "${CASE_PIDS[@]}" "${PEER_PIDS[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null # a case's timeout + uclient, by parent PID
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# Only this prefix's server: other Wine users on the machine are left alone.
	[ -d "$WINEPREFIX" ] && timeout 20 wineserver -k 2>/dev/null
	rm -rf "$WINEPREFIX/drive_c/turnpike-test.$$"
	if [ "${TP_KEEP_TMP:-0}" = 1 ]; then
		echo "kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Wine prefix: one run at a time per prefix, created once ---
mkdir -p "$(dirname "$WINEPREFIX")"
exec {LOCK_FD}>"$WINEPREFIX.lock"
if ! flock -w 900 "$LOCK_FD"; then
	bad "setup: another run holds $WINEPREFIX.lock for more than 15 minutes"
	finish
fi
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	echo "creating the Wine prefix $WINEPREFIX (once)"
	# Its exit status is no use: a wine64-only install complains about syswow64 and goes on.
	timeout 300 wineboot -i >"$LOG/wineboot.log" 2>&1
	# The registry files appear when the prefix's server exits and saves them.
	timeout 120 wineserver -w
	if [ ! -f "$WINEPREFIX/system.reg" ]; then
		bad "setup: wineboot could not create $WINEPREFIX"
		tail -20 "$LOG/wineboot.log" | indent
		finish
	fi
fi
# One server for the whole run, kept alive between programs: a server that times out after
# its last client can race the next client's connect ("wine client error: ... Connection reset
# by peer"). cleanup() ends it with wineserver -k.
timeout 20 wineserver -p >/dev/null 2>&1 </dev/null
# Settle the prefix so the first test does not pay for it against its own deadline.
timeout 120 wineboot >/dev/null 2>&1
echo "Windows build $EXE under $(wine --version 2>/dev/null), prefix $WINEPREFIX"

# ============================ 1. unit tests ============================
# Known Wine limitations, matched exactly: Wine's WSASendMsg ignores the control data, so a
# datagram sent with IP_PKTINFO leaves from the address the stack picks (Windows honours it;
# dlls/ws2_32/socket.c in Wine 8 passes only the buffers and the name to WS2_sendto).
XFAIL_RE=":F:udp:udp_sendv_concatenates_and_sets_source:[01]: Assertion 'tp_addr_ip_eq\(&d\.src, &o\.src\)' failed"

run_unit() {
	local t=$1 name out rc line n f e x
	name=$(basename "$t")
	out="$LOG/$name.log"
	CK_FORK=no CK_VERBOSITY=verbose timeout 300 wine "$t" >"$out" 2>&1 </dev/null
	rc=$?
	if grep -aq '^wine client error' "$out" || ! grep -aq '[^[:space:]]' "$out"; then
		# Wine lost its server or never started the program (no output at all, not even
		# Check's "Running suite(s)"): once more, and say so.
		echo "        (no output or a wine client error from $name; running it again)"
		CK_FORK=no CK_VERBOSITY=verbose timeout 300 wine "$t" >"$out" 2>&1 </dev/null
		rc=$?
	fi
	line=$(grep -aE '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$out" | tail -1)
	if [ -z "$line" ]; then
		bad "unit $name [wine]: no Check summary (exit $rc)"
		tail -20 "$out" | indent
		return
	fi
	n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
	e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
	x=$(grep -acE "$XFAIL_RE" "$out")
	passed=$((passed + n - f - e))
	failed=$((failed + f + e - x))
	xfailed=$((xfailed + x))
	if [ $((f + e - x)) -ne 0 ] || { [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; }; then
		printf 'FAIL  unit %s [wine]: %s checks, %s failures, %s errors (exit %s)\n' \
			"$name" "$n" "$f" "$e" "$rc"
		grep -aE ':[FE]:' "$out" | grep -avE "$XFAIL_RE" | head -20 | indent
		[ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ] && failed=$((failed + 1))
	elif [ "$x" -ne 0 ]; then
		printf 'PASS  unit %s [wine]: %s checks, %s of them expected failures under Wine\n' \
			"$name" "$n" "$x"
		grep -aE "$XFAIL_RE" "$out" | sed -E 's/^.*:F:([^:]+:[^:]+:[0-9]+):.*/XFAIL \1 (Wine: WSASendMsg ignores IP_PKTINFO)/' |
			indent
	else
		printf 'PASS  unit %s [wine]: %s checks\n' "$name" "$n"
	fi
}

units=("$BUILD"/tests/unit/test_*.exe)
if [ ! -f "${units[0]}" ]; then
	bad "unit: no test_*.exe in $BUILD/tests/unit"
else
	for t in "${units[@]}"; do
		run_unit "$t"
	done
fi

# ============================ 2. our own functional suite ============================
# tests/func/test_func, the Linux program with our own TURN client, starts turnpike.exe through
# wine for every test with a config of its own (a Unix path, which Wine shows as Z:\...) and
# stops it with Ctrl-C. Without TLS in the build its configs have no TLS listeners and the tests
# that need TLS are not registered; TP_FUNC_SINGLE_WORKER=1 swaps the two-worker test for one
# that asserts the logged single-worker fallback. test_func prints what it left out, and this
# shows those lines. Wine starts a program more slowly than Linux: timeouts x3.
FUNC=$ROOT/build/tests/func/test_func
FUNC_SCALE=3

# Whether a failed test_func run failed only because Wine did not start turnpike.exe: every
# failing test is a start-up failure ("relay exited at start", "did not answer a Binding")
# whose relay log, which the message ends with, holds not one line that turnpike.exe logged.
func_wine_start_only() {
	awk '
	/^[^ ]*:[PFE]:[^:]+:[^:]+:[0-9]+: / {
		rec = $0 ~ /:[FE]:[^:]+:[^:]+:[0-9]+: /
		if (rec) {
			nfail++
			if ($0 ~ /relay exited at start|relay did not answer a Binding/)
				start++
		}
		next
	}
	/^[0-9]+%: Checks: / { rec = 0; next }
	rec && /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]+Z / { spoke++ }
	END { exit !(nfail > 0 && start == nfail && spoke == 0) }' "$1"
}

# What test_func said it left out, counted: "; not registered (named above): 8 that need TLS, ..."
func_left_out() {
	awk '
	/^test_func: TP_FUNC_.*not registered, as they need [^:]*: / {
		reason = $0
		sub(/.*not registered, as they need /, "", reason)
		sub(/: .*/, "", reason)
		names = $0
		sub(/.*not registered, as they need [^:]*: /, "", names)
		n = split(names, a, ", ")
		list = list (list ? ", " : "") n (n == 1 ? " that needs " : " that need ") reason
	}
	END { if (list) printf "; not registered (named above): %s", list }' "$1"
}

run_func_suite() {
	local out="$LOG/test_func.log" tls=1 rc line n f e try
	if [ ! -x "$FUNC" ]; then
		echo "building $FUNC (ninja -C build tests/func/test_func)"
		if ! { tp_need_pkgs "${TP_BUILD_PKGS[@]}" check libsubunit-dev &&
			tp_setup build "${TP_BUILD_OPTS[@]}" &&
			ninja -C build tests/func/test_func; } >"$LOG/build-test_func.log" 2>&1; then
			bad "func test_func [wine]: cannot build $FUNC"
			tail -20 "$LOG/build-test_func.log" | indent
			return
		fi
	fi
	timeout 60 wine "$EXE" --version 2>/dev/null </dev/null | grep -qi 'tls: yes' || tls=0
	for try in 1 2; do
		# TMPDIR stays as it is: Wine finds its server through it, and with another one it
		# would start a second, short-lived wineserver (the start-up race described above).
		TP_FUNC_WRAPPER=wine TP_FUNC_NO_TLS=$((1 - tls)) TP_FUNC_SINGLE_WORKER=1 \
			TP_FUNC_STOP_SIGNAL=INT TP_FUNC_TIMEOUT_SCALE=$FUNC_SCALE CK_VERBOSITY=verbose \
			timeout 600 "$FUNC" "$EXE" >"$out" 2>&1 </dev/null
		rc=$?
		if [ "$rc" -eq 0 ] || [ "$try" = 2 ] || ! func_wine_start_only "$out"; then
			break
		fi
		# Wine, not turnpike.exe: the only failures are relays that never got to log a line.
		# Once more, and say so.
		echo "        (test_func: Wine did not start turnpike.exe for these; running the suite again)"
		grep -aE ':[FE]:' "$out" | head -5 | indent
		cp "$out" "$out.first"
	done
	grep -a '^test_func: ' "$out" | indent
	# Name every test that ran, as scripts/test does for the Linux builds.
	sed -nE 's/^.*:([PFE]):([^:]+):([^:]+):[0-9]+: .*$/\1 \2\/\3/p' "$out" |
		while read -r st tc; do
			if [ "$st" = P ]; then
				printf '        ok   %s\n' "$tc"
			else
				printf '        FAIL %s\n' "$tc"
			fi
		done
	line=$(grep -aE '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$out" | tail -1)
	if [ -z "$line" ]; then
		bad "func test_func [wine]: no Check summary (exit $rc)"
		tail -20 "$out" | indent
		return
	fi
	n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
	e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
	passed=$((passed + n - f - e))
	failed=$((failed + f + e))
	if [ "$rc" -ne 0 ] || [ $((f + e)) -ne 0 ]; then
		printf 'FAIL  func test_func [wine]: %s checks, %s failures, %s errors (exit %s)\n' \
			"$n" "$f" "$e" "$rc"
		grep -aE -A12 ':[FE]:[^:]+:[^:]+:[0-9]+: ' "$out" | head -60 | indent
		[ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ] && failed=$((failed + 1))
	else
		printf 'PASS  func test_func [wine]: %s checks, our own client against turnpike.exe%s\n' \
			"$n" "$(func_left_out "$out")"
	fi
}
run_func_suite

# ============================ 3. turnpike.exe ============================
for tool in turnutils_uclient turnutils_peer turnutils_stunclient winepath; do
	if ! command -v "$tool" >/dev/null; then
		bad "func: $tool is not installed"
		finish
	fi
done

ver=$(timeout 60 wine "$EXE" --version 2>&1 </dev/null)
if grep -q '^turnpike ' <<<"$ver" && grep -q 'poller: wsapoll' <<<"$ver" &&
	grep -q 'SO_REUSEPORT: no' <<<"$ver"; then
	ok "version: $(head -1 <<<"$ver"), $(grep -o 'TLS: [a-z]*' <<<"$ver"), poller wsapoll, no SO_REUSEPORT"
else
	bad "version: unexpected turnpike.exe --version output"
	indent <<<"$ver" | head -10
fi

HAVE6=0
python3 -c 'import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' \
	2>/dev/null && HAVE6=1

# A block of free loopback ports below the ephemeral range: +0 listeners, +2/+3 IPv4 peer
# (turnutils_peer also takes port+1), +4/+5 IPv6 peer, +16... relay ports.
RELAY_PORTS=200
if ! BASE=$(timeout 20 python3 "$ROOT/tests/lib/free_ports.py" "$((16 + RELAY_PORTS))" "$HAVE6"); then
	bad "func: no block of free loopback ports found"
	finish
fi
PORT=$BASE
PEER4_PORT=$((BASE + 2))
PEER6_PORT=$((BASE + 4))
RELAY_MIN=$((BASE + 16))
RELAY_MAX=$((RELAY_MIN + RELAY_PORTS - 1))
SECRET=windows-rest-secret-$$-$RANDOM

# write_config FILE [extra listener JSON]: two workers are asked for, so the log must show the
# single-worker fallback (no load-balancing SO_REUSEPORT on Windows).
write_config() {
	local listen6=
	if [ "$HAVE6" = 1 ]; then
		listen6=",
    { \"transport\": \"udp\", \"address\": \"::1\", \"port\": $PORT },
    { \"transport\": \"tcp\", \"address\": \"::1\", \"port\": $PORT }"
	fi
	cat >"$1" <<EOF
{
  "realm": "windows.test",
  "listen": [
    { "transport": "udp", "address": "127.0.0.1", "port": $PORT },
    { "transport": "tcp", "address": "127.0.0.1", "port": $PORT }$listen6${2:-}
  ],
  "relay": { "address": "127.0.0.1", "address6": "::1",
             "port_min": $RELAY_MIN, "port_max": $RELAY_MAX },
  "auth": {
    "users": [ { "name": "demo", "password": "demo" } ],
    "secret": "$SECRET"
  },
  "limits": { "allocations_per_user": 1000, "unauth_rate": 10000 },
  "peers": { "allow_loopback": true },
  "dataplane": { "kind": "sockets", "workers": 2 },
  "log": { "level": "info" }
}
EOF
}

# The main config lives on Wine's C: drive, so its Windows path is a real C:\ path; a copy
# stays under /tmp, which Wine shows as Z:\tmp\...
CDIR=$WINEPREFIX/drive_c/turnpike-test.$$
mkdir -p "$CDIR"
write_config "$CDIR/turnpike.json"
write_config "$TMP/turnpike.json"
CPATH=$(winepath -w "$CDIR/turnpike.json" 2>/dev/null)
ZPATH=$(winepath -w "$TMP/turnpike.json" 2>/dev/null)
case $CPATH in
C:\\*) ;;
*)
	bad "func: winepath -w gives '$CPATH' for a file on drive_c, not a C:\\ path"
	finish
	;;
esac

# check_config LABEL PATH [cwd]: --check-config accepts PATH.
check_config() {
	local label=$1 path=$2 dir=${3:-$ROOT} out rc
	out=$(cd "$dir" && timeout 60 wine "$EXE" --check-config "$path" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q 'configuration OK' <<<"$out"; then
		ok "config: --check-config $label ($path)"
	else
		bad "config: --check-config $label ($path): exit $rc"
		indent <<<"$out" | head -10
	fi
}
check_config "C:\\ path" "$CPATH"
check_config "Z:\\ path (Wine's mapping of a Unix path)" "$ZPATH"
check_config "Unix path" "$TMP/turnpike.json"
check_config "relative Windows path" 'config\dev.json' "$ROOT"

# start_relay PATH LOGFILE: start turnpike.exe --config PATH, wait until it answers a Binding.
start_relay() {
	local path=$1 log=$2 i try
	for try in 1 2; do
		wine "$EXE" --config "$path" >"$log" 2>&1 </dev/null &
		TP_PID=$!
		for i in $(seq 1 40); do
			kill -0 "$TP_PID" 2>/dev/null || break
			if timeout 0.5 turnutils_stunclient -p "$PORT" 127.0.0.1 >/dev/null 2>&1; then
				return 0
			fi
			[ "$i" -gt 2 ] && sleep 0.25
		done
		# Not a word from turnpike.exe, not even a start-up error: Wine did not start it.
		# Try once more and say so; anything turnpike.exe logged is a real failure.
		if [ "$try" = 2 ] || grep -aq '[^[:space:]]' "$log"; then
			break
		fi
		kill -KILL "$TP_PID" 2>/dev/null
		wait "$TP_PID" 2>/dev/null
		TP_PID=
		echo "        (turnpike.exe printed nothing and did not answer; starting it again)"
	done
	return 1
}

# stop_relay LABEL LOGFILE: Ctrl-C (Wine turns SIGINT into CTRL_C_EVENT for the console
# handler); the relay must stop within 15 s with exit status 0.
stop_relay() {
	local label=$1 log=$2 rc i
	kill -INT "$TP_PID" 2>/dev/null
	for i in $(seq 1 150); do
		kill -0 "$TP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TP_PID" 2>/dev/null; then
		kill -KILL "$TP_PID" 2>/dev/null
		wait "$TP_PID" 2>/dev/null
		TP_PID=
		bad "$label: turnpike.exe did not stop within 15 s of Ctrl-C"
		tail -10 "$log" | indent
		return
	fi
	wait "$TP_PID"
	rc=$?
	TP_PID=
	if [ "$rc" -eq 0 ] && grep -q 'info  stopped' "$log"; then
		ok "$label"
	else
		bad "$label: exit status $rc"
		tail -10 "$log" | indent
	fi
}

# --config with Wine's Z:\ path: starts, answers, stops cleanly on Ctrl-C.
if start_relay "$ZPATH" "$LOG/turnpike-z.log"; then
	ok "start: turnpike.exe --config $ZPATH answers a Binding on 127.0.0.1:$PORT"
	stop_relay "stop: Ctrl-C, exit status 0 (--config Z:\\ path)" "$LOG/turnpike-z.log"
else
	bad "start: turnpike.exe --config $ZPATH did not answer within 10 s"
	tail -20 "$LOG/turnpike-z.log" | indent
	[ -n "$TP_PID" ] && kill -KILL "$TP_PID" 2>/dev/null && wait "$TP_PID" 2>/dev/null
	TP_PID=
fi

# A TLS listener in a build without TLS: refused at start-up, with the reason.
if ! wine "$EXE" --version 2>/dev/null | grep -qi 'tls: yes'; then
	write_config "$TMP/tls.json" ",
    { \"transport\": \"tls\", \"address\": \"127.0.0.1\", \"port\": $((BASE + 1)),
      \"cert\": \"C:/none/cert.pem\", \"key\": \"C:/none/key.pem\" }"
	out=$(timeout 60 wine "$EXE" --config "$(winepath -w "$TMP/tls.json")" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'built without TLS' <<<"$out"; then
		ok "tls: a TLS listener is refused at start-up (exit $rc): $(grep -o 'this turnpike was built without TLS[^;]*' <<<"$out" | head -1)"
	else
		bad "tls: a TLS listener was not refused with a message (exit $rc)"
		indent <<<"$out" | tail -10
	fi
fi

# The relay for the coturn cases, on the C:\ path.
turnutils_peer -p "$PEER4_PORT" -L 127.0.0.1 >"$LOG/peer4.log" 2>&1 </dev/null &
PEER_PIDS+=($!)
if [ "$HAVE6" = 1 ]; then
	turnutils_peer -p "$PEER6_PORT" -L ::1 >"$LOG/peer6.log" 2>&1 </dev/null &
	PEER_PIDS+=($!)
fi
MAIN_LOG=$LOG/turnpike.log
if ! start_relay "$CPATH" "$MAIN_LOG"; then
	bad "start: turnpike.exe --config $CPATH did not answer within 10 s"
	tail -20 "$MAIN_LOG" | indent
	finish
fi
ok "start: turnpike.exe --config $CPATH answers a Binding on 127.0.0.1:$PORT"
if grep -q 'no load-balancing SO_REUSEPORT on this platform: running 1 worker, not 2' "$MAIN_LOG" &&
	grep -q 'socket data plane: 1 worker, wsapoll poller' "$MAIN_LOG"; then
	ok "start: one worker instead of the 2 configured, WSAPoll, and the log says so"
else
	bad "start: the log does not show the single-worker WSAPoll fallback"
	head -5 "$MAIN_LOG" | indent
fi

# One uclient run; sets RUN_VERDICT to pass, loss (only packets went missing) or fail.
run_uclient() {
	local out=$1 n=$2 rc line sent recv lost
	shift 2
	timeout 60 turnutils_uclient "$@" >"$out" 2>&1 </dev/null
	rc=$?
	line=$(grep -E 'tot_send_msgs=[0-9]+, tot_recv_msgs=[0-9]+$' "$out" | tail -1)
	lost=$(sed -nE 's/.*Total lost packets ([0-9]+).*/\1/p' "$out" | tail -1)
	RUN_VERDICT=fail
	if [ "$rc" -eq 124 ]; then
		RUN_WHY="uclient timed out after 60 s"
		return
	fi
	if [ -z "$line" ] || [ -z "$lost" ]; then
		RUN_WHY="no totals in uclient's output (exit $rc)"
		return
	fi
	sent=$(sed -E 's/.*tot_send_msgs=([0-9]+),.*/\1/' <<<"$line")
	recv=$(sed -E 's/.*tot_recv_msgs=([0-9]+)$/\1/' <<<"$line")
	RUN_WHY="sent $sent, received $recv, lost $lost"
	if [ "$sent" -eq 0 ]; then
		RUN_WHY="nothing was sent (exit $rc)"
	elif [ "$sent" -lt "$n" ]; then
		# Not sent * sessions: uclient's progress lines count the sessions still running.
		RUN_WHY="$RUN_WHY; expected at least $n sent"
	elif [ "$recv" -ne "$sent" ] || [ "$lost" -ne 0 ]; then
		RUN_VERDICT=loss
	elif [ "$rc" -ne 0 ]; then
		RUN_WHY="$RUN_WHY, but uclient exited $rc"
	else
		RUN_VERDICT=pass
	fi
}

# start_case NAME N [uclient options... server]: runs in the background, so the cases of one
# batch overlap (uclient spends most of a run waiting, not sending). uclient never retransmits,
# so a run that only lost datagrams is tried once more, and its PASS line says so.
CASE_NAMES=()
start_case() {
	local name=$1 n=$2 i=${#CASE_NAMES[@]}
	shift 2
	CASE_NAMES+=("$name")
	(
		local out="$LOG/case$i.log" first
		# -z 5: a datagram every 5 ms per session instead of every 20 ms.
		run_uclient "$out" "$n" -n "$n" -z 5 "$@"
		if [ "$RUN_VERDICT" = loss ]; then
			first=$RUN_WHY
			cp "$out" "$out.first"
			run_uclient "$out" "$n" -n "$n" -z 5 "$@"
			[ "$RUN_VERDICT" = pass ] && RUN_WHY="PASS after retry; first run $first"
		fi
		{
			echo "$RUN_VERDICT"
			echo "$RUN_WHY"
			echo "turnutils_uclient -n $n -z 5 $*"
		} >"$LOG/case$i.verdict"
	) &
	CASE_PIDS+=($!)
}

# Wait for the started cases and report them in order.
finish_cases() {
	local i verdict why cmd
	for i in "${!CASE_PIDS[@]}"; do
		wait "${CASE_PIDS[$i]}"
		verdict=fail why="no verdict" cmd=
		if [ -f "$LOG/case$i.verdict" ]; then
			{
				read -r verdict
				read -r why
				read -r cmd
			} <"$LOG/case$i.verdict"
		fi
		if [ "$verdict" = pass ]; then
			ok "relay ${CASE_NAMES[$i]}: $why"
		else
			bad "relay ${CASE_NAMES[$i]}: $why"
			echo "        $cmd"
			tail -8 "$LOG/case$i.log" | indent
		fi
	done
	CASE_PIDS=()
	CASE_NAMES=()
	if ! kill -0 "$TP_PID" 2>/dev/null; then
		bad "relay: turnpike.exe is no longer running"
		tail -20 "$MAIN_LOG" | indent
		finish
	fi
}

U=(-u demo -w demo)
REST=(-W "$SECRET" -u windows-rest)
P4=(-e 127.0.0.1 -r "$PEER4_PORT")
P6=(-e ::1 -r "$PEER6_PORT")

start_case "udp channels, long-term credentials" 100 "${U[@]}" "${P4[@]}" -l 200 -p "$PORT" 127.0.0.1
start_case "udp send indications, long-term credentials" 100 "${U[@]}" "${P4[@]}" -s -l 200 \
	-p "$PORT" 127.0.0.1
start_case "udp channels, DONT-FRAGMENT, 1000-byte messages" 100 "${U[@]}" "${P4[@]}" -g -l 1000 \
	-p "$PORT" 127.0.0.1
start_case "tcp channels, long-term credentials" 100 "${U[@]}" "${P4[@]}" -t -l 200 -p "$PORT" 127.0.0.1
start_case "tcp send indications, long-term credentials" 100 "${U[@]}" "${P4[@]}" -t -s -l 200 \
	-p "$PORT" 127.0.0.1
finish_cases
start_case "udp channels, REST credentials" 100 "${REST[@]}" "${P4[@]}" -l 200 -p "$PORT" 127.0.0.1
start_case "udp send indications, REST credentials" 100 "${REST[@]}" "${P4[@]}" -s -l 200 \
	-p "$PORT" 127.0.0.1
start_case "tcp channels, REST credentials" 100 "${REST[@]}" "${P4[@]}" -t -l 200 -p "$PORT" 127.0.0.1
start_case "tcp send indications, REST credentials" 100 "${REST[@]}" "${P4[@]}" -t -s -l 200 \
	-p "$PORT" 127.0.0.1
finish_cases
start_case "udp channels, 5 clients" 50 "${U[@]}" "${P4[@]}" -m 5 -l 200 -p "$PORT" 127.0.0.1
start_case "tcp channels, 5 clients" 50 "${U[@]}" "${P4[@]}" -m 5 -t -l 200 -p "$PORT" 127.0.0.1
if [ "$HAVE6" = 1 ]; then
	start_case "udp over ::1, IPv4 relay" 100 "${U[@]}" "${P4[@]}" -X -l 200 -p "$PORT" ::1
	start_case "tcp over ::1, IPv4 relay" 100 "${U[@]}" "${P4[@]}" -X -t -s -l 200 -p "$PORT" ::1
	start_case "udp over ::1, IPv6 relay and peer" 100 "${U[@]}" "${P6[@]}" -x -c -l 200 \
		-p "$PORT" ::1
	start_case "tcp over ::1, IPv6 relay and peer, REST credentials" 100 "${REST[@]}" "${P6[@]}" \
		-x -c -t -l 200 -p "$PORT" ::1
else
	echo "SKIP  IPv6 cases: no IPv6 loopback"
fi
finish_cases

stop_relay "stop: Ctrl-C, exit status 0 after $(grep -c 'allocation created' "$MAIN_LOG") allocations (--config C:\\ path)" \
	"$MAIN_LOG"

finish
