/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address text: parsing every RFC 4291 §2.2 form and refusing everything else, RFC 5952 output,
 * and CIDR prefixes matched bit by bit at every awkward boundary.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/addr.h>
#include <turnpike/wire.h>

/* ---- valid text: input, family, canonical text (with the port when there is one), port ---- */

struct good {
	const char *in;
	int family;
	const char *canon;
	unsigned port;
};

static const struct good good[] = {
	{ "0.0.0.0", TP_AF_INET, "0.0.0.0", 0 },
	{ "1.2.3.4", TP_AF_INET, "1.2.3.4", 0 },
	{ "255.255.255.255", TP_AF_INET, "255.255.255.255", 0 },
	{ "10.0.0.1", TP_AF_INET, "10.0.0.1", 0 },
	{ "192.0.2.100", TP_AF_INET, "192.0.2.100", 0 },
	{ "1.2.3.4:3478", TP_AF_INET, "1.2.3.4:3478", 3478 },
	{ "1.2.3.4:1", TP_AF_INET, "1.2.3.4:1", 1 },
	{ "1.2.3.4:65535", TP_AF_INET, "1.2.3.4:65535", 65535 },
	{ "::", TP_AF_INET6, "::", 0 },
	{ "::1", TP_AF_INET6, "::1", 0 },
	{ "1::", TP_AF_INET6, "1::", 0 },
	{ "2001:db8::", TP_AF_INET6, "2001:db8::", 0 },
	{ "2001:db8::1", TP_AF_INET6, "2001:db8::1", 0 },
	{ "2001:DB8::1", TP_AF_INET6, "2001:db8::1", 0 },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", TP_AF_INET6, "2001:db8::1", 0 },
	{ "2001:db8:0:0:1:0:0:1", TP_AF_INET6, "2001:db8::1:0:0:1", 0 },
	{ "2001:0:0:1:0:0:0:1", TP_AF_INET6, "2001:0:0:1::1", 0 },
	{ "2001:db8:0:1:1:1:1:1", TP_AF_INET6, "2001:db8:0:1:1:1:1:1", 0 },
	{ "2001:db8::1:1:1:1:1", TP_AF_INET6, "2001:db8:0:1:1:1:1:1", 0 },
	{ "1:2:3:4:5:6:7:8", TP_AF_INET6, "1:2:3:4:5:6:7:8", 0 },
	{ "1:2:3:4:5:6:7::", TP_AF_INET6, "1:2:3:4:5:6:7:0", 0 },
	{ "::2:3:4:5:6:7:8", TP_AF_INET6, "0:2:3:4:5:6:7:8", 0 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", TP_AF_INET6,
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
	{ "fe80::1:0:0:0", TP_AF_INET6, "fe80::1:0:0:0", 0 }, /* tie: the first run */
	{ "fe80:0:0:0:1::", TP_AF_INET6, "fe80::1:0:0:0", 0 },
	{ "0:0:1:0:0:0:0:0", TP_AF_INET6, "0:0:1::", 0 },
	{ "::ffff:1.2.3.4", TP_AF_INET6, "::ffff:1.2.3.4", 0 },
	{ "::FFFF:1.2.3.4", TP_AF_INET6, "::ffff:1.2.3.4", 0 },
	{ "::ffff:0102:0304", TP_AF_INET6, "::ffff:1.2.3.4", 0 },
	{ "0:0:0:0:0:ffff:127.0.0.1", TP_AF_INET6, "::ffff:127.0.0.1", 0 },
	{ "::1.2.3.4", TP_AF_INET6, "::102:304", 0 },
	{ "64:ff9b::192.0.2.33", TP_AF_INET6, "64:ff9b::c000:221", 0 },
	{ "1:2:3:4:5:6:1.2.3.4", TP_AF_INET6, "1:2:3:4:5:6:102:304", 0 },
	{ "[::1]", TP_AF_INET6, "::1", 0 },
	{ "[::1]:3478", TP_AF_INET6, "[::1]:3478", 3478 },
	{ "[2001:db8::1]:3478", TP_AF_INET6, "[2001:db8::1]:3478", 3478 },
	{ "[::ffff:1.2.3.4]:65535", TP_AF_INET6, "[::ffff:1.2.3.4]:65535", 65535 },
	{ "::1:3478", TP_AF_INET6, "::1:3478", 0 }, /* unbracketed: all of it is the address */
};

START_TEST(parse_valid_forms)
{
	const struct good *g = &good[_i];
	struct tp_addr a;
	char buf[TP_ADDR_STRLEN];

	memset(&a, 0xa5, sizeof(a));
	ck_assert_msg(tp_addr_parse(&a, g->in) == 0, "refused \"%s\"", g->in);
	ck_assert_int_eq(a.family, g->family);
	ck_assert_uint_eq(a.port, g->port);
	ck_assert_uint_eq(a.reserved, 0);
	if (a.family == TP_AF_INET) /* the unused tail of an IPv4 address stays zero */
		ck_assert_mem_eq(a.ip + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	ck_assert_uint_eq(tp_addr_format(&a, buf, sizeof(buf), g->port != 0), strlen(g->canon));
	ck_assert_str_eq(buf, g->canon);
}
END_TEST

/* Canonical text parses back to the same address and formats to the same text. */
START_TEST(format_round_trips)
{
	const struct good *g = &good[_i];
	struct tp_addr a, b;
	char buf[TP_ADDR_STRLEN], again[TP_ADDR_STRLEN];

	ck_assert_int_eq(tp_addr_parse(&a, g->in), 0);
	tp_addr_format(&a, buf, sizeof(buf), g->port != 0);
	ck_assert_int_eq(tp_addr_parse(&b, buf), 0);
	ck_assert(tp_addr_eq(&a, &b));
	tp_addr_format(&b, again, sizeof(again), g->port != 0);
	ck_assert_str_eq(buf, again);
}
END_TEST

static const char *const bad[] = {
	"",
	" ",
	"1.2.3",
	"1.2.3.4.5",
	"256.1.1.1",
	"1.2.3.256",
	"1.2.3.-1",
	"01.2.3.4",
	"1.2.3.04",
	"00.0.0.0",
	"0x1.2.3.4",
	"1.2.3.4.",
	".1.2.3.4",
	"1..3.4",
	"1.2.3.4 ",
	" 1.2.3.4",
	"+1.2.3.4",
	"1.2.3.4:",
	"1.2.3.4:0",
	"1.2.3.4:65536",
	"1.2.3.4:99999999999",
	"1.2.3.4:03478",
	"1.2.3.4:+80",
	"1.2.3.4:80x",
	"1.2.3.4/8",
	"localhost",
	":",
	":::",
	"::::",
	":1::",
	"1::2:",
	":1:2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7:8:",
	"1::2::3",
	"::1::",
	"12345::",
	"1:2:3:4:5:6:7",
	"1:2:3:4:5:6:7:8:9",
	"1:2:3:4:5:6:7:8::",
	"::1:2:3:4:5:6:7:8",
	"1:2:3:4::5:6:7:8",
	"g::1",
	"::1.2.3",
	"::1.2.3.4.5",
	"::256.1.1.1",
	"::01.2.3.4",
	"::1.2.3.4:5",
	"::1.2.3.4::",
	"1.2.3.4::",
	"1:2:3:4:5:6:7:1.2.3.4",
	"1:2:3:4:5:6:7:8:1.2.3.4",
	"::ffff:1.2.3.4.5",
	"fe80::1%eth0",
	"::1 ",
	"[::1",
	"::1]",
	"[]",
	"[]:80",
	"[::1]:",
	"[::1]:0",
	"[::1]:65536",
	"[::1]:-1",
	"[::1]:80:80",
	"[::1]80",
	"[::1]]",
	"[[::1]]",
	"[1.2.3.4]",
	"[1.2.3.4]:80",
	"[:::]:80",
	"[::1]:03478",
};

START_TEST(parse_refuses_invalid_forms)
{
	struct tp_addr a, before;

	memset(&a, 0x5a, sizeof(a));
	before = a;
	ck_assert_msg(tp_addr_parse(&a, bad[_i]) == -TP_WIRE_EARG, "accepted \"%s\"", bad[_i]);
	ck_assert_mem_eq(&a, &before, sizeof(a)); /* untouched on failure */
	ck_assert_msg(tp_addr_parse_ip(&a, bad[_i]) == -TP_WIRE_EARG, "accepted ip \"%s\"",
		      bad[_i]);
}
END_TEST

START_TEST(parse_ip_refuses_ports_and_brackets)
{
	struct tp_addr a;

	ck_assert_int_eq(tp_addr_parse_ip(&a, "1.2.3.4"), 0);
	ck_assert_int_eq(tp_addr_parse_ip(&a, "::ffff:1.2.3.4"), 0);
	ck_assert_int_eq(a.family, TP_AF_INET6);
	ck_assert_int_eq(tp_addr_parse_ip(&a, "1.2.3.4:3478"), -TP_WIRE_EARG);
	ck_assert_int_eq(tp_addr_parse_ip(&a, "[::1]"), -TP_WIRE_EARG);
	ck_assert_int_eq(tp_addr_parse_ip(&a, "[::1]:3478"), -TP_WIRE_EARG);
	ck_assert_int_eq(tp_addr_parse_ip(NULL, "::1"), -TP_WIRE_EARG);
	ck_assert_int_eq(tp_addr_parse_ip(&a, NULL), -TP_WIRE_EARG);
	ck_assert_int_eq(tp_addr_parse(NULL, "::1"), -TP_WIRE_EARG);
	ck_assert_int_eq(tp_addr_parse(&a, NULL), -TP_WIRE_EARG);
}
END_TEST

START_TEST(parse_stores_network_order_bytes)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,    0,
					0,    0,    0,	  0,	0, 0, 0xab, 0xcd };
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4 };
	struct tp_addr a;

	ck_assert_int_eq(tp_addr_parse(&a, "192.0.2.1:258"), 0);
	ck_assert_mem_eq(a.ip, "\xc0\x00\x02\x01", 4);
	ck_assert_uint_eq(a.port, 258);
	ck_assert_int_eq(tp_addr_parse(&a, "2001:DB8::ABCD"), 0);
	ck_assert_mem_eq(a.ip, v6, 16);
	ck_assert_int_eq(tp_addr_parse(&a, "::ffff:1.2.3.4"), 0);
	ck_assert_mem_eq(a.ip, mapped, 16);
}
END_TEST

