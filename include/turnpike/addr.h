/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Transport addresses as the codec and the engine see them: no sockaddr, no OS headers.
 */
#ifndef TURNPIKE_ADDR_H
#define TURNPIKE_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/** Address families, numbered as STUN's address attributes number them (RFC 8489 §14.1). */
enum tp_af {
	TP_AF_INET = 0x01,  /**< IPv4 */
	TP_AF_INET6 = 0x02, /**< IPv6 */
};

/** An IP address and UDP/TCP port. */
struct tp_addr {
	uint8_t family; /**< enum tp_af; 0 when unset */
	uint8_t reserved;
	uint16_t port;	/**< host byte order */
	uint8_t ip[16]; /**< network order; IPv4 uses the first 4 bytes, the rest stay zero */
};

/** Number of meaningful bytes in @p a's ip field: 4, 16, or 0 for an unset address. */
static inline unsigned tp_addr_iplen(const struct tp_addr *a)
{
	return a->family == TP_AF_INET ? 4 : a->family == TP_AF_INET6 ? 16 : 0;
}

/**
 * True when @p a and @p b have the same family and IP (ports ignored). The compares have a
 * constant size, which the compiler inlines where a run-time length would call memcmp(): the
 * relay paths compare addresses on every packet.
 */
static inline bool tp_addr_ip_eq(const struct tp_addr *a, const struct tp_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == TP_AF_INET)
		return memcmp(a->ip, b->ip, 4) == 0;
	if (a->family == TP_AF_INET6)
		return memcmp(a->ip, b->ip, 16) == 0;
	return true;
}

/** True when @p a and @p b have the same family, IP and port. */
static inline bool tp_addr_eq(const struct tp_addr *a, const struct tp_addr *b)
{
	return a->port == b->port && tp_addr_ip_eq(a, b);
}

/** Set @p a to the IPv4 address @p ip (4 bytes, network order) and @p port. */
static inline void tp_addr_set4(struct tp_addr *a, const uint8_t ip[4], uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = TP_AF_INET;
	a->port = port;
	memcpy(a->ip, ip, 4);
}

/** Set @p a to the IPv6 address @p ip (16 bytes) and @p port. */
static inline void tp_addr_set6(struct tp_addr *a, const uint8_t ip[16], uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = TP_AF_INET6;
	a->port = port;
	memcpy(a->ip, ip, 16);
}

/**
 * Bytes a buffer needs for any tp_addr_format() output, NUL included:
 * "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" is 47 characters.
 */
#define TP_ADDR_STRLEN 48

/**
 * Parse an IP address, optionally with a port.
 *
 * Accepted forms:
 * - "192.0.2.1": a strict dotted quad, four decimal parts 0..255 without leading zeros
 *   ("01.2.3.4" is refused rather than guessed at as octal);
 * - "2001:db8::1": IPv6 in any RFC 4291 §2.2 form, upper or lower case, including "::"
 *   compression and an embedded dotted-quad tail ("::ffff:192.0.2.1");
 * - "192.0.2.1:3478" and "[2001:db8::1]:3478": with a port 1..65535 (no leading zeros);
 * - "[2001:db8::1]": bracketed IPv6 without a port.
 *
 * Zone identifiers ("fe80::1%eth0"), whitespace, and an explicit port 0 are refused. The port
 * stays 0 when the text has none. Uses no OS functions (no inet_pton), so it behaves the same on
 * every platform.
 *
 * @param a  receives the address; left unchanged on failure
 * @param s  NUL-terminated text
 * @return 0, or -TP_WIRE_EARG when @p s is not one of the forms above
 */
int tp_addr_parse(struct tp_addr *a, const char *s);

/**
 * Parse a bare IP address: like tp_addr_parse() but without brackets or a port.
 *
 * @return 0, or -TP_WIRE_EARG
 */
int tp_addr_parse_ip(struct tp_addr *a, const char *s);

/**
 * Write @p a as canonical text (RFC 5952): lower case, no leading zeros, the longest run of two
 * or more zero fields (the first one on a tie) compressed to "::", IPv4-mapped addresses as
 * "::ffff:192.0.2.1". With @p with_port the port follows as "192.0.2.1:3478" or
 * "[2001:db8::1]:3478", whatever its value.
 *
 * @param buf  receives the NUL-terminated text; TP_ADDR_STRLEN bytes are always enough
 * @param cap  size of @p buf
 * @return the length of the text (without the NUL), or 0 when @p a has no family or @p cap is
 *         too small; @p buf then holds "" if @p cap > 0
 */
size_t tp_addr_format(const struct tp_addr *a, char *buf, size_t cap, bool with_port);

/** An address prefix, such as 10.0.0.0/8 or fc00::/7. */
struct tp_cidr {
	struct tp_addr addr; /**< the network; port 0 */
	uint8_t prefix;	     /**< prefix length: 0..32 for IPv4, 0..128 for IPv6 */
};

/**
 * Parse "address/prefix" ("10.0.0.0/8", "fc00::/7"), or a bare address, which means /32 or /128.
 * The address is a bare IP as for tp_addr_parse_ip(); the prefix is decimal without leading zeros
 * and at most 32 (IPv4) or 128 (IPv6). Host bits below the prefix are accepted and cleared, so
 * "10.1.2.3/8" reads as 10.0.0.0/8.
 *
 * @return 0, or -TP_WIRE_EARG (@p c is then unchanged)
 */
int tp_cidr_parse(struct tp_cidr *c, const char *s);

/**
 * True when @p a lies inside @p c: the families are equal and the first @p c->prefix bits agree,
 * compared bit by bit (a /9 or a /127 looks at exactly 9 or 127 bits). Bits of @p c->addr below
 * the prefix are ignored. No canonicalisation happens here: an IPv4-mapped IPv6 address does not
 * match an IPv4 prefix, so callers that need that map the address first.
 */
bool tp_cidr_match(const struct tp_cidr *c, const struct tp_addr *a);

#endif /* TURNPIKE_ADDR_H */
