/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peer access control (DESIGN.md §7): canonicalising IPv6 forms that carry an IPv4 address, and
 * the allow/deny decision. See acl.h for the rule.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

#define V4(a, b, c, d, len)                                                           \
	{                                                                             \
		.addr = { .family = TP_AF_INET, .ip = { a, b, c, d } }, .prefix = len \
	}
#define V6(len, ...)                                                                    \
	{                                                                               \
		.addr = { .family = TP_AF_INET6, .ip = { __VA_ARGS__ } }, .prefix = len \
	}

/*
 * The default deny list: DESIGN.md §7, taken from the IANA special-purpose address registries
 * (RFC 6890 and its updates). Loopback (127.0.0.0/8, ::1/128) is listed for completeness but is
 * decided earlier, by the allow_loopback switch.
 */
static const struct tp_cidr tp_acl_defaults[] = {
	V4(0, 0, 0, 0, 8),	 /* "this network" (RFC 791, RFC 6890 §2.2.2) */
	V4(10, 0, 0, 0, 8),	 /* private-use (RFC 1918) */
	V4(100, 64, 0, 0, 10),	 /* shared address space, CGN (RFC 6598) */
	V4(127, 0, 0, 0, 8),	 /* loopback (RFC 1122 §3.2.1.3) */
	V4(169, 254, 0, 0, 16),	 /* link-local (RFC 3927) */
	V4(172, 16, 0, 0, 12),	 /* private-use (RFC 1918) */
	V4(192, 0, 0, 0, 24),	 /* IETF protocol assignments (RFC 6890 §2.1) */
	V4(192, 0, 2, 0, 24),	 /* documentation, TEST-NET-1 (RFC 5737) */
	V4(192, 88, 99, 0, 24),	 /* 6to4 relay anycast (RFC 3068, deprecated by RFC 7526) */
	V4(192, 168, 0, 0, 16),	 /* private-use (RFC 1918) */
	V4(198, 18, 0, 0, 15),	 /* benchmarking (RFC 2544) */
	V4(198, 51, 100, 0, 24), /* documentation, TEST-NET-2 (RFC 5737) */
	V4(203, 0, 113, 0, 24),	 /* documentation, TEST-NET-3 (RFC 5737) */
	V4(224, 0, 0, 0, 4),	 /* multicast (RFC 5771) */
	V4(240, 0, 0, 0, 4),	 /* reserved, and 255.255.255.255 (RFC 1112 §4) */
	V6(128, 0),		 /* :: unspecified (RFC 4291 §2.5.2) */
	V6(128, [15] = 1),	 /* ::1 loopback (RFC 4291 §2.5.3) */
	V6(48, 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01), /* 64:ff9b:1::/48 local NAT64 (RFC 8215) */
	V6(64, 0x01, 0x00),			    /* 100::/64 discard-only (RFC 6666) */
	V6(23, 0x20, 0x01),			    /* 2001::/23 IETF protocols (RFC 2928) */
	V6(32, 0x20, 0x01, 0x0d, 0xb8),		    /* 2001:db8::/32 documentation (RFC 3849) */
	V6(7, 0xfc),				    /* fc00::/7 unique local (RFC 4193) */
	V6(10, 0xfe, 0x80),			    /* fe80::/10 link-local (RFC 4291 §2.5.6) */
	V6(8, 0xff),				    /* ff00::/8 multicast (RFC 4291 §2.7) */
};

#define TP_ACL_N_DEFAULTS (sizeof(tp_acl_defaults) / sizeof(tp_acl_defaults[0]))

/* The most addresses one peer maps to: a Teredo address, its client and its server. */
#define TP_ACL_MAX_FORMS 3

static void set4(struct tp_addr *out, const uint8_t ip[4], uint16_t port, bool invert)
{
	uint8_t v4[4];
	unsigned i;

	for (i = 0; i < 4; i++)
		v4[i] = invert ? (uint8_t)~ip[i] : ip[i];
	tp_addr_set4(out, v4, port);
}

static bool all_zero(const uint8_t *p, unsigned n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/*
 * Every address @in maps to: itself, then any IPv4 address it carries (acl.h). Returns how many
 * were written to @forms (1..TP_ACL_MAX_FORMS). forms[1], when present, is what
 * tp_acl_canonical() returns.
 */
static unsigned tp_acl_forms(const struct tp_addr *in, struct tp_addr forms[TP_ACL_MAX_FORMS])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	const uint8_t *ip = in->ip;

	forms[0] = *in;
	if (in->family != TP_AF_INET6)
		return 1;

	/* RFC 4291 §2.5.5.2: ::ffff:0:0/96. RFC 6052 §2.1: 64:ff9b::/96, IPv4 in bits 96..127. */
	if (memcmp(ip, mapped, 12) == 0 || memcmp(ip, nat64, 12) == 0) {
		set4(&forms[1], ip + 12, in->port, false);
		return 2;
	}
	/* RFC 4291 §2.5.5.1: ::/96, but :: and ::1 are themselves (§2.5.2, §2.5.3). */
	if (all_zero(ip, 12)) {
		if (all_zero(ip + 12, 3) && ip[15] <= 1)
			return 1;
		set4(&forms[1], ip + 12, in->port, false);
		return 2;
	}
	/* RFC 3056 §2: 2002:V4ADDR::/48, the IPv4 address in bits 16..47. */
	if (ip[0] == 0x20 && ip[1] == 0x02) {
		set4(&forms[1], ip + 2, in->port, false);
		return 2;
	}
	/*
	 * RFC 4380 §4: 2001:0000:<server IPv4>:<flags>:<~port>:<~client IPv4>. Both the client
	 * (the host actually reached) and the server (which relays to it) are IPv4 addresses the
	 * traffic may end up at.
	 */
	if (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x00 && ip[3] == 0x00) {
		set4(&forms[1], ip + 12, in->port, true);
		set4(&forms[2], ip + 4, in->port, false);
		return 3;
	}
	return 1;
}

