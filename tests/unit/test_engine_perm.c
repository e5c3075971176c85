/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CreatePermission (RFC 8656 §10) and ChannelBind (§12): several peers at once and all or
 * nothing, families, limits, channel numbers and the rebinding rules, ChannelData both ways.
 */
#include <stdio.h>
#include <string.h>

#include <turnpike/byteorder.h>

#include "engine_fixture.h"

static const uint8_t payload[] = "peer payload";

static int permit(struct tc *c, struct treq rq)
{
	rq.method = TP_STUN_CREATE_PERMISSION;
	return tc_do(c, &rq);
}

static int chan_bind(struct tc *c, uint16_t channel, const char *peer)
{
	return tc_do(c, &(struct treq){ .method = TP_STUN_CHANNEL_BIND,
					.channel = channel,
					.peers = { peer } });
}

static void from_peer(const struct tc *c, const char *peer, struct tp_verdict *v)
{
	tw_from_peer(peer, &c->relay[0], payload, sizeof(payload), v);
}

START_TEST(several_peers_at_once)
{
	static const char *const peers[] = { "9.9.9.9:1", "8.8.8.8:2", "1.1.1.1:3" };
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { peers[0], peers[1], peers[2] } }), 0);
	ck_assert_int_eq(c.integrity, 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 3);
	for (unsigned i = 0; i < 3; i++) {
		from_peer(&c, peers[i], &v);
		ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
	}
	/* Permissions are per IP address: any port of a permitted peer gets through. */
	from_peer(&c, "9.9.9.9:65000", &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
	from_peer(&c, "9.9.9.8:1", &v);
	ck_assert_uint_eq(v.reason, TP_DROP_NO_PERMISSION);
}
END_TEST

START_TEST(one_denied_peer_installs_none)
{
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	ck_assert_int_eq(
		permit(&c, (struct treq){ .peers = { TW_PEER, "10.0.0.1:5000", TW_PEER_B } }), 403);
	ck_assert_int_eq(c.integrity, 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 0);
	from_peer(&c, TW_PEER, &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(v.reason, TP_DROP_NO_PERMISSION);
	from_peer(&c, TW_PEER_B, &v);
	ck_assert_uint_eq(v.reason, TP_DROP_NO_PERMISSION);
	tc_sendind(&c, TW_PEER, payload, 4, false);
	ck_assert_uint_eq(c.v.reason, TP_DROP_NO_PERMISSION);
}
END_TEST

START_TEST(permission_family_and_peer_errors)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	/* RFC 8656 §10.2: a peer of a family the allocation has no relayed address for. */
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { TW_PEER6 } }), 443);
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { TW_PEER, TW_PEER6 } }), 443);
	ck_assert_int_eq(permit(&c, (struct treq){ 0 }), 400);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 0);
}
END_TEST

START_TEST(permissions_per_allocation_508)
{
	struct tc c;

	W->p.permissions_per_allocation = 4;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	ck_assert_int_eq(
		permit(&c, (struct treq){ .peers = { "9.9.9.1:1", "9.9.9.2:1", "9.9.9.3:1" } }), 0);
	/* One new and one known: 5 would be too many. */
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { "9.9.9.4:1", "9.9.9.5:1" } }), 508);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 3);
	/* Exactly at the limit is fine, and refreshing existing ones costs nothing. */
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { "9.9.9.4:1", "9.9.9.1:7" } }), 0);
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { "9.9.9.1:1", "9.9.9.2:1", "9.9.9.3:1",
							      "9.9.9.4:1" } }),
			 0);
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { "9.9.9.5:1" } }), 508);
	/* A channel to a new peer needs a permission too. */
	ck_assert_int_eq(chan_bind(&c, 0x4000, "9.9.9.6:1"), 508);
	ck_assert_int_eq(chan_bind(&c, 0x4000, "9.9.9.4:1"), 0);
}
END_TEST

