/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every class of bad input from DESIGN.md §8 that reaches the wire codec, each test asserting
 * the exact error code.
 *
 * Messages are laid out by hand (struct raw) so that layouts the builder refuses to produce can
 * be written. Everything handed to the codec is first copied into a heap buffer of exactly the
 * datagram's size (hold()), so that a sanitizer build catches any read past its end.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The longest STUN frame a stream can carry: the length field allows 0xfffc. */
#define STREAM_STUN_MAX (TP_STUN_HDR_LEN + 0xfffc)

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>
#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

#include "test_wire.h"

static const uint8_t test_tid[TP_STUN_TID_LEN] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
						   0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };

/* The exact-size copy of the last input handed to the codec; freed by the fixture. */
static uint8_t *held;

static void free_held(void)
{
	free(held);
	held = NULL;
}

/* Copy @len bytes at @p into a heap buffer of exactly that size (the previous copy is freed). */
static const uint8_t *hold(const uint8_t *p, size_t len)
{
	free_held();
	held = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(held);
	if (len)
		memcpy(held, p, len);
	return held;
}

static int parse(struct tp_stun_msg *m, const uint8_t *p, size_t len)
{
	return tp_stun_parse(m, hold(p, len), len);
}

/* ---- A message written by hand: header, then TLVs; the length field follows the bytes. ---- */

struct raw {
	size_t len;
	uint8_t buf[STREAM_STUN_MAX + 16];
};

static void raw_set_mlen(struct raw *r, uint16_t mlen)
{
	tp_put_be16(r->buf + 2, mlen);
}

static void raw_init(struct raw *r, uint16_t type)
{
	memset(r->buf, 0, TP_STUN_HDR_LEN);
	tp_put_be16(r->buf, type);
	tp_put_be32(r->buf + 4, TP_STUN_MAGIC_COOKIE);
	memcpy(r->buf + 8, test_tid, TP_STUN_TID_LEN);
	r->len = TP_STUN_HDR_LEN;
}

static void raw_request(struct raw *r)
{
	raw_init(r, tp_stun_type(TP_STUN_ALLOCATE, TP_STUN_REQUEST));
}

/* Append @n bytes of @p (NULL: zeroes). */
static void raw_bytes(struct raw *r, const void *p, size_t n)
{
	ck_assert_uint_le(r->len + n, sizeof(r->buf));
	if (p)
		memcpy(r->buf + r->len, p, n);
	else
		memset(r->buf + r->len, 0, n);
	r->len += n;
	raw_set_mlen(r, (uint16_t)(r->len - TP_STUN_HDR_LEN));
}

static void raw_fill(struct raw *r, uint8_t byte, size_t n)
{
	ck_assert_uint_le(r->len + n, sizeof(r->buf));
	memset(r->buf + r->len, byte, n);
	r->len += n;
	raw_set_mlen(r, (uint16_t)(r->len - TP_STUN_HDR_LEN));
}

/* An attribute header claiming @alen value bytes, and nothing else. */
static void raw_tlv(struct raw *r, uint16_t type, uint16_t alen)
{
	uint8_t h[4];

	tp_put_be16(h, type);
	tp_put_be16(h + 2, alen);
	raw_bytes(r, h, sizeof(h));
}

/* A whole attribute: header, @len bytes of @v (NULL: zeroes), padding made of @pad bytes. */
static void raw_attr_pad(struct raw *r, uint16_t type, const void *v, size_t len, uint8_t pad)
{
	raw_tlv(r, type, (uint16_t)len);
	raw_bytes(r, v, len);
	raw_fill(r, pad, (4 - len % 4) % 4);
}

static void raw_attr(struct raw *r, uint16_t type, const void *v, size_t len)
{
	raw_attr_pad(r, type, v, len, 0);
}

/* An attribute whose @len value bytes are all @byte (long strings). */
static void raw_attr_fill(struct raw *r, uint16_t type, uint8_t byte, size_t len)
{
	raw_tlv(r, type, (uint16_t)len);
	raw_fill(r, byte, len);
	raw_fill(r, 0, (4 - len % 4) % 4);
}

static void raw_attr_u32(struct raw *r, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	tp_put_be32(b, v);
	raw_attr(r, type, b, sizeof(b));
}

/* An address attribute as it is on the wire: family byte, port, @iplen address bytes. */
static void raw_attr_addr(struct raw *r, uint16_t type, uint8_t family, uint16_t wire_port,
			  size_t iplen)
{
	uint8_t v[4 + 16] = { 0 };

	ck_assert_uint_le(iplen, 16);
	v[1] = family;
	tp_put_be16(v + 2, wire_port);
	for (size_t i = 0; i < iplen; i++)
		v[4 + i] = (uint8_t)(0x10 + i);
	raw_attr(r, type, v, 4 + iplen);
}

static int raw_parse(struct tp_stun_msg *m, const struct raw *r)
{
	return parse(m, r->buf, r->len);
}

/* ---- The STUN header ---- */

START_TEST(short_datagrams_0_to_19_bytes)
{
	struct tp_stun_msg m;
	struct raw r;

	raw_init(&r, tp_stun_type(TP_STUN_BINDING, TP_STUN_REQUEST));
	for (size_t len = 0; len < TP_STUN_HDR_LEN; len++)
		ck_assert_int_eq(parse(&m, r.buf, len), -TP_WIRE_ESHORT);
	/* The same bytes, complete, are a valid Binding request. */
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.method, TP_STUN_BINDING);
	ck_assert_uint_eq(m.n_attrs, 0);
}
END_TEST

START_TEST(first_two_bits_not_zero)
{
	static const uint8_t top[] = { 0x40, 0x80, 0xc0, 0xff };
	struct tp_stun_msg m;
	struct raw r;

	for (size_t i = 0; i < sizeof(top); i++) {
		raw_init(&r, tp_stun_type(TP_STUN_BINDING, TP_STUN_REQUEST));
		raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
		r.buf[0] |= top[i];
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ENOT_STUN);
	}
}
END_TEST

START_TEST(wrong_magic_cookie)
{
	struct tp_stun_msg m;
	struct raw r;

	for (size_t i = 4; i < 8; i++) {
		for (unsigned x = 1; x < 256; x <<= 1) {
			raw_init(&r, tp_stun_type(TP_STUN_BINDING, TP_STUN_REQUEST));
			r.buf[i] ^= (uint8_t)x;
			ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ECOOKIE);
		}
	}
	/* An RFC 3489 message (no cookie) and a byte-swapped cookie. */
	raw_init(&r, tp_stun_type(TP_STUN_BINDING, TP_STUN_REQUEST));
	tp_put_be32(r.buf + 4, 0);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ECOOKIE);
	tp_put_be32(r.buf + 4, 0x42a41221u);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ECOOKIE);
}
END_TEST

START_TEST(length_not_multiple_of_4)
{
	static const uint16_t lens[] = { 1, 2, 3, 5, 6, 7, 9, 0xfffd, 0xfffe, 0xffff };
	struct tp_stun_msg m;
	static struct raw r;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		/* The datagram agrees with the length field: only the alignment is wrong. */
		raw_init(&r, tp_stun_type(TP_STUN_BINDING, TP_STUN_REQUEST));
		raw_bytes(&r, NULL, lens[i]);
		ck_assert_uint_eq(tp_get_be16(r.buf + 2), lens[i]);
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_ALIGN);
	}
}
END_TEST

START_TEST(length_longer_than_datagram)
{
	static const uint16_t claims[] = { 4, 8, 12, 0x100, 0xfffc };
	struct tp_stun_msg m;
	struct raw r;

	/* A header alone claiming attributes that never came. */
	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		raw_init(&r, tp_stun_type(TP_STUN_BINDING, TP_STUN_REQUEST));
		raw_set_mlen(&r, claims[i]);
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_MISMATCH);
	}
	/* A whole attribute followed by a truncation. */
	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_set_mlen(&r, 12);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_MISMATCH);
}
END_TEST

START_TEST(length_shorter_than_datagram)
{
	struct tp_stun_msg m;
	struct raw r;

	/* Trailing bytes after a message that claims to be empty. */
	raw_init(&r, tp_stun_type(TP_STUN_BINDING, TP_STUN_REQUEST));
	raw_bytes(&r, NULL, 4);
	raw_set_mlen(&r, 0);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_MISMATCH);
	/* Two attributes, the length field covering only the first. */
	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_attr_u32(&r, TP_STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
	raw_set_mlen(&r, 8);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_MISMATCH);
	/* One odd byte more than the header says. */
	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_bytes(&r, NULL, 1);
	raw_set_mlen(&r, 8);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_MISMATCH);
}
END_TEST

