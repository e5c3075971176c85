/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK plane's packet library on malloc'd buffers (ASan sees every overread here, which it
 * cannot inside mbufs): known-answer checksums, RFC 1624 updates against full recomputation over
 * thousands of random rewrites, every truncation and every malformed header the parsers must
 * refuse, builders whose frames parse back, and the neighbour table's states and bounds.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/addr.h>
#include <turnpike/byteorder.h>

#include "nbr.h"
#include "pkt.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t MAC_US[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_THEM[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t IP4_US[4] = { 10, 99, 0, 2 };
static const uint8_t IP4_THEM[4] = { 10, 99, 0, 1 };
static const uint8_t IP6_US[16] = { 0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t IP6_THEM[16] = { 0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

/* --- an independent reference: byte-wise big-endian words, 32-bit accumulator --- */

static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

/* Full UDP checksum the slow way: pseudo-header bytes built out, then the datagram. */
static uint16_t ref_udp(const struct tp_addr *s, const struct tp_addr *d, const uint8_t *udp,
			size_t len)
{
	uint8_t ph[40];
	size_t n = 0;
	uint32_t sum;
	uint8_t *copy = malloc(len ? len : 1);
	uint16_t ck;

	if (s->family == TP_AF_INET6) {
		memcpy(ph, s->ip, 16);
		memcpy(ph + 16, d->ip, 16);
		tp_put_be32(ph + 32, (uint32_t)len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 17;
		n = 40;
	} else {
		memcpy(ph, s->ip, 4);
		memcpy(ph + 4, d->ip, 4);
		ph[8] = 0;
		ph[9] = 17;
		tp_put_be16(ph + 10, (uint16_t)len);
		n = 12;
	}
	memcpy(copy, udp, len);
	copy[6] = copy[7] = 0;
	sum = ref_sum(copy, len, ref_sum(ph, n, 0));
	free(copy);
	ck = (uint16_t)~sum;
	return ck ? ck : 0xffff;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void rnd_addr(struct tp_addr *a, uint8_t family)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	rnd_bytes(a->ip, family == TP_AF_INET6 ? 16 : 4);
	a->port = (uint16_t)rnd();
}

/* ---- checksums ---- */

START_TEST(cksum_rfc1071_example)
{
	/* RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded). */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq(tp_cksum_sum(b, sizeof(b)), 0xddf2);
	ck_assert_uint_eq(tp_cksum_finish(tp_cksum_sum(b, sizeof(b))), 0x220d);
	/* The same bytes one byte later (odd offset) sum to the swapped value. */
	ck_assert_uint_eq(tp_cksum_swab(tp_cksum_sum(b, sizeof(b))), 0xf2dd);
}
END_TEST

START_TEST(cksum_ipv4_header_known)
{
	/* A well-known capture: 192.168.0.1 -> 192.168.0.199, checksum b861. */
	uint8_t h[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	ck_assert_uint_eq(tp_cksum_sum(h, sizeof(h)), 0xffff);
	h[10] = h[11] = 0;
	ck_assert_uint_eq(tp_ipv4_cksum(h, sizeof(h)), 0xb861);
}
END_TEST

START_TEST(cksum_rfc1624_example)
{
	/* RFC 1624 §4: HC 0xdd2f, m 0x5555 -> m' 0x3285: eqn. 3 gives 0x0000 (eqn. 2's 0xffff
	 * is the wrong zero). */
	ck_assert_uint_eq(tp_cksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}
END_TEST

START_TEST(cksum_udp_known)
{
	/* 10.99.0.1:40000 -> 10.99.0.2:3478, payload "turnpike", summed by hand:
	 * pseudo-header 0a63+0001+0a63+0002+0011+0010, header 9c40+0d96+0010,
	 * payload 7475+726e+7069+6b65: 0x28181 -> 0x8183 folded -> checksum 0x7e7c. */
	uint8_t udp[16] = { 0x9c, 0x40, 0x0d, 0x96, 0x00, 0x10, 0,   0,
			    't',  'u',	'r',  'n',  'p',  'i',	'k', 'e' };
	struct tp_addr s, d;

	tp_addr_set4(&s, IP4_THEM, 40000);
	tp_addr_set4(&d, IP4_US, 3478);
	ck_assert_uint_eq(tp_udp_cksum(&s, &d, udp, sizeof(udp)), ref_udp(&s, &d, udp, 16));
	ck_assert_uint_eq(tp_udp_cksum(&s, &d, udp, sizeof(udp)), 0x7e7c);
	tp_put_be16(udp + 6, 0x7e7c);
	ck_assert_uint_eq(tp_cksum_add(tp_cksum_pseudo(&s, &d, 17, 16), tp_cksum_sum(udp, 16)),
			  0xffff);
}
END_TEST

START_TEST(cksum_sum_matches_reference)
{
	uint8_t *buf = malloc(300);

	for (unsigned len = 0; len < 256; len++) {
		for (unsigned off = 0; off < 8; off++) {
			rnd_bytes(buf, 300);
			ck_assert_uint_eq(tp_cksum_sum(buf + off, len),
					  tp_cksum_fold(ref_sum(buf + off, len, 0)));
		}
	}
	free(buf);
}
END_TEST

START_TEST(cksum_zero_udp_is_ffff)
{
	/* Find a datagram whose checksum computes to 0: it must go out as 0xffff. */
	struct tp_addr s, d;
	uint8_t udp[10] = { 0 };

	tp_addr_set4(&s, IP4_THEM, 1);
	tp_addr_set4(&d, IP4_US, 2);
	tp_put_be16(udp, 1);
	tp_put_be16(udp + 2, 2);
	tp_put_be16(udp + 4, 10);
	/* Choose the payload word so the whole sum is 0xffff. */
	{
		uint32_t partial =
			tp_cksum_add(tp_cksum_pseudo(&s, &d, 17, 10), tp_cksum_sum(udp, 8));
		tp_put_be16(udp + 8, (uint16_t)tp_cksum_sub(0xffff, partial));
	}
	ck_assert_uint_eq(tp_udp_cksum(&s, &d, udp, sizeof(udp)), 0xffff);
	ck_assert_uint_eq(ref_udp(&s, &d, udp, sizeof(udp)), 0xffff);
}
END_TEST

/* One random UDP rewrite, checked against a full recomputation. Returns 1 when incremental. */
static int one_rewrite(bool force_even)
{
	uint8_t fam_o = rnd() & 1 ? TP_AF_INET6 : TP_AF_INET;
	uint8_t fam_n = rnd() & 1 ? TP_AF_INET6 : TP_AF_INET;
	struct tp_addr os, od, ns, nd;
	uint32_t opay_len = rnd() % 400, off, len, head_len, tail_len;
	uint8_t *old = malloc(TP_UDP_HLEN + opay_len + 1), *nw;
	uint8_t head[64], tail[4];
	struct tp_udp_rewrite r;
	uint16_t old_ck, inc;
	int rc;

	rnd_addr(&os, fam_o);
	rnd_addr(&od, fam_o);
	rnd_addr(&ns, fam_n);
	rnd_addr(&nd, fam_n);
	tp_put_be16(old, os.port);
	tp_put_be16(old + 2, od.port);
	tp_put_be16(old + 4, (uint16_t)(opay_len + 8));
	rnd_bytes(old + 8, opay_len);
	old_ck = ref_udp(&os, &od, old, opay_len + 8);
	tp_put_be16(old + 6, old_ck);
	off = opay_len ? rnd() % (opay_len + 1) : 0;
	len = opay_len - off ? rnd() % (opay_len - off + 1) : 0;
	head_len = rnd() % 49;
	tail_len = rnd() % 5;
	if (force_even) {
		off &= ~1u;
		head_len &= ~1u;
		if (off + len > opay_len)
			len = opay_len - off;
	}
	rnd_bytes(head, sizeof(head));
	rnd_bytes(tail, sizeof(tail));
	r = (struct tp_udp_rewrite){ .osrc = &os,
				     .odst = &od,
				     .opay = old + 8,
				     .opay_len = opay_len,
				     .off = off,
				     .len = len,
				     .head = head,
				     .head_len = head_len,
				     .tail = tail,
				     .tail_len = tail_len,
				     .nsrc = &ns,
				     .ndst = &nd };
	rc = tp_udp_cksum_rewrite(old_ck, &r, &inc);
	if (rc < 0) {
		ck_assert_uint_eq((off ^ head_len) & 1, 1);
		free(old);
		return 0;
	}
	nw = malloc(8 + head_len + len + tail_len);
	tp_put_be16(nw, ns.port);
	tp_put_be16(nw + 2, nd.port);
	tp_put_be16(nw + 4, (uint16_t)(8 + head_len + len + tail_len));
	memcpy(nw + 8, head, head_len);
	memcpy(nw + 8 + head_len, old + 8 + off, len);
	memcpy(nw + 8 + head_len + len, tail, tail_len);
	ck_assert_uint_eq(inc, ref_udp(&ns, &nd, nw, 8 + head_len + len + tail_len));
	ck_assert_uint_eq(inc, tp_udp_cksum(&ns, &nd, nw, 8 + head_len + len + tail_len));
	free(nw);
	free(old);
	return 1;
}

START_TEST(cksum_incremental_equals_full)
{
	unsigned inc = 0;

	for (unsigned i = 0; i < 20000; i++)
		inc += (unsigned)one_rewrite(i % 4 != 0);
	/* Three quarters are forced even, so they must all have gone the incremental way. */
	ck_assert_uint_ge(inc, 15000);
}
END_TEST

START_TEST(cksum_incremental_refuses)
{
	struct tp_addr s, d;
	uint8_t pay[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct tp_udp_rewrite r = { .osrc = &s,
				    .odst = &d,
				    .opay = pay,
				    .opay_len = 8,
				    .off = 4,
				    .len = 4,
				    .nsrc = &s,
				    .ndst = &d };
	uint16_t out = 0;

	tp_addr_set4(&s, IP4_THEM, 1);
	tp_addr_set4(&d, IP4_US, 2);
	/* IPv4 "no checksum": nothing to update from. */
	ck_assert_int_eq(tp_udp_cksum_rewrite(0, &r, &out), -1);
	/* An odd move re-pairs the payload's words. */
	r.off = 3;
	r.len = 4;
	ck_assert_int_eq(tp_udp_cksum_rewrite(0x1234, &r, &out), -1);
	/* A window past the payload. */
	r.off = 6;
	r.len = 4;
	ck_assert_int_eq(tp_udp_cksum_rewrite(0x1234, &r, &out), -1);
}
END_TEST

/* ---- frames for the parsers ---- */

struct frame {
	uint8_t b[256];
	size_t len;	/* bytes in the frame */
	size_t min_len; /* shortest prefix that still parses as the same kind */
	enum tp_frame_kind kind;
};

static void l2_us_to_them(struct tp_l2 *l2, bool tagged)
{
	memcpy(l2->src, MAC_THEM, 6);
	memcpy(l2->dst, MAC_US, 6);
	l2->tagged = tagged;
	l2->tci = tagged ? 0x0064 : 0;
}

/* A UDP datagram from them to us with @pay_len payload bytes; checksum filled in. */
static void mk_udp(struct frame *f, uint8_t family, bool tagged, size_t pay_len)
{
	struct tp_l2 l2;
	struct tp_addr s, d;
	size_t h;

	l2_us_to_them(&l2, tagged);
	if (family == TP_AF_INET) {
		tp_addr_set4(&s, IP4_THEM, 40000);
		tp_addr_set4(&d, IP4_US, 3478);
	} else {
		tp_addr_set6(&s, IP6_THEM, 40000);
		tp_addr_set6(&d, IP6_US, 3478);
	}
	h = tp_udp_hdr_write(f->b, &l2, &s, &d, pay_len, true, 0x1234);
	ck_assert_uint_eq(h, tp_udp_hdr_len(family, tagged));
	for (size_t i = 0; i < pay_len; i++)
		f->b[h + i] = (uint8_t)(i * 7 + 1);
	tp_put_be16(f->b + h - 2, tp_udp_cksum(&s, &d, f->b + h - 8, pay_len + 8));
	f->len = f->min_len = h + pay_len;
	f->kind = TP_FRAME_UDP;
}

static void mk_arp(struct frame *f, bool tagged)
{
	struct tp_l2 l2;

	l2_us_to_them(&l2, tagged);
	f->len = tp_arp_request(f->b, sizeof(f->b), &l2, IP4_THEM, IP4_US);
	f->min_len = (tagged ? 18 : 14) + TP_ARP_LEN;
	f->kind = TP_FRAME_ARP;
}

static void mk_echo4(struct frame *f, size_t body)
{
	struct tp_l2 l2;
	uint8_t *ip, *ic;
	size_t n;

	l2_us_to_them(&l2, false);
	n = tp_eth_write(f->b, &l2, TP_ETHERTYPE_IPV4);
	ip = f->b + n;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	tp_put_be16(ip + 2, (uint16_t)(20 + 8 + body));
	ip[8] = 64;
	ip[9] = TP_IPPROTO_ICMP;
	memcpy(ip + 12, IP4_THEM, 4);
	memcpy(ip + 16, IP4_US, 4);
	tp_put_be16(ip + 10, tp_ipv4_cksum(ip, 20));
	ic = ip + 20;
	ic[0] = TP_ICMP_ECHO;
	ic[1] = 0;
	tp_put_be16(ic + 2, 0);
	tp_put_be16(ic + 4, 0x4242);
	tp_put_be16(ic + 6, 7);
	for (size_t i = 0; i < body; i++)
		ic[8 + i] = (uint8_t)i;
	tp_put_be16(ic + 2, tp_cksum_finish(tp_cksum_sum(ic, 8 + body)));
	f->len = f->min_len = n + 20 + 8 + body;
	f->kind = TP_FRAME_ICMP_ECHO;
}

/* ICMPv6 message @m of @mlen bytes from them to @dst with hop limit @hop; checksum filled. */
static void mk_icmp6(struct frame *f, const uint8_t *m, size_t mlen, const uint8_t *src,
		     const uint8_t *dst, uint8_t hop)
{
	struct tp_l2 l2;
	struct tp_addr s, d;
	uint8_t *ip, *ic;
	size_t n;

	l2_us_to_them(&l2, false);
	n = tp_eth_write(f->b, &l2, TP_ETHERTYPE_IPV6);
	ip = f->b + n;
	tp_put_be32(ip, 0x60000000u);
	tp_put_be16(ip + 4, (uint16_t)mlen);
	ip[6] = TP_IPPROTO_ICMPV6;
	ip[7] = hop;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	ic = ip + 40;
	memcpy(ic, m, mlen);
	tp_put_be16(ic + 2, 0);
	tp_addr_set6(&s, src, 0);
	tp_addr_set6(&d, dst, 0);
	tp_put_be16(ic + 2,
		    tp_cksum_finish(tp_cksum_add(tp_cksum_pseudo(&s, &d, 58, (uint32_t)mlen),
						 tp_cksum_sum(ic, mlen))));
	f->len = f->min_len = n + 40 + mlen;
}

static void mk_echo6(struct frame *f)
{
	uint8_t m[8 + 16] = { TP_ICMP6_ECHO, 0, 0, 0, 0x12, 0x34, 0x00, 0x01 };

	for (unsigned i = 8; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	mk_icmp6(f, m, sizeof(m), IP6_THEM, IP6_US, 64);
	f->kind = TP_FRAME_ICMP_ECHO;
}

static void mk_ns(struct frame *f, bool slla)
{
	uint8_t m[32] = { TP_ICMP6_NS };

	memcpy(m + 8, IP6_US, 16);
	m[24] = TP_NDP_OPT_SLLA;
	m[25] = 1;
	memcpy(m + 26, MAC_THEM, 6);
	mk_icmp6(f, m, slla ? 32 : 24, IP6_THEM, IP6_US, 255);
	f->kind = TP_FRAME_NDP_NS;
}

static void mk_na(struct frame *f)
{
	uint8_t m[32] = { TP_ICMP6_NA };

	tp_put_be32(m + 4, TP_NDP_NA_SOLICIT | TP_NDP_NA_OVERRIDE);
	memcpy(m + 8, IP6_THEM, 16);
	m[24] = TP_NDP_OPT_TLLA;
	m[25] = 1;
	memcpy(m + 26, MAC_THEM, 6);
	mk_icmp6(f, m, 32, IP6_THEM, IP6_US, 255);
	f->kind = TP_FRAME_NDP_NA;
}

/* Parse @len bytes of @f from a malloc'd copy of exactly that size (ASan sees overreads). */
static enum tp_frame_kind parse_copy(const struct frame *f, size_t len, struct tp_frame *out)
{
	uint8_t *b = malloc(len ? len : 1);
	enum tp_frame_kind k;

	memcpy(b, f->b, len);
	k = tp_frame_parse(out, b, len);
	free(b);
	return k;
}

static void make_fixture(struct frame *f, int i)
{
	memset(f, 0, sizeof(*f));
	switch (i) {
	case 0:
		mk_udp(f, TP_AF_INET, false, 20);
		break;
	case 1:
		mk_udp(f, TP_AF_INET6, false, 20);
		break;
	case 2:
		mk_udp(f, TP_AF_INET, true, 33);
		break;
	case 3:
		mk_udp(f, TP_AF_INET6, true, 0);
		break;
	case 4:
		mk_arp(f, false);
		break;
	case 5:
		mk_arp(f, true);
		break;
	case 6:
		mk_echo4(f, 32);
		break;
	case 7:
		mk_echo6(f);
		break;
	case 8:
		mk_ns(f, true);
		break;
	case 9:
		mk_ns(f, false);
		break;
	case 10:
		mk_na(f);
		break;
	default:
		ck_abort();
	}
}
#define N_FIXTURES 11

START_TEST(parse_valid_fixture)
{
	struct frame f;
	struct tp_frame pf;

	make_fixture(&f, _i);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), f.kind);
	ck_assert_uint_eq(pf.kind, f.kind);
	if (f.kind == TP_FRAME_UDP) {
		ck_assert_uint_eq(pf.src.port, 40000);
		ck_assert_uint_eq(pf.dst.port, 3478);
		ck_assert(memcmp(pf.dst.ip, pf.family == TP_AF_INET ? IP4_US : IP6_US,
				 pf.family == TP_AF_INET ? 4 : 16) == 0);
		ck_assert_uint_eq(pf.pay_off + pf.pay_len, f.len);
		ck_assert_uint_eq(pf.l4_len, pf.pay_len + 8);
		ck_assert_uint_eq(pf.ttl, 64);
		if (pf.family == TP_AF_INET) {
			ck_assert(pf.df);
			ck_assert_uint_eq(pf.ip_id, 0x1234);
		}
	}
	if (f.kind == TP_FRAME_ARP) {
		ck_assert_uint_eq(pf.u.arp.op, TP_ARP_REQUEST);
		ck_assert(memcmp(pf.u.arp.tpa, IP4_US, 4) == 0);
		ck_assert(memcmp(pf.u.arp.sha, MAC_THEM, 6) == 0);
	}
	if (f.kind == TP_FRAME_NDP_NS || f.kind == TP_FRAME_NDP_NA)
		ck_assert_uint_eq(pf.u.nd.has_lladdr, _i != 9);
	ck_assert(memcmp(pf.src_mac, MAC_THEM, 6) == 0);
}
END_TEST

START_TEST(parse_rejects_every_truncation)
{
	struct frame f;
	struct tp_frame pf;

	make_fixture(&f, _i);
	for (size_t len = 0; len < f.min_len; len++) {
		enum tp_frame_kind k = parse_copy(&f, len, &pf);

		if (k != TP_FRAME_MALFORMED)
			ck_abort_msg("fixture %d cut to %zu of %zu bytes parsed as kind %d", _i,
				     len, f.min_len, k);
	}
}
END_TEST

START_TEST(parse_ethernet_padding_ignored)
{
	struct frame f;
	struct tp_frame pf;

	mk_udp(&f, TP_AF_INET, false, 4); /* 46 bytes: a NIC pads to 60 */
	memset(f.b + f.len, 0xee, 60 - f.len);
	ck_assert_int_eq(parse_copy(&f, 60, &pf), TP_FRAME_UDP);
	ck_assert_uint_eq(pf.pay_len, 4);
	mk_udp(&f, TP_AF_INET6, false, 0);
	memset(f.b + f.len, 0xee, 8);
	ck_assert_int_eq(parse_copy(&f, f.len + 8, &pf), TP_FRAME_UDP);
	ck_assert_uint_eq(pf.pay_len, 0);
}
END_TEST

static void fix_ip4_cksum(struct frame *f)
{
	uint8_t *ip = f->b + 14;
	size_t hlen = (size_t)(ip[0] & 15) * 4;

	if (hlen < 20)
		hlen = 20;
	tp_put_be16(ip + 10, 0);
	tp_put_be16(ip + 10, tp_ipv4_cksum(ip, hlen));
}

START_TEST(parse_rejects_malformed_ipv4)
{
	struct frame f;
	struct tp_frame pf;
	uint8_t *ip = f.b + 14;

	/* IHL < 5 */
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		mk_udp(&f, TP_AF_INET, false, 20);
		ip[0] = (uint8_t)(0x40 | ihl);
		fix_ip4_cksum(&f);
		ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	}
	/* IHL past the frame */
	mk_udp(&f, TP_AF_INET, false, 0);
	ip[0] = 0x4f;
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* total length > frame, < header */
	mk_udp(&f, TP_AF_INET, false, 20);
	tp_put_be16(ip + 2, (uint16_t)(f.len - 14 + 1));
	fix_ip4_cksum(&f);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	tp_put_be16(ip + 2, 19);
	fix_ip4_cksum(&f);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* bad header checksum, wrong version */
	mk_udp(&f, TP_AF_INET, false, 20);
	ip[10] ^= 1;
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	mk_udp(&f, TP_AF_INET, false, 20);
	ip[0] = 0x65;
	fix_ip4_cksum(&f);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* options are skipped: IHL 6 with a NOP option word */
	mk_udp(&f, TP_AF_INET, false, 20);
	memmove(ip + 24, ip + 20, f.len - 34);
	memset(ip + 20, 1, 4);
	ip[0] = 0x46;
	tp_put_be16(ip + 2, (uint16_t)(tp_get_be16(ip + 2) + 4));
	fix_ip4_cksum(&f);
	f.len += 4;
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_UDP);
	ck_assert_uint_eq(pf.l4_off, 14 + 24);
	ck_assert_uint_eq(pf.pay_len, 20);
}
END_TEST

START_TEST(parse_rejects_malformed_udp)
{
	struct frame f;
	struct tp_frame pf;

	for (int fam = 0; fam < 2; fam++) {
		uint8_t family = fam ? TP_AF_INET6 : TP_AF_INET;
		size_t udp_off = 14 + (fam ? 40 : 20);

		for (unsigned ulen = 0; ulen < 8; ulen++) {
			mk_udp(&f, family, false, 20);
			tp_put_be16(f.b + udp_off + 4, (uint16_t)ulen);
			ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
		}
		mk_udp(&f, family, false, 20);
		tp_put_be16(f.b + udp_off + 4, 29); /* > IP payload (28) */
		ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
		/* shorter than the IP payload is fine: the UDP length wins */
		tp_put_be16(f.b + udp_off + 4, 20);
		ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_UDP);
		ck_assert_uint_eq(pf.pay_len, 12);
	}
	/* IPv6 UDP with a zero checksum (RFC 8200 §8.1) */
	mk_udp(&f, TP_AF_INET6, false, 20);
	tp_put_be16(f.b + 14 + 40 + 6, 0);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* ... but IPv4 may omit it */
	mk_udp(&f, TP_AF_INET, false, 20);
	tp_put_be16(f.b + 14 + 20 + 6, 0);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_UDP);
	ck_assert_uint_eq(pf.udp_cksum, 0);
}
END_TEST

START_TEST(parse_rejects_malformed_ipv6)
{
	struct frame f;
	struct tp_frame pf;
	uint8_t *ip = f.b + 14;

	mk_udp(&f, TP_AF_INET6, false, 20);
	tp_put_be16(ip + 4, (uint16_t)(f.len - 54 + 1)); /* payload length > frame */
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	mk_udp(&f, TP_AF_INET6, false, 20);
	ip[0] = 0x40;
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* payload length shorter than the UDP length: the UDP length is past the IP payload */
	mk_udp(&f, TP_AF_INET6, false, 20);
	tp_put_be16(ip + 4, 27);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
}
END_TEST

START_TEST(parse_classifies_fragments_and_others)
{
	struct frame f;
	struct tp_frame pf;
	uint8_t *ip = f.b + 14;

	mk_udp(&f, TP_AF_INET, false, 20);
	tp_put_be16(ip + 6, 0x2000); /* MF */
	fix_ip4_cksum(&f);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_FRAGMENT);
	tp_put_be16(ip + 6, 0x0001); /* offset 8 */
	fix_ip4_cksum(&f);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_FRAGMENT);
	tp_put_be16(ip + 6, 0x4000); /* DF only: not a fragment */
	fix_ip4_cksum(&f);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_UDP);
	mk_udp(&f, TP_AF_INET6, false, 20);
	ip[6] = TP_IPPROTO_FRAG;
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_FRAGMENT);
	ip[6] = 0; /* hop-by-hop options: not walked */
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_OTHER_PROTO);
	mk_udp(&f, TP_AF_INET, false, 20);
	ip[9] = 6; /* TCP */
	fix_ip4_cksum(&f);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_OTHER_PROTO);
	/* unknown EtherType, a second VLAN tag */
	mk_udp(&f, TP_AF_INET, false, 20);
	tp_put_be16(f.b + 12, 0x88cc);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_OTHER_ETHERTYPE);
	mk_udp(&f, TP_AF_INET, true, 20);
	tp_put_be16(f.b + 16, TP_ETHERTYPE_VLAN);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_OTHER_ETHERTYPE);
	/* ICMP other than echo: a destination unreachable */
	mk_echo4(&f, 8);
	f.b[34] = 3;
	tp_put_be16(f.b + 36, 0);
	tp_put_be16(f.b + 36, tp_cksum_finish(tp_cksum_sum(f.b + 34, 16)));
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_OTHER_ICMP);
	/* a bad ICMP checksum */
	mk_echo4(&f, 8);
	f.b[40] ^= 0x10;
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	mk_echo6(&f);
	f.b[60] ^= 0x10;
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
}
END_TEST

