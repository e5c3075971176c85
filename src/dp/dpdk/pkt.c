/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsers, builders and checksums on byte buffers (see pkt.h). Pure functions: no DPDK, no
 * allocation, no global state.
 */
#include <string.h>

#include <turnpike/byteorder.h>

#include "pkt.h"

/* --- checksums --- */

uint32_t tp_cksum_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t sum = 0;

	/*
	 * Add 32-bit words in host order and swap once at the end: the ones' complement sum is
	 * independent of byte order up to a final swap (RFC 1071 §2 (B)), and memcpy keeps the
	 * loads alignment-safe while compiling to plain loads.
	 */
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		sum += (w & 0xffffffffu) + (w >> 32);
		b += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, b, 4);
		sum += w;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, b, 2);
		sum += w;
		b += 2;
		len -= 2;
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	if (len)
		sum += (uint32_t)b[0] << 8;
	return tp_cksum_fold(sum);
#else
	if (len)
		sum += b[0]; /* the high byte of a big-endian word is the low byte here */
	return tp_cksum_swab(tp_cksum_fold(sum));
#endif
}

/* A host-order accumulator of 32-bit words (as tp_cksum_sum() keeps) as a folded sum. */
static inline uint32_t host_words_sum(uint64_t acc)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return tp_cksum_fold(acc);
#else
	return tp_cksum_swab(tp_cksum_fold(acc));
#endif
}

/* The words of an IPv4 or IPv6 address, unfolded: fixed sizes, so no loop and no call. */
static inline uint64_t ip_words(const uint8_t *ip, bool v6)
{
	uint32_t w[4];

	if (!v6) {
		memcpy(w, ip, 4);
		return w[0];
	}
	memcpy(w, ip, 16);
	return (uint64_t)w[0] + w[1] + w[2] + w[3];
}

uint16_t tp_ipv4_cksum(const uint8_t *ip, size_t hlen)
{
	uint32_t w[5];

	if (hlen != TP_IPV4_HLEN)
		return tp_cksum_finish(tp_cksum_sum(ip, hlen));
	/* The common header without options, as five words. */
	memcpy(w, ip, sizeof(w));
	return tp_cksum_finish(host_words_sum((uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]));
}

uint32_t tp_cksum_pseudo(const struct tp_addr *src, const struct tp_addr *dst, uint8_t proto,
			 uint32_t l4_len)
{
	bool v6 = src->family == TP_AF_INET6;
	uint64_t sum = (uint64_t)host_words_sum(ip_words(src->ip, v6) + ip_words(dst->ip, v6)) +
		       proto + (l4_len >> 16) + (l4_len & 0xffff);

	return tp_cksum_fold(sum);
}

uint32_t tp_udp_hdr_sum(const struct tp_addr *src, const struct tp_addr *dst, uint16_t udp_len)
{
	uint64_t sum = (uint64_t)tp_cksum_pseudo(src, dst, TP_IPPROTO_UDP, udp_len) + src->port +
		       dst->port + udp_len;

	return tp_cksum_fold(sum);
}

uint16_t tp_udp_cksum(const struct tp_addr *src, const struct tp_addr *dst, const uint8_t *udp,
		      size_t udp_len)
{
	uint64_t sum = (uint64_t)tp_cksum_pseudo(src, dst, TP_IPPROTO_UDP, (uint32_t)udp_len) +
		       tp_cksum_sum(udp, 6);
	uint16_t ck;

	if (udp_len > TP_UDP_HLEN)
		sum += tp_cksum_sum(udp + TP_UDP_HLEN, udp_len - TP_UDP_HLEN);
	ck = tp_cksum_finish(tp_cksum_fold(sum));
	return ck ? ck : 0xffff;
}

/* Sum of @len bytes that sit at an odd (@odd) or even offset of the checksummed data. */
static uint32_t sum_at(const uint8_t *p, size_t len, unsigned odd)
{
	uint32_t s = len ? tp_cksum_sum(p, len) : 0;

	return odd & 1 ? tp_cksum_swab(s) : s;
}

/*
 * What a UDP checksum covers outside the payload (as tp_udp_hdr_sum()), for a datagram of
 * @udp_len <= 0xffff bytes, unfolded: the addresses summed as memory words (folded and swapped
 * once), the protocol, ports and (twice: pseudo-header and UDP header) length as numbers.
 */
