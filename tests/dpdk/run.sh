#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run every DPDK test: the Check binaries the build made under tests/dpdk (golden packet
# fixtures over net_ring, one process each, no NIC and no hugepages), then, when this is root on
# Linux with coturn's test clients installed, the net_tap smoke test (tests/dpdk/tap.sh: UDP
# through DPDK, TCP/TLS through the same process's kernel-socket worker) with one and two
# workers, and the veth test (tests/dpdk/veth.sh: net_af_xdp, or net_af_packet where af_xdp
# cannot start); then our own functional suite, test_func, through the DPDK plane twice
# (tests/dpdk/func.sh: net_tap with two workers, and the veth pair), each of its test cases
# counted. One line per test, and a last line "N passed, M failed"; exits non-zero on any
# failure.
#
# Usage: tests/dpdk/run.sh [BUILD_DIR]     (default: build)
# Environment: TP_DPDK_LOG_DIR (default build-logs) receives each test's output.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

build=${1:-build}
logdir=${TP_DPDK_LOG_DIR:-build-logs}
mkdir -p "$logdir"
passed=0
failed=0

if [ ! -d "$build/tests/dpdk" ]; then
	echo "SKIP  dpdk: $build was configured without DPDK (no $build/tests/dpdk)"
	echo "0 passed, 0 failed"
	exit 0
fi

# Count the Check summary of @name's @log (exit status @rc) into passed/failed, one line out.
count_checks() {
	local name=$1 log=$2 rc=$3 line n f e
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		echo "FAIL  dpdk $name: no Check summary (exit $rc, see $log)"
		tail -5 "$log"
		return
	fi
	n=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
	e=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
	passed=$((passed + n - f - e))
	failed=$((failed + f + e))
	if [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then
		failed=$((failed + 1))
		echo "FAIL  dpdk $name: exit $rc after $n checks (see $log)"
	elif [ $((f + e)) -ne 0 ]; then
		echo "FAIL  dpdk $name: $n checks, $f failures, $e errors (see $log)"
		grep -E ':[FE]:' "$log" | head -10
	else
		echo "PASS  dpdk $name: $n checks"
	fi
}

# Check binaries: count their test cases.
for t in "$build"/tests/dpdk/test_*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		continue
	fi
	name=$(basename "$t")
	log="$logdir/dpdk-$name.log"
	CK_VERBOSITY=normal timeout 600 "$t" >"$log" 2>&1
	count_checks "$name" "$log" $?
done

# The functional smoke test through net_tap in a network namespace: one worker, then two.
if [ -x tests/dpdk/tap.sh ]; then
	for w in 1 2; do
		log="$logdir/dpdk-tap-$w.log"
		TP_TAP_WORKERS=$w tests/dpdk/tap.sh "$build" >"$log" 2>&1
		rc=$?
		case $rc in
		0)
			passed=$((passed + 1))
			echo "PASS  dpdk tap.sh: $(tail -1 "$log")"
			;;
		77)
			echo "SKIP  dpdk tap.sh: $(tail -1 "$log")"
			break
			;;
		*)
			failed=$((failed + 1))
			echo "FAIL  dpdk tap.sh ($w workers): exit $rc (see $log)"
			tail -15 "$log"
			;;
		esac
	done
fi

# The veth pair into a namespace, through net_af_xdp (or net_af_packet).
if [ -x tests/dpdk/veth.sh ]; then
	log="$logdir/dpdk-veth.log"
	tests/dpdk/veth.sh "$build" >"$log" 2>&1
	rc=$?
	case $rc in
	0)
		passed=$((passed + 1))
		echo "PASS  dpdk veth.sh: $(tail -1 "$log")"
		;;
	77)
		echo "SKIP  dpdk veth.sh: $(tail -1 "$log")"
		;;
	*)
		failed=$((failed + 1))
		echo "FAIL  dpdk veth.sh: exit $rc (see $log)"
		tail -15 "$log"
		;;
	esac
fi

# Our own functional suite (tests/func/test_func) against the DPDK build, each run in a namespace
# of its own (tests/dpdk/func.sh): over net_tap with two workers (so peer packets also take the
# hand-off rings: relay_dpdk_hand_off), and over a veth pair through net_af_xdp (or
# net_af_packet). Each test case counts.
if [ -x tests/dpdk/func.sh ]; then
	for run in tap:2 veth:1; do
		mode=${run%%:*}
		log="$logdir/dpdk-func-$mode.log"
		TP_FUNC_DPDK_WORKERS=${run#*:} timeout 900 tests/dpdk/func.sh "$mode" "$build" >"$log" 2>&1
		rc=$?
		if [ "$rc" -eq 77 ]; then
			echo "SKIP  dpdk func.sh $mode: $(tail -1 "$log")"
			continue
		fi
		count_checks "func.sh $mode (test_func)" "$log" "$rc"
		# which PMD and how many workers ran, and what test_func left out
		grep -E '^test_func over |^test_func: TP_FUNC_DPDK' "$log" | sed -E 's/^/      /'
	done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