START_TEST(messages_past_16_bit_offsets_rejected)
{
	/*
	 * struct tp_stun_msg holds 16-bit offsets, and the message length field allows up to
	 * 20 + 0xfffc bytes (over a stream). Attributes past offset 0xffff must not alias the
	 * header: such a message is refused, while the longest one that fits is indexed in full.
	 */
	static struct raw r;
	struct tp_stun_msg m;
	uint32_t v;

	for (size_t total = STREAM_STUN_MAX; total > 0xffff; total -= 4) {
		raw_request(&r);
		while (r.len < total - 8)
			raw_tlv(&r, 0x8123, 0);
		raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
		ck_assert_uint_eq(r.len, total);
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_MISMATCH);
	}
	raw_request(&r);
	while (r.len < 0xffff - 3 - 8)
		raw_tlv(&r, 0x8123, 0);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	ck_assert_uint_eq(r.len, 0xfffc);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.len, 0xfffc);
	ck_assert_uint_eq(m.scan_end, 0xfffc);
	ck_assert_uint_eq(m.n_attrs, (0xfffc - TP_STUN_HDR_LEN - 8) / 4 + 1);
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), 0);
	ck_assert_uint_eq(v, 600);
	ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_LIFETIME).off, 0xfffc - 4);
}
END_TEST

/* ---- Attribute layout ---- */

START_TEST(attribute_length_past_end)
{
	static const uint16_t claims[] = { 5, 8, 9, 0x100, 0xfffc, 0xffff };
	struct tp_stun_msg m;
	struct raw r;

	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		/* Only 4 value bytes follow the header. */
		raw_request(&r);
		raw_tlv(&r, TP_STUN_ATTR_USERNAME, claims[i]);
		raw_bytes(&r, "abcd", 4);
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EATTR_OVERRUN);
		/* The same after a valid attribute. */
		raw_request(&r);
		raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
		raw_tlv(&r, TP_STUN_ATTR_DATA, claims[i]);
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EATTR_OVERRUN);
	}
}
END_TEST

START_TEST(last_attribute_missing_padding)
{
	struct tp_stun_msg m;
	struct raw r;

	/* USERNAME "abcde" sent without its 3 padding bytes: the length field counts 9. */
	raw_request(&r);
	raw_tlv(&r, TP_STUN_ATTR_USERNAME, 5);
	raw_bytes(&r, "abcde", 5);
	ck_assert_uint_eq(tp_get_be16(r.buf + 2), 9);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_ALIGN);
	/* ... the length field counts the padding (12) that the datagram lacks. */
	raw_set_mlen(&r, 12);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_ELEN_MISMATCH);
	/* ... the message is cut to a multiple of 4 before the value ends: an overrun. */
	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_tlv(&r, TP_STUN_ATTR_USERNAME, 5);
	raw_bytes(&r, "abcd", 4);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EATTR_OVERRUN);
	/* ... and with the padding there, it is fine. */
	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_attr(&r, TP_STUN_ATTR_USERNAME, "abcde", 5);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
}
END_TEST

START_TEST(nonzero_padding_ignored)
{
	struct tp_stun_msg m;
	struct raw r;
	const uint8_t *s;
	size_t n;
	uint32_t v;
	bool reserve;

	raw_request(&r);
	raw_attr_pad(&r, TP_STUN_ATTR_USERNAME, "abcde", 5, 0xff);
	raw_attr_pad(&r, TP_STUN_ATTR_SOFTWARE, "ab", 2, 0x20); /* RFC 5769 pads with spaces */
	raw_attr_pad(&r, TP_STUN_ATTR_DATA, "x", 1, 0xaa);
	raw_attr_pad(&r, TP_STUN_ATTR_EVEN_PORT, "\x80", 1, 0xff);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_attrs, 5);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_USERNAME, &s, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(s, "abcde", 5);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_SOFTWARE, &s, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(s, "ab", 2);
	ck_assert_int_eq(tp_stun_get_data(&m, &s, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(s[0], 'x');
	ck_assert_int_eq(tp_stun_get_even_port(&m, &reserve), 0);
	ck_assert(reserve);
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), 0);
	ck_assert_uint_eq(v, 600);
}
END_TEST

START_TEST(zero_length_values)
{
	struct tp_stun_msg m;
	struct tp_addr a;
	struct raw r;
	const uint8_t *s;
	size_t n = 99;
	uint32_t v;
	int code;
	uint16_t algs[2], types[2];
	bool reserve;

	raw_request(&r);
	raw_tlv(&r, TP_STUN_ATTR_USERNAME, 0);
	raw_tlv(&r, TP_STUN_ATTR_REALM, 0);
	raw_tlv(&r, TP_STUN_ATTR_NONCE, 0);
	raw_tlv(&r, TP_STUN_ATTR_ALTERNATE_DOMAIN, 0);
	raw_tlv(&r, TP_STUN_ATTR_DONT_FRAGMENT, 0);
	raw_tlv(&r, TP_STUN_ATTR_DATA, 0);
	raw_tlv(&r, TP_STUN_ATTR_LIFETIME, 0);
	raw_tlv(&r, TP_STUN_ATTR_XOR_PEER_ADDRESS, 0);
	raw_tlv(&r, TP_STUN_ATTR_ERROR_CODE, 0);
	raw_tlv(&r, TP_STUN_ATTR_EVEN_PORT, 0);
	raw_tlv(&r, TP_STUN_ATTR_USERHASH, 0);
	raw_tlv(&r, TP_STUN_ATTR_PASSWORD_ALGORITHMS, 0);
	raw_tlv(&r, TP_STUN_ATTR_UNKNOWN_ATTRIBUTES, 0);
	raw_tlv(&r, TP_STUN_ATTR_SOFTWARE, 0); /* last: its value starts at the very end */
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_attrs, 14);
	ck_assert_uint_eq(m.n_unknown, 0);

	/* RFC 8489 §14.3, §14.9, §14.10: these may not be empty. */
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_USERNAME, &s, &n),
			 -TP_WIRE_EATTR_VALUE);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_REALM, &s, &n), -TP_WIRE_EATTR_VALUE);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_NONCE, &s, &n), -TP_WIRE_EATTR_VALUE);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_ALTERNATE_DOMAIN, &s, &n),
			 -TP_WIRE_EATTR_VALUE);
	/* An empty SOFTWARE description is allowed. */
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_SOFTWARE, &s, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* DONT-FRAGMENT has no value at all (RFC 8656 §18.8). */
	ck_assert(tp_stun_has(&m, TP_STUN_ATTR_DONT_FRAGMENT));
	ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_DONT_FRAGMENT).len, 0);
	/* An empty DATA is an empty payload. */
	n = 99;
	ck_assert_int_eq(tp_stun_get_data(&m, &s, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* Everything else needs bytes. */
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), -TP_WIRE_EATTR_VALUE);
	ck_assert_int_eq(tp_stun_get_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &a),
			 -TP_WIRE_EATTR_VALUE);
	ck_assert_int_eq(tp_stun_get_error(&m, &code, NULL, NULL), -TP_WIRE_EATTR_VALUE);
	ck_assert_int_eq(tp_stun_get_even_port(&m, &reserve), -TP_WIRE_EATTR_VALUE);
	ck_assert_int_eq(tp_stun_get_userhash(&m, &s), -TP_WIRE_EATTR_VALUE);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 2, &n), -TP_WIRE_EATTR_VALUE);
	/* An empty UNKNOWN-ATTRIBUTES is a list of none. */
	ck_assert_int_eq(tp_stun_get_unknown(&m, types, 2, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(duplicates_first_instance_wins)
{
	struct tp_stun_msg m;
	struct tp_stun_span it = { 0, 0 };
	struct tp_addr a;
	struct raw r;
	const uint8_t *s;
	size_t n;
	uint32_t v;
	unsigned count = 0;

	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_attr(&r, TP_STUN_ATTR_USERNAME, "alice", 5);
	raw_attr_addr(&r, TP_STUN_ATTR_XOR_PEER_ADDRESS, TP_AF_INET, 0x1234, 4);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 0);
	raw_attr(&r, TP_STUN_ATTR_USERNAME, "mallory", 7);
	raw_attr_addr(&r, TP_STUN_ATTR_XOR_PEER_ADDRESS, 0x03, 0x1234, 4); /* malformed */
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_attrs, 6);
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), 0);
	ck_assert_uint_eq(v, 600);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_USERNAME, &s, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(s, "alice", 5);
	ck_assert_int_eq(tp_stun_get_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &a), 0);
	/* tp_stun_next() still sees both instances, in order. */
	while (tp_stun_next(&m, TP_STUN_ATTR_LIFETIME, &it)) {
		ck_assert_uint_eq(it.len, 4);
		ck_assert_uint_eq(tp_get_be32(tp_stun_value(&m, it)), count == 0 ? 600 : 0);
		count++;
	}
	ck_assert_uint_eq(count, 2);
}
END_TEST

