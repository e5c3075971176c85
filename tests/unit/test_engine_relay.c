/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Relaying (RFC 8656 §11, §12): Send indications to peers, Data indications back, IPv4 and IPv6
 * peers on a dual allocation, what is dropped and why, and the bandwidth cap.
 */
#include <string.h>

#include <turnpike/byteorder.h>

#include "engine_fixture.h"

static const uint8_t payload[] = "relay me";

START_TEST(send_indication_forwards)
{
	static const uint8_t data[] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03 };
	struct tp_addr peer = tw_addr(TW_PEER);
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_permit(&c, TW_PEER);
	tc_sendind(&c, TW_PEER, data, sizeof(data), false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(c.v.flags, TP_VF_TO_PEER);
	ck_assert_uint_eq(c.v.transport, TP_TRANSPORT_UDP);
	ck_assert(tp_addr_eq(&c.v.to, &peer));
	ck_assert(tp_addr_eq(&c.v.from, &c.relay[0]));
	/* The payload is the DATA value inside the received message: no copy. */
	ck_assert_uint_eq(c.v.len, sizeof(data));
	ck_assert_uint_lt(c.v.off + c.v.len, c.req_len);
	ck_assert_mem_eq(c.req + c.v.off, data, sizeof(data));
	ck_assert_uint_eq(tp_get_be16(c.req + c.v.off - 4), TP_STUN_ATTR_DATA);
	ck_assert_uint_eq(c.v.head_len, 0);
	ck_assert_uint_eq(c.v.tail_len, 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_PEER_PKTS), 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_PEER_BYTES), sizeof(data));
	ck_assert_uint_eq(tp_stat_read(&tp_engine_stats(W->e[0])->requests[TP_SM_SEND]), 1);
	/* With DONT-FRAGMENT in the Send indication itself. */
	tc_sendind(&c, TW_PEER, data, sizeof(data), true);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(c.v.flags, TP_VF_TO_PEER | TP_VF_DF);
	/* An empty DATA is an empty datagram. */
	tc_sendind(&c, TW_PEER, data, 0, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(c.v.len, 0);
}
END_TEST

START_TEST(send_indication_drops)
{
	struct tc c, stranger;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_permit(&c, TW_PEER);
	tc_sendind(&c, TW_PEER_B, payload, 4, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(c.v.reason, TP_DROP_NO_PERMISSION);
	tc_sendind(&c, TW_PEER6, payload, 4, false);
	ck_assert_uint_eq(c.v.reason, TP_DROP_FAMILY_MISMATCH);
	/* No DATA, then no XOR-PEER-ADDRESS. */
	tc_build(&c, &(struct treq){ .method = TP_STUN_SEND,
				     .cls = TP_STUN_INDICATION,
				     .peers = { TW_PEER },
				     .noauth = true });
	tc_raw(&c, c.req, c.req_len);
	ck_assert_uint_eq(c.v.reason, TP_DROP_SEND_MALFORMED);
	tc_build(&c, &(struct treq){ .method = TP_STUN_SEND,
				     .cls = TP_STUN_INDICATION,
				     .has_data = true,
				     .data = payload,
				     .data_len = 4,
				     .noauth = true });
	tc_raw(&c, c.req, c.req_len);
	ck_assert_uint_eq(c.v.reason, TP_DROP_SEND_MALFORMED);
	/* RFC 8489 §6.3.2 and DESIGN §8: an unknown comprehension-required attribute in an
	 * indication means it is dropped, never acted on. */
	tc_build(&c, &(struct treq){ .method = TP_STUN_SEND,
				     .cls = TP_STUN_INDICATION,
				     .peers = { TW_PEER },
				     .has_data = true,
				     .data = payload,
				     .data_len = 4,
				     .unknown = 0x0030,
				     .noauth = true });
	tc_raw(&c, c.req, c.req_len);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	tc_init(&stranger, "5.6.7.8:40009", NULL, NULL);
	tc_sendind(&stranger, TW_PEER, payload, 4, false);
	ck_assert_uint_eq(stranger.v.reason, TP_DROP_NO_ALLOCATION);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_PEER_PKTS), 0);
}
END_TEST