START_TEST(channel_number_range_400)
{
	/*
	 * RFC 8656 §12 allows 0x4000-0x4FFF. The codec deliberately keeps RFC 5766's range up to
	 * TP_CHANNEL_MAX (see turnpike/channel.h: deployed clients still pick such numbers), so
	 * the edges tested are the codec's.
	 */
	static const uint16_t bad[] = { 0x3fff, TP_CHANNEL_MAX + 1, 0xffff, 0x0001 };
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(chan_bind(&c, bad[i], TW_PEER) == 400, "channel 0x%x bound", bad[i]);
	ck_assert_int_eq(chan_bind(&c, 0x4000, TW_PEER), 0);
	ck_assert_int_eq(chan_bind(&c, TP_CHANNEL_MAX, TW_PEER_B), 0);
	/* No CHANNEL-NUMBER, or no peer. */
	ck_assert_int_eq(
		tc_do(&c, &(struct treq){ .method = TP_STUN_CHANNEL_BIND, .peers = { TW_PEER } }),
		400);
	ck_assert_int_eq(
		tc_do(&c, &(struct treq){ .method = TP_STUN_CHANNEL_BIND, .channel = 0x4001 }),
		400);
	ck_assert_int_eq(chan_bind(&c, 0x4001, TW_PEER6), 443);
	ck_assert_uint_eq(tw_ctr(TP_CTR_CHAN_BOUND), 2);
}
END_TEST

START_TEST(chandata_client_to_peer)
{
	static const uint8_t data[] = { 'a', 'b', 'c', 'd', 'e' };
	struct tp_addr peer = tw_addr(TW_PEER);
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_bind(&c, 0x4000, TW_PEER);
	tc_chandata(&c, 0x4000, data, sizeof(data));
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(c.v.off, TP_CHANDATA_HDR_LEN);
	ck_assert_uint_eq(c.v.len, sizeof(data));
	ck_assert_mem_eq(c.req + c.v.off, data, sizeof(data));
	ck_assert_uint_eq(c.v.head_len, 0);
	ck_assert_uint_eq(c.v.tail_len, 0);
	ck_assert(tp_addr_eq(&c.v.to, &peer));
	ck_assert(tp_addr_eq(&c.v.from, &c.relay[0]));
	ck_assert_uint_eq(c.v.transport, TP_TRANSPORT_UDP);
	ck_assert_uint_eq(c.v.flags, TP_VF_TO_PEER);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_PEER_PKTS), 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_PEER_BYTES), sizeof(data));
	/* An empty ChannelData message is relayed as an empty datagram. */
	tc_chandata(&c, 0x4000, data, 0);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(c.v.len, 0);
}
END_TEST

/* Peer to client over a channel, for a client on @transport. */
static void chandata_to_client(uint8_t transport)
{
	static const uint8_t data[] = { 'a', 'b', 'c', 'd', 'e' }; /* 5: padding matters */
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	c.transport = transport;
	c.conn = transport == TP_TRANSPORT_UDP ? 0 : 42;
	tc_allocate(&c);
	tc_bind(&c, 0x4123, TW_PEER);
	tw_from_peer(TW_PEER, &c.relay[0], data, sizeof(data), &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(v.flags, TP_VF_TO_CLIENT);
	ck_assert_uint_eq(v.transport, transport);
	ck_assert_uint_eq(v.conn, c.conn);
	ck_assert(tp_addr_eq(&v.to, &c.addr));
	ck_assert(tp_addr_eq(&v.from, &c.server));
	ck_assert_uint_eq(v.off, 0);
	ck_assert_uint_eq(v.len, sizeof(data));
	ck_assert_uint_eq(v.head_len, 4);
	ck_assert_uint_eq(tp_get_be16(v.head), 0x4123);
	ck_assert_uint_eq(tp_get_be16(v.head + 2), sizeof(data));
	/* RFC 8656 §12.5: padded to a multiple of 4 over a stream only. */
	if (transport == TP_TRANSPORT_UDP) {
		ck_assert_uint_eq(v.tail_len, 0);
	} else {
		static const uint8_t zeros[3] = { 0 };

		ck_assert_uint_eq(v.tail_len, 3);
		ck_assert_mem_eq(v.tail, zeros, 3);
	}
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_CLIENT_PKTS), 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_RELAY_TO_CLIENT_BYTES), sizeof(data));
	/* Another port of the same peer IP has the permission but not the channel. */
	tw_from_peer("9.9.9.9:5001", &c.relay[0], data, sizeof(data), &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(tp_get_be16(v.head), tp_stun_type(TP_STUN_DATA, TP_STUN_INDICATION));
}

