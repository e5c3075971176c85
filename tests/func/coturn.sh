#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Functional tests with coturn's own clients (Debian package `coturn`): turnutils_uclient relays
# through the turnpike under test to turnutils_peer, an echo peer, and every message sent must
# come back. Loopback only.
#
#   tests/func/coturn.sh PATH/TO/turnpike
#
# Starts turnpike on a temporary config (UDP, TCP and TLS on 127.0.0.1, UDP and TCP on ::1, relay
# on 127.0.0.1 and ::1, user demo/demo and a REST secret), runs each case, stops turnpike with
# SIGTERM and requires exit status 0 (under ASan that catches leak reports). Prints one line per
# case and a last line "N passed, M failed"; exits non-zero on any failure.
#
# The verdict comes from uclient's output, not only its exit status: its final
# "tot_send_msgs=X, tot_recv_msgs=Y" must have X == Y == sessions x messages, and
# "Total lost packets" must be 0. uclient never retransmits, so one lost datagram fails a run:
# a case that only lost packets is run once more, and its PASS line says so.
#
# Cases run three at a time (uclient idles 1 to 6 s before it sends); the whole run takes about
# 50 s. Environment: TP_COTURN_JOBS (cases at a time, default 3), TP_COTURN_WORKERS
# (dataplane.workers, default 1), TP_KEEP_TMP=1 (keep the temporary directory: config, logs).
set -uo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/turnpike" >&2
	exit 2
