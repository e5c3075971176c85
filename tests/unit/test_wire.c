/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wire codec against the RFC 5769 test vectors, plus the first-byte demultiplexer.
 * Malformed-input classes are in test_wire_malformed.c, builder round trips in
 * test_wire_build.c; all three files form one Check suite.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

#include "test_wire.h"
#include "wire_vectors.h"

static void short_term_key(struct tp_hmac_key *k)
{
	ck_assert_int_eq(tp_hmac_key_init(k, TP_DIGEST_SHA1, RFC5769_SHORT_TERM_PASSWORD,
					  strlen(RFC5769_SHORT_TERM_PASSWORD)),
			 0);
}

static void long_term_key(struct tp_hmac_key *k)
{
	uint8_t key[TP_DIGEST_MAX];
	int n = tp_stun_long_term_key(TP_STUN_PWALG_MD5, RFC5769_LONG_TERM_USER,
				      strlen(RFC5769_LONG_TERM_USER), RFC5769_LONG_TERM_REALM,
				      strlen(RFC5769_LONG_TERM_REALM), RFC5769_LONG_TERM_PASS,
				      strlen(RFC5769_LONG_TERM_PASS), key);

	ck_assert_int_eq(n, 16);
	ck_assert_int_eq(tp_hmac_key_init(k, TP_DIGEST_SHA1, key, (size_t)n), 0);
}

/*
 * Flip every byte of @v in turn (one bit pattern per position): wherever the message still
 * parses, integrity and fingerprint must both fail for bytes they both cover, and at least one
 * must fail anywhere.
 */
static void flips_fail(const uint8_t *v, size_t len, const struct tp_hmac_key *k, bool has_fp)
{
	uint8_t buf[256];
	struct tp_stun_msg m;
	size_t covered;

	ck_assert_int_eq(tp_stun_parse(&m, v, len), 0);
	covered = has_fp ? m.fp_off : len;
	ck_assert_uint_le(len, sizeof(buf));
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit += 3) {
			memcpy(buf, v, len);
			buf[i] ^= (uint8_t)(1u << bit);
			if (tp_stun_parse(&m, buf, len) < 0)
				continue;
			if (i < covered) {
				ck_assert_msg(tp_stun_check_integrity(&m, k) < 0,
					      "flip at %zu kept integrity", i);
				if (has_fp)
					ck_assert_msg(tp_stun_check_fingerprint(&m) < 0,
						      "flip at %zu kept fingerprint", i);
			} else {
				ck_assert_msg(tp_stun_check_fingerprint(&m) < 0,
					      "flip at %zu kept fingerprint", i);
			}
		}
	}
}

START_TEST(rfc5769_2_1_sample_request)
{
	struct tp_stun_msg m;
	struct tp_hmac_key k;
	const uint8_t *s;
	size_t n;
	uint32_t prio;

	ck_assert_int_eq(tp_stun_parse(&m, rfc5769_request, sizeof(rfc5769_request)), 0);
	ck_assert_uint_eq(m.method, TP_STUN_BINDING);
	ck_assert_uint_eq(m.cls, TP_STUN_REQUEST);
	ck_assert_uint_eq(m.n_attrs, 6);
	ck_assert_uint_eq(m.n_unknown, 0);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_SOFTWARE, &s, &n), 0);
	ck_assert_uint_eq(n, 16);
	ck_assert_mem_eq(s, "STUN test client", 16);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_USERNAME, &s, &n), 0);
	ck_assert_uint_eq(n, 9);
	ck_assert_mem_eq(s, "evtj:h6vY", 9);
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_PRIORITY, &prio), 0);
	ck_assert_uint_eq(prio, 0x6e0001ffu);

	short_term_key(&k);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k), 0);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
	flips_fail(rfc5769_request, sizeof(rfc5769_request), &k, true);

	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA1, "wrong", 5), 0);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k), -TP_WIRE_EINTEGRITY);
}
END_TEST

START_TEST(rfc5769_2_2_ipv4_response)
{
	static const uint8_t ip[4] = { 192, 0, 2, 1 };
	struct tp_stun_msg m;
	struct tp_hmac_key k;
	struct tp_addr a;

	ck_assert_int_eq(tp_stun_parse(&m, rfc5769_ipv4_response, sizeof(rfc5769_ipv4_response)),
			 0);
	ck_assert_uint_eq(m.method, TP_STUN_BINDING);
	ck_assert_uint_eq(m.cls, TP_STUN_SUCCESS);
	ck_assert_int_eq(tp_stun_get_addr(&m, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &a), 0);
	ck_assert_uint_eq(a.family, TP_AF_INET);
	ck_assert_uint_eq(a.port, 32853);
	ck_assert_mem_eq(a.ip, ip, 4);
	short_term_key(&k);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k), 0);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
	flips_fail(rfc5769_ipv4_response, sizeof(rfc5769_ipv4_response), &k, true);
}
END_TEST

START_TEST(rfc5769_2_3_ipv6_response)
{
	static const uint8_t ip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
					0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
	struct tp_stun_msg m;
	struct tp_hmac_key k;
	struct tp_addr a;

	ck_assert_int_eq(tp_stun_parse(&m, rfc5769_ipv6_response, sizeof(rfc5769_ipv6_response)),
			 0);
	ck_assert_int_eq(tp_stun_get_addr(&m, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &a), 0);
	ck_assert_uint_eq(a.family, TP_AF_INET6);
	ck_assert_uint_eq(a.port, 32853);
	ck_assert_mem_eq(a.ip, ip, 16);
	short_term_key(&k);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k), 0);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
	flips_fail(rfc5769_ipv6_response, sizeof(rfc5769_ipv6_response), &k, true);
}
END_TEST

