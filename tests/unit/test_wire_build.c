/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builder round trips: every attribute stun_build.h can write is parsed back and read through
 * its typed accessor; padding is zero; the three integrity mechanisms verify (and are checked
 * against MACs and CRCs computed here, independently of stun_auth.c); the builder's sticky
 * errors; the zero-copy Data-indication head; ChannelData headers; USERHASH.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>
#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

#include "test_wire.h"

static const uint8_t test_tid[TP_STUN_TID_LEN] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
						   0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98 };

static const uint8_t ip4_a[4] = { 192, 0, 2, 1 };
static const uint8_t ip4_b[4] = { 203, 0, 113, 254 };
static const uint8_t ip6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
				   0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
static const uint8_t ip6_b[16] = {
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1
};

/* Source bytes for values longer than any buffer under test (so a regression cannot over-read). */
static const uint8_t zeros[2048];

/* RFC 5769 §2.1's short-term password. */
#define SHORT_TERM_PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"

static void addr4(struct tp_addr *a, const uint8_t ip[4], uint16_t port)
{
	tp_addr_set4(a, ip, port);
}

static void addr6(struct tp_addr *a, const uint8_t ip[16], uint16_t port)
{
	tp_addr_set6(a, ip, port);
}

static int finish(const struct tp_stun_builder *b)
{
	int n = tp_stun_build_finish(b);

	ck_assert_msg(n > 0, "builder failed: %s", tp_wire_strerror(n));
	return n;
}

/* Parse a builder's output and check the header fields it was given. */
static void parse_built(struct tp_stun_msg *m, const uint8_t *buf, int len, uint16_t method,
			uint16_t cls)
{
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(tp_stun_parse(m, buf, (size_t)len), 0);
	ck_assert_uint_eq(m->len, (unsigned)len);
	ck_assert_uint_eq(m->method, method);
	ck_assert_uint_eq(m->cls, cls);
	ck_assert_mem_eq(tp_stun_tid(m), test_tid, TP_STUN_TID_LEN);
}

static void check_string(const struct tp_stun_msg *m, uint16_t type, const void *want, size_t n)
{
	const uint8_t *s;
	size_t len;

	ck_assert_int_eq(tp_stun_get_string(m, type, &s, &len), 0);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(s, want, n);
}

static void check_addr(const struct tp_stun_msg *m, uint16_t type, const struct tp_addr *want)
{
	struct tp_addr a;

	ck_assert_int_eq(tp_stun_get_addr(m, type, &a), 0);
	ck_assert_uint_eq(a.family, want->family);
	ck_assert_uint_eq(a.port, want->port);
	ck_assert_mem_eq(a.ip, want->ip, sizeof(a.ip));
	ck_assert(tp_addr_eq(&a, want));
}

/* ---- Every attribute in one message ---- */

START_TEST(roundtrip_every_attribute)
{
	static const uint16_t unknown[] = { 0x0030, 0x0031, 0x7fff };
	static const uint16_t algs_in[] = { TP_STUN_PWALG_SHA256, TP_STUN_PWALG_MD5 };
	static const uint8_t payload[7] = { 0, 1, 2, 0xfd, 0xfe, 0xff, 7 };
	struct tp_addr mapped, peer, relayed, plain, alternate;
	uint8_t buf[1024], hash[TP_STUN_USERHASH_LEN];
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	struct tp_hmac_key k;
	const uint8_t *p;
	size_t n;
	uint16_t types[4], algs[4], u16;
	uint8_t u8, code8;
	uint32_t u32;
	uint64_t token;
	bool reserve;
	int code;

	addr4(&mapped, ip4_a, 32853);
	addr6(&peer, ip6_a, 49152);
	addr4(&relayed, ip4_b, 50000);
	addr6(&plain, ip6_b, 3478);
	addr4(&alternate, ip4_b, 5349);
	ck_assert_int_eq(tp_stun_userhash("alice", 5, "example.org", 11, hash), 0);
	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA1, SHORT_TERM_PASSWORD,
					  strlen(SHORT_TERM_PASSWORD)),
			 0);

	memset(buf, 0xaa, sizeof(buf));
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
	tp_stun_add_addr(&b, TP_STUN_ATTR_MAPPED_ADDRESS, &plain);
	tp_stun_add_addr(&b, TP_STUN_ATTR_ALTERNATE_SERVER, &alternate);
	tp_stun_add_error(&b, 438, "Stale Nonce");
	tp_stun_add_unknown(&b, unknown, 3);
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, "alice", 5);
	tp_stun_add(&b, TP_STUN_ATTR_USERHASH, hash, sizeof(hash));
	tp_stun_add_string(&b, TP_STUN_ATTR_REALM, "example.org", 11);
	tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, "f//499k954d6OL34oL9FSTvy64sA", 28);
	tp_stun_add_password_algorithms(&b, algs_in, 2);
	tp_stun_add_password_algorithm(&b, TP_STUN_PWALG_SHA256);
	tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 3600);
	tp_stun_add_transport(&b, TP_STUN_TRANSPORT_UDP);
	tp_stun_add_family(&b, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, TP_AF_INET6);
	tp_stun_add_family(&b, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, TP_AF_INET6);
	tp_stun_add_address_error(&b, TP_AF_INET6, 440, "Address Family not Supported");
	tp_stun_add_even_port(&b, true);
	tp_stun_add_reservation_token(&b, 0x0123456789abcdefull);
	tp_stun_add(&b, TP_STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	tp_stun_add_channel(&b, 0x4abc);
	tp_stun_add(&b, TP_STUN_ATTR_DATA, payload, sizeof(payload));
	tp_stun_add_icmp(&b, 3, 4, 0xdeadbeef);
	tp_stun_add_string(&b, TP_STUN_ATTR_SOFTWARE, "turnpike 0.1", 12);
	tp_stun_add_string(&b, TP_STUN_ATTR_ALTERNATE_DOMAIN, "turn.example.net", 16);
	tp_stun_add_integrity(&b, &k);
	tp_stun_add_fingerprint(&b);
	parse_built(&m, buf, finish(&b), TP_STUN_ALLOCATE, TP_STUN_ERROR);
	ck_assert_uint_eq(m.n_attrs, 28);
	ck_assert_uint_eq(m.n_unknown, 0);
	ck_assert_uint_eq(buf[m.len], 0xaa); /* nothing written past the end */

	check_addr(&m, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
	check_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	check_addr(&m, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
	check_addr(&m, TP_STUN_ATTR_MAPPED_ADDRESS, &plain);
	check_addr(&m, TP_STUN_ATTR_ALTERNATE_SERVER, &alternate);
	ck_assert_int_eq(tp_stun_get_error(&m, &code, &p, &n), 0);
	ck_assert_int_eq(code, 438);
	ck_assert_uint_eq(n, 11);
	ck_assert_mem_eq(p, "Stale Nonce", 11);
	ck_assert_int_eq(tp_stun_get_unknown(&m, types, 4, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(types, unknown, sizeof(unknown));
	check_string(&m, TP_STUN_ATTR_USERNAME, "alice", 5);
	ck_assert_int_eq(tp_stun_get_userhash(&m, &p), 0);
	ck_assert_mem_eq(p, hash, sizeof(hash));
	check_string(&m, TP_STUN_ATTR_REALM, "example.org", 11);
	check_string(&m, TP_STUN_ATTR_NONCE, "f//499k954d6OL34oL9FSTvy64sA", 28);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 4, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(algs[0], TP_STUN_PWALG_SHA256);
	ck_assert_uint_eq(algs[1], TP_STUN_PWALG_MD5);
	ck_assert_int_eq(tp_stun_get_password_algorithm(&m, &u16), 0);
	ck_assert_uint_eq(u16, TP_STUN_PWALG_SHA256);
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &u32), 0);
	ck_assert_uint_eq(u32, 3600);
	ck_assert_int_eq(tp_stun_get_transport(&m, &u8), 0);
	ck_assert_uint_eq(u8, TP_STUN_TRANSPORT_UDP);
	ck_assert_int_eq(tp_stun_get_family(&m, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &u8), 0);
	ck_assert_uint_eq(u8, TP_AF_INET6);
	ck_assert_int_eq(tp_stun_get_family(&m, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8), 0);
	ck_assert_uint_eq(u8, TP_AF_INET6);
	ck_assert_int_eq(tp_stun_get_address_error(&m, &u8, &code, &p, &n), 0);
	ck_assert_uint_eq(u8, TP_AF_INET6);
	ck_assert_int_eq(code, 440);
	ck_assert_uint_eq(n, 28);
	ck_assert_mem_eq(p, "Address Family not Supported", 28);
	ck_assert_int_eq(tp_stun_get_even_port(&m, &reserve), 0);
	ck_assert(reserve);
	ck_assert_int_eq(tp_stun_get_reservation_token(&m, &token), 0);
	ck_assert(token == 0x0123456789abcdefull);
	ck_assert(tp_stun_has(&m, TP_STUN_ATTR_DONT_FRAGMENT));
	ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_DONT_FRAGMENT).len, 0);
	ck_assert_int_eq(tp_stun_get_channel(&m, &u16), 0);
	ck_assert_uint_eq(u16, 0x4abc);
	ck_assert_int_eq(tp_stun_get_data(&m, &p, &n), 0);
	ck_assert_uint_eq(n, sizeof(payload));
	ck_assert_mem_eq(p, payload, sizeof(payload));
	ck_assert_int_eq(tp_stun_get_icmp(&m, &u8, &code8, &u32), 0);
	ck_assert_uint_eq(u8, 3);
	ck_assert_uint_eq(code8, 4);
	ck_assert_uint_eq(u32, 0xdeadbeef);
	check_string(&m, TP_STUN_ATTR_SOFTWARE, "turnpike 0.1", 12);
	check_string(&m, TP_STUN_ATTR_ALTERNATE_DOMAIN, "turn.example.net", 16);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k), 0);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
}
END_TEST