static inline uint64_t udp_hdr_acc(const struct tp_addr *src, const struct tp_addr *dst,
				   uint32_t udp_len)
{
	bool v6 = src->family == TP_AF_INET6;

	return (uint64_t)host_words_sum(ip_words(src->ip, v6) + ip_words(dst->ip, v6)) +
	       TP_IPPROTO_UDP + 2 * (uint64_t)udp_len + src->port + dst->port;
}

int tp_udp_cksum_rewrite(uint16_t old_cksum, const struct tp_udp_rewrite *r, uint16_t *out)
{
	uint64_t new_len = (uint64_t)r->head_len + r->len + r->tail_len + TP_UDP_HLEN;
	uint64_t old_acc, new_acc;
	uint16_t ck;

	/* RFC 768: an IPv4 checksum of 0 means none was computed, so there is nothing to update. */
	if (r->osrc->family == TP_AF_INET && old_cksum == 0)
		return -1;
	/* The kept bytes move from offset off to head_len: an odd move re-pairs their words. */
	if ((r->off ^ r->head_len) & 1)
		return -1;
	if (new_len > 0xffff || (uint64_t)r->off + r->len > r->opay_len ||
	    r->opay_len + TP_UDP_HLEN > 0xffff)
		return -1;
	/* Ones' complement sums are taken in 64-bit accumulators and folded once each. */
	old_acc = udp_hdr_acc(r->osrc, r->odst, r->opay_len + TP_UDP_HLEN) +
		  sum_at(r->opay, r->off, 0);
	if (r->off + r->len < r->opay_len)
		old_acc += sum_at(r->opay + r->off + r->len, r->opay_len - r->off - r->len,
				  r->off + r->len);
	new_acc =
		udp_hdr_acc(r->nsrc, r->ndst, (uint32_t)new_len) + sum_at(r->head, r->head_len, 0);
	if (r->tail_len)
		new_acc += sum_at(r->tail, r->tail_len, r->head_len + r->len);
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
	ck = tp_cksum_finish(tp_cksum_fold((uint64_t)(uint16_t)~old_cksum +
					   (~tp_cksum_fold(old_acc) & 0xffff) + new_acc));
	*out = ck ? ck : 0xffff;
	return 0;
}

/* --- layer parsers --- */

const uint8_t *tp_eth_parse(const uint8_t *p, size_t *len, struct tp_eth *eth)
{
	if (*len < TP_ETH_HLEN)
		return NULL;
	memcpy(eth->dst, p, TP_ETH_ALEN);
	memcpy(eth->src, p + 6, TP_ETH_ALEN);
	eth->type = tp_get_be16(p + 12);
	eth->tagged = false;
	eth->tci = 0;
	eth->hlen = TP_ETH_HLEN;
	if (eth->type == TP_ETHERTYPE_VLAN) {
		if (*len < TP_ETH_HLEN + TP_VLAN_HLEN)
			return NULL;
		eth->tci = tp_get_be16(p + 14);
		eth->type = tp_get_be16(p + 16);
		eth->tagged = true;
		eth->hlen = TP_ETH_HLEN + TP_VLAN_HLEN;
	}
	*len -= eth->hlen;
	return p + eth->hlen;
}

const uint8_t *tp_arp_parse(const uint8_t *p, size_t *len, struct tp_arp *arp)
{
	if (*len < TP_ARP_LEN)
		return NULL;
	/* RFC 826 for Ethernet and IPv4 only. */
	if (tp_get_be16(p) != 1 || tp_get_be16(p + 2) != TP_ETHERTYPE_IPV4 || p[4] != TP_ETH_ALEN ||
	    p[5] != 4)
		return NULL;
	arp->op = tp_get_be16(p + 6);
	if (arp->op != TP_ARP_REQUEST && arp->op != TP_ARP_REPLY)
		return NULL;
	/* A group sender hardware address is never a neighbour's: refuse to learn it. */
	if (p[8] & 1)
		return NULL;
	memcpy(arp->sha, p + 8, TP_ETH_ALEN);
	memcpy(arp->spa, p + 14, 4);
	memcpy(arp->tha, p + 18, TP_ETH_ALEN);
	memcpy(arp->tpa, p + 24, 4);
	*len -= TP_ARP_LEN;
	return p + TP_ARP_LEN;
}