START_TEST(parse_rejects_bad_arp)
{
	struct frame f;
	struct tp_frame pf;
	uint8_t *a = f.b + 14;
	static const struct {
		unsigned off;
		uint8_t val;
	} bad[] = { { 1, 6 }, { 2, 0x86 }, { 4, 8 }, { 5, 16 }, { 7, 3 }, { 7, 0 }, { 8, 0x01 } };

	for (unsigned i = 0; i < N(bad); i++) {
		mk_arp(&f, false);
		a[bad[i].off] = bad[i].val;
		ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	}
}
END_TEST

START_TEST(parse_rejects_bad_ndp)
{
	struct frame f;
	struct tp_frame pf;
	uint8_t m[40] = { TP_ICMP6_NS };
	static const uint8_t unspec[16];

	memcpy(m + 8, IP6_US, 16);
	m[24] = TP_NDP_OPT_SLLA;
	m[25] = 1;
	memcpy(m + 26, MAC_THEM, 6);
	/* hop limit not 255 */
	mk_icmp6(&f, m, 32, IP6_THEM, IP6_US, 64);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* a zero-length option */
	m[25] = 0;
	mk_icmp6(&f, m, 32, IP6_THEM, IP6_US, 255);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* an option past the message */
	m[25] = 2;
	mk_icmp6(&f, m, 32, IP6_THEM, IP6_US, 255);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* a dangling byte after the options */
	m[25] = 1;
	mk_icmp6(&f, m, 33, IP6_THEM, IP6_US, 255);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* duplicate address detection with a source link-layer address */
	mk_icmp6(&f, m, 32, unspec, IP6_US, 255);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* ... and without one, it parses (and is not answered, see the builder test) */
	mk_icmp6(&f, m, 24, unspec, IP6_US, 255);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_NDP_NS);
	/* a multicast target */
	m[8] = 0xff;
	mk_icmp6(&f, m, 32, IP6_THEM, IP6_US, 255);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
	/* a non-zero code */
	memcpy(m + 8, IP6_US, 16);
	m[1] = 1;
	mk_icmp6(&f, m, 32, IP6_THEM, IP6_US, 255);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_MALFORMED);
}
END_TEST

