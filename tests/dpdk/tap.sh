#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Functional smoke test of the DPDK build through net_tap (RIG.md §8b), with coturn's own test
# clients: in a fresh network namespace, a pre-created multi-queue tap dtap0 carries 10.99.0.1
# on the kernel side; turnpike owns 10.99.0.2/24 on the DPDK side of it (answering ARP itself).
# turnutils_peer echoes on 10.99.0.1:5000; turnutils_uclient relays through turnpike to it with
# channels, then with Send/Data indications, and every message sent must come back
# (tot_send_msgs == tot_recv_msgs, 0 lost).
#
# TCP and TLS clients (DESIGN §6): the same turnpike process serves them with a socket-plane
# worker on a kernel interface. A veth pair joins the relay's namespace (tpk0, 10.99.1.1/24: the
# TCP/TLS listeners and dataplane.dpdk.kernel_relay) to a second, "outside" namespace (tpk1,
# 10.99.1.2/24) where a second turnutils_peer echoes on 10.99.1.2:5000 and turnutils_uclient
# connects over TCP (-t) and TLS (-t -S, a self-signed certificate made with openssl). So the
# TCP/TLS clients, their relayed UDP and their peer cross a real kernel link, while the DPDK
# port (10.99.0.2, invisible to the kernel) carries the UDP clients.
#
# Also checked: the rte_telemetry commands, the metrics endpoint (both planes' engine counters
# summed, and the DPDK plane's own turnpike_dataplane_* families), a SIGHUP reload while the
# workers run (RCU for DPDK, the quiescent switch for the socket worker), and a clean stop on
# SIGINT.
#
# Usage: tests/dpdk/tap.sh [BUILD_DIR]     (default: build)
# Environment: TP_TAP_WORKERS=2 runs two worker lcores on two tap queues, the kernel spreading
# the client flows across them (on a 2-CPU machine both workers share CPU 1). Peer packets then
# rarely need the hand-off rings: tun's automq sends a flow to the queue the DPDK side last
# transmitted it on, which is the owner's; test_pipeline covers the hand-off itself.
# Exit status: 0 pass, 1 fail, 77 skipped (not root, no coturn clients, no DPDK in the binary).
# Everything it creates (namespace, tap, processes, /var/run/dpdk/<prefix>, temp dir) is removed
# on exit, processes by PID with bounded waits.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

build=${1:-build}
bin=$build/src/app/turnpike
workers=${TP_TAP_WORKERS:-1}
case $workers in
1) lcores='"-l", "0,1"' ;;
2) lcores='"--lcores", "0@0,1@1,2@1"' ;;
*)
	echo "TP_TAP_WORKERS must be 1 or 2"
	exit 1
	;;
esac
ns=tptap$$
nsout=tptapo$$
prefix=tptap$$
tmp=$(mktemp -d /tmp/tptap.XXXXXX) || exit 1
relay_pid=
peer_pid=
kpeer_pid=

# shellcheck source=tests/dpdk/common.sh
. tests/dpdk/common.sh