START_TEST(rfc5769_2_4_long_term)
{
	struct tp_stun_msg m;
	struct tp_hmac_key k;
	const uint8_t *s;
	size_t n;

	ck_assert_int_eq(tp_stun_parse(&m, rfc5769_long_term, sizeof(rfc5769_long_term)), 0);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_USERNAME, &s, &n), 0);
	ck_assert_uint_eq(n, strlen(RFC5769_LONG_TERM_USER));
	ck_assert_mem_eq(s, RFC5769_LONG_TERM_USER, n);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_NONCE, &s, &n), 0);
	ck_assert_mem_eq(s, RFC5769_LONG_TERM_NONCE, n);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_REALM, &s, &n), 0);
	ck_assert_mem_eq(s, RFC5769_LONG_TERM_REALM, n);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), -TP_WIRE_EABSENT);
	long_term_key(&k);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k), 0);
	flips_fail(rfc5769_long_term, sizeof(rfc5769_long_term), &k, false);
}
END_TEST

START_TEST(rfc5769_2_4_rebuilt_byte_exact)
{
	/* §2.4 pads with zeroes, so the builder must reproduce it exactly. */
	struct tp_stun_builder b;
	struct tp_hmac_key k;
	uint8_t out[256];

	long_term_key(&k);
	tp_stun_build_init(&b, out, sizeof(out), TP_STUN_BINDING, TP_STUN_REQUEST,
			   rfc5769_long_term + 8);
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, RFC5769_LONG_TERM_USER,
			   strlen(RFC5769_LONG_TERM_USER));
	tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, RFC5769_LONG_TERM_NONCE,
			   strlen(RFC5769_LONG_TERM_NONCE));
	tp_stun_add_string(&b, TP_STUN_ATTR_REALM, RFC5769_LONG_TERM_REALM,
			   strlen(RFC5769_LONG_TERM_REALM));
	tp_stun_add_integrity(&b, &k);
	ck_assert_int_eq(tp_stun_build_finish(&b), (int)sizeof(rfc5769_long_term));
	ck_assert_mem_eq(out, rfc5769_long_term, sizeof(rfc5769_long_term));
}
END_TEST

START_TEST(classify_first_byte)
{
	uint8_t b[1];

	for (unsigned v = 0; v < 256; v++) {
		enum tp_wire_kind want = v <= 3		       ? TP_WIRE_KIND_STUN
					 : v >= 64 && v <= 127 ? TP_WIRE_KIND_CHANNEL
							       : TP_WIRE_KIND_OTHER;

		b[0] = (uint8_t)v;
		ck_assert_int_eq(tp_wire_classify(b, 1), want);
	}
	ck_assert_int_eq(tp_wire_classify(b, 0), TP_WIRE_KIND_OTHER);
}
END_TEST

START_TEST(type_encoding)
{
	/* RFC 8489 §5 / RFC 8656 §17 message types. */
	ck_assert_uint_eq(tp_stun_type(TP_STUN_BINDING, TP_STUN_REQUEST), 0x0001);
	ck_assert_uint_eq(tp_stun_type(TP_STUN_BINDING, TP_STUN_SUCCESS), 0x0101);
	ck_assert_uint_eq(tp_stun_type(TP_STUN_ALLOCATE, TP_STUN_ERROR), 0x0113);
	ck_assert_uint_eq(tp_stun_type(TP_STUN_SEND, TP_STUN_INDICATION), 0x0016);
	ck_assert_uint_eq(tp_stun_type(TP_STUN_DATA, TP_STUN_INDICATION), 0x0017);
	ck_assert_uint_eq(tp_stun_type(TP_STUN_CHANNEL_BIND, TP_STUN_SUCCESS), 0x0109);
	for (unsigned meth = 0; meth < 0x1000; meth += 7) {
		for (unsigned c = 0; c < 4; c++) {
			uint16_t cls = (uint16_t)((c & 1) << 4 | (c & 2) << 7);
			uint16_t t = tp_stun_type((uint16_t)meth, cls);

			ck_assert_uint_eq(t & 0xc000, 0);
			ck_assert_uint_eq(tp_stun_type_method(t), meth);
			ck_assert_uint_eq(tp_stun_type_class(t), cls);
		}
	}
}
END_TEST

START_TEST(error_names)
{
	ck_assert_str_eq(tp_wire_strerror(-TP_WIRE_ECOOKIE), "wrong magic cookie");
	ck_assert_str_eq(tp_wire_errname(TP_WIRE_ECOOKIE), "COOKIE");
	ck_assert_str_eq(tp_wire_strerror(9999), "unknown codec error");
	ck_assert_str_eq(tp_stun_attr_name(TP_STUN_ATTR_XOR_PEER_ADDRESS), "XOR-PEER-ADDRESS");
	ck_assert_ptr_null(tp_stun_attr_name(0x7777));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("rfc5769");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, rfc5769_2_1_sample_request);
	tcase_add_test(tc, rfc5769_2_2_ipv4_response);
	tcase_add_test(tc, rfc5769_2_3_ipv6_response);
	tcase_add_test(tc, rfc5769_2_4_long_term);
	tcase_add_test(tc, rfc5769_2_4_rebuilt_byte_exact);
	suite_add_tcase(s, tc);
	tc = tcase_create("basics");
	tcase_add_test(tc, classify_first_byte);
	tcase_add_test(tc, type_encoding);
	tcase_add_test(tc, error_names);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, wire_malformed_tcase());
	suite_add_tcase(s, wire_build_tcase());

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