START_TEST(thousands_of_tiny_attributes)
{
	static struct raw r;
	struct tp_stun_msg m;
	uint32_t v;

	/* 16000 empty comprehension-optional unknowns, then one attribute that counts. */
	raw_request(&r);
	for (unsigned i = 0; i < 16000; i++)
		raw_tlv(&r, (uint16_t)(0x8100 + i % 0x100), 0);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_attrs, 16001);
	ck_assert_uint_eq(m.n_unknown, 0);
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), 0);
	ck_assert_uint_eq(v, 600);

	/* The largest message the index can hold (see messages_past_16_bit_offsets_rejected). */
	raw_request(&r);
	while (r.len < 0xfffc)
		raw_tlv(&r, 0x8123, 0);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_attrs, (0xfffc - TP_STUN_HDR_LEN) / 4);
	ck_assert_uint_eq(m.n_unknown, 0);

	/* 16000 comprehension-required unknowns: counted, the first few recorded. */
	raw_request(&r);
	for (unsigned i = 0; i < 16000; i++)
		raw_tlv(&r, (uint16_t)(0x0100 + i), 0); /* 0x0100-0x3f7f: none known */
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_attrs, 16000);
	ck_assert_uint_eq(m.n_unknown, 16000);
	for (unsigned i = 0; i < TP_STUN_MAX_UNKNOWN; i++)
		ck_assert_uint_eq(m.unknown[i], 0x0100 + i);
}
END_TEST

/* ---- Integrity attributes and what follows them ---- */

START_TEST(attributes_after_message_integrity_ignored)
{
	struct tp_stun_msg m;
	struct tp_stun_span it = { 0, 0 };
	struct raw r;
	const uint8_t *s;
	size_t n, mi_off, mi256_off, fp_off;
	uint32_t v;
	unsigned peers = 0;

	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_USERNAME, "alice", 5);
	raw_attr_addr(&r, TP_STUN_ATTR_XOR_PEER_ADDRESS, TP_AF_INET, 0x1234, 4);
	mi_off = r.len;
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY, NULL, TP_STUN_MI_LEN);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_attr_addr(&r, TP_STUN_ATTR_XOR_PEER_ADDRESS, TP_AF_INET, 0x4321, 4);
	raw_tlv(&r, 0x0077, 0);				       /* unknown, required */
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY, NULL, 4); /* ignored: no length check */
	raw_attr(&r, TP_STUN_ATTR_USERNAME, "mallory", 7);     /* would be a duplicate */
	mi256_off = r.len;
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, NULL, 32);
	fp_off = r.len;
	raw_attr_u32(&r, TP_STUN_ATTR_FINGERPRINT, 0);
	ck_assert_int_eq(raw_parse(&m, &r), 0);

	ck_assert_uint_eq(m.n_attrs, 10);
	ck_assert_uint_eq(m.mi_off, mi_off);
	ck_assert_uint_eq(m.mi256_off, mi256_off);
	ck_assert_uint_eq(m.fp_off, fp_off);
	ck_assert_uint_eq(m.scan_end, mi_off);
	ck_assert(tp_stun_has(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY));
	ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY).len, TP_STUN_MI_LEN);
	ck_assert(tp_stun_has(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256));
	ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256).len, 32);
	ck_assert(tp_stun_has(&m, TP_STUN_ATTR_FINGERPRINT));
	/* Not indexed, not reported, not iterated. */
	ck_assert(!tp_stun_has(&m, TP_STUN_ATTR_LIFETIME));
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), -TP_WIRE_EABSENT);
	ck_assert_uint_eq(m.n_unknown, 0);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_USERNAME, &s, &n), 0);
	ck_assert_mem_eq(s, "alice", n);
	while (tp_stun_next(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &it))
		peers++;
	ck_assert_uint_eq(peers, 1);
	ck_assert(!tp_stun_next(&m, TP_STUN_ATTR_LIFETIME, &it));
	/* MESSAGE-INTEGRITY-SHA256 after MESSAGE-INTEGRITY is still length-checked. */
	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY, NULL, TP_STUN_MI_LEN);
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, NULL, 12);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EMI256_LEN);
}
END_TEST

START_TEST(attributes_after_mi_sha256_ignored)
{
	struct tp_stun_msg m;
	struct tp_stun_span it = { 0, 0 };
	struct raw r;
	const uint8_t *s;
	size_t n, mi256_off, fp_off;
	uint32_t v;

	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_REALM, "example.org", 11);
	mi256_off = r.len;
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, NULL, 16);
	raw_attr(&r, TP_STUN_ATTR_USERNAME, "alice", 5);
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY, NULL, TP_STUN_MI_LEN);
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY, NULL, 3); /* ignored: no length check */
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, NULL, 36); /* likewise */
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_tlv(&r, 0x0077, 0);
	fp_off = r.len;
	raw_attr_u32(&r, TP_STUN_ATTR_FINGERPRINT, 0);
	ck_assert_int_eq(raw_parse(&m, &r), 0);

	ck_assert_uint_eq(m.n_attrs, 9);
	ck_assert_uint_eq(m.mi256_off, mi256_off);
	ck_assert_uint_eq(m.scan_end, mi256_off);
	ck_assert_uint_eq(m.mi_off, 0);
	ck_assert(!tp_stun_has(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY));
	ck_assert_uint_eq(m.fp_off, fp_off);
	ck_assert(tp_stun_has(&m, TP_STUN_ATTR_FINGERPRINT));
	ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256).len, 16);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_REALM, &s, &n), 0);
	ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_USERNAME, &s, &n), -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_get_u32(&m, TP_STUN_ATTR_LIFETIME, &v), -TP_WIRE_EABSENT);
	ck_assert_uint_eq(m.n_unknown, 0);
	ck_assert(!tp_stun_next(&m, TP_STUN_ATTR_USERNAME, &it));
}
END_TEST

START_TEST(fingerprint_not_last)
{
	struct tp_stun_msg m;
	struct raw r;

	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_FINGERPRINT, 0);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EFP_NOT_LAST);
	/* Twice. */
	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_FINGERPRINT, 0);
	raw_attr_u32(&r, TP_STUN_ATTR_FINGERPRINT, 0);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EFP_NOT_LAST);
	/* Before the integrity attributes. */
	raw_request(&r);
	raw_attr_u32(&r, TP_STUN_ATTR_FINGERPRINT, 0);
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, NULL, 32);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EFP_NOT_LAST);
	/* After MESSAGE-INTEGRITY, where other attributes are otherwise ignored. */
	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY, NULL, TP_STUN_MI_LEN);
	raw_attr_u32(&r, TP_STUN_ATTR_FINGERPRINT, 0);
	raw_tlv(&r, 0x8123, 0);
	ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EFP_NOT_LAST);
}
END_TEST

START_TEST(message_integrity_wrong_length)
{
	static const uint16_t lens[] = { 19, 21, 0, 16, 32 };
	struct tp_stun_msg m;
	struct raw r;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		raw_request(&r);
		raw_attr(&r, TP_STUN_ATTR_USERNAME, "alice", 5);
		raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY, NULL, lens[i]);
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EMI_LEN);
	}
}
END_TEST

START_TEST(mi_sha256_wrong_length)
{
	static const uint16_t bad[] = { 12, 18, 36, 0, 4, 15, 17, 30, 33, 64 };
	static const uint16_t good[] = { 16, 20, 24, 28, 32 };
	struct tp_stun_msg m;
	struct raw r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_request(&r);
		raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, NULL, bad[i]);
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EMI256_LEN);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		raw_request(&r);
		raw_attr(&r, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, NULL, good[i]);
		ck_assert_int_eq(raw_parse(&m, &r), 0);
		ck_assert_uint_eq(tp_stun_find(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256).len,
				  good[i]);
	}
}
END_TEST

START_TEST(fingerprint_wrong_length)
{
	static const uint16_t lens[] = { 0, 2, 3, 5, 8 };
	struct tp_stun_msg m;
	struct raw r;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		raw_request(&r);
		raw_attr(&r, TP_STUN_ATTR_FINGERPRINT, NULL, lens[i]);
		ck_assert_int_eq(raw_parse(&m, &r), -TP_WIRE_EFP_LEN);
	}
}
END_TEST

/* ---- Unknown attributes (RFC 8489 §15) ---- */

START_TEST(unknown_comprehension_required_reported)
{
	static const uint16_t unknown[] = { 0x0002, 0x0030, 0x7fff };
	struct tp_stun_msg m;
	struct raw r;

	raw_request(&r);
	raw_tlv(&r, unknown[0], 0);
	raw_attr_u32(&r, TP_STUN_ATTR_LIFETIME, 600);
	raw_attr(&r, unknown[1], "xyz", 3);
	raw_attr_u32(&r, TP_STUN_ATTR_PRIORITY, 1); /* known (ICE): not unknown */
	raw_tlv(&r, 0x8030, 0);			    /* optional: not reported */
	raw_attr_u32(&r, unknown[2], 7);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_unknown, 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_uint_eq(m.unknown[i], unknown[i]);
}
END_TEST

