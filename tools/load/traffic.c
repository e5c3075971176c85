/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The traffic phase: pre-built packet templates patched with flow, sequence number and send
 * time; paced batches round-robin over the allocations; validation and accounting of what
 * arrives. Nothing here allocates or makes a system call per packet: a batch costs one
 * template copy per packet and one back-end send, a receive batch one back-end receive.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>
#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

#include "load.h"

#define LD_MAGIC      0x54504c44u /* "TPLD" */
#define LD_MEASURED   0x80000000u /* in the flow word: sent during the measurement */
#define LD_NS	      1000000000ull
#define LD_TICK_NS    1000000ull  /* control-plane timers: every millisecond */
#define LD_QUANTUM_NS 100000ull	  /* pace in bursts of at most 100 us of traffic */
#define LD_BACKLOG_NS 10000000ull /* never catch up more than 10 ms of missed sending */
#define LD_CHANNEL    TP_CHANNEL_MIN

/* Payload layout: magic, flow (| LD_MEASURED), seq, send time; all big-endian. */
#define PL_MAGIC 0
#define PL_FLOW	 4
#define PL_SEQ	 8
#define PL_TS	 16

/* What the receiver remembers per flow: the highest seq and a 64-seq window below it. */
struct ld_rx_flow {
	uint64_t max_seq;
	uint64_t window; /* bit d: max_seq - d seen */
};

/* One direction's sender. */
struct ld_tx {
	bool on;
	uint8_t tmpl[LD_PKT_MAX]; /* the whole datagram; payload at pl_off */
	uint32_t tmpl_len, pl_off;
	uint64_t *seq; /* last seq sent, per flow */
	uint32_t cursor, run;
	double rate;	    /* packets/s of this direction; 0 = flat out */
	uint64_t scheduled; /* packets the pacer has released */
	uint64_t quantum;   /* packets per paced burst */
	struct ld_rx_flow *rx;
	uint8_t (*slot)[LD_PKT_MAX];
};

struct ld_run {
	const struct ld_conf *c;
	struct ld_backend *be;
	struct ld_turn *t;
	const struct ld_flow *flows;
	uint32_t n;
	unsigned flow_burst;
	struct ld_tx tx[2];
	struct ld_result *r;
};

static void fill_payload(uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(0xa5 ^ i);
	tp_put_be32(p + PL_MAGIC, LD_MAGIC);
}

/* Client -> peer: ChannelData (RFC 8656 §12.4) or a Send indication (§11.3) to the server. */
static int build_c2p(struct ld_run *x)
{
	struct ld_tx *tx = &x->tx[LD_C2P];
	uint32_t len = x->c->payload;

	if (x->c->mode == LD_MODE_CHANNEL) {
		tp_chandata_put_hdr(tx->tmpl, LD_CHANNEL, (uint16_t)len);
		tx->pl_off = TP_CHANDATA_HDR_LEN;
		tx->tmpl_len = TP_CHANDATA_HDR_LEN + len;
	} else {
		struct tp_stun_builder b;
		uint8_t tid[TP_STUN_TID_LEN];
		uint8_t *data;
		int n;

		tp_random_bytes(tid, sizeof(tid));
		tp_stun_build_init(&b, tx->tmpl, sizeof(tx->tmpl), TP_STUN_SEND, TP_STUN_INDICATION,
				   tid);
		tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &x->be->peer);
		data = tp_stun_add_space(&b, TP_STUN_ATTR_DATA, len);
		n = tp_stun_build_finish(&b);
		if (n < 0 || !data)
			return -1;
		tx->pl_off = (uint32_t)(data - tx->tmpl);
		tx->tmpl_len = (uint32_t)n;
	}
	fill_payload(tx->tmpl + tx->pl_off, len);
	return 0;
}

/* Peer -> client: the bare payload, to the allocation's relayed address. */
static void build_p2c(struct ld_run *x)
{
	struct ld_tx *tx = &x->tx[LD_P2C];

	tx->pl_off = 0;
	tx->tmpl_len = x->c->payload;
	fill_payload(tx->tmpl, x->c->payload);
}

