/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Relaying both ways over UDP, TCP and TLS on the IPv4 and IPv6 listeners, with permissions
 * enforced in both directions: Send and Data indications, ChannelData both ways, and a dual
 * allocation (ADDITIONAL-ADDRESS-FAMILY) relaying to an IPv4 and an IPv6 peer.
 */
#include <stdio.h>
#include <string.h>

#include <turnpike/stun.h>

#include "func.h"

#define CHANNEL 0x4001

static void fill(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed + i * 31);
}

/*
 * The whole life of a relayed flow from a client on @transport/@family, relaying in
 * @relay_family, checking every byte and every refusal.
 */
static void relay_flow(int transport, int family, int relay_family)
{
	struct tcl_req opt = { 0 };
	struct tcl_peer *p, *p2;
	struct tp_addr relayed;
	uint8_t a[37], b[13], big[1200];
	struct tcl *c;

	start_relay(NULL);
	c = cl_open(transport, family);
	if (relay_family == TP_AF_INET6)
		opt.family = TP_AF_INET6;
	EXPECT(c, tcl_allocate(c, &opt), 0);
	ck_assert_uint_eq(c->n_relay, 1);
	relayed = c->relay[0];
	ck_assert_uint_eq(relayed.family, relay_family);
	ck_assert(tp_addr_eq(&c->mapped, &c->local));
	p = peer_open(relay_family);
	p2 = peer_open(relay_family);

	/* No permission yet: neither direction passes. Both are dropped for that reason before
	 * the permission exists (the drop counter is the barrier). */
	EXPECT(c, tcl_send(c, &p->addr, "client, no permission", 21, false), 0);
	ck_assert_int_eq(tcl_peer_send(p, &relayed, "peer, no permission", 19), 0);
	wait_metric(DROPS("NO_PERMISSION"), 2);
	EXPECT(c, tcl_permit(c, &p->addr, 1), 0);

	/* Send indication -> the peer gets exactly the payload, from the relayed address; the
	 * unpermitted one never arrives (it would have come first). */
	fill(a, sizeof(a), 1);
	EXPECT(c, tcl_send(c, &p->addr, a, sizeof(a), false), 0);
	peer_expect(p, a, sizeof(a), &relayed);
	/* Peer -> Data indication with the peer's address; likewise, nothing earlier. */
	fill(b, sizeof(b), 2);
	ck_assert_int_eq(tcl_peer_send(p, &relayed, b, sizeof(b)), 0);
	client_expect_data(c, 0, &p->addr, b, sizeof(b));

	/* A channel: ChannelData both ways, odd lengths for the stream padding. */
	EXPECT(c, tcl_bind(c, CHANNEL, &p->addr), 0);
	EXPECT(c, tcl_chandata(c, CHANNEL, b, sizeof(b)), 0);
	peer_expect(p, b, sizeof(b), &relayed);
	ck_assert_int_eq(tcl_peer_send(p, &relayed, a, 7), 0);
	client_expect_data(c, CHANNEL, NULL, a, 7);
	fill(big, sizeof(big), 3);
	EXPECT(c, tcl_chandata(c, CHANNEL, big, sizeof(big)), 0);
	peer_expect(p, big, sizeof(big), &relayed);
	ck_assert_int_eq(tcl_peer_send(p, &relayed, big, sizeof(big) - 1), 0);
	client_expect_data(c, CHANNEL, NULL, big, sizeof(big) - 1);
	/* An empty datagram is relayed as an empty ChannelData. */
	ck_assert_int_eq(tcl_peer_send(p, &relayed, big, 0), 0);
	client_expect_data(c, CHANNEL, NULL, big, 0);

	/* Another port of the same IP: the permission covers it, the channel does not, so its
	 * data comes as a Data indication carrying its own address. */
	ck_assert_int_eq(tcl_peer_send(p2, &relayed, a, 5), 0);
	client_expect_data(c, 0, &p2->addr, a, 5);
	EXPECT(c, tcl_send(c, &p2->addr, b, 3, false), 0);
	peer_expect(p2, b, 3, &relayed);

	/* Nothing else arrived anywhere: the unpermitted datagrams stayed dropped. */
	peer_expect_nothing(p, 50);
	peer_expect_nothing(p2, 0);
	client_expect_nothing(c, 50);
	ck_assert_uint_eq(c->stray, 0);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_events_total{event=\"relay_to_peer_pkts\"}"),
			  4);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_events_total{event=\"relay_to_client_pkts\"}"),
			  5);
	ck_assert_uint_eq(relay_metric(&R, DROPS("NO_PERMISSION")), 2);
}

