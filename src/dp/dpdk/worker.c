/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop, after DPDK's l3fwd: receive a burst per queue, prefetch ahead, classify the
 * whole burst (L2/L3 control answered on the spot, peer packets of other shards handed over,
 * UDP for this shard gathered for the engine), decide it in one tp_engine_process() call, carry
 * out the verdicts in place, and transmit in bursts flushed at least every TP_DP_DRAIN_US.
 *
 * Nothing here locks, allocates from the heap, logs or makes a system call.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <turnpike/byteorder.h>

#include "dpdkdp_int.h"

#define PREFETCH_AHEAD 3

/* --- transmit --- */

static void flush_port(struct tp_dp_worker *w, unsigned port)
{
	struct tp_dp_txbuf *b = &w->tx[port];
	uint16_t sent;

	if (!b->n)
		return;
	sent = rte_eth_tx_burst(w->dp->ports[port].port_id, (uint16_t)w->id, b->m, b->n);
	tp_dp_count(w, TP_DPDKDP_CTR_TX, sent);
	/* l3fwd: what the queue refused is freed, and here counted. */
	for (uint16_t i = sent; i < b->n; i++)
		tp_dp_drop(w, b->m[i], TP_DPDKDP_DROP_TX_FULL);
	b->n = 0;
}

void tp_dp_flush(struct tp_dp_worker *w)
{
	for (unsigned i = 0; i < w->dp->n_ports; i++)
		flush_port(w, i);
}

void tp_dp_tx(struct tp_dp_worker *w, unsigned port, struct rte_mbuf *m)
{
	struct tp_dp_txbuf *b = &w->tx[port];

	b->m[b->n++] = m;
	if (b->n >= w->dp->conf.burst)
		flush_port(w, port);
}

/* --- classify --- */

static bool is_ours(const struct tp_dpdkdp *dp, const struct tp_addr *a)
{
	return tp_dp_port_of_addr(dp, a) != TP_DP_NO_PORT;
}

static bool ip_unspecified(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, tp_addr_iplen(a)) == 0;
}

/* Which side a UDP datagram to @dst comes from, or -1 when it is for none of ours. */
static int origin_of(const struct tp_dpdkdp *dp, const struct tp_addr *dst)
{
	const struct tp_addr *relay =
		dst->family == TP_AF_INET6 ? &dp->conf.relay6 : &dp->conf.relay4;

	for (unsigned i = 0; i < dp->conf.n_listen; i++) {
		const struct tp_addr *l = &dp->listen[i];

		if (l->port == dst->port && l->family == dst->family &&
		    (tp_addr_ip_eq(l, dst) || (ip_unspecified(l) && is_ours(dp, dst))))
			return TP_PKT_FROM_CLIENT;
	}
	if (relay->family && tp_addr_ip_eq(relay, dst) && dst->port >= dp->conf.port_min &&
	    dst->port <= dp->conf.port_max)
		return TP_PKT_FROM_PEER;
	return -1;
}

/* A client's STUN message is answered: its checksum is checked first (ChannelData and peer data
 * keep theirs end to end through the incremental update). */
static bool udp_cksum_ok(const struct rte_mbuf *m, const struct tp_frame *f)
{
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || f->udp_cksum == 0)
		return true;
	return tp_cksum_add(tp_cksum_pseudo(&f->src, &f->dst, TP_IPPROTO_UDP, f->l4_len),
			    tp_cksum_sum(b + f->l4_off, f->l4_len)) == 0xffff;
}

static void classify(struct tp_dp_worker *w, struct rte_mbuf *m)
{
	struct tp_dpdkdp *dp = w->dp;
	unsigned k = w->n_eng, port = dp->port_idx[m->port];
	struct tp_frame *f = &w->fr[k];
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	struct tp_pkt *pkt;
	int origin;

	if (m->nb_segs != 1) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_MULTI_SEGMENT);
		return;
	}
	switch (tp_frame_parse(f, b, m->data_len)) {
	case TP_FRAME_UDP:
		break;
	case TP_FRAME_ARP:
	case TP_FRAME_ICMP_ECHO:
	case TP_FRAME_NDP_NS:
	case TP_FRAME_NDP_NA:
		tp_dp_l2_input(w, port, m, f);
		return;
	case TP_FRAME_FRAGMENT:
		tp_dp_drop(w, m, TP_DPDKDP_DROP_FRAGMENT);
		return;
	case TP_FRAME_OTHER_ETHERTYPE:
		tp_dp_drop(w, m, TP_DPDKDP_DROP_ETHERTYPE);
		return;
	case TP_FRAME_OTHER_PROTO:
		tp_dp_drop(w, m, TP_DPDKDP_DROP_IP_PROTO);
		return;
	case TP_FRAME_OTHER_ICMP:
		tp_dp_drop(w, m, TP_DPDKDP_DROP_ICMP_OTHER);
		return;
	default:
		tp_dp_drop(w, m, TP_DPDKDP_DROP_MALFORMED);
		return;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_L4_CKSUM);
		return;
	}
	origin = origin_of(dp, &f->dst);
	if (origin < 0) {
		tp_dp_drop(w, m,
			   is_ours(dp, &f->dst) ? TP_DPDKDP_DROP_UDP_PORT
						: TP_DPDKDP_DROP_NOT_OURS);
		return;
	}
	if (origin == TP_PKT_FROM_PEER) {
		unsigned owner = tp_engine_port_shard(f->dst.port, dp->conf.port_min, dp->nworkers);

		if (owner != w->id) {
			/* DESIGN §4: the owner's shard decides; one SPSC ring per ordered pair. */
			if (rte_ring_sp_enqueue(dp->steer[w->id][owner], m) != 0)
				tp_dp_drop(w, m, TP_DPDKDP_DROP_STEER_FULL);
			else
				tp_dp_count(w, TP_DPDKDP_CTR_STEER_OUT, 1);
			return;
		}
	} else if (f->pay_len && (b[f->pay_off] & 0xc0) == 0 && !udp_cksum_ok(m, f)) {
		tp_dp_drop(w, m, TP_DPDKDP_DROP_L4_CKSUM);
		return;
	}
	pkt = &w->pkts[k];
	pkt->data = b + f->pay_off;
	pkt->len = f->pay_len;
	pkt->origin = (uint8_t)origin;
	pkt->transport = TP_TRANSPORT_UDP;
	pkt->conn = 0;
	pkt->src = f->src;
	pkt->dst = f->dst;
	pkt->reply_buf = w->reply[k];
	pkt->reply_cap = TP_DP_REPLY_CAP;
	w->eng_m[k] = m;
	w->n_eng = k + 1;
}