cleanup() {
	stop_pid "$peer_pid" TERM 5
	stop_pid "$kpeer_pid" TERM 5
	stop_pid "$relay_pid" INT 10
	ip netns del "$ns" 2>/dev/null
	ip netns del "$nsout" 2>/dev/null
	rm -rf "/var/run/dpdk/$prefix" "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, tap)"
for tool in ip turnutils_uclient turnutils_peer taskset timeout python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (Debian: coturn, iproute2)"
done
command -v openssl >/dev/null || fail "openssl is not installed (Debian: openssl)"
[ -x "$bin" ] || fail "no $bin (build first)"
"$bin" --version | grep -q dpdk || skip "$bin was built without DPDK"

# --- the namespace and the tap (pre-created: multi_queue, else TUNSETIFF fails) ---
ip netns add "$ns" || fail "cannot create namespace $ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" ip tuntap add dev dtap0 mode tap multi_queue || fail "cannot create the tap"
ip netns exec "$ns" sh -c 'sysctl -qw net.ipv6.conf.dtap0.disable_ipv6=1;
	ip addr add 10.99.0.1/24 dev dtap0' || fail "cannot address the tap"

# --- the kernel side for TCP/TLS: a veth from the relay's namespace to an outside one (both
# ends are created inside their namespaces, so no name is ever taken in the host's) ---
ip netns add "$nsout" || fail "cannot create namespace $nsout"
ip -n "$nsout" link set lo up
ip link add tpk0 netns "$ns" type veth peer name tpk1 netns "$nsout" ||
	fail "cannot create the veth pair"
ip netns exec "$ns" sh -c 'sysctl -qw net.ipv6.conf.tpk0.disable_ipv6=1;
	ip addr add 10.99.1.1/24 dev tpk0; ip link set tpk0 up' || fail "cannot address tpk0"
ip netns exec "$nsout" sh -c 'sysctl -qw net.ipv6.conf.tpk1.disable_ipv6=1;
	ip addr add 10.99.1.2/24 dev tpk1; ip link set tpk1 up' || fail "cannot address tpk1"
timeout 30 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=turnpike.test -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1 ||
	fail "openssl could not make a certificate: $(cat "$tmp/openssl.log")"

# --- the relay: EAL arguments half in the file, half after "--" ---
cat >"$tmp/relay.json" <<EOF
{
  "realm": "turnpike.test",
  "listen": [
    { "transport": "udp", "address": "10.99.0.2", "port": 3478 },
    { "transport": "tcp", "address": "10.99.1.1", "port": 3478 },
    { "transport": "tls", "address": "10.99.1.1", "port": 5349,
      "cert": "$tmp/cert.pem", "key": "$tmp/key.pem" }
  ],
  "relay": { "address": "10.99.0.2", "port_min": 49152, "port_max": 65535 },
  "auth": { "users": [ { "name": "demo", "password": "demo" } ] },
  "peers": { "allow": [ "10.99.0.0/24", "10.99.1.0/24" ] },
  "limits": { "allocations_per_user": 100, "unauth_rate": 1000 },
  "dataplane": {
    "kind": "dpdk",
    "workers": $workers,
    "dpdk": {
      "eal": [ $lcores, "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
               "--file-prefix=$prefix" ],
      "ports": [ { "device": "net_tap0", "addresses": [ "10.99.0.2/24" ],
                   "queues": $workers } ],
      "kernel_relay": { "address": "10.99.1.1" },
      "mbufs": 8192
    }
  },
  "metrics": { "listen": "127.0.0.1:9641" },
  "log": { "level": "info" }
}
EOF
ip netns exec "$ns" "$bin" --config "$tmp/relay.json" -- --vdev=net_tap0,iface=dtap0,mac=fixed \
	>"$tmp/relay.log" 2>&1 &
relay_pid=$!
for ((i = 0; i < 150; i++)); do
	grep -q "running (realm" "$tmp/relay.log" && break
	kill -0 "$relay_pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "running (realm" "$tmp/relay.log"; then
	cat "$tmp/relay.log"
	fail "the relay did not start"
fi
grep -E "port net_tap0|DPDK data plane|listening on|TCP/TLS clients" "$tmp/relay.log"
for want in "listening on udp 10.99.0.2:3478 (DPDK)" \
	"listening on tcp 10.99.1.1:3478 (kernel sockets)" \
	"listening on tls 10.99.1.1:5349 (kernel sockets)"; do
	grep -qF "$want" "$tmp/relay.log" || fail "the start-up log lacks \"$want\""
done

# --- the echo peers: on the tap's kernel side (UDP clients), and outside (TCP/TLS clients) ---
ip netns exec "$ns" taskset -c 0 turnutils_peer -L 10.99.0.1 -p 5000 >"$tmp/peer.log" 2>&1 &
peer_pid=$!
ip netns exec "$nsout" taskset -c 0 turnutils_peer -L 10.99.1.2 -p 5000 >"$tmp/kpeer.log" 2>&1 &
kpeer_pid=$!
sleep 0.5

# Relay 50 messages of 120 bytes from each of 4 clients; extra flags in "$@". (uclient leaves
# its RTCP allocations behind: hence the per-user quota of 100 above. Every uclient session
# starts with an unauthenticated Allocate, all from one address, and a 401 the rate limiter
# swallows is never retried: hence unauth_rate.) UDP clients run in the
# relay's namespace against the DPDK port; kernel_round runs TCP/TLS clients outside.
uclient_round() {
	local label=$1 netns=$2 peer=$3 server=$4 out sent recv lost
	shift 4
	out=$(ip netns exec "$netns" timeout 60 taskset -c 0 turnutils_uclient -u demo -w demo \
		-e "$peer" -r 5000 -m 4 -n 50 -l 120 -z 5 $rtcp "$@" "$server" 2>&1)
	sent=$(grep -oE 'tot_send_msgs=[0-9]+' <<<"$out" | tail -1 | cut -d= -f2)
	recv=$(grep -oE 'tot_recv_msgs=[0-9]+' <<<"$out" | tail -1 | cut -d= -f2)
	lost=$(sed -nE 's/.*Total lost packets ([0-9]+).*/\1/p' <<<"$out" | tail -1)
	echo "$out" >"$tmp/uclient-$label.log"
	if [ -z "$sent" ] || [ -z "$recv" ] || [ "$sent" -eq 0 ] || [ "$sent" != "$recv" ] ||
		[ "${lost:-x}" != 0 ]; then
		tail -20 <<<"$out"
		cat "$tmp/relay.log"
		fail "$label: sent ${sent:-?}, received ${recv:-?}, lost ${lost:-?}"
	fi
	echo "$label: $recv/$sent messages relayed"
	result="$result $label $recv/$sent"
	total_sent=$((total_sent + sent))
	last_sent=$sent
}
relay_round() {
	local label=$1
	shift
	uclient_round "$label" "$ns" 10.99.0.1 10.99.0.2 "$@"
}
kernel_round() {
	local label=$1
	shift
	uclient_round "$label" "$nsout" 10.99.1.2 10.99.1.1 "$@"
}
# Several kernel rounds side by side, each "LABEL FLAGS..." (uclient idles 1 to 6 s before it
# sends, so this saves most of the waiting); each runs in a subshell and leaves its count in a
# file, and the first failure stops the test.
kernel_rounds() {
	local spec label pids=() labels=() i
	for spec in "$@"; do
		label=${spec%% *}
		# shellcheck disable=SC2086 # the flags are meant to split
		(kernel_round $spec && echo "$last_sent" >"$tmp/sent-$label") >"$tmp/round-$label.out" 2>&1 &
		pids+=($!)
		labels+=("$label")
	done
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then
			cat "$tmp/round-${labels[$i]}.out"
			fail "${labels[$i]}"
		fi
	done
	for label in "${labels[@]}"; do
		cat "$tmp/round-$label.out"
		result="$result $label $(cat "$tmp/sent-$label")/$(cat "$tmp/sent-$label")"
		total_sent=$((total_sent + $(cat "$tmp/sent-$label")))
	done
}
result=
total_sent=0
last_sent=0
# With several workers, no RTP/RTCP pairs (-c): the RTCP Allocate carries a RESERVATION-TOKEN
# that only the shard which made the reservation knows, and the kernel may hash that second
# client flow to the other queue (the engine then answers 508: a cross-shard limitation).
rtcp=
[ "$workers" = 1 ] || rtcp=-c
t0=$SECONDS
relay_round channels
relay_round send-indications -s
relay_round dont-fragment -g -s
udp_sent=$total_sent
udp_secs=$((SECONDS - t0))
t0=$SECONDS
kernel_rounds "tcp-channels -t" "tcp-send-indications -t -s" "tls-channels -t -S" \
	"tls-send-indications -t -S -s"
kernel_sent=$((total_sent - udp_sent))
kernel_secs=$((SECONDS - t0))

# --- telemetry: the counters moved ---
sock=/var/run/dpdk/$prefix/dpdk_telemetry.v2
python3 - "$sock" "$tmp/telemetry.txt" <<'EOF' || fail "telemetry"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(2)
s.connect(sys.argv[1])
hello = json.loads(s.recv(16384))
def cmd(c):
    s.send(c.encode())
    return json.loads(s.recv(hello["max_output_len"]))[c.split(",")[0]]
st = cmd("/turnpike/stats")
al = cmd("/turnpike/allocations")
one = cmd("/turnpike/stats,0")
print("telemetry: rx %d tx %d relayed to peers %d to clients %d, arp replies %d, "
      "allocations %d" % (st["rx"], st["tx"], st["engine_relay_to_peer_pkts"],
                          st["engine_relay_to_client_pkts"], st["arp_reply"], al["total"]))
assert st["rx"] > 0 and st["tx"] > 0
assert st["engine_relay_to_peer_pkts"] >= 3 * 200 and st["engine_relay_to_client_pkts"] >= 3 * 200
assert st["arp_reply"] >= 1 and one["workers"] == 1
open(sys.argv[2], "w").write("%d\n" % st["engine_relay_to_peer_pkts"])
assert al["total"] == sum(v for k, v in al.items() if k.startswith("worker_"))
nw = len([k for k in al if k.startswith("worker_")])
if nw > 1:
    per = [cmd("/turnpike/stats,%d" % w) for w in range(nw)]
    print("telemetry: per worker rx %s, allocations %s; %d peer packets handed between "
          "workers" % ([p["rx"] for p in per], [al["worker_%d" % w] for w in range(nw)],
                       st["steer_in"]))
EOF

# --- the metrics endpoint (in the namespace's own loopback): the engine counters of both planes
# summed (the socket worker's share is what the DPDK plane's telemetry above did not count),
# and the DPDK plane's own families ---
ip netns exec "$ns" python3 - "$workers" "$(cat "$tmp/telemetry.txt")" "$kernel_sent" <<'EOF' ||
import sys, urllib.request
workers, dpdk_relayed, kernel_sent = (int(a) for a in sys.argv[1:4])
text = urllib.request.urlopen("http://127.0.0.1:9641/metrics", timeout=5).read().decode()
lines = dict(l.rsplit(" ", 1) for l in text.splitlines() if l and not l.startswith("#"))
# the DPDK workers, plus the socket worker serving TCP and TLS
assert int(lines["turnpike_workers"]) == workers + 1, lines["turnpike_workers"]
relayed = int(lines['turnpike_events_total{event="relay_to_peer_pkts"}'])
assert relayed >= dpdk_relayed + kernel_sent, (relayed, dpdk_relayed, kernel_sent)
rx = int(lines['turnpike_dataplane_events_total{event="rx"}'])
tx = int(lines['turnpike_dataplane_events_total{event="tx"}'])
arp = int(lines['turnpike_dataplane_events_total{event="arp_reply"}'])
assert rx > 0 and tx > 0 and arp >= 1, (rx, tx, arp)
assert 'turnpike_dataplane_drops_total{reason="FRAGMENT"}' in lines
assert "# TYPE turnpike_dataplane_drops_total counter" in text
drops = {k: v for k, v in lines.items()
         if k.startswith("turnpike_dataplane_drops_total") and v != "0"}
print("metrics: turnpike_workers %s, relayed to peers %d (DPDK %d, kernel sockets %d); "
      "dataplane rx %d tx %d arp replies %d, drops %s" % (
          lines["turnpike_workers"], relayed, dpdk_relayed, relayed - dpdk_relayed, rx, tx,
          arp, drops or "none"))
EOF
	fail "metrics"

# --- a reload while the workers run: RCU hands the new policy over ---
kill -HUP "$relay_pid"
for ((i = 0; i < 50; i++)); do
	grep -q "configuration reloaded" "$tmp/relay.log" && break
	sleep 0.1
done
grep -q "configuration reloaded" "$tmp/relay.log" || fail "no reload after SIGHUP"
relay_round after-reload
kernel_round tls-after-reload -t -S

# --- a clean stop ---
kill -INT "$relay_pid"
for ((i = 0; i < 100; i++)); do
	kill -0 "$relay_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$relay_pid" 2>/dev/null && fail "the relay did not stop within 10 s"
wait "$relay_pid"
rc=$?
relay_pid=
[ "$rc" -eq 0 ] || {
	cat "$tmp/relay.log"
	fail "the relay exited with $rc"
}
grep -q "stopped" "$tmp/relay.log" || fail "no clean stop in the log"
echo "tap ($workers worker$([ "$workers" = 1 ] || echo s)): UDP through net_tap ${udp_sent} msgs" \
	"in ${udp_secs} s, TCP/TLS through kernel sockets ${kernel_sent} msgs in ${kernel_secs} s:$result"