START_TEST(relay_udp4)
{
	relay_flow(TCL_UDP, TP_AF_INET, TP_AF_INET);
}
END_TEST

START_TEST(relay_tcp4)
{
	relay_flow(TCL_TCP, TP_AF_INET, TP_AF_INET);
}
END_TEST

START_TEST(relay_tls4)
{
	relay_flow(TCL_TLS, TP_AF_INET, TP_AF_INET);
}
END_TEST

START_TEST(relay_udp6)
{
	relay_flow(TCL_UDP, TP_AF_INET6, TP_AF_INET6);
}
END_TEST

START_TEST(relay_tcp6)
{
	relay_flow(TCL_TCP, TP_AF_INET6, TP_AF_INET6);
}
END_TEST

START_TEST(relay_tls6)
{
	relay_flow(TCL_TLS, TP_AF_INET6, TP_AF_INET6);
}
END_TEST

/* The families need not match: an IPv6 client relaying IPv4, and the other way round. */
START_TEST(relay_v6_client_v4_relay)
{
	relay_flow(TCL_TCP, TP_AF_INET6, TP_AF_INET);
}
END_TEST

START_TEST(relay_v4_client_v6_relay)
{
	relay_flow(TCL_UDP, TP_AF_INET, TP_AF_INET6);
}
END_TEST

START_TEST(relay_dual_allocation)
{
	struct tcl *c;
	struct tcl_peer *p4, *p6;
	struct tp_addr peers[2];

	start_relay(NULL);
	c = cl_open(TCL_TLS, TP_AF_INET);
	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .add_family = TP_AF_INET6 }), 0);
	/* RFC 8656 §7.2: one relayed address per family, on the same port. */
	ck_assert_uint_eq(c->n_relay, 2);
	ck_assert_uint_eq(c->relay[0].family, TP_AF_INET);
	ck_assert_uint_eq(c->relay[1].family, TP_AF_INET6);
	ck_assert_uint_eq(c->relay[0].port, c->relay[1].port);
	ck_assert(!c->has_addr_err);
	p4 = peer_open(TP_AF_INET);
	p6 = peer_open(TP_AF_INET6);
	/* Before the permissions, the IPv6 peer gets nowhere either. */
	ck_assert_int_eq(tcl_peer_send(p6, &c->relay[1], "early", 5), 0);
	wait_metric(DROPS("NO_PERMISSION"), 1);
	peers[0] = p4->addr;
	peers[1] = p6->addr;
	EXPECT(c, tcl_permit(c, peers, 2), 0);
	/* Each peer is reached from the relayed address of its family. */
	EXPECT(c, tcl_send(c, &p6->addr, "six", 3, false), 0);
	peer_expect(p6, "six", 3, &c->relay[1]);
	EXPECT(c, tcl_send(c, &p4->addr, "four", 4, false), 0);
	peer_expect(p4, "four", 4, &c->relay[0]);
	ck_assert_int_eq(tcl_peer_send(p6, &c->relay[1], "from six", 8), 0);
	client_expect_data(c, 0, &p6->addr, "from six", 8);
	EXPECT(c, tcl_bind(c, 0x4abc, &p6->addr), 0);
	EXPECT(c, tcl_chandata(c, 0x4abc, "chan six", 8), 0);
	peer_expect(p6, "chan six", 8, &c->relay[1]);
	ck_assert_int_eq(tcl_peer_send(p6, &c->relay[1], "chan back", 9), 0);
	client_expect_data(c, 0x4abc, NULL, "chan back", 9);
	ck_assert_int_eq(tcl_peer_send(p4, &c->relay[0], "from four", 9), 0);
	client_expect_data(c, 0, &p4->addr, "from four", 9);
	/* What p6 sent before its permission never arrived. */
	client_expect_nothing(c, 50);
}
END_TEST

