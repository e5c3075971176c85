/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Allocate (RFC 8656 §7.1, §7.2): REQUESTED-TRANSPORT, address families and dual allocation,
 * EVEN-PORT and RESERVATION-TOKEN, LIFETIME, DONT-FRAGMENT, the transaction cache, 437 and 441,
 * quotas, and relay ports the data plane cannot open.
 */
#include <stdio.h>
#include <string.h>

#include "engine_fixture.h"

#define UDP TP_STUN_TRANSPORT_UDP

static int alloc_with(struct tc *c, struct treq rq)
{
	rq.method = TP_STUN_ALLOCATE;
	return tc_do(c, &rq);
}

START_TEST(requested_transport_400_442)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ 0 }), 400);
	ck_assert_int_eq(c.integrity, 1); /* errors after authentication are protected */
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = 6 }), 442);
	ck_assert_int_eq(c.integrity, 1);
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(tw_opens(), 0);
}
END_TEST

START_TEST(requested_family_ipv6)
{
	struct tp_addr relay6 = tw_addr(TW_RELAY6);
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP, .family = TP_AF_INET6 }),
			 0);
	ck_assert_uint_eq(c.n_relay, 1);
	ck_assert(tp_addr_ip_eq(&c.relay[0], &relay6));
	ck_assert_uint_eq(W->ops[0].last_families, TP_RELAY_V6);
	ck_assert_uint_eq(W->ops[0].ev[0].relay4.family, 0);
	ck_assert(tp_addr_eq(&W->ops[0].ev[0].relay6, &c.relay[0]));
}
END_TEST

START_TEST(requested_family_unsupported_440)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP, .family = 0x03 }), 440);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(family_without_relay_address_440)
{
	struct tc c;

	W->p.relay6.family = 0;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP, .family = TP_AF_INET6 }),
			 440);
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP }), 0);
	tw_teardown();

	/* IPv6 only: the default family (IPv4) cannot be had. */
	tw_setup();
	W->p.relay4.family = 0;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP }), 440);
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP, .family = TP_AF_INET6 }),
			 0);
}
END_TEST

START_TEST(dual_allocation)
{
	struct tp_addr relay4 = tw_addr(TW_RELAY4), relay6 = tw_addr(TW_RELAY6);
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&c, (struct treq){ .transport = UDP, .add_family = TP_AF_INET6 }), 0);
	ck_assert_uint_eq(c.n_relay, 2);
	ck_assert(tp_addr_ip_eq(&c.relay[0], &relay4));
	ck_assert(tp_addr_ip_eq(&c.relay[1], &relay6));
	ck_assert_uint_eq(c.relay[0].port, c.relay[1].port);
	ck_assert(!tc_has(&c, TP_STUN_ATTR_ADDRESS_ERROR_CODE));
	ck_assert_uint_eq(W->ops[0].last_families, TP_RELAY_V4 | TP_RELAY_V6);
	ck_assert_uint_eq(W->ops[0].opens, 1);
}
END_TEST

START_TEST(dual_allocation_without_relay6)
{
	uint8_t family;
	int code;
	struct tc c;

	W->p.relay6.family = 0;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&c, (struct treq){ .transport = UDP, .add_family = TP_AF_INET6 }), 0);
	ck_assert_uint_eq(c.n_relay, 1);
	ck_assert_uint_eq(c.relay[0].family, TP_AF_INET);
	/* RFC 8656 §7.2: the family that failed is reported with ADDRESS-ERROR-CODE. */
	ck_assert_int_eq(tp_stun_get_address_error(&c.m, &family, &code, NULL, NULL), 0);
	ck_assert_uint_eq(family, TP_AF_INET6);
	ck_assert_int_eq(code, 440);
	ck_assert_uint_eq(W->ops[0].last_families, TP_RELAY_V4);
}
END_TEST