START_TEST(unknown_required_capped_at_max)
{
	struct tp_stun_msg m;
	struct raw r;
	const unsigned n = TP_STUN_MAX_UNKNOWN + 9;

	raw_request(&r);
	for (unsigned i = 0; i < n; i++)
		raw_attr_u32(&r, (uint16_t)(0x0040 + i), i);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_attrs, n);
	ck_assert_uint_eq(m.n_unknown, n);
	for (unsigned i = 0; i < TP_STUN_MAX_UNKNOWN; i++)
		ck_assert_uint_eq(m.unknown[i], 0x0040 + i);
}
END_TEST

START_TEST(unknown_comprehension_optional_not_reported)
{
	static const uint16_t optional[] = { 0x8005, 0x8030, 0xc000, 0xfffe, 0xffff };
	struct tp_stun_msg m;
	struct raw r;

	raw_request(&r);
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		raw_attr(&r, optional[i], "abc", 3);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_uint_eq(m.n_attrs, sizeof(optional) / sizeof(optional[0]));
	ck_assert_uint_eq(m.n_unknown, 0);
}
END_TEST

/* ---- Address attributes (RFC 8489 §14.1, §14.2) ---- */

static const uint16_t addr_types[] = {
	TP_STUN_ATTR_XOR_MAPPED_ADDRESS,  TP_STUN_ATTR_XOR_PEER_ADDRESS,
	TP_STUN_ATTR_XOR_RELAYED_ADDRESS, TP_STUN_ATTR_MAPPED_ADDRESS,
	TP_STUN_ATTR_ALTERNATE_SERVER,	  TP_STUN_ATTR_RESPONSE_ORIGIN,
	TP_STUN_ATTR_OTHER_ADDRESS,
};

#define N_ADDR_TYPES (sizeof(addr_types) / sizeof(addr_types[0]))

/* tp_stun_get_addr() and tp_stun_decode_addr() on the only address attribute of @r. */
static void check_addr_rc(const struct raw *r, uint16_t type, int want)
{
	struct tp_stun_msg m;
	struct tp_stun_span it = { 0, 0 };
	struct tp_addr a;

	ck_assert_int_eq(raw_parse(&m, r), 0);
	ck_assert_int_eq(tp_stun_get_addr(&m, type, &a), want);
	ck_assert(tp_stun_next(&m, type, &it));
	ck_assert_int_eq(tp_stun_decode_addr(&m, type, it, &a), want);
}

START_TEST(address_bad_family)
{
	static const uint8_t families[] = { 0x00, 0x03, 0x04, 0xff };
	struct raw r;

	for (size_t t = 0; t < N_ADDR_TYPES; t++) {
		for (size_t f = 0; f < sizeof(families); f++) {
			for (size_t iplen = 4; iplen <= 16; iplen += 12) {
				raw_request(&r);
				raw_attr_addr(&r, addr_types[t], families[f], 0x1234, iplen);
				check_addr_rc(&r, addr_types[t], -TP_WIRE_EATTR_VALUE);
			}
		}
	}
}
END_TEST

START_TEST(address_wrong_length_for_family)
{
	static const struct {
		uint8_t family;
		size_t len; /* whole value */
	} bad[] = {
		{ TP_AF_INET, 20 }, { TP_AF_INET6, 8 }, { TP_AF_INET, 7 },   { TP_AF_INET6, 7 },
		{ TP_AF_INET, 3 },  { TP_AF_INET, 12 }, { TP_AF_INET6, 19 }, { TP_AF_INET6, 24 },
		{ TP_AF_INET, 4 },  { TP_AF_INET, 9 },
	};
	struct raw r;

	for (size_t t = 0; t < N_ADDR_TYPES; t++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t v[24] = { 0 };

			v[1] = bad[i].family;
			tp_put_be16(v + 2, 0x1234);
			raw_request(&r);
			raw_attr(&r, addr_types[t], v, bad[i].len);
			check_addr_rc(&r, addr_types[t], -TP_WIRE_EATTR_VALUE);
		}
	}
}
END_TEST

START_TEST(address_port_zero)
{
	/* The port is checked after un-XORing: X-Port 0x2112 is port 0, X-Port 0 is 0x2112. */
	const uint16_t xport0 = (uint16_t)(TP_STUN_MAGIC_COOKIE >> 16);
	struct raw r;

	for (size_t t = 0; t < N_ADDR_TYPES; t++) {
		uint16_t type = addr_types[t];
		bool xor = t < 3;

		for (size_t iplen = 4; iplen <= 16; iplen += 12) {
			uint8_t family = iplen == 4 ? TP_AF_INET : TP_AF_INET6;

			raw_request(&r);
			raw_attr_addr(&r, type, family, xor? xport0 : 0, iplen);
			check_addr_rc(&r, type, -TP_WIRE_EATTR_VALUE);
			raw_request(&r);
			raw_attr_addr(&r, type, family, xor? 0 : xport0, iplen);
			check_addr_rc(&r, type, 0);
		}
	}
}
END_TEST

/* ---- Strings and error codes over their limits ---- */

START_TEST(strings_over_rfc_limits)
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
	struct tp_stun_msg m;
	struct raw r;
	const uint8_t *s;
	size_t n;

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		raw_request(&r);
		raw_attr_fill(&r, limits[i].type, 'a', limits[i].max);
		ck_assert_int_eq(raw_parse(&m, &r), 0);
		ck_assert_int_eq(tp_stun_get_string(&m, limits[i].type, &s, &n), 0);
		ck_assert_uint_eq(n, limits[i].max);
		ck_assert_uint_eq(s[0], 'a');
		ck_assert_uint_eq(s[n - 1], 'a');

		raw_request(&r);
		raw_attr_fill(&r, limits[i].type, 'a', limits[i].max + 1);
		ck_assert_int_eq(raw_parse(&m, &r), 0);
		ck_assert_int_eq(tp_stun_get_string(&m, limits[i].type, &s, &n),
				 -TP_WIRE_ETOO_LONG);
		ck_assert_int_eq(tp_stun_get_string(&m, TP_STUN_ATTR_DATA, &s, &n), -TP_WIRE_EARG);
	}
}
END_TEST

/* ERROR-CODE (or ADDRESS-ERROR-CODE) with @first, class @cls, number @num and @rlen bytes of
 * reason. */
static void raw_error(struct raw *r, uint16_t type, uint8_t first, uint8_t cls, uint8_t num,
		      size_t rlen)
{
	uint8_t v[4] = { first, 0, cls, num };

	raw_tlv(r, type, (uint16_t)(4 + rlen));
	raw_bytes(r, v, 4);
	raw_fill(r, 'r', rlen);
	raw_fill(r, 0, (4 - rlen % 4) % 4);
}

static int read_error(const struct raw *r, uint16_t type, int *code, size_t *rlen)
{
	struct tp_stun_msg m;
	const uint8_t *reason;
	uint8_t family;

	ck_assert_int_eq(raw_parse(&m, r), 0);
	if (type == TP_STUN_ATTR_ERROR_CODE)
		return tp_stun_get_error(&m, code, &reason, rlen);
	return tp_stun_get_address_error(&m, &family, code, &reason, rlen);
}

START_TEST(error_code_limits_and_values)
{
	static const uint16_t types[] = { TP_STUN_ATTR_ERROR_CODE,
					  TP_STUN_ATTR_ADDRESS_ERROR_CODE };
	static const uint8_t bad[][2] = { { 2, 0 }, { 7, 0 },  { 4, 100 },
					  { 0, 0 }, { 1, 99 }, { 6, 255 } };
	struct raw r;
	int code;
	size_t rlen;

	for (size_t t = 0; t < 2; t++) {
		raw_request(&r);
		raw_error(&r, types[t], 1, 4, 1, TP_STUN_REASON_MAX);
		ck_assert_int_eq(read_error(&r, types[t], &code, &rlen), 0);
		ck_assert_int_eq(code, 401);
		ck_assert_uint_eq(rlen, TP_STUN_REASON_MAX);

		raw_request(&r);
		raw_error(&r, types[t], 1, 4, 1, TP_STUN_REASON_MAX + 1);
		ck_assert_int_eq(read_error(&r, types[t], &code, &rlen), -TP_WIRE_ETOO_LONG);

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			raw_request(&r);
			raw_error(&r, types[t], 1, bad[i][0], bad[i][1], 3);
			ck_assert_int_eq(read_error(&r, types[t], &code, &rlen),
					 -TP_WIRE_EATTR_VALUE);
		}
		/* The extremes of the range. */
		raw_request(&r);
		raw_error(&r, types[t], 1, 3, 0, 0);
		ck_assert_int_eq(read_error(&r, types[t], &code, &rlen), 0);
		ck_assert_int_eq(code, 300);
		raw_request(&r);
		raw_error(&r, types[t], 1, 6, 99, 0);
		ck_assert_int_eq(read_error(&r, types[t], &code, &rlen), 0);
		ck_assert_int_eq(code, 699);
		/* Shorter than the fixed part. */
		for (size_t len = 0; len < 4; len++) {
			raw_request(&r);
			raw_attr(&r, types[t], "\0\0\4\1", len);
			ck_assert_int_eq(read_error(&r, types[t], &code, &rlen),
					 -TP_WIRE_EATTR_VALUE);
		}
	}
}
END_TEST

