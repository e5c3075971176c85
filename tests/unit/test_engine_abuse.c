/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile traffic (DESIGN §4, §7, §8): the per-source 401 rate limit, and floods of garbage,
 * truncated and forged messages that must neither create state nor open a relay port, every one
 * of them counted, after which a real client is served as usual.
 */
#include <stdio.h>
#include <string.h>

#include <turnpike/byteorder.h>

#include "engine_fixture.h"

static const struct treq allocate = { .method = TP_STUN_ALLOCATE,
				      .transport = TP_STUN_TRANSPORT_UDP };

/* A small deterministic generator: failures must be reproducible. */
static uint32_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

START_TEST(unauth_rate_limit)
{
	unsigned replies = 0;
	struct tc c, other;

	W->p.unauth_rate = 5;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	/* 50 at once: the bucket holds 5. */
	for (unsigned i = 0; i < 50; i++) {
		int code = tc_send(&c, &allocate);

		if (code == 401)
			replies++;
		else
			ck_assert_uint_eq(c.v.reason, TP_DROP_UNAUTH_RATE);
	}
	ck_assert_uint_ge(replies, 1);
	ck_assert_uint_le(replies, 5);
	ck_assert_uint_eq(tw_drops(TP_DROP_UNAUTH_RATE), 50 - replies);
	/* Another source is not affected. */
	tc_init(&other, "5.6.7.99:40000", "bob", "bob-pw");
	ck_assert_int_eq(tc_send(&other, &allocate), 401);
	/* Another port of the same address is no way around it: the limit is per IP. */
	c.addr.port++;
	ck_assert_int_eq(tc_send(&c, &allocate), -1);
	c.addr.port--;
	/* Spread over a second, 50 more get about 5 answers: the rate, not the burst. */
	replies = 0;
	for (unsigned i = 0; i < 50; i++) {
		tw_advance_ms(20);
		replies += tc_send(&c, &allocate) == 401;
	}
	ck_assert_uint_ge(replies, 4);
	ck_assert_uint_le(replies, 6);
	/* Some time later the source is answered again, and can authenticate. */
	tw_advance_ms(2000);
	ck_assert_int_eq(tc_send(&c, &allocate), 401);
	tc_learn(&c);
	ck_assert_int_eq(tc_send(&c, &allocate), 0);
	ck_assert_uint_eq(tw_allocations(), 1);
}
END_TEST

START_TEST(unauth_rate_limit_covers_bad_credentials)
{
	unsigned replies = 0;
	struct tc c;

	W->p.unauth_rate = 5;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "guess");
	tc_challenge(&c);
	for (unsigned i = 0; i < 50; i++)
		replies += tc_send(&c, &allocate) == 401;
	ck_assert_uint_le(replies, 4); /* at most 5 a second, and the challenge was one */
	ck_assert_uint_eq(tw_drops(TP_DROP_UNAUTH_RATE), 50 - replies);
}
END_TEST

/* Every packet is accounted for: dropped with a reason, or answered. */
static void assert_accounted(uint64_t packets, uint64_t replies)
{
	uint64_t drops = 0;

	for (unsigned i = 0; i < TP_DROP_COUNT; i++)
		drops += tw_drops(i);
	ck_assert_uint_eq(drops + replies, packets);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RX_CLIENT) + tw_ctr(TP_CTR_RX_PEER), packets);
}

static void flood_packet(struct tc *c, const uint8_t *p, size_t len, uint64_t *replies)
{
	tc_raw(c, p, len);
	if (c->v.kind == TP_VERDICT_REPLY) {
		struct tp_stun_msg m;

		/* Only errors (and Binding successes, which need no auth) go back. */
		ck_assert_int_eq(tp_stun_parse(&m, c->reply, c->v.len), 0);
		ck_assert(m.cls == TP_STUN_ERROR ||
			  (m.cls == TP_STUN_SUCCESS && m.method == TP_STUN_BINDING));
		ck_assert_uint_eq(m.mi_off, 0);
		ck_assert_uint_eq(m.mi256_off, 0);
		(*replies)++;
	}
	ck_assert_uint_ne(c->v.kind, TP_VERDICT_FORWARD);
}