const uint8_t *tp_ipv4_parse(const uint8_t *p, size_t *len, struct tp_ip *ip)
{
	size_t hlen, total;
	uint16_t frag;

	if (*len < TP_IPV4_HLEN || (p[0] >> 4) != 4)
		return NULL;
	hlen = (size_t)(p[0] & 0x0f) * 4;
	total = tp_get_be16(p + 2);
	if (hlen < TP_IPV4_HLEN || hlen > *len || total < hlen || total > *len)
		return NULL;
	/* A valid header sums to 0xffff, checksum field included: its checksum comes out 0. */
	if (tp_ipv4_cksum(p, hlen) != 0)
		return NULL;
	frag = tp_get_be16(p + 6);
	ip->family = TP_AF_INET;
	ip->hlen = (uint16_t)hlen;
	ip->id = tp_get_be16(p + 4);
	ip->df = (frag & 0x4000) != 0;
	ip->frag = (frag & 0x3fff) != 0; /* MF, or a non-zero offset */
	ip->ttl = p[8];
	ip->proto = p[9];
	memset(ip->src, 0, sizeof(ip->src));
	memset(ip->dst, 0, sizeof(ip->dst));
	memcpy(ip->src, p + 12, 4);
	memcpy(ip->dst, p + 16, 4);
	*len = total - hlen;
	return p + hlen;
}

const uint8_t *tp_ipv6_parse(const uint8_t *p, size_t *len, struct tp_ip *ip)
{
	size_t plen;

	if (*len < TP_IPV6_HLEN || (p[0] >> 4) != 6)
		return NULL;
	plen = tp_get_be16(p + 4);
	if (plen > *len - TP_IPV6_HLEN)
		return NULL;
	ip->family = TP_AF_INET6;
	ip->hlen = TP_IPV6_HLEN;
	ip->id = 0;
	ip->df = false;
	ip->proto = p[6];
	ip->ttl = p[7];
	ip->frag = ip->proto == TP_IPPROTO_FRAG;
	memcpy(ip->src, p + 8, 16);
	memcpy(ip->dst, p + 24, 16);
	*len = plen;
	return p + TP_IPV6_HLEN;
}

const uint8_t *tp_udp_parse(const uint8_t *p, size_t *len, struct tp_udp *u)
{
	if (*len < TP_UDP_HLEN)
		return NULL;
	u->sport = tp_get_be16(p);
	u->dport = tp_get_be16(p + 2);
	u->len = tp_get_be16(p + 4);
	u->cksum = tp_get_be16(p + 6);
	if (u->len < TP_UDP_HLEN || u->len > *len)
		return NULL;
	*len = u->len - TP_UDP_HLEN;
	return p + TP_UDP_HLEN;
}

static const uint8_t *icmp_header(const uint8_t *p, size_t *len, struct tp_icmp *ic)
{
	ic->type = p[0];
	ic->code = p[1];
	ic->id = tp_get_be16(p + 4);
	ic->seq = tp_get_be16(p + 6);
	*len -= TP_ICMP_HLEN;
	return p + TP_ICMP_HLEN;
}

const uint8_t *tp_icmp4_parse(const uint8_t *p, size_t *len, struct tp_icmp *ic)
{
	if (*len < TP_ICMP_HLEN || tp_cksum_sum(p, *len) != 0xffff)
		return NULL;
	return icmp_header(p, len, ic);
}

const uint8_t *tp_icmp6_parse(const uint8_t *p, size_t *len, const struct tp_ip *ip,
			      struct tp_icmp *ic)
{
	struct tp_addr s, d;

	if (*len < TP_ICMP_HLEN || *len > 0xffff)
		return NULL;
	tp_addr_set6(&s, ip->src, 0);
	tp_addr_set6(&d, ip->dst, 0);
	if (tp_cksum_add(tp_cksum_pseudo(&s, &d, TP_IPPROTO_ICMPV6, (uint32_t)*len),
			 tp_cksum_sum(p, *len)) != 0xffff)
		return NULL;
	return icmp_header(p, len, ic);
}

static bool ip6_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

const uint8_t *tp_nd_parse(const uint8_t *p, size_t len, const struct tp_ip *ip, uint8_t type,
			   struct tp_nd *nd)
{
	const uint8_t *o;
	size_t left;