/* Two workers (SO_REUSEPORT listeners, relay ports shared out between shards): clients on
 * every transport land on either, and every flow relays both ways through its own shard. */
START_TEST(relay_two_workers)
{
	enum {
		N = 8
	};
	static const int transports[] = { TCL_UDP, TCL_TCP, TCL_TLS };
	struct tcl *c[N];
	struct tcl_peer *p[N];
	char msg[32];

	start_relay(&(struct relay_conf){ .workers = 2 });
	for (unsigned i = 0; i < N; i++) {
		c[i] = cl_open(transports[i % 3], i % 2 ? TP_AF_INET6 : TP_AF_INET);
		p[i] = peer_open(TP_AF_INET);
		EXPECT(c[i], tcl_allocate(c[i], NULL), 0);
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(c[i]->relay[0].port, c[j]->relay[0].port);
		EXPECT(c[i], tcl_permit(c[i], &p[i]->addr, 1), 0);
	}
	for (unsigned i = 0; i < N; i++) {
		snprintf(msg, sizeof(msg), "to peer %u", i);
		EXPECT(c[i], tcl_send(c[i], &p[i]->addr, msg, strlen(msg), false), 0);
		peer_expect(p[i], msg, strlen(msg), &c[i]->relay[0]);
		snprintf(msg, sizeof(msg), "to client %u", i);
		ck_assert_int_eq(tcl_peer_send(p[i], &c[i]->relay[0], msg, strlen(msg)), 0);
		client_expect_data(c[i], 0, &p[i]->addr, msg, strlen(msg));
	}
	ck_assert_uint_eq(relay_metric(&R, "turnpike_workers"), 2);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_allocations"), N);
}
END_TEST

/* TP_FUNC_SINGLE_WORKER, for a platform without load-balancing SO_REUSEPORT (Windows): two
 * workers asked for, one runs and the log says why; clients of either transport and family all
 * land on it and every flow relays both ways. */
START_TEST(relay_single_worker_fallback)
{
	enum {
		N = 8
	};
	static const int transports[] = { TCL_UDP, TCL_TCP };
	struct tcl *c[N];
	struct tcl_peer *p[N];
	char msg[32];

	start_relay(&(struct relay_conf){ .workers = 2 });
	ck_assert_uint_eq(relay_log_count(&R, "no load-balancing SO_REUSEPORT on this platform: "
					      "running 1 worker, not 2"),
			  1);
	ck_assert_uint_eq(relay_log_count(&R, "socket data plane: 1 worker, "), 1);
	for (unsigned i = 0; i < N; i++) {
		c[i] = cl_open(transports[i % 2], i / 2 % 2 ? TP_AF_INET6 : TP_AF_INET);
		p[i] = peer_open(TP_AF_INET);
		EXPECT(c[i], tcl_allocate(c[i], NULL), 0);
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(c[i]->relay[0].port, c[j]->relay[0].port);
		EXPECT(c[i], tcl_permit(c[i], &p[i]->addr, 1), 0);
	}
	for (unsigned i = 0; i < N; i++) {
		snprintf(msg, sizeof(msg), "to peer %u", i);
		EXPECT(c[i], tcl_send(c[i], &p[i]->addr, msg, strlen(msg), false), 0);
		peer_expect(p[i], msg, strlen(msg), &c[i]->relay[0]);
		snprintf(msg, sizeof(msg), "to client %u", i);
		ck_assert_int_eq(tcl_peer_send(p[i], &c[i]->relay[0], msg, strlen(msg)), 0);
		client_expect_data(c[i], 0, &p[i]->addr, msg, strlen(msg));
	}
	ck_assert_uint_eq(relay_metric(&R, "turnpike_workers"), 1);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_allocations"), N);
}
END_TEST

