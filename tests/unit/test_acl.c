/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Peer access control: every default range at its edges, every way of spelling an internal IPv4
 * address as IPv6 (CVE-2020-26262, CVE-2026-27624), and the operator's lists in the documented
 * order.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/addr.h>

#include "acl.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static struct tp_addr addr(const char *s)
{
	struct tp_addr a;

	ck_assert_msg(tp_addr_parse(&a, s) == 0, "bad test address %s", s);
	return a;
}

static struct tp_cidr cidr(const char *s)
{
	struct tp_cidr c;

	ck_assert_msg(tp_cidr_parse(&c, s) == 0, "bad test prefix %s", s);
	return c;
}

/* ---- configurations: each case below names one ---- */

enum scenario {
	S_DEFAULT,		  /* nothing configured */
	S_OPEN6,		  /* allow ::/0: no IPv6 container may open the IPv4 inside it */
	S_ALLOW_10_1,		  /* allow 10.1.0.0/16 */
	S_ALLOW_10_DENY,	  /* allow 10.0.0.0/8, deny 10.9.0.0/16 */
	S_ALLOW_DENY_10,	  /* allow 10.0.0.0/8, deny 10.0.0.0/8 */
	S_ALLOW_10_DENY_MAPPED,	  /* allow 10.0.0.0/8, deny ::ffff:10.0.0.0/104 */
	S_DENY_8_8_8,		  /* deny 8.8.8.0/24 */
	S_OWN,			  /* own addresses inside the allow list */
	S_LOOPBACK,		  /* allow_loopback */
	S_LOOPBACK_OWN,		  /* allow_loopback, the relay itself on 127.0.0.1 and ::1 */
	S_OWN_LOOPBACK_NO_SWITCH, /* own 127.0.0.1, allow 127.0.0.0/8, no allow_loopback */
	S_ALL_OPEN,		  /* allow 0.0.0.0/0 and ::/0, allow_loopback */
	S_LOOPBACK_DENY,	  /* allow_loopback, deny 127.0.0.0/8 */
	S_TEREDO_OPEN,		  /* allow 2001::/32 */
	S_COUNT
};

struct scenario_conf {
	const char *allow[4];
	const char *deny[4];
	const char *own[4];
	bool loopback;
};

static const struct scenario_conf confs[S_COUNT] = {
	[S_DEFAULT] = { { NULL }, { NULL }, { NULL }, false },
	[S_OPEN6] = { { "::/0" }, { NULL }, { NULL }, false },
	[S_ALLOW_10_1] = { { "10.1.0.0/16" }, { NULL }, { NULL }, false },
	[S_ALLOW_10_DENY] = { { "10.0.0.0/8" }, { "10.9.0.0/16" }, { NULL }, false },
	[S_ALLOW_DENY_10] = { { "10.0.0.0/8" }, { "10.0.0.0/8" }, { NULL }, false },
	[S_ALLOW_10_DENY_MAPPED] = { { "10.0.0.0/8" }, { "::ffff:10.0.0.0/104" }, { NULL }, false },
	[S_DENY_8_8_8] = { { NULL }, { "8.8.8.0/24" }, { NULL }, false },
	[S_OWN] = { { "1.2.3.0/24", "2606:4700::/32", "5.6.7.0/24" },
		    { NULL },
		    { "1.2.3.4:3478", "[2606:4700::5]:3478", "::ffff:5.6.7.8" },
		    false },
	[S_LOOPBACK] = { { NULL }, { NULL }, { NULL }, true },
	[S_LOOPBACK_OWN] = { { NULL }, { NULL }, { "127.0.0.1:3478", "[::1]:3478" }, true },
	[S_OWN_LOOPBACK_NO_SWITCH] = { { "127.0.0.0/8" }, { NULL }, { "127.0.0.1" }, false },
	[S_ALL_OPEN] = { { "0.0.0.0/0", "::/0" }, { NULL }, { NULL }, true },
	[S_LOOPBACK_DENY] = { { NULL }, { "127.0.0.0/8" }, { NULL }, true },
	[S_TEREDO_OPEN] = { { "2001::/32" }, { NULL }, { NULL }, false },
};