START_TEST(additional_family_misuse_400)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP,
						       .family = TP_AF_INET,
						       .add_family = TP_AF_INET6 }),
			 400);
	/* ADDITIONAL-ADDRESS-FAMILY may only ask for IPv6. */
	ck_assert_int_eq(
		alloc_with(&c, (struct treq){ .transport = UDP, .add_family = TP_AF_INET }), 400);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(even_port)
{
	struct tc c[6];

	tw_start();
	for (unsigned i = 0; i < 6; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "5.6.7.8:%u", 41000 + i);
		tc_init(&c[i], addr, "alice", "alice-pw");
		ck_assert_int_eq(
			alloc_with(&c[i], (struct treq){ .transport = UDP, .even_port = true }), 0);
		ck_assert_uint_eq(c[i].relay[0].port % 2, 0);
		ck_assert(!c[i].has_token);
	}
}
END_TEST

START_TEST(even_port_reservation)
{
	struct tc a, b, d;

	tw_start();
	tc_init(&a, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&a,
			   (struct treq){ .transport = UDP, .even_port = true, .reserve = true }),
		0);
	ck_assert_uint_eq(a.relay[0].port % 2, 0);
	ck_assert(a.has_token);
	/* Another 5-tuple (RTCP's) redeems the token and gets the next port up. */
	tc_init(&b, "5.6.7.8:40001", "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&b,
			   (struct treq){ .transport = UDP, .has_token = true, .token = a.token }),
		0);
	ck_assert_uint_eq(b.relay[0].port, a.relay[0].port + 1);
	ck_assert_uint_eq(W->ops[0].last_open, b.relay[0].port);
	/* A token is good once. */
	tc_init(&d, "5.6.7.8:40002", "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&d,
			   (struct treq){ .transport = UDP, .has_token = true, .token = a.token }),
		508);
	ck_assert_uint_eq(tw_allocations(), 2);
}
END_TEST

START_TEST(even_port_reservation_keeps_its_family)
{
	struct tc a, b;

	/* RFC 8656 §7.2: the token stands for the reserved transport address, IPv6 here. */
	tw_start();
	tc_init(&a, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&a, (struct treq){ .transport = UDP,
						       .family = TP_AF_INET6,
						       .even_port = true,
						       .reserve = true }),
			 0);
	ck_assert_uint_eq(a.relay[0].family, TP_AF_INET6);
	ck_assert(a.has_token);
	tc_init(&b, "5.6.7.8:40001", "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&b,
			   (struct treq){ .transport = UDP, .has_token = true, .token = a.token }),
		0);
	ck_assert_uint_eq(b.n_relay, 1);
	ck_assert_uint_eq(b.relay[0].family, TP_AF_INET6);
	ck_assert_uint_eq(b.relay[0].port, a.relay[0].port + 1);
}
END_TEST

START_TEST(reservation_token_misuse)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP,
						       .even_port = true,
						       .has_token = true,
						       .token = 42 }),
			 400);
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP,
						       .family = TP_AF_INET,
						       .has_token = true,
						       .token = 42 }),
			 400);
	/* RFC 8656 §7.2: a token the server does not know is a 508. */
	ck_assert_int_eq(
		alloc_with(&c, (struct treq){ .transport = UDP, .has_token = true, .token = 42 }),
		508);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(reservation_expires_and_frees_its_port)
{
	struct tc a, b, more[4];

	/* Four ports: 49152..49155. */
	W->p.port_max = TW_PORT_MIN + 3;
	tw_start();
	tc_init(&a, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&a,
			   (struct treq){ .transport = UDP, .even_port = true, .reserve = true }),
		0);
	/* Two more allocations take the two other ports; the reserved one is not handed out. */
	for (unsigned i = 0; i < 3; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "5.6.7.8:%u", 41000 + i);
		tc_init(&more[i], addr, "bob", "bob-pw");
		ck_assert_int_eq(alloc_with(&more[i], (struct treq){ .transport = UDP }),
				 i < 2 ? 0 : 508);
		ck_assert(i == 2 || more[i].relay[0].port != a.relay[0].port + 1);
	}
	/* RFC 8656 §7.2: the reservation lapses after about 30 s... */
	tw_tick(31);
	tc_init(&b, "5.6.7.8:40001", "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&b,
			   (struct treq){ .transport = UDP, .has_token = true, .token = a.token }),
		508);
	/* ...and its port goes back to the pool. */
	tc_init(&more[3], "5.6.7.8:41003", "bob", "bob-pw");
	ck_assert_int_eq(alloc_with(&more[3], (struct treq){ .transport = UDP }), 0);
	ck_assert_uint_eq(more[3].relay[0].port, a.relay[0].port + 1);
}
END_TEST