/* ---- builders parse back ---- */

START_TEST(build_arp_reply)
{
	struct frame f;
	struct tp_frame req, rep;

	mk_arp(&f, _i);
	ck_assert_int_eq(tp_frame_parse(&req, f.b, f.len), TP_FRAME_ARP);
	tp_arp_reply_inplace(f.b, &req, MAC_US);
	ck_assert_int_eq(parse_copy(&f, f.len, &rep), TP_FRAME_ARP);
	ck_assert_uint_eq(rep.u.arp.op, TP_ARP_REPLY);
	ck_assert(memcmp(rep.dst_mac, MAC_THEM, 6) == 0);
	ck_assert(memcmp(rep.src_mac, MAC_US, 6) == 0);
	ck_assert(memcmp(rep.u.arp.sha, MAC_US, 6) == 0);
	ck_assert(memcmp(rep.u.arp.spa, IP4_US, 4) == 0);
	ck_assert(memcmp(rep.u.arp.tha, MAC_THEM, 6) == 0);
	ck_assert(memcmp(rep.u.arp.tpa, IP4_THEM, 4) == 0);
	ck_assert_uint_eq(rep.tagged, _i);
	ck_assert_uint_eq(f.len, 60); /* the request was padded to the minimum; so is the reply */
}
END_TEST

