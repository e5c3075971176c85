/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Verdicts into frames, inside the mbuf that brought the packet in.
 *
 * REPLY: the engine wrote the response into the worker's scratch area while it read the request
 * from the mbuf; once the burst is decided the request is no longer needed, so the response is
 * copied over it behind fresh headers (Ethernet back to the sender, addresses and ports swapped).
 *
 * FORWARD: the payload stays where it is. The data window moves so that new headers plus the
 * verdict's head end exactly where payload[off] already sits (rte_pktmbuf_adj/prepend done by
 * hand on data_off), the tail goes right after payload[off + len], and the UDP checksum is left
 * to the NIC, updated from the received one (RFC 1624: only the headers, head, tail and dropped
 * bytes are read), or computed in full when the received IPv4 checksum was 0 or the window moved
 * by an odd number of bytes.
 */
#include <string.h>

#include <rte_mbuf.h>

#include <turnpike/byteorder.h>

#include "dpdkdp_int.h"

enum cksum_mode {
	CK_FULL = 0,
	CK_INCREMENTAL,
};

/* UDP (and IPv4 header) checksums of the frame in @m, whose headers are already written. */
static void finish_cksum(struct tp_dp_worker *w, const struct tp_dp_port *p, struct rte_mbuf *m,
			 size_t l2len, const struct tp_addr *src, const struct tp_addr *dst,
			 size_t udp_len, enum cksum_mode mode, uint16_t inc)
{
	bool v6 = src->family == TP_AF_INET6;
	size_t l3len = v6 ? TP_IPV6_HLEN : TP_IPV4_HLEN;
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, l2len);
	uint8_t *udp = ip + l3len;
	bool ol_udp = tp_dp_ol_udp(w->dp, p), ol_ip = !v6 && tp_dp_ol_ip4(w->dp, p);

	m->ol_flags = 0;
	if (ol_udp || ol_ip) {
		m->l2_len = (uint64_t)l2len;
		m->l3_len = (uint64_t)l3len;
		m->ol_flags |= v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4;
	}
	if (ol_ip) {
		m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
		tp_put_be16(ip + 10, 0);
	}
	if (ol_udp) {
		/* The NIC wants the pseudo-header sum in the field (rte_ipv4_phdr_cksum()). */
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
		tp_put_be16(udp + 6,
			    (uint16_t)tp_cksum_pseudo(src, dst, TP_IPPROTO_UDP, (uint32_t)udp_len));
		tp_dp_count(w, TP_DPDKDP_CTR_CKSUM_OFFLOAD, 1);
	} else if (mode == CK_INCREMENTAL) {
		tp_put_be16(udp + 6, inc);
		tp_dp_count(w, TP_DPDKDP_CTR_CKSUM_INCREMENTAL, 1);
	} else {
		tp_put_be16(udp + 6, tp_udp_cksum(src, dst, udp, udp_len));
		tp_dp_count(w, TP_DPDKDP_CTR_CKSUM_FULL, 1);
	}
}

void tp_dp_reply(struct tp_dp_worker *w, unsigned k)
{
	struct rte_mbuf *m = w->eng_m[k];
	const struct tp_frame *f = &w->fr[k];
	const struct tp_verdict *v = &w->v[k];
	unsigned port = w->dp->port_idx[m->port];
	const struct tp_dp_port *p = &w->dp->ports[port];
	size_t l2len = f->tagged ? TP_ETH_HLEN + TP_VLAN_HLEN : TP_ETH_HLEN;
	size_t hl = tp_udp_hdr_len(v->to.family, f->tagged), total = hl + v->len;
	struct tp_l2 l2;

	if (v->transport != TP_TRANSPORT_UDP || !(v->flags & TP_VF_TO_CLIENT)) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NO_ROUTE);
		return;
	}
	if (total - l2len > p->mtu) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_MTU);
		return;
	}
	if ((size_t)RTE_PKTMBUF_HEADROOM + total > m->buf_len) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NO_ROOM);
		return;
	}
	/* The response goes back the way the request came: to its Ethernet source. */
	memcpy(l2.dst, f->src_mac, TP_ETH_ALEN);
	memcpy(l2.src, p->mac, TP_ETH_ALEN);
	l2.tagged = f->tagged;
	l2.tci = f->tci;
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = (uint16_t)total;
	m->pkt_len = (uint32_t)total;
	tp_udp_hdr_write(rte_pktmbuf_mtod(m, uint8_t *), &l2, &v->from, &v->to, v->len, false,
			 w->ip_id++);
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, hl), w->pkts[k].reply_buf, v->len);
	finish_cksum(w, p, m, l2len, &v->from, &v->to, TP_UDP_HLEN + v->len, CK_FULL, 0);
	tp_dp_tx(w, port, m);
}