/* Parse a FORWARD to the client as the Data indication it must be. */
static void check_data_indication(const struct tp_verdict *v, const uint8_t *data, size_t len,
				  const char *peer_text)
{
	struct tp_addr peer = tw_addr(peer_text), from;
	uint8_t msg[1600];
	const uint8_t *got;
	struct tp_stun_msg m;
	size_t n, got_len;

	ck_assert_uint_eq(v->kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(v->head_len, tp_stun_data_head_len(&peer));
	ck_assert_uint_eq(v->tail_len, (4 - (len & 3)) & 3);
	n = tw_assemble(v, data, msg, sizeof(msg));
	ck_assert_int_eq(tp_stun_parse(&m, msg, n), 0);
	ck_assert_uint_eq(m.method, TP_STUN_DATA);
	ck_assert_uint_eq(m.cls, TP_STUN_INDICATION);
	ck_assert_int_eq(tp_stun_get_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &from), 0);
	ck_assert(tp_addr_eq(&from, &peer));
	ck_assert_int_eq(tp_stun_get_data(&m, &got, &got_len), 0);
	ck_assert_uint_eq(got_len, len);
	ck_assert_mem_eq(got, data, len);
	ck_assert_uint_eq(m.n_unknown, 0);
	ck_assert_uint_eq(m.mi_off, 0);
	for (unsigned i = 0; i < v->tail_len; i++)
		ck_assert_uint_eq(v->tail[i], 0);
}

START_TEST(data_indication_to_client)
{
	struct tp_verdict v, w;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_permit(&c, TW_PEER);
	for (size_t len = 0; len <= 8; len++) {
		tw_from_peer(TW_PEER, &c.relay[0], payload, len, &v);
		check_data_indication(&v, payload, len, TW_PEER);
		ck_assert_uint_eq(v.flags, TP_VF_TO_CLIENT);
		ck_assert_uint_eq(v.transport, TP_TRANSPORT_UDP);
		ck_assert(tp_addr_eq(&v.to, &c.addr));
		ck_assert(tp_addr_eq(&v.from, &c.server));
		ck_assert_uint_eq(v.off, 0);
	}
	/* Two Data indications do not share a transaction ID. */
	tw_from_peer(TW_PEER, &c.relay[0], payload, 4, &v);
	tw_from_peer(TW_PEER, &c.relay[0], payload, 4, &w);
	ck_assert_mem_ne(v.head + 8, w.head + 8, TP_STUN_TID_LEN);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_CLIENT_PKTS), 11);
}
END_TEST

START_TEST(ipv6_peers_on_a_dual_allocation)
{
	static const uint8_t data[] = { 6, 6, 6, 6, 6 };
	struct tp_addr peer6 = tw_addr(TW_PEER6);
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT6, "alice", "alice-pw");
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						   .transport = TP_STUN_TRANSPORT_UDP,
						   .add_family = TP_AF_INET6 }),
			 0);
	ck_assert(tp_addr_eq(&c.mapped, &c.addr));
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_CREATE_PERMISSION,
						   .peers = { TW_PEER6, TW_PEER } }),
			 0);
	/* To each peer from the relayed address of its own family. */
	tc_sendind(&c, TW_PEER6, data, sizeof(data), false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert(tp_addr_eq(&c.v.to, &peer6));
	ck_assert(tp_addr_eq(&c.v.from, &c.relay[1]));
	tc_sendind(&c, TW_PEER, data, sizeof(data), false);
	ck_assert(tp_addr_eq(&c.v.from, &c.relay[0]));
	/* And back, as Data indications with an IPv6 XOR-PEER-ADDRESS (the longest head). */
	tw_from_peer(TW_PEER6, &c.relay[1], data, sizeof(data), &v);
	check_data_indication(&v, data, sizeof(data), TW_PEER6);
	ck_assert_uint_eq(v.head_len, TP_VERDICT_HEAD_MAX);
	ck_assert(tp_addr_eq(&v.to, &c.addr));
	tw_from_peer(TW_PEER, &c.relay[0], data, sizeof(data), &v);
	check_data_indication(&v, data, sizeof(data), TW_PEER);
	/* Over a channel too. */
	tc_bind(&c, 0x4abc, TW_PEER6);
	tc_chandata(&c, 0x4abc, data, sizeof(data));
	ck_assert(tp_addr_eq(&c.v.to, &peer6));
	ck_assert(tp_addr_eq(&c.v.from, &c.relay[1]));
	tw_from_peer(TW_PEER6, &c.relay[1], data, sizeof(data), &v);
	ck_assert_uint_eq(v.head_len, 4);
	ck_assert_uint_eq(tp_get_be16(v.head), 0x4abc);
}
END_TEST