/* ---- Addresses ---- */

static const uint16_t addr_types[] = {
	TP_STUN_ATTR_XOR_MAPPED_ADDRESS,  TP_STUN_ATTR_XOR_PEER_ADDRESS,
	TP_STUN_ATTR_XOR_RELAYED_ADDRESS, TP_STUN_ATTR_MAPPED_ADDRESS,
	TP_STUN_ATTR_ALTERNATE_SERVER,	  TP_STUN_ATTR_RESPONSE_ORIGIN,
	TP_STUN_ATTR_OTHER_ADDRESS,
};

/* Every address attribute holding @a: read back, and encoded as RFC 8489 §14.1/§14.2 say. */
static void roundtrip_address(const struct tp_addr *a)
{
	unsigned iplen = tp_addr_iplen(a);
	uint8_t buf[64], mask[16];

	tp_put_be32(mask, TP_STUN_MAGIC_COOKIE);
	memcpy(mask + 4, test_tid, TP_STUN_TID_LEN);
	for (size_t t = 0; t < sizeof(addr_types) / sizeof(addr_types[0]); t++) {
		bool xor = t < 3;
		struct tp_stun_builder b;
		struct tp_stun_msg m;
		const uint8_t *v;

		memset(buf, 0xaa, sizeof(buf));
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_BINDING, TP_STUN_SUCCESS,
				   test_tid);
		tp_stun_add_addr(&b, addr_types[t], a);
		parse_built(&m, buf, finish(&b), TP_STUN_BINDING, TP_STUN_SUCCESS);
		check_addr(&m, addr_types[t], a);

		ck_assert_uint_eq(tp_stun_find(&m, addr_types[t]).len, 4 + iplen);
		v = tp_stun_value(&m, tp_stun_find(&m, addr_types[t]));
		ck_assert_uint_eq(v[0], 0);
		ck_assert_uint_eq(v[1], a->family);
		ck_assert_uint_eq(tp_get_be16(v + 2),
				  xor? a->port ^ (TP_STUN_MAGIC_COOKIE >> 16) : a->port);
		for (unsigned i = 0; i < iplen; i++)
			ck_assert_uint_eq(v[4 + i], xor? a->ip[i] ^ mask[i] : a->ip[i]);
	}
}

START_TEST(roundtrip_addresses_ipv4)
{
	static const uint16_t ports[] = { 1, 3478, 0x2112, 0xdead, 65535 };
	static const uint8_t zero[4] = { 0 }, ones[4] = { 255, 255, 255, 255 };
	struct tp_addr a;

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		addr4(&a, ip4_a, ports[i]);
		roundtrip_address(&a);
		addr4(&a, ip4_b, ports[i]);
		roundtrip_address(&a);
		addr4(&a, zero, ports[i]);
		roundtrip_address(&a);
		addr4(&a, ones, ports[i]);
		roundtrip_address(&a);
	}
}
END_TEST

START_TEST(roundtrip_addresses_ipv6)
{
	static const uint16_t ports[] = { 1, 3478, 0x2112, 0xdead, 65535 };
	static const uint8_t loopback[16] = { [15] = 1 };
	struct tp_addr a;

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		addr6(&a, ip6_a, ports[i]);
		roundtrip_address(&a);
		addr6(&a, ip6_b, ports[i]);
		roundtrip_address(&a);
		addr6(&a, loopback, ports[i]);
		roundtrip_address(&a);
	}
}
END_TEST

/* ---- Error codes, lists, strings ---- */

START_TEST(roundtrip_error_code)
{
	static const int codes[] = { 300, 400, 401, 420, 437, 438, 441, 486, 500, 508, 699 };
	uint8_t buf[128];
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	const uint8_t *reason;
	size_t rlen;
	int code;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		/* With a reason. */
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
		tp_stun_add_error(&b, codes[i], "Some reason");
		parse_built(&m, buf, finish(&b), TP_STUN_ALLOCATE, TP_STUN_ERROR);
		ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_ERROR_CODE).len, 4 + 11);
		ck_assert_int_eq(tp_stun_get_error(&m, &code, &reason, &rlen), 0);
		ck_assert_int_eq(code, codes[i]);
		ck_assert_uint_eq(rlen, 11);
		ck_assert_mem_eq(reason, "Some reason", 11);
		code = 0;
		ck_assert_int_eq(tp_stun_get_error(&m, &code, NULL, NULL), 0);
		ck_assert_int_eq(code, codes[i]);
		/* Without one: NULL and "". */
		for (int empty = 0; empty < 2; empty++) {
			tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR,
					   test_tid);
			tp_stun_add_error(&b, codes[i], empty ? "" : NULL);
			parse_built(&m, buf, finish(&b), TP_STUN_ALLOCATE, TP_STUN_ERROR);
			ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_ERROR_CODE).len, 4);
			ck_assert_int_eq(tp_stun_get_error(&m, &code, &reason, &rlen), 0);
			ck_assert_int_eq(code, codes[i]);
			ck_assert_uint_eq(rlen, 0);
		}
		/* ADDRESS-ERROR-CODE shares the layout, after a family byte. */
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
		tp_stun_add_address_error(&b, TP_AF_INET, codes[i], NULL);
		parse_built(&m, buf, finish(&b), TP_STUN_ALLOCATE, TP_STUN_ERROR);
		{
			uint8_t family = 0;

			ck_assert_int_eq(
				tp_stun_get_address_error(&m, &family, &code, &reason, &rlen), 0);
			ck_assert_uint_eq(family, TP_AF_INET);
			ck_assert_int_eq(code, codes[i]);
			ck_assert_uint_eq(rlen, 0);
		}
	}
}
END_TEST