/* ---- Fixed-size values ---- */

/* Read @type through its typed accessor. */
static int read_fixed(const struct tp_stun_msg *m, uint16_t type)
{
	const uint8_t *p;
	uint64_t token;
	uint32_t u32;
	uint16_t u16;
	uint8_t b1, b2;
	bool reserve;

	switch (type) {
	case TP_STUN_ATTR_LIFETIME:
	case TP_STUN_ATTR_PRIORITY:
		return tp_stun_get_u32(m, type, &u32);
	case TP_STUN_ATTR_CHANNEL_NUMBER:
		return tp_stun_get_channel(m, &u16);
	case TP_STUN_ATTR_REQUESTED_TRANSPORT:
		return tp_stun_get_transport(m, &b1);
	case TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY:
	case TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY:
		return tp_stun_get_family(m, type, &b1);
	case TP_STUN_ATTR_EVEN_PORT:
		return tp_stun_get_even_port(m, &reserve);
	case TP_STUN_ATTR_RESERVATION_TOKEN:
		return tp_stun_get_reservation_token(m, &token);
	case TP_STUN_ATTR_ICMP:
		return tp_stun_get_icmp(m, &b1, &b2, &u32);
	case TP_STUN_ATTR_USERHASH:
		return tp_stun_get_userhash(m, &p);
	}
	ck_abort_msg("no accessor for 0x%04x", (unsigned)type);
	return 0;
}

static const struct {
	uint16_t type;
	uint16_t good;
	uint16_t bad[4];
} fixed_sizes[] = {
	{ TP_STUN_ATTR_LIFETIME, 4, { 0, 3, 5, 8 } },
	{ TP_STUN_ATTR_PRIORITY, 4, { 0, 2, 6, 8 } },
	{ TP_STUN_ATTR_CHANNEL_NUMBER, 4, { 0, 2, 3, 8 } },
	{ TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, { 0, 1, 2, 8 } },
	{ TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 4, { 0, 1, 2, 8 } },
	{ TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, 4, { 0, 1, 5, 8 } },
	{ TP_STUN_ATTR_EVEN_PORT, 1, { 0, 2, 4, 8 } },
	{ TP_STUN_ATTR_RESERVATION_TOKEN, 8, { 0, 4, 7, 9 } },
	{ TP_STUN_ATTR_ICMP, 8, { 0, 4, 7, 12 } },
	{ TP_STUN_ATTR_USERHASH, 32, { 0, 16, 31, 33 } },
};

START_TEST(fixed_size_accessors_wrong_length)
{
	struct tp_stun_msg m;
	struct raw r;

	for (size_t i = 0; i < sizeof(fixed_sizes) / sizeof(fixed_sizes[0]); i++) {
		uint16_t type = fixed_sizes[i].type;

		for (size_t j = 0; j < 4; j++) {
			raw_request(&r);
			raw_attr_fill(&r, type, 0x01, fixed_sizes[i].bad[j]);
			ck_assert_int_eq(raw_parse(&m, &r), 0);
			ck_assert_msg(read_fixed(&m, type) == -TP_WIRE_EATTR_VALUE,
				      "0x%04x with %u bytes", (unsigned)type,
				      (unsigned)fixed_sizes[i].bad[j]);
		}
		raw_request(&r);
		raw_attr_fill(&r, type, 0x01, fixed_sizes[i].good);
		ck_assert_int_eq(raw_parse(&m, &r), 0);
		ck_assert_int_eq(read_fixed(&m, type), 0);
	}
}
END_TEST

START_TEST(absent_attributes)
{
	static const uint16_t strings[] = { TP_STUN_ATTR_USERNAME, TP_STUN_ATTR_REALM,
					    TP_STUN_ATTR_NONCE, TP_STUN_ATTR_SOFTWARE,
					    TP_STUN_ATTR_ALTERNATE_DOMAIN };
	struct tp_stun_msg m;
	struct tp_stun_span it = { 0, 0 }, none = { 0, 0 };
	struct tp_hmac_key k1, k256;
	struct tp_addr a;
	struct raw r;
	const uint8_t *s;
	size_t n;
	int code;
	uint16_t alg, algs[2];
	uint8_t family;

	ck_assert_int_eq(tp_hmac_key_init(&k1, TP_DIGEST_SHA1, "key", 3), 0);
	ck_assert_int_eq(tp_hmac_key_init(&k256, TP_DIGEST_SHA256, "key", 3), 0);
	/* Only attributes that none of the accessors look at. */
	raw_request(&r);
	raw_attr(&r, 0x8123, "abc", 3);
	raw_attr(&r, TP_STUN_ATTR_ICE_CONTROLLED, "tiebreak", 8);
	ck_assert_int_eq(raw_parse(&m, &r), 0);

	for (size_t i = 0; i < sizeof(fixed_sizes) / sizeof(fixed_sizes[0]); i++)
		ck_assert_int_eq(read_fixed(&m, fixed_sizes[i].type), -TP_WIRE_EABSENT);
	for (size_t i = 0; i < N_ADDR_TYPES; i++) {
		ck_assert_int_eq(tp_stun_get_addr(&m, addr_types[i], &a), -TP_WIRE_EABSENT);
		ck_assert_int_eq(tp_stun_decode_addr(&m, addr_types[i], none, &a),
				 -TP_WIRE_EABSENT);
		ck_assert(!tp_stun_next(&m, addr_types[i], &it));
		ck_assert_uint_eq(it.off, 0);
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		ck_assert_int_eq(tp_stun_get_string(&m, strings[i], &s, &n), -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_get_error(&m, &code, NULL, NULL), -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_get_address_error(&m, &family, &code, NULL, NULL),
			 -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_get_unknown(&m, algs, 2, &n), -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_get_data(&m, &s, &n), -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_get_password_algorithm(&m, &alg), -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 2, &n), -TP_WIRE_EABSENT);
	ck_assert(!tp_stun_has(&m, TP_STUN_ATTR_DONT_FRAGMENT));
	ck_assert(!tp_stun_has(&m, 0x8123)); /* unknown types are never "found" */
	ck_assert_int_eq(tp_stun_check_integrity(&m, &k1), -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &k256), -TP_WIRE_EABSENT);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), -TP_WIRE_EABSENT);
}
END_TEST

/* A PASSWORD-ALGORITHM(S) entry: algorithm, parameter length, then @plen parameter bytes
 * (not padded); the caller pads. */
static size_t alg_entry(uint8_t *p, uint16_t alg, uint16_t plen_field, size_t plen)
{
	tp_put_be16(p, alg);
	tp_put_be16(p + 2, plen_field);
	memset(p + 4, 0x5a, plen);
	return 4 + plen;
}

