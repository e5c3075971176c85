/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lifetimes: Refresh (RFC 8656 §7.3), expiry of allocations, permissions and channels from the
 * timer wheel, ports coming back for reuse, and TCP connections that close.
 */
#include <stdio.h>
#include <string.h>

#include "engine_fixture.h"

static const uint8_t payload[] = "0123456789";

static int refresh(struct tc *c, bool has_lifetime, uint32_t lifetime)
{
	return tc_do(c, &(struct treq){ .method = TP_STUN_REFRESH,
					.has_lifetime = has_lifetime,
					.lifetime = lifetime });
}

/* Does data from @peer reach @c through its (first) relayed address? */
static bool peer_reaches(const struct tc *c, const char *peer)
{
	struct tp_verdict v;

	tw_from_peer(peer, &c->relay[0], payload, sizeof(payload), &v);
	return v.kind == TP_VERDICT_FORWARD && tp_addr_eq(&v.to, &c->addr);
}

START_TEST(refresh_zero_deletes)
{
	uint8_t first[1500];
	size_t first_len;
	uint32_t lifetime;
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_permit(&c, TW_PEER);
	ck_assert_int_eq(refresh(&c, true, 0), 0);
	ck_assert_int_eq(tp_stun_get_u32(&c.m, TP_STUN_ATTR_LIFETIME, &lifetime), 0);
	ck_assert_uint_eq(lifetime, 0);
	ck_assert_int_eq(c.integrity, 1);
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(W->ops[0].closes, 1);
	ck_assert_uint_eq(W->ops[0].last_close, c.relay[0].port);
	ck_assert_uint_eq(W->ops[0].n_events, 2);
	ck_assert_int_eq(W->ops[0].ev[1].kind, TP_EVENT_ALLOC_DELETED);
	ck_assert_uint_eq(W->ops[0].ev[1].lifetime, 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_ALLOC_DELETED), 1);
	ck_assert_uint_eq(tp_stat_read(&tp_engine_stats(W->e[0])->allocations), 0);
	/* The retransmitted Refresh gets the same success, not a 437. */
	first_len = c.v.len;
	memcpy(first, c.reply, first_len);
	ck_assert_int_eq(tc_resend(&c), 0);
	ck_assert_mem_eq(c.reply, first, first_len);
	/* Nothing is left of it. */
	tw_from_peer(TW_PEER, &c.relay[0], payload, sizeof(payload), &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(v.reason, TP_DROP_RELAY_NO_ALLOCATION);
	ck_assert_int_eq(refresh(&c, false, 0), 437);
	tc_allocate(&c); /* the 5-tuple is free again */
}
END_TEST

