# SPDX-License-Identifier: BSD-3-Clause
# Shared by the DPDK functional scripts (tap.sh, veth.sh): outcome helpers and bounded stops.
# shellcheck shell=bash

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