START_TEST(roundtrip_unknown_attributes)
{
	static const uint16_t types[] = { 0x0030, 0x7fff, 0x0002, 0x0031, 0x0040 };
	uint8_t buf[128];
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	uint16_t got[8];
	uint32_t v;
	size_t n;

	for (size_t count = 0; count <= 5; count++) {
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
		tp_stun_add_error(&b, 420, "Unknown Attribute");
		tp_stun_add_unknown(&b, types, count);
		tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 1); /* after the padding */
		parse_built(&m, buf, finish(&b), TP_STUN_ALLOCATE, TP_STUN_ERROR);
		memset(got, 0xee, sizeof(got));
		ck_assert_int_eq(tp_stun_get_unknown(&m, got, 8, &n), 0);
		ck_assert_uint_eq(n, count);
		for (size_t i = 0; i < count; i++)
			ck_assert_uint_eq(got[i], types[i]);
		ck_assert_uint_eq(got[count], 0xeeee);
		/* A small array: the total still comes back, nothing written past the cap. */
		memset(got, 0xee, sizeof(got));
		ck_assert_int_eq(tp_stun_get_unknown(&m, got, 1, &n), 0);
		ck_assert_uint_eq(n, count);
		ck_assert_uint_eq(got[1], 0xeeee);
		ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), 0);
		ck_assert_uint_eq(v, 1);
	}
}
END_TEST

START_TEST(roundtrip_strings_all_lengths)
{
	static const struct {
		uint16_t type;
		size_t max;
	} strings[] = {
		{ TP_STUN_ATTR_USERNAME, TP_STUN_USERNAME_MAX },
		{ TP_STUN_ATTR_REALM, TP_STUN_REALM_MAX },
		{ TP_STUN_ATTR_NONCE, TP_STUN_NONCE_MAX },
		{ TP_STUN_ATTR_SOFTWARE, TP_STUN_SOFTWARE_MAX },
		{ TP_STUN_ATTR_ALTERNATE_DOMAIN, TP_STUN_DOMAIN_MAX },
	};
	static uint8_t buf[1024];
	char s[TP_STUN_REALM_MAX];
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	uint32_t v;

	for (size_t i = 0; i < sizeof(s); i++)
		s[i] = (char)('!' + i % 90);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		for (size_t len = 1; len <= strings[i].max; len++) {
			/* Every short length (padding), then the last few up to the limit. */
			if (len > 9 && len < strings[i].max - 3)
				continue;
			tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_REQUEST,
					   test_tid);
			tp_stun_add_string(&b, strings[i].type, s, len);
			tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, (uint32_t)len);
			parse_built(&m, buf, finish(&b), TP_STUN_ALLOCATE, TP_STUN_REQUEST);
			check_string(&m, strings[i].type, s, len);
			ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), 0);
			ck_assert_uint_eq(v, len);
		}
	}
	/* SOFTWARE may be empty. */
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_BINDING, TP_STUN_REQUEST, test_tid);
	tp_stun_add_string(&b, TP_STUN_ATTR_SOFTWARE, "", 0);
	parse_built(&m, buf, finish(&b), TP_STUN_BINDING, TP_STUN_REQUEST);
	check_string(&m, TP_STUN_ATTR_SOFTWARE, "", 0);
}
END_TEST

START_TEST(roundtrip_userhash)
{
	/* RFC 8489 Appendix B.1: USERHASH of "<U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9>"
	 * (UTF-8) and realm "example.org". */
	static const uint8_t user[] = { 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa,
					0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9 };
	static const uint8_t want[TP_STUN_USERHASH_LEN] = {
		0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69, 0x92, 0xbd, 0xa9, 0x52, 0xc6,
		0x78, 0x04, 0x17, 0xda, 0x0f, 0x24, 0x81, 0x94, 0x15, 0x56, 0x9e,
		0x60, 0xb2, 0x05, 0xc4, 0x6e, 0x41, 0x40, 0x7f, 0x17, 0x04,
	};
	uint8_t hash[TP_STUN_USERHASH_LEN], buf[128];
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	const uint8_t *p;

	ck_assert_int_eq(tp_stun_userhash(user, sizeof(user), "example.org", 11, hash), 0);
	ck_assert_mem_eq(hash, want, sizeof(want));
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_BINDING, TP_STUN_REQUEST, test_tid);
	tp_stun_add(&b, TP_STUN_ATTR_USERHASH, hash, sizeof(hash));
	parse_built(&m, buf, finish(&b), TP_STUN_BINDING, TP_STUN_REQUEST);
	ck_assert_int_eq(tp_stun_get_userhash(&m, &p), 0);
	ck_assert_mem_eq(p, want, sizeof(want));
}
END_TEST

START_TEST(roundtrip_password_algorithms)
{
	static const uint16_t algs_in[] = { TP_STUN_PWALG_MD5, TP_STUN_PWALG_SHA256, 0x7777 };
	uint8_t buf[128];
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	uint16_t algs[4], alg;
	size_t n;

	for (size_t count = 1; count <= 3; count++) {
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
		tp_stun_add_password_algorithms(&b, algs_in, count);
		tp_stun_add_password_algorithm(&b, algs_in[count - 1]);
		parse_built(&m, buf, finish(&b), TP_STUN_ALLOCATE, TP_STUN_ERROR);
		ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_PASSWORD_ALGORITHMS).len,
				  4 * count);
		ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 4, &n), 0);
		ck_assert_uint_eq(n, count);
		ck_assert_mem_eq(algs, algs_in, count * sizeof(algs[0]));
		ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 1, &n), 0);
		ck_assert_uint_eq(n, count);
		ck_assert_int_eq(tp_stun_get_password_algorithm(&m, &alg), 0);
		ck_assert_uint_eq(alg, algs_in[count - 1]);
	}
}
END_TEST

/* ---- TURN's small fixed-size attributes ---- */

START_TEST(roundtrip_turn_fixed_attributes)
{
	static const uint64_t tokens[] = { 0, 1, 0x8000000000000000ull, 0xffffffffffffffffull };
	static const uint16_t channels[] = { 0x4000, 0x4001, 0x4fff, 0x3fff, 0x5000 };
	uint8_t buf[256];
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	uint64_t token;
	uint32_t u32;
	uint16_t ch;
	uint8_t u8, c8;
	bool reserve;

	for (int r = 0; r < 2; r++) {
		for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
			tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_REQUEST,
					   test_tid);
			tp_stun_add_even_port(&b, r != 0);
			tp_stun_add_reservation_token(&b, tokens[i]);
			tp_stun_add_transport(&b, (uint8_t)(6 + 11 * r));
			tp_stun_add_family(&b, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
					   r ? TP_AF_INET6 : TP_AF_INET);
			tp_stun_add_family(&b, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, 0x03);
			tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, r ? 0xffffffffu : 0);
			tp_stun_add_icmp(&b, (uint8_t)(r * 255), (uint8_t)(1 + r), (uint32_t)i);
			tp_stun_add(&b, TP_STUN_ATTR_DONT_FRAGMENT, NULL, 0);
			parse_built(&m, buf, finish(&b), TP_STUN_ALLOCATE, TP_STUN_REQUEST);
			ck_assert_int_eq(tp_stun_get_even_port(&m, &reserve), 0);
			ck_assert(reserve == (r != 0));
			ck_assert_int_eq(tp_stun_get_reservation_token(&m, &token), 0);
			ck_assert(token == tokens[i]);
			ck_assert_int_eq(tp_stun_get_transport(&m, &u8), 0);
			ck_assert_uint_eq(u8, 6 + 11 * r);
			ck_assert_int_eq(
				tp_stun_get_family(&m, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &u8),
				0);
			ck_assert_uint_eq(u8, r ? TP_AF_INET6 : TP_AF_INET);
			/* Returned as sent, for the engine to answer 440. */
			ck_assert_int_eq(
				tp_stun_get_family(&m, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8),
				0);
			ck_assert_uint_eq(u8, 0x03);
			ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &u32), 0);
			ck_assert_uint_eq(u32, r ? 0xffffffffu : 0);
			ck_assert_int_eq(tp_stun_get_icmp(&m, &u8, &c8, &u32), 0);
			ck_assert_uint_eq(u8, r * 255);
			ck_assert_uint_eq(c8, 1 + r);
			ck_assert_uint_eq(u32, i);
			ck_assert(tp_stun_has(&m, TP_STUN_ATTR_DONT_FRAGMENT));
		}
	}
	/* CHANNEL-NUMBER round-trips any value; the range is the engine's to check. */
	for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_CHANNEL_BIND, TP_STUN_REQUEST,
				   test_tid);
		tp_stun_add_channel(&b, channels[i]);
		parse_built(&m, buf, finish(&b), TP_STUN_CHANNEL_BIND, TP_STUN_REQUEST);
		ck_assert_int_eq(tp_stun_get_channel(&m, &ch), 0);
		ck_assert_uint_eq(ch, channels[i]);
	}
	/* The method and class bits survive every combination. */
	tp_stun_build_init(&b, buf, sizeof(buf), 0x0fff, TP_STUN_ERROR, test_tid);
	parse_built(&m, buf, finish(&b), 0x0fff, TP_STUN_ERROR);
}
END_TEST

