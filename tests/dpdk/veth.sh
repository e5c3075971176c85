#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Functional test of the DPDK build over a veth pair (RIG.md §7, issue 4 §8 "second way"): the
# way a relay box with an AF_XDP-capable NIC runs, without the NIC. Two fresh network namespaces
# are joined by a one-queue veth pair: in the "dp" namespace, turnpike drives its end (tpv0)
# through net_af_xdp and owns 10.99.2.2/24 on it (ARP answered by turnpike itself; the kernel
# there has no address at all); in the "cli" namespace, tpv1 carries 10.99.2.1/24 for
# turnutils_peer (echo on 10.99.2.1:5000) and turnutils_uclient, which relays through turnpike
# to it with channels, then with Send/Data indications, then with 1000-byte messages. Every
# message sent must come back (tot_send_msgs == tot_recv_msgs, 0 lost).
#
# The client-side veth's TX checksum offload is turned off first (a SIOCETHTOOL ioctl from a few
# lines of Python, as there may be no ethtool binary): with it on, the kernel hands the frames
# over with partial UDP checksums, which a kernel receiver would accept but the DPDK side (which
# checks STUN checksums) rightly drops.
#
# If net_af_xdp cannot start here (no XDP support in the kernel, the PMD missing, ...), the test
# says why and runs the same thing over net_af_packet; the last line names the PMD that ran.
#
# Usage: tests/dpdk/veth.sh [BUILD_DIR]     (default: build)
# Environment: TP_VETH_PMD=af_xdp|af_packet|auto (default auto: af_xdp, else af_packet);
# TP_VETH_XDP_ARGS is appended to the af_xdp --vdev (",queue_count=4" makes its probe fail on a
# one-queue veth, which exercises the fallback).
# Exit status: 0 pass, 1 fail, 77 skipped (not root, or coturn's test clients not installed).
# Everything it creates (namespaces, veth pair, XDP program, processes, /var/run/dpdk/<prefix>,
# temp dir) is removed on exit, processes by PID with bounded waits.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

build=${1:-build}
bin=$build/src/app/turnpike
want=${TP_VETH_PMD:-auto}
case $want in
auto | af_xdp | af_packet) ;;
*)
	echo "TP_VETH_PMD must be af_xdp, af_packet or auto"
	exit 1
	;;
esac
nsdp=tpvd$$
nscli=tpvc$$
prefix=tpveth$$
tmp=$(mktemp -d /tmp/tpveth.XXXXXX) || exit 1
relay_pid=
peer_pid=

# shellcheck source=tests/dpdk/common.sh
. tests/dpdk/common.sh

cleanup() {
	stop_pid "$peer_pid" TERM 5
	stop_pid "$relay_pid" INT 10
	# A killed af_xdp process leaves its XDP program on the interface: take it off first.
	ip -n "$nsdp" link set dev tpv0 xdp off 2>/dev/null
	ip netns del "$nsdp" 2>/dev/null
	ip netns del "$nscli" 2>/dev/null
	rm -rf "/var/run/dpdk/$prefix" "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, veth, XDP)"
for tool in turnutils_uclient turnutils_peer; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (Debian: coturn)"
done
for tool in ip taskset timeout python3; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ -x "$bin" ] || fail "no $bin (build first)"
"$bin" --version | grep -q dpdk || fail "$bin was built without DPDK"

# --- two namespaces and a veth pair between them (one queue: af_xdp serves queue 0 only, and
# flows hashed to another queue would bypass it). Both ends are created inside their namespaces,
# so no name is ever taken in the host's. ---
ip netns add "$nsdp" || fail "cannot create namespace $nsdp"
ip netns add "$nscli" || fail "cannot create namespace $nscli"
ip -n "$nsdp" link set lo up
ip -n "$nscli" link set lo up
ip link add tpv0 netns "$nsdp" numtxqueues 1 numrxqueues 1 type veth \
	peer name tpv1 netns "$nscli" numtxqueues 1 numrxqueues 1 || fail "cannot create the veth pair"