START_TEST(chandata_peer_to_udp_client)
{
	chandata_to_client(TP_TRANSPORT_UDP);
}
END_TEST

START_TEST(chandata_peer_to_tcp_client)
{
	chandata_to_client(TP_TRANSPORT_TCP);
}
END_TEST

START_TEST(chandata_peer_to_tls_client)
{
	chandata_to_client(TP_TRANSPORT_TLS);
}
END_TEST

START_TEST(rebinding_rules)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_bind(&c, 0x4000, TW_PEER);
	/* RFC 8656 §12.2: a channel stays with its peer, a peer with its channel. */
	ck_assert_int_eq(chan_bind(&c, 0x4000, TW_PEER_B), 400);
	ck_assert_int_eq(chan_bind(&c, 0x4000, "9.9.9.9:5001"), 400); /* same IP, other port */
	ck_assert_int_eq(chan_bind(&c, 0x4001, TW_PEER), 400);
	/* Binding the same pair again refreshes it. */
	ck_assert_int_eq(chan_bind(&c, 0x4000, TW_PEER), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_CHAN_BOUND), 1);
	/* The other port of the same IP may have a channel of its own. */
	ck_assert_int_eq(chan_bind(&c, 0x4001, "9.9.9.9:5001"), 0);
	tc_chandata(&c, 0x4001, payload, 3);
	ck_assert_uint_eq(c.v.to.port, 5001);
	tc_chandata(&c, 0x4000, payload, 3);
	ck_assert_uint_eq(c.v.to.port, 5000);
}
END_TEST

START_TEST(channels_per_allocation_508)
{
	struct tc c;

	W->p.channels_per_allocation = 3;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	for (unsigned i = 0; i < 3; i++) {
		char peer[32];

		snprintf(peer, sizeof(peer), "9.9.9.9:%u", 6000 + i);
		ck_assert_int_eq(chan_bind(&c, (uint16_t)(0x4000 + i), peer), 0);
	}
	ck_assert_int_eq(chan_bind(&c, 0x4003, "9.9.9.9:6003"), 508);
	ck_assert_int_eq(chan_bind(&c, 0x4002, "9.9.9.9:6002"), 0); /* a refresh still works */
	ck_assert_uint_eq(tw_ctr(TP_CTR_CHAN_BOUND), 3);
}
END_TEST

START_TEST(chandata_unbound_or_unallocated)
{
	uint8_t bad[8] = { 0x40, 0x00, 0x00, 0x09 }; /* length past the datagram */
	struct tc c, stranger;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_bind(&c, 0x4000, TW_PEER);
	tc_chandata(&c, 0x4001, payload, 4);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(c.v.reason, TP_DROP_CHAN_UNBOUND);
	tc_raw(&c, bad, sizeof(bad));
	ck_assert_uint_eq(c.v.reason, TP_DROP_CHAN_MALFORMED);
	bad[0] = 0x4f;
	bad[1] = 0xff;
	bad[3] = 0;
	tc_raw(&c, bad, sizeof(bad)); /* 0x4fff, empty, not bound */
	ck_assert_uint_eq(c.v.reason, TP_DROP_CHAN_UNBOUND);
	bad[0] = 0x80; /* 0x8000: neither STUN nor ChannelData (RFC 7983) */
	tc_raw(&c, bad, sizeof(bad));
	ck_assert_uint_eq(c.v.reason, TP_DROP_NOT_TURN);
	tc_init(&stranger, "5.6.7.8:40009", NULL, NULL);
	tc_chandata(&stranger, 0x4000, payload, 4);
	ck_assert_uint_eq(stranger.v.reason, TP_DROP_NO_ALLOCATION);
	ck_assert_uint_eq(tw_drops(TP_DROP_CHAN_UNBOUND), 2);
	ck_assert_uint_eq(tw_drops(TP_DROP_NO_ALLOCATION), 1);
}
END_TEST