START_TEST(roundtrip_data_lengths_0_to_7)
{
	uint8_t buf[128], payload[8];
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	const uint8_t *p;
	size_t n;
	uint32_t v;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0xf0 + i);
	for (size_t len = 0; len < 8; len++) {
		size_t padded = (len + 3) / 4 * 4;

		memset(buf, 0xaa, sizeof(buf));
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_SEND, TP_STUN_INDICATION,
				   test_tid);
		tp_stun_add(&b, TP_STUN_ATTR_DATA, payload, len);
		tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 0x11223344);
		ck_assert_int_eq(tp_stun_build_finish(&b), (int)(TP_STUN_HDR_LEN + 4 + padded + 8));
		parse_built(&m, buf, finish(&b), TP_STUN_SEND, TP_STUN_INDICATION);
		ck_assert_int_eq(tp_stun_get_data(&m, &p, &n), 0);
		ck_assert_uint_eq(n, len);
		ck_assert_mem_eq(p, payload, len);
		for (size_t i = len; i < padded; i++)
			ck_assert_uint_eq(p[i], 0);
		ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), 0);
		ck_assert_uint_eq(v, 0x11223344);
	}
}
END_TEST

/*
 * Walk the attributes of a message and check every padding byte is zero. Returns the number of
 * attributes.
 */
static unsigned check_padding_zero(const uint8_t *msg, size_t len)
{
	unsigned n = 0;

	for (size_t off = TP_STUN_HDR_LEN; off < len; n++) {
		size_t alen = tp_get_be16(msg + off + 2);
		size_t padded = (alen + 3) / 4 * 4;

		ck_assert_uint_le(off + 4 + padded, len);
		for (size_t i = alen; i < padded; i++)
			ck_assert_msg(msg[off + 4 + i] == 0, "padding byte %zu of 0x%04x is 0x%02x",
				      i - alen, (unsigned)tp_get_be16(msg + off), msg[off + 4 + i]);
		off += 4 + padded;
	}
	return n;
}

START_TEST(padding_bytes_are_zero)
{
	static const uint16_t one_type[] = { 0x0030 };
	static const uint16_t three_types[] = { 0x0030, 0x0031, 0x0032 };
	uint8_t buf[512];
	struct tp_stun_builder b;
	struct tp_addr a;
	uint8_t *space;
	int len;

	addr4(&a, ip4_a, 1234);
	memset(buf, 0xaa, sizeof(buf));
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, "abcde", 5);
	tp_stun_add_string(&b, TP_STUN_ATTR_REALM, "ab", 2);
	tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, "abc", 3);
	tp_stun_add_string(&b, TP_STUN_ATTR_SOFTWARE, "x", 1);
	tp_stun_add_string(&b, TP_STUN_ATTR_ALTERNATE_DOMAIN, "a.example", 9);
	tp_stun_add(&b, TP_STUN_ATTR_DATA, "d", 1);
	tp_stun_add(&b, 0x8123, NULL, 6); /* NULL value: zeroes */
	tp_stun_add_error(&b, 401, "U");
	tp_stun_add_address_error(&b, TP_AF_INET6, 440, "Fam");
	tp_stun_add_unknown(&b, one_type, 1);
	tp_stun_add_unknown(&b, three_types, 3);
	tp_stun_add_even_port(&b, true);
	tp_stun_add_transport(&b, TP_STUN_TRANSPORT_UDP);
	tp_stun_add_family(&b, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, TP_AF_INET);
	tp_stun_add_channel(&b, 0x4000);
	tp_stun_add_icmp(&b, 1, 2, 3);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &a);
	tp_stun_add_password_algorithm(&b, TP_STUN_PWALG_MD5);
	space = tp_stun_add_space(&b, 0x8124, 3);
	ck_assert_ptr_nonnull(space);
	ck_assert_uint_eq(space[0] | space[1] | space[2], 0);
	space[0] = 'z';
	len = finish(&b);
	ck_assert_uint_eq(check_padding_zero(buf, (size_t)len), 19);
	/* Nothing past the end was touched. */
	for (size_t i = (size_t)len; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0xaa);

	/* Reserved bytes inside values are zero too. */
	{
		struct tp_stun_msg m;
		const uint8_t *v;

		ck_assert_int_eq(tp_stun_parse(&m, buf, (size_t)len), 0);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_ERROR_CODE));
		ck_assert_uint_eq(v[0] | v[1] | (v[2] & 0xf8), 0);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_ADDRESS_ERROR_CODE));
		ck_assert_uint_eq(v[0], TP_AF_INET6);
		ck_assert_uint_eq(v[1] | (v[2] & 0xf8), 0);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_EVEN_PORT));
		ck_assert_uint_eq(v[0], 0x80);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_REQUESTED_TRANSPORT));
		ck_assert_uint_eq(v[1] | v[2] | v[3], 0);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY));
		ck_assert_uint_eq(v[1] | v[2] | v[3], 0);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_CHANNEL_NUMBER));
		ck_assert_uint_eq(v[2] | v[3], 0);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_ICMP));
		ck_assert_uint_eq(v[0] | v[1], 0);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS));
		ck_assert_uint_eq(v[0], 0);
		v = tp_stun_value(&m, tp_stun_find(&m, TP_STUN_ATTR_PASSWORD_ALGORITHM));
		ck_assert_uint_eq(tp_get_be16(v + 2), 0); /* no parameters */
	}
}
END_TEST

/* ---- Integrity ---- */

/* CRC-32 (ISO-HDLC), bit by bit: independent of the crypto backend's table-driven one. */
static uint32_t crc32_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

/*
 * The MAC RFC 8489 §14.5/§14.6 puts in an integrity attribute at @attr_off of @mac_len bytes:
 * over the message up to that attribute, with the header's length field covering it.
 */
