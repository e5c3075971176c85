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

/** True when @p a and @p b have the same family and IP (ports ignored). */
static inline bool tp_addr_ip_eq(const struct tp_addr *a, const struct tp_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, tp_addr_iplen(a)) == 0;
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

#endif /* TURNPIKE_ADDR_H */
