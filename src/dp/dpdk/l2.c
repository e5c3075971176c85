/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a host on an Ethernet segment must do, done in the lcore loop: answer ARP (RFC 826) and
 * Neighbor Solicitations (RFC 4861 §7.2.4) for our addresses, answer ICMP and ICMPv6 echo, and
 * resolve next hops (on-link destinations or the gateway) with a bounded queue of packets per
 * unresolved neighbour.
 *
 * Each worker keeps its own neighbour table per port (no locks). Answers arrive on whichever
 * queue RSS picks (usually queue 0 for ARP), so a worker that learns an address passes it to the
 * others over their neighbour rings; a worker waiting for that answer then releases its queue.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dpdkdp_int.h"

void tp_dp_l2_release(void *ctx, void *pkt)
{
	tp_dp_drop(ctx, pkt, TP_DPDKDP_DROP_NEIGH);
}

static void send_resolved(struct tp_dp_worker *w, unsigned port, void *const *pkts, unsigned n,
			  const uint8_t mac[TP_ETH_ALEN])
{
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		memcpy(rte_pktmbuf_mtod(m, uint8_t *), mac, TP_ETH_ALEN);
		tp_dp_tx(w, port, m);
	}
}

/* @ip is at @mac on @port: learn it, send what waited for it, and tell the other workers. */
static void learn(struct tp_dp_worker *w, unsigned port, uint8_t family, const uint8_t *ip,
		  const uint8_t mac[TP_ETH_ALEN], bool create, bool share)
{
	void *out[TP_NBR_PENDING];
	unsigned n = tp_nbr_learn(&w->nbr[port], family, ip, mac, create, w->clock.mono_ms, out);

	tp_dp_count(w, TP_DPDKDP_CTR_NEIGH_LEARNED, 1);
	send_resolved(w, port, out, n, mac);
	if (!share)
		return;
	for (unsigned i = 0; i < w->dp->nworkers; i++) {
		struct tp_dp_neigh_msg msg;
		uint32_t raw[TP_DP_NEIGH_WORDS];

		if (i == w->id)
			continue;
		memset(&msg, 0, sizeof(msg));
		msg.port = (uint8_t)port;
		msg.family = family;
		msg.create = create;
		memcpy(msg.mac, mac, TP_ETH_ALEN);
		memcpy(msg.ip, ip, family == TP_AF_INET6 ? 16 : 4);
		memcpy(raw, &msg, sizeof(raw));
		/* A full ring only costs the other worker a retransmitted request. */
		rte_ring_mp_enqueue_elem(w->dp->workers[i].neigh, raw, sizeof(raw));
	}
}

void tp_dp_l2_neigh_input(struct tp_dp_worker *w)
{
	uint32_t raw[16][TP_DP_NEIGH_WORDS];
	unsigned n = rte_ring_sc_dequeue_burst_elem(w->neigh, raw, sizeof(raw[0]), 16, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct tp_dp_neigh_msg msg;

		memcpy(&msg, raw[i], sizeof(msg));
		learn(w, msg.port, msg.family, msg.ip, msg.mac, msg.create != 0, false);
	}
}

/* Our address on @p to use toward @ip: one whose prefix holds it, else the first. */
static const struct tp_addr *source_for(const struct tp_dp_port *p, uint8_t family,
					const uint8_t *ip)
{
	const struct tp_addr *first = NULL;
	struct tp_addr a;

	memset(&a, 0, sizeof(a));
	a.family = family;
	memcpy(a.ip, ip, family == TP_AF_INET6 ? 16 : 4);
	for (unsigned i = 0; i < p->n_addr; i++) {
		if (p->addr[i].addr.family != family)
			continue;
		if (tp_cidr_match(&p->addr[i], &a))
			return &p->addr[i].addr;
		if (!first)
			first = &p->addr[i].addr;
	}
	return first;
}

/* An ARP request or a Neighbor Solicitation for @ip out of @port. */
static void send_probe(struct tp_dp_worker *w, unsigned port, uint8_t family, const uint8_t *ip,
		       bool tagged, uint16_t tci)
{
	const struct tp_dp_port *p = &w->dp->ports[port];
	const struct tp_addr *src = source_for(p, family, ip);
	struct tp_l2 l2;
	struct rte_mbuf *m;
	size_t len;

	if (!src)
		return;
	m = rte_pktmbuf_alloc(p->pool);
	if (!m) {
		tp_stat_add(&w->drop[TP_DPDKDP_DROP_NO_MBUF], 1);
		return;
	}
	memset(&l2, 0, sizeof(l2));
	memcpy(l2.src, p->mac, TP_ETH_ALEN);
	l2.tagged = tagged;
	l2.tci = tci;
	if (family == TP_AF_INET)
		len = tp_arp_request(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m), &l2,
				     src->ip, ip);
	else
		len = tp_ndp_ns(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m), &l2,
				src->ip, ip);
	if (!len) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NO_ROOM);
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	tp_dp_count(w, TP_DPDKDP_CTR_NEIGH_REQUEST, 1);
	tp_dp_tx(w, port, m);
}

struct sweep_ctx {
	struct tp_dp_worker *w;
	unsigned port;
};

static void sweep_probe(void *ctx, const struct tp_nbr *n)
{
	struct sweep_ctx *c = ctx;

	send_probe(c->w, c->port, n->family, n->ip, n->tagged, n->tci);
}

void tp_dp_l2_sweep(struct tp_dp_worker *w)
{
	for (unsigned i = 0; i < w->dp->n_ports; i++) {
		struct sweep_ctx c = { w, i };

		tp_nbr_sweep(&w->nbr[i], w->clock.mono_ms, sweep_probe, &c);
	}
}

