/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every error code the relay sends, each provoked through the real binary: 400, 401, 403, 420,
 * 437, 440, 441, 442, 443, 486 and 508 (438 is in the auth cases). A response to a request
 * that passed authentication carries MESSAGE-INTEGRITY; one that did not, none.
 */
#include <string.h>
#include <time.h>

#include <turnpike/byteorder.h>
#include <turnpike/stun.h>

#include "func.h"

static unsigned created(void)
{
	return relay_log_count(&R, "allocation created");
}

START_TEST(err_400_bad_requests)
{
	struct tcl *c;
	struct tcl_peer *p;
	uint8_t two[2] = { 17, 0 };

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	p = peer_open(TP_AF_INET);
	/* Allocate without REQUESTED-TRANSPORT, or with one of the wrong length. */
	EXPECT(c, tcl_request(c, &(struct tcl_req){ .method = TP_STUN_ALLOCATE }), 400);
	ck_assert_int_eq(c->integrity, 1);
	EXPECT(c,
	       tcl_request(c, &(struct tcl_req){ .method = TP_STUN_ALLOCATE,
						 .extra_type = TP_STUN_ATTR_REQUESTED_TRANSPORT,
						 .extra = two,
						 .extra_len = sizeof(two) }),
	       400);
	ck_assert_uint_eq(created(), 0);
	/* ADDITIONAL-ADDRESS-FAMILY must be IPv6, and never with REQUESTED-ADDRESS-FAMILY. */
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .add_family = TP_AF_INET }), 400);
	EXPECT(c,
	       tcl_allocate(c,
			    &(struct tcl_req){ .family = TP_AF_INET, .add_family = TP_AF_INET6 }),
	       400);
	ck_assert_uint_eq(created(), 0);
	/* Channel numbers outside 0x4000-0x7FFF, and ChannelBind without its attributes. */
	EXPECT(c, tcl_allocate(c, NULL), 0);
	EXPECT(c, tcl_bind(c, 0x3FFF, &p->addr), 400);
	ck_assert_int_eq(c->integrity, 1);
	EXPECT(c, tcl_bind(c, 0xFFFF, &p->addr), 400);
	EXPECT(c,
	       tcl_request(c, &(struct tcl_req){ .method = TP_STUN_CHANNEL_BIND,
						 .peers = { p->addr },
						 .n_peers = 1 }),
	       400);
	EXPECT(c,
	       tcl_request(c, &(struct tcl_req){ .method = TP_STUN_CHANNEL_BIND,
						 .has_channel = true,
						 .channel = 0x4000 }),
	       400);
	/* Unknown methods (RFC 8489 §6.3.1), with or without credentials. */
	EXPECT(c, tcl_request(c, &(struct tcl_req){ .method = 0x0FF, .noauth = true }), 400);
	ck_assert_int_eq(c->integrity, 0);
	EXPECT(c, tcl_request(c, &(struct tcl_req){ .method = 0x00A }), 400);
	ck_assert_uint_eq(created(), 1);
}
END_TEST

START_TEST(err_401_unauthorized)
{
	struct tcl *c;
	struct tcl_req alloc = { .method = TP_STUN_ALLOCATE, .transport = 17 };
	int mi;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	/* No credentials. */
	alloc.noauth = true;
	EXPECT(c, tcl_request(c, &alloc), 401);
	ck_assert_int_eq(c->integrity, 0);
	alloc.noauth = false;
	/* A wrong password, an unknown user. */
	tcl_set_user(c, H_USER, "not the password");
	EXPECT(c, tcl_allocate(c, NULL), 401);
	tcl_set_user(c, "mallory", H_PASS);
	EXPECT(c, tcl_allocate(c, NULL), 401);
	/* The right password, but the MESSAGE-INTEGRITY damaged on the way. */
	tcl_set_user(c, H_USER, H_PASS);
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .noauth = true }), 401);
	EXPECT(c, tcl_learn(c), 0);
	EXPECT(c, tcl_build(c, &alloc), 0);
	{
		struct tp_stun_msg m;

		ck_assert_int_eq(tp_stun_parse(&m, c->req, c->req_len), 0);
		mi = m.mi_off;
		ck_assert_int_gt(mi, 0);
		c->req[mi + 4 + 7] ^= 0x01;
	}
	EXPECT(c, tcl_transact(c, TCL_TIMEOUT_MS), 401);
	ck_assert_int_eq(c->integrity, 0);
	/* A nonce the relay did not make. */
	c->nonce[c->nonce_len - 1] ^= 0x01;
	EXPECT(c, tcl_build(c, &alloc), 0);
	EXPECT(c, tcl_transact(c, TCL_TIMEOUT_MS), 401);
	/* Another realm. */
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .noauth = true }), 401);
	EXPECT(c, tcl_learn(c), 0);
	memcpy(c->realm, "other", 6);
	c->realm_len = 5;
	EXPECT(c, tcl_build(c, &alloc), 0);
	EXPECT(c, tcl_transact(c, TCL_TIMEOUT_MS), 401);
	ck_assert_uint_eq(created(), 0);
	/* And after all that, the right credentials work on the same 5-tuple. */
	EXPECT(c, tcl_allocate(c, NULL), 0);
}
END_TEST

