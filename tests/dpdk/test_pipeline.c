/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Golden packet fixtures for the DPDK pipeline, in one process over net_ring (DESIGN.md §9):
 * frames go into the port's RX rings, tp_dpdkdp_poll_once() runs a worker's loop in this thread,
 * and what comes out of the TX rings is compared byte for byte with the expected frame (literal
 * golden frames from tests/dpdk/golden.py for L2/L3 and Binding), or taken apart and checked
 * field by field with DPDK's own checksum verifiers (TURN flows, whose relay ports the engine
 * picks), or must not come out at all with the right drop counter moved.
 *
 * The EAL is initialised once (it cannot be re-initialised in a process) with
 * -l 0 --no-pci --no-huge -m 256 --no-shconf --no-telemetry --file-prefix=tpgold<pid>; the
 * runtime directory is removed at exit. Each case starts a fresh plane in manual mode on one of
 * two ring ports created at start-up (one queue pair for one worker, two for two).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>
#include <turnpike/crypto.h>
#include <turnpike/dpdkdp.h>
#include <turnpike/engine.h>
#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

#include "golden_frames.h"
#include "pipeline_rig.h"

/* ---- golden L2/L3 and Binding frames ---- */

struct golden {
	const char *name;
	const uint8_t *in;
	size_t in_len;
	const uint8_t *out;
	size_t out_len;
	enum tp_dpdkdp_counter ctr; /* moved by one */
};

