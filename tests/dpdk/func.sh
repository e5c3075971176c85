#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Our own functional suite (tests/func/test_func) against the DPDK build, inside a network
# namespace this script creates and removes. test_func starts turnpike itself for every test
# (TP_FUNC_DPDK, see tests/func/harness.h), so both run in the namespace:
#
#   tap   a pre-created multi-queue tap dtap0 that turnpike drives through net_tap (RIG.md §8b);
#   veth  a one-queue veth pair tpv0/tpv1, turnpike driving tpv0 through net_af_xdp, or through
#         net_af_packet where af_xdp cannot start (RIG.md §7). Both ends stay in the one
#         namespace: the kernel has no address on tpv0, whose frames go to the relay.
#
# In both, the kernel side (dtap0 or tpv1) carries the clients' and peers' addresses:
# 10.98.0.1/16 and fd98::1/64, and 10.98.0.{2,3,10,11,66}, which the tests' other loopback
# addresses (127.0.0.N) map to. turnpike owns 10.98.255.254/16 and fd98::fe/64 on the DPDK port
# (it answers ARP and neighbour solicitations itself): UDP clients and all peer traffic of UDP
# allocations cross the DPDK port. TCP and TLS listeners, and the relayed addresses of their
# allocations, are 10.97.0.1 and fd97::1 on the namespace's loopback, served by the same
# process's kernel-socket shard (dataplane.dpdk.kernel_relay).
#
# Usage: tests/dpdk/func.sh tap|veth [BUILD_DIR]     (default: build)
# Environment: TP_FUNC_DPDK_WORKERS=2 (tap only) runs two worker lcores on two tap queues, and
# test_func adds relay_dpdk_hand_off (peer packets handed between workers); TP_VETH_PMD=
# af_xdp|af_packet|auto as in veth.sh; TP_FUNC_TIMEOUT_SCALE (default 2 here).
# Output: test_func's (CK_VERBOSITY=normal: its Check summary line), then one line naming the
# run. Exit status: test_func's, 1 on a failure of the script itself, 77 when skipped (not root,
# no DPDK in the binary). Everything it creates (namespace, interfaces, XDP program, processes,
# /var/run/dpdk/<prefix>, temp dir) is removed on exit, processes by PID with bounded waits.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

mode=${1:-}
build=${2:-build}
bin=$build/src/app/turnpike
func=$build/tests/func/test_func
workers=${TP_FUNC_DPDK_WORKERS:-1}
want=${TP_VETH_PMD:-auto}
ns=tpfunc$$
prefix=tpfunc$$
tmp=$(mktemp -d /tmp/tpfunc.XXXXXX) || exit 1
run_pid=

# shellcheck source=tests/dpdk/common.sh
. tests/dpdk/common.sh

# shellcheck disable=SC2317 # run by the trap
cleanup() {
	local pid
	stop_pid "$run_pid" TERM 15
	# Whatever of ours still runs in the namespace (a Check child, a relay it started): every
	# process there was started by this script.
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		stop_pid "$pid" TERM 5
	done
	# A killed af_xdp process leaves its XDP program on the interface: take it off first.
	ip -n "$ns" link set dev tpv0 xdp off 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "/var/run/dpdk/$prefix" "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

case $mode in
tap) ;;
veth) [ "$workers" = 1 ] || fail "the veth run has one worker (af_xdp: one queue on veth)" ;;
*) fail "usage: $0 tap|veth [BUILD_DIR]" ;;
esac
case $workers in
1) lcores='"-l", "0,1"' ;;
2) lcores='"--lcores", "0@0,1@1,2@1"' ;; # two CPUs: both workers share CPU 1
*) fail "TP_FUNC_DPDK_WORKERS must be 1 or 2" ;;
esac
case $want in
auto | af_xdp | af_packet) ;;
*) fail "TP_VETH_PMD must be af_xdp, af_packet or auto" ;;
esac
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, tap, veth, XDP)"
for tool in ip taskset timeout python3; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ -x "$bin" ] || fail "no $bin (build first)"
[ -x "$func" ] || fail "no $func (configure with -Dtests=true)"
"$bin" --version | grep -q dpdk || skip "$bin was built without DPDK"

# --- the namespace: loopback with the kernel shard's addresses ---
ip netns add "$ns" || fail "cannot create namespace $ns"
ip netns exec "$ns" sh -c 'ip link set lo up; ip addr add 10.97.0.1/32 dev lo &&
	ip addr add fd97::1/128 dev lo' || fail "cannot address lo in $ns"

# The clients' and peers' addresses on the kernel side @dev: IPv4 first (the primary address
# is the source of every unbound socket), IPv6 without duplicate address detection, kept while
# the link is down (a stopped relay takes the tap down).
address_kernel_side() {
	local dev=$1 n
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=0" \
		"net.ipv6.conf.$dev.keep_addr_on_down=1" "net.ipv6.conf.$dev.accept_ra=0" ||
		return 1
	ip -n "$ns" addr add 10.98.0.1/16 dev "$dev" || return 1
	for n in 2 3 10 11 66; do
		ip -n "$ns" addr add "10.98.0.$n/16" dev "$dev" || return 1
	done
	ip -n "$ns" addr add fd98::1/64 dev "$dev" nodad
}