START_TEST(reservation_slot_reuse_frees_the_old_port)
{
	struct tc a, b, c, d;

	/* Two pairs of ports; the first pair's reservation lapses before any tick runs. */
	W->p.port_max = TW_PORT_MIN + 3;
	tw_start();
	tc_init(&a, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&a,
			   (struct treq){ .transport = UDP, .even_port = true, .reserve = true }),
		0);
	tw_advance_ms(31 * 1000);
	tc_init(&b, "5.6.7.8:40001", "alice", "alice-pw");
	ck_assert_int_eq(
		alloc_with(&b,
			   (struct treq){ .transport = UDP, .even_port = true, .reserve = true }),
		0);
	tw_tick(31);
	/* Both reservations are gone: all that is left of the four ports is usable. */
	tc_init(&c, "5.6.7.8:40002", "bob", "bob-pw");
	tc_init(&d, "5.6.7.8:40003", "bob", "bob-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP }), 0);
	ck_assert_int_eq(alloc_with(&d, (struct treq){ .transport = UDP }), 0);
	ck_assert_uint_eq(tw_allocations(), 4);
}
END_TEST

START_TEST(lifetime_negotiation)
{
	static const uint32_t asked[][2] = { { 100, 600 }, { 99999, 3600 }, { 1200, 1200 },
					     { 0, 600 },   { 600, 600 },    { 3600, 3600 } };
	struct tc c;

	tw_start();
	for (unsigned i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "5.6.7.8:%u", 41000 + i);
		tc_init(&c, addr, "alice", "alice-pw");
		ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP,
							       .has_lifetime = true,
							       .lifetime = asked[i][0] }),
				 0);
		ck_assert_msg(c.lifetime == asked[i][1], "asked %u, got %u", asked[i][0],
			      c.lifetime);
	}
}
END_TEST

START_TEST(dont_fragment_sets_df)
{
	static const uint8_t data[] = "hello";
	struct tc c, plain;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = UDP, .dont_fragment = true }),
			 0);
	tc_bind(&c, 0x4000, TW_PEER);
	tc_sendind(&c, TW_PEER, data, 5, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert(c.v.flags & TP_VF_DF);
	tc_chandata(&c, 0x4000, data, 5);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert(c.v.flags & TP_VF_DF);

	/* Without DONT-FRAGMENT in the Allocate, nothing is marked. */
	tc_init(&plain, "5.6.7.8:40001", "bob", "bob-pw");
	tc_allocate(&plain);
	tc_bind(&plain, 0x4000, TW_PEER);
	tc_chandata(&plain, 0x4000, data, 5);
	ck_assert_uint_eq(plain.v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(plain.v.flags & TP_VF_DF, 0);
}
END_TEST

START_TEST(retransmission_gets_the_same_response)
{
	uint8_t first[1500];
	size_t first_len;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	first_len = c.v.len;
	memcpy(first, c.reply, first_len);
	ck_assert_int_eq(tc_resend(&c), 0);
	ck_assert_uint_eq(c.v.len, first_len);
	ck_assert_mem_eq(c.reply, first, first_len);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RETRANSMIT), 1);
	ck_assert_uint_eq(tw_allocations(), 1);
	ck_assert_uint_eq(tw_opens(), 1);
	/* Still the same answer 39 s later, even after the nonce went stale. */
	W->p.nonce_lifetime = 30;
	tw_reload();
	tw_advance_ms(39 * 1000);
	ck_assert_int_eq(tc_resend(&c), 0);
	ck_assert_mem_eq(c.reply, first, first_len);
	/* A new transaction on the same 5-tuple is refused. */
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }),
			 437);
	ck_assert_int_eq(c.integrity, 1);
	ck_assert_uint_eq(tw_allocations(), 1);
}
END_TEST