START_TEST(build_arp_request_short_cap)
{
	uint8_t b[59];
	struct tp_l2 l2;

	l2_us_to_them(&l2, false);
	ck_assert_uint_eq(tp_arp_request(b, sizeof(b), &l2, IP4_US, IP4_THEM), 0);
}
END_TEST

START_TEST(build_echo_replies)
{
	struct frame f;
	struct tp_frame req, rep;

	mk_echo4(&f, 33); /* odd body */
	ck_assert_int_eq(tp_frame_parse(&req, f.b, f.len), TP_FRAME_ICMP_ECHO);
	tp_icmp_echo_reply_inplace(f.b, &req, MAC_US);
	ck_assert_int_eq(parse_copy(&f, f.len, &rep), TP_FRAME_OTHER_ICMP); /* valid checksums */
	ck_assert_uint_eq(rep.u.icmp.type, TP_ICMP_ECHO_REPLY);
	ck_assert_uint_eq(rep.u.icmp.id, 0x4242);
	ck_assert(memcmp(rep.src.ip, IP4_US, 4) == 0);
	ck_assert(memcmp(rep.dst.ip, IP4_THEM, 4) == 0);
	ck_assert(memcmp(rep.dst_mac, MAC_THEM, 6) == 0);

	mk_echo6(&f);
	ck_assert_int_eq(tp_frame_parse(&req, f.b, f.len), TP_FRAME_ICMP_ECHO);
	tp_icmp_echo_reply_inplace(f.b, &req, MAC_US);
	ck_assert_int_eq(parse_copy(&f, f.len, &rep), TP_FRAME_OTHER_ICMP);
	ck_assert_uint_eq(rep.u.icmp.type, TP_ICMP6_ECHO_REPLY);
	ck_assert(memcmp(rep.src.ip, IP6_US, 16) == 0);
	ck_assert(memcmp(rep.dst.ip, IP6_THEM, 16) == 0);
	ck_assert_uint_eq(rep.ttl, 64);
}
END_TEST