static void expected_mac(enum tp_digest d, const void *key, size_t keylen, const uint8_t *msg,
			 size_t attr_off, size_t mac_len, uint8_t out[TP_DIGEST_MAX])
{
	uint8_t copy[1024];

	ck_assert_uint_le(attr_off, sizeof(copy));
	memcpy(copy, msg, attr_off);
	tp_put_be16(copy + 2, (uint16_t)(attr_off + 4 + mac_len - TP_STUN_HDR_LEN));
	ck_assert_int_eq(tp_hmac_once(d, key, keylen, copy, attr_off, out), 0);
}

/* Check the integrity attributes and FINGERPRINT of @m against values computed here. */
static void check_integrity_bytes(const struct tp_stun_msg *m, const void *key1, size_t key1_len,
				  const void *key256, size_t key256_len)
{
	uint8_t mac[TP_DIGEST_MAX];

	if (m->mi_off) {
		ck_assert_uint_eq(tp_get_be16(m->buf + m->mi_off + 2), TP_STUN_MI_LEN);
		expected_mac(TP_DIGEST_SHA1, key1, key1_len, m->buf, m->mi_off, TP_STUN_MI_LEN,
			     mac);
		ck_assert_mem_eq(m->buf + m->mi_off + 4, mac, TP_STUN_MI_LEN);
	}
	if (m->mi256_off) {
		size_t len = tp_get_be16(m->buf + m->mi256_off + 2);

		expected_mac(TP_DIGEST_SHA256, key256, key256_len, m->buf, m->mi256_off, len, mac);
		ck_assert_mem_eq(m->buf + m->mi256_off + 4, mac, len);
	}
	if (m->fp_off) {
		ck_assert_uint_eq(m->fp_off + 8, m->len);
		ck_assert_uint_eq(tp_get_be32(m->buf + m->fp_off + 4),
				  crc32_bitwise(m->buf, m->fp_off) ^ TP_STUN_FP_XOR);
	}
}

/* A request carrying whichever integrity attributes are asked for, in RFC order. */
static int build_signed(uint8_t *buf, size_t cap, const struct tp_hmac_key *k1,
			const struct tp_hmac_key *k256, size_t mi256_len, bool fp)
{
	struct tp_stun_builder b;

	memset(buf, 0xaa, cap);
	tp_stun_build_init(&b, buf, cap, TP_STUN_ALLOCATE, TP_STUN_REQUEST, test_tid);
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, "user", 4);
	tp_stun_add_string(&b, TP_STUN_ATTR_REALM, "realm", 5);
	tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, "nonce-0123", 10);
	tp_stun_add_transport(&b, TP_STUN_TRANSPORT_UDP);
	tp_stun_add(&b, TP_STUN_ATTR_DATA, "odd", 3);
	if (k1)
		tp_stun_add_integrity(&b, k1);
	if (k256)
		tp_stun_add_integrity_sha256(&b, k256, mi256_len);
	if (fp)
		tp_stun_add_fingerprint(&b);
	return finish(&b);
}

START_TEST(integrity_short_term)
{
	static const size_t truncations[] = { 16, 20, 24, 28, 32 };
	const char *pw = SHORT_TERM_PASSWORD, *wrong = "VOkJxbRl1RmTxUk/WvJxBu";
	struct tp_hmac_key k1, k256, wrong1, wrong256;
	struct tp_stun_msg m;
	uint8_t buf[256];
	int len;

	ck_assert_int_eq(tp_hmac_key_init(&k1, TP_DIGEST_SHA1, pw, strlen(pw)), 0);
	ck_assert_int_eq(tp_hmac_key_init(&k256, TP_DIGEST_SHA256, pw, strlen(pw)), 0);
	ck_assert_int_eq(tp_hmac_key_init(&wrong1, TP_DIGEST_SHA1, wrong, strlen(wrong)), 0);
	ck_assert_int_eq(tp_hmac_key_init(&wrong256, TP_DIGEST_SHA256, wrong, strlen(wrong)), 0);

	for (size_t t = 0; t < sizeof(truncations) / sizeof(truncations[0]); t++) {
		/* All three, in order. */
		len = build_signed(buf, sizeof(buf), &k1, &k256, truncations[t], true);
		parse_built(&m, buf, len, TP_STUN_ALLOCATE, TP_STUN_REQUEST);
		ck_assert_uint_ne(m.mi_off, 0);
		ck_assert_uint_gt(m.mi256_off, m.mi_off);
		ck_assert_uint_gt(m.fp_off, m.mi256_off);
		ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256).len,
				  truncations[t]);
		ck_assert_int_eq(tp_stun_check_integrity(&m, &k1), 0);
		ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &k256), 0);
		ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
		check_integrity_bytes(&m, pw, strlen(pw), pw, strlen(pw));
		ck_assert_int_eq(tp_stun_check_integrity(&m, &wrong1), -TP_WIRE_EINTEGRITY);
		ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &wrong256),
				 -TP_WIRE_EINTEGRITY);
		/* A key for the other digest is a caller error. */
		ck_assert_int_eq(tp_stun_check_integrity(&m, &k256), -TP_WIRE_EARG);
		ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &k1), -TP_WIRE_EARG);
		ck_assert_uint_eq(buf[len], 0xaa);

		/* MESSAGE-INTEGRITY-SHA256 alone, without FINGERPRINT. */
		len = build_signed(buf, sizeof(buf), NULL, &k256, truncations[t], false);
		parse_built(&m, buf, len, TP_STUN_ALLOCATE, TP_STUN_REQUEST);
		ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &k256), 0);
		ck_assert_int_eq(tp_stun_check_integrity(&m, &k1), -TP_WIRE_EABSENT);
		ck_assert_int_eq(tp_stun_check_fingerprint(&m), -TP_WIRE_EABSENT);
		check_integrity_bytes(&m, pw, strlen(pw), pw, strlen(pw));
	}
	/* MESSAGE-INTEGRITY alone, and FINGERPRINT alone. */
	len = build_signed(buf, sizeof(buf), &k1, NULL, 0, false);
	parse_built(&m, buf, len, TP_STUN_ALLOCATE, TP_STUN_REQUEST);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k1), 0);
	ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &k256), -TP_WIRE_EABSENT);
	check_integrity_bytes(&m, pw, strlen(pw), pw, strlen(pw));
	len = build_signed(buf, sizeof(buf), NULL, NULL, 0, true);
	parse_built(&m, buf, len, TP_STUN_ALLOCATE, TP_STUN_REQUEST);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
	check_integrity_bytes(&m, pw, strlen(pw), pw, strlen(pw));
}
END_TEST

START_TEST(integrity_long_term_md5)
{
	/* MD5("user:realm:pass"), computed outside turnpike. */
	static const uint8_t want[TP_MD5_LEN] = { 0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb,
						  0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc, 0x40, 0xeb };
	struct tp_chunk whole = { "user:realm:pass", 15 };
	uint8_t key[TP_DIGEST_MAX], digest[TP_DIGEST_MAX], buf[256];
	struct tp_hmac_key k, wrong;
	struct tp_stun_msg m;
	int n, len;

	n = tp_stun_long_term_key(TP_STUN_PWALG_MD5, "user", 4, "realm", 5, "pass", 4, key);
	ck_assert_int_eq(n, TP_MD5_LEN);
	ck_assert_int_eq(tp_digest(TP_DIGEST_MD5, &whole, 1, digest), 0);
	ck_assert_mem_eq(key, digest, TP_MD5_LEN);
	ck_assert_mem_eq(key, want, TP_MD5_LEN);
	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA1, key, (size_t)n), 0);

	len = build_signed(buf, sizeof(buf), &k, NULL, 0, true);
	parse_built(&m, buf, len, TP_STUN_ALLOCATE, TP_STUN_REQUEST);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k), 0);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
	check_integrity_bytes(&m, key, (size_t)n, NULL, 0);

	n = tp_stun_long_term_key(TP_STUN_PWALG_MD5, "user", 4, "realm", 5, "Pass", 4, key);
	ck_assert_int_eq(n, TP_MD5_LEN);
	ck_assert_int_eq(tp_hmac_key_init(&wrong, TP_DIGEST_SHA1, key, (size_t)n), 0);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &wrong), -TP_WIRE_EINTEGRITY);
}
END_TEST