ip netns exec "$nsdp" sh -c 'sysctl -qw net.ipv6.conf.tpv0.disable_ipv6=1;
	ip link set tpv0 up' || fail "cannot bring tpv0 up"
ip netns exec "$nscli" sh -c 'sysctl -qw net.ipv6.conf.tpv1.disable_ipv6=1;
	ip addr add 10.99.2.1/24 dev tpv1; ip link set tpv1 up' || fail "cannot address tpv1"

# --- tx-checksumming off on the client side ---
txcsum_off "$nscli" tpv1 || fail "cannot turn TX checksum offload off on tpv1"
echo "tpv1: tx-checksumming off"

# --- the relay, on lcores 0 (control) and 1 (worker); the clients run on CPU 0 ---
write_config() {
	local pmd=$1 vdev_extra=
	[ "$pmd" = af_xdp ] && vdev_extra=${TP_VETH_XDP_ARGS:-}
	cat >"$tmp/relay.json" <<EOF
{
  "realm": "turnpike.test",
  "listen": [ { "transport": "udp", "address": "10.99.2.2", "port": 3478 } ],
  "relay": { "address": "10.99.2.2", "port_min": 49152, "port_max": 65535 },
  "auth": { "users": [ { "name": "demo", "password": "demo" } ] },
  "peers": { "allow": [ "10.99.2.0/24" ] },
  "limits": { "allocations_per_user": 100, "unauth_rate": 1000 },
  "dataplane": {
    "kind": "dpdk",
    "workers": 1,
    "dpdk": {
      "eal": [ "-l", "0,1", "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
               "--file-prefix=$prefix", "--vdev=net_${pmd}0,iface=tpv0$vdev_extra" ],
      "ports": [ { "device": "net_${pmd}0", "addresses": [ "10.99.2.2/24" ] } ],
      "mbufs": 8192
    }
  },
  "log": { "level": "info" }
}
EOF
}

# Under ASan (a build-asan binary), LeakSanitizer reports the 80-byte UMEM descriptor that
# libxdp's xsk_umem__create() allocates and DPDK 22.11's af_xdp PMD never frees: not ours.
printf 'leak:xsk_umem__create\n' >"$tmp/lsan.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$tmp/lsan.supp"

# Start turnpike over @pmd; 0 once it runs, 1 when it exited (its log in $tmp/relay-@pmd.log).
start_relay() {
	local pmd=$1 i
	write_config "$pmd"
	ip netns exec "$nsdp" "$bin" --config "$tmp/relay.json" >"$tmp/relay-$pmd.log" 2>&1 &
	relay_pid=$!
	for ((i = 0; i < 150; i++)); do
		grep -q "running (realm" "$tmp/relay-$pmd.log" && return 0
		kill -0 "$relay_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "running (realm" "$tmp/relay-$pmd.log" && return 0
	stop_pid "$relay_pid" INT 5
	wait "$relay_pid" 2>/dev/null
	relay_pid=
	ip -n "$nsdp" link set dev tpv0 xdp off 2>/dev/null
	rm -rf "/var/run/dpdk/$prefix"
	return 1
}

pmd=
if [ "$want" != af_packet ]; then
	if start_relay af_xdp; then
		pmd=af_xdp
	elif [ "$want" = af_xdp ]; then
		cat "$tmp/relay-af_xdp.log"
		fail "turnpike did not start over net_af_xdp"
	else
		why=$(grep -E "^turnpike: " "$tmp/relay-af_xdp.log" | tail -1)
		echo "net_af_xdp did not start here (${why:-no message; see below}); trying net_af_packet"
		grep -iE "xdp|bpf|vdev" "$tmp/relay-af_xdp.log" | head -5
	fi
fi
if [ -z "$pmd" ]; then
	if start_relay af_packet; then
		pmd=af_packet
	else
		cat "$tmp/relay-af_packet.log"
		fail "turnpike did not start over net_af_packet either"
	fi
fi
log=$tmp/relay-$pmd.log
grep -E "port net_${pmd}0|DPDK data plane" "$log"
if [ "$pmd" = af_xdp ]; then
	ip -n "$nsdp" link show dev tpv0 | grep -qE "xdp" ||
		fail "net_af_xdp runs but tpv0 shows no XDP program"
	case $(ip -n "$nsdp" link show dev tpv0 | grep -oE 'xdp[a-z]*' | head -1) in
	xdp) echo "tpv0: XDP program attached in native mode" ;;
	*) echo "tpv0: XDP program attached in generic (skb) mode" ;;
	esac