START_TEST(refresh_extends)
{
	uint32_t lifetime;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_permit(&c, TW_PEER);
	tw_tick(500);
	ck_assert_int_eq(refresh(&c, false, 0), 0);
	ck_assert_int_eq(tp_stun_get_u32(&c.m, TP_STUN_ATTR_LIFETIME, &lifetime), 0);
	ck_assert_uint_eq(lifetime, 600);
	ck_assert_uint_eq(W->ops[0].ev[W->ops[0].n_events - 1].kind, TP_EVENT_ALLOC_REFRESHED);
	ck_assert_uint_eq(tw_ctr(TP_CTR_ALLOC_REFRESHED), 1);
	tw_tick(200); /* 700 s after the Allocate: past its first lifetime */
	ck_assert_uint_eq(tw_allocations(), 1);
	tc_permit(&c, TW_PEER);
	ck_assert(peer_reaches(&c, TW_PEER));
	/* Refresh bounds its LIFETIME like Allocate. */
	ck_assert_int_eq(refresh(&c, true, 99999), 0);
	ck_assert_int_eq(tp_stun_get_u32(&c.m, TP_STUN_ATTR_LIFETIME, &lifetime), 0);
	ck_assert_uint_eq(lifetime, 3600);
	tw_tick(3599);
	ck_assert_uint_eq(tw_allocations(), 1);
	tw_tick(1);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(refresh_family_mismatch_443)
{
	struct tc c, dual;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	ck_assert_int_eq(
		tc_do(&c, &(struct treq){ .method = TP_STUN_REFRESH, .family = TP_AF_INET6 }), 443);
	ck_assert_int_eq(
		tc_do(&c, &(struct treq){ .method = TP_STUN_REFRESH, .family = TP_AF_INET }), 0);
	tc_init(&dual, "5.6.7.8:40001", "alice", "alice-pw");
	ck_assert_int_eq(tc_do(&dual, &(struct treq){ .method = TP_STUN_ALLOCATE,
						      .transport = TP_STUN_TRANSPORT_UDP,
						      .add_family = TP_AF_INET6 }),
			 0);
	ck_assert_int_eq(
		tc_do(&dual, &(struct treq){ .method = TP_STUN_REFRESH, .family = TP_AF_INET6 }),
		0);
	ck_assert_uint_eq(tw_allocations(), 2);
}
END_TEST

START_TEST(allocation_expires)
{
	struct tc c;
	const struct tw_event *ev;
	struct tp_verdict v;

	W->p.allocations_per_user = 1;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tw_tick(599);
	ck_assert_uint_eq(tw_allocations(), 1);
	ck_assert_uint_eq(W->ops[0].closes, 0);
	tw_tick(1);
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(W->ops[0].closes, 1);
	ck_assert_uint_eq(W->ops[0].last_close, c.relay[0].port);
	ev = &W->ops[0].ev[W->ops[0].n_events - 1];
	ck_assert_int_eq(ev->kind, TP_EVENT_ALLOC_EXPIRED);
	ck_assert_uint_eq(ev->lifetime, 0);
	ck_assert(tp_addr_eq(&ev->client, &c.addr));
	ck_assert_uint_eq(tw_ctr(TP_CTR_ALLOC_EXPIRED), 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_ALLOC_DELETED), 0);
	ck_assert_uint_eq(tp_stat_read(&tp_engine_stats(W->e[0])->allocations), 0);
	tw_from_peer(TW_PEER, &c.relay[0], payload, sizeof(payload), &v);
	ck_assert_uint_eq(v.reason, TP_DROP_RELAY_NO_ALLOCATION);
	/* The quota came back, and the 5-tuple is free. */
	tc_allocate(&c);
}
END_TEST

START_TEST(ports_reused_after_expiry)
{
	uint16_t ports[2];
	struct tc c[2];

	W->p.port_max = TW_PORT_MIN + 1;
	tw_start();
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 2; i++) {
			char addr[32];

			snprintf(addr, sizeof(addr), "5.6.7.8:%u", 41000 + 10 * round + i);
			tc_init(&c[i], addr, "alice", "alice-pw");
			tc_allocate(&c[i]);
			ports[i] = c[i].relay[0].port;
		}
		ck_assert_uint_ne(ports[0], ports[1]);
		ck_assert_uint_eq(ports[0] + ports[1], 2 * TW_PORT_MIN + 1);
		tw_tick(600);
		ck_assert_uint_eq(tw_allocations(), 0);
	}
	ck_assert_uint_eq(W->ops[0].opens, 6);
	ck_assert_uint_eq(W->ops[0].closes, 6);
}
END_TEST

START_TEST(large_clock_jump_expires_everything)
{
	struct tc c[3];

	tw_start();
	for (unsigned i = 0; i < 3; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "5.6.7.8:%u", 41000 + i);
		tc_init(&c[i], addr, "alice", "alice-pw");
		tc_allocate(&c[i]);
		tc_bind(&c[i], 0x4000, TW_PEER);
	}
	tw_tick(100000); /* far more than one turn of the wheel */
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_ALLOC_EXPIRED), 3);
	ck_assert_uint_eq(W->ops[0].closes, 3);
}
END_TEST

START_TEST(permission_expires)
{
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						   .transport = TP_STUN_TRANSPORT_UDP,
						   .has_lifetime = true,
						   .lifetime = 1200 }),
			 0);
	tc_permit(&c, TW_PEER);
	tw_tick(299);
	ck_assert(peer_reaches(&c, TW_PEER));
	tw_tick(1);
	tw_from_peer(TW_PEER, &c.relay[0], payload, sizeof(payload), &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(v.reason, TP_DROP_NO_PERMISSION);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_EXPIRED), 1);
	tc_sendind(&c, TW_PEER, payload, 4, false);
	ck_assert_uint_eq(c.v.reason, TP_DROP_NO_PERMISSION);
	/* A new CreatePermission brings it back; a refresh pushes the expiry out. */
	tc_permit(&c, TW_PEER);
	tw_tick(200);
	tc_permit(&c, TW_PEER);
	tw_tick(200);
	ck_assert(peer_reaches(&c, TW_PEER));
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 2);
}
END_TEST