fi
if [ ! -x "$1" ]; then
	echo "FAIL  coturn: $1 is not an executable"
	echo "0 passed, 1 failed"
	exit 1
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
for tool in turnutils_uclient turnutils_peer turnutils_stunclient openssl python3 timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL  coturn: $tool is not installed (Debian packages coturn, openssl, python3)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'PASS  coturn %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL  coturn %s\n' "$*"; }
indent() { sed 's/^/        /'; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-coturn.XXXXXX") || exit 2
TP_PID=
PEER_PIDS=()
CASE_PIDS=()

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
	local p
	# Cases still running (only when interrupted): their timeout(1) passes SIGTERM to uclient.
	for p in "${CASE_PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			pkill -TERM -P "$p" 2>/dev/null
			kill -TERM "$p" 2>/dev/null
		fi
	done
	if [ -n "$TP_PID" ] && kill -0 "$TP_PID" 2>/dev/null; then
		kill -KILL "$TP_PID" 2>/dev/null
		wait "$TP_PID" 2>/dev/null
	fi
	for p in "${PEER_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "${TP_KEEP_TMP:-0}" = 1 ]; then
		echo "kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# Whether the kernel has IPv6 loopback (some containers do not).
HAVE6=0
python3 -c 'import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' \
	2>/dev/null && HAVE6=1

# --- ports: a block of free ports below the kernel's ephemeral range, so that no client socket
# takes a relay port: +0 UDP/TCP listener, +1 TLS, +2/+3 IPv4 peer (turnutils_peer also listens
# on port+1, where uclient sends its RTCP stream), +4/+5 IPv6 peer, +6 UDP/TCP listener for the
# REST-secret users, +16... relay ports.
RELAY_PORTS=400
if ! BASE=$(timeout 20 python3 "$(dirname "$0")/../lib/free_ports.py" "$((16 + RELAY_PORTS))" "$HAVE6"); then
	bad "setup: no block of free loopback ports found"
	finish
fi
PORT=$BASE
TLS_PORT=$((BASE + 1))
PEER4_PORT=$((BASE + 2))
PEER6_PORT=$((BASE + 4))
REST_PORT=$((BASE + 6))
RELAY_MIN=$((BASE + 16))
RELAY_MAX=$((RELAY_MIN + RELAY_PORTS - 1))
SECRET=coturn-rest-secret-$$-$RANDOM
# One worker by default: uclient takes its RTP allocation with a RESERVATION-TOKEN from a new
# 5-tuple, which with several workers may land on a worker that does not hold the reservation
# (turnpike then answers 508).
WORKERS=${TP_COTURN_WORKERS:-1}

# --- certificate for the TLS listener ---
if ! timeout 30 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=localhost -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >"$TMP/openssl.log" 2>&1; then
	bad "setup: openssl could not make a certificate"
	indent <"$TMP/openssl.log"
	finish
fi

# --- config ---
listen6=
if [ "$HAVE6" = 1 ]; then
	listen6=",
    { \"transport\": \"udp\", \"address\": \"::1\", \"port\": $PORT },
    { \"transport\": \"tcp\", \"address\": \"::1\", \"port\": $PORT }"
fi
# unauth_rate is raised because every uclient session starts with an unauthenticated Allocate
# (answered 401) and they all come from 127.0.0.1; uclient does not retransmit a dropped one.
# uclient never deletes its first ("probe") allocation, so a later client whose ephemeral port
# repeats such a 5-tuple gets 437 (uclient then retries) or, for another user, 441 (fatal):
# lifetimes are short so that probes expire during the run, and the REST-secret users get
# their own listener.
cat >"$TMP/turnpike.json" <<EOF
{
  "realm": "coturn.test",
  "listen": [
    { "transport": "udp", "address": "127.0.0.1", "port": $PORT },
    { "transport": "tcp", "address": "127.0.0.1", "port": $PORT },
    { "transport": "udp", "address": "127.0.0.1", "port": $REST_PORT },
    { "transport": "tcp", "address": "127.0.0.1", "port": $REST_PORT },
    { "transport": "tls", "address": "127.0.0.1", "port": $TLS_PORT,
      "cert": "$TMP/cert.pem", "key": "$TMP/key.pem" }$listen6
  ],
  "relay": { "address": "127.0.0.1", "address6": "::1",
             "port_min": $RELAY_MIN, "port_max": $RELAY_MAX },
  "auth": {
    "users": [ { "name": "demo", "password": "demo" } ],
    "secret": "$SECRET"
  },
  "limits": { "allocations_per_user": 1000, "unauth_rate": 10000,
              "max_lifetime": 120, "default_lifetime": 60 },
  "peers": { "allow_loopback": true },
  "dataplane": { "kind": "sockets", "workers": $WORKERS },
  "log": { "level": "info" }
}
EOF

# --- start turnpike and the echo peers ---
echo "coturn clients against $1 (ports $BASE..$RELAY_MAX$([ "$HAVE6" = 1 ] || echo ', no IPv6'))"
"$BIN" --config "$TMP/turnpike.json" >"$TMP/turnpike.log" 2>&1 </dev/null &
TP_PID=$!
turnutils_peer -p "$PEER4_PORT" -L 127.0.0.1 >"$TMP/peer4.log" 2>&1 </dev/null &
PEER_PIDS+=($!)
if [ "$HAVE6" = 1 ]; then
	turnutils_peer -p "$PEER6_PORT" -L ::1 >"$TMP/peer6.log" 2>&1 </dev/null &
	PEER_PIDS+=($!)
fi

# Ready when it answers a STUN Binding; give up after 10 s (a sanitizer build starts slower).
ready=0
for _ in $(seq 1 20); do
	if ! kill -0 "$TP_PID" 2>/dev/null; then
		break
	fi
	if timeout 0.5 turnutils_stunclient -p "$PORT" 127.0.0.1 >/dev/null 2>&1; then
		ready=1
		break
	fi
done
if [ "$ready" != 1 ]; then
	bad "start: turnpike did not answer a STUN Binding on 127.0.0.1:$PORT within 10 s"
	tail -20 "$TMP/turnpike.log" | indent
	finish
fi
ok "start: turnpike answers on 127.0.0.1:$PORT"

# --- cases ---
# One uclient run; sets RUN_VERDICT to "pass", "loss" (only packets went missing) or "fail",
# and RUN_WHY to the reason.
run_uclient() {
	local out=$1 n=$2 rc line sent recv lost msz
	shift 2
	timeout 60 turnutils_uclient "$@" >"$out" 2>&1 </dev/null
	rc=$?
	line=$(grep -E 'tot_send_msgs=[0-9]+, tot_recv_msgs=[0-9]+$' "$out" | tail -1)
	lost=$(sed -nE 's/.*Total lost packets ([0-9]+).*/\1/p' "$out" | tail -1)
	msz=$(sed -nE 's/.*msz=([0-9]+),.*/\1/p' "$out" | sort -n | tail -1)
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
	elif [ -n "$msz" ] && [ "$sent" -ne $((msz * n)) ]; then
		RUN_WHY="$RUN_WHY; expected $((msz * n)) sent ($msz sessions x $n)"
	elif [ "$recv" -ne "$sent" ] || [ "$lost" -ne 0 ]; then
		RUN_VERDICT=loss
	elif [ "$rc" -ne 0 ]; then
		RUN_WHY="$RUN_WHY, but uclient exited $rc"
	else
		RUN_VERDICT=pass
	fi
}

# Cases run TP_COTURN_JOBS at a time (default 3): uclient idles 1 to 6 s before it sends, so
# they mostly overlap in that wait. Each writes its verdict to a file; they print in order.
JOBS=${TP_COTURN_JOBS:-3}
CASE_OUTS=()

# case_body NAME N OUT [uclient options...]: one case, in a subshell. Prints "PASS text" or
# "FAIL text" and detail lines into OUT.res.
case_body() {
	local name=$1 n=$2 out=$3 t0 t1 secs first
	shift 3
	if ! kill -0 "$TP_PID" 2>/dev/null; then
		echo "FAIL $name: turnpike is no longer running"
		tail -20 "$TMP/turnpike.log" | indent
		return
	fi
	t0=$(date +%s.%N)
	run_uclient "$out" "$n" -n "$n" "$@"
	if [ "$RUN_VERDICT" = loss ]; then
		first=$RUN_WHY
		cp "$out" "$out.first"
		run_uclient "$out" "$n" -n "$n" "$@"
		if [ "$RUN_VERDICT" = pass ]; then
			RUN_WHY="PASS after retry; first run $first"
		else
			RUN_WHY="$RUN_WHY (retried once; first run $first)"
		fi
	fi
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	if [ "$RUN_VERDICT" = pass ]; then
		echo "PASS $name (${secs} s${RUN_WHY:+, $RUN_WHY})"
	else
		echo "FAIL $name (${secs} s): $RUN_WHY"
		printf '        turnutils_uclient -n %s %s\n' "$n" "$*"
		tail -8 "$out" | indent
	fi
}

cases_running() {
	local f k=0
	for f in "${CASE_OUTS[@]}"; do
		[ -e "$f.res" ] || k=$((k + 1))
	done
	echo "$k"
}

# run_case NAME N [uclient options... server-address]: N is the number of messages per session.
run_case() {
	local out="$TMP/case${#CASE_OUTS[@]}.log"
	while [ "$(cases_running)" -ge "$JOBS" ]; do
		sleep 0.2
	done
	CASE_OUTS+=("$out")
	(
		RUN_WHY=
		case_body "$1" "$2" "$out" "${@:3}" >"$out.part" 2>&1
		mv "$out.part" "$out.res"
	) </dev/null &
	CASE_PIDS+=($!)
}

# Wait for every case (each is bounded by uclient's timeout), then print them in order.
collect_cases() {
	local i line
	for i in "${!CASE_PIDS[@]}"; do
		wait "${CASE_PIDS[$i]}"
		line=$(head -1 "${CASE_OUTS[$i]}.res")
		case $line in
		PASS\ *) ok "${line#PASS }" ;;
		*) bad "${line#FAIL }" ;;
		esac
		tail -n +2 "${CASE_OUTS[$i]}.res"
	done
}

U=(-u demo -w demo)
REST=(-W "$SECRET" -u coturn-rest)
P4=(-e 127.0.0.1 -r "$PEER4_PORT")
P6=(-e ::1 -r "$PEER6_PORT")

run_case "udp channels" 100 "${U[@]}" "${P4[@]}" -l 200 -p "$PORT" 127.0.0.1
run_case "udp send indications" 100 "${U[@]}" "${P4[@]}" -s -l 200 -p "$PORT" 127.0.0.1
run_case "udp channels, 1000-byte messages" 100 "${U[@]}" "${P4[@]}" -l 1000 -p "$PORT" 127.0.0.1
run_case "udp channels, DONT-FRAGMENT" 100 "${U[@]}" "${P4[@]}" -g -l 500 -p "$PORT" 127.0.0.1
run_case "udp channels, REST secret" 100 "${REST[@]}" "${P4[@]}" -l 200 -p "$REST_PORT" 127.0.0.1
run_case "udp channels, 5 clients" 50 "${U[@]}" "${P4[@]}" -m 5 -l 200 -p "$PORT" 127.0.0.1
run_case "tcp channels" 100 "${U[@]}" "${P4[@]}" -t -l 200 -p "$PORT" 127.0.0.1
run_case "tcp send indications" 100 "${U[@]}" "${P4[@]}" -t -s -l 200 -p "$PORT" 127.0.0.1
run_case "tcp send indications, REST secret" 100 "${REST[@]}" "${P4[@]}" -t -s -l 200 \
	-p "$REST_PORT" 127.0.0.1
run_case "tcp send indications, 5 clients" 50 "${U[@]}" "${P4[@]}" -m 5 -t -s -l 200 \
	-p "$PORT" 127.0.0.1
# The TLS cases run side by side on purpose: one client's connections close while another's
# are still relaying.
run_case "tls channels" 100 "${U[@]}" "${P4[@]}" -t -S -l 200 -p "$TLS_PORT" 127.0.0.1
run_case "tls send indications" 100 "${U[@]}" "${P4[@]}" -t -S -s -l 200 -p "$TLS_PORT" 127.0.0.1
run_case "tls channels, REST secret" 50 "${REST[@]}" "${P4[@]}" -t -S -l 200 -p "$TLS_PORT" 127.0.0.1
run_case "tls send indications, 5 clients" 50 "${U[@]}" "${P4[@]}" -m 5 -t -S -s -l 200 \
	-p "$TLS_PORT" 127.0.0.1
if [ "$HAVE6" = 1 ]; then
	# uclient picks the relay family from the peer's family (-e), whatever -x/-X say.
	# The IPv6-relay cases use -c (no RTCP allocation): otherwise uclient takes its RTP
	# allocation with the RESERVATION-TOKEN of an IPv6 allocation, and turnpike currently
	# answers that with an IPv4 relayed address. Drop -c once that is fixed.
	run_case "udp over ::1, IPv4 relay" 100 "${U[@]}" "${P4[@]}" -X -l 200 -p "$PORT" ::1
	run_case "tcp over ::1, IPv4 relay" 100 "${U[@]}" "${P4[@]}" -X -t -s -l 200 -p "$PORT" ::1
	run_case "udp over ::1, IPv6 relay and peer, channels" 100 "${U[@]}" "${P6[@]}" -x -c -l 200 \
		-p "$PORT" ::1
	run_case "udp over 127.0.0.1, IPv6 relay and peer, send indications" 100 "${U[@]}" "${P6[@]}" \
		-x -c -s -l 200 -p "$PORT" 127.0.0.1
	run_case "tcp over ::1, IPv6 relay and peer, channels" 100 "${U[@]}" "${P6[@]}" -x -c -t -l 200 \
		-p "$PORT" ::1
else
	echo "SKIP  coturn IPv6 cases: no IPv6 loopback"
fi
collect_cases

# --- stop: SIGTERM, bounded wait, exit status 0 and no sanitizer report ---
kill -TERM "$TP_PID" 2>/dev/null
for _ in $(seq 1 150); do
	kill -0 "$TP_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$TP_PID" 2>/dev/null; then
	kill -KILL "$TP_PID" 2>/dev/null
	wait "$TP_PID" 2>/dev/null
	TP_PID=
	bad "stop: turnpike did not exit within 15 s of SIGTERM"
	tail -20 "$TMP/turnpike.log" | indent
else
	wait "$TP_PID"
	rc=$?
	TP_PID=
	if [ "$rc" -ne 0 ]; then
		bad "stop: turnpike exited $rc after SIGTERM"
		grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/turnpike.log" | head -40 |
			indent
		tail -5 "$TMP/turnpike.log" | indent
	elif grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/turnpike.log"; then
		bad "stop: turnpike exited 0 but logged a sanitizer report"
		grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/turnpike.log" | head -40 |
			indent
	else
		ok "stop: turnpike exits 0 on SIGTERM ($(grep -c 'allocation created' "$TMP/turnpike.log") allocations served)"
	fi
fi

finish