START_TEST(retransmitted_error_is_cached_too)
{
	uint8_t first[1500];
	size_t first_len;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(alloc_with(&c, (struct treq){ .transport = 6 }), 442);
	first_len = c.v.len;
	memcpy(first, c.reply, first_len);
	ck_assert_int_eq(tc_resend(&c), 442);
	ck_assert_mem_eq(c.reply, first, first_len);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RETRANSMIT), 1);
	/* A different request with a reused transaction ID is not a retransmission. */
	c.req[c.req_len - 1] ^= 1; /* inside MESSAGE-INTEGRITY: now it fails */
	ck_assert_int_eq(tc_resend(&c), 401);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RETRANSMIT), 1);
}
END_TEST

START_TEST(no_allocation_437)
{
	static const uint16_t methods[] = { TP_STUN_REFRESH, TP_STUN_CREATE_PERMISSION,
					    TP_STUN_CHANNEL_BIND };
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = methods[i],
							   .channel = 0x4000,
							   .peers = { TW_PEER } }),
				 437);
		ck_assert_int_eq(c.integrity, 1);
	}
	ck_assert_uint_eq(tp_stat_read(&tp_engine_stats(W->e[0])->error_code[TP_SE_437]), 3);
}
END_TEST

START_TEST(other_username_441)
{
	struct tc alice, bob;

	tw_start();
	tc_init(&alice, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&alice);
	/* Bob, from alice's 5-tuple. */
	tc_init(&bob, TW_CLIENT, "bob", "bob-pw");
	ck_assert_int_eq(tc_do(&bob, &(struct treq){ .method = TP_STUN_REFRESH }), 441);
	ck_assert_int_eq(bob.integrity, 1); /* under bob's own key: he did authenticate */
	ck_assert_int_eq(tc_do(&bob, &(struct treq){ .method = TP_STUN_CREATE_PERMISSION,
						     .peers = { TW_PEER } }),
			 441);
	ck_assert_int_eq(
		tc_do(&bob, &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }), 441);
	ck_assert_uint_eq(tw_allocations(), 1);
	/* Alice herself carries on. */
	tc_permit(&alice, TW_PEER);
}
END_TEST

START_TEST(quota_per_user_across_shards)
{
	char user[64], pass[64];
	struct tc c[5];

	W->nshards = 2;
	W->p.allocations_per_user = 2;
	tw_start();
	tc_init(&c[0], "5.6.7.8:40000", "alice", "alice-pw");
	tc_init(&c[1], "5.6.7.8:40001", "alice", "alice-pw");
	tc_init(&c[2], "5.6.7.8:40002", "alice", "alice-pw");
	c[1].shard = 1;
	tc_allocate(&c[0]);
	tc_allocate(&c[1]);
	ck_assert_uint_eq(tp_engine_port_shard(c[1].relay[0].port, TW_PORT_MIN, 2), 1);
	ck_assert_uint_eq(tp_engine_port_shard(c[0].relay[0].port, TW_PORT_MIN, 2), 0);
	ck_assert_int_eq(
		tc_do(&c[2], &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }), 486);
	ck_assert_int_eq(c[2].integrity, 1);
	/* A REST username for the same user counts against the same quota. */
	snprintf(user, sizeof(user), "%llu:alice", (unsigned long long)W->now.unix_s + 600);
	tw_rest_password(user, pass, sizeof(pass));
	tc_init(&c[3], "5.6.7.8:40003", user, pass);
	c[3].shard = 1;
	ck_assert_int_eq(
		tc_do(&c[3], &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }), 486);
	/* Bob is not affected; and once alice frees one, she may allocate again. */
	tc_init(&c[4], "5.6.7.8:40004", "bob", "bob-pw");
	tc_allocate(&c[4]);
	ck_assert_int_eq(tc_do(&c[1], &(struct treq){ .method = TP_STUN_REFRESH,
						      .has_lifetime = true,
						      .lifetime = 0 }),
			 0);
	ck_assert_int_eq(
		tc_do(&c[2], &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }), 0);
	ck_assert_uint_eq(tw_allocations(), 3);
}
END_TEST

