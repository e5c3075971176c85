# SPDX-License-Identifier: BSD-3-Clause
# Shared by the DPDK functional scripts (tap.sh, veth.sh, func.sh): outcome helpers, bounded
# stops, and switching off a veth end's TX checksum offload.
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

# Turn TX checksum offload off on interface $2 in netns $1 and read it back: a veth end that
# offloads hands the relay partial UDP checksums, which it rightly drops. No ethtool package
# needed: SIOCETHTOOL (0x8946) with ETHTOOL_STXCSUM (0x17), then ETHTOOL_GTXCSUM (0x16); struct
# ifreq is the name, then a pointer.
txcsum_off() {
	ip netns exec "$1" python3 - "$2" <<'EOF'
import ctypes, fcntl, socket, struct, sys

def ethtool(ifname, cmd, data=0):
    buf = ctypes.create_string_buffer(struct.pack("II", cmd, data), 8)
    req = struct.pack("16sP", ifname.encode(), ctypes.addressof(buf)) + b"\0" * 16
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), 0x8946, req)
    return struct.unpack("II", buf.raw)[1]

ethtool(sys.argv[1], 0x17, 0)
assert ethtool(sys.argv[1], 0x16) == 0, "tx-checksumming is still on"
EOF
}