START_TEST(err_403_denied_peer)
{
	struct tcl *c;
	struct tp_addr peer = tcl_addr("10.0.0.1:5000");

	start_relay(NULL);
	c = cl_open(TCL_TCP, TP_AF_INET);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	EXPECT(c, tcl_permit(c, &peer, 1), 403);
	ck_assert_int_eq(c->integrity, 1);
	peer = tcl_addr("192.168.1.1:5000");
	EXPECT(c, tcl_bind(c, 0x4000, &peer), 403);
	ck_assert_int_eq(c->integrity, 1);
}
END_TEST

START_TEST(err_420_unknown_attribute)
{
	static const uint8_t value[4] = { 1, 2, 3, 4 };
	struct tcl_req rq = { .method = TP_STUN_ALLOCATE,
			      .transport = 17,
			      .extra_type = 0x7777,
			      .extra = value,
			      .extra_len = sizeof(value) };
	uint16_t unknown[4];
	size_t n;
	struct tcl *c;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET6);
	EXPECT(c, tcl_request(c, &rq), 420);
	ck_assert_int_eq(c->integrity, 1);
	ck_assert_int_eq(tp_stun_get_unknown(&c->m, unknown, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(unknown[0], 0x7777);
	ck_assert_uint_eq(created(), 0);
	/* Binding too, without any credentials. */
	rq.method = TP_STUN_BINDING;
	rq.transport = 0;
	rq.noauth = true;
	EXPECT(c, tcl_request(c, &rq), 420);
	ck_assert_int_eq(tp_stun_get_unknown(&c->m, unknown, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(unknown[0], 0x7777);
	/* An unknown comprehension-optional attribute (0x8000-0xFFFF) is ignored. */
	rq.extra_type = 0x8777;
	EXPECT(c, tcl_request(c, &rq), 0);
}
END_TEST

START_TEST(err_437_allocation_mismatch)
{
	struct tcl *c, *d;
	struct tcl_peer *p;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_TLS, TP_AF_INET6);
	p = peer_open(TP_AF_INET);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	/* A second Allocate, a new transaction on the same 5-tuple. */
	EXPECT(c, tcl_allocate(c, NULL), 437);
	ck_assert_int_eq(c->integrity, 1);
	/* Refresh, CreatePermission and ChannelBind without an allocation. */
	EXPECT(d, tcl_refresh(d, 600), 437);
	ck_assert_int_eq(d->integrity, 1);
	EXPECT(d, tcl_permit(d, &p->addr, 1), 437);
	EXPECT(d, tcl_bind(d, 0x4000, &p->addr), 437);
	ck_assert_uint_eq(created(), 1);
}
END_TEST

START_TEST(err_440_family_not_served)
{
	struct tcl *c, *d, *e;

	start_relay(&(struct relay_conf){ .no_relay6 = true });
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_TCP, TP_AF_INET6);
	e = cl_open(TCL_UDP, TP_AF_INET6);
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .family = TP_AF_INET6 }), 440);
	ck_assert_int_eq(c->integrity, 1);
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .family = 0x03 }), 440);
	ck_assert_uint_eq(created(), 0);
	/* A dual allocation gets the family it can, and ADDRESS-ERROR-CODE for the other. */
	EXPECT(d, tcl_allocate(d, &(struct tcl_req){ .add_family = TP_AF_INET6 }), 0);
	ck_assert_uint_eq(d->n_relay, 1);
	ck_assert_uint_eq(d->relay[0].family, TP_AF_INET);
	ck_assert(d->has_addr_err);
	ck_assert_uint_eq(d->addr_err_family, TP_AF_INET6);
	ck_assert_int_eq(d->addr_err_code, 440);
	/* An IPv6 client is relayed over IPv4 by default. */
	EXPECT(e, tcl_allocate(e, NULL), 0);
	ck_assert_uint_eq(e->relay[0].family, TP_AF_INET);
}
END_TEST