START_TEST(permission_expiry_without_tick)
{
	struct tp_verdict v;
	struct tc c;

	/* Even if the shard has not run its timers yet, an expired permission lets nothing by. */
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_permit(&c, TW_PEER);
	ck_assert(peer_reaches(&c, TW_PEER));
	tw_advance_ms(300 * 1000);
	tw_from_peer(TW_PEER, &c.relay[0], payload, sizeof(payload), &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	tc_sendind(&c, TW_PEER, payload, 4, false);
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
}
END_TEST

START_TEST(allocation_expiry_without_tick)
{
	struct tp_verdict v;
	struct tc c;

	/* An allocation past its lifetime relays nothing, whether or not the timers ran. */
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	ck_assert_uint_eq(tw_allocations(), 1);
	tw_advance_ms(600 * 1000);
	tw_from_peer(TW_PEER, &c.relay[0], payload, sizeof(payload), &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(v.reason, TP_DROP_RELAY_NO_ALLOCATION);
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_ALLOC_EXPIRED), 1);
	/* And a Refresh finds nothing to refresh. */
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_REFRESH }), 437);
}
END_TEST

START_TEST(channel_expires)
{
	static const uint8_t data[] = { 1, 2, 3, 4 };
	struct tp_addr peer = tw_addr(TW_PEER);
	struct tp_verdict v;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						   .transport = TP_STUN_TRANSPORT_UDP,
						   .has_lifetime = true,
						   .lifetime = 1200 }),
			 0);
	tc_bind(&c, 0x4001, TW_PEER);
	/* Keep the permission alive on its own: the channel's 600 s is what is tested. */
	tw_tick(250);
	tc_permit(&c, TW_PEER);
	tw_tick(250);
	tc_permit(&c, TW_PEER);
	tw_tick(99);
	tc_chandata(&c, 0x4001, data, sizeof(data));
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	tw_tick(1);
	tc_chandata(&c, 0x4001, data, sizeof(data));
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(c.v.reason, TP_DROP_CHAN_UNBOUND);
	ck_assert_uint_eq(tw_ctr(TP_CTR_CHAN_EXPIRED), 1);
	/* The peer's data now comes as Data indications. */
	tw_from_peer(TW_PEER, &c.relay[0], data, sizeof(data), &v);
	ck_assert_uint_eq(v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(v.head_len, tp_stun_data_head_len(&peer));
	/* The channel number and the peer are free to bind again, to each other or not. */
	tc_bind(&c, 0x4001, TW_PEER_B);
	tc_bind(&c, 0x4002, TW_PEER);
}
END_TEST

START_TEST(conn_closed_deletes_tcp_allocation)
{
	struct tc tcp, udp;

	tw_start();
	tc_init(&tcp, TW_CLIENT, "alice", "alice-pw");
	tcp.transport = TP_TRANSPORT_TCP;
	tcp.conn = 77;
	tc_allocate(&tcp);
	tc_init(&udp, TW_CLIENT, "alice", "alice-pw"); /* same addresses, over UDP */
	tc_allocate(&udp);
	ck_assert_uint_eq(W->ops[0].ev[0].transport, TP_TRANSPORT_TCP);
	ck_assert_uint_eq(tw_allocations(), 2);
	/* A connection the engine never saw changes nothing. */
	tp_engine_conn_closed(W->e[0], TP_TRANSPORT_TLS, &tcp.addr, &tcp.server, &W->now);
	ck_assert_uint_eq(tw_allocations(), 2);
	tp_engine_conn_closed(W->e[0], TP_TRANSPORT_TCP, &tcp.addr, &tcp.server, &W->now);
	ck_assert_uint_eq(tw_allocations(), 1);
	ck_assert_uint_eq(W->ops[0].last_close, tcp.relay[0].port);
	ck_assert_int_eq(W->ops[0].ev[W->ops[0].n_events - 1].kind, TP_EVENT_ALLOC_DELETED);
	ck_assert_uint_eq(W->ops[0].ev[W->ops[0].n_events - 1].transport, TP_TRANSPORT_TCP);
	ck_assert(!peer_reaches(&udp, TW_PEER)); /* alive, but no permission yet */
	tc_permit(&udp, TW_PEER);
	ck_assert(peer_reaches(&udp, TW_PEER));
}
END_TEST

