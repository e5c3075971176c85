/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every method against the real relay: Binding on every listener, Allocate and its options,
 * Refresh (LIFETIME 0 included), CreatePermission with several peers, ChannelBind's rules, and
 * retransmissions answered with identical bytes.
 */
#include <stdio.h>
#include <string.h>

#include <turnpike/stun.h>

#include "func.h"

static const int transports[] = { TCL_UDP, TCL_TCP, TCL_TLS };
static const int families[] = { TP_AF_INET, TP_AF_INET6 };

/* A relayed address the relay should hand out to a UDP client: its address of @family (on
 * loopback, or the DPDK port's), a port in range. */
static void assert_relayed(const struct tp_addr *relayed, int family)
{
	struct tp_addr want = relay_relayed_ip(TCL_UDP, family);

	want.port = relayed->port;
	ck_assert_msg(tp_addr_eq(relayed, &want), "relayed address %s", tcl_addr_str(relayed));
	ck_assert_uint_ge(relayed->port, R.port_min);
	ck_assert_uint_le(relayed->port, R.port_max);
}

START_TEST(binding_on_every_listener)
{
	start_relay(NULL);
	for (unsigned t = 0; t < 3; t++) {
		for (unsigned f = 0; f < 2; f++) {
			struct tcl *c = cl_open(transports[t], families[f]);
			struct tp_addr mapped;

			/* With FINGERPRINT on half of them: the answer must carry one too. */
			c->fingerprint = f == 1;
			EXPECT(c, tcl_binding(c, &mapped), 0);
			ck_assert_msg(tp_addr_eq(&mapped, &c->local),
				      "XOR-MAPPED-ADDRESS %s, our socket is %s",
				      tcl_addr_str(&mapped), tcl_addr_str(&c->local));
			ck_assert_int_eq(c->m.fp_off != 0, f == 1);
			/* Binding needs no credentials and gets no integrity. */
			ck_assert_int_eq(c->integrity, 0);
		}
	}
}
END_TEST

START_TEST(allocate_refresh_and_delete)
{
	struct tcl *c;
	struct tcl_req rq = { .method = TP_STUN_ALLOCATE,
			      .transport = TP_STUN_TRANSPORT_UDP,
			      .noauth = true };
	const uint8_t *nonce;
	uint16_t algs[4];
	size_t n;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	/* Without credentials: 401 with REALM, a turnpike NONCE and both algorithms. */
	EXPECT(c, tcl_request(c, &rq), 401);
	ck_assert_int_eq(tp_stun_get_string(&c->m, TP_STUN_ATTR_REALM, &nonce, &n), 0);
	ck_assert_uint_eq(n, strlen(H_REALM));
	ck_assert_int_eq(memcmp(nonce, H_REALM, n), 0);
	ck_assert_int_eq(tp_stun_get_string(&c->m, TP_STUN_ATTR_NONCE, &nonce, &n), 0);
	ck_assert_uint_eq(n, 37);
	ck_assert_int_eq(memcmp(nonce, "obMatJos2", 9), 0);
	ck_assert_int_eq(tp_stun_get_password_algorithms(&c->m, algs, 4, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(algs[0] != algs[1]);
	ck_assert(algs[0] == TP_STUN_PWALG_MD5 || algs[0] == TP_STUN_PWALG_SHA256);
	ck_assert(algs[1] == TP_STUN_PWALG_MD5 || algs[1] == TP_STUN_PWALG_SHA256);
	ck_assert_uint_eq(relay_log_count(&R, "allocation created"), 0);

	EXPECT(c, tcl_allocate(c, NULL), 0);
	ck_assert_uint_eq(c->n_relay, 1);
	assert_relayed(&c->relay[0], TP_AF_INET);
	ck_assert_uint_eq(c->lifetime, 600);
	ck_assert(tp_addr_eq(&c->mapped, &c->local));
	ck_assert_int_eq(c->integrity, 1);
	ck_assert(!c->has_token);
	ck_assert_uint_eq(relay_log_count(&R, "allocation created"), 1);

	EXPECT(c, tcl_refresh(c, 1200), 0);
	ck_assert_uint_eq(c->lifetime, 1200);
	EXPECT(c, tcl_refresh(c, -1), 0);
	ck_assert_uint_eq(c->lifetime, 600);
	/* RFC 8656 §7.3: LIFETIME 0 deletes the allocation at once. */
	EXPECT(c, tcl_refresh(c, 0), 0);
	ck_assert_uint_eq(c->lifetime, 0);
	ck_assert_int_eq(c->integrity, 1);
	ck_assert_uint_eq(relay_log_count(&R, "allocation deleted"), 1);
	EXPECT(c, tcl_refresh(c, 600), 437);
	/* The 5-tuple is free again. */
	EXPECT(c, tcl_allocate(c, NULL), 0);
	ck_assert_uint_eq(relay_log_count(&R, "allocation created"), 2);
}
END_TEST

START_TEST(lifetime_is_bounded)
{
	struct tcl *c, *d;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_TCP, TP_AF_INET);
	/* Shorter than the default: the default (600); longer than the maximum: 3600. */
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .has_lifetime = true, .lifetime = 30 }), 0);
	ck_assert_uint_eq(c->lifetime, 600);
	EXPECT(d, tcl_allocate(d, &(struct tcl_req){ .has_lifetime = true, .lifetime = 99999 }), 0);
	ck_assert_uint_eq(d->lifetime, 3600);
	EXPECT(c, tcl_refresh(c, 2000), 0);
	ck_assert_uint_eq(c->lifetime, 2000);
	EXPECT(c, tcl_refresh(c, 100000), 0);
	ck_assert_uint_eq(c->lifetime, 3600);
}
END_TEST