/*
 * TP_FUNC_DPDK with several workers: a peer's datagram lands on whichever worker's queue the
 * device picks (net_tap: the kernel's flow hash, for a flow the relay has not sent on yet), and
 * the worker that receives it hands it to the allocation's owner over a ring. Clients of both
 * families with several peers each, every peer speaking first: every datagram reaches its
 * client, every answer its peer, and some went through the hand-off rings.
 */
START_TEST(relay_dpdk_hand_off)
{
	enum {
		N = 8,
		M = 4
	};
	struct tcl *c[N];
	struct tcl_peer *p[N][M];
	struct tp_addr addrs[M];
	char msg[32];

	start_relay(NULL);
	for (unsigned i = 0; i < N; i++) {
		int family = i % 2 ? TP_AF_INET6 : TP_AF_INET;

		c[i] = cl_open(TCL_UDP, family);
		EXPECT(c[i], tcl_allocate(c[i], &(struct tcl_req){ .family = (uint8_t)family }), 0);
		for (unsigned j = 0; j < M; j++) {
			p[i][j] = peer_open(family);
			addrs[j] = p[i][j]->addr;
		}
		EXPECT(c[i], tcl_permit(c[i], addrs, M), 0);
	}
	for (unsigned i = 0; i < N; i++) {
		for (unsigned j = 0; j < M; j++) {
			snprintf(msg, sizeof(msg), "peer %u.%u first", i, j);
			ck_assert_int_eq(tcl_peer_send(p[i][j], &c[i]->relay[0], msg, strlen(msg)),
					 0);
			client_expect_data(c[i], 0, &p[i][j]->addr, msg, strlen(msg));
			snprintf(msg, sizeof(msg), "client %u to %u", i, j);
			EXPECT(c[i], tcl_send(c[i], &p[i][j]->addr, msg, strlen(msg), false), 0);
			peer_expect(p[i][j], msg, strlen(msg), &c[i]->relay[0]);
		}
	}
	for (unsigned i = 0; i < N; i++)
		client_expect_nothing(c[i], i ? 0 : 50);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_events_total{event=\"relay_to_client_pkts\"}"),
			  N * M);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_events_total{event=\"relay_to_peer_pkts\"}"),
			  N * M);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_allocations"), N);
	/* What one worker handed over, the other took in. */
	ck_assert_uint_gt(relay_metric(&R, "turnpike_dataplane_events_total{event=\"steer_out\"}"),
			  0);
	ck_assert_uint_eq(relay_metric(&R, "turnpike_dataplane_events_total{event=\"steer_out\"}"),
			  relay_metric(&R, "turnpike_dataplane_events_total{event=\"steer_in\"}"));
	ck_assert_uint_eq(relay_metric(&R, "turnpike_dataplane_drops_total{reason=\"STEER_FULL\"}"),
			  0);
}
END_TEST

TCase *func_tcase_relay(void)
{
	TCase *tc = tcase_create("relay");

	tcase_add_checked_fixture(tc, func_setup, func_teardown);
	tcase_set_timeout(tc, func_timeout(60));
	FUNC_ADD_TEST(tc, relay_udp4, 0);
	FUNC_ADD_TEST(tc, relay_tcp4, 0);
	FUNC_ADD_TEST(tc, relay_tls4, FUNC_TLS);
	FUNC_ADD_TEST(tc, relay_udp6, 0);
	FUNC_ADD_TEST(tc, relay_tcp6, 0);
	FUNC_ADD_TEST(tc, relay_tls6, FUNC_TLS);
	FUNC_ADD_TEST(tc, relay_v6_client_v4_relay, 0);
	FUNC_ADD_TEST(tc, relay_v4_client_v6_relay, 0);
	FUNC_ADD_TEST(tc, relay_dual_allocation, FUNC_TLS);
	FUNC_ADD_TEST(tc, relay_two_workers, FUNC_TLS | FUNC_WORKERS);
	FUNC_ADD_TEST(tc, relay_single_worker_fallback, FUNC_ONE_WORKER);
	FUNC_ADD_TEST(tc, relay_dpdk_hand_off, FUNC_DPDK_WORKERS);
	return tc;
}