START_TEST(build_na_from_ns)
{
	struct frame f;
	struct tp_frame req, rep;
	size_t n;
	static const uint8_t unspec[16];
	uint8_t m[24] = { TP_ICMP6_NS };

	mk_ns(&f, _i == 0);
	ck_assert_int_eq(tp_frame_parse(&req, f.b, f.len), TP_FRAME_NDP_NS);
	/* The NA needs 14 + 40 + 32 bytes: one short is refused before anything is written. */
	ck_assert_uint_eq(tp_ndp_na_from_ns(f.b, 14 + 40 + 32 - 1, &req, MAC_US), 0);
	n = tp_ndp_na_from_ns(f.b, sizeof(f.b), &req, MAC_US);
	ck_assert_uint_eq(n, 14 + 40 + 32);
	f.len = n;
	ck_assert_int_eq(parse_copy(&f, f.len, &rep), TP_FRAME_NDP_NA);
	ck_assert(rep.u.nd.has_lladdr);
	ck_assert(memcmp(rep.u.nd.lladdr, MAC_US, 6) == 0);
	ck_assert(memcmp(rep.u.nd.target, IP6_US, 16) == 0);
	ck_assert_uint_eq(rep.u.nd.flags, TP_NDP_NA_SOLICIT | TP_NDP_NA_OVERRIDE);
	ck_assert(memcmp(rep.src.ip, IP6_US, 16) == 0);
	ck_assert(memcmp(rep.dst.ip, IP6_THEM, 16) == 0);
	ck_assert(memcmp(rep.dst_mac, MAC_THEM, 6) == 0);
	ck_assert_uint_eq(rep.ttl, 255);

	/* DAD: not answered */
	memcpy(m + 8, IP6_US, 16);
	mk_icmp6(&f, m, 24, unspec, IP6_US, 255);
	ck_assert_int_eq(tp_frame_parse(&req, f.b, f.len), TP_FRAME_NDP_NS);
	ck_assert_uint_eq(tp_ndp_na_from_ns(f.b, sizeof(f.b), &req, MAC_US), 0);
}
END_TEST