START_TEST(create_permission_for_several_peers)
{
	struct tcl *c = NULL;
	struct tcl_peer *p[4];
	struct tp_addr both[2];

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .add_family = TP_AF_INET6 }), 0);
	ck_assert_uint_eq(c->n_relay, 2);
	p[0] = peer_open(TP_AF_INET);
	p[1] = peer_open(TP_AF_INET6);
	p[2] = peer_open(TP_AF_INET);
	p[3] = peer_open_ip("127.0.0.2");
	/* One request, two peers of two families. */
	both[0] = p[0]->addr;
	both[1] = p[1]->addr;
	EXPECT(c, tcl_permit(c, both, 2), 0);
	ck_assert_int_eq(c->integrity, 1);
	for (unsigned i = 0; i < 2; i++) {
		const struct tp_addr *relayed = &c->relay[i];
		char msg[32];

		snprintf(msg, sizeof(msg), "to peer %u", i);
		EXPECT(c, tcl_send(c, &p[i]->addr, msg, strlen(msg), false), 0);
		peer_expect(p[i], msg, strlen(msg), relayed);
		snprintf(msg, sizeof(msg), "from peer %u", i);
		ck_assert_int_eq(tcl_peer_send(p[i], relayed, msg, strlen(msg)), 0);
		client_expect_data(c, 0, &p[i]->addr, msg, strlen(msg));
	}
	/* Permissions are per IP address (RFC 8656 §9): p[2] shares p[0]'s. */
	ck_assert_int_eq(tcl_peer_send(p[2], &c->relay[0], "same ip", 7), 0);
	client_expect_data(c, 0, &p[2]->addr, "same ip", 7);
	/* All or nothing: one denied peer and none of them is installed. */
	both[0] = p[3]->addr;
	both[1] = tcl_addr("10.1.2.3:4000");
	EXPECT(c, tcl_permit(c, both, 2), 403);
	ck_assert_int_eq(c->integrity, 1);
	EXPECT(c, tcl_send(c, &p[3]->addr, "nope", 4, false), 0);
	ck_assert_int_eq(tcl_peer_send(p[3], &c->relay[0], "nope", 4), 0);
	wait_metric(DROPS("NO_PERMISSION"), 2);
	peer_expect_nothing(p[3], 0);
	client_expect_nothing(c, 0);
	/* A request without any XOR-PEER-ADDRESS is a 400. */
	EXPECT(c, tcl_permit(c, both, 0), 400);
}
END_TEST

START_TEST(channel_bind_rules)
{
	struct tcl *c;
	struct tcl_peer *p, *q;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	p = peer_open(TP_AF_INET);
	q = peer_open(TP_AF_INET);
	EXPECT(c, tcl_bind(c, 0x4000, &p->addr), 0);
	ck_assert_int_eq(c->integrity, 1);
	/* Binding the same pair again refreshes it. */
	EXPECT(c, tcl_bind(c, 0x4000, &p->addr), 0);
	/* RFC 8656 §12.2: a channel has one peer and a peer one channel. */
	EXPECT(c, tcl_bind(c, 0x4001, &p->addr), 400);
	EXPECT(c, tcl_bind(c, 0x4000, &q->addr), 400);
	/* The RFC 5766 numbers up to 0x7FFF are taken (deployed clients use them); 0x8000 is
	 * not a channel. */
	EXPECT(c, tcl_bind(c, 0x7FFF, &q->addr), 0);
	EXPECT(c, tcl_bind(c, 0x8000, &q->addr), 400);
	/* A ChannelBind installs the permission too: q never had a CreatePermission. */
	ck_assert_int_eq(tcl_peer_send(q, &c->relay[0], "via 7fff", 8), 0);
	client_expect_data(c, 0x7FFF, NULL, "via 7fff", 8);
	EXPECT(c, tcl_chandata(c, 0x7FFF, "back", 4), 0);
	peer_expect(q, "back", 4, &c->relay[0]);
	EXPECT(c, tcl_chandata(c, 0x4000, "to p", 4), 0);
	peer_expect(p, "to p", 4, &c->relay[0]);
}
END_TEST