START_TEST(integrity_long_term_sha256)
{
	static const size_t truncations[] = { 16, 20, 32 };
	struct tp_chunk whole = { "user:realm:pass", 15 };
	uint8_t key[TP_DIGEST_MAX], digest[TP_DIGEST_MAX], buf[256];
	struct tp_hmac_key k, wrong;
	struct tp_stun_msg m;
	int n, len;

	n = tp_stun_long_term_key(TP_STUN_PWALG_SHA256, "user", 4, "realm", 5, "pass", 4, key);
	ck_assert_int_eq(n, TP_SHA256_LEN);
	ck_assert_int_eq(tp_digest(TP_DIGEST_SHA256, &whole, 1, digest), 0);
	ck_assert_mem_eq(key, digest, TP_SHA256_LEN);
	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA256, key, (size_t)n), 0);
	n = tp_stun_long_term_key(TP_STUN_PWALG_SHA256, "user", 4, "realm", 5, "pas", 3, digest);
	ck_assert_int_eq(n, TP_SHA256_LEN);
	ck_assert_int_eq(tp_hmac_key_init(&wrong, TP_DIGEST_SHA256, digest, (size_t)n), 0);

	for (size_t t = 0; t < sizeof(truncations) / sizeof(truncations[0]); t++) {
		len = build_signed(buf, sizeof(buf), NULL, &k, truncations[t], true);
		parse_built(&m, buf, len, TP_STUN_ALLOCATE, TP_STUN_REQUEST);
		ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256).len,
				  truncations[t]);
		ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &k), 0);
		ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
		check_integrity_bytes(&m, NULL, 0, key, TP_SHA256_LEN);
		ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &wrong), -TP_WIRE_EINTEGRITY);
	}
	/* Only the two RFC 8489 §18.5 algorithms. */
	ck_assert_int_eq(tp_stun_long_term_key((enum tp_stun_pwalg)0, "u", 1, "r", 1, "p", 1, key),
			 -TP_WIRE_EARG);
	ck_assert_int_eq(tp_stun_long_term_key((enum tp_stun_pwalg)3, "u", 1, "r", 1, "p", 1, key),
			 -TP_WIRE_EARG);
}
END_TEST

/* ---- Sticky errors ---- */

START_TEST(builder_error_nospace)
{
	uint8_t buf[TP_STUN_HDR_LEN + 8];
	struct tp_stun_builder b;
	struct tp_hmac_key k;
	uint8_t *big;

	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA256, "k", 1), 0);
	/* Not even a header. */
	tp_stun_build_init(&b, buf, TP_STUN_HDR_LEN - 1, TP_STUN_BINDING, TP_STUN_REQUEST,
			   test_tid);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	/* A header, then an attribute that does not fit; the error sticks. */
	tp_stun_build_init(&b, buf, TP_STUN_HDR_LEN + 4, TP_STUN_BINDING, TP_STUN_REQUEST,
			   test_tid);
	ck_assert_int_eq(tp_stun_build_finish(&b), TP_STUN_HDR_LEN);
	tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 600);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	ck_assert_uint_eq(b.len, TP_STUN_HDR_LEN);
	tp_stun_add(&b, TP_STUN_ATTR_DONT_FRAGMENT, NULL, 0); /* would fit, but the error sticks */
	ck_assert_ptr_null(tp_stun_add_space(&b, TP_STUN_ATTR_DONT_FRAGMENT, 0));
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, zeros, 600); /* a later, different error */
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	ck_assert_uint_eq(b.len, TP_STUN_HDR_LEN);
	/* Exactly enough. */
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_BINDING, TP_STUN_REQUEST, test_tid);
	tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 600);
	ck_assert_int_eq(tp_stun_build_finish(&b), (int)sizeof(buf));
	/* Padding counts: 5 bytes need 12. */
	tp_stun_build_init(&b, buf, sizeof(buf) - 1, TP_STUN_BINDING, TP_STUN_REQUEST, test_tid);
	tp_stun_add(&b, TP_STUN_ATTR_DATA, "12345", 5);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	/* Integrity and fingerprint that do not fit. */
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_BINDING, TP_STUN_REQUEST, test_tid);
	tp_stun_add_integrity_sha256(&b, &k, 16);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	tp_stun_build_init(&b, buf, TP_STUN_HDR_LEN + 4, TP_STUN_BINDING, TP_STUN_REQUEST,
			   test_tid);
	tp_stun_add_fingerprint(&b);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	ck_assert(!b.sealed);

	/* The 16-bit length fields bound a value and the message, whatever the buffer. */
	big = calloc(1, TP_STUN_MAX_LEN + 64);
	ck_assert_ptr_nonnull(big);
	tp_stun_build_init(&b, big, TP_STUN_MAX_LEN + 64, TP_STUN_SEND, TP_STUN_INDICATION,
			   test_tid);
	ck_assert_ptr_null(tp_stun_add_space(&b, TP_STUN_ATTR_DATA, 0x10000));
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	tp_stun_build_init(&b, big, TP_STUN_MAX_LEN + 64, TP_STUN_SEND, TP_STUN_INDICATION,
			   test_tid);
	ck_assert_ptr_null(tp_stun_add_space(&b, TP_STUN_ATTR_DATA, 0xfffc - 24 + 1));
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	tp_stun_build_init(&b, big, TP_STUN_MAX_LEN + 64, TP_STUN_SEND, TP_STUN_INDICATION,
			   test_tid);
	ck_assert_ptr_nonnull(tp_stun_add_space(&b, TP_STUN_ATTR_DATA, 0xfffc - 24));
	ck_assert_int_eq(tp_stun_build_finish(&b), TP_STUN_MAX_LEN);
	tp_stun_add(&b, TP_STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ENOSPACE);
	free(big);
}
END_TEST

START_TEST(builder_error_after_fingerprint)
{
	uint8_t buf[256];
	struct tp_stun_builder b;
	struct tp_hmac_key k1, k256;
	int after;

	ck_assert_int_eq(tp_hmac_key_init(&k1, TP_DIGEST_SHA1, "k", 1), 0);
	ck_assert_int_eq(tp_hmac_key_init(&k256, TP_DIGEST_SHA256, "k", 1), 0);
	for (int what = 0; what < 5; what++) {
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_BINDING, TP_STUN_REQUEST,
				   test_tid);
		tp_stun_add_fingerprint(&b);
		ck_assert(b.sealed);
		after = tp_stun_build_finish(&b);
		ck_assert_int_eq(after, TP_STUN_HDR_LEN + 8);
		switch (what) {
		case 0:
			tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 600);
			break;
		case 1:
			tp_stun_add_fingerprint(&b);
			break;
		case 2:
			tp_stun_add_integrity(&b, &k1);
			break;
		case 3:
			tp_stun_add_integrity_sha256(&b, &k256, 32);
			break;
		default:
			ck_assert_ptr_null(tp_stun_add_space(&b, TP_STUN_ATTR_DATA, 4));
			break;
		}
		ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_EFP_NOT_LAST);
		ck_assert_uint_eq(b.len, (size_t)after);
	}
}
END_TEST