START_TEST(channel_needs_its_permission)
{
	static const uint8_t data[] = { 1, 2, 3 };
	struct tc c;

	/* RFC 8656 §12: a channel lasts 10 minutes but the permission it installed only 5; the
	 * client keeps both alive by refreshing the binding. */
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	tc_bind(&c, 0x4000, TW_PEER);
	tw_tick(300);
	tc_chandata(&c, 0x4000, data, sizeof(data));
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_DROP);
	ck_assert_uint_eq(c.v.reason, TP_DROP_NO_PERMISSION);
	tc_bind(&c, 0x4000, TW_PEER); /* the refresh installs the permission again */
	tc_chandata(&c, 0x4000, data, sizeof(data));
	ck_assert_uint_eq(c.v.kind, TP_VERDICT_FORWARD);
	ck_assert_uint_eq(tw_ctr(TP_CTR_CHAN_BOUND), 1);
	ck_assert_uint_eq(tw_ctr(TP_CTR_PERM_CREATED), 2);
}
END_TEST

START_TEST(ports_belong_to_their_shard)
{
	struct tp_verdict v;
	struct tc c[8];

	W->nshards = 2;
	tw_start();
	for (unsigned i = 0; i < 8; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "5.6.7.8:%u", 41000 + i);
		tc_init(&c[i], addr, "alice", "alice-pw");
		c[i].shard = i % 2;
		tc_allocate(&c[i]);
		ck_assert_uint_eq(tp_engine_port_shard(c[i].relay[0].port, TW_PORT_MIN, 2),
				  c[i].shard);
		tc_permit(&c[i], TW_PEER);
		ck_assert(peer_reaches(&c[i], TW_PEER));
	}
	/* Delivered to the wrong shard, a peer packet finds nothing there. */
	{
		struct tp_pkt pkt;

		memset(&pkt, 0, sizeof(pkt));
		pkt.data = payload;
		pkt.len = sizeof(payload);
		pkt.origin = TP_PKT_FROM_PEER;
		pkt.src = tw_addr(TW_PEER);
		pkt.dst = c[0].relay[0];
		tp_engine_handle(W->e[1], &pkt, &v, &W->now);
		ck_assert_uint_eq(v.kind, TP_VERDICT_DROP);
		ck_assert_uint_eq(v.reason, TP_DROP_RELAY_NO_ALLOCATION);
	}
	ck_assert_uint_eq(tp_engine_allocations(W->e[0]), 4);
	ck_assert_uint_eq(tp_engine_allocations(W->e[1]), 4);
}
END_TEST

TCase *engine_tcase_lifecycle(void)
{
	TCase *tc = tcase_create("lifecycle");

	tcase_add_checked_fixture(tc, tw_setup, tw_teardown);
	tcase_add_test(tc, refresh_zero_deletes);
	tcase_add_test(tc, refresh_extends);
	tcase_add_test(tc, refresh_family_mismatch_443);
	tcase_add_test(tc, allocation_expires);
	tcase_add_test(tc, ports_reused_after_expiry);
	tcase_add_test(tc, large_clock_jump_expires_everything);
	tcase_add_test(tc, permission_expires);
	tcase_add_test(tc, permission_expiry_without_tick);
	tcase_add_test(tc, allocation_expiry_without_tick);
	tcase_add_test(tc, channel_expires);
	tcase_add_test(tc, conn_closed_deletes_tcp_allocation);
	tcase_add_test(tc, channel_needs_its_permission);
	tcase_add_test(tc, ports_belong_to_their_shard);
	return tc;
}