	/* RFC 4861 §7.1.1 and §7.1.2: validity checks every node applies. */
	if (len < TP_NDP_HLEN || ip->ttl != TP_NDP_HOP_LIMIT || p[1] != 0)
		return NULL;
	nd->flags = type == TP_ICMP6_NA ? tp_get_be32(p + 4) : 0;
	memcpy(nd->target, p + 8, 16);
	nd->has_lladdr = false;
	if (nd->target[0] == 0xff)
		return NULL; /* a multicast target */
	o = p + TP_NDP_HLEN;
	left = len - TP_NDP_HLEN;
	while (left) {
		size_t olen;

		if (left < 2)
			return NULL;
		olen = (size_t)o[1] * 8;
		if (olen == 0 || olen > left)
			return NULL;
		if (o[0] == (type == TP_ICMP6_NS ? TP_NDP_OPT_SLLA : TP_NDP_OPT_TLLA) &&
		    !nd->has_lladdr) {
			memcpy(nd->lladdr, o + 2, TP_ETH_ALEN);
			nd->has_lladdr = true;
		}
		o += olen;
		left -= olen;
	}
	if (type == TP_ICMP6_NS && ip6_unspecified(ip->src) && nd->has_lladdr)
		return NULL;
	if (nd->has_lladdr && (nd->lladdr[0] & 1))
		return NULL; /* a group link-layer address is nobody's */
	return p + len;
}

/* --- the normalised descriptor --- */

static enum tp_frame_kind parse_l4(struct tp_frame *f, const uint8_t *frame, const uint8_t *l4,
				   size_t len, const struct tp_ip *ip)
{
	f->l4_off = (uint16_t)(l4 - frame);
	f->l4_len = (uint16_t)len;
	if (ip->proto == TP_IPPROTO_UDP) {
		struct tp_udp u;
		const uint8_t *pay = tp_udp_parse(l4, &len, &u);

		if (!pay)
			return TP_FRAME_MALFORMED;
		/* RFC 8200 §8.1: IPv6 receivers discard UDP with a zero checksum. */
		if (ip->family == TP_AF_INET6 && u.cksum == 0)
			return TP_FRAME_MALFORMED;
		f->src.port = u.sport;
		f->dst.port = u.dport;
		f->udp_cksum = u.cksum;
		f->l4_len = u.len;
		f->pay_off = (uint16_t)(pay - frame);
		f->pay_len = (uint16_t)len;
		return TP_FRAME_UDP;
	}
	if (ip->proto == TP_IPPROTO_ICMP && ip->family == TP_AF_INET) {
		const uint8_t *body = tp_icmp4_parse(l4, &len, &f->u.icmp);

		if (!body)
			return TP_FRAME_MALFORMED;
		f->pay_off = (uint16_t)(body - frame);
		f->pay_len = (uint16_t)len;
		return f->u.icmp.type == TP_ICMP_ECHO && f->u.icmp.code == 0 ? TP_FRAME_ICMP_ECHO
									     : TP_FRAME_OTHER_ICMP;
	}
	if (ip->proto == TP_IPPROTO_ICMPV6 && ip->family == TP_AF_INET6) {
		size_t mlen = len;
		const uint8_t *body = tp_icmp6_parse(l4, &len, ip, &f->u.icmp);
		uint8_t type;

		if (!body)
			return TP_FRAME_MALFORMED;
		f->pay_off = (uint16_t)(body - frame);
		f->pay_len = (uint16_t)len;
		type = f->u.icmp.type;
		if (type == TP_ICMP6_ECHO && f->u.icmp.code == 0)
			return TP_FRAME_ICMP_ECHO;
		if (type == TP_ICMP6_NS || type == TP_ICMP6_NA) {
			struct tp_nd nd;

			if (!tp_nd_parse(l4, mlen, ip, type, &nd))
				return TP_FRAME_MALFORMED;
			f->u.nd = nd;
			return type == TP_ICMP6_NS ? TP_FRAME_NDP_NS : TP_FRAME_NDP_NA;
		}
		return TP_FRAME_OTHER_ICMP;
	}
	return TP_FRAME_OTHER_PROTO;
}

enum tp_frame_kind tp_frame_parse(struct tp_frame *f, const uint8_t *p, size_t len)
{
	struct tp_eth eth;
	struct tp_ip ip;
	const uint8_t *l3, *l4;