START_TEST(err_441_wrong_credentials)
{
	struct tcl *c;
	struct tcl_peer *p;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	p = peer_open(TP_AF_INET);
	tcl_set_user(c, H_ALICE, H_ALICE_PASS);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	/* Bob, valid credentials, on Alice's 5-tuple. */
	tcl_set_user(c, H_BOB, H_BOB_PASS);
	EXPECT(c, tcl_refresh(c, 600), 441);
	ck_assert_int_eq(c->integrity, 1); /* under Bob's key: he did authenticate */
	EXPECT(c, tcl_permit(c, &p->addr, 1), 441);
	EXPECT(c, tcl_bind(c, 0x4000, &p->addr), 441);
	EXPECT(c, tcl_refresh(c, 0), 441);
	/* Alice still owns it. */
	tcl_set_user(c, H_ALICE, H_ALICE_PASS);
	EXPECT(c, tcl_permit(c, &p->addr, 1), 0);
	EXPECT(c, tcl_refresh(c, 0), 0);
}
END_TEST

START_TEST(err_442_transport_not_udp)
{
	struct tcl *c;

	start_relay(NULL);
	c = cl_open(TCL_TCP, TP_AF_INET);
	/* REQUESTED-TRANSPORT TCP (RFC 6062) is not offered. */
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .transport = 6 }), 442);
	ck_assert_int_eq(c->integrity, 1);
	ck_assert_uint_eq(created(), 0);
}
END_TEST

START_TEST(err_443_peer_family_mismatch)
{
	struct tcl *c;
	struct tcl_peer *p6;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	p6 = peer_open(TP_AF_INET6);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	EXPECT(c, tcl_permit(c, &p6->addr, 1), 443);
	ck_assert_int_eq(c->integrity, 1);
	EXPECT(c, tcl_bind(c, 0x4000, &p6->addr), 443);
	EXPECT(c,
	       tcl_request(c,
			   &(struct tcl_req){ .method = TP_STUN_REFRESH, .family = TP_AF_INET6 }),
	       443);
	/* Data from an IPv6 peer never reaches an IPv4-only allocation: it has no address there
	 * to arrive on, and a Send to it goes nowhere. */
	EXPECT(c, tcl_send(c, &p6->addr, "v6", 2, false), 0);
	peer_expect_nothing(p6, 100);
}
END_TEST

START_TEST(err_486_user_quota)
{
	struct tcl *a, *b, *c, *d;
	char name[128], pass[64];

	start_relay(&(struct relay_conf){ .limits = "\"allocations_per_user\": 1" });
	a = cl_open(TCL_UDP, TP_AF_INET);
	b = cl_open(TCL_TCP, TP_AF_INET);
	c = cl_open(TCL_UDP, TP_AF_INET6);
	d = cl_open(TCL_UDP, TP_AF_INET);
	EXPECT(a, tcl_allocate(a, NULL), 0);
	EXPECT(b, tcl_allocate(b, NULL), 486);
	ck_assert_int_eq(b->integrity, 1);
	/* A TURN REST username "expiry:demo" counts against demo's quota too. */
	tcl_rest_credentials(H_SECRET, (uint64_t)time(NULL) + 3600, H_USER, name, sizeof(name),
			     pass, sizeof(pass));
	tcl_set_user(d, name, pass);
	EXPECT(d, tcl_allocate(d, NULL), 486);
	/* Another user has a quota of their own. */
	tcl_set_user(c, H_ALICE, H_ALICE_PASS);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	/* Once demo's allocation goes, demo may allocate again. */
	EXPECT(a, tcl_refresh(a, 0), 0);
	EXPECT(b, tcl_allocate(b, NULL), 0);
	ck_assert_uint_eq(created(), 3);
}
END_TEST