START_TEST(password_algorithms_malformed)
{
	struct tp_stun_msg m;
	struct raw r;
	uint8_t v[32];
	uint16_t algs[4], alg;
	size_t n, len;

	/* Empty. */
	raw_request(&r);
	raw_tlv(&r, TP_STUN_ATTR_PASSWORD_ALGORITHMS, 0);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 4, &n), -TP_WIRE_EATTR_VALUE);
	/* A parameter length running past the attribute, first or later entry. */
	len = alg_entry(v, TP_STUN_PWALG_MD5, 8, 0);
	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_PASSWORD_ALGORITHMS, v, len);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 4, &n), -TP_WIRE_EATTR_VALUE);
	len = alg_entry(v, TP_STUN_PWALG_MD5, 0, 0);
	len += alg_entry(v + len, TP_STUN_PWALG_SHA256, 0xffff, 4);
	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_PASSWORD_ALGORITHMS, v, len);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 4, &n), -TP_WIRE_EATTR_VALUE);
	/* A trailing fragment shorter than an entry header. */
	len = alg_entry(v, TP_STUN_PWALG_MD5, 0, 0);
	v[len++] = 0;
	v[len++] = 2;
	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_PASSWORD_ALGORITHMS, v, len);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 4, &n), -TP_WIRE_EATTR_VALUE);
	/* Well-formed with parameters (padded inside the value): still readable. */
	len = alg_entry(v, TP_STUN_PWALG_MD5, 3, 3);
	v[len++] = 0; /* parameter padding */
	len += alg_entry(v + len, TP_STUN_PWALG_SHA256, 0, 0);
	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_PASSWORD_ALGORITHMS, v, len);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&m, algs, 4, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(algs[0], TP_STUN_PWALG_MD5);
	ck_assert_uint_eq(algs[1], TP_STUN_PWALG_SHA256);

	/* PASSWORD-ALGORITHM: empty, short, overrunning, or with bytes after its entry. */
	static const struct {
		uint16_t plen_field;
		size_t plen, len;
	} bad[] = { { 0, 0, 0 }, { 0, 0, 2 }, { 4, 0, 4 }, { 0, 0, 8 }, { 1, 1, 9 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(v, 0, sizeof(v));
		if (bad[i].len >= 4)
			alg_entry(v, TP_STUN_PWALG_SHA256, bad[i].plen_field, bad[i].plen);
		raw_request(&r);
		raw_attr(&r, TP_STUN_ATTR_PASSWORD_ALGORITHM, v, bad[i].len);
		ck_assert_int_eq(raw_parse(&m, &r), 0);
		ck_assert_int_eq(tp_stun_get_password_algorithm(&m, &alg), -TP_WIRE_EATTR_VALUE);
	}
	/* A parameter whose padding is the attribute's own padding. */
	len = alg_entry(v, TP_STUN_PWALG_SHA256, 2, 2);
	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_PASSWORD_ALGORITHM, v, len);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_int_eq(tp_stun_get_password_algorithm(&m, &alg), 0);
	ck_assert_uint_eq(alg, TP_STUN_PWALG_SHA256);
}
END_TEST

START_TEST(unknown_attributes_odd_length)
{
	static const uint8_t v[6] = { 0x00, 0x30, 0x00, 0x31, 0x00, 0x32 };
	struct tp_stun_msg m;
	struct raw r;
	uint16_t types[4];
	size_t n;

	for (size_t len = 1; len < 6; len += 2) {
		raw_request(&r);
		raw_attr(&r, TP_STUN_ATTR_UNKNOWN_ATTRIBUTES, v, len);
		ck_assert_int_eq(raw_parse(&m, &r), 0);
		ck_assert_int_eq(tp_stun_get_unknown(&m, types, 4, &n), -TP_WIRE_EATTR_VALUE);
	}
	raw_request(&r);
	raw_attr(&r, TP_STUN_ATTR_UNKNOWN_ATTRIBUTES, v, 6);
	ck_assert_int_eq(raw_parse(&m, &r), 0);
	ck_assert_int_eq(tp_stun_get_unknown(&m, types, 2, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(types[0], 0x0030);
	ck_assert_uint_eq(types[1], 0x0031);
}
END_TEST

/* ---- ChannelData (RFC 8656 §12.4) ---- */

START_TEST(chandata_shorter_than_header)
{
	static const uint8_t hdr[4] = { 0x40, 0x00, 0x00, 0x00 };
	struct tp_chandata cd;

	for (size_t len = 0; len < TP_CHANDATA_HDR_LEN; len++)
		ck_assert_int_eq(tp_chandata_parse(&cd, hold(hdr, len), len), -TP_WIRE_ECHAN_SHORT);
	ck_assert_int_eq(tp_chandata_parse(&cd, hold(hdr, 4), 4), 0);
	ck_assert_uint_eq(cd.len, 0);
}
END_TEST

START_TEST(chandata_channel_number_out_of_range)
{
	static const uint16_t bad[] = { 0x0000, 0x0001, 0x3fff, 0x8000, 0xffff };
	static const uint16_t good[] = { 0x4000, 0x4001, 0x4abc, 0x4fff, 0x5000, 0x7fff };
	struct tp_chandata cd;
	uint8_t p[8] = { 0, 0, 0, 4, 'd', 'a', 't', 'a' };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_put_be16(p, bad[i]);
		ck_assert_int_eq(tp_chandata_parse(&cd, hold(p, 8), 8), -TP_WIRE_ECHAN_NUMBER);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		tp_put_be16(p, good[i]);
		ck_assert_int_eq(tp_chandata_parse(&cd, hold(p, 8), 8), 0);
		ck_assert_uint_eq(cd.channel, good[i]);
		ck_assert_uint_eq(cd.len, 4);
		ck_assert_mem_eq(cd.data, "data", 4);
	}
}
END_TEST

START_TEST(chandata_length_past_datagram)
{
	static const uint16_t claims[] = { 5, 8, 0x100, 0xffff };
	struct tp_chandata cd;
	uint8_t p[8] = { 0x40, 0x01, 0, 0, 'd', 'a', 't', 'a' };

	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		tp_put_be16(p + 2, claims[i]);
		ck_assert_int_eq(tp_chandata_parse(&cd, hold(p, 8), 8), -TP_WIRE_ECHAN_LEN);
	}
	/* Header only, claiming one byte. */
	tp_put_be16(p + 2, 1);
	ck_assert_int_eq(tp_chandata_parse(&cd, hold(p, 4), 4), -TP_WIRE_ECHAN_LEN);
}
END_TEST

START_TEST(chandata_trailing_padding_accepted)
{
	struct tp_chandata cd;
	uint8_t p[12] = { 0x40, 0x01, 0, 5, 'h', 'e', 'l', 'l', 'o', 0xff, 0xff, 0xff };
	const uint8_t *h;

	/* Padding (zero or not) and longer trailers are ignored (RFC 8656 §12.5). */
	for (size_t len = 9; len <= sizeof(p); len++) {
		h = hold(p, len);
		ck_assert_int_eq(tp_chandata_parse(&cd, h, len), 0);
		ck_assert_uint_eq(cd.channel, 0x4001);
		ck_assert_uint_eq(cd.len, 5);
		ck_assert_ptr_eq(cd.data, h + 4);
		ck_assert_mem_eq(cd.data, "hello", 5);
	}
}
END_TEST

/* ---- The stream framer (RFC 8656 §12.5) ---- */

START_TEST(stream_frame_length_overflow)
{
	uint8_t stun[8] = { 0x00, 0x01, 0xff, 0xfc, 0x21, 0x12, 0xa4, 0x42 };
	uint8_t chan[4] = { 0x40, 0x00, 0xff, 0xff };
	struct tp_framer f;
	const uint8_t *frame;
	uint8_t *space;
	size_t avail, len;

	/* STUN: 20 + 0xfffc. */
	ck_assert_int_eq(tp_stream_frame_len(hold(stun, 8), 8, STREAM_STUN_MAX), STREAM_STUN_MAX);
	ck_assert_int_eq(tp_stream_frame_len(hold(stun, 8), 8, STREAM_STUN_MAX - 1),
			 -TP_WIRE_EFRAME_LEN);
	ck_assert_int_eq(tp_stream_frame_len(hold(stun, 8), 8, 1500), -TP_WIRE_EFRAME_LEN);
	/* ChannelData: 4 + 0xffff + 1 byte of padding. */
	ck_assert_int_eq(tp_stream_frame_len(hold(chan, 4), 4, 65540), 65540);
	ck_assert_int_eq(tp_stream_frame_len(hold(chan, 4), 4, 65539), -TP_WIRE_EFRAME_LEN);
	tp_put_be16(chan + 2, 61); /* 4 + 64 */
	ck_assert_int_eq(tp_stream_frame_len(hold(chan, 4), 4, 64), -TP_WIRE_EFRAME_LEN);
	tp_put_be16(chan + 2, 60);
	ck_assert_int_eq(tp_stream_frame_len(hold(chan, 4), 4, 64), 64);

	/* Through a framer of 64 bytes: the error comes as soon as the header is in. */
	uint8_t *store = malloc(64);

	ck_assert_ptr_nonnull(store);
	tp_framer_init(&f, store, 64);
	tp_put_be16(stun + 2, 48); /* 68 bytes */
	space = tp_framer_space(&f, &avail);
	ck_assert_uint_eq(avail, 64);
	memcpy(space, stun, 8);
	tp_framer_commit(&f, 8);
	ck_assert_int_eq(tp_framer_next(&f, &frame, &len), -TP_WIRE_EFRAME_LEN);
	tp_framer_init(&f, store, 64);
	tp_put_be16(chan + 2, 61);
	space = tp_framer_space(&f, &avail);
	memcpy(space, chan, 4);
	tp_framer_commit(&f, 4);
	ck_assert_int_eq(tp_framer_next(&f, &frame, &len), -TP_WIRE_EFRAME_LEN);
	free(store);
}
END_TEST

