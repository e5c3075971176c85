#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
#
# Print the first port of a block of SPAN loopback ports that are free for UDP and TCP on
# 127.0.0.1 (and ::1 when HAVE6 is 1), below or above the kernel's ephemeral range so that no
# client socket takes one of them meanwhile. Exit 1 when no block is found.
#
# Usage: free_ports.py SPAN HAVE6
import random, socket, sys
span, have6 = int(sys.argv[1]), sys.argv[2] == "1"
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        eph_lo, eph_hi = (int(x) for x in f.read().split())
except OSError:
    eph_lo, eph_hi = 32768, 60999
ranges = [(10000, eph_lo - span)] if eph_lo - span > 10000 else []
if eph_hi + 1 < 65535 - span:
    ranges.append((eph_hi + 1, 65535 - span))
ranges = ranges or [(10000, 65535 - span)]
families = [(socket.AF_INET, "127.0.0.1")] + ([(socket.AF_INET6, "::1")] if have6 else [])

def free(port):
    for fam, addr in families:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(fam, kind)
            try:
                s.bind((addr, port))
            except OSError:
                return False
            finally:
                s.close()
    return True

for _ in range(200):
    lo, hi = random.choice(ranges)
    base = random.randrange(lo, hi) // 16 * 16
    if all(free(p) for p in range(base, base + span)):
        print(base)
        sys.exit(0)
sys.exit(1)