START_TEST(even_port_and_reservation)
{
	struct tcl *a, *b, *c, *d;
	uint64_t token;

	start_relay(NULL);
	a = cl_open(TCL_UDP, TP_AF_INET);
	b = cl_open(TCL_UDP, TP_AF_INET);
	c = cl_open(TCL_TCP, TP_AF_INET);
	d = cl_open(TCL_UDP, TP_AF_INET6);
	/* EVEN-PORT with R: an even port, and the next one held for a RESERVATION-TOKEN. */
	EXPECT(a, tcl_allocate(a, &(struct tcl_req){ .even_port = true, .reserve = true }), 0);
	ck_assert_uint_eq(a->relay[0].port % 2, 0);
	ck_assert(a->has_token);
	token = a->token;
	EXPECT(b, tcl_allocate(b, &(struct tcl_req){ .has_token = true, .token = token }), 0);
	ck_assert_uint_eq(b->relay[0].port, a->relay[0].port + 1);
	ck_assert(!b->has_token);
	/* A token is good once. */
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .has_token = true, .token = token }), 508);
	/* EVEN-PORT without R: even, nothing reserved. */
	EXPECT(d, tcl_allocate(d, &(struct tcl_req){ .even_port = true }), 0);
	ck_assert_uint_eq(d->relay[0].port % 2, 0);
	ck_assert(!d->has_token);
	/* RESERVATION-TOKEN with EVEN-PORT is a 400 (RFC 8656 §7.2). */
	EXPECT(c,
	       tcl_allocate(
		       c,
		       &(struct tcl_req){ .has_token = true, .token = token, .even_port = true }),
	       400);
}
END_TEST

START_TEST(dont_fragment_is_honoured)
{
	struct tcl *c;
	struct tcl_peer *p;
	uint8_t big[1200];

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	p = peer_open(TP_AF_INET);
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .dont_fragment = true }), 0);
	EXPECT(c, tcl_permit(c, &p->addr, 1), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	EXPECT(c, tcl_send(c, &p->addr, big, sizeof(big), true), 0);
	peer_expect(p, big, sizeof(big), &c->relay[0]);
	EXPECT(c, tcl_send(c, &p->addr, big, 100, false), 0);
	peer_expect(p, big, 100, &c->relay[0]);
}
END_TEST

START_TEST(retransmission_gets_identical_bytes)
{
	struct tcl *c;
	uint8_t first[TCL_FRAME_MAX], again[TCL_FRAME_MAX];
	size_t first_len;
	long n;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	first_len = c->resp_len;
	memcpy(first, c->resp, first_len);
	/* The very same request bytes, as a client whose answer was lost sends them. */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(tcl_send_raw(c, c->req, c->req_len), 0);
		n = tcl_recv_frame(c, again, sizeof(again), TCL_TIMEOUT_MS);
		ck_assert_int_eq(n, (long)first_len);
		ck_assert_int_eq(memcmp(first, again, first_len), 0);
	}
	ck_assert_uint_eq(relay_log_count(&R, "allocation created"), 1);
	/* A CreatePermission retransmitted too. */
	{
		struct tcl_peer *p = peer_open(TP_AF_INET);

		EXPECT(c, tcl_permit(c, &p->addr, 1), 0);
		first_len = c->resp_len;
		memcpy(first, c->resp, first_len);
		ck_assert_int_eq(tcl_send_raw(c, c->req, c->req_len), 0);
		n = tcl_recv_frame(c, again, sizeof(again), TCL_TIMEOUT_MS);
		ck_assert_int_eq(n, (long)first_len);
		ck_assert_int_eq(memcmp(first, again, first_len), 0);
	}
	/* A new transaction on the same 5-tuple is not a retransmission: 437. */
	EXPECT(c, tcl_allocate(c, NULL), 437);
}
END_TEST

TCase *func_tcase_methods(void)
{
	TCase *tc = tcase_create("methods");

	tcase_add_checked_fixture(tc, func_setup, func_teardown);
	tcase_set_timeout(tc, func_timeout(60));
	FUNC_ADD_TEST(tc, binding_on_every_listener, FUNC_TLS);
	FUNC_ADD_TEST(tc, allocate_refresh_and_delete, 0);
	FUNC_ADD_TEST(tc, lifetime_is_bounded, 0);
	FUNC_ADD_TEST(tc, create_permission_for_several_peers, 0);
	FUNC_ADD_TEST(tc, channel_bind_rules, 0);
	FUNC_ADD_TEST(tc, even_port_and_reservation, FUNC_ONE_SHARD);
	FUNC_ADD_TEST(tc, dont_fragment_is_honoured, 0);
	FUNC_ADD_TEST(tc, retransmission_gets_identical_bytes, 0);
	return tc;
}
