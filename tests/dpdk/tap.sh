#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Functional smoke test of the DPDK build through net_tap (RIG.md §8b), with coturn's own test
# clients: in a fresh network namespace, a pre-created multi-queue tap dtap0 carries 10.99.0.1
# on the kernel side; turnpike owns 10.99.0.2/24 on the DPDK side of it (answering ARP itself).
# turnutils_peer echoes on 10.99.0.1:5000; turnutils_uclient relays through turnpike to it with
# channels, then with Send/Data indications, and every message sent must come back
# (tot_send_msgs == tot_recv_msgs). Also checked: the rte_telemetry commands, the metrics
# endpoint, a SIGHUP reload while the workers run (RCU), and a clean stop on SIGINT.
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
prefix=tptap$$
tmp=$(mktemp -d /tmp/tptap.XXXXXX) || exit 1
relay_pid=
peer_pid=

skip() {
	echo "skipped: $*"
	exit 77
}
fail() {
	echo "FAIL: $*"
	exit 1
}

# Stop @pid with @sig, wait at most @secs, then SIGKILL.
stop_pid() {
	local pid=$1 sig=$2 secs=$3 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill "-$sig" "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cleanup() {
	stop_pid "$peer_pid" TERM 5
	stop_pid "$relay_pid" INT 10
	ip netns del "$ns" 2>/dev/null
	rm -rf "/var/run/dpdk/$prefix" "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, tap)"
for tool in ip turnutils_uclient turnutils_peer taskset timeout python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (Debian: coturn, iproute2)"
done
[ -x "$bin" ] || fail "no $bin (build first)"
"$bin" --version | grep -q dpdk || skip "$bin was built without DPDK"

# --- the namespace and the tap (pre-created: multi_queue, else TUNSETIFF fails) ---
ip netns add "$ns" || fail "cannot create namespace $ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" ip tuntap add dev dtap0 mode tap multi_queue || fail "cannot create the tap"
ip netns exec "$ns" sh -c 'sysctl -qw net.ipv6.conf.dtap0.disable_ipv6=1;
	ip addr add 10.99.0.1/24 dev dtap0' || fail "cannot address the tap"

# --- the relay: EAL arguments half in the file, half after "--" ---
cat >"$tmp/relay.json" <<EOF
{
  "realm": "turnpike.test",
  "listen": [ { "transport": "udp", "address": "10.99.0.2", "port": 3478 } ],
  "relay": { "address": "10.99.0.2", "port_min": 49152, "port_max": 65535 },
  "auth": { "users": [ { "name": "demo", "password": "demo" } ] },
  "peers": { "allow": [ "10.99.0.0/24" ] },
  "limits": { "allocations_per_user": 100 },
  "dataplane": {
    "kind": "dpdk",
    "workers": $workers,
    "dpdk": {
      "eal": [ $lcores, "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
               "--file-prefix=$prefix" ],
      "ports": [ { "device": "net_tap0", "addresses": [ "10.99.0.2/24" ],
                   "queues": $workers } ],
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
grep -E "port net_tap0|DPDK data plane" "$tmp/relay.log"

# --- the echo peer on the kernel side ---
ip netns exec "$ns" taskset -c 0 turnutils_peer -L 10.99.0.1 -p 5000 >"$tmp/peer.log" 2>&1 &
peer_pid=$!
sleep 0.5

# Relay 50 messages of 120 bytes from each of 4 clients; extra flags in "$@". (uclient leaves
# its RTCP allocations behind: hence the per-user quota of 100 above.)
relay_round() {
	local label=$1 out sent recv
	shift
	out=$(ip netns exec "$ns" timeout 60 taskset -c 0 turnutils_uclient -u demo -w demo \
		-e 10.99.0.1 -r 5000 -m 4 -n 50 -l 120 -z 5 $rtcp "$@" 10.99.0.2 2>&1)
	sent=$(grep -oE 'tot_send_msgs=[0-9]+' <<<"$out" | tail -1 | cut -d= -f2)
	recv=$(grep -oE 'tot_recv_msgs=[0-9]+' <<<"$out" | tail -1 | cut -d= -f2)
	echo "$out" >"$tmp/uclient-$label.log"
	[ -n "${TP_TAP_KEEP:-}" ] && cp "$tmp/uclient-$label.log" /tmp/tpb/
	if [ -z "$sent" ] || [ -z "$recv" ] || [ "$sent" -eq 0 ] || [ "$sent" != "$recv" ]; then
		tail -20 <<<"$out"
		cat "$tmp/relay.log"
		fail "$label: sent ${sent:-?}, received ${recv:-?}"
	fi
	echo "$label: $recv/$sent messages relayed"
	result="$result $label $recv/$sent"
}
result=
# With several workers, no RTP/RTCP pairs (-c): the RTCP Allocate carries a RESERVATION-TOKEN
# that only the shard which made the reservation knows, and the kernel may hash that second
# client flow to the other queue (the engine then answers 508: a cross-shard limitation).
rtcp=
[ "$workers" = 1 ] || rtcp=-c
relay_round channels
relay_round send-indications -s
relay_round dont-fragment -g -s

# --- telemetry: the counters moved ---
sock=/var/run/dpdk/$prefix/dpdk_telemetry.v2
python3 - "$sock" <<'EOF' || fail "telemetry"
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
assert al["total"] == sum(v for k, v in al.items() if k.startswith("worker_"))
nw = len([k for k in al if k.startswith("worker_")])
if nw > 1:
    per = [cmd("/turnpike/stats,%d" % w) for w in range(nw)]
    print("telemetry: per worker rx %s, allocations %s; %d peer packets handed between "
          "workers" % ([p["rx"] for p in per], [al["worker_%d" % w] for w in range(nw)],
                       st["steer_in"]))
EOF

# --- the metrics endpoint (in the namespace's own loopback) reads the same counters ---
ip netns exec "$ns" python3 - "$workers" <<'EOF' || fail "metrics"
import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:9641/metrics", timeout=5).read().decode()
lines = dict(l.rsplit(" ", 1) for l in text.splitlines() if l and not l.startswith("#"))
assert float(lines["turnpike_workers"]) == int(sys.argv[1]), lines["turnpike_workers"]
relayed = [v for k, v in lines.items()
           if k.startswith("turnpike_events_total") and "relay_to_peer_pkts" in k.lower()]
assert relayed and float(relayed[0]) >= 600, relayed
print("metrics: turnpike_workers %s, relayed to peers %s" % (lines["turnpike_workers"],
                                                             relayed[0]))
EOF

# --- a reload while the workers run: RCU hands the new policy over ---
kill -HUP "$relay_pid"
for ((i = 0; i < 50; i++)); do
	grep -q "configuration reloaded" "$tmp/relay.log" && break
	sleep 0.1
done
grep -q "configuration reloaded" "$tmp/relay.log" || fail "no reload after SIGHUP"
relay_round after-reload

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
echo "tap ($workers worker$([ "$workers" = 1 ] || echo s)): relayed through net_tap:$result"