# The dataplane.dpdk object of the relay's config (TP_FUNC_DPDK); @vdev is the EAL's --vdev.
write_dpdk() {
	local device=$1 vdev=$2
	cat >"$tmp/dpdk.json" <<EOF
{
  "eal": [ $lcores, "--no-pci", "--no-huge", "-m", "256", "--no-shconf",
           "--file-prefix=$prefix", "--log-level=lib.eal:error", "--vdev=$vdev" ],
  "ports": [ { "device": "$device", "addresses": [ "10.98.255.254/16", "fd98::fe/64" ],
               "queues": $workers } ],
  "mbufs": 8192
}
EOF
}

# Start turnpike over $tmp/dpdk.json with UDP only, wait (15 s at most) until it runs, stop it:
# 0 when it ran (its log in $tmp/probe.log).
probe_relay() {
	local pid i rc=1
	cat >"$tmp/probe.json" <<EOF
{
  "realm": "probe",
  "listen": [ { "transport": "udp", "address": "10.98.255.254", "port": 3478 } ],
  "relay": { "address": "10.98.255.254", "port_min": 49152, "port_max": 49407 },
  "auth": { "users": [ { "name": "probe", "password": "probe" } ] },
  "dataplane": { "kind": "dpdk", "workers": $workers, "dpdk": $(cat "$tmp/dpdk.json") },
  "log": { "level": "info" }
}
EOF
	ip netns exec "$ns" "$bin" --config "$tmp/probe.json" >"$tmp/probe.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 150; i++)); do
		grep -q "running (realm" "$tmp/probe.log" && rc=0 && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	stop_pid "$pid" INT 10
	wait "$pid" 2>/dev/null
	ip -n "$ns" link set dev tpv0 xdp off 2>/dev/null
	rm -rf "/var/run/dpdk/$prefix"
	return $rc
}

pmd=
case $mode in
tap)
	# Pre-created, so it outlives each test's relay (and must then be multi_queue).
	ip netns exec "$ns" ip tuntap add dev dtap0 mode tap multi_queue || fail "cannot create the tap"
	# A deeper kernel queue towards the relay: the floods test sends 3000 datagrams at once, and
	# each must be answered or counted (1000, the default, overflows while the worker catches
	# up).
	ip -n "$ns" link set dtap0 txqueuelen 10000 || fail "cannot set the tap's queue length"
	address_kernel_side dtap0 || fail "cannot address dtap0"
	write_dpdk net_tap0 net_tap0,iface=dtap0,mac=fixed
	pmd=net_tap
	;;
veth)
	# One queue each way: af_xdp serves queue 0 only.
	ip -n "$ns" link add tpv0 numtxqueues 1 numrxqueues 1 type veth \
		peer name tpv1 numtxqueues 1 numrxqueues 1 || fail "cannot create the veth pair"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.tpv0.disable_ipv6=1 || fail "sysctl tpv0"
	address_kernel_side tpv1 || fail "cannot address tpv1"
	for dev in tpv1 tpv0; do
		ip -n "$ns" link set "$dev" up || fail "cannot bring $dev up"
	done
	txcsum_off "$ns" tpv1 || fail "cannot turn TX checksum offload off on tpv1"
	# net_af_xdp if it starts here (a short probe run of turnpike), else net_af_packet.
	if [ "$want" != af_packet ]; then
		write_dpdk net_af_xdp0 net_af_xdp0,iface=tpv0
		if probe_relay; then
			pmd=net_af_xdp
		elif [ "$want" = af_xdp ]; then
			cat "$tmp/probe.log"
			fail "turnpike did not start over net_af_xdp"
		else
			echo "net_af_xdp did not start here ($(grep -E '^turnpike: ' "$tmp/probe.log" |
				tail -1)); using net_af_packet"
		fi
	fi
	if [ -z "$pmd" ]; then
		write_dpdk net_af_packet0 net_af_packet0,iface=tpv0
		pmd=net_af_packet
	fi
	;;
esac

# --- the suite: test_func on CPU 0 (the worker lcores poll CPU 1), in the namespace ---
t0=$SECONDS
ip netns exec "$ns" env CK_VERBOSITY=normal TMPDIR="$tmp" TP_FUNC_DPDK="$tmp/dpdk.json" \
	TP_FUNC_DPDK_WORKERS="$workers" TP_FUNC_DPDK_RELAY="10.98.255.254 fd98::fe" \
	TP_FUNC_DPDK_KERNEL="10.97.0.1 fd97::1" TP_FUNC_DPDK_CLIENTS="10.98.0.0/16 fd98::/64" \
	TP_FUNC_TIMEOUT_SCALE="${TP_FUNC_TIMEOUT_SCALE:-2}" \
	timeout 600 taskset -c 0 "$func" "$bin" &
run_pid=$!
wait "$run_pid"
rc=$?
run_pid=
echo "test_func over $pmd ($workers worker$([ "$workers" = 1 ] || echo s)): exit $rc in" \
	"$((SECONDS - t0)) s"
exit "$rc"