/* --- decide and carry out --- */

static void run_engine(struct tp_dp_worker *w)
{
	unsigned n = w->n_eng;

	if (!n)
		return;
	tp_engine_process(w->eng, w->pkts, w->v, n, &w->clock);
	for (unsigned k = 0; k < n; k++) {
		switch (w->v[k].kind) {
		case TP_VERDICT_REPLY:
			tp_dp_reply(w, k);
			break;
		case TP_VERDICT_FORWARD:
			tp_dp_forward(w, k);
			break;
		default:
			rte_pktmbuf_free(w->eng_m[k]); /* the engine counted why */
			break;
		}
	}
	w->n_eng = 0;
}

static void process(struct tp_dp_worker *w, struct rte_mbuf **m, unsigned n)
{
	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
	for (unsigned i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + PREFETCH_AHEAD], void *));
		classify(w, m[i]);
	}
	run_engine(w);
}

/* --- the loop --- */

static void update_clock(struct tp_dp_worker *w, uint64_t tsc)
{
	const struct tp_dpdkdp *dp = w->dp;
	uint64_t ms;

	if (tsc - w->tsc_clock < dp->tsc_per_ms)
		return;
	ms = (tsc - dp->base_tsc) / dp->tsc_per_ms;
	w->clock.mono_ms = dp->base_mono_ms + ms;
	w->clock.unix_s = (dp->base_unix_ms + ms) / 1000;
	w->tsc_clock = tsc;
}

unsigned tp_dp_worker_poll(struct tp_dp_worker *w)
{
	struct tp_dpdkdp *dp = w->dp;
	const struct tp_engine_policy *pol =
		atomic_load_explicit(&dp->policy, memory_order_acquire);
	struct rte_mbuf *m[TP_DP_BURST_MAX];
	uint16_t burst = dp->conf.burst;
	uint64_t tsc = rte_rdtsc();
	unsigned total = 0;

	update_clock(w, tsc);
	/* A new policy is taken before any work, right after the previous quiescent state was
	 * reported: once tp_dpdkdp_set_policy() sees that report, this load sees the new pointer.
	 */
	if (pol != w->pol) {
		tp_engine_set_policy(w->eng, pol);
		w->pol = pol;
	}
	for (unsigned i = 0; i < w->n_rxq; i++) {
		const struct tp_dp_port *p = &dp->ports[w->rxq[i].port];
		uint16_t n = rte_eth_rx_burst(p->port_id, w->rxq[i].queue, m, burst);

		if (!n)
			continue;
		for (uint16_t j = 0; j < n; j++)
			m[j]->port = p->port_id; /* not every PMD sets it (net_ring does not) */
		tp_dp_count(w, TP_DPDKDP_CTR_RX, n);
		process(w, m, n);
		total += n;
	}
	for (unsigned s = 0; s < dp->nworkers; s++) {
		unsigned n;

		if (s == w->id)
			continue;
		n = rte_ring_sc_dequeue_burst(dp->steer[s][w->id], (void **)m, burst, NULL);
		if (!n)
			continue;
		tp_dp_count(w, TP_DPDKDP_CTR_STEER_IN, n);
		process(w, m, n);
		total += n;
	}
	tp_dp_l2_neigh_input(w);
	/* Partial bursts wait at most TP_DP_DRAIN_US, and not at all when the queues ran dry. */
	if (!total || tsc - w->tsc_drain >= dp->tsc_drain) {
		tp_dp_flush(w);
		w->tsc_drain = tsc;
	}
	if (tsc - w->tsc_sweep >= TP_DP_SWEEP_MS * dp->tsc_per_ms) {
		tp_dp_l2_sweep(w);
		w->tsc_sweep = tsc;
	}
	if (tsc - w->tsc_tick >= TP_DP_TICK_MS * dp->tsc_per_ms) {
		tp_engine_tick(w->eng, &w->clock);
		w->tsc_tick = tsc;
	}
	return total;
}

int tp_dp_worker_main(void *arg)
{
	struct tp_dp_worker *w = arg;
	struct tp_dpdkdp *dp = w->dp;

	rte_rcu_qsbr_thread_online(dp->qs, w->id);
	while (!atomic_load_explicit(&dp->stop, memory_order_relaxed)) {
		tp_dp_worker_poll(w);
		rte_rcu_qsbr_quiescent(dp->qs, w->id);
	}
	rte_rcu_qsbr_thread_offline(dp->qs, w->id);
	tp_dp_flush(w);
	return 0;
}