static bool ip_eq(uint8_t family, const uint8_t *a, const uint8_t *b)
{
	return family == TP_AF_INET6 ? memcmp(a, b, 16) == 0 : memcmp(a, b, 4) == 0;
}

/* The next hop toward @to out of @p: @to itself when on-link, else the gateway; NULL if none. */
static const uint8_t *next_hop(struct tp_dp_route *rc, const struct tp_dp_port *p,
			       const struct tp_addr *to)
{
	const uint8_t *nh = NULL;

	if (rc->family == to->family && ip_eq(to->family, rc->dst, to->ip))
		return rc->nh;
	/* On-link destinations are their own next hop; the rest go through the gateway. */
	for (unsigned i = 0; i < p->n_addr && !nh; i++)
		if (tp_cidr_match(&p->addr[i], to))
			nh = to->ip;
	if (!nh) {
		const struct tp_addr *gw = to->family == TP_AF_INET6 ? &p->gw6 : &p->gw4;

		if (!gw->family)
			return NULL;
		nh = gw->ip;
	}
	rc->family = to->family;
	memcpy(rc->dst, to->ip, 16);
	memcpy(rc->nh, nh, 16);
	return rc->nh;
}

void tp_dp_l2_send(struct tp_dp_worker *w, unsigned port, struct rte_mbuf *m,
		   const struct tp_addr *to, bool tagged, uint16_t tci)
{
	const uint8_t *nh = next_hop(&w->route[port], &w->dp->ports[port], to);
	uint8_t mac[TP_ETH_ALEN];
	bool probe;

	if (!nh) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NO_ROUTE);
		return;
	}
	switch (tp_nbr_resolve(&w->nbr[port], to->family, nh, tagged, tci, w->clock.mono_ms, m, mac,
			       &probe)) {
	case TP_NBR_RESOLVED:
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), mac, TP_ETH_ALEN);
		tp_dp_tx(w, port, m);
		break;
	case TP_NBR_HELD:
		break;
	case TP_NBR_DROP:
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NEIGH);
		break;
	}
	if (probe)
		send_probe(w, port, to->family, nh, tagged, tci);
}

static void arp_input(struct tp_dp_worker *w, unsigned port, struct rte_mbuf *m,
		      const struct tp_frame *f)
{
	static const uint8_t zero[4];
	const struct tp_dp_port *p = &w->dp->ports[port];
	const struct tp_arp *a = &f->u.arp;
	bool ours = tp_dp_port_has_ip(p, TP_AF_INET, a->tpa);

	/* RFC 826 "merge": refresh the sender if known; add it if the packet was for us. An ARP
	 * probe (sender 0.0.0.0) teaches nothing. */
	if (memcmp(a->spa, zero, 4) != 0)
		learn(w, port, TP_AF_INET, a->spa, a->sha, ours, ours);
	if (!ours) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NOT_OURS);
		return;
	}
	if (a->op != TP_ARP_REQUEST) {
		rte_pktmbuf_free(m); /* an answer: consumed */
		return;
	}
	tp_arp_reply_inplace(rte_pktmbuf_mtod(m, uint8_t *), f, p->mac);
	m->ol_flags = 0;
	tp_dp_count(w, TP_DPDKDP_CTR_ARP_REPLY, 1);
	tp_dp_tx(w, port, m);
}

static void ns_input(struct tp_dp_worker *w, unsigned port, struct rte_mbuf *m,
		     const struct tp_frame *f)
{
	static const uint8_t unspec[16];
	const struct tp_dp_port *p = &w->dp->ports[port];
	size_t len;

	if (!tp_dp_port_has_ip(p, TP_AF_INET6, f->u.nd.target)) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NOT_OURS);
		return;
	}
	/* RFC 4861 §7.2.3: the solicitor's link-layer address goes into the cache. */
	if (f->u.nd.has_lladdr && memcmp(f->src.ip, unspec, 16) != 0)
		learn(w, port, TP_AF_INET6, f->src.ip, f->u.nd.lladdr, true, true);
	len = tp_ndp_na_from_ns(rte_pktmbuf_mtod(m, uint8_t *), (size_t)(m->buf_len - m->data_off),
				f, p->mac);
	if (!len) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_NOT_OURS); /* duplicate address detection */
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	m->ol_flags = 0;
	tp_dp_count(w, TP_DPDKDP_CTR_ND_ADVERT, 1);
	tp_dp_tx(w, port, m);
}

void tp_dp_l2_input(struct tp_dp_worker *w, unsigned port, struct rte_mbuf *m,
		    const struct tp_frame *f)
{
	const struct tp_dp_port *p = &w->dp->ports[port];

	switch (f->kind) {
	case TP_FRAME_ARP:
		arp_input(w, port, m, f);
		return;
	case TP_FRAME_NDP_NS:
		ns_input(w, port, m, f);
		return;
	case TP_FRAME_NDP_NA:
		/* Only answers to our solicitations update the cache (no entry: no create). */
		if (f->u.nd.has_lladdr)
			learn(w, port, TP_AF_INET6, f->u.nd.target, f->u.nd.lladdr, false, true);
		rte_pktmbuf_free(m);
		return;
	case TP_FRAME_ICMP_ECHO:
		if (!tp_dp_port_has_ip(p, f->family, f->dst.ip)) {
			tp_dp_drop(w, m, TP_DPDKDP_DROP_NOT_OURS);
			return;
		}
		tp_icmp_echo_reply_inplace(rte_pktmbuf_mtod(m, uint8_t *), f, p->mac);
		m->ol_flags = 0;
		tp_dp_count(w, TP_DPDKDP_CTR_ECHO_REPLY, 1);
		tp_dp_tx(w, port, m);
		return;
	default:
		tp_dp_drop(w, m, TP_DPDKDP_DROP_MALFORMED);
		return;
	}
}