/* Build and send one batch of @p n packets of direction @p d. */
static void send_batch(struct ld_run *x, enum ld_dir d, unsigned n, uint64_t now, bool measured)
{
	struct ld_tx *tx = &x->tx[d];
	struct ld_pkt pk[LD_BATCH_MAX];
	unsigned k, sent;
	uint32_t skipped = 0;

	for (k = 0; k < n; k++) {
		uint32_t f = tx->cursor;
		uint8_t *p = tx->slot[k], *pl = p + tx->pl_off;

		while (!x->flows[f].ready && skipped < x->n) {
			f = f + 1 == x->n ? 0 : f + 1;
			skipped++;
		}
		if (skipped >= x->n)
			break;
		tx->cursor = f;
		memcpy(p, tx->tmpl, tx->tmpl_len);
		tp_put_be32(pl + PL_FLOW, f | (measured ? LD_MEASURED : 0));
		tp_put_be64(pl + PL_SEQ, ++tx->seq[f]);
		tp_put_be64(pl + PL_TS, now);
		pk[k].data = p;
		pk[k].len = tx->tmpl_len;
		if (d == LD_C2P) {
			pk[k].ep = f;
			pk[k].addr = x->c->server;
		} else {
			pk[k].ep = LD_EP_PEER;
			pk[k].addr = x->flows[f].relayed;
		}
		if (++tx->run >= x->flow_burst) {
			tx->run = 0;
			tx->cursor = f + 1 == x->n ? 0 : f + 1;
		}
	}
	if (k == 0)
		return;
	sent = x->be->ops->send(x->be, pk, k);
	if (measured) {
		x->r->dir[d].sent += sent;
		x->r->dir[d].tx_failed += k - sent;
	} else {
		x->r->dir[d].warm_sent += sent;
	}
}

/* Account for one payload that arrived in direction @p d at endpoint @p ep. */
static void account(struct ld_run *x, enum ld_dir d, uint32_t ep, const uint8_t *pl, size_t len,
		    const struct tp_addr *from, uint64_t now)
{
	struct ld_dir_stats *s = &x->r->dir[d];
	struct ld_rx_flow *rf;
	uint32_t w, f;
	uint64_t seq, ts;

	if (len != x->c->payload || tp_get_be32(pl + PL_MAGIC) != LD_MAGIC) {
		s->bad++;
		return;
	}
	w = tp_get_be32(pl + PL_FLOW);
	f = w & ~LD_MEASURED;
	/* c2p: the peer sees the allocation's relayed address; p2c: the flow's own client. */
	if (f >= x->n || (d == LD_C2P ? !tp_addr_eq(from, &x->flows[f].relayed) : f != ep)) {
		s->bad++;
		return;
	}
	seq = tp_get_be64(pl + PL_SEQ);
	ts = tp_get_be64(pl + PL_TS);
	rf = &x->tx[d].rx[f];
	if (seq > rf->max_seq) {
		uint64_t shift = seq - rf->max_seq;

		rf->window = shift >= 64 ? 1 : rf->window << shift | 1;
		rf->max_seq = seq;
	} else {
		uint64_t dist = rf->max_seq - seq;

		if (dist < 64) {
			if (rf->window & 1ull << dist) {
				s->duplicates++;
				return;
			}
			rf->window |= 1ull << dist;
		}
		s->reordered++;
	}
	if (!(w & LD_MEASURED)) {
		s->warm_rcvd++;
		return;
	}
	s->received++;
	ld_hist_add(&s->lat, now > ts ? now - ts : 0);
}

