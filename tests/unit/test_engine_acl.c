/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peer access control as the engine applies it (DESIGN §7): every spelling of an internal
 * address is refused with 403 by CreatePermission and ChannelBind, public peers pass, the
 * operator's lists and the loopback switch work, and a reload that denies a peer stops traffic
 * on permissions that already exist, in both directions.
 */
#include <string.h>

#include "engine_fixture.h"

static const uint8_t payload[] = "acl";

/* Internal, special or own addresses, in every form DESIGN §7 lists. */
static const char *const denied[] = {
	"0.0.0.0:5000",
	"[::]:5000",
	"127.0.0.1:5000",
	"127.255.0.9:5000",
	"[::1]:5000",
	"[::ffff:127.0.0.1]:5000",		       /* IPv4-mapped (CVE-2026-27624) */
	"[::127.0.0.1]:5000",			       /* IPv4-compatible */
	"[64:ff9b::7f00:1]:5000",		       /* NAT64 */
	"[2002:7f00:1::]:5000",			       /* 6to4 */
	"[2001:0:4136:e378:8000:63bf:80ff:fffe]:5000", /* Teredo, client 127.0.0.1 */
	"10.0.0.1:5000",
	"[::ffff:10.0.0.1]:5000",
	"[64:ff9b::a00:1]:5000",
	"[2002:a00:1::1]:5000",
	"172.16.3.4:5000",
	"192.168.1.1:5000",
	"169.254.169.254:5000", /* cloud metadata */
	"100.64.0.1:5000",
	"224.0.0.1:5000",
	"255.255.255.255:5000",
	"[fe80::1]:5000",
	"[fc00::1]:5000",
	"[ff02::1]:5000",
	"[2001:db8::1]:5000",
	TW_RELAY4 ":5000", /* the relay's own addresses */
	"[" TW_RELAY6 "]:5000",
	"[::ffff:" TW_RELAY4 "]:5000",
	"1.2.3.5:3478", /* the listening address */
};

static const char *const allowed[] = {
	"9.9.9.9:5000",		  "[2606:4700::1111]:5000",
	"[::ffff:9.9.9.9]:5000",  "[64:ff9b::909:909]:5000",
	"[2002:909:909::1]:5000", "1.2.3.6:5000",
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A dual-stack allocation, so every peer family is possible. */
static void dual(struct tc *c)
{
	tc_init(c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(tc_do(c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						  .transport = TP_STUN_TRANSPORT_UDP,
						  .add_family = TP_AF_INET6 }),
			 0);
	ck_assert_uint_eq(c->n_relay, 2);
}

static int permit(struct tc *c, const char *peer)
{
	return tc_do(c, &(struct treq){ .method = TP_STUN_CREATE_PERMISSION, .peers = { peer } });
}

static int chan_bind(struct tc *c, const char *peer)
{
	return tc_do(c, &(struct treq){ .method = TP_STUN_CHANNEL_BIND,
					.channel = 0x4000,
					.peers = { peer } });
}

START_TEST(internal_peers_403)
{
	struct tc c;

	tw_start();
	dual(&c);
	ck_assert_msg(permit(&c, denied[_i]) == 403, "CreatePermission %s allowed", denied[_i]);
	ck_assert_int_eq(c.integrity, 1);
	ck_assert_msg(chan_bind(&c, denied[_i]) == 403, "ChannelBind %s allowed", denied[_i]);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_CHAN_BOUND), 0);
	/* Refusals are answered, so they count as 403 responses, not as drops. */
	ck_assert_uint_eq(tw_error_code(TP_SE_403), 2);
	ck_assert_uint_eq(tw_drops(TP_DROP_PEER_DENIED), 0);
	/* Nor can a Send indication reach it. */
	tc_sendind(&c, denied[_i], payload, 3, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
}
END_TEST