	memset(f, 0, sizeof(*f));
	f->kind = TP_FRAME_MALFORMED;
	if (len > 0xffff)
		return TP_FRAME_MALFORMED;
	l3 = tp_eth_parse(p, &len, &eth);
	if (!l3)
		return TP_FRAME_MALFORMED;
	memcpy(f->dst_mac, eth.dst, TP_ETH_ALEN);
	memcpy(f->src_mac, eth.src, TP_ETH_ALEN);
	f->tagged = eth.tagged;
	f->tci = eth.tci;
	f->ethertype = eth.type;
	f->l3_off = eth.hlen;
	switch (eth.type) {
	case TP_ETHERTYPE_ARP:
		if (!tp_arp_parse(l3, &len, &f->u.arp))
			return TP_FRAME_MALFORMED;
		f->kind = TP_FRAME_ARP;
		return TP_FRAME_ARP;
	case TP_ETHERTYPE_IPV4:
		l4 = tp_ipv4_parse(l3, &len, &ip);
		break;
	case TP_ETHERTYPE_IPV6:
		l4 = tp_ipv6_parse(l3, &len, &ip);
		break;
	default:
		f->kind = TP_FRAME_OTHER_ETHERTYPE;
		return TP_FRAME_OTHER_ETHERTYPE;
	}
	if (!l4)
		return TP_FRAME_MALFORMED;
	f->family = ip.family;
	f->proto = ip.proto;
	f->ttl = ip.ttl;
	f->df = ip.df;
	f->ip_id = ip.id;
	if (ip.family == TP_AF_INET) {
		tp_addr_set4(&f->src, ip.src, 0);
		tp_addr_set4(&f->dst, ip.dst, 0);
	} else {
		tp_addr_set6(&f->src, ip.src, 0);
		tp_addr_set6(&f->dst, ip.dst, 0);
	}
	f->l4_off = (uint16_t)(l4 - p);
	if (ip.frag) {
		f->kind = TP_FRAME_FRAGMENT;
		return TP_FRAME_FRAGMENT;
	}
	f->kind = (uint8_t)parse_l4(f, p, l4, len, &ip);
	return (enum tp_frame_kind)f->kind;
}

/* --- builders --- */

size_t tp_eth_write(uint8_t *p, const struct tp_l2 *l2, uint16_t ethertype)
{
	memcpy(p, l2->dst, TP_ETH_ALEN);
	memcpy(p + 6, l2->src, TP_ETH_ALEN);
	if (l2->tagged) {
		tp_put_be16(p + 12, TP_ETHERTYPE_VLAN);
		tp_put_be16(p + 14, l2->tci);
		tp_put_be16(p + 16, ethertype);
		return TP_ETH_HLEN + TP_VLAN_HLEN;
	}
	tp_put_be16(p + 12, ethertype);
	return TP_ETH_HLEN;
}

size_t tp_udp_hdr_write(uint8_t *p, const struct tp_l2 *l2, const struct tp_addr *src,
			const struct tp_addr *dst, size_t pay_len, bool df, uint16_t id)
{
	bool v6 = src->family == TP_AF_INET6;
	size_t udp_len = pay_len + TP_UDP_HLEN;
	size_t n;
	uint8_t *ip, *udp;

	if (udp_len + (v6 ? 0 : TP_IPV4_HLEN) > 0xffff)
		return 0;
	n = tp_eth_write(p, l2, v6 ? TP_ETHERTYPE_IPV6 : TP_ETHERTYPE_IPV4);
	ip = p + n;
	if (v6) {
		tp_put_be32(ip, 0x60000000u); /* version 6, traffic class 0, flow label 0 */
		tp_put_be16(ip + 4, (uint16_t)udp_len);
		ip[6] = TP_IPPROTO_UDP;
		ip[7] = TP_TTL;
		memcpy(ip + 8, src->ip, 16);
		memcpy(ip + 24, dst->ip, 16);
		udp = ip + TP_IPV6_HLEN;
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		tp_put_be16(ip + 2, (uint16_t)(udp_len + TP_IPV4_HLEN));
		tp_put_be16(ip + 4, id);
		tp_put_be16(ip + 6, df ? 0x4000 : 0);
		ip[8] = TP_TTL;
		ip[9] = TP_IPPROTO_UDP;
		tp_put_be16(ip + 10, 0);
		memcpy(ip + 12, src->ip, 4);
		memcpy(ip + 16, dst->ip, 4);
		tp_put_be16(ip + 10, tp_ipv4_cksum(ip, TP_IPV4_HLEN));
		udp = ip + TP_IPV4_HLEN;
	}
	tp_put_be16(udp, src->port);
	tp_put_be16(udp + 2, dst->port);
	tp_put_be16(udp + 4, (uint16_t)udp_len);
	tp_put_be16(udp + 6, 0);
	return (size_t)(udp + TP_UDP_HLEN - p);
}