START_TEST(quota_total_508)
{
	struct tc c[4];

	W->nshards = 2;
	W->p.allocations_total = 3;
	tw_start();
	for (unsigned i = 0; i < 4; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "5.6.7.8:%u", 41000 + i);
		tc_init(&c[i], addr, i % 2 ? "bob" : "alice", i % 2 ? "bob-pw" : "alice-pw");
		c[i].shard = i % 2;
		ck_assert_int_eq(tc_do(&c[i], &(struct treq){ .method = TP_STUN_ALLOCATE,
							      .transport = UDP }),
				 i < 3 ? 0 : 508);
	}
	ck_assert_uint_eq(tw_allocations(), 3);
}
END_TEST

START_TEST(relay_open_failures_try_other_ports)
{
	struct tc c;

	tw_start();
	W->ops[0].fail_next = 3;
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	ck_assert_uint_eq(W->ops[0].failed_opens, 3);
	ck_assert_uint_eq(W->ops[0].opens, 1);
	ck_assert_uint_eq(W->ops[0].last_open, c.relay[0].port);
}
END_TEST

START_TEST(relay_open_always_failing_508)
{
	struct tc c;

	W->p.allocations_per_user = 1;
	tw_start();
	W->ops[0].fail_all = true;
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }),
			 508);
	ck_assert_uint_gt(W->ops[0].failed_opens, 0);
	ck_assert_uint_eq(tw_allocations(), 0);
	/* The quota taken for the attempt was given back. */
	W->ops[0].fail_all = false;
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }),
			 0);
}
END_TEST

START_TEST(port_range_exhaustion)
{
	struct tc c[5];
	uint16_t freed;

	W->p.port_max = TW_PORT_MIN + 3;
	tw_start();
	for (unsigned i = 0; i < 5; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "5.6.7.8:%u", 41000 + i);
		tc_init(&c[i], addr, "alice", "alice-pw");
		ck_assert_int_eq(tc_do(&c[i], &(struct treq){ .method = TP_STUN_ALLOCATE,
							      .transport = UDP }),
				 i < 4 ? 0 : 508);
	}
	freed = c[2].relay[0].port;
	ck_assert_int_eq(tc_do(&c[2], &(struct treq){ .method = TP_STUN_REFRESH,
						      .has_lifetime = true,
						      .lifetime = 0 }),
			 0);
	ck_assert_int_eq(
		tc_do(&c[4], &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }), 0);
	ck_assert_uint_eq(c[4].relay[0].port, freed);
}
END_TEST

START_TEST(retransmission_with_the_largest_responses)
{
	static char software[TP_STUN_SOFTWARE_MAX + 1];
	uint8_t first[1500];
	size_t first_len;
	struct tc c;

	/* The longest SOFTWARE the config allows, on the longest Allocate success there is. */
	memset(software, 's', TP_STUN_SOFTWARE_MAX);
	W->p.software = software;
	tw_start();
	tc_init(&c, TW_CLIENT6, "alice", "alice-pw");
	c.alg = TP_STUN_PWALG_SHA256;
	c.fingerprint = true;
	ck_assert_int_eq(
		alloc_with(&c, (struct treq){ .transport = UDP, .add_family = TP_AF_INET6 }), 0);
	first_len = c.v.len;
	memcpy(first, c.reply, first_len);
	ck_assert_int_eq(tc_resend(&c), 0);
	ck_assert_uint_eq(c.v.len, first_len);
	ck_assert_mem_eq(c.reply, first, first_len);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RETRANSMIT), 1);
	/* And the deleting Refresh: its retransmission must not turn into a 437. */
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_REFRESH,
						   .has_lifetime = true,
						   .lifetime = 0 }),
			 0);
	ck_assert_int_eq(tc_resend(&c), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RETRANSMIT), 2);
}
END_TEST

