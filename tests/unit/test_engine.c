/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine suite, driven only through include/turnpike/engine.h with real STUN bytes. This
 * file has main(), the requests that need no allocation (Binding, unknown methods, what a client
 * may not send), the statistics names and the constructors' argument checks. The other
 * test_engine_*.c files add one TCase each.
 */
#include <stdlib.h>
#include <string.h>

#include <turnpike/byteorder.h>

#include "engine_fixture.h"

/* An attribute type turnpike does not know, in the comprehension-required range. */
#define UNKNOWN_REQUIRED 0x0030
#define UNKNOWN_OPTIONAL 0xC0DE

START_TEST(binding_reflects_the_source)
{
	static const char *const clients[] = { TW_CLIENT, TW_CLIENT6 };
	struct tc c;
	struct tp_addr mapped;

	tw_start();
	for (unsigned i = 0; i < 2; i++) {
		tc_init(&c, clients[i], NULL, NULL);
		ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_BINDING }), 0);
		ck_assert_int_eq(tp_stun_get_addr(&c.m, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped),
				 0);
		ck_assert(tp_addr_eq(&mapped, &c.addr));
		ck_assert_int_eq(c.integrity, 0); /* no authentication for Binding */
	}
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(binding_echoes_fingerprint)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, NULL, NULL);
	c.fingerprint = true;
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_BINDING }), 0);
	ck_assert_uint_ne(c.m.fp_off, 0); /* and take_reply checked its value */
}
END_TEST

START_TEST(binding_unknown_required_attribute_420)
{
	uint16_t types[4];
	size_t n;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, NULL, NULL);
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_BINDING,
						     .unknown = UNKNOWN_REQUIRED }),
			 420);
	ck_assert_int_eq(tp_stun_get_unknown(&c.m, types, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(types[0], UNKNOWN_REQUIRED);
	/* A comprehension-optional attribute is simply ignored (RFC 8489 §15). */
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_BINDING,
						     .unknown = UNKNOWN_OPTIONAL }),
			 0);
}
END_TEST

START_TEST(unknown_method_400)
{
	const struct tp_stats *st;
	struct tc c;

	tw_start();
	st = tp_engine_stats(W->e[0]);
	tc_init(&c, TW_CLIENT, NULL, NULL);
	/* RFC 8489 §6.3.1: a request of a method the server does not know gets a 400. (Methods
	 * above 0xff would make a first byte over 3, which is not STUN at all: RFC 7983.) */
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = 0x0ff }), 400);
	ck_assert_uint_eq(tp_stat_read(&st->requests[TP_SM_OTHER]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->errors[TP_SM_OTHER]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->error_code[TP_SE_400]), 1);
	/* Data is an indication-only method: as a request it is unknown, too. */
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_DATA }), 400);
}
END_TEST

START_TEST(responses_and_other_indications_dropped)
{
	static const uint16_t cls[][2] = {
		{ TP_STUN_BINDING, TP_STUN_SUCCESS },	 { TP_STUN_ALLOCATE, TP_STUN_ERROR },
		{ TP_STUN_BINDING, TP_STUN_INDICATION }, { TP_STUN_DATA, TP_STUN_INDICATION },
		{ TP_STUN_REFRESH, TP_STUN_INDICATION },
	};
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, NULL, NULL);
	for (unsigned i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		ck_assert_int_eq(
			tc_send(&c, &(struct treq){ .method = cls[i][0], .cls = cls[i][1] }), -1);
		ck_assert_uint_eq(c.v.reason, TP_DROP_STUN_NOT_REQUEST);
	}
	ck_assert_uint_eq(tw_drops(TP_DROP_STUN_NOT_REQUEST), 5);
}
END_TEST