START_TEST(build_ns)
{
	struct frame f;
	struct tp_frame pf;
	struct tp_l2 l2;

	l2_us_to_them(&l2, _i);
	memcpy(l2.src, MAC_US, 6);
	f.len = tp_ndp_ns(f.b, sizeof(f.b), &l2, IP6_US, IP6_THEM);
	ck_assert_uint_eq(f.len, (_i ? 18u : 14u) + 40 + 32);
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_NDP_NS);
	ck_assert(memcmp(pf.u.nd.target, IP6_THEM, 16) == 0);
	ck_assert(memcmp(pf.u.nd.lladdr, MAC_US, 6) == 0);
	/* solicited-node multicast ff02::1:ff00:1 and 33:33:ff:00:00:01 */
	ck_assert_uint_eq(pf.dst.ip[0], 0xff);
	ck_assert_uint_eq(pf.dst.ip[1], 0x02);
	ck_assert_uint_eq(pf.dst.ip[11], 0x01);
	ck_assert_uint_eq(pf.dst.ip[12], 0xff);
	ck_assert_uint_eq(pf.dst.ip[15], 0x01);
	ck_assert_uint_eq(pf.dst_mac[0], 0x33);
	ck_assert_uint_eq(pf.dst_mac[2], 0xff);
	ck_assert_uint_eq(pf.dst_mac[5], 0x01);
	ck_assert_uint_eq(tp_ndp_ns(f.b, f.len - 1, &l2, IP6_US, IP6_THEM), 0);
}
END_TEST