START_TEST(unknown_attribute_420_after_authentication)
{
	uint16_t types[4];
	size_t n;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	/* Unauthenticated, the 401 comes first (RFC 8489 §6.3.1: authentication, then 420). */
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						     .transport = UDP,
						     .unknown = 0x0031 }),
			 401);
	tc_learn(&c);
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						     .transport = UDP,
						     .unknown = 0x0031 }),
			 420);
	ck_assert_int_eq(c.integrity, 1);
	ck_assert_int_eq(tp_stun_get_unknown(&c.m, types, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(types[0], 0x0031);
	ck_assert_uint_eq(tw_allocations(), 0);
	/* Comprehension-optional ones are ignored. */
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						     .transport = UDP,
						     .unknown = 0x8031 }),
			 0);
}
END_TEST

START_TEST(relay_open_refusing_given_ports)
{
	struct tc c[2];

	/* Four ports, three of them taken by some other program on the host. */
	W->p.port_max = TW_PORT_MIN + 3;
	tw_start();
	W->ops[0].fail_port[0] = TW_PORT_MIN;
	W->ops[0].fail_port[1] = TW_PORT_MIN + 1;
	W->ops[0].fail_port[2] = TW_PORT_MIN + 3;
	W->ops[0].n_fail_port = 3;
	tc_init(&c[0], TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c[0]);
	ck_assert_uint_eq(c[0].relay[0].port, TW_PORT_MIN + 2);
	ck_assert_uint_le(W->ops[0].failed_opens, 3);
	/* With that one in use, nothing is left: 508, and the refused ports stay unused. */
	tc_init(&c[1], "5.6.7.8:40001", "alice", "alice-pw");
	ck_assert_int_eq(
		tc_do(&c[1], &(struct treq){ .method = TP_STUN_ALLOCATE, .transport = UDP }), 508);
	ck_assert_uint_eq(W->ops[0].opens, 1);
}
END_TEST

TCase *engine_tcase_alloc(void)
{
	TCase *tc = tcase_create("alloc");

	tcase_add_checked_fixture(tc, tw_setup, tw_teardown);
	tcase_add_test(tc, requested_transport_400_442);
	tcase_add_test(tc, unknown_attribute_420_after_authentication);
	tcase_add_test(tc, requested_family_ipv6);
	tcase_add_test(tc, requested_family_unsupported_440);
	tcase_add_test(tc, family_without_relay_address_440);
	tcase_add_test(tc, dual_allocation);
	tcase_add_test(tc, dual_allocation_without_relay6);
	tcase_add_test(tc, additional_family_misuse_400);
	tcase_add_test(tc, even_port);
	tcase_add_test(tc, even_port_reservation);
	tcase_add_test(tc, even_port_reservation_keeps_its_family);
	tcase_add_test(tc, reservation_token_misuse);
	tcase_add_test(tc, reservation_expires_and_frees_its_port);
	tcase_add_test(tc, reservation_slot_reuse_frees_the_old_port);
	tcase_add_test(tc, lifetime_negotiation);
	tcase_add_test(tc, dont_fragment_sets_df);
	tcase_add_test(tc, retransmission_gets_the_same_response);
	tcase_add_test(tc, retransmitted_error_is_cached_too);
	tcase_add_test(tc, retransmission_with_the_largest_responses);
	tcase_add_test(tc, no_allocation_437);
	tcase_add_test(tc, other_username_441);
	tcase_add_test(tc, quota_per_user_across_shards);
	tcase_add_test(tc, quota_total_508);
	tcase_add_test(tc, relay_open_failures_try_other_ports);
	tcase_add_test(tc, relay_open_always_failing_508);
	tcase_add_test(tc, relay_open_refusing_given_ports);
	tcase_add_test(tc, port_range_exhaustion);
	return tc;
}