START_TEST(garbage_is_counted)
{
	static const uint8_t junk[] = { 0x80, 1, 2, 3, 4, 5, 6, 7 };
	uint8_t buf[64];
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, NULL, NULL);
	tc_raw(&c, junk, sizeof(junk));
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(c.v.reason, TP_DROP_NOT_TURN);
	tc_raw(&c, junk, 0);
	ck_assert_uint_eq(c.v.reason, TP_DROP_NOT_TURN);
	ck_assert_uint_eq(tw_drops(TP_DROP_NOT_TURN), 2);

	/* A Binding request with a wrong magic cookie, then one cut short. */
	tc_build(&c, &(struct treq){ .method = TP_STUN_BINDING });
	memcpy(buf, c.req, c.req_len);
	buf[4] ^= 1;
	tc_raw(&c, buf, c.req_len);
	ck_assert_uint_eq(c.v.reason, TP_DROP_STUN_MALFORMED);
	tc_raw(&c, c.req, 19);
	ck_assert_uint_eq(c.v.reason, TP_DROP_STUN_MALFORMED);
	ck_assert_uint_eq(tw_drops(TP_DROP_STUN_MALFORMED), 2);
	ck_assert_uint_eq(tp_stat_read(&tp_engine_stats(W->e[0])->wire[TP_WIRE_ECOOKIE]), 1);
	ck_assert_uint_eq(tw_wire_errors(), 2);

	/* A FINGERPRINT that does not match. */
	c.fingerprint = true;
	tc_build(&c, &(struct treq){ .method = TP_STUN_BINDING });
	c.req[c.req_len - 1] ^= 0xff;
	tc_raw(&c, c.req, c.req_len);
	ck_assert_uint_eq(c.v.reason, TP_DROP_STUN_MALFORMED);
	ck_assert_uint_eq(tp_stat_read(&tp_engine_stats(W->e[0])->wire[TP_WIRE_EFINGERPRINT]), 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RX_CLIENT), 5);
}
END_TEST

START_TEST(bad_descriptors_dropped)
{
	struct tp_verdict v;
	struct tp_pkt pkt;
	struct tc c;
	uint8_t small[8], short_buf[24]; /* short_buf: a header fits, the reply does not */

	tw_start();
	tc_init(&c, TW_CLIENT, NULL, NULL);
	tc_build(&c, &(struct treq){ .method = TP_STUN_BINDING });
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = c.req;
	pkt.len = (uint32_t)c.req_len;
	pkt.origin = 7;
	pkt.src = c.addr;
	pkt.dst = c.server;
	tp_engine_handle(W->e[0], &pkt, &v, &W->now);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(v.reason, TP_DROP_UNKNOWN_ORIGIN);
	pkt.origin = TP_PKT_FROM_CLIENT;
	pkt.transport = 9;
	tp_engine_handle(W->e[0], &pkt, &v, &W->now);
	ck_assert_uint_eq(v.reason, TP_DROP_UNKNOWN_ORIGIN);

	/* No room for a reply (or no buffer at all): dropped, never a partial message. */
	pkt.transport = TP_TRANSPORT_UDP;
	pkt.reply_buf = small;
	pkt.reply_cap = sizeof(small);
	tp_engine_handle(W->e[0], &pkt, &v, &W->now);
	ck_assert_uint_eq(v.reason, TP_DROP_REPLY_FAILED);
	pkt.reply_buf = short_buf;
	pkt.reply_cap = sizeof(short_buf);
	tp_engine_handle(W->e[0], &pkt, &v, &W->now);
	ck_assert_uint_eq(v.reason, TP_DROP_REPLY_FAILED);
	pkt.reply_buf = NULL;
	pkt.reply_cap = 0;
	tp_engine_handle(W->e[0], &pkt, &v, &W->now);
	ck_assert_uint_eq(v.reason, TP_DROP_REPLY_FAILED);
	ck_assert_uint_eq(tw_drops(TP_DROP_UNKNOWN_ORIGIN), 2);
	ck_assert_uint_eq(tw_drops(TP_DROP_REPLY_FAILED), 3);
}
END_TEST