START_TEST(build_udp_headers)
{
	struct frame f;
	struct tp_frame pf;
	struct tp_l2 l2;
	struct tp_addr s, d;
	uint8_t fam = _i & 1 ? TP_AF_INET6 : TP_AF_INET;
	bool tagged = _i & 2;
	bool df = _i & 4;
	size_t h;

	l2_us_to_them(&l2, tagged);
	if (fam == TP_AF_INET) {
		tp_addr_set4(&s, IP4_US, 49152);
		tp_addr_set4(&d, IP4_THEM, 5000);
	} else {
		tp_addr_set6(&s, IP6_US, 49152);
		tp_addr_set6(&d, IP6_THEM, 5000);
	}
	h = tp_udp_hdr_write(f.b, &l2, &s, &d, 9, df, 0xbeef);
	memcpy(f.b + h, "123456789", 9);
	tp_put_be16(f.b + h - 2, tp_udp_cksum(&s, &d, f.b + h - 8, 17));
	f.len = h + 9;
	ck_assert_int_eq(parse_copy(&f, f.len, &pf), TP_FRAME_UDP);
	ck_assert_uint_eq(pf.family, fam);
	ck_assert_uint_eq(pf.src.port, 49152);
	ck_assert_uint_eq(pf.dst.port, 5000);
	ck_assert_uint_eq(pf.pay_len, 9);
	ck_assert_uint_eq(pf.ttl, 64);
	ck_assert_uint_eq(pf.tagged, tagged);
	ck_assert_uint_eq(pf.udp_cksum, ref_udp(&s, &d, f.b + h - 8, 17));
	if (fam == TP_AF_INET) {
		ck_assert_uint_eq(pf.df, df);
		ck_assert_uint_eq(pf.ip_id, 0xbeef);
	}
	ck_assert_uint_eq(tp_udp_hdr_write(f.b, &l2, &s, &d, 65536, df, 0), 0);
}
END_TEST

/* ---- the neighbour table ---- */

static unsigned released;
static void *released_last;

static void count_release(void *ctx, void *pkt)
{
	(void)ctx;
	released++;
	released_last = pkt;
}

static unsigned probed;

static void count_probe(void *ctx, const struct tp_nbr *n)
{
	(void)ctx;
	(void)n;
	probed++;
}

START_TEST(nbr_resolve_queue_learn)
{
	struct tp_nbr_table t;
	uint8_t mac[6];
	void *out[TP_NBR_PENDING];
	int pkts[TP_NBR_PENDING + 1];
	bool probe;

	released = 0;
	ck_assert_int_eq(tp_nbr_init(&t, 64, count_release, NULL), 0);
	/* unknown: held, ask */
	ck_assert_int_eq(
		tp_nbr_resolve(&t, TP_AF_INET, IP4_THEM, false, 0, 1000, &pkts[0], mac, &probe),
		TP_NBR_HELD);
	ck_assert(probe);
	for (unsigned i = 1; i < TP_NBR_PENDING; i++) {
		ck_assert_int_eq(tp_nbr_resolve(&t, TP_AF_INET, IP4_THEM, false, 0, 1000, &pkts[i],
						mac, &probe),
				 TP_NBR_HELD);
		ck_assert(!probe); /* one request in flight */
	}
	/* the queue is bounded */
	ck_assert_int_eq(tp_nbr_resolve(&t, TP_AF_INET, IP4_THEM, false, 0, 1000,
					&pkts[TP_NBR_PENDING], mac, &probe),
			 TP_NBR_DROP);
	/* an unrelated answer without create does nothing */
	ck_assert_uint_eq(tp_nbr_learn(&t, TP_AF_INET, IP4_US, MAC_US, false, 1001, out), 0);
	ck_assert_ptr_null(tp_nbr_lookup(&t, TP_AF_INET, IP4_US));
	/* the answer releases the queue in order */
	ck_assert_uint_eq(tp_nbr_learn(&t, TP_AF_INET, IP4_THEM, MAC_THEM, false, 1002, out),
			  TP_NBR_PENDING);
	for (unsigned i = 0; i < TP_NBR_PENDING; i++)
		ck_assert_ptr_eq(out[i], &pkts[i]);
	ck_assert_int_eq(
		tp_nbr_resolve(&t, TP_AF_INET, IP4_THEM, false, 0, 1003, &pkts[0], mac, &probe),
		TP_NBR_RESOLVED);
	ck_assert(memcmp(mac, MAC_THEM, 6) == 0);
	ck_assert(!probe);
	/* after the reachable time: still used, refreshed once per retransmit interval */
	ck_assert_int_eq(tp_nbr_resolve(&t, TP_AF_INET, IP4_THEM, false, 0,
					1002 + TP_NBR_REACHABLE_MS, NULL, mac, &probe),
			 TP_NBR_RESOLVED);
	ck_assert(probe);
	ck_assert_int_eq(tp_nbr_resolve(&t, TP_AF_INET, IP4_THEM, false, 0,
					1003 + TP_NBR_REACHABLE_MS, NULL, mac, &probe),
			 TP_NBR_RESOLVED);
	ck_assert(!probe);
	/* IPv4 and IPv6 entries do not mix */
	ck_assert_ptr_null(tp_nbr_lookup(&t, TP_AF_INET6, IP6_THEM));
	ck_assert_uint_eq(released, 0);
	tp_nbr_fini(&t);
}
END_TEST