static void handle(struct ld_run *x, struct ld_pkt *pk, uint64_t now)
{
	const uint8_t *p = pk->data;
	struct tp_chandata cd;
	struct tp_stun_msg m;
	const uint8_t *data;
	size_t len;

	if (pk->ep == LD_EP_PEER) {
		account(x, LD_C2P, 0, p, pk->len, &pk->addr, now);
		return;
	}
	switch (tp_wire_classify(p, pk->len)) {
	case TP_WIRE_KIND_CHANNEL:
		if (tp_chandata_parse(&cd, p, pk->len) < 0 || cd.channel != LD_CHANNEL) {
			x->r->dir[LD_P2C].bad++;
			return;
		}
		account(x, LD_P2C, pk->ep, cd.data, cd.len, NULL, now);
		return;
	case TP_WIRE_KIND_STUN:
		if (pk->len > TP_STUN_HDR_LEN &&
		    tp_get_be16(p) == tp_stun_type(TP_STUN_DATA, TP_STUN_INDICATION)) {
			if (tp_stun_parse(&m, p, pk->len) < 0 ||
			    tp_stun_get_data(&m, &data, &len) < 0) {
				x->r->dir[LD_P2C].bad++;
				return;
			}
			account(x, LD_P2C, pk->ep, data, len, NULL, now);
			return;
		}
		ld_turn_input(x->t, pk->ep, p, pk->len, now);
		return;
	default:
		x->r->dir[LD_P2C].bad++;
		return;
	}
}

/* Packets direction @p d may send now, or 0; sets *wait_ns to the time until the next burst. */
static unsigned due(struct ld_run *x, enum ld_dir d, uint64_t elapsed, uint64_t *wait_ns)
{
	struct ld_tx *tx = &x->tx[d];
	uint64_t target, backlog, w;

	if (tx->rate <= 0)
		return x->c->burst;
	target = (uint64_t)((double)elapsed * tx->rate / (double)LD_NS);
	backlog = (uint64_t)(tx->rate * (double)LD_BACKLOG_NS / (double)LD_NS) + x->c->burst;
	if (target > tx->scheduled + backlog)
		tx->scheduled = target - backlog; /* we fell behind: do not burst to catch up */
	if (target >= tx->scheduled + tx->quantum)
		return target - tx->scheduled > x->c->burst ? x->c->burst
							    : (unsigned)(target - tx->scheduled);
	w = (uint64_t)((double)(tx->scheduled + tx->quantum) * (double)LD_NS / tx->rate);
	w = w > elapsed ? w - elapsed : 0;
	if (w < *wait_ns)
		*wait_ns = w;
	return 0;
}

static void progress(struct ld_run *x, double el, const char *phase, uint64_t *last_tx,
		     uint64_t *last_rx, double dt)
{
	const struct ld_dir_stats *s = x->r->dir;
	uint64_t tx = s[0].sent + s[0].warm_sent + s[1].sent + s[1].warm_sent;
	uint64_t rx = s[0].received + s[0].warm_rcvd + s[1].received + s[1].warm_rcvd;
	uint64_t ms = s[0].sent + s[1].sent, mr = s[0].received + s[1].received;

	fprintf(stderr,
		"[%7.1fs] %-7s tx %9.0f pps  rx %9.0f pps  measured sent %" PRIu64 " rcvd %" PRIu64
		" (%.3f%% missing)\n",
		el, phase, (double)(tx - *last_tx) / dt, (double)(rx - *last_rx) / dt, ms, mr,
		ms ? 100.0 * (double)(ms > mr ? ms - mr : 0) / (double)ms : 0.0);
	*last_tx = tx;
	*last_rx = rx;
}