START_TEST(channel_bind_installs_permission)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_bind(&c, 0x4000, TW_PEER);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 1);
	tc_sendind(&c, TW_PEER, payload, 4, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
}
END_TEST

START_TEST(malformed_peer_address_400)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	/* Port 0 makes an XOR-PEER-ADDRESS malformed (DESIGN §8). */
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { "9.9.9.9" } }), 400);
	ck_assert_int_eq(permit(&c, (struct treq){ .peers = { TW_PEER, "8.8.8.8" } }), 400);
	ck_assert_int_eq(chan_bind(&c, 0x4000, "9.9.9.9"), 400);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 0);
	tc_sendind(&c, "9.9.9.9", payload, 4, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(c.v.reason, TP_DROP_SEND_MALFORMED);
}
END_TEST

START_TEST(permission_pool_exhaustion)
{
	char peers[8][32];
	unsigned n = 0;
	struct tc c;

	/*
	 * The shard's permission pool is sized from max_allocations (a few per allocation plus a
	 * reserve). With one allocation and a generous per-allocation limit, the pool itself runs
	 * out first.
	 */
	W->max_allocations = 1;
	W->p.permissions_per_allocation = 5000;
	W->p.channels_per_allocation = 1;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	for (;;) {
		struct treq rq = { .method = TP_STUN_CREATE_PERMISSION };
		int code;

		for (unsigned k = 0; k < 8; k++) {
			snprintf(peers[k], sizeof(peers[k]), "9.9.%u.%u:1", (n + k) / 250,
				 (n + k) % 250 + 1);
			rq.peers[k] = peers[k];
		}
		code = tc_do(&c, &rq);
		if (code == 508)
			break;
		ck_assert_int_eq(code, 0);
		n += 8;
		ck_assert_uint_lt(n, 5000);
	}
	/* All or nothing: the last request did not fit whole. Fill the rest one by one. */
	for (;; n++) {
		int code;

		snprintf(peers[0], sizeof(peers[0]), "9.9.%u.%u:1", n / 250, n % 250 + 1);
		code = permit(&c, (struct treq){ .peers = { peers[0] } });
		if (code == 508)
			break;
		ck_assert_int_eq(code, 0);
	}
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), n);
	/* A channel to a new peer needs a permission the pool cannot hold: 508, and nothing of
	 * the attempt may linger (the one channel this allocation may have is still free). */
	ck_assert_int_eq(chan_bind(&c, 0x4000, "8.8.8.8:1"), 508);
	ck_assert_int_eq(chan_bind(&c, 0x4001, "9.9.0.1:1"), 0);
	tc_chandata(&c, 0x4001, payload, 4);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
}
END_TEST

TCase *engine_tcase_perm(void)
{
	TCase *tc = tcase_create("perm");

	tcase_add_checked_fixture(tc, tw_setup, tw_teardown);
	tcase_add_test(tc, several_peers_at_once);
	tcase_add_test(tc, one_denied_peer_installs_none);
	tcase_add_test(tc, permission_family_and_peer_errors);
	tcase_add_test(tc, permissions_per_allocation_508);
	tcase_add_test(tc, channel_number_range_400);
	tcase_add_test(tc, chandata_client_to_peer);
	tcase_add_test(tc, chandata_peer_to_udp_client);
	tcase_add_test(tc, chandata_peer_to_tcp_client);
	tcase_add_test(tc, chandata_peer_to_tls_client);
	tcase_add_test(tc, rebinding_rules);
	tcase_add_test(tc, channels_per_allocation_508);
	tcase_add_test(tc, chandata_unbound_or_unallocated);
	tcase_add_test(tc, channel_bind_installs_permission);
	tcase_add_test(tc, malformed_peer_address_400);
	tcase_add_test(tc, permission_pool_exhaustion);
	return tc;
}