START_TEST(nbr_fails_and_retries)
{
	struct tp_nbr_table t;
	uint8_t mac[6];
	int pkt;
	bool probe;
	uint64_t now = 5000;

	released = probed = 0;
	ck_assert_int_eq(tp_nbr_init(&t, 8, count_release, NULL), 0);
	ck_assert_int_eq(tp_nbr_resolve(&t, TP_AF_INET6, IP6_THEM, true, 7, now, &pkt, mac, &probe),
			 TP_NBR_HELD);
	ck_assert_uint_eq(tp_nbr_lookup(&t, TP_AF_INET6, IP6_THEM)->tci, 7);
	/* nothing is due before the retransmit timer */
	tp_nbr_sweep(&t, now + TP_NBR_RETRANS_MS - 1, count_probe, NULL);
	ck_assert_uint_eq(probed, 0);
	for (unsigned i = 1; i < TP_NBR_PROBES; i++) {
		now += TP_NBR_RETRANS_MS;
		tp_nbr_sweep(&t, now, count_probe, NULL);
	}
	ck_assert_uint_eq(probed, TP_NBR_PROBES - 1);
	ck_assert_uint_eq(released, 0);
	now += TP_NBR_RETRANS_MS;
	tp_nbr_sweep(&t, now, count_probe, NULL);
	ck_assert_uint_eq(released, 1);
	ck_assert_ptr_eq(released_last, &pkt);
	ck_assert_uint_eq(tp_nbr_lookup(&t, TP_AF_INET6, IP6_THEM)->state, TP_NBR_FAILED);
	/* failed: dropped, not asked, until the hold time passed */
	ck_assert_int_eq(
		tp_nbr_resolve(&t, TP_AF_INET6, IP6_THEM, true, 7, now + 1, &pkt, mac, &probe),
		TP_NBR_DROP);
	ck_assert(!probe);
	ck_assert_int_eq(tp_nbr_resolve(&t, TP_AF_INET6, IP6_THEM, true, 7, now + TP_NBR_FAILED_MS,
					&pkt, mac, &probe),
			 TP_NBR_HELD);
	ck_assert(probe);
	ck_assert_uint_eq(t.failures, 1);
	tp_nbr_fini(&t); /* releases the held packet */
	ck_assert_uint_eq(released, 2);
}
END_TEST

START_TEST(nbr_bounded_eviction)
{
	struct tp_nbr_table t;
	uint8_t mac[6], ip[4] = { 192, 0, 2, 0 };
	int pkt[300];
	bool probe;
	unsigned held = 0;

	released = 0;
	ck_assert_int_eq(tp_nbr_init(&t, 16, count_release, NULL), 0); /* 2 sets of 8 */
	for (unsigned i = 0; i < 300; i++) {
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		held += tp_nbr_resolve(&t, TP_AF_INET, ip, false, 0, 1000 + i, &pkt[i], mac,
				       &probe) == TP_NBR_HELD;
	}
	ck_assert_uint_eq(held, 300);
	/* only 16 fit: the others' packets were released when they were evicted */
	ck_assert_uint_eq(released, 300 - 16);
	ck_assert_uint_eq(t.evictions, 300 - 16);
	/* the newest is still there */
	ck_assert_ptr_nonnull(tp_nbr_lookup(&t, TP_AF_INET, ip));
	tp_nbr_fini(&t);
	ck_assert_uint_eq(released, 300);
}
END_TEST

static Suite *pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc = tcase_create("cksum");

	tcase_add_test(tc, cksum_rfc1071_example);
	tcase_add_test(tc, cksum_ipv4_header_known);
	tcase_add_test(tc, cksum_rfc1624_example);
	tcase_add_test(tc, cksum_udp_known);
	tcase_add_test(tc, cksum_sum_matches_reference);
	tcase_add_test(tc, cksum_zero_udp_is_ffff);
	tcase_add_test(tc, cksum_incremental_equals_full);
	tcase_add_test(tc, cksum_incremental_refuses);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, parse_valid_fixture, 0, N_FIXTURES);
	tcase_add_loop_test(tc, parse_rejects_every_truncation, 0, N_FIXTURES);
	tcase_add_test(tc, parse_ethernet_padding_ignored);
	tcase_add_test(tc, parse_rejects_malformed_ipv4);
	tcase_add_test(tc, parse_rejects_malformed_udp);
	tcase_add_test(tc, parse_rejects_malformed_ipv6);
	tcase_add_test(tc, parse_classifies_fragments_and_others);
	tcase_add_test(tc, parse_rejects_bad_arp);
	tcase_add_test(tc, parse_rejects_bad_ndp);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_loop_test(tc, build_arp_reply, 0, 2);
	tcase_add_test(tc, build_arp_request_short_cap);
	tcase_add_test(tc, build_echo_replies);
	tcase_add_loop_test(tc, build_na_from_ns, 0, 2);
	tcase_add_loop_test(tc, build_ns, 0, 2);
	tcase_add_loop_test(tc, build_udp_headers, 0, 8);
	suite_add_tcase(s, tc);

	tc = tcase_create("nbr");
	tcase_add_test(tc, nbr_resolve_queue_learn);
	tcase_add_test(tc, nbr_fails_and_retries);
	tcase_add_test(tc, nbr_bounded_eviction);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pkt_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