static int run_loop(struct ld_run *x)
{
	const struct ld_conf *c = x->c;
	struct ld_backend *be = x->be;
	struct ld_pkt pk[LD_BATCH_MAX];
	uint64_t t0 = be->ops->now(be), now = t0;
	uint64_t t_meas = t0 + (uint64_t)(c->warmup * (double)LD_NS);
	uint64_t t_end = t_meas + (uint64_t)(c->duration * (double)LD_NS);
	uint64_t t_drain = t_end + (uint64_t)(c->drain * (double)LD_NS);
	uint64_t last_tick = 0, prog_ns = (uint64_t)(c->progress * (double)LD_NS);
	uint64_t next_prog = t0 + prog_ns, last_prog = t0, ptx = 0, prx = 0;
	bool stopped = false, rx_full = false;

	for (;;) {
		uint64_t wait = LD_TICK_NS;
		unsigned n, k, d;
		bool sending;

		now = be->ops->now(be);
		if (ld_stop && !stopped && now < t_end) {
			stopped = true;
			t_end = now > t_meas ? now : t_meas;
			t_drain = now + (uint64_t)(c->drain * (double)LD_NS);
		}
		sending = now < t_end;
		/* Receiving comes first: a generator that sends while its own receive queues grow
		 * measures its own queueing, not the relay's. */
		if (sending && !rx_full) {
			for (d = 0; d < 2; d++) {
				unsigned m;

				if (!x->tx[d].on)
					continue;
				m = due(x, (enum ld_dir)d, now - t0, &wait);
				if (!m)
					continue;
				x->tx[d].scheduled += m;
				send_batch(x, (enum ld_dir)d, m, now, now >= t_meas);
				wait = 0;
			}
		}
		n = be->ops->recv(be, pk, LD_BATCH_MAX, rx_full ? 0 : wait);
		rx_full = n == LD_BATCH_MAX;
		if (n) {
			uint64_t rnow = be->ops->now(be);

			for (k = 0; k < n; k++)
				handle(x, &pk[k], rnow);
		}
		if (now - last_tick >= LD_TICK_NS) {
			ld_turn_tick(x->t, now);
			last_tick = now;
		}
		if (prog_ns && now >= next_prog) {
			progress(x, (double)(now - t0) / 1e9,
				 now < t_meas  ? "warmup"
				 : now < t_end ? "measure"
					       : "drain",
				 &ptx, &prx, (double)(now - last_prog) / 1e9);
			last_prog = now;
			next_prog = now + prog_ns;
		}
		if (!sending) {
			const struct ld_dir_stats *s = x->r->dir;

			if (now >= t_drain ||
			    (s[0].received >= s[0].sent && s[1].received >= s[1].sent))
				break;
		}
	}
	x->r->measured_s = t_end > t_meas ? (double)(t_end - t_meas) / 1e9 : 0;
	return 0;
}

int ld_traffic_run(const struct ld_conf *c, struct ld_backend *be, struct ld_turn *t,
		   struct ld_result *r)
{
	struct ld_run x = { .c = c, .be = be, .t = t, .r = r, .n = c->allocations };
	unsigned ndirs = 0, d;
	int rc = -1;

	x.flows = ld_turn_flows(t);
	x.flow_burst = c->flow_burst ? c->flow_burst : be->flow_burst;
	for (d = 0; d < 2; d++)
		ndirs += (c->dirs & LD_DIR_BIT(d)) != 0;
	for (d = 0; d < 2; d++) {
		struct ld_tx *tx = &x.tx[d];

		tx->on = (c->dirs & LD_DIR_BIT(d)) != 0;
		tx->rate = (double)c->rate / ndirs;
		tx->quantum = (uint64_t)(tx->rate * (double)LD_QUANTUM_NS / (double)LD_NS);
		if (tx->quantum < 1)
			tx->quantum = 1;
		if (tx->quantum > c->burst)
			tx->quantum = c->burst;
		tx->seq = calloc(x.n, sizeof(*tx->seq));
		tx->rx = calloc(x.n, sizeof(*tx->rx));
		tx->slot = calloc(LD_BATCH_MAX, sizeof(*tx->slot));
		if (!tx->seq || !tx->rx || !tx->slot) {
			fprintf(stderr, "turnpike-load: out of memory\n");
			goto out;
		}
	}
	if (build_c2p(&x) < 0) {
		fprintf(stderr, "turnpike-load: cannot build the Send indication template\n");
		goto out;
	}
	build_p2c(&x);
	rc = run_loop(&x);
out:
	for (d = 0; d < 2; d++) {
		free(x.tx[d].seq);
		free(x.tx[d].rx);
		free(x.tx[d].slot);
	}
	return rc;
}