fi

# --- the echo peer, next to the clients ---
ip netns exec "$nscli" taskset -c 0 turnutils_peer -L 10.99.2.1 -p 5000 >"$tmp/peer.log" 2>&1 &
peer_pid=$!
sleep 0.5

# Relay @n messages of @len bytes from each of 4 clients; extra flags in "$@". The probe and
# RTCP allocations uclient leaves behind stay within the per-user quota of 100; all sessions
# come from one address, hence unauth_rate (a 401 the limiter swallowed is never retried).
result=
total=0
relay_round() {
	local label=$1 n=$2 len=$3 out sent recv lost
	shift 3
	out=$(ip netns exec "$nscli" timeout 60 taskset -c 0 turnutils_uclient -u demo -w demo \
		-e 10.99.2.1 -r 5000 -m 4 -n "$n" -l "$len" -z 5 "$@" 10.99.2.2 2>&1)
	echo "$out" >"$tmp/uclient-$label.log"
	sent=$(grep -oE 'tot_send_msgs=[0-9]+' <<<"$out" | tail -1 | cut -d= -f2)
	recv=$(grep -oE 'tot_recv_msgs=[0-9]+' <<<"$out" | tail -1 | cut -d= -f2)
	lost=$(sed -nE 's/.*Total lost packets ([0-9]+).*/\1/p' <<<"$out" | tail -1)
	if [ -z "$sent" ] || [ -z "$recv" ] || [ "$sent" -ne $((4 * n)) ] || [ "$sent" != "$recv" ] ||
		[ "${lost:-x}" != 0 ]; then
		tail -20 <<<"$out"
		cat "$log"
		fail "$label: sent ${sent:-?} of $((4 * n)), received ${recv:-?}, lost ${lost:-?}"
	fi
	echo "$label: $recv/$sent messages relayed"
	result="$result $label $recv/$sent"
	total=$((total + sent))
}
t0=$SECONDS
relay_round channels 100 120
relay_round send-indications 100 120 -s
relay_round channels-1000-bytes 50 1000
secs=$((SECONDS - t0))

# --- telemetry: traffic went through the PMD, no checksum was refused ---
python3 - "/var/run/dpdk/$prefix/dpdk_telemetry.v2" "$total" <<'EOF' || fail "telemetry"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(2)
s.connect(sys.argv[1])
hello = json.loads(s.recv(16384))
s.send(b"/turnpike/stats")
st = json.loads(s.recv(hello["max_output_len"]))["/turnpike/stats"]
total = int(sys.argv[2])
print("telemetry: rx %d tx %d, relayed to peers %d to clients %d, arp replies %d, "
      "udp checksums: offload %d incremental %d full %d, refused %d" % (
          st["rx"], st["tx"], st["engine_relay_to_peer_pkts"], st["engine_relay_to_client_pkts"],
          st["arp_reply"], st["cksum_offload"], st["cksum_incremental"], st["cksum_full"],
          st["drop_l4_cksum"]))
assert st["engine_relay_to_peer_pkts"] >= total and st["engine_relay_to_client_pkts"] >= total
assert st["arp_reply"] >= 1
assert st["drop_l4_cksum"] == 0, "UDP checksums refused: is tx-checksumming on on tpv1?"
EOF

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
	cat "$log"
	fail "the relay exited with $rc"
}
grep -q "stopped" "$log" || fail "no clean stop in the log"
echo "veth (net_$pmd): $total messages relayed in $secs s:$result"