START_TEST(process_decides_a_burst)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff };
	uint8_t req[2][64], reply[3][256];
	struct tp_verdict v[3];
	struct tp_pkt pkts[3];
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, NULL, NULL);
	for (unsigned i = 0; i < 2; i++) {
		tc_build(&c, &(struct treq){ .method = TP_STUN_BINDING });
		memcpy(req[i], c.req, c.req_len);
	}
	memset(pkts, 0, sizeof(pkts));
	for (unsigned i = 0; i < 3; i++) {
		pkts[i].data = i == 1 ? junk : req[i / 2];
		pkts[i].len = i == 1 ? sizeof(junk) : (uint32_t)c.req_len;
		pkts[i].origin = TP_PKT_FROM_CLIENT;
		pkts[i].src = c.addr;
		pkts[i].dst = c.server;
		pkts[i].reply_buf = reply[i];
		pkts[i].reply_cap = sizeof(reply[i]);
	}
	ck_assert_uint_eq(tp_engine_process(W->e[0], pkts, v, 3, &W->now), 2);
	ck_assert_uint_eq(v[0].kind, TP_VERDICT_REPLY);
	ck_assert_uint_eq(v[1].kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(v[1].reason, TP_DROP_NOT_TURN);
	ck_assert_uint_eq(v[2].kind, TP_VERDICT_REPLY);
	/* Each reply answers its own request. */
	ck_assert_mem_eq(reply[0] + 8, req[0] + 8, TP_STUN_TID_LEN);
	ck_assert_mem_eq(reply[2] + 8, req[1] + 8, TP_STUN_TID_LEN);
}
END_TEST

START_TEST(stats_names)
{
	ck_assert_str_eq(tp_drop_name(TP_DROP_NO_PERMISSION), "NO_PERMISSION");
	ck_assert_str_eq(tp_drop_name(TP_DROP_UNAUTH_RATE), "UNAUTH_RATE");
	ck_assert_str_eq(tp_drop_name(TP_DROP_COUNT), "UNKNOWN");
	ck_assert_str_eq(tp_drop_desc(TP_DROP_COUNT + 5), "unknown");
	for (unsigned i = 0; i < TP_DROP_COUNT; i++) {
		ck_assert_uint_gt(strlen(tp_drop_name(i)), 0);
		ck_assert_uint_gt(strlen(tp_drop_desc(i)), 0);
		for (unsigned j = 0; j < i; j++)
			ck_assert_str_ne(tp_drop_name(i), tp_drop_name(j));
	}
	ck_assert_str_eq(tp_counter_name(TP_CTR_RELAY_TO_PEER_PKTS), "RELAY_TO_PEER_PKTS");
	ck_assert_str_eq(tp_counter_name(TP_CTR_RETRANSMIT), "RETRANSMIT");
	ck_assert_str_eq(tp_counter_name(TP_CTR_COUNT), "UNKNOWN");
	ck_assert_str_eq(tp_stat_method_name(TP_SM_ALLOCATE), "ALLOCATE");
	ck_assert_str_eq(tp_stat_method_name(TP_SM_CHANNEL_BIND), "CHANNEL_BIND");
	ck_assert_str_eq(tp_stat_method_name(TP_SM_COUNT), "UNKNOWN");
	ck_assert_int_eq(tp_stat_error_code(TP_SE_401), 401);
	ck_assert_int_eq(tp_stat_error_code(TP_SE_437), 437);
	ck_assert_int_eq(tp_stat_error_code(TP_SE_508), 508);
	ck_assert_int_eq(tp_stat_error_code(TP_SE_COUNT), 0);
}
END_TEST