#define G(n, c)                                                                 \
	{                                                                       \
#n, golden_##n##_in, sizeof(golden_##n##_in), golden_##n##_out, \
			sizeof(golden_##n##_out), c                             \
	}

static const struct golden goldens[] = {
	G(arp_request, TP_DPDKDP_CTR_ARP_REPLY), G(icmp4_echo, TP_DPDKDP_CTR_ECHO_REPLY),
	G(icmp6_echo, TP_DPDKDP_CTR_ECHO_REPLY), G(ndp_ns, TP_DPDKDP_CTR_ND_ADVERT),
	G(binding4, TP_DPDKDP_CTR_CKSUM_FULL),	 G(binding6, TP_DPDKDP_CTR_CKSUM_FULL),
};

START_TEST(golden_frames)
{
	const struct golden *g = &goldens[_i];
	struct out o;

	rig_start(1, true); /* Binding needs no credentials even so */
	inject(0, g->in, g->in_len);
	poll_all();
	must_take(0, &o);
	assert_frame_eq(&o, g->out, g->out_len);
	expect_nothing();
	ck_assert_uint_eq(counters(-1).ctr[g->ctr], 1);
	ck_assert_uint_eq(counters(-1).ctr[TP_DPDKDP_CTR_RX], 1);
	ck_assert_uint_eq(counters(-1).ctr[TP_DPDKDP_CTR_TX], 1);
}
END_TEST

/* The Binding response with the port's UDP checksum offload: the same frame once a NIC has
 * filled in what the mbuf asked for. */
START_TEST(golden_binding_offload)
{
	struct out o;

	rig_start(1, false);
	tp_dpdkdp_test_tx_offload(R.dp, true);
	inject(0, golden_binding4_in, sizeof(golden_binding4_in));
	poll_all();
	must_take(0, &o);
	ck_assert(o.ol_flags & RTE_MBUF_F_TX_IPV4);
	ck_assert(o.ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	ck_assert_uint_eq(o.ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
	ck_assert_uint_eq(o.l2_len, 14);
	ck_assert_uint_eq(o.l3_len, 20);
	complete_offload(&o);
	assert_frame_eq(&o, golden_binding4_out, sizeof(golden_binding4_out));
	ck_assert_uint_eq(counters(-1).ctr[TP_DPDKDP_CTR_CKSUM_OFFLOAD], 1);
}
END_TEST

/* ---- drops ---- */

enum drop_case {
	D_FRAG4_MF,
	D_FRAG4_OFF,
	D_FRAG6,
	D_ETHERTYPE,
	D_QINQ,
	D_UDP_PORT,
	D_NOT_OURS,
	D_ARP_OTHER,
	D_TCP,
	D_ICMP_OTHER,
	D_IHL,
	D_TRUNCATED,
	D_BAD_CKSUM,
	D_NOT_TURN,
	D_NO_ALLOC,
	D_COUNT
};

struct drop_expect {
	const char *name;
	int plane;  /* enum tp_dpdkdp_drop, or -1 */
	int engine; /* enum tp_drop, or -1 */
};

static const struct drop_expect drop_expect[D_COUNT] = {
	[D_FRAG4_MF] = { "IPv4 MF", TP_DPDKDP_DROP_FRAGMENT, -1 },
	[D_FRAG4_OFF] = { "IPv4 offset", TP_DPDKDP_DROP_FRAGMENT, -1 },
	[D_FRAG6] = { "IPv6 fragment header", TP_DPDKDP_DROP_FRAGMENT, -1 },
	[D_ETHERTYPE] = { "LLDP", TP_DPDKDP_DROP_ETHERTYPE, -1 },
	[D_QINQ] = { "two VLAN tags", TP_DPDKDP_DROP_ETHERTYPE, -1 },
	[D_UDP_PORT] = { "UDP to port 9999", TP_DPDKDP_DROP_UDP_PORT, -1 },
	[D_NOT_OURS] = { "UDP to another host", TP_DPDKDP_DROP_NOT_OURS, -1 },
	[D_ARP_OTHER] = { "ARP for another host", TP_DPDKDP_DROP_NOT_OURS, -1 },
	[D_TCP] = { "TCP", TP_DPDKDP_DROP_IP_PROTO, -1 },
	[D_ICMP_OTHER] = { "ICMP timestamp", TP_DPDKDP_DROP_ICMP_OTHER, -1 },
	[D_IHL] = { "IHL 4", TP_DPDKDP_DROP_MALFORMED, -1 },
	[D_TRUNCATED] = { "UDP cut short", TP_DPDKDP_DROP_MALFORMED, -1 },
	[D_BAD_CKSUM] = { "STUN with a bad UDP checksum", TP_DPDKDP_DROP_L4_CKSUM, -1 },
	[D_NOT_TURN] = { "UDP garbage to 3478", -1, TP_DROP_NOT_TURN },
	[D_NO_ALLOC] = { "peer data to an unused relay port", -1, TP_DROP_RELAY_NO_ALLOCATION },
};

static void fix_ip4(uint8_t *ip)
{
	tp_put_be16(ip + 10, 0);
	tp_put_be16(ip + 10, tp_ipv4_cksum(ip, (size_t)(ip[0] & 15) * 4));
}

static size_t mk_drop_frame(enum drop_case d, uint8_t *b)
{
	struct tp_addr c4 = addr(CLI4), s4 = addr(SRV4), c6 = addr(CLI6), s6 = addr(SRV6);
	uint8_t stun[20];
	size_t n;

	memset(stun, 0, sizeof(stun));
	tp_put_be16(stun, 0x0001);
	tp_put_be32(stun + 4, TP_STUN_MAGIC_COOKIE);
	switch (d) {
	case D_FRAG4_MF:
	case D_FRAG4_OFF:
		n = mk_udp(b, CMAC, &c4, &s4, stun, sizeof(stun), false);
		tp_put_be16(b + 14 + 6, d == D_FRAG4_MF ? 0x2000 : 0x0010);
		fix_ip4(b + 14);
		return n;
	case D_FRAG6:
		n = mk_udp(b, CMAC, &c6, &s6, stun, sizeof(stun), false);
		b[14 + 6] = 44;
		return n;
	case D_ETHERTYPE:
		n = mk_udp(b, CMAC, &c4, &s4, stun, sizeof(stun), false);
		tp_put_be16(b + 12, 0x88cc);
		return n;
	case D_QINQ: {
		struct tp_l2 l2 = { .tagged = true, .tci = 5 };

		memcpy(l2.dst, PMAC, 6);
		memcpy(l2.src, CMAC, 6);
		n = tp_udp_hdr_write(b, &l2, &c4, &s4, 0, false, 1);
		tp_put_be16(b + 16, TP_ETHERTYPE_VLAN);
		return n;
	}
	case D_UDP_PORT: {
		struct tp_addr s = addr("10.99.0.2:9999");

		return mk_udp(b, CMAC, &c4, &s, stun, sizeof(stun), false);
	}
	case D_NOT_OURS: {
		struct tp_addr s = addr("10.99.0.77:3478");

		return mk_udp(b, CMAC, &c4, &s, stun, sizeof(stun), false);
	}
	case D_ARP_OTHER: {
		struct tp_l2 l2;
		uint8_t other[4] = { 10, 99, 0, 77 };

		memset(&l2, 0, sizeof(l2));
		memcpy(l2.src, CMAC, 6);
		return tp_arp_request(b, 128, &l2, c4.ip, other);
	}
	case D_TCP:
		n = mk_udp(b, CMAC, &c4, &s4, stun, sizeof(stun), false);
		b[14 + 9] = 6;
		fix_ip4(b + 14);
		return n;
	case D_ICMP_OTHER: {
		/* an ICMP timestamp request (type 13), 20 bytes */
		uint8_t *ic;

		n = mk_udp(b, CMAC, &c4, &s4, stun, 12, false);
		b[14 + 9] = TP_IPPROTO_ICMP;
		fix_ip4(b + 14);
		ic = b + 34;
		memset(ic, 0, 20);
		ic[0] = 13;
		tp_put_be16(ic + 2, tp_cksum_finish(tp_cksum_sum(ic, 20)));
		return n;
	}
	case D_IHL:
		n = mk_udp(b, CMAC, &c4, &s4, stun, sizeof(stun), false);
		b[14] = 0x44;
		fix_ip4(b + 14);
		return n;
	case D_TRUNCATED:
		return mk_udp(b, CMAC, &c4, &s4, stun, sizeof(stun), false) - 1;
	case D_BAD_CKSUM:
		n = mk_udp(b, CMAC, &c4, &s4, stun, sizeof(stun), false);
		b[n - 1] ^= 0x01; /* the payload changes under its checksum */
		return n;
	case D_NOT_TURN: {
		static const uint8_t junk[9] = { 0xc0, 1, 2, 3, 4, 5, 6, 7, 8 };

		return mk_udp(b, CMAC, &c4, &s4, junk, sizeof(junk), false);
	}
	case D_NO_ALLOC: {
		struct tp_addr peer = addr(PEER4), relay = addr("10.99.0.2:50000");

		return mk_udp(b, GMAC, &peer, &relay, "hello", 5, false);
	}
	default:
		ck_abort();
	}
	return 0;
}

START_TEST(drops_counted)
{
	const struct drop_expect *e = &drop_expect[_i];
	uint8_t b[256];
	size_t n = mk_drop_frame((enum drop_case)_i, b);
	struct tp_dpdkdp_counters c;
	uint64_t plane = 0, eng = 0;

	rig_start(1, false);
	inject(0, b, n);
	poll_all();
	expect_nothing();
	c = counters(-1);
	for (unsigned i = 0; i < TP_DPDKDP_DROP_COUNT; i++)
		plane += c.drop[i];
	{
		struct tp_stats s = engine_stats();

		for (unsigned i = 0; i < TP_DROP_COUNT; i++)
			eng += tp_stat_read(&s.drop[i]);
		if (e->engine >= 0)
			ck_assert_msg(tp_stat_read(&s.drop[e->engine]) == 1, "%s: engine drop %s",
				      e->name, tp_drop_name((unsigned)e->engine));
	}
	if (e->plane >= 0)
		ck_assert_msg(c.drop[e->plane] == 1, "%s: want drop %s", e->name,
			      tp_dpdkdp_drop_name((unsigned)e->plane));
	ck_assert_msg(plane + eng == 1, "%s: %lu plane + %lu engine drops", e->name,
		      (unsigned long)plane, (unsigned long)eng);
}
END_TEST

/* ---- TURN over the pipeline ---- */

START_TEST(allocate_v4_and_v6)
{
	struct tp_addr r4, r6;

	rig_start(1, false);
	prime_neighbours();
	r4 = allocate(0, CLI4, SRV4, 0);
	ck_assert(tp_addr_ip_eq(&r4, &R.own[0]));
	r6 = allocate(0, CLI6, SRV6, TP_AF_INET6);
	ck_assert(tp_addr_ip_eq(&r6, &R.own[1]));
	ck_assert_uint_eq(tp_dpdkdp_allocations(R.dp, -1), 2);
}
END_TEST

START_TEST(allocate_authenticated)
{
	struct req rq = { .method = TP_STUN_ALLOCATE, .transport = true };
	struct resp r;
	const uint8_t *nonce;
	size_t nlen;
	char nonce_s[TP_STUN_NONCE_MAX + 1];
	struct tp_hmac_key k;
	uint8_t key[TP_DIGEST_MAX];
	int kl;
	int code = 0;

	rig_start(1, true);
	transact(0, CLI4, SRV4, &rq, &r);
	ck_assert_uint_eq(r.m.cls, TP_STUN_ERROR);
	tp_stun_get_error(&r.m, &code, NULL, NULL);
	ck_assert_int_eq(code, 401);
	ck_assert_int_eq(tp_stun_get_string(&r.m, TP_STUN_ATTR_NONCE, &nonce, &nlen), 0);
	snprintf(nonce_s, sizeof(nonce_s), "%.*s", (int)nlen, (const char *)nonce);
	rq.auth = true;
	rq.nonce = nonce_s;
	transact(0, CLI4, SRV4, &rq, &r);
	expect_success(&r);
	kl = tp_stun_long_term_key(TP_STUN_PWALG_MD5, USER, strlen(USER), REALM, strlen(REALM),
				   PASSWORD, strlen(PASSWORD), key);
	tp_hmac_key_init(&k, TP_DIGEST_SHA1, key, (size_t)kl);
	ck_assert_int_eq(tp_stun_check_integrity(&r.m, &k), 0);
	ck_assert_uint_eq(tp_dpdkdp_allocations(R.dp, -1), 1);
}
END_TEST

START_TEST(permission_and_channel_bind)
{
	rig_start(1, false);
	prime_neighbours();
	allocate(0, CLI4, SRV4, 0);
	permit(0, CLI4, SRV4, PEER4);
	bind_channel(0, CLI4, SRV4, PEER4);
	ck_assert_uint_eq(tp_stat_read(&engine_stats().ctr[TP_CTR_CHAN_BOUND]), 1);
}
END_TEST

/* Check a frame relayed to @peer from @relay carries exactly @data. */
static void expect_to_peer(struct out *o, const struct tp_addr *relay, const char *peer,
			   const uint8_t *gw_mac, const void *data, size_t len, bool df)
{
	struct tp_frame f;
	struct tp_addr p = addr(peer);

	parse_udp(o, &f);
	ck_assert(memcmp(o->b, gw_mac, 6) == 0);
	ck_assert(memcmp(o->b + 6, PMAC, 6) == 0);
	ck_assert(tp_addr_eq(&f.src, relay));
	ck_assert(tp_addr_eq(&f.dst, &p));
	ck_assert_uint_eq(f.pay_len, len);
	ck_assert(memcmp(o->b + f.pay_off, data, len) == 0);
	ck_assert_uint_eq(o->len, f.pay_off + len);
	if (f.family == TP_AF_INET)
		ck_assert_uint_eq(f.df, df);
}

static const uint8_t DATA[] = "The quick brown fox jumps over the lazy dog: relayed in place.";

/* _i: bit 0 offload, bit 1 odd length, bit 2 client pads ChannelData to 4, bit 3 IPv4 UDP
 * checksum 0 from the client. */
START_TEST(chandata_to_peer)
{
	bool offload = _i & 1, pad = _i & 4, zero = _i & 8;
	size_t len = (_i & 2) ? 37 : 40;
	uint8_t msg[128], frame[256];
	struct tp_addr relay, c = addr(CLI4), s = addr(SRV4);
	struct out o;
	size_t n = TP_CHANDATA_HDR_LEN + len;
	struct tp_dpdkdp_counters before;

	rig_start(1, false);
	prime_neighbours();
	relay = allocate(0, CLI4, SRV4, 0);
	bind_channel(0, CLI4, SRV4, PEER4);
	tp_dpdkdp_test_tx_offload(R.dp, offload);
	tp_chandata_put_hdr(msg, CHANNEL, (uint16_t)len);
	memcpy(msg + 4, DATA, len);
	if (pad)
		while (n & 3)
			msg[n++] = 0;
	before = counters(-1); /* the responses so far were checksummed in full */
	inject(0, frame, mk_udp(frame, CMAC, &c, &s, msg, n, zero));
	poll_all();
	must_take(0, &o);
	expect_nothing();
	if (offload) {
		ck_assert_uint_eq(o.ol_flags & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
		complete_offload(&o);
		ck_assert_uint_eq(counters(-1).ctr[TP_DPDKDP_CTR_CKSUM_OFFLOAD], 1);
	} else {
		ck_assert_uint_eq(o.ol_flags, 0);
		enum tp_dpdkdp_counter want =
			zero ? TP_DPDKDP_CTR_CKSUM_FULL : TP_DPDKDP_CTR_CKSUM_INCREMENTAL;

		ck_assert_uint_eq(counters(-1).ctr[want] - before.ctr[want], 1);
	}
	expect_to_peer(&o, &relay, PEER4, GMAC, DATA, len, false);
	ck_assert_uint_eq(tp_stat_read(&engine_stats().ctr[TP_CTR_RELAY_TO_PEER_BYTES]), len);
}
END_TEST

/* _i: bit 0 offload, bit 1 with a channel (else a Data indication), bit 2 odd length. */
START_TEST(peer_to_client)
{
	bool offload = _i & 1, chan = _i & 2;
	size_t len = (_i & 4) ? 13 : 16;
	uint8_t frame[256];
	struct tp_addr relay, peer = addr(PEER4);
	struct out o;
	struct tp_frame f;

	rig_start(1, false);
	prime_neighbours();
	relay = allocate(0, CLI4, SRV4, 0);
	if (chan)
		bind_channel(0, CLI4, SRV4, PEER4);
	else
		permit(0, CLI4, SRV4, PEER4);
	tp_dpdkdp_test_tx_offload(R.dp, offload);
	inject(0, frame, mk_udp(frame, GMAC, &peer, &relay, DATA, len, false));
	poll_all();
	must_take(0, &o);
	expect_nothing();
	if (offload)
		complete_offload(&o);
	parse_udp(&o, &f);
	ck_assert(memcmp(o.b, CMAC, 6) == 0); /* the client is on-link */
	ck_assert(tp_addr_eq(&f.src, &R.listen[0]));
	{
		struct tp_addr c = addr(CLI4);

		ck_assert(tp_addr_eq(&f.dst, &c));
	}
	if (chan) {
		/* RFC 8656 §12.4: ChannelData over UDP, no padding */
		ck_assert_uint_eq(f.pay_len, 4 + len);
		ck_assert_uint_eq(tp_get_be16(o.b + f.pay_off), CHANNEL);
		ck_assert_uint_eq(tp_get_be16(o.b + f.pay_off + 2), len);
		ck_assert(memcmp(o.b + f.pay_off + 4, DATA, len) == 0);
	} else {
		struct tp_stun_msg m;
		struct tp_addr from;
		const uint8_t *d;
		size_t dl;

		/* RFC 8656 §11.4: a Data indication, DATA padded to 4 with zeros */
		ck_assert_uint_eq(f.pay_len % 4, 0);
		ck_assert_int_eq(tp_stun_parse(&m, o.b + f.pay_off, f.pay_len), 0);
		ck_assert_uint_eq(m.method, TP_STUN_DATA);
		ck_assert_uint_eq(m.cls, TP_STUN_INDICATION);
		ck_assert_int_eq(tp_stun_get_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &from), 0);
		ck_assert(tp_addr_eq(&from, &peer));
		ck_assert_int_eq(tp_stun_get_data(&m, &d, &dl), 0);
		ck_assert_uint_eq(dl, len);
		ck_assert(memcmp(d, DATA, len) == 0);
		for (size_t i = len; i % 4; i++)
			ck_assert_uint_eq(d[i], 0);
	}
	ck_assert_uint_eq(counters(-1).ctr[offload ? TP_DPDKDP_CTR_CKSUM_OFFLOAD
						   : TP_DPDKDP_CTR_CKSUM_INCREMENTAL],
			  1);
}
END_TEST

/* _i: 0 plain, 1 DONT-FRAGMENT, 2 IPv6 client and relay, 3 IPv4 client with an IPv6 relay. */
START_TEST(send_indication_to_peer)
{
	const char *cli = _i == 2 ? CLI6 : CLI4, *srv = _i == 2 ? SRV6 : SRV4;
	const char *peer = _i >= 2 ? PEER6 : PEER4;
	struct req rq = { .method = TP_STUN_SEND,
			  .cls = TP_STUN_INDICATION,
			  .peer = peer,
			  .data = DATA,
			  .data_len = 21,
			  .dont_fragment = _i == 1 };
	uint8_t msg[256], frame[512];
	struct tp_addr relay, c = addr(cli), s = addr(srv);
	struct out o;
	size_t n;

	rig_start(1, false);
	prime_neighbours();
	relay = allocate(0, cli, srv, _i >= 2 ? TP_AF_INET6 : 0);
	permit(0, cli, srv, peer);
	n = build_req(msg, sizeof(msg), &rq);
	inject(0, frame, mk_udp(frame, CMAC, &c, &s, msg, n, false));
	poll_all();
	must_take(0, &o);
	expect_nothing();
	expect_to_peer(&o, &relay, peer, GMAC, DATA, 21, _i == 1);
	/* The DATA value sits at an offset that is a multiple of 4: RFC 1624 applies. */
	ck_assert_uint_eq(counters(-1).ctr[TP_DPDKDP_CTR_CKSUM_INCREMENTAL], 1);
}
END_TEST

START_TEST(peer_to_client_ipv6)
{
	uint8_t frame[256];
	struct tp_addr relay, peer = addr(PEER6), c = addr(CLI6);
	struct out o;
	struct tp_frame f;

	rig_start(1, false);
	prime_neighbours();
	relay = allocate(0, CLI6, SRV6, TP_AF_INET6);
	bind_channel(0, CLI6, SRV6, PEER6);
	inject(0, frame, mk_udp(frame, GMAC, &peer, &relay, DATA, 31, false));
	poll_all();
	must_take(0, &o);
	parse_udp(&o, &f);
	ck_assert(memcmp(o.b, CMAC, 6) == 0);
	ck_assert(tp_addr_eq(&f.src, &R.listen[1]));
	ck_assert(tp_addr_eq(&f.dst, &c));
	ck_assert_uint_eq(f.pay_len, 4 + 31);
	ck_assert(memcmp(o.b + f.pay_off + 4, DATA, 31) == 0);
}
END_TEST

/* The gateway is unknown: the relayed frame waits for ARP (or NDP), then leaves. */
START_TEST(next_hop_resolution)
{
	bool v6 = _i;
	const char *cli = v6 ? CLI6 : CLI4, *srv = v6 ? SRV6 : SRV4, *peer = v6 ? PEER6 : PEER4;
	uint8_t msg[128], frame[256];
	struct tp_addr relay, c = addr(cli), s = addr(srv);
	struct tp_addr gw = addr(v6 ? "fd00:99::1" : "10.99.0.1"),
		       us = addr(v6 ? "fd00:99::2" : "10.99.0.2");
	struct out o;
	struct tp_frame f;
	struct tp_l2 l2;
	size_t n;

	rig_start(1, false);
	/* only the client is known: its requests are answered by swapping addresses anyway */
	relay = allocate(0, cli, srv, v6 ? TP_AF_INET6 : 0);
	bind_channel(0, cli, srv, peer);
	tp_chandata_put_hdr(msg, CHANNEL, 8);
	memcpy(msg + 4, "resolved", 8);
	inject(0, frame, mk_udp(frame, CMAC, &c, &s, msg, 12, false));
	poll_all();
	/* out comes the request for the gateway, not the datagram */
	must_take(0, &o);
	expect_nothing();
	ck_assert_int_eq(tp_frame_parse(&f, o.b, o.len), v6 ? TP_FRAME_NDP_NS : TP_FRAME_ARP);
	if (v6) {
		ck_assert(memcmp(f.u.nd.target, gw.ip, 16) == 0);
		ck_assert(memcmp(f.u.nd.lladdr, PMAC, 6) == 0);
	} else {
		ck_assert_uint_eq(f.u.arp.op, TP_ARP_REQUEST);
		ck_assert(memcmp(f.u.arp.tpa, gw.ip, 4) == 0);
		ck_assert(memcmp(f.u.arp.spa, us.ip, 4) == 0);
	}
	ck_assert_uint_eq(counters(-1).ctr[TP_DPDKDP_CTR_NEIGH_REQUEST], 1);
	/* the gateway answers */
	memset(&l2, 0, sizeof(l2));
	memcpy(l2.src, GMAC, 6);
	if (v6) {
		/* an NS from the gateway to us carries its address just as well */
		n = tp_ndp_ns(frame, sizeof(frame), &l2, gw.ip, us.ip);
	} else {
		n = tp_arp_request(frame, sizeof(frame), &l2, gw.ip, us.ip);
		tp_put_be16(frame + 14 + 6, TP_ARP_REPLY);
		memcpy(frame, PMAC, 6);
		memcpy(frame + 14 + 18, PMAC, 6);
	}
	inject(0, frame, n);
	poll_all();
	must_take(0, &o); /* the released datagram leaves first ... */
	if (v6) {
		struct out na;

		must_take(0, &na); /* ... then the advertisement answering the solicitation */
		ck_assert_int_eq(tp_frame_parse(&f, na.b, na.len), TP_FRAME_NDP_NA);
	}
	expect_nothing();
	expect_to_peer(&o, &relay, peer, GMAC, "resolved", 8, false);
}
END_TEST

/* ---- steering ---- */

START_TEST(steering_handoff)
{
	struct tp_addr relay, peer = addr(PEER4);
	uint8_t frame[256];
	struct out o;
	struct tp_frame f;

	rig_start(2, false);
	ck_assert(!tp_dpdkdp_flow_steering(R.dp));
	prime_neighbours();
	/* queue 1 is worker 1's: its shard picks the relay port */
	relay = allocate(1, CLI4, SRV4, 0);
	ck_assert_uint_eq(tp_engine_port_shard(relay.port, PORT_MIN, 2), 1);
	ck_assert_uint_eq(tp_dpdkdp_allocations(R.dp, 1), 1);
	bind_channel(1, CLI4, SRV4, PEER4);
	/* the peer's datagram lands on worker 0's queue */
	inject(0, frame, mk_udp(frame, GMAC, &peer, &relay, DATA, 20, false));
	poll_worker(0);
	expect_nothing();
	ck_assert_uint_eq(counters(0).ctr[TP_DPDKDP_CTR_STEER_OUT], 1);
	poll_worker(1);
	ck_assert_uint_eq(counters(1).ctr[TP_DPDKDP_CTR_STEER_IN], 1);
	must_take(1, &o); /* sent by worker 1 on its TX queue */
	expect_nothing();
	parse_udp(&o, &f);
	ck_assert_uint_eq(tp_get_be16(o.b + f.pay_off), CHANNEL);
	ck_assert(memcmp(o.b + f.pay_off + 4, DATA, 20) == 0);
	/* and the other way: an allocation on worker 0 gets a port of shard 0 */
	relay = allocate(0, "10.99.0.50:40001", SRV4, 0);
	ck_assert_uint_eq(tp_engine_port_shard(relay.port, PORT_MIN, 2), 0);
}
END_TEST

/* rte_flow is detected as absent on net_ring (validate: -ENOSYS): the rings do the work. */
START_TEST(flow_detection_falls_back)
{
	rig_start_flags(2, false, 0);
	ck_assert(!tp_dpdkdp_flow_steering(R.dp));
}
END_TEST

/* ---- reload ---- */

START_TEST(policy_reload)
{
	struct req rq = { .method = TP_STUN_ALLOCATE, .transport = true };
	struct resp r;
	int code = 0;
	char err[128];

	rig_start(1, false);
	R.p.auth_required = true;
	R.old_pol = R.pol;
	R.pol = tp_engine_policy_create(&R.p, err, sizeof(err));
	ck_assert_ptr_nonnull(R.pol);
	tp_dpdkdp_set_policy(R.dp, R.pol);
	transact(0, CLI4, SRV4, &rq, &r);
	tp_stun_get_error(&r.m, &code, NULL, NULL);
	ck_assert_int_eq(code, 401);
}
END_TEST

/* ---- a missing port fails clearly ---- */

START_TEST(missing_port)
{
	struct tp_conf_dpdk_port port = { .device = "net_ring_nosuch", .queues = 1 };
	struct tp_dpdkdp_conf c = { .ports = &port,
				    .n_ports = 1,
				    .workers = 1,
				    .port_min = PORT_MIN,
				    .port_max = PORT_MAX,
				    .flags = TP_DPDKDP_F_MANUAL };
	char err[256] = "";

	rig_params(false);
	ck_assert_ptr_null(tp_dpdkdp_start(&c, NULL, NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "net_ring_nosuch") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "net_ring_g1") != NULL, "lists the ports: %s", err);
}
END_TEST

static Suite *pipeline_suite(void)
{
	Suite *s = suite_create("dpdk-pipeline");
	TCase *tc = tcase_create("golden");

	tcase_add_checked_fixture(tc, NULL, rig_teardown);
	tcase_add_loop_test(tc, golden_frames, 0, N(goldens));
	tcase_add_test(tc, golden_binding_offload);
	suite_add_tcase(s, tc);

	tc = tcase_create("drops");
	tcase_add_checked_fixture(tc, NULL, rig_teardown);
	tcase_add_loop_test(tc, drops_counted, 0, D_COUNT);
	suite_add_tcase(s, tc);

	tc = tcase_create("turn");
	tcase_add_checked_fixture(tc, NULL, rig_teardown);
	tcase_add_test(tc, allocate_v4_and_v6);
	tcase_add_test(tc, allocate_authenticated);
	tcase_add_test(tc, permission_and_channel_bind);
	tcase_add_loop_test(tc, chandata_to_peer, 0, 16);
	tcase_add_loop_test(tc, peer_to_client, 0, 8);
	tcase_add_loop_test(tc, send_indication_to_peer, 0, 4);
	tcase_add_test(tc, peer_to_client_ipv6);
	tcase_add_loop_test(tc, next_hop_resolution, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("steering");
	tcase_add_checked_fixture(tc, NULL, rig_teardown);
	tcase_add_test(tc, steering_handoff);
	tcase_add_test(tc, flow_detection_falls_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("control");
	tcase_add_checked_fixture(tc, NULL, rig_teardown);
	tcase_add_test(tc, policy_reload);
	tcase_add_test(tc, missing_port);
	suite_add_tcase(s, tc);
	return s;
}

/* ---- a quick cost measurement: test_pipeline --bench ---- */

/*
 * Cycles per packet spent in tp_dpdkdp_poll_once() (RX burst, classify, engine, rewrite, TX
 * burst into net_ring), bursts of 32 of one kind of frame; building the input mbufs and freeing
 * the output happen outside the timed region. A rough figure on a shared machine, not the
 * benchmark of DESIGN.md §10.
 */
static void bench_one(const char *what, const uint8_t *frame, size_t len, unsigned q,
		      unsigned rounds)
{
	struct rte_mbuf *m[32];
	uint64_t cycles = 0, pkts = 0, out = 0;

	for (unsigned r = 0; r < rounds; r++) {
		uint64_t t0;
		void *o = NULL;

		if (rte_pktmbuf_alloc_bulk(test_pool, m, 32) != 0)
			break;
		for (unsigned i = 0; i < 32; i++)
			memcpy(rte_pktmbuf_append(m[i], (uint16_t)len), frame, len);
		rte_ring_enqueue_bulk(R.rp->rx[q], (void **)m, 32, NULL);
		t0 = rte_rdtsc_precise();
		tp_dpdkdp_poll_once(R.dp, q);
		cycles += rte_rdtsc_precise() - t0;
		pkts += 32;
		while (rte_ring_dequeue(R.rp->tx[q], &o) == 0) {
			rte_pktmbuf_free(o);
			out++;
		}
	}
	printf("%-34s %7.0f cycles/packet  %6.1f ns  %5.2f Mpps/core  (%lu of %lu out)\n", what,
	       (double)cycles / (double)pkts,
	       (double)cycles / (double)pkts * 1e9 / (double)rte_get_tsc_hz(),
	       (double)pkts * (double)rte_get_tsc_hz() / (double)cycles / 1e6, (unsigned long)out,
	       (unsigned long)pkts);
}

START_TEST(bench)
{
	struct tp_addr relay, c = addr(CLI4), s = addr(SRV4), peer = addr(PEER4);
	uint8_t msg[256], frame[512];
	size_t n;
	const unsigned rounds = 20000;

	rig_start(1, false);
	prime_neighbours();
	relay = allocate(0, CLI4, SRV4, 0);
	bind_channel(0, CLI4, SRV4, PEER4);
	printf("pipeline cost, 1 worker, 100-byte payloads, %u x 32 packets each:\n", rounds);
	tp_chandata_put_hdr(msg, CHANNEL, 100);
	memset(msg + 4, 0x5a, 100);
	n = mk_udp(frame, CMAC, &c, &s, msg, 104, false);
	bench_one("ChannelData client->peer (RFC1624)", frame, n, 0, rounds);
	tp_dpdkdp_test_tx_offload(R.dp, true);
	bench_one("ChannelData client->peer (offload)", frame, n, 0, rounds);
	tp_dpdkdp_test_tx_offload(R.dp, false);
	n = mk_udp(frame, GMAC, &peer, &relay, msg + 4, 100, false);
	bench_one("peer->client ChannelData", frame, n, 0, rounds);
	{
		struct req rq = { .method = TP_STUN_SEND,
				  .cls = TP_STUN_INDICATION,
				  .peer = PEER4,
				  .data = msg + 4,
				  .data_len = 100 };

		n = build_req(msg, sizeof(msg), &rq);
		n = mk_udp(frame, CMAC, &c, &s, msg, n, false);
		bench_one("Send indication client->peer", frame, n, 0, rounds);
	}
	bench_one("Binding request -> response", golden_binding4_in, sizeof(golden_binding4_in), 0,
		  rounds);
}
END_TEST

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (rig_eal_init() < 0)
		return EXIT_FAILURE;
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		Suite *s = suite_create("dpdk-pipeline-bench");
		TCase *tc = tcase_create("bench");

		tcase_add_checked_fixture(tc, NULL, rig_teardown);
		tcase_add_test(tc, bench);
		tcase_set_timeout(tc, 600);
		suite_add_tcase(s, tc);
		sr = srunner_create(s);
	} else {
		sr = srunner_create(pipeline_suite());
	}
	/* The EAL lives in this process: the cases cannot run in forked children. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rig_eal_fini();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
