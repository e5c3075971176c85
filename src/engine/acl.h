/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Peer access control: which peer addresses a relay may send to or accept data from
 * (DESIGN.md §7). Internal to the engine.
 *
 * The point is to keep clients from using the relay to reach the operator's own network:
 * loopback, private and other special-purpose ranges (RFC 6890), the unspecified address
 * (CVE-2020-26262), and the same addresses dressed up as IPv6 (CVE-2026-27624:
 * `::ffff:127.0.0.1` slipped past the loopback block and the deny lists).
 *
 * An IPv6 peer can carry an IPv4 address in several standard forms; the kernel, a NAT64
 * translator or a 6to4/Teredo relay may deliver traffic for it to that IPv4 address. So a
 * candidate peer is looked at as every address it maps to:
 *
 * - the address as given;
 * - for IPv4-mapped `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2), IPv4-compatible `::a.b.c.d`
 *   (RFC 4291 §2.5.5.1, deprecated; `::` and `::1` excluded), NAT64 `64:ff9b::a.b.c.d`
 *   (RFC 6052 §2.1 well-known prefix, /96 format) and 6to4 `2002:AABB:CCDD::/48` (RFC 3056 §2):
 *   also the IPv4 address it carries;
 * - for Teredo `2001:0::/32` (RFC 4380 §4): also the client's IPv4 address (the last 32 bits,
 *   inverted) and the Teredo server's IPv4 address (bits 32..63).
 *
 * The peer is allowed only if EVERY one of these addresses is allowed by the rule below: a deny
 * that matches any form refuses the peer, and an allow entry for an IPv6 container range
 * (2001::/23, ::/0, ...) never opens the IPv4 address embedded in it.
 *
 * Each single address is judged by the first of these steps that applies:
 *
 * 1. the unspecified address (0.0.0.0, ::) is refused, always;
 * 2. one of the server's own addresses is refused, always, except a loopback one when
 *    allow_loopback is set (the tests run the relay and their peers on 127.0.0.1);
 * 3. an address in the operator's deny list is refused;
 * 4. an address in the operator's allow list is accepted;
 * 5. a loopback address (127.0.0.0/8, ::1) is accepted if allow_loopback is set, else refused;
 * 6. an address in the default deny list (DESIGN.md §7, from the RFC 6890 registries) is refused;
 * 7. anything else is accepted.
 *
 * Ports play no part. List entries match only addresses of their own family, as written: write
 * IPv4 ranges as IPv4 (an allow entry `::ffff:10.0.0.0/104` opens nothing, since the peer's IPv4
 * form 10.x still meets the default deny list; a deny entry in that form does close the mapped
 * spelling). Own addresses given in IPv4-mapped form are stored as the IPv4 address.
 *
 * tp_acl_allowed() allocates nothing, takes no lock and only reads the struct, so any number of
 * threads may share one struct tp_acl once it is initialised.
 */
#ifndef TURNPIKE_ENGINE_ACL_H
#define TURNPIKE_ENGINE_ACL_H

#include <stdbool.h>

#include <turnpike/addr.h>

/** Peer access lists. Fill with tp_acl_init(); read-only afterwards. */
struct tp_acl {
	const struct tp_cidr *defaults; /**< the default deny list (static, DESIGN.md §7) */
	unsigned n_defaults;		/**< entries in @c defaults */
	struct tp_cidr *allow;		/**< operator allow list (copy; NULL when empty) */
	unsigned n_allow;		/**< entries in @c allow */
	struct tp_cidr *deny;		/**< operator deny list (copy; NULL when empty) */
	unsigned n_deny;		/**< entries in @c deny */
	struct tp_addr *own;		/**< the server's own addresses (copy; NULL when empty) */
	unsigned n_own;			/**< entries in @c own */
	bool allow_loopback;		/**< accept loopback peers (tests only) */
};

/**
 * The IPv4 address an IPv6 address stands for, if it carries one.
 *
 * - `::ffff:a.b.c.d` (IPv4-mapped, RFC 4291 §2.5.5.2) gives a.b.c.d;
 * - `::a.b.c.d` (IPv4-compatible, RFC 4291 §2.5.5.1) gives a.b.c.d, except `::` and `::1`,
 *   which stay IPv6 (they are the unspecified and loopback addresses in their own right);
 * - `64:ff9b::a.b.c.d` (NAT64 well-known prefix, RFC 6052 §2.1) gives a.b.c.d;
 * - `2002:AABB:CCDD::/48` (6to4, RFC 3056 §2) gives AA.BB.CC.DD;
 * - `2001:0:SSSS:SSSS:FFFF:PPPP:CCCC:CCCC` (Teredo, RFC 4380 §4) gives the client's address,
 *   ~CCCCCCCC. The server's address SSSSSSSS is a second embedded address that this function
 *   does not return; tp_acl_allowed() checks it too.
 *
 * Anything else, IPv4 included, is copied unchanged. The port is always kept.
 *
 * @param in   the address
 * @param out  receives the result; may be the same object as @p in
 */
void tp_acl_canonical(const struct tp_addr *in, struct tp_addr *out);

/**
 * Set up @p acl: the default deny list plus copies of the operator's lists and own addresses.
 * The caller's arrays may be freed afterwards. Host bits below a prefix are ignored, as
 * tp_cidr_match() ignores them.
 *
 * @param acl             receives the lists; on failure it is left empty (tp_acl_fini() is
 *                        harmless on it)
 * @param allow           peers to accept despite the default deny list (step 4), or NULL
 * @param n_allow         entries in @p allow
 * @param deny            peers to refuse in addition to the defaults (step 3), or NULL
 * @param n_deny          entries in @p deny
 * @param allow_loopback  accept loopback peers (step 5); for tests
 * @param own             the server's own addresses (ports ignored), or NULL
 * @param n_own           entries in @p own
 * @return 0; -EINVAL when an array is NULL but its count is not, or an entry has no valid
 *         family or a prefix longer than its family allows; -ENOMEM
 */
int tp_acl_init(struct tp_acl *acl, const struct tp_cidr *allow, unsigned n_allow,
		const struct tp_cidr *deny, unsigned n_deny, bool allow_loopback,
		const struct tp_addr *own, unsigned n_own);

/** Free what tp_acl_init() allocated and empty @p acl. Safe to call twice. */
void tp_acl_fini(struct tp_acl *acl);

/**
 * May the relay exchange data with @p peer? Applies the rule in this file's description to
 * every address @p peer maps to; true only if all of them are accepted. An address without a
 * valid family is refused.
 */
bool tp_acl_allowed(const struct tp_acl *acl, const struct tp_addr *peer);

#endif /* TURNPIKE_ENGINE_ACL_H */