/*
 * tp_dp_port_of_addr() of a verdict's source, remembered per direction: toward peers it is the
 * relay address, toward clients a listening one, so the answer rarely changes.
 */
static unsigned port_from(struct tp_dp_worker *w, const struct tp_verdict *v)
{
	struct tp_dp_from *c = &w->from[(v->flags & TP_VF_TO_PEER) != 0];
	const struct tp_addr *a = &v->from;
	unsigned port;

	if (c->family == a->family && c->family &&
	    (a->family == TP_AF_INET6 ? memcmp(c->ip, a->ip, 16) == 0
				      : memcmp(c->ip, a->ip, 4) == 0))
		return c->port;
	port = tp_dp_port_of_addr(w->dp, a);
	if (port != TP_DP_NO_PORT) {
		c->family = a->family;
		c->port = (uint8_t)port;
		memcpy(c->ip, a->ip, 16);
	}
	return port;
}

void tp_dp_forward(struct tp_dp_worker *w, unsigned k)
{
	struct rte_mbuf *m = w->eng_m[k];
	const struct tp_frame *f = &w->fr[k];
	const struct tp_verdict *v = &w->v[k];
	const struct tp_pkt *pkt = &w->pkts[k];
	unsigned in_port = w->dp->port_idx[m->port];
	unsigned port = port_from(w, v);
	const struct tp_dp_port *p;
	bool tagged;
	size_t l2len, hl, pay, total;
	long start;
	enum cksum_mode mode = CK_FULL;
	uint16_t inc = 0;
	struct tp_l2 l2;
	uint8_t *b;

	if (port == TP_DP_NO_PORT || v->transport != TP_TRANSPORT_UDP) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NO_ROUTE);
		return;
	}
	p = &w->dp->ports[port];
	/* The VLAN tag carries over when the frame leaves by the port it came in on. */
	tagged = f->tagged && port == in_port;
	l2len = tagged ? TP_ETH_HLEN + TP_VLAN_HLEN : TP_ETH_HLEN;
	hl = tp_udp_hdr_len(v->to.family, tagged);
	pay = (size_t)v->head_len + v->len + v->tail_len;
	total = hl + pay;
	if (total - l2len > p->mtu) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_MTU);
		return;
	}
	/* Where the new frame starts, relative to the current data: payload[off] stays put. */
	start = (long)(pkt->data - rte_pktmbuf_mtod(m, const uint8_t *)) + (long)v->off - (long)hl -
		(long)v->head_len;
	if ((long)m->data_off + start < 0 ||
	    (size_t)((long)m->data_off + start) + total > m->buf_len) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NO_ROOM);
		return;
	}
	/* The incremental update reads the bytes it drops: before anything moves. */
	if (!tp_dp_ol_udp(w->dp, p)) {
		struct tp_udp_rewrite r = {
			.osrc = &f->src,
			.odst = &f->dst,
			.opay = pkt->data,
			.opay_len = pkt->len,
			.off = v->off,
			.len = v->len,
			.head = v->head,
			.head_len = v->head_len,
			.tail = v->tail,
			.tail_len = v->tail_len,
			.nsrc = &v->from,
			.ndst = &v->to,
		};

		if (tp_udp_cksum_rewrite(f->udp_cksum, &r, &inc) == 0)
			mode = CK_INCREMENTAL;
	}
	m->data_off = (uint16_t)((long)m->data_off + start);
	m->data_len = (uint16_t)total;
	m->pkt_len = (uint32_t)total;
	b = rte_pktmbuf_mtod(m, uint8_t *);
	memset(l2.dst, 0, TP_ETH_ALEN); /* the next hop's, once resolved */
	memcpy(l2.src, p->mac, TP_ETH_ALEN);
	l2.tagged = tagged;
	l2.tci = f->tci;
	tp_udp_hdr_write(b, &l2, &v->from, &v->to, pay, (v->flags & TP_VF_DF) != 0, w->ip_id++);
	memcpy(b + hl, v->head, v->head_len);
	memcpy(b + hl + v->head_len + v->len, v->tail, v->tail_len);
	finish_cksum(w, p, m, l2len, &v->from, &v->to, TP_UDP_HLEN + pay, mode, inc);
	tp_dp_l2_send(w, port, m, &v->to, tagged, f->tci);
}
