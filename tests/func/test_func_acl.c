/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The peer access list through the real relay, configured as in production
 * (peers.allow_loopback false): every address form of DESIGN.md §7 is refused with 403, a
 * public address is accepted. Only CreatePermission and ChannelBind requests name those
 * addresses: nothing is ever sent to anything but loopback.
 */
#include <string.h>

#include <turnpike/stun.h>

#include "func.h"

/* Denied peers, each in the form that once slipped through somewhere. */
static const char *const denied[] = {
	"0.0.0.0",
	"::",
	"127.0.0.1",
	"127.1.2.3",
	"::1",
	"::ffff:127.0.0.1",			/* IPv4-mapped (CVE-2026-27624) */
	"::127.0.0.1",				/* IPv4-compatible */
	"64:ff9b::7f00:1",			/* NAT64 */
	"2002:7f00:1::",			/* 6to4 */
	"2001:0:4136:e378:8000:63bf:80ff:fffe", /* Teredo, client 127.0.0.1 (bits inverted) */
	"10.0.0.1",
	"::ffff:10.0.0.1",
	"172.16.0.1",
	"192.168.1.1",
	"2002:c0a8:101::",   /* 6to4 of 192.168.1.1 */
	"64:ff9b::a9fe:101", /* NAT64 of 169.254.1.1 */
	"169.254.1.1",
	"100.64.0.1",
	"192.0.2.1",
	"198.18.0.1",
	"224.0.0.1",
	"255.255.255.255",
	"fe80::1",
	"fc00::1",
	"fd12:3456::1",
	"ff02::1",
	"2001:db8::1",
	"64:ff9b:1::1",
	"100::1",
};

/* Public addresses: allowed, and never sent anything. */
static const char *const allowed[] = {
	"8.8.8.8",
	"2001:4860:4860::8888",
	"::ffff:8.8.8.8",
};

static struct tp_addr peer_at(const char *ip)
{
	struct tp_addr a = tcl_addr(ip);

	ck_assert_msg(a.family, "bad test address %s", ip);
	a.port = 5000;
	return a;
}

START_TEST(acl_every_address_form_403)
{
	struct tcl *c;

	start_relay(&(struct relay_conf){ .no_loopback = true });
	c = cl_open(TCL_UDP, TP_AF_INET);
	/* Both families, so that 443 never answers in place of 403. */
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .add_family = TP_AF_INET6 }), 0);
	ck_assert_uint_eq(c->n_relay, 2);
	for (unsigned i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		struct tp_addr peer = peer_at(denied[i]);
		int rc = tcl_permit(c, &peer, 1);

		ck_assert_msg(rc == 403, "CreatePermission %s: %d, want 403 (%s)", denied[i], rc,
			      c->err);
		ck_assert_int_eq(c->integrity, 1);
		rc = tcl_bind(c, (uint16_t)(0x4000 + i), &peer);
		ck_assert_msg(rc == 403, "ChannelBind %s: %d, want 403 (%s)", denied[i], rc,
			      c->err);
	}
	for (unsigned i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		struct tp_addr peer = peer_at(allowed[i]);
		int rc = tcl_permit(c, &peer, 1);

		ck_assert_msg(rc == 0, "CreatePermission %s: %d, want success (%s)", allowed[i], rc,
			      c->err);
	}
	/* One denied peer among allowed ones refuses the whole request. */
	{
		struct tp_addr two[2] = { peer_at("8.8.4.4"), peer_at("::ffff:127.0.0.1") };

		EXPECT(c, tcl_permit(c, two, 2), 403);
	}
	/* Every refusal was counted as a 403 response. */
	ck_assert_uint_eq(relay_metric(&R, "turnpike_error_responses_total{code=\"403\"}"),
			  2 * (sizeof(denied) / sizeof(denied[0])) + 1);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_events_total{event=\"perm_created\"}"),
			  sizeof(allowed) / sizeof(allowed[0]));
}
END_TEST

START_TEST(acl_own_addresses_even_when_allowed)
{
	struct tcl *c;
	struct tcl_peer *p2, *own;
	static const char *const own_forms[] = { "127.0.0.1", "::ffff:127.0.0.1", "::1" };

	/* 127.0.0.0/8 and ::1 allowed explicitly: the relay's own addresses stay refused. */
	start_relay(&(struct relay_conf){ .no_loopback = true,
					  .peers_allow = "[\"127.0.0.0/8\", \"::1/128\"]" });
	c = cl_open(TCL_TCP, TP_AF_INET);
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .add_family = TP_AF_INET6 }), 0);
	for (unsigned i = 0; i < 3; i++) {
		struct tp_addr peer = peer_at(own_forms[i]);
		int rc = tcl_permit(c, &peer, 1);

		ck_assert_msg(rc == 403, "own address %s: %d, want 403", own_forms[i], rc);
	}
	/* Another allowed loopback address relays both ways. */
	p2 = peer_open_ip("127.0.0.2");
	own = peer_open_ip("127.0.0.1");
	EXPECT(c, tcl_permit(c, &p2->addr, 1), 0);
	EXPECT(c, tcl_send(c, &p2->addr, "allowed", 7, false), 0);
	peer_expect(p2, "allowed", 7, &c->relay[0]);
	ck_assert_int_eq(tcl_peer_send(p2, &c->relay[0], "reply", 5), 0);
	client_expect_data(c, 0, &p2->addr, "reply", 5);
	/* Data from the relay's own address is dropped, and a Send there goes nowhere. */
	ck_assert_int_eq(tcl_peer_send(own, &c->relay[0], "from own", 8), 0);
	EXPECT(c, tcl_send(c, &own->addr, "to own", 6, false), 0);
	wait_metric(DROPS("NO_PERMISSION"), 2);
	client_expect_nothing(c, 0);
	peer_expect_nothing(own, 0);
}
END_TEST

TCase *func_tcase_acl(void)
{
	TCase *tc = tcase_create("acl");

	tcase_add_checked_fixture(tc, func_setup, func_teardown);
	tcase_set_timeout(tc, func_timeout(60));
	FUNC_ADD_TEST(tc, acl_every_address_form_403, 0);
	FUNC_ADD_TEST(tc, acl_own_addresses_even_when_allowed, FUNC_LOOPBACK);
	return tc;
}