void tp_arp_reply_inplace(uint8_t *frame, const struct tp_frame *f, const uint8_t mac[TP_ETH_ALEN])
{
	uint8_t *a = frame + f->l3_off;

	memcpy(frame, f->u.arp.sha, TP_ETH_ALEN);
	memcpy(frame + 6, mac, TP_ETH_ALEN);
	tp_put_be16(a + 6, TP_ARP_REPLY);
	memcpy(a + 8, mac, TP_ETH_ALEN);	   /* sender: us */
	memcpy(a + 14, f->u.arp.tpa, 4);	   /* the address asked for */
	memcpy(a + 18, f->u.arp.sha, TP_ETH_ALEN); /* target: the requester */
	memcpy(a + 24, f->u.arp.spa, 4);
}

size_t tp_arp_request(uint8_t *p, size_t cap, const struct tp_l2 *l2, const uint8_t spa[4],
		      const uint8_t tpa[4])
{
	struct tp_l2 bc = *l2;
	size_t n, len;
	uint8_t *a;

	len = (l2->tagged ? TP_VLAN_HLEN : 0) + TP_ETH_HLEN + TP_ARP_LEN;
	if (len < TP_ETH_MIN_FRAME)
		len = TP_ETH_MIN_FRAME;
	if (cap < len)
		return 0;
	memset(p, 0, len);
	memset(bc.dst, 0xff, TP_ETH_ALEN);
	n = tp_eth_write(p, &bc, TP_ETHERTYPE_ARP);
	a = p + n;
	tp_put_be16(a, 1);
	tp_put_be16(a + 2, TP_ETHERTYPE_IPV4);
	a[4] = TP_ETH_ALEN;
	a[5] = 4;
	tp_put_be16(a + 6, TP_ARP_REQUEST);
	memcpy(a + 8, l2->src, TP_ETH_ALEN);
	memcpy(a + 14, spa, 4);
	memcpy(a + 24, tpa, 4);
	return len;
}

void tp_icmp_echo_reply_inplace(uint8_t *frame, const struct tp_frame *f,
				const uint8_t mac[TP_ETH_ALEN])
{
	uint8_t *ip = frame + f->l3_off, *icmp = frame + f->l4_off;
	uint16_t ck = tp_get_be16(icmp + 2);

	memcpy(frame, f->src_mac, TP_ETH_ALEN);
	memcpy(frame + 6, mac, TP_ETH_ALEN);
	if (f->family == TP_AF_INET) {
		size_t hlen = (size_t)f->l4_off - f->l3_off;

		memcpy(ip + 12, f->dst.ip, 4);
		memcpy(ip + 16, f->src.ip, 4);
		ip[8] = TP_TTL;
		tp_put_be16(ip + 10, 0);
		tp_put_be16(ip + 10, tp_ipv4_cksum(ip, hlen));
		icmp[0] = TP_ICMP_ECHO_REPLY;
		/* Only the type changes in the ICMP message: RFC 1624. */
		tp_put_be16(icmp + 2,
			    tp_cksum_update16(ck, (uint16_t)(TP_ICMP_ECHO << 8 | icmp[1]),
					      (uint16_t)(TP_ICMP_ECHO_REPLY << 8 | icmp[1])));
	} else {
		memcpy(ip + 8, f->dst.ip, 16);
		memcpy(ip + 24, f->src.ip, 16);
		ip[7] = TP_TTL;
		icmp[0] = TP_ICMP6_ECHO_REPLY;
		/* Swapping the addresses leaves the pseudo-header sum as it was. */
		tp_put_be16(icmp + 2,
			    tp_cksum_update16(ck, (uint16_t)(TP_ICMP6_ECHO << 8 | icmp[1]),
					      (uint16_t)(TP_ICMP6_ECHO_REPLY << 8 | icmp[1])));
	}
}