START_TEST(builder_error_too_long)
{
	static const struct {
		uint16_t type;
		size_t max;
	} limits[] = {
		{ TP_STUN_ATTR_USERNAME, 508 },
		{ TP_STUN_ATTR_REALM, 763 },
		{ TP_STUN_ATTR_NONCE, 763 },
		{ TP_STUN_ATTR_SOFTWARE, 763 },
		{ TP_STUN_ATTR_ALTERNATE_DOMAIN, 255 },
	};
	static uint8_t buf[2048];
	char s[TP_STUN_REASON_MAX + 2];
	struct tp_stun_builder b;

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_REQUEST,
				   test_tid);
		tp_stun_add_string(&b, limits[i].type, s, limits[i].max);
		ck_assert_int_eq(tp_stun_build_finish(&b),
				 (int)(TP_STUN_HDR_LEN + 4 + (limits[i].max + 3) / 4 * 4));
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_REQUEST,
				   test_tid);
		tp_stun_add_string(&b, limits[i].type, s, limits[i].max + 1);
		ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ETOO_LONG);
		ck_assert_uint_eq(b.len, TP_STUN_HDR_LEN);
	}
	/* Reasons: 763 bytes fit, 764 do not; s is TP_STUN_REASON_MAX + 1 long. */
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
	tp_stun_add_error(&b, 400, s + 1);
	ck_assert_int_gt(tp_stun_build_finish(&b), 0);
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
	tp_stun_add_error(&b, 400, s);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ETOO_LONG);
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
	tp_stun_add_address_error(&b, TP_AF_INET, 440, s);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_ETOO_LONG);
}
END_TEST

START_TEST(builder_error_bad_arguments)
{
	static const int bad_codes[] = { 299, 700, 0, -1, 1000 };
	static const size_t bad_truncations[] = { 0, 12, 18, 30, 36, 64 };
	uint8_t buf[256];
	struct tp_stun_builder b;
	struct tp_hmac_key k1, k256;
	struct tp_addr unset;

	ck_assert_int_eq(tp_hmac_key_init(&k1, TP_DIGEST_SHA1, "k", 1), 0);
	ck_assert_int_eq(tp_hmac_key_init(&k256, TP_DIGEST_SHA256, "k", 1), 0);
	memset(&unset, 0, sizeof(unset));
	unset.port = 1;

#define EXPECT_EARG(call)                                                                   \
	do {                                                                                \
		tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_REQUEST, \
				   test_tid);                                               \
		call;                                                                       \
		ck_assert_msg(tp_stun_build_finish(&b) == -TP_WIRE_EARG, "%s", #call);      \
		ck_assert_uint_eq(b.len, TP_STUN_HDR_LEN);                                  \
	} while (0)

	for (size_t i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++) {
		EXPECT_EARG(tp_stun_add_error(&b, bad_codes[i], "x"));
		EXPECT_EARG(tp_stun_add_address_error(&b, TP_AF_INET, bad_codes[i], NULL));
	}
	for (size_t i = 0; i < sizeof(bad_truncations) / sizeof(bad_truncations[0]); i++)
		EXPECT_EARG(tp_stun_add_integrity_sha256(&b, &k256, bad_truncations[i]));
	EXPECT_EARG(tp_stun_add_integrity(&b, &k256));
	EXPECT_EARG(tp_stun_add_integrity_sha256(&b, &k1, 32));
	EXPECT_EARG(tp_stun_add_string(&b, TP_STUN_ATTR_DATA, "x", 1));
	EXPECT_EARG(tp_stun_add_string(&b, TP_STUN_ATTR_LIFETIME, "x", 1));
	EXPECT_EARG(tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &unset));
	EXPECT_EARG(tp_stun_add_family(&b, TP_STUN_ATTR_LIFETIME, TP_AF_INET));
	EXPECT_EARG(tp_stun_add_password_algorithms(&b, NULL, 0));
#undef EXPECT_EARG

	/* The first error is the one reported. */
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_ALLOCATE, TP_STUN_REQUEST, test_tid);
	tp_stun_add_error(&b, 299, NULL);
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, zeros, 509);
	tp_stun_add(&b, TP_STUN_ATTR_DATA, NULL, 1000);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_EARG);
	/* A method that does not fit in 12 bits, and no buffer. */
	tp_stun_build_init(&b, buf, sizeof(buf), 0x1000, TP_STUN_REQUEST, test_tid);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_EARG);
	tp_stun_build_init(&b, NULL, 100, TP_STUN_BINDING, TP_STUN_REQUEST, test_tid);
	ck_assert_int_eq(tp_stun_build_finish(&b), -TP_WIRE_EARG);
	ck_assert_ptr_null(tp_stun_add_space(&b, TP_STUN_ATTR_DATA, 4));
}
END_TEST

/* ---- The Data-indication head (RFC 8656 §11.4) ---- */

static void data_head_roundtrip(const struct tp_addr *peer)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 1001, 1500 };
	uint8_t out[2048], ref[2048], payload[1500];
	size_t head_len = tp_stun_data_head_len(peer);
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	const uint8_t *p;
	size_t n;

	ck_assert_uint_eq(head_len, peer->family == TP_AF_INET ? 36 : 48);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i], pad = (4 - len % 4) % 4, total = head_len + len + pad;
		int head;

		memset(out, 0xaa, sizeof(out));
		head = tp_stun_data_head(out, sizeof(out), test_tid, peer, len);
		ck_assert_int_eq(head, (int)head_len);
		/* The head alone touches nothing after itself. */
		ck_assert_uint_eq(out[head_len], 0xaa);
		memcpy(out + head_len, payload, len);
		memset(out + head_len + len, 0, pad);

		parse_built(&m, out, (int)total, TP_STUN_DATA, TP_STUN_INDICATION);
		ck_assert_uint_eq(m.n_attrs, 2);
		check_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, peer);
		ck_assert_int_eq(tp_stun_get_data(&m, &p, &n), 0);
		ck_assert_uint_eq(n, len);
		ck_assert_ptr_eq(p, out + head_len);
		ck_assert_mem_eq(p, payload, len);

		/* Byte for byte what the builder writes. */
		tp_stun_build_init(&b, ref, sizeof(ref), TP_STUN_DATA, TP_STUN_INDICATION,
				   test_tid);
		tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, peer);
		tp_stun_add(&b, TP_STUN_ATTR_DATA, payload, len);
		ck_assert_int_eq(finish(&b), (int)total);
		ck_assert_mem_eq(out, ref, total);
	}
	/* Errors: no room for the head, a payload over the 16-bit length, no address. */
	ck_assert_int_eq(tp_stun_data_head(out, head_len - 1, test_tid, peer, 0),
			 -TP_WIRE_ENOSPACE);
	ck_assert_int_eq(tp_stun_data_head(out, head_len, test_tid, peer, 0), (int)head_len);
	/* The whole indication may be TP_STUN_MAX_LEN bytes, header included. */
	n = TP_STUN_MAX_LEN - head_len;
	ck_assert_int_eq(tp_stun_data_head(out, sizeof(out), test_tid, peer, n), (int)head_len);
	ck_assert_uint_eq(tp_get_be16(out + 2), TP_STUN_MAX_LEN - TP_STUN_HDR_LEN);
	ck_assert_int_eq(tp_stun_data_head(out, sizeof(out), test_tid, peer, n + 1),
			 -TP_WIRE_ENOSPACE);
	ck_assert_int_eq(tp_stun_data_head(out, sizeof(out), test_tid, peer, 0x10000),
			 -TP_WIRE_ENOSPACE);
}

START_TEST(data_head_ipv4)
{
	struct tp_addr peer, unset;
	uint8_t out[64];

	addr4(&peer, ip4_b, 50123);
	data_head_roundtrip(&peer);
	memset(&unset, 0, sizeof(unset));
	ck_assert_int_eq(tp_stun_data_head(out, sizeof(out), test_tid, &unset, 4), -TP_WIRE_EARG);
}
END_TEST