START_TEST(peer_packet_drops)
{
	struct tp_addr port;
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_permit(&c, TW_PEER);
	tw_from_peer(TW_PEER_B, &c.relay[0], payload, 4, &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(v.reason, TP_DROP_NO_PERMISSION);
	tw_from_peer(TW_PEER6, &c.relay[0], payload, 4, &v);
	ck_assert_uint_eq(v.reason, TP_DROP_FAMILY_MISMATCH);
	port = c.relay[0];
	port.port = c.relay[0].port == TW_PORT_MAX ? TW_PORT_MIN : c.relay[0].port + 1;
	tw_from_peer(TW_PEER, &port, payload, 4, &v);
	ck_assert_uint_eq(v.reason, TP_DROP_RELAY_NO_ALLOCATION);
	port.port = TW_PORT_MAX + 1;
	tw_from_peer(TW_PEER, &port, payload, 4, &v);
	ck_assert_uint_eq(v.reason, TP_DROP_RELAY_NO_ALLOCATION);
	port.port = 80;
	tw_from_peer(TW_PEER, &port, payload, 4, &v);
	ck_assert_uint_eq(v.reason, TP_DROP_RELAY_NO_ALLOCATION);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RX_PEER), 5);
	ck_assert_uint_eq(tw_drops(TP_DROP_RELAY_NO_ALLOCATION), 3);
}
END_TEST

START_TEST(peers_shared_by_two_allocations)
{
	struct tp_verdict v;
	struct tc a, b;

	/* One peer talking to two allocations, alternately: the engine's last-lookup cache must
	 * never hand one allocation's permission or channel to the other. */
	tw_start();
	tc_init(&a, TW_CLIENT, "alice", "alice-pw");
	tc_init(&b, "5.6.7.9:40000", "bob", "bob-pw");
	tc_allocate(&a);
	tc_allocate(&b);
	tc_bind(&a, 0x4001, TW_PEER);
	for (unsigned i = 0; i < 3; i++) {
		tw_from_peer(TW_PEER, &a.relay[0], payload, 4, &v);
		ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
		ck_assert(tp_addr_eq(&v.to, &a.addr));
		ck_assert_uint_eq(tp_get_be16(v.head), 0x4001);
		tw_from_peer(TW_PEER, &b.relay[0], payload, 4, &v);
		ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
		ck_assert_uint_eq(v.reason, TP_DROP_NO_PERMISSION);
	}
	tc_permit(&b, TW_PEER);
	for (unsigned i = 0; i < 3; i++) {
		tw_from_peer(TW_PEER, &a.relay[0], payload, 4, &v);
		ck_assert(tp_addr_eq(&v.to, &a.addr));
		ck_assert_uint_eq(tp_get_be16(v.head), 0x4001);
		tw_from_peer(TW_PEER, &b.relay[0], payload, 4, &v);
		ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
		ck_assert(tp_addr_eq(&v.to, &b.addr));
		check_data_indication(&v, payload, 4, TW_PEER);
	}
	/* Deleting one allocation leaves the other's flow intact. */
	ck_assert_int_eq(tc_do(&a, &(struct treq){ .method = TP_STUN_REFRESH,
						   .has_lifetime = true,
						   .lifetime = 0 }),
			 0);
	tw_from_peer(TW_PEER, &b.relay[0], payload, 4, &v);
	ck_assert(tp_addr_eq(&v.to, &b.addr));
}
END_TEST