START_TEST(stream_first_byte_not_turn)
{
	uint8_t p[8] = { 0, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42 };

	for (unsigned b = 0; b < 256; b++) {
		long want;

		if (b <= 3)
			want = TP_STUN_HDR_LEN;
		else if (b >= 0x40 && b <= 0x7f)
			want = 4 + 0x0100; /* bytes 2-3 read as a ChannelData length of 0x0100 */
		else
			want = -TP_WIRE_EFRAME_KIND;
		p[0] = (uint8_t)b;
		p[2] = b >= 0x40 && b <= 0x7f ? 0x01 : 0x00;
		ck_assert_int_eq(tp_stream_frame_len(hold(p, 8), 8, 4096), want);
		/* One byte is enough to reject a stream. */
		if (want < 0)
			ck_assert_int_eq(tp_stream_frame_len(hold(p, 1), 1, 4096), want);
	}
}
END_TEST

START_TEST(stream_stun_bad_cookie)
{
	uint8_t p[8] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };

	for (size_t i = 4; i < 8; i++) {
		p[i] ^= 0x10;
		ck_assert_int_eq(tp_stream_frame_len(hold(p, 8), 8, 4096), -TP_WIRE_EFRAME_KIND);
		/* Not decidable before the cookie is in. */
		ck_assert_int_eq(tp_stream_frame_len(hold(p, 7), 7, 4096), 0);
		p[i] ^= 0x10;
	}
}
END_TEST

START_TEST(stream_stun_length_unaligned)
{
	uint8_t p[8] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };

	for (uint16_t mlen = 1; mlen < 16; mlen++) {
		tp_put_be16(p + 2, mlen);
		ck_assert_int_eq(tp_stream_frame_len(hold(p, 8), 8, 4096),
				 mlen & 3 ? -TP_WIRE_EFRAME_LEN : TP_STUN_HDR_LEN + mlen);
	}
	tp_put_be16(p + 2, 0xffff);
	ck_assert_int_eq(tp_stream_frame_len(hold(p, 8), 8, 1 << 20), -TP_WIRE_EFRAME_LEN);
}
END_TEST

/* A stream of STUN messages and ChannelData (padded) back to back, with where each frame is. */
struct test_stream {
	uint8_t bytes[1024];
	size_t len;
	size_t off[16];
	size_t flen[16];
	unsigned n;
};

static void stream_frame(struct test_stream *s, const uint8_t *p, size_t len)
{
	ck_assert_uint_lt(s->n, 16);
	ck_assert_uint_le(s->len + len, sizeof(s->bytes));
	memcpy(s->bytes + s->len, p, len);
	s->off[s->n] = s->len;
	s->flen[s->n] = len;
	s->len += len;
	s->n++;
}

static void stream_chandata(struct test_stream *s, uint16_t ch, size_t dlen)
{
	uint8_t p[64] = { 0 };
	size_t pad = tp_chandata_pad(dlen, true);

	tp_chandata_put_hdr(p, ch, (uint16_t)dlen);
	for (size_t i = 0; i < dlen; i++)
		p[4 + i] = (uint8_t)(ch + i);
	stream_frame(s, p, 4 + dlen + pad);
}

static void make_stream(struct test_stream *s)
{
	static const uint8_t peer_ip[4] = { 192, 0, 2, 7 };
	struct tp_stun_builder b;
	struct tp_addr peer;
	uint8_t msg[128];
	int len;

	memset(s, 0, sizeof(*s));
	tp_stun_build_init(&b, msg, sizeof(msg), TP_STUN_BINDING, TP_STUN_REQUEST, test_tid);
	tp_stun_add_string(&b, TP_STUN_ATTR_SOFTWARE, "turnpike test", 13);
	tp_stun_add_fingerprint(&b);
	len = tp_stun_build_finish(&b);
	ck_assert_int_gt(len, 0);
	stream_frame(s, msg, (size_t)len);
	stream_chandata(s, 0x4000, 5);
	stream_chandata(s, 0x4fff, 0);
	tp_addr_set4(&peer, peer_ip, 3478);
	tp_stun_build_init(&b, msg, sizeof(msg), TP_STUN_SEND, TP_STUN_INDICATION, test_tid);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	tp_stun_add(&b, TP_STUN_ATTR_DATA, "thirteen byte", 13);
	len = tp_stun_build_finish(&b);
	ck_assert_int_gt(len, 0);
	stream_frame(s, msg, (size_t)len);
	stream_chandata(s, 0x4123, 8);
	stream_chandata(s, 0x4001, 1);
	tp_stun_build_init(&b, msg, sizeof(msg), TP_STUN_ALLOCATE, TP_STUN_ERROR, test_tid);
	tp_stun_add_error(&b, 401, "Unauthorized");
	tp_stun_add_string(&b, TP_STUN_ATTR_REALM, "example.org", 11);
	tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, "0123456789abcdef", 16);
	len = tp_stun_build_finish(&b);
	ck_assert_int_gt(len, 0);
	stream_frame(s, msg, (size_t)len);
	stream_chandata(s, 0x4002, 3);
}

/* Check the frame @frame of @len bytes against frame @k of @s, and that it parses. */
static void check_frame(const struct test_stream *s, unsigned k, const uint8_t *frame, size_t len)
{
	ck_assert_uint_lt(k, s->n);
	ck_assert_uint_eq(len, s->flen[k]);
	ck_assert_mem_eq(frame, s->bytes + s->off[k], len);
	if (tp_wire_classify(frame, len) == TP_WIRE_KIND_STUN) {
		struct tp_stun_msg m;

		ck_assert_int_eq(tp_stun_parse(&m, frame, len), 0);
	} else {
		struct tp_chandata cd;

		ck_assert_int_eq(tp_chandata_parse(&cd, frame, len), 0);
		ck_assert_uint_eq(len, 4 + cd.len + tp_chandata_pad(cd.len, true));
	}
}

