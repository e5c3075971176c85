#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write tests/dpdk/golden_frames.h: input frames and the exact frames the DPDK pipeline must
answer them with, built here from first principles (struct packing and an RFC 1071 checksum
written out longhand), independently of the C code under test.

    python3 tests/dpdk/golden.py > tests/dpdk/golden_frames.h
"""
import ipaddress
import struct

PMAC = bytes.fromhex("027074000002")  # the port (the test sets it)
CMAC = bytes.fromhex("020000000050")  # a client on the segment
US4, CLI4 = "10.99.0.2", "10.99.0.50"
US6, CLI6 = "fd00:99::2", "fd00:99::50"
COOKIE = 0x2112A442
TID = bytes(range(1, 13))


def ip4(a):
    return ipaddress.IPv4Address(a).packed


def ip6(a):
    return ipaddress.IPv6Address(a).packed


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = 0
    for i in range(0, len(data), 2):
        s += (data[i] << 8) | data[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, etype):
    return dst + src + struct.pack("!H", etype)


def ipv4(src, dst, proto, payload, ident, ttl=64, df=False):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000 if df else 0,
                    ttl, proto, 0, ip4(src), ip4(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, nh, payload, hop=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hop, ip6(src),
                       ip6(dst)) + payload


def udp4(src, sport, dst, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ph = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(ph + u) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


def udp6(src, sport, dst, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ph = ip6(src) + ip6(dst) + struct.pack("!I3xB", len(u), 17)
    c = csum(ph + u) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


def icmp6(src, dst, msg):
    ph = ip6(src) + ip6(dst) + struct.pack("!I3xB", len(msg), 58)
    c = csum(ph + msg[:2] + b"\0\0" + msg[4:])
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def icmp4(msg):
    c = csum(msg[:2] + b"\0\0" + msg[4:])
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def pad60(f):
    return f + b"\0" * max(0, 60 - len(f))


def stun_binding_request():
    return struct.pack("!HHI", 0x0001, 0, COOKIE) + TID


def xor_mapped(fam, addr, port):
    xport = port ^ (COOKIE >> 16)
    if fam == 4:
        xa = struct.pack("!I", struct.unpack("!I", ip4(addr))[0] ^ COOKIE)
        return struct.pack("!HHBBH", 0x0020, 8, 0, 1, xport) + xa
    key = struct.pack("!I", COOKIE) + TID
    xa = bytes(a ^ b for a, b in zip(ip6(addr), key))
    return struct.pack("!HHBBH", 0x0020, 20, 0, 2, xport) + xa


def stun_binding_response(fam, addr, port):
    attrs = xor_mapped(fam, addr, port)
    return struct.pack("!HHI", 0x0101, len(attrs), COOKIE) + TID + attrs


cases = []

# ARP: who-has our address, from the client, broadcast and padded to 60 bytes.
arp_req = pad60(eth(b"\xff" * 6, CMAC, 0x0806) +
                struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, CMAC, ip4(CLI4), b"\0" * 6,
                            ip4(US4)))
arp_rep = pad60(eth(CMAC, PMAC, 0x0806) +
                struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, PMAC, ip4(US4), CMAC,
                            ip4(CLI4)))
cases.append(("arp_request", arp_req, arp_rep))

# ICMP echo over IPv4 (identification 0x0101 is kept in the reply).
body = b"turnpike-golden!"
echo = icmp4(struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + body)
reply = icmp4(struct.pack("!BBHHH", 0, 0, 0, 0x1234, 1) + body)
cases.append(("icmp4_echo", eth(PMAC, CMAC, 0x0800) + ipv4(CLI4, US4, 1, echo, 0x0101, ttl=63),
              eth(CMAC, PMAC, 0x0800) + ipv4(US4, CLI4, 1, reply, 0x0101)))

# ICMPv6 echo.
echo6 = icmp6(CLI6, US6, struct.pack("!BBHHH", 128, 0, 0, 0x1234, 1) + body)
reply6 = icmp6(US6, CLI6, struct.pack("!BBHHH", 129, 0, 0, 0x1234, 1) + body)
cases.append(("icmp6_echo", eth(PMAC, CMAC, 0x86DD) + ipv6(CLI6, US6, 58, echo6, hop=60),
              eth(CMAC, PMAC, 0x86DD) + ipv6(US6, CLI6, 58, reply6)))

# Neighbor Solicitation to our solicited-node address, with the client's link-layer address;
# the solicited Advertisement (S and O set) with ours.
snm = "ff02::1:ff00:2"
ns = icmp6(CLI6, snm, struct.pack("!BBHI16sBB6s", 135, 0, 0, 0, ip6(US6), 1, 1, CMAC))
na = icmp6(US6, CLI6, struct.pack("!BBHI16sBB6s", 136, 0, 0, 0x60000000, ip6(US6), 2, 1, PMAC))
cases.append(("ndp_ns", eth(bytes.fromhex("3333ff000002"), CMAC, 0x86DD) +
              ipv6(CLI6, snm, 58, ns, hop=255),
              eth(CMAC, PMAC, 0x86DD) + ipv6(US6, CLI6, 58, na, hop=255)))

# STUN Binding over IPv4 and IPv6: the response leaves with IPv4 identification 0 (the first
# datagram a fresh worker builds), DF clear, TTL 64.
req = stun_binding_request()
cases.append(("binding4",
              eth(PMAC, CMAC, 0x0800) +
              ipv4(CLI4, US4, 17, udp4(CLI4, 40000, US4, 3478, req), 0x0202, df=True),
              eth(CMAC, PMAC, 0x0800) +
              ipv4(US4, CLI4, 17, udp4(US4, 3478, CLI4, 40000,
                                        stun_binding_response(4, CLI4, 40000)), 0)))
cases.append(("binding6",
              eth(PMAC, CMAC, 0x86DD) + ipv6(CLI6, US6, 17, udp6(CLI6, 40000, US6, 3478, req)),
              eth(CMAC, PMAC, 0x86DD) +
              ipv6(US6, CLI6, 17, udp6(US6, 3478, CLI6, 40000,
                                        stun_binding_response(6, CLI6, 40000)))))


def carray(name, b):
    out = ["static const uint8_t %s[%d] = {" % (name, len(b))]
    for i in range(0, len(b), 12):
        out.append("\t" + " ".join("0x%02x," % x for x in b[i:i + 12]))
    out.append("};")
    return "\n".join(out)


print("/* SPDX-License-Identifier: BSD-3-Clause */")
print("/* Generated by tests/dpdk/golden.py: do not edit; re-run it instead. */")
print("#ifndef TP_TEST_GOLDEN_FRAMES_H")
print("#define TP_TEST_GOLDEN_FRAMES_H")
print()
print("#include <stdint.h>")
print()
print("/* clang-format off */")
for name, inp, exp in cases:
    print(carray("golden_%s_in" % name, inp))
    print(carray("golden_%s_out" % name, exp))
    print()
print("/* clang-format on */")
print()
print("#endif /* TP_TEST_GOLDEN_FRAMES_H */")