START_TEST(bandwidth_cap)
{
	uint8_t big[1000];
	struct tp_verdict v;
	struct tc c;
	unsigned sent = 0;

	/* 8000 bit/s: 1000 bytes a second, after whatever burst the bucket allows. */
	W->p.bandwidth_bps = 8000;
	tw_start();
	memset(big, 0x42, sizeof(big));
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_bind(&c, 0x4000, TW_PEER);
	for (unsigned i = 0; i < 1000; i++) {
		tc_chandata(&c, 0x4000, big, sizeof(big));
		if (c.v.kind != TP_VERDICT_FORWARD)
			break;
		sent++;
	}
	ck_assert_uint_gt(sent, 0);
	ck_assert_uint_lt(sent, 1000);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(c.v.reason, TP_DROP_BANDWIDTH);
	ck_assert_uint_eq(tw_drops(TP_DROP_BANDWIDTH), 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_PEER_BYTES), sent * sizeof(big));
	/* The other direction draws on the same bucket. */
	tw_from_peer(TW_PEER, &c.relay[0], big, sizeof(big), &v);
	ck_assert_uint_eq(v.reason, TP_DROP_BANDWIDTH);
	tc_sendind(&c, TW_PEER, big, sizeof(big), false);
	ck_assert_uint_eq(c.v.reason, TP_DROP_BANDWIDTH);
	/* A second later there is room for one thousand bytes more, not two. */
	tw_advance_ms(1000);
	tw_from_peer(TW_PEER, &c.relay[0], big, sizeof(big), &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
	tc_chandata(&c, 0x4000, big, sizeof(big));
	ck_assert_uint_eq(c.v.reason, TP_DROP_BANDWIDTH);
	ck_assert_uint_eq(tw_drops(TP_DROP_BANDWIDTH), 4);
	/* Small packets still fit in what is left once the bucket has refilled a little. */
	tw_advance_ms(100);
	tc_chandata(&c, 0x4000, big, 50);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
}
END_TEST

START_TEST(tcp_client_data_indication)
{
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	c.transport = TP_TRANSPORT_TCP;
	c.conn = 5;
	tc_allocate(&c);
	tc_permit(&c, TW_PEER);
	tw_from_peer(TW_PEER, &c.relay[0], payload, 5, &v);
	check_data_indication(&v, payload, 5, TW_PEER);
	ck_assert_uint_eq(v.transport, TP_TRANSPORT_TCP);
	ck_assert_uint_eq(v.conn, 5);
	/* A stream client's own ChannelData arrives padded; the padding is not relayed. */
	tc_bind(&c, 0x4000, TW_PEER);
	tc_chandata(&c, 0x4000, payload, 5);
	ck_assert_uint_eq(c.req_len, 12);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(c.v.len, 5);
}
END_TEST

TCase *engine_tcase_relay(void)
{
	TCase *tc = tcase_create("relay");

	tcase_add_checked_fixture(tc, tw_setup, tw_teardown);
	tcase_add_test(tc, send_indication_forwards);
	tcase_add_test(tc, send_indication_drops);
	tcase_add_test(tc, data_indication_to_client);
	tcase_add_test(tc, ipv6_peers_on_a_dual_allocation);
	tcase_add_test(tc, peer_packet_drops);
	tcase_add_test(tc, peers_shared_by_two_allocations);
	tcase_add_test(tc, bandwidth_cap);
	tcase_add_test(tc, tcp_client_data_indication);
	return tc;
}