static uint32_t xorshift32(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/*
 * Feed @s to a framer of @cap bytes in chunks: size @chunk, or random sizes from 1 to 64 when
 * @seed is not 0. Every frame must come out whole, in order.
 */
static void feed_stream(const struct test_stream *s, size_t cap, size_t chunk, uint32_t seed)
{
	uint8_t *store = malloc(cap);
	struct tp_framer f;
	size_t fed = 0;
	unsigned k = 0;

	ck_assert_ptr_nonnull(store);
	tp_framer_init(&f, store, cap);
	while (fed < s->len) {
		const uint8_t *frame;
		size_t avail, len, n = seed ? 1 + xorshift32(&seed) % 64 : chunk;
		uint8_t *space = tp_framer_space(&f, &avail);
		int rc;

		ck_assert_uint_gt(avail, 0);
		if (n > avail)
			n = avail;
		if (n > s->len - fed)
			n = s->len - fed;
		memcpy(space, s->bytes + fed, n);
		tp_framer_commit(&f, n);
		fed += n;
		while ((rc = tp_framer_next(&f, &frame, &len)) == 1)
			check_frame(s, k++, frame, len);
		ck_assert_int_eq(rc, 0);
	}
	ck_assert_uint_eq(k, s->n);
	free(store);
}

START_TEST(stream_partial_frames_byte_at_a_time)
{
	struct test_stream s;

	make_stream(&s);
	ck_assert_uint_eq(s.n, 8);
	feed_stream(&s, 96, 1, 0);
	feed_stream(&s, sizeof(s.bytes), 1, 0);
}
END_TEST

START_TEST(stream_partial_frames_random_chunks)
{
	struct test_stream s;

	make_stream(&s);
	for (uint32_t seed = 1; seed <= 200; seed++) {
		feed_stream(&s, 96, 0, seed * 2654435761u);
		feed_stream(&s, 160, 0, seed * 2654435761u);
	}
	for (size_t chunk = 2; chunk <= 96; chunk++)
		feed_stream(&s, 96, chunk, 0);
}
END_TEST

START_TEST(stream_coalesced_frames)
{
	struct test_stream s;
	struct tp_framer f;
	const uint8_t *frame;
	uint8_t *store, *space;
	size_t avail, len, first_half;

	make_stream(&s);
	store = malloc(sizeof(s.bytes));
	ck_assert_ptr_nonnull(store);
	/* Everything in one commit. */
	tp_framer_init(&f, store, sizeof(s.bytes));
	space = tp_framer_space(&f, &avail);
	memcpy(space, s.bytes, s.len);
	tp_framer_commit(&f, s.len);
	for (unsigned k = 0; k < s.n; k++) {
		ck_assert_int_eq(tp_framer_next(&f, &frame, &len), 1);
		check_frame(&s, k, frame, len);
	}
	ck_assert_int_eq(tp_framer_next(&f, &frame, &len), 0);
	/* All frames and half of the first one again: the half waits for the rest. */
	tp_framer_init(&f, store, sizeof(s.bytes));
	first_half = s.flen[0] / 2;
	space = tp_framer_space(&f, &avail);
	memcpy(space, s.bytes, s.len);
	memcpy(space + s.len, s.bytes, first_half);
	tp_framer_commit(&f, s.len + first_half);
	for (unsigned k = 0; k < s.n; k++) {
		ck_assert_int_eq(tp_framer_next(&f, &frame, &len), 1);
		check_frame(&s, k, frame, len);
	}
	ck_assert_int_eq(tp_framer_next(&f, &frame, &len), 0);
	space = tp_framer_space(&f, &avail);
	ck_assert_uint_ge(avail, s.flen[0] - first_half);
	memcpy(space, s.bytes + first_half, s.flen[0] - first_half);
	tp_framer_commit(&f, s.flen[0] - first_half);
	ck_assert_int_eq(tp_framer_next(&f, &frame, &len), 1);
	check_frame(&s, 0, frame, len);
	ck_assert_int_eq(tp_framer_next(&f, &frame, &len), 0);
	free(store);
}
END_TEST

START_TEST(stream_chandata_padding_in_frame_len)
{
	struct test_stream s;
	uint8_t p[4];

	for (uint16_t dlen = 0; dlen < 16; dlen++) {
		long want = 4 + (dlen + 3) / 4 * 4;

		tp_chandata_put_hdr(p, 0x4000, dlen);
		ck_assert_int_eq(tp_stream_frame_len(hold(p, 4), 4, 4096), want);
		ck_assert_uint_eq(want, 4 + dlen + tp_chandata_pad(dlen, true));
		ck_assert_uint_eq(tp_chandata_pad(dlen, false), 0);
	}
	/* Over the framer the padding is swallowed with the frame, so the next one lines up. */
	memset(&s, 0, sizeof(s));
	stream_chandata(&s, 0x4000, 1);
	stream_chandata(&s, 0x4001, 2);
	stream_chandata(&s, 0x4002, 3);
	stream_chandata(&s, 0x4003, 4);
	stream_chandata(&s, 0x4004, 5);
	ck_assert_uint_eq(s.flen[0], 8);
	ck_assert_uint_eq(s.flen[4], 12);
	feed_stream(&s, 64, 1, 0);
	feed_stream(&s, 64, s.len, 0);
}
END_TEST

START_TEST(stream_needs_more_bytes)
{
	struct test_stream s;

	ck_assert_int_eq(tp_stream_frame_len(hold(NULL, 0), 0, 4096), 0);
	make_stream(&s);
	/* Every prefix of every frame: 0 until the header says how long it is, then that. */
	for (unsigned k = 0; k < s.n; k++) {
		const uint8_t *p = s.bytes + s.off[k];
		size_t need = p[0] <= 3 ? 8 : TP_CHANDATA_HDR_LEN;

		for (size_t avail = 1; avail <= s.flen[k]; avail++)
			ck_assert_int_eq(tp_stream_frame_len(hold(p, avail), avail, 4096),
					 avail < need ? 0 : (long)s.flen[k]);
	}
}
END_TEST

/* ---- One-byte flips under MESSAGE-INTEGRITY-SHA256 and FINGERPRINT ---- */

START_TEST(one_byte_flips_fail_integrity_and_fingerprint)
{
	static const char nonce[] = "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA";
	struct tp_stun_builder b;
	struct tp_stun_msg m;
	struct tp_hmac_key k;
	uint8_t key[TP_DIGEST_MAX], msg[256], flipped[256];
	size_t len, mi256_off, fp_off;
	unsigned parsed = 0;
	int n;

	n = tp_stun_long_term_key(TP_STUN_PWALG_SHA256, "alice", 5, "example.org", 11, "secret", 6,
				  key);
	ck_assert_int_eq(n, TP_SHA256_LEN);
	ck_assert_int_eq(tp_hmac_key_init(&k, TP_DIGEST_SHA256, key, (size_t)n), 0);
	tp_stun_build_init(&b, msg, sizeof(msg), TP_STUN_ALLOCATE, TP_STUN_REQUEST, test_tid);
	tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, "alice", 5);
	tp_stun_add_string(&b, TP_STUN_ATTR_REALM, "example.org", 11);
	tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, nonce, strlen(nonce));
	tp_stun_add_transport(&b, TP_STUN_TRANSPORT_UDP);
	tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 600);
	tp_stun_add_integrity_sha256(&b, &k, 32);
	tp_stun_add_fingerprint(&b);
	n = tp_stun_build_finish(&b);
	ck_assert_int_gt(n, 0);
	len = (size_t)n;
	ck_assert_int_eq(parse(&m, msg, len), 0);
	ck_assert_int_eq(tp_stun_check_integrity_sha256(&m, &k), 0);
	ck_assert_int_eq(tp_stun_check_fingerprint(&m), 0);
	mi256_off = m.mi256_off;
	fp_off = m.fp_off;

	for (size_t i = 0; i < len; i++) {
		for (unsigned x = 1; x < 256; x++) {
			int ri, rf;

			memcpy(flipped, msg, len);
			flipped[i] ^= (uint8_t)x;
			if (parse(&m, flipped, len) < 0)
				continue;
			parsed++;
			ri = tp_stun_check_integrity_sha256(&m, &k);
			rf = tp_stun_check_fingerprint(&m);
			/* CRC-32 catches every error burst of up to 32 bits, wherever it is. */
			ck_assert_msg(rf < 0, "flip 0x%02x at %zu kept the fingerprint", x, i);
			if (i < mi256_off)
				ck_assert_msg(ri < 0, "flip 0x%02x at %zu kept integrity", x, i);
			else if (i >= mi256_off + 4 && i < fp_off)
				ck_assert_int_eq(ri, -TP_WIRE_EINTEGRITY);
		}
	}
	/* Most flips leave a well-formed message: the checks above are what rejects them. */
	ck_assert_uint_gt(parsed, len * 128);
}
END_TEST

TCase *wire_malformed_tcase(void)
{
	TCase *tc = tcase_create("malformed");

	tcase_add_checked_fixture(tc, NULL, free_held);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, short_datagrams_0_to_19_bytes);
	tcase_add_test(tc, first_two_bits_not_zero);
	tcase_add_test(tc, wrong_magic_cookie);
	tcase_add_test(tc, length_not_multiple_of_4);
	tcase_add_test(tc, length_longer_than_datagram);
	tcase_add_test(tc, length_shorter_than_datagram);
	tcase_add_test(tc, messages_past_16_bit_offsets_rejected);
	tcase_add_test(tc, attribute_length_past_end);
	tcase_add_test(tc, last_attribute_missing_padding);
	tcase_add_test(tc, nonzero_padding_ignored);
	tcase_add_test(tc, zero_length_values);
	tcase_add_test(tc, duplicates_first_instance_wins);
	tcase_add_test(tc, thousands_of_tiny_attributes);
	tcase_add_test(tc, attributes_after_message_integrity_ignored);
	tcase_add_test(tc, attributes_after_mi_sha256_ignored);
	tcase_add_test(tc, fingerprint_not_last);
	tcase_add_test(tc, message_integrity_wrong_length);
	tcase_add_test(tc, mi_sha256_wrong_length);
	tcase_add_test(tc, fingerprint_wrong_length);
	tcase_add_test(tc, unknown_comprehension_required_reported);
	tcase_add_test(tc, unknown_required_capped_at_max);
	tcase_add_test(tc, unknown_comprehension_optional_not_reported);
	tcase_add_test(tc, address_bad_family);
	tcase_add_test(tc, address_wrong_length_for_family);
	tcase_add_test(tc, address_port_zero);
	tcase_add_test(tc, strings_over_rfc_limits);
	tcase_add_test(tc, error_code_limits_and_values);
	tcase_add_test(tc, fixed_size_accessors_wrong_length);
	tcase_add_test(tc, absent_attributes);
	tcase_add_test(tc, password_algorithms_malformed);
	tcase_add_test(tc, unknown_attributes_odd_length);
	tcase_add_test(tc, chandata_shorter_than_header);
	tcase_add_test(tc, chandata_channel_number_out_of_range);
	tcase_add_test(tc, chandata_length_past_datagram);
	tcase_add_test(tc, chandata_trailing_padding_accepted);
	tcase_add_test(tc, stream_frame_length_overflow);
	tcase_add_test(tc, stream_first_byte_not_turn);
	tcase_add_test(tc, stream_stun_bad_cookie);
	tcase_add_test(tc, stream_stun_length_unaligned);
	tcase_add_test(tc, stream_needs_more_bytes);
	tcase_add_test(tc, stream_partial_frames_byte_at_a_time);
	tcase_add_test(tc, stream_partial_frames_random_chunks);
	tcase_add_test(tc, stream_coalesced_frames);
	tcase_add_test(tc, stream_chandata_padding_in_frame_len);
	tcase_add_test(tc, one_byte_flips_fail_integrity_and_fingerprint);
	return tc;
}