START_TEST(public_peers_allowed)
{
	struct tc c;

	tw_start();
	dual(&c);
	ck_assert_msg(permit(&c, allowed[_i]) == 0, "CreatePermission %s refused", allowed[_i]);
	ck_assert_msg(chan_bind(&c, allowed[_i]) == 0, "ChannelBind %s refused", allowed[_i]);
	tc_sendind(&c, allowed[_i], payload, 3, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
}
END_TEST

START_TEST(operator_allow_list)
{
	struct tc c;

	W->allow[0] = tw_cidr("10.1.0.0/16");
	W->p.n_allow = 1;
	tw_start();
	dual(&c);
	ck_assert_int_eq(permit(&c, "10.1.2.3:5000"), 0);
	ck_assert_int_eq(permit(&c, "[::ffff:10.1.2.3]:5000"), 0);
	ck_assert_int_eq(permit(&c, "10.2.0.1:5000"), 403);
	ck_assert_int_eq(permit(&c, "127.0.0.1:5000"), 403);
	ck_assert_int_eq(permit(&c, TW_RELAY4 ":5000"), 403);
}
END_TEST

START_TEST(operator_deny_list)
{
	struct tc c;

	W->deny[0] = tw_cidr("9.9.9.0/24");
	W->deny[1] = tw_cidr("2606:4700::/32");
	W->p.n_deny = 2;
	tw_start();
	dual(&c);
	ck_assert_int_eq(permit(&c, "9.9.9.9:5000"), 403);
	ck_assert_int_eq(permit(&c, "[::ffff:9.9.9.9]:5000"), 403);
	ck_assert_int_eq(permit(&c, "[2002:909:909::1]:5000"), 403);
	ck_assert_int_eq(permit(&c, TW_PEER6), 403);
	ck_assert_int_eq(permit(&c, TW_PEER_B), 0);
}
END_TEST

START_TEST(loopback_switch)
{
	struct tc c;

	W->p.allow_loopback = true;
	tw_start();
	dual(&c);
	ck_assert_int_eq(permit(&c, "127.0.0.1:5000"), 0);
	ck_assert_int_eq(permit(&c, "[::1]:5000"), 0);
	ck_assert_int_eq(permit(&c, "[::ffff:127.0.0.1]:5000"), 0);
	/* The switch opens loopback only. */
	ck_assert_int_eq(permit(&c, "10.0.0.1:5000"), 403);
	ck_assert_int_eq(permit(&c, "0.0.0.0:5000"), 403);
	ck_assert_int_eq(permit(&c, TW_RELAY4 ":5000"), 403);
}
END_TEST

START_TEST(reload_deny_stops_existing_permissions)
{
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_permit(&c, TW_PEER_B);
	tc_bind(&c, 0x4000, TW_PEER);
	tw_from_peer(TW_PEER, &c.relay[0], payload, 3, &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
	tc_chandata(&c, 0x4000, payload, 3);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);

	W->deny[0] = tw_cidr("9.9.9.0/24");
	W->p.n_deny = 1;
	tw_reload();
	ck_assert_uint_eq(tw_allocations(), 1); /* allocations survive a reload */
	tw_from_peer(TW_PEER, &c.relay[0], payload, 3, &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(v.reason, TP_DROP_PEER_DENIED);
	tc_chandata(&c, 0x4000, payload, 3);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	tc_sendind(&c, TW_PEER, payload, 3, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	/* Repeatedly: the verdict is not cached from before the reload. */
	tw_from_peer(TW_PEER, &c.relay[0], payload, 3, &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	/* The other peer is untouched, and the denied one cannot be permitted again. */
	tw_from_peer(TW_PEER_B, &c.relay[0], payload, 3, &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
	tc_sendind(&c, TW_PEER_B, payload, 3, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert_int_eq(permit(&c, TW_PEER), 403);
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_CHANNEL_BIND,
						   .channel = 0x4000,
						   .peers = { TW_PEER } }),
			 403);
}
END_TEST

TCase *engine_tcase_acl(void)
{
	TCase *tc = tcase_create("acl");

	tcase_add_checked_fixture(tc, tw_setup, tw_teardown);
	tcase_add_loop_test(tc, internal_peers_403, 0, N(denied));
	tcase_add_loop_test(tc, public_peers_allowed, 0, N(allowed));
	tcase_add_test(tc, operator_allow_list);
	tcase_add_test(tc, operator_deny_list);
	tcase_add_test(tc, loopback_switch);
	tcase_add_test(tc, reload_deny_stops_existing_permissions);
	return tc;
}