void tp_acl_canonical(const struct tp_addr *in, struct tp_addr *out)
{
	struct tp_addr forms[TP_ACL_MAX_FORMS];
	unsigned n = tp_acl_forms(in, forms);

	/* forms[1] is the embedded IPv4 address (for Teredo, the client's); forms[0] is @in. */
	*out = forms[n > 1 ? 1 : 0];
}

static bool cidr_valid(const struct tp_cidr *c)
{
	unsigned len = tp_addr_iplen(&c->addr);

	return len && c->prefix <= 8 * len;
}

/* Copy @n entries of @size bytes; *dst stays NULL for an empty list. */
static int copy_list(void **dst, const void *src, unsigned n, size_t size)
{
	*dst = NULL;
	if (!n)
		return 0;
	if (!src)
		return -EINVAL;
	*dst = calloc(n, size);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, (size_t)n * size);
	return 0;
}

int tp_acl_init(struct tp_acl *acl, const struct tp_cidr *allow, unsigned n_allow,
		const struct tp_cidr *deny, unsigned n_deny, bool allow_loopback,
		const struct tp_addr *own, unsigned n_own)
{
	void *p;
	unsigned i;
	int rc;

	memset(acl, 0, sizeof(*acl));
	for (i = 0; allow && i < n_allow; i++)
		if (!cidr_valid(&allow[i]))
			return -EINVAL;
	for (i = 0; deny && i < n_deny; i++)
		if (!cidr_valid(&deny[i]))
			return -EINVAL;
	for (i = 0; own && i < n_own; i++)
		if (!tp_addr_iplen(&own[i]))
			return -EINVAL;

	rc = copy_list(&p, allow, n_allow, sizeof(*allow));
	if (rc)
		goto out;
	acl->allow = p;
	acl->n_allow = n_allow;
	rc = copy_list(&p, deny, n_deny, sizeof(*deny));
	if (rc)
		goto out;
	acl->deny = p;
	acl->n_deny = n_deny;
	rc = copy_list(&p, own, n_own, sizeof(*own));
	if (rc)
		goto out;
	acl->own = p;
	acl->n_own = n_own;

	/*
	 * An own address written as ::ffff:a.b.c.d (a dual-stack socket reports IPv4 that way) is
	 * the IPv4 address: store that, so the plain IPv4 spelling of the peer matches it too. The
	 * mapped spelling still matches, through the peer's canonical form. Other embedding forms
	 * name a different host and stay as given.
	 */
	for (i = 0; i < n_own; i++) {
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

		if (acl->own[i].family == TP_AF_INET6 && memcmp(acl->own[i].ip, mapped, 12) == 0)
			tp_acl_canonical(&acl->own[i], &acl->own[i]);
	}
	acl->defaults = tp_acl_defaults;
	acl->n_defaults = TP_ACL_N_DEFAULTS;
	acl->allow_loopback = allow_loopback;
out:
	if (rc)
		tp_acl_fini(acl);
	return rc;
}

void tp_acl_fini(struct tp_acl *acl)
{
	free(acl->allow);
	free(acl->deny);
	free(acl->own);
	memset(acl, 0, sizeof(*acl));
}

static bool in_list(const struct tp_cidr *list, unsigned n, const struct tp_addr *a)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (tp_cidr_match(&list[i], a))
			return true;
	return false;
}

static bool is_unspecified(const struct tp_addr *a)
{
	return all_zero(a->ip, tp_addr_iplen(a));
}

/* 127.0.0.0/8 (RFC 1122 §3.2.1.3) and ::1 (RFC 4291 §2.5.3). */
static bool is_loopback(const struct tp_addr *a)
{
	if (a->family == TP_AF_INET)
		return a->ip[0] == 127;
	return a->family == TP_AF_INET6 && all_zero(a->ip, 15) && a->ip[15] == 1;
}

/* One address through the steps in acl.h. */
static bool allowed_one(const struct tp_acl *acl, const struct tp_addr *a)
{
	bool loopback = is_loopback(a);
	unsigned i;

	if (!tp_addr_iplen(a) || is_unspecified(a))
		return false;
	for (i = 0; i < acl->n_own; i++)
		if (tp_addr_ip_eq(&acl->own[i], a) && !(loopback && acl->allow_loopback))
			return false;
	if (in_list(acl->deny, acl->n_deny, a))
		return false;
	if (in_list(acl->allow, acl->n_allow, a))
		return true;
	if (loopback)
		return acl->allow_loopback;
	return !in_list(acl->defaults, acl->n_defaults, a);
}

bool tp_acl_allowed(const struct tp_acl *acl, const struct tp_addr *peer)
{
	struct tp_addr forms[TP_ACL_MAX_FORMS];
	unsigned i, n;

	n = tp_acl_forms(peer, forms);
	for (i = 0; i < n; i++)
		if (!allowed_one(acl, &forms[i]))
			return false;
	return true;
}