START_TEST(format_edges)
{
	struct tp_addr a;
	char buf[TP_ADDR_STRLEN];
	char small[8];

	/* The longest possible text fits TP_ADDR_STRLEN exactly. */
	ck_assert_int_eq(tp_addr_parse(&a, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), 0);
	ck_assert_uint_eq(tp_addr_format(&a, buf, sizeof(buf), true), TP_ADDR_STRLEN - 1);
	ck_assert_uint_eq(tp_addr_format(&a, buf, TP_ADDR_STRLEN - 1, true), 0);
	ck_assert_str_eq(buf, "");

	/* Port 0 is printed when asked for. */
	ck_assert_int_eq(tp_addr_parse(&a, "1.2.3.4"), 0);
	ck_assert_uint_eq(tp_addr_format(&a, buf, sizeof(buf), true), 9);
	ck_assert_str_eq(buf, "1.2.3.4:0");

	/* Too small: empty string, 0. Exactly big enough: the text. */
	ck_assert_uint_eq(tp_addr_format(&a, small, 7, false), 0);
	ck_assert_str_eq(small, "");
	ck_assert_uint_eq(tp_addr_format(&a, small, 8, false), 7);
	ck_assert_str_eq(small, "1.2.3.4");
	ck_assert_uint_eq(tp_addr_format(&a, small, 0, false), 0);

	/* An unset address has no text. */
	memset(&a, 0, sizeof(a));
	ck_assert_uint_eq(tp_addr_format(&a, buf, sizeof(buf), false), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(tp_addr_format(NULL, buf, sizeof(buf), false), 0);
	ck_assert_uint_eq(tp_addr_format(&a, NULL, 10, false), 0);
}
END_TEST

/* Every single zero field is written out, never compressed (RFC 5952 §4.2.2). */
START_TEST(format_never_compresses_one_zero_field)
{
	uint8_t ip[16];
	struct tp_addr a;
	char buf[TP_ADDR_STRLEN];

	for (int z = 0; z < 8; z++) {
		memset(ip, 0x11, sizeof(ip));
		ip[2 * z] = ip[2 * z + 1] = 0;
		tp_addr_set6(&a, ip, 0);
		tp_addr_format(&a, buf, sizeof(buf), false);
		ck_assert_ptr_null(strstr(buf, "::"));
		ck_assert_ptr_nonnull(strstr(buf, z == 0 ? "0:" : ":0"));
	}
}
END_TEST

/* ---- CIDR ---- */

struct cidr_good {
	const char *in;
	const char *net;
	unsigned prefix;
};

static const struct cidr_good cidr_good[] = {
	{ "10.0.0.0/8", "10.0.0.0", 8 },
	{ "10.1.2.3/8", "10.0.0.0", 8 }, /* host bits cleared */
	{ "0.0.0.0/0", "0.0.0.0", 0 },
	{ "255.255.255.255/0", "0.0.0.0", 0 },
	{ "100.127.255.255/10", "100.64.0.0", 10 },
	{ "1.2.3.4", "1.2.3.4", 32 },
	{ "1.2.3.5/31", "1.2.3.4", 31 },
	{ "192.168.255.255/9", "192.128.0.0", 9 },
	{ "fc00::/7", "fc00::", 7 },
	{ "fdff:ffff::1/7", "fc00::", 7 },
	{ "fe80::1/10", "fe80::", 10 },
	{ "febf:ffff::/10", "fe80::", 10 },
	{ "::/0", "::", 0 },
	{ "::1", "::1", 128 },
	{ "::1/128", "::1", 128 },
	{ "::3/127", "::2", 127 },
	{ "2001:db8::/32", "2001:db8::", 32 },
	{ "64:ff9b::/96", "64:ff9b::", 96 },
	{ "::ffff:10.0.0.0/104", "::ffff:10.0.0.0", 104 },
};

START_TEST(cidr_parse_valid)
{
	const struct cidr_good *g = &cidr_good[_i];
	struct tp_cidr c;
	char buf[TP_ADDR_STRLEN];

	ck_assert_msg(tp_cidr_parse(&c, g->in) == 0, "refused \"%s\"", g->in);
	ck_assert_uint_eq(c.prefix, g->prefix);
	ck_assert_uint_eq(c.addr.port, 0);
	tp_addr_format(&c.addr, buf, sizeof(buf), false);
	ck_assert_str_eq(buf, g->net);
}
END_TEST

static const char *const cidr_bad[] = {
	"",
	"/8",
	"10.0.0.0/",
	"10.0.0.0/33",
	"10.0.0.0/08",
	"10.0.0.0/-1",
	"10.0.0.0/+8",
	"10.0.0.0/8/8",
	"10.0.0.0/8 ",
	"10.0.0.0 /8",
	"10.0.0/8",
	"10.0.0.0:80/8",
	"::/129",
	"::/1280",
	"fc00::/007",
	"[fc00::]/7",
	"fc00:::/7",
	"1.2.3.4/4294967328",
};

START_TEST(cidr_parse_invalid)
{
	struct tp_cidr c, before;

	memset(&c, 0x77, sizeof(c));
	before = c;
	ck_assert_msg(tp_cidr_parse(&c, cidr_bad[_i]) == -TP_WIRE_EARG, "accepted \"%s\"",
		      cidr_bad[_i]);
	ck_assert_mem_eq(&c, &before, sizeof(c));
}
END_TEST

struct cidr_case {
	const char *cidr;
	const char *addr;
	bool match;
};

static const struct cidr_case cidr_cases[] = {
	/* /0 matches its family only */
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "::", false },
	{ "0.0.0.0/0", "::ffff:1.2.3.4", false },
	{ "::/0", "ffff::1", true },
	{ "::/0", "1.2.3.4", false },
	/* /7 */
	{ "fc00::/7", "fc00::", true },
	{ "fc00::/7", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "fc00::/7", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false },
	{ "fc00::/7", "fe00::", false },
	{ "2.0.0.0/7", "3.255.255.255", true },
	{ "2.0.0.0/7", "4.0.0.0", false },
	{ "2.0.0.0/7", "1.255.255.255", false },
	/* /9: one bit into the second byte */
	{ "10.0.0.0/9", "10.127.255.255", true },
	{ "10.0.0.0/9", "10.128.0.0", false },
	{ "10.128.0.0/9", "10.128.0.0", true },
	{ "10.128.0.0/9", "10.127.255.255", false },
	{ "2001:8000::/9", "2000::", true }, /* parsed as 2000::/9 */
	{ "2000::/9", "207f:ffff::", true },
	{ "2000::/9", "2080::", false },
	/* /10: the 100.64/10 and fe80::/10 boundaries */
	{ "100.64.0.0/10", "100.64.0.0", true },
	{ "100.64.0.0/10", "100.127.255.255", true },
	{ "100.64.0.0/10", "100.63.255.255", false },
	{ "100.64.0.0/10", "100.128.0.0", false },
	{ "fe80::/10", "fe80::1", true },
	{ "fe80::/10", "febf:ffff::", true },
	{ "fe80::/10", "fec0::", false },
	{ "fe80::/10", "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false },
	/* /31 and /127: the last bit decides */
	{ "1.2.3.4/31", "1.2.3.4", true },
	{ "1.2.3.4/31", "1.2.3.5", true },
	{ "1.2.3.4/31", "1.2.3.6", false },
	{ "1.2.3.4/31", "1.2.3.3", false },
	{ "::2/127", "::2", true },
	{ "::2/127", "::3", true },
	{ "::2/127", "::4", false },
	{ "::2/127", "::1", false },
	{ "::2/127", "1::2", false },
	/* /32 and /128: exact */
	{ "127.0.0.1", "127.0.0.1", true },
	{ "127.0.0.1/32", "127.0.0.2", false },
	{ "::1/128", "::1", true },
	{ "::1/128", "::", false },
	{ "::1/128", "8000::1", false },
	/* families never mix: a mapped address is IPv6 */
	{ "127.0.0.0/8", "::ffff:127.0.0.1", false },
	{ "::ffff:127.0.0.0/104", "::ffff:127.0.0.1", true },
	{ "::ffff:127.0.0.0/104", "127.0.0.1", false },
	/* a byte-wise compare of the partial byte would get these wrong */
	{ "192.168.0.0/16", "192.168.200.1", true },
	{ "172.16.0.0/12", "172.31.255.255", true },
	{ "172.16.0.0/12", "172.32.0.0", false },
	{ "2001::/23", "2001:1ff::", true },
	{ "2001::/23", "2001:200::", false },
	{ "198.18.0.0/15", "198.19.255.255", true },
	{ "198.18.0.0/15", "198.20.0.0", false },
};

START_TEST(cidr_match_boundaries)
{
	const struct cidr_case *t = &cidr_cases[_i];
	struct tp_cidr c;
	struct tp_addr a;

	ck_assert_int_eq(tp_cidr_parse(&c, t->cidr), 0);
	ck_assert_int_eq(tp_addr_parse_ip(&a, t->addr), 0);
	ck_assert_msg(tp_cidr_match(&c, &a) == t->match, "%s in %s: expected %d", t->addr, t->cidr,
		      t->match);
}
END_TEST

/* Every prefix length of both families, against addresses that differ in exactly one bit. */
START_TEST(cidr_match_every_prefix_length)
{
	for (int fam = 0; fam < 2; fam++) {
		unsigned bits = fam ? 128 : 32;
		uint8_t base[16];

		memset(base, 0xa5, sizeof(base));
		for (unsigned p = 0; p <= bits; p++) {
			struct tp_cidr c;

			memset(&c, 0, sizeof(c));
			if (fam)
				tp_addr_set6(&c.addr, base, 0);
			else
				tp_addr_set4(&c.addr, base, 0);
			c.prefix = (uint8_t)p;
			for (unsigned flip = 0; flip < bits; flip++) {
				struct tp_addr a = c.addr;

				a.ip[flip / 8] ^= (uint8_t)(0x80 >> flip % 8);
				ck_assert_msg(tp_cidr_match(&c, &a) == (flip >= p),
					      "fam %d prefix %u flip %u", fam, p, flip);
			}
			ck_assert(tp_cidr_match(&c, &c.addr));
		}
	}
}
END_TEST

START_TEST(cidr_match_rejects_nonsense)
{
	struct tp_cidr c;
	struct tp_addr unset;

	memset(&unset, 0, sizeof(unset));
	ck_assert_int_eq(tp_cidr_parse(&c, "0.0.0.0/0"), 0);
	ck_assert(!tp_cidr_match(&c, &unset));
	c.prefix = 33; /* corrupt: never matches rather than reading past the address */
	ck_assert(!tp_cidr_match(&c, &c.addr));
	memset(&c, 0, sizeof(c));
	ck_assert(!tp_cidr_match(&c, &unset));
	ck_assert(!tp_cidr_match(NULL, &unset));
	ck_assert(!tp_cidr_match(&c, NULL));
	ck_assert_int_eq(tp_cidr_parse(NULL, "::/0"), -TP_WIRE_EARG);
	ck_assert_int_eq(tp_cidr_parse(&c, NULL), -TP_WIRE_EARG);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("text");

	tcase_add_loop_test(tc, parse_valid_forms, 0, N(good));
	tcase_add_loop_test(tc, format_round_trips, 0, N(good));
	tcase_add_loop_test(tc, parse_refuses_invalid_forms, 0, N(bad));
	tcase_add_test(tc, parse_ip_refuses_ports_and_brackets);
	tcase_add_test(tc, parse_stores_network_order_bytes);
	tcase_add_test(tc, format_edges);
	tcase_add_test(tc, format_never_compresses_one_zero_field);
	suite_add_tcase(s, tc);

	tc = tcase_create("cidr");
	tcase_add_loop_test(tc, cidr_parse_valid, 0, N(cidr_good));
	tcase_add_loop_test(tc, cidr_parse_invalid, 0, N(cidr_bad));
	tcase_add_loop_test(tc, cidr_match_boundaries, 0, N(cidr_cases));
	tcase_add_test(tc, cidr_match_every_prefix_length);
	tcase_add_test(tc, cidr_match_rejects_nonsense);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