START_TEST(no_state_before_authentication)
{
	static const uint16_t methods[] = { TP_STUN_ALLOCATE, TP_STUN_REFRESH,
					    TP_STUN_CREATE_PERMISSION, TP_STUN_CHANNEL_BIND,
					    TP_STUN_SEND };
	uint64_t packets = 0, replies = 0;
	uint8_t buf[600], good[1500];
	size_t good_len;
	struct tp_addr relay = tw_addr(TW_RELAY4);
	struct tp_verdict v;
	struct tc c, real;

	rng_state = 0x1234567u;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "wrong-password");

	/* Random bytes, some made to look like STUN or ChannelData by their first bytes. */
	for (unsigned i = 0; i < 3000; i++) {
		size_t len = rnd() % sizeof(buf);

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rnd();
		if (len >= 8 && i % 3 == 0) {
			buf[0] = (uint8_t)(rnd() & 1);
			tp_put_be32(buf + 4, TP_STUN_MAGIC_COOKIE);
			tp_put_be16(buf + 2, (uint16_t)((len - 20) & ~3u));
		} else if (len >= 4 && i % 3 == 1) {
			buf[0] = (uint8_t)(0x40 | (rnd() & 0x0f));
		}
		c.addr.port = (uint16_t)(1024 + rnd() % 60000);
		flood_packet(&c, buf, len, &replies);
		packets++;
	}
	/* Every prefix of an Allocate with (bad) credentials, and the whole of it. */
	c.addr = tw_addr(TW_CLIENT);
	tc_challenge(&c);
	packets++;
	replies++;
	tc_build(&c, &allocate);
	good_len = c.req_len;
	memcpy(good, c.req, good_len);
	for (size_t len = 0; len <= good_len; len++) {
		flood_packet(&c, good, len, &replies);
		packets++;
	}
	/* Every one-byte change of it, for each of the methods. */
	for (unsigned mi = 0; mi < sizeof(methods) / sizeof(methods[0]); mi++) {
		tc_build(&c, &(struct treq){ .method = methods[mi],
					     .transport = TP_STUN_TRANSPORT_UDP,
					     .channel = 0x4000,
					     .peers = { TW_PEER } });
		good_len = c.req_len;
		memcpy(good, c.req, good_len);
		for (size_t k = 0; k < good_len; k++) {
			good[k] ^= (uint8_t)(1 + rnd() % 255);
			flood_packet(&c, good, good_len, &replies);
			packets++;
			memcpy(good, c.req, good_len);
		}
	}
	/* ChannelData on random channels, and peers knocking on random relay ports. */
	for (unsigned i = 0; i < 2000; i++) {
		uint16_t len = (uint16_t)(rnd() % 64);

		tp_chandata_put_hdr(buf, (uint16_t)(0x4000 + rnd() % 0x1000), len);
		c.addr.port = (uint16_t)(1024 + rnd() % 60000);
		flood_packet(&c, buf, 4 + len, &replies);
		packets++;
		relay.port = (uint16_t)(TW_PORT_MIN - 8 + rnd() % 80);
		tw_from_peer(TW_PEER, &relay, buf, len, &v);
		ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
		packets++;
	}
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(tw_opens(), 0);
	ck_assert_uint_eq(W->ops[0].failed_opens, 0);
	ck_assert_uint_eq(W->ops[0].n_events, 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_AUTH_OK), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_CHAN_BOUND), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RETRANSMIT), 0);
	assert_accounted(packets, replies);
	ck_assert_uint_gt(tw_drops(TP_DROP_NOT_TURN), 0);
	ck_assert_uint_gt(tw_drops(TP_DROP_STUN_MALFORMED), 0);
	ck_assert_uint_gt(tw_drops(TP_DROP_NO_ALLOCATION), 0);
	ck_assert_uint_gt(tw_drops(TP_DROP_RELAY_NO_ALLOCATION), 0);

	/* After all that, a real client is served as usual. */
	tc_init(&real, "5.6.7.10:40000", "alice", "alice-pw");
	tc_allocate(&real);
	tc_bind(&real, 0x4000, TW_PEER);
	tc_chandata(&real, 0x4000, "ok", 2);
	ck_assert_uint_eq(real.v.kind, TP_VERDICT_FORWARD);
}
END_TEST

START_TEST(flipped_authenticated_requests_never_succeed)
{
	uint8_t good[1500];
	size_t good_len;
	struct tc c, probe;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	tc_build(&c, &allocate);
	good_len = c.req_len;
	memcpy(good, c.req, good_len);
	/* With the right password, a change to any one bit makes the request worthless. */
	probe = c;
	for (size_t k = 0; k < good_len; k++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			good[k] ^= (uint8_t)(1u << bit);
			tc_raw(&probe, good, good_len);
			ck_assert_msg(
				probe.v.kind != TP_VERDICT_REPLY ||
					tp_get_be16(probe.reply) !=
						tp_stun_type(TP_STUN_ALLOCATE, TP_STUN_SUCCESS),
				"flip of byte %zu bit %u allocated", k, bit);
			good[k] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(tw_opens(), 0);
	/* The unchanged request still works. */
	tc_raw(&c, good, good_len);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_REPLY);
	ck_assert_uint_eq(tp_get_be16(c.reply), tp_stun_type(TP_STUN_ALLOCATE, TP_STUN_SUCCESS));
	ck_assert_uint_eq(tw_allocations(), 1);
}
END_TEST

START_TEST(allocation_flood_is_bounded)
{
	unsigned ok = 0, full = 0;

	W->max_allocations = 16;
	W->p.allocations_per_user = 1000;
	tw_start();
	for (unsigned i = 0; i < 40; i++) {
		char addr[32];
		struct tc c;
		int code;

		snprintf(addr, sizeof(addr), "5.6.%u.%u:40000", i / 200, i % 200 + 1);
		tc_init(&c, addr, "alice", "alice-pw");
		code = tc_do(&c, &allocate);
		ck_assert(code == 0 || code == 508);
		ok += code == 0;
		full += code == 508;
	}
	ck_assert_uint_eq(ok, 16);
	ck_assert_uint_eq(full, 24);
	ck_assert_uint_eq(tw_allocations(), 16);
	ck_assert_uint_eq(tw_opens(), 16);
}
END_TEST

TCase *engine_tcase_abuse(void)
{
	TCase *tc = tcase_create("abuse");

	tcase_add_checked_fixture(tc, tw_setup, tw_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, unauth_rate_limit);
	tcase_add_test(tc, unauth_rate_limit_covers_bad_credentials);
	tcase_add_test(tc, no_state_before_authentication);
	tcase_add_test(tc, flipped_authenticated_requests_never_succeed);
	tcase_add_test(tc, allocation_flood_is_bounded);
	return tc;
}