START_TEST(data_head_ipv6)
{
	struct tp_addr peer;

	addr6(&peer, ip6_a, 443);
	data_head_roundtrip(&peer);
	addr6(&peer, ip6_b, 65535);
	data_head_roundtrip(&peer);
}
END_TEST

/* ---- tp_stun_next over CreatePermission's XOR-PEER-ADDRESSes ---- */

START_TEST(next_iterates_three_peer_addresses)
{
	struct tp_addr peers[3], a;
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	struct tp_stun_span it = { 0, 0 };
	struct tp_hmac_key k;
	uint8_t buf[512];
	unsigned count = 0;

	addr4(&peers[0], ip4_a, 1000);
	addr6(&peers[1], ip6_a, 2000);
	addr4(&peers[2], ip4_b, 3000);
	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA1, "k", 1), 0);
	tp_stun_build_init(&b, buf, sizeof(buf), TP_STUN_CREATE_PERMISSION, TP_STUN_REQUEST,
			   test_tid);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peers[0]);
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, "alice", 5);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peers[1]);
	tp_stun_add(&b, TP_STUN_ATTR_DATA, "pad", 3);
	tp_stun_add_string(&b, TP_STUN_ATTR_REALM, "example.org", 11);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peers[2]);
	tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, "n", 1);
	tp_stun_add_integrity(&b, &k);
	tp_stun_add_fingerprint(&b);
	parse_built(&m, buf, finish(&b), TP_STUN_CREATE_PERMISSION, TP_STUN_REQUEST);
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k), 0);

	while (tp_stun_next(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &it)) {
		ck_assert_uint_lt(count, 3);
		ck_assert_uint_eq(it.len, peers[count].family == TP_AF_INET ? 8 : 20);
		ck_assert_int_eq(tp_stun_decode_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, it, &a), 0);
		ck_assert(tp_addr_eq(&a, &peers[count]));
		count++;
	}
	ck_assert_uint_eq(count, 3);
	ck_assert_uint_eq(it.off, 0);
	ck_assert_uint_eq(it.len, 0);
	/* The index holds the first; a zeroed iterator starts over. */
	check_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peers[0]);
	ck_assert(tp_stun_next(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &it));
	ck_assert_uint_eq(it.off, tp_stun_find(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS).off);
	/* Single-instance types iterate once. */
	memset(&it, 0, sizeof(it));
	count = 0;
	while (tp_stun_next(&m, TP_STUN_ATTR_NONCE, &it))
		count++;
	ck_assert_uint_eq(count, 1);
}
END_TEST

/* ---- ChannelData ---- */

START_TEST(chandata_roundtrip)
{
	static const uint16_t channels[] = { TP_CHANNEL_MIN, 0x4567, TP_CHANNEL_MAX };
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1000, 1499 };
	static const uint8_t pads[8] = { 0, 3, 2, 1, 0, 3, 2, 1 };
	uint8_t buf[4 + 1500 + 3], hdr[4];
	struct tp_chandata cd;

	tp_chandata_put_hdr(hdr, 0x4567, 0x0102);
	ck_assert_uint_eq(hdr[0], 0x45);
	ck_assert_uint_eq(hdr[1], 0x67);
	ck_assert_uint_eq(hdr[2], 0x01);
	ck_assert_uint_eq(hdr[3], 0x02);
	for (size_t len = 0; len < 8; len++) {
		ck_assert_uint_eq(tp_chandata_pad(len, true), pads[len]);
		ck_assert_uint_eq(tp_chandata_pad(len, false), 0);
	}
	ck_assert(!tp_channel_valid(TP_CHANNEL_MIN - 1));
	ck_assert(tp_channel_valid(TP_CHANNEL_MIN));
	ck_assert(tp_channel_valid(TP_CHANNEL_MAX));
	ck_assert(!tp_channel_valid(TP_CHANNEL_MAX + 1));

	for (size_t c = 0; c < sizeof(channels) / sizeof(channels[0]); c++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			for (int stream = 0; stream < 2; stream++) {
				size_t len = lens[i], pad = tp_chandata_pad(len, stream != 0);
				size_t total = TP_CHANDATA_HDR_LEN + len + pad;

				ck_assert_uint_le(total, sizeof(buf));
				tp_chandata_put_hdr(buf, channels[c], (uint16_t)len);
				for (size_t k = 0; k < len; k++)
					buf[4 + k] = (uint8_t)(k ^ c);
				memset(buf + 4 + len, 0, pad);
				ck_assert_uint_eq(total % (stream ? 4 : 1), 0);
				memset(&cd, 0, sizeof(cd));
				ck_assert_int_eq(tp_chandata_parse(&cd, buf, total), 0);
				ck_assert_uint_eq(cd.channel, channels[c]);
				ck_assert_uint_eq(cd.len, len);
				ck_assert_ptr_eq(cd.data, buf + TP_CHANDATA_HDR_LEN);
				for (size_t k = 0; k < len; k++)
					ck_assert_uint_eq(cd.data[k], (uint8_t)(k ^ c));
				if (stream)
					ck_assert_int_eq(
						tp_stream_frame_len(buf, total, sizeof(buf)),
						(long)total);
			}
		}
	}
}
END_TEST

/* ---- USERHASH ---- */

START_TEST(userhash_matches_sha256)
{
	static const char *const users[] = { "alice", "", "a:b", "\xe3\x83\x9e" };
	static const char *const realms[] = { "example.org", "", "realm" };
	uint8_t hash[TP_STUN_USERHASH_LEN], want[TP_SHA256_LEN];
	char joined[64];

	for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
		for (size_t r = 0; r < sizeof(realms) / sizeof(realms[0]); r++) {
			size_t ulen = strlen(users[u]), rlen = strlen(realms[r]);
			struct tp_chunk whole = { joined, ulen + 1 + rlen };

			memcpy(joined, users[u], ulen);
			joined[ulen] = ':';
			memcpy(joined + ulen + 1, realms[r], rlen);
			ck_assert_int_eq(tp_digest(TP_DIGEST_SHA256, &whole, 1, want), 0);
			memset(hash, 0, sizeof(hash));
			ck_assert_int_eq(tp_stun_userhash(users[u], ulen, realms[r], rlen, hash),
					 0);
			ck_assert_mem_eq(hash, want, sizeof(want));
		}
	}
}
END_TEST

TCase *wire_build_tcase(void)
{
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, roundtrip_every_attribute);
	tcase_add_test(tc, roundtrip_addresses_ipv4);
	tcase_add_test(tc, roundtrip_addresses_ipv6);
	tcase_add_test(tc, roundtrip_error_code);
	tcase_add_test(tc, roundtrip_unknown_attributes);
	tcase_add_test(tc, roundtrip_strings_all_lengths);
	tcase_add_test(tc, roundtrip_userhash);
	tcase_add_test(tc, roundtrip_password_algorithms);
	tcase_add_test(tc, roundtrip_turn_fixed_attributes);
	tcase_add_test(tc, roundtrip_data_lengths_0_to_7);
	tcase_add_test(tc, padding_bytes_are_zero);
	tcase_add_test(tc, integrity_short_term);
	tcase_add_test(tc, integrity_long_term_md5);
	tcase_add_test(tc, integrity_long_term_sha256);
	tcase_add_test(tc, builder_error_nospace);
	tcase_add_test(tc, builder_error_after_fingerprint);
	tcase_add_test(tc, builder_error_too_long);
	tcase_add_test(tc, builder_error_bad_arguments);
	tcase_add_test(tc, data_head_ipv4);
	tcase_add_test(tc, data_head_ipv6);
	tcase_add_test(tc, next_iterates_three_peer_addresses);
	tcase_add_test(tc, chandata_roundtrip);
	tcase_add_test(tc, userhash_matches_sha256);
	return tc;
}