static struct tp_acl acls[S_COUNT];

static unsigned fill_cidrs(struct tp_cidr *out, const char *const *text)
{
	unsigned n = 0;

	while (n < 4 && text[n]) {
		out[n] = cidr(text[n]);
		n++;
	}
	return n;
}

static void acls_setup(void)
{
	struct tp_cidr allow[4], deny[4];
	struct tp_addr own[4];
	unsigned i, na, nd, no;

	for (i = 0; i < S_COUNT; i++) {
		na = fill_cidrs(allow, confs[i].allow);
		nd = fill_cidrs(deny, confs[i].deny);
		for (no = 0; no < 4 && confs[i].own[no]; no++)
			own[no] = addr(confs[i].own[no]);
		ck_assert_int_eq(tp_acl_init(&acls[i], na ? allow : NULL, na, nd ? deny : NULL, nd,
					     confs[i].loopback, no ? own : NULL, no),
				 0);
	}
}

static void acls_teardown(void)
{
	unsigned i;

	for (i = 0; i < S_COUNT; i++)
		tp_acl_fini(&acls[i]);
}

struct verdict {
	enum scenario s;
	const char *peer;
	bool allowed;
};

static void check_verdict(const struct verdict *v)
{
	struct tp_addr a = addr(v->peer);

	ck_assert_msg(tp_acl_allowed(&acls[v->s], &a) == v->allowed, "scenario %d: %s should be %s",
		      (int)v->s, v->peer, v->allowed ? "allowed" : "denied");
}

/* ---- the default deny list: first and last address of each range, and its neighbours ---- */

#define A true
#define D false