START_TEST(stats_count_methods_and_classes)
{
	const struct tp_stats *st;
	struct tc c;

	tw_start();
	st = tp_engine_stats(W->e[0]);
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(tc_send(&c, &(struct treq){ .method = TP_STUN_BINDING }), 0);
	tc_allocate(&c); /* 401, then success */
	tc_permit(&c, TW_PEER);
	ck_assert_uint_eq(tp_stat_read(&st->requests[TP_SM_BINDING]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->success[TP_SM_BINDING]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->requests[TP_SM_ALLOCATE]), 2);
	ck_assert_uint_eq(tp_stat_read(&st->errors[TP_SM_ALLOCATE]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->success[TP_SM_ALLOCATE]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->error_code[TP_SE_401]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->success[TP_SM_CREATE_PERMISSION]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->ctr[TP_CTR_AUTH_OK]), 2);
	ck_assert_uint_eq(tp_stat_read(&st->ctr[TP_CTR_AUTH_FAIL]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->ctr[TP_CTR_ALLOC_CREATED]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->ctr[TP_CTR_PERM_CREATED]), 1);
	ck_assert_uint_eq(tp_stat_read(&st->ctr[TP_CTR_RX_CLIENT]), 4);
	ck_assert_uint_eq(tp_stat_read(&st->allocations), 1);
}
END_TEST

START_TEST(constructors_check_arguments)
{
	struct tp_engine_params p;
	char err[200];

	tw_start();
	ck_assert_ptr_null(tp_engine_create(W->sh, W->pol, 1, 1, 16, NULL));
	ck_assert_ptr_null(tp_engine_create(W->sh, W->pol, 0, 0, 16, NULL));
	ck_assert_ptr_null(tp_engine_create(W->sh, W->pol, 0, 1, 0, NULL));
	ck_assert_ptr_null(tp_engine_create(NULL, W->pol, 0, 1, 16, NULL));

	p = W->p;
	p.realm = "";
	err[0] = '\0';
	ck_assert_ptr_null(tp_engine_policy_create(&p, err, sizeof(err)));
	ck_assert_uint_gt(strlen(err), 0);
	p = W->p;
	p.relay4.family = 0;
	p.relay6.family = 0;
	ck_assert_ptr_null(tp_engine_policy_create(&p, err, sizeof(err)));
	p = W->p;
	p.port_min = 5000;
	p.port_max = 4000;
	ck_assert_ptr_null(tp_engine_policy_create(&p, err, sizeof(err)));
	p = W->p;
	p.n_users = 0;
	p.rest_secret = NULL;
	ck_assert_ptr_null(tp_engine_policy_create(&p, err, sizeof(err)));
	p = W->p;
	p.max_lifetime = p.default_lifetime - 1;
	ck_assert_ptr_null(tp_engine_policy_create(&p, err, sizeof(err)));
	p = W->p;
	p.deny = W->deny;
	p.n_deny = 1;
	W->deny[0].addr.family = 9; /* not a family */
	ck_assert_ptr_null(tp_engine_policy_create(&p, err, sizeof(err)));
}
END_TEST

TCase *engine_tcase_basic(void)
{
	TCase *tc = tcase_create("basic");

	tcase_add_checked_fixture(tc, tw_setup, tw_teardown);
	tcase_add_test(tc, binding_reflects_the_source);
	tcase_add_test(tc, binding_echoes_fingerprint);
	tcase_add_test(tc, binding_unknown_required_attribute_420);
	tcase_add_test(tc, unknown_method_400);
	tcase_add_test(tc, responses_and_other_indications_dropped);
	tcase_add_test(tc, garbage_is_counted);
	tcase_add_test(tc, bad_descriptors_dropped);
	tcase_add_test(tc, process_decides_a_burst);
	tcase_add_test(tc, stats_names);
	tcase_add_test(tc, stats_count_methods_and_classes);
	tcase_add_test(tc, constructors_check_arguments);
	return tc;
}

int main(void)
{
	Suite *s = suite_create("engine");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, engine_tcase_basic());
	suite_add_tcase(s, engine_tcase_auth());
	suite_add_tcase(s, engine_tcase_alloc());
	suite_add_tcase(s, engine_tcase_lifecycle());
	suite_add_tcase(s, engine_tcase_perm());
	suite_add_tcase(s, engine_tcase_acl());
	suite_add_tcase(s, engine_tcase_relay());
	suite_add_tcase(s, engine_tcase_abuse());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