START_TEST(err_508_allocations_total)
{
	struct tcl *a, *b;

	start_relay(&(struct relay_conf){ .limits = "\"allocations_total\": 1" });
	a = cl_open(TCL_UDP, TP_AF_INET);
	b = cl_open(TCL_UDP, TP_AF_INET);
	tcl_set_user(b, H_BOB, H_BOB_PASS);
	EXPECT(a, tcl_allocate(a, NULL), 0);
	EXPECT(b, tcl_allocate(b, NULL), 508);
	ck_assert_int_eq(b->integrity, 1);
	EXPECT(a, tcl_refresh(a, 0), 0);
	EXPECT(b, tcl_allocate(b, NULL), 0);
}
END_TEST

START_TEST(err_508_ports_exhausted)
{
	struct tcl *a, *b;
	uint16_t port;

	start_relay(&(struct relay_conf){ .relay_ports = 1 });
	a = cl_open(TCL_UDP, TP_AF_INET);
	b = cl_open(TCL_TCP, TP_AF_INET6);
	EXPECT(a, tcl_allocate(a, NULL), 0);
	port = a->relay[0].port;
	ck_assert_uint_eq(port, R.port_min);
	EXPECT(b, tcl_allocate(b, NULL), 508);
	ck_assert_int_eq(b->integrity, 1);
	/* The port is freed with its allocation and handed out again. */
	EXPECT(a, tcl_refresh(a, 0), 0);
	EXPECT(b, tcl_allocate(b, NULL), 0);
	ck_assert_uint_eq(b->relay[0].port, port);
}
END_TEST

START_TEST(err_508_permission_and_channel_quota)
{
	struct tcl *c;
	struct tcl_peer *p[3];
	struct tp_addr peers[3];

	start_relay(&(struct relay_conf){
		.limits = "\"permissions_per_allocation\": 2, \"channels_per_allocation\": 1" });
	c = cl_open(TCL_UDP, TP_AF_INET);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	p[0] = peer_open_ip("127.0.0.1");
	p[1] = peer_open_ip("127.0.0.2");
	p[2] = peer_open_ip("127.0.0.3");
	for (unsigned i = 0; i < 3; i++)
		peers[i] = p[i]->addr;
	EXPECT(c, tcl_permit(c, peers, 3), 508);
	ck_assert_int_eq(c->integrity, 1);
	EXPECT(c, tcl_permit(c, peers, 2), 0);
	EXPECT(c, tcl_permit(c, &peers[2], 1), 508);
	EXPECT(c, tcl_bind(c, 0x4000, &peers[0]), 0);
	EXPECT(c, tcl_bind(c, 0x4001, &peers[1]), 508);
	/* What exists still works. */
	EXPECT(c, tcl_chandata(c, 0x4000, "q", 1), 0);
	peer_expect(p[0], "q", 1, &c->relay[0]);
}
END_TEST

TCase *func_tcase_errors(void)
{
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, func_setup, func_teardown);
	tcase_set_timeout(tc, func_timeout(60));
	FUNC_ADD_TEST(tc, err_400_bad_requests, 0);
	FUNC_ADD_TEST(tc, err_401_unauthorized, 0);
	FUNC_ADD_TEST(tc, err_403_denied_peer, 0);
	FUNC_ADD_TEST(tc, err_420_unknown_attribute, 0);
	FUNC_ADD_TEST(tc, err_437_allocation_mismatch, FUNC_TLS);
	FUNC_ADD_TEST(tc, err_440_family_not_served, 0);
	FUNC_ADD_TEST(tc, err_441_wrong_credentials, 0);
	FUNC_ADD_TEST(tc, err_442_transport_not_udp, 0);
	FUNC_ADD_TEST(tc, err_443_peer_family_mismatch, 0);
	FUNC_ADD_TEST(tc, err_486_user_quota, 0);
	FUNC_ADD_TEST(tc, err_508_allocations_total, 0);
	FUNC_ADD_TEST(tc, err_508_ports_exhausted, FUNC_ONE_PORT_POOL);
	FUNC_ADD_TEST(tc, err_508_permission_and_channel_quota, 0);
	return tc;
}