size_t tp_ndp_na_from_ns(uint8_t *frame, size_t cap, const struct tp_frame *f,
			 const uint8_t mac[TP_ETH_ALEN])
{
	const size_t mlen = TP_NDP_HLEN + 8; /* NA + target link-layer address option */
	uint8_t *ip = frame + f->l3_off, *icmp = frame + f->l4_off;
	struct tp_addr src, dst;

	/* A solicitation for duplicate address detection is not answered: we do not defend. */
	if (ip6_unspecified(f->src.ip) || (size_t)f->l4_off + mlen > cap)
		return 0;
	tp_addr_set6(&src, f->u.nd.target, 0);
	tp_addr_set6(&dst, f->src.ip, 0);
	memcpy(frame, f->u.nd.has_lladdr ? f->u.nd.lladdr : f->src_mac, TP_ETH_ALEN);
	memcpy(frame + 6, mac, TP_ETH_ALEN);
	tp_put_be32(ip, 0x60000000u);
	tp_put_be16(ip + 4, (uint16_t)mlen);
	ip[6] = TP_IPPROTO_ICMPV6;
	ip[7] = TP_NDP_HOP_LIMIT;
	memcpy(ip + 8, src.ip, 16);
	memcpy(ip + 24, dst.ip, 16);
	icmp[0] = TP_ICMP6_NA;
	icmp[1] = 0;
	tp_put_be16(icmp + 2, 0);
	tp_put_be32(icmp + 4, TP_NDP_NA_SOLICIT | TP_NDP_NA_OVERRIDE);
	memcpy(icmp + 8, src.ip, 16);
	icmp[24] = TP_NDP_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, mac, TP_ETH_ALEN);
	tp_put_be16(icmp + 2,
		    tp_cksum_finish(tp_cksum_add(
			    tp_cksum_pseudo(&src, &dst, TP_IPPROTO_ICMPV6, (uint32_t)mlen),
			    tp_cksum_sum(icmp, mlen))));
	return (size_t)f->l4_off + mlen;
}

size_t tp_ndp_ns(uint8_t *p, size_t cap, const struct tp_l2 *l2, const uint8_t src[16],
		 const uint8_t target[16])
{
	const size_t mlen = TP_NDP_HLEN + 8; /* NS + source link-layer address option */
	struct tp_l2 mc = *l2;
	struct tp_addr s, d;
	uint8_t *ip, *icmp;
	size_t n, len = (l2->tagged ? TP_VLAN_HLEN : 0) + TP_ETH_HLEN + TP_IPV6_HLEN + mlen;

	if (cap < len)
		return 0;
	/* RFC 4291 §2.7.1: solicited-node multicast ff02::1:ffXX:XXXX; RFC 2464 §7: 33:33 + low
	 * 32 bits. */
	memset(&d, 0, sizeof(d));
	d.family = TP_AF_INET6;
	d.ip[0] = 0xff;
	d.ip[1] = 0x02;
	d.ip[11] = 0x01;
	d.ip[12] = 0xff;
	memcpy(d.ip + 13, target + 13, 3);
	tp_addr_set6(&s, src, 0);
	mc.dst[0] = 0x33;
	mc.dst[1] = 0x33;
	memcpy(mc.dst + 2, d.ip + 12, 4);
	n = tp_eth_write(p, &mc, TP_ETHERTYPE_IPV6);
	ip = p + n;
	tp_put_be32(ip, 0x60000000u);
	tp_put_be16(ip + 4, (uint16_t)mlen);
	ip[6] = TP_IPPROTO_ICMPV6;
	ip[7] = TP_NDP_HOP_LIMIT;
	memcpy(ip + 8, s.ip, 16);
	memcpy(ip + 24, d.ip, 16);
	icmp = ip + TP_IPV6_HLEN;
	memset(icmp, 0, mlen);
	icmp[0] = TP_ICMP6_NS;
	memcpy(icmp + 8, target, 16);
	icmp[24] = TP_NDP_OPT_SLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, l2->src, TP_ETH_ALEN);
	tp_put_be16(icmp + 2, tp_cksum_finish(tp_cksum_add(
				      tp_cksum_pseudo(&s, &d, TP_IPPROTO_ICMPV6, (uint32_t)mlen),
				      tp_cksum_sum(icmp, mlen))));
	return len;
}