static const struct verdict edges[] = {
	/* 0.0.0.0/8 "this network" */
	{ S_DEFAULT, "0.0.0.0", D },
	{ S_DEFAULT, "0.0.0.1", D },
	{ S_DEFAULT, "0.255.255.255", D },
	{ S_DEFAULT, "1.0.0.0", A },
	/* 10.0.0.0/8 */
	{ S_DEFAULT, "9.255.255.255", A },
	{ S_DEFAULT, "10.0.0.0", D },
	{ S_DEFAULT, "10.255.255.255", D },
	{ S_DEFAULT, "11.0.0.0", A },
	/* 100.64.0.0/10 */
	{ S_DEFAULT, "100.63.255.255", A },
	{ S_DEFAULT, "100.64.0.0", D },
	{ S_DEFAULT, "100.127.255.255", D },
	{ S_DEFAULT, "100.128.0.0", A },
	/* 127.0.0.0/8 */
	{ S_DEFAULT, "126.255.255.255", A },
	{ S_DEFAULT, "127.0.0.0", D },
	{ S_DEFAULT, "127.255.255.255", D },
	{ S_DEFAULT, "128.0.0.0", A },
	/* 169.254.0.0/16 */
	{ S_DEFAULT, "169.253.255.255", A },
	{ S_DEFAULT, "169.254.0.0", D },
	{ S_DEFAULT, "169.254.255.255", D },
	{ S_DEFAULT, "169.255.0.0", A },
	/* 172.16.0.0/12 */
	{ S_DEFAULT, "172.15.255.255", A },
	{ S_DEFAULT, "172.16.0.0", D },
	{ S_DEFAULT, "172.31.255.255", D },
	{ S_DEFAULT, "172.32.0.0", A },
	/* 192.0.0.0/24 */
	{ S_DEFAULT, "191.255.255.255", A },
	{ S_DEFAULT, "192.0.0.0", D },
	{ S_DEFAULT, "192.0.0.255", D },
	{ S_DEFAULT, "192.0.1.0", A },
	/* 192.0.2.0/24 */
	{ S_DEFAULT, "192.0.1.255", A },
	{ S_DEFAULT, "192.0.2.0", D },
	{ S_DEFAULT, "192.0.2.255", D },
	{ S_DEFAULT, "192.0.3.0", A },
	/* 192.88.99.0/24 */
	{ S_DEFAULT, "192.88.98.255", A },
	{ S_DEFAULT, "192.88.99.0", D },
	{ S_DEFAULT, "192.88.99.255", D },
	{ S_DEFAULT, "192.88.100.0", A },
	/* 192.168.0.0/16 */
	{ S_DEFAULT, "192.167.255.255", A },
	{ S_DEFAULT, "192.168.0.0", D },
	{ S_DEFAULT, "192.168.255.255", D },
	{ S_DEFAULT, "192.169.0.0", A },
	/* 198.18.0.0/15 */
	{ S_DEFAULT, "198.17.255.255", A },
	{ S_DEFAULT, "198.18.0.0", D },
	{ S_DEFAULT, "198.19.255.255", D },
	{ S_DEFAULT, "198.20.0.0", A },
	/* 198.51.100.0/24 */
	{ S_DEFAULT, "198.51.99.255", A },
	{ S_DEFAULT, "198.51.100.0", D },
	{ S_DEFAULT, "198.51.100.255", D },
	{ S_DEFAULT, "198.51.101.0", A },
	/* 203.0.113.0/24 */
	{ S_DEFAULT, "203.0.112.255", A },
	{ S_DEFAULT, "203.0.113.0", D },
	{ S_DEFAULT, "203.0.113.255", D },
	{ S_DEFAULT, "203.0.114.0", A },
	/* 224.0.0.0/4 and 240.0.0.0/4, up to the limited broadcast address */
	{ S_DEFAULT, "223.255.255.255", A },
	{ S_DEFAULT, "224.0.0.0", D },
	{ S_DEFAULT, "239.255.255.255", D },
	{ S_DEFAULT, "240.0.0.0", D },
	{ S_DEFAULT, "255.255.255.254", D },
	{ S_DEFAULT, "255.255.255.255", D },
	/* ::/128 and ::1/128; ::2 is IPv4-compatible 0.0.0.2, inside 0.0.0.0/8 */
	{ S_DEFAULT, "::", D },
	{ S_DEFAULT, "::1", D },
	{ S_DEFAULT, "::2", D },
	{ S_DEFAULT, "::1:0:0", A },
	/* 64:ff9b:1::/48 */
	{ S_DEFAULT, "64:ff9b:0:ffff:ffff:ffff:ffff:ffff", A },
	{ S_DEFAULT, "64:ff9b:1::", D },
	{ S_DEFAULT, "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", D },
	{ S_DEFAULT, "64:ff9b:2::", A },
	/* 100::/64 */
	{ S_DEFAULT, "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A },
	{ S_DEFAULT, "100::", D },
	{ S_DEFAULT, "100::ffff:ffff:ffff:ffff", D },
	{ S_DEFAULT, "100:0:0:1::", A },
	/* 2001::/23 */
	{ S_DEFAULT, "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A },
	{ S_DEFAULT, "2001::", D },
	{ S_DEFAULT, "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", D },
	{ S_DEFAULT, "2001:200::", A },
	/* 2001:db8::/32 */
	{ S_DEFAULT, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", A },
	{ S_DEFAULT, "2001:db8::", D },
	{ S_DEFAULT, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", D },
	{ S_DEFAULT, "2001:db9::", A },
	/* fc00::/7 */
	{ S_DEFAULT, "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A },
	{ S_DEFAULT, "fbff::", A },
	{ S_DEFAULT, "fc00::", D },
	{ S_DEFAULT, "fdff:ffff::", D },
	{ S_DEFAULT, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", D },
	{ S_DEFAULT, "fe00::", A },
	/* fe80::/10 */
	{ S_DEFAULT, "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A },
	{ S_DEFAULT, "fe7f:ffff::1", A },
	{ S_DEFAULT, "fe80::", D },
	{ S_DEFAULT, "fe80::1", D },
	{ S_DEFAULT, "febf:ffff::1", D },
	{ S_DEFAULT, "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", D },
	{ S_DEFAULT, "fec0::", A },
	{ S_DEFAULT, "fec0::1", A },
	/* ff00::/8 */
	{ S_DEFAULT, "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A },
	{ S_DEFAULT, "ff00::", D },
	{ S_DEFAULT, "ff02::1", D },
	{ S_DEFAULT, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", D },
	/* public addresses, with and without ports, and their embedded spellings */
	{ S_DEFAULT, "8.8.8.8", A },
	{ S_DEFAULT, "8.8.8.8:53", A },
	{ S_DEFAULT, "2606:4700::1111", A },
	{ S_DEFAULT, "[2606:4700::1111]:443", A },
	{ S_DEFAULT, "::ffff:8.8.8.8", A },
	{ S_DEFAULT, "[::ffff:8.8.8.8]:3478", A },
	{ S_DEFAULT, "64:ff9b::808:808", A },
	{ S_DEFAULT, "::8.8.8.8", A },
	{ S_DEFAULT, "2002:808:808::1", A },
};

START_TEST(default_range_edges)
{
	check_verdict(&edges[_i]);
}
END_TEST

/* ---- an internal IPv4 address in every IPv6 spelling: refused even when ::/0 is allowed ---- */

static const char *const internal[] = {
	/* 127.0.0.1 */
	"127.0.0.1",
	"::ffff:127.0.0.1",
	"[::ffff:127.0.0.1]:3478",
	"::127.0.0.1",
	"64:ff9b::7f00:1",
	"2002:7f00:1::",
	"2002:7f00:1:1::1",
	"2001:0:4136:e378:8000:63bf:80ff:fffe", /* Teredo client 127.0.0.1 */
	/* 10.0.0.1 */
	"10.0.0.1",
	"::ffff:10.0.0.1",
	"::10.0.0.1",
	"64:ff9b::a00:1",
	"2002:a00:1::",
	"2001:0:4136:e378:8000:63bf:f5ff:fffe",
	/* 192.168.1.1 */
	"192.168.1.1",
	"::ffff:192.168.1.1",
	"::192.168.1.1",
	"64:ff9b::c0a8:101",
	"2002:c0a8:101::",
	"2001:0:4136:e378:8000:63bf:3f57:fefe",
	/* Teredo via an internal server 10.0.0.1 or 127.0.0.1, to a public client 8.8.8.8 */
	"2001:0:a00:1:8000:63bf:f7f7:f7f7",
	"2001:0:7f00:1:8000:63bf:f7f7:f7f7",
	/* the unspecified address, spelt out */
	"0.0.0.0",
	"::",
	"::ffff:0.0.0.0",
	"64:ff9b::",
	"2002::",
	"[::ffff:0.0.0.0]:1",
};

START_TEST(bypass_forms_denied_by_default)
{
	struct verdict v = { S_DEFAULT, internal[_i], false };

	check_verdict(&v);
}
END_TEST

START_TEST(bypass_forms_denied_with_ipv6_open)
{
	struct verdict v = { S_OPEN6, internal[_i], false };

	check_verdict(&v);
}
END_TEST

/* ---- the operator's lists, own addresses and the loopback switch ---- */

static const struct verdict operator_cases[] = {
	/* allowing all of IPv6 opens IPv6, and public IPv4 stays reachable */
	{ S_OPEN6, "fc00::1", A },
	{ S_OPEN6, "2001:db8::1", A },
	{ S_OPEN6, "::ffff:8.8.8.8", A },
	{ S_OPEN6, "2002:808:808::", A },
	{ S_OPEN6, "::1", A }, /* the operator said so; ::ffff:127.0.0.1 stays denied above */
	/* allow 10.1.0.0/16: only that /16 opens, in every spelling */
	{ S_ALLOW_10_1, "10.1.0.0", A },
	{ S_ALLOW_10_1, "10.1.255.255", A },
	{ S_ALLOW_10_1, "::ffff:10.1.2.3", A },
	{ S_ALLOW_10_1, "64:ff9b::a01:203", A },
	{ S_ALLOW_10_1, "10.0.255.255", D },
	{ S_ALLOW_10_1, "10.2.0.0", D },
	{ S_ALLOW_10_1, "10.2.0.1", D },
	{ S_ALLOW_10_1, "::ffff:10.2.0.1", D },
	{ S_ALLOW_10_1, "192.168.1.1", D },
	/* allow 10.0.0.0/8 with deny 10.9.0.0/16: the deny wins in every spelling */
	{ S_ALLOW_10_DENY, "10.1.0.1", A },
	{ S_ALLOW_10_DENY, "10.9.0.1", D },
	{ S_ALLOW_10_DENY, "::ffff:10.9.0.1", D },
	{ S_ALLOW_10_DENY, "::10.9.0.1", D },
	{ S_ALLOW_10_DENY, "64:ff9b::a09:1", D },
	{ S_ALLOW_10_DENY, "2002:a09:1::", D },
	{ S_ALLOW_10_DENY, "10.10.0.1", A },
	/* the same range allowed and denied: denied, in every spelling */
	{ S_ALLOW_DENY_10, "10.1.2.3", D },
	{ S_ALLOW_DENY_10, "::ffff:10.1.2.3", D },
	{ S_ALLOW_DENY_10, "::10.1.2.3", D },
	{ S_ALLOW_DENY_10, "64:ff9b::a01:203", D },
	/* a deny written as ::ffff:10.0.0.0/104 closes the mapped spelling, not plain IPv4 */
	{ S_ALLOW_10_DENY_MAPPED, "10.1.2.3", A },
	{ S_ALLOW_10_DENY_MAPPED, "::ffff:10.1.2.3", D },
	{ S_ALLOW_10_DENY_MAPPED, "[::ffff:10.255.255.255]:9", D },
	/* deny 8.8.8.0/24 closes a public range in every spelling */
	{ S_DENY_8_8_8, "8.8.7.255", A },
	{ S_DENY_8_8_8, "8.8.8.0", D },
	{ S_DENY_8_8_8, "8.8.8.8", D },
	{ S_DENY_8_8_8, "8.8.8.255", D },
	{ S_DENY_8_8_8, "8.8.9.0", A },
	{ S_DENY_8_8_8, "::ffff:8.8.8.8", D },
	{ S_DENY_8_8_8, "::8.8.8.8", D },
	{ S_DENY_8_8_8, "64:ff9b::808:808", D },
	{ S_DENY_8_8_8, "2002:808:808::1", D },
	{ S_DENY_8_8_8, "1.1.1.1", A },
	/* own addresses are refused though the allow list covers them; ports do not matter */
	{ S_OWN, "1.2.3.4", D },
	{ S_OWN, "1.2.3.4:3478", D },
	{ S_OWN, "1.2.3.4:9999", D },
	{ S_OWN, "::ffff:1.2.3.4", D },
	{ S_OWN, "64:ff9b::102:304", D },
	{ S_OWN, "1.2.3.5", A },
	{ S_OWN, "2606:4700::5", D },
	{ S_OWN, "2606:4700::6", A },
	{ S_OWN, "5.6.7.8", D }, /* configured as ::ffff:5.6.7.8 */
	{ S_OWN, "::ffff:5.6.7.8", D },
	{ S_OWN, "5.6.7.9", A },
	/* allow_loopback off (the default) and on */
	{ S_DEFAULT, "127.0.0.1", D },
	{ S_DEFAULT, "127.1.2.3", D },
	{ S_DEFAULT, "::1", D },
	{ S_DEFAULT, "::ffff:127.0.0.1", D },
	{ S_LOOPBACK, "127.0.0.1", A },
	{ S_LOOPBACK, "127.1.2.3", A },
	{ S_LOOPBACK, "127.255.255.255", A },
	{ S_LOOPBACK, "::1", A },
	{ S_LOOPBACK, "[::1]:5000", A },
	{ S_LOOPBACK, "::ffff:127.0.0.1", A },
	{ S_LOOPBACK, "10.0.0.1", D }, /* the switch opens loopback only */
	{ S_LOOPBACK, "::ffff:10.0.0.1", D },
	{ S_LOOPBACK, "0.0.0.0", D },
	{ S_LOOPBACK, "::", D },
	/* the test set-up: relay on 127.0.0.1, peers on 127.0.0.1 */
	{ S_LOOPBACK_OWN, "127.0.0.1", A },
	{ S_LOOPBACK_OWN, "127.0.0.1:3478", A },
	{ S_LOOPBACK_OWN, "::1", A },
	{ S_LOOPBACK_OWN, "::ffff:127.0.0.1", A },
	/* without the switch an own loopback address is refused even when allowed */
	{ S_OWN_LOOPBACK_NO_SWITCH, "127.0.0.1", D },
	{ S_OWN_LOOPBACK_NO_SWITCH, "::ffff:127.0.0.1", D },
	{ S_OWN_LOOPBACK_NO_SWITCH, "127.0.0.2", A }, /* step 4 comes before step 5 */
	/* the unspecified address is refused whatever is allowed; the rest of 0/8 can be opened */
	{ S_ALL_OPEN, "0.0.0.0", D },
	{ S_ALL_OPEN, "0.0.0.0:3478", D },
	{ S_ALL_OPEN, "::", D },
	{ S_ALL_OPEN, "::ffff:0.0.0.0", D },
	{ S_ALL_OPEN, "64:ff9b::", D },
	{ S_ALL_OPEN, "2002::1", D },
	{ S_ALL_OPEN, "0.0.0.1", A },
	{ S_ALL_OPEN, "10.0.0.1", A },
	{ S_ALL_OPEN, "::ffff:10.0.0.1", A },
	{ S_ALL_OPEN, "fe80::1", A },
	/* the operator's deny beats the loopback switch */
	{ S_LOOPBACK_DENY, "127.0.0.1", D },
	{ S_LOOPBACK_DENY, "::ffff:127.0.0.1", D },
	{ S_LOOPBACK_DENY, "::127.0.0.1", D },
	{ S_LOOPBACK_DENY, "::1", A },
	/* Teredo opened: public server and client pass; an internal one on either side does not */
	{ S_DEFAULT, "2001:0:4136:e378:8000:63bf:f7f7:f7f7", D },
	{ S_TEREDO_OPEN, "2001:0:4136:e378:8000:63bf:f7f7:f7f7", A },
	{ S_TEREDO_OPEN, "2001:0:4136:e378:8000:63bf:80ff:fffe", D },
	{ S_TEREDO_OPEN, "2001:0:4136:e378:8000:63bf:f5ff:fffe", D },
	{ S_TEREDO_OPEN, "2001:0:4136:e378:8000:63bf:3f57:fefe", D },
	{ S_TEREDO_OPEN, "2001:0:a00:1:8000:63bf:f7f7:f7f7", D },
	{ S_TEREDO_OPEN, "2001:0:7f00:1:8000:63bf:f7f7:f7f7", D },
	{ S_TEREDO_OPEN, "2001:0:c0a8:101:8000:63bf:f7f7:f7f7", D },
	{ S_TEREDO_OPEN, "2001:0:4136:e378:8000:63bf:ffff:ffff", D }, /* client 0.0.0.0 */
	{ S_TEREDO_OPEN, "2001:1::1", D }, /* outside 2001::/32, still in 2001::/23 */
};

START_TEST(operator_lists)
{
	check_verdict(&operator_cases[_i]);
}
END_TEST

/* ---- tp_acl_canonical: input, expected output; ports must survive ---- */

struct canon {
	const char *in;
	const char *out;
};

static const struct canon canons[] = {
	{ "1.2.3.4:80", "1.2.3.4:80" },
	{ "127.0.0.1", "127.0.0.1" },
	{ "[::ffff:127.0.0.1]:5000", "127.0.0.1:5000" },
	{ "::ffff:10.0.0.1", "10.0.0.1" },
	{ "[::ffff:8.8.8.8]:3478", "8.8.8.8:3478" },
	{ "[::127.0.0.1]:1", "127.0.0.1:1" },
	{ "[::192.168.1.1]:65535", "192.168.1.1:65535" },
	{ "[::2]:9", "0.0.0.2:9" },
	{ "[::]:9", "[::]:9" },
	{ "[::1]:9", "[::1]:9" },
	{ "[64:ff9b::7f00:1]:3478", "127.0.0.1:3478" },
	{ "64:ff9b::808:808", "8.8.8.8" },
	{ "[2002:7f00:1::]:7", "127.0.0.1:7" },
	{ "[2002:c0a8:101:1::1]:7", "192.168.1.1:7" },
	{ "2002:a00:1:ffff:ffff:ffff:ffff:ffff", "10.0.0.1" },
	{ "[2001:0:4136:e378:8000:63bf:80ff:fffe]:4000", "127.0.0.1:4000" },
	{ "2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1" },
	{ "2001:0:4136:e378:8000:63bf:3f57:fefe", "192.168.1.1" },
	/* no IPv4 inside: unchanged */
	{ "[2001:db8::1]:1", "[2001:db8::1]:1" },
	{ "[2001:1::a00:1]:1", "[2001:1::a00:1]:1" },
	{ "[64:ff9b:1::a00:1]:2", "[64:ff9b:1::a00:1]:2" },
	{ "[64:ff9b::1:a00:1]:2", "[64:ff9b::1:a00:1]:2" },
	{ "::ffff:0:a00:1", "::ffff:0:a00:1" },
	{ "::1:0:0:1", "::1:0:0:1" },
	{ "[2606:4700::1111]:443", "[2606:4700::1111]:443" },
	{ "fe80::1", "fe80::1" },
	{ "2003::a00:1", "2003::a00:1" },
};

START_TEST(canonical_forms)
{
	struct tp_addr in = addr(canons[_i].in), want = addr(canons[_i].out), out;
	char got[TP_ADDR_STRLEN];

	memset(&out, 0xa5, sizeof(out));
	tp_acl_canonical(&in, &out);
	tp_addr_format(&out, got, sizeof(got), true);
	ck_assert_msg(tp_addr_eq(&out, &want) && out.reserved == 0 &&
			      memcmp(out.ip + tp_addr_iplen(&out), want.ip + tp_addr_iplen(&want),
				     16 - tp_addr_iplen(&want)) == 0,
		      "%s: got %s, want %s", canons[_i].in, got, canons[_i].out);

	/* in place */
	tp_acl_canonical(&in, &in);
	ck_assert(tp_addr_eq(&in, &want));
}
END_TEST

/* ---- set-up ---- */

START_TEST(default_list_is_the_design_list)
{
	static const char *const design[] = {
		"0.0.0.0/8",	  "10.0.0.0/8",	    "100.64.0.0/10", "127.0.0.0/8",
		"169.254.0.0/16", "172.16.0.0/12",  "192.0.0.0/24",  "192.0.2.0/24",
		"192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4",    "240.0.0.0/4",   "::/128",
		"::1/128",	  "64:ff9b:1::/48", "100::/64",	     "2001::/23",
		"2001:db8::/32",  "fc00::/7",	    "fe80::/10",     "ff00::/8",
	};
	struct tp_acl acl;
	unsigned i, j, found;

	ck_assert_int_eq(tp_acl_init(&acl, NULL, 0, NULL, 0, false, NULL, 0), 0);
	ck_assert_uint_eq(acl.n_defaults, (unsigned)N(design));
	for (i = 0; i < (unsigned)N(design); i++) {
		struct tp_cidr c = cidr(design[i]);

		found = 0;
		for (j = 0; j < acl.n_defaults; j++)
			found += acl.defaults[j].prefix == c.prefix &&
				 tp_addr_eq(&acl.defaults[j].addr, &c.addr);
		ck_assert_msg(found == 1, "%s listed %u times", design[i], found);
	}
	tp_acl_fini(&acl);
}
END_TEST

START_TEST(init_copies_the_lists)
{
	struct tp_cidr allow[1] = { cidr("10.1.0.0/16") }, deny[1] = { cidr("8.8.8.0/24") };
	struct tp_addr own[1] = { addr("9.9.9.9") }, a;
	struct tp_acl acl;

	ck_assert_int_eq(tp_acl_init(&acl, allow, 1, deny, 1, false, own, 1), 0);
	ck_assert_ptr_ne(acl.allow, allow);
	memset(allow, 0, sizeof(allow));
	memset(deny, 0, sizeof(deny));
	memset(own, 0, sizeof(own));
	a = addr("10.1.0.1");
	ck_assert(tp_acl_allowed(&acl, &a));
	a = addr("8.8.8.8");
	ck_assert(!tp_acl_allowed(&acl, &a));
	a = addr("9.9.9.9");
	ck_assert(!tp_acl_allowed(&acl, &a));
	a = addr("9.9.9.8");
	ck_assert(tp_acl_allowed(&acl, &a));
	tp_acl_fini(&acl);
	tp_acl_fini(&acl); /* twice is harmless */
	ck_assert_ptr_null(acl.allow);
	ck_assert_uint_eq(acl.n_allow, 0);
}
END_TEST

START_TEST(init_refuses_bad_lists)
{
	struct tp_cidr good = cidr("10.0.0.0/8"), v4_33 = good, v6_129 = cidr("fc00::/7"),
		       nofam = good;
	struct tp_addr own_nofam = addr("1.2.3.4");
	struct tp_acl acl;

	v4_33.prefix = 33;
	v6_129.prefix = 129;
	nofam.addr.family = 0;
	own_nofam.family = 7;

	ck_assert_int_eq(tp_acl_init(&acl, NULL, 1, NULL, 0, false, NULL, 0), -EINVAL);
	ck_assert_int_eq(tp_acl_init(&acl, NULL, 0, NULL, 2, false, NULL, 0), -EINVAL);
	ck_assert_int_eq(tp_acl_init(&acl, NULL, 0, NULL, 0, false, NULL, 3), -EINVAL);
	ck_assert_int_eq(tp_acl_init(&acl, &good, 1, NULL, 0, false, NULL, 1), -EINVAL);
	ck_assert_ptr_null(acl.allow); /* emptied on failure */
	ck_assert_uint_eq(acl.n_allow, 0);
	ck_assert_int_eq(tp_acl_init(&acl, &v4_33, 1, NULL, 0, false, NULL, 0), -EINVAL);
	ck_assert_int_eq(tp_acl_init(&acl, NULL, 0, &v6_129, 1, false, NULL, 0), -EINVAL);
	ck_assert_int_eq(tp_acl_init(&acl, &nofam, 1, NULL, 0, false, NULL, 0), -EINVAL);
	ck_assert_int_eq(tp_acl_init(&acl, NULL, 0, NULL, 0, false, &own_nofam, 1), -EINVAL);
	tp_acl_fini(&acl);

	/* the longest prefixes are fine */
	v4_33.prefix = 32;
	v6_129.prefix = 128;
	ck_assert_int_eq(tp_acl_init(&acl, &v4_33, 1, &v6_129, 1, false, NULL, 0), 0);
	tp_acl_fini(&acl);
}
END_TEST

START_TEST(unset_peer_is_refused)
{
	struct tp_acl acl;
	struct tp_addr a;
	struct tp_cidr all = cidr("0.0.0.0/0");

	ck_assert_int_eq(tp_acl_init(&acl, &all, 1, NULL, 0, true, NULL, 0), 0);
	memset(&a, 0, sizeof(a));
	ck_assert(!tp_acl_allowed(&acl, &a));
	a = addr("8.8.8.8");
	a.family = 3;
	ck_assert(!tp_acl_allowed(&acl, &a));
	tp_acl_fini(&acl);
}
END_TEST

static Suite *acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("verdicts");

	tcase_add_unchecked_fixture(tc, acls_setup, acls_teardown);
	tcase_add_loop_test(tc, default_range_edges, 0, N(edges));
	tcase_add_loop_test(tc, bypass_forms_denied_by_default, 0, N(internal));
	tcase_add_loop_test(tc, bypass_forms_denied_with_ipv6_open, 0, N(internal));
	tcase_add_loop_test(tc, operator_lists, 0, N(operator_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("canonical");
	tcase_add_loop_test(tc, canonical_forms, 0, N(canons));
	suite_add_tcase(s, tc);

	tc = tcase_create("setup");
	tcase_add_test(tc, default_list_is_the_design_list);
	tcase_add_test(tc, init_copies_the_lists);
	tcase_add_test(tc, init_refuses_bad_lists);
	tcase_add_test(tc, unset_peer_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acl_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
