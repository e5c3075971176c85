/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Known-answer tests for the crypto interface (RFC 1321, FIPS 180, RFC 2202, RFC 4231,
 * RFC 4648 and the CRC-32 check value).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/crypto.h>

static void hex(const char *s, uint8_t *out, size_t *n)
{
	size_t i = 0;

	while (s[0] && s[1]) {
		char b[3] = { s[0], s[1], 0 };

		out[i++] = (uint8_t)strtoul(b, NULL, 16);
		s += 2;
	}
	*n = i;
}

static void expect_hex(const uint8_t *got, const char *want)
{
	uint8_t w[64];
	size_t n;

	hex(want, w, &n);
	ck_assert_mem_eq(got, w, n);
}

static uint8_t out[TP_DIGEST_MAX];

static void digest1(enum tp_digest d, const char *s)
{
	struct tp_chunk c = { s, strlen(s) };

	ck_assert_int_eq(tp_digest(d, &c, 1, out), 0);
}

START_TEST(digests_known_answers)
{
	digest1(TP_DIGEST_MD5, "abc");
	expect_hex(out, "900150983cd24fb0d6963f7d28e17f72");
	digest1(TP_DIGEST_SHA1, "abc");
	expect_hex(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
	digest1(TP_DIGEST_SHA256, "abc");
	expect_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest1(TP_DIGEST_SHA256, "");
	expect_hex(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_uint_eq(tp_digest_len(TP_DIGEST_MD5), 16);
	ck_assert_uint_eq(tp_digest_len(TP_DIGEST_SHA1), 20);
	ck_assert_uint_eq(tp_digest_len(TP_DIGEST_SHA256), 32);
	ck_assert_uint_eq(tp_digest_len((enum tp_digest)99), 0);
	{
		struct tp_chunk c = { "abc", 3 };

		ck_assert_int_lt(tp_digest((enum tp_digest)99, &c, 1, out), 0);
	}
}
END_TEST

START_TEST(digest_over_chunks_equals_digest_of_concatenation)
{
	struct tp_chunk parts[3] = { { "a", 1 }, { "", 0 }, { "bc", 2 } };

	ck_assert_int_eq(tp_digest(TP_DIGEST_SHA256, parts, 3, out), 0);
	expect_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(hmac_rfc2202_and_rfc4231)
{
	uint8_t key[131];
	struct tp_hmac_key k;
	struct tp_chunk c;

	/* RFC 2202 test case 2: key "Jefe". */
	c.base = "what do ya want for nothing?";
	c.len = 28;
	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA1, "Jefe", 4), 0);
	ck_assert_int_eq(tp_hmac(&k, &c, 1, out), 0);
	expect_hex(out, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	/* The same key reused gives the same MAC: precomputation keeps no per-call state. */
	ck_assert_int_eq(tp_hmac(&k, &c, 1, out), 0);
	expect_hex(out, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");

	/* RFC 4231 test case 2. */
	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA256, "Jefe", 4), 0);
	ck_assert_int_eq(tp_hmac(&k, &c, 1, out), 0);
	expect_hex(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	/* RFC 4231 test case 6: a 131-byte key, longer than a block, is hashed first. */
	memset(key, 0xaa, sizeof(key));
	c.base = "Test Using Larger Than Block-Size Key - Hash Key First";
	c.len = 54;
	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA256, key, sizeof(key)), 0);
	ck_assert_int_eq(tp_hmac(&k, &c, 1, out), 0);
	expect_hex(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

	/* RFC 2202 test case 6: the same for SHA-1 with an 80-byte key. */
	c.base = "Test Using Larger Than Block-Size Key - Hash Key First";
	ck_assert_int_eq(tp_hmac_once(TP_DIGEST_SHA1, key, 80, c.base, c.len, out), 0);
	expect_hex(out, "aa4ae5e15272d00e95705637ce8a3b55ed402112");

	ck_assert_int_lt(tp_hmac_key_init(&k, (enum tp_digest)0, "k", 1), 0);
	tp_hmac_key_wipe(&k);
	ck_assert_uint_eq(k.digest, 0);
}
END_TEST

START_TEST(crc32_check_value)
{
	/* The CRC-32/ISO-HDLC check value. */
	ck_assert_uint_eq(tp_crc32(0, "123456789", 9), 0xcbf43926u);
	/* Incremental == one shot. */
	ck_assert_uint_eq(tp_crc32(tp_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	ck_assert_uint_eq(tp_crc32(0, "", 0), 0);
}
END_TEST

START_TEST(constant_time_compare)
{
	ck_assert_int_eq(tp_memeq_ct("abcd", "abcd", 4), 1);
	ck_assert_int_eq(tp_memeq_ct("abcd", "abce", 4), 0);
	ck_assert_int_eq(tp_memeq_ct("xbcd", "abcd", 4), 0);
	ck_assert_int_eq(tp_memeq_ct("", "", 0), 1);
}
END_TEST

START_TEST(base64_rfc4648)
{
	static const char *const want[] = { "",		"Zg==",	    "Zm8=",    "Zm9v",
					    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char buf[16];

	for (size_t n = 0; n <= 6; n++) {
		ck_assert_int_eq(tp_base64_encode("foobar", n, buf, sizeof(buf)),
				 (int)strlen(want[n]));
		ck_assert_str_eq(buf, want[n]);
	}
	ck_assert_int_lt(tp_base64_encode("foobar", 6, buf, 8), 0);
	ck_assert_int_eq(tp_base64_encode("foobar", 6, buf, 9), 8);
}
END_TEST

START_TEST(random_bytes_differ)
{
	uint8_t a[32], b[32];

	ck_assert_int_eq(tp_random_bytes(a, sizeof(a)), 0);
	ck_assert_int_eq(tp_random_bytes(b, sizeof(b)), 0);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, digests_known_answers);
	tcase_add_test(tc, digest_over_chunks_equals_digest_of_concatenation);
	tcase_add_test(tc, hmac_rfc2202_and_rfc4231);
	tcase_add_test(tc, crc32_check_value);
	tcase_add_test(tc, constant_time_compare);
	tcase_add_test(tc, base64_rfc4648);
	tcase_add_test(tc, random_bytes_differ);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(crypto_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
