/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A socket-plane worker: one engine shard, its listeners, its stream connections and the relay
 * sockets of its allocations, all on one poller. Datagrams come in batches (recvmmsg where the
 * platform has it), go through the engine as a burst, and leave in batches per socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/log.h>

#include "sockdp_int.h"

static unsigned fam_index(uint8_t family)
{
	return family == TP_AF_INET6 ? 1 : 0;
}

/* --- relay ports: the engine's callbacks --- */

static void relay_close(void *ctx, uint16_t port, unsigned families)
{
	struct worker *w = ctx;
	struct relay_slot *r = &w->relays[port - w->dp->conf.port_min];

	(void)families;
	for (unsigned f = 0; f < 2; f++) {
		if (r->s[f] != TP_SOCKET_INVALID) {
			tp_poller_del(w->poller, r->s[f]);
			tp_sock_close(r->s[f]);
			r->s[f] = TP_SOCKET_INVALID;
			r->df[f] = false;
		}
	}
}

static int relay_open(void *ctx, uint16_t port, unsigned families)
{
	struct worker *w = ctx;
	const struct tp_sockdp_conf *c = &w->dp->conf;
	struct relay_slot *r = &w->relays[port - c->port_min];
	int rc = 0;

	for (unsigned f = 0; f < 2 && rc == 0; f++) {
		struct tp_addr a = f == 0 ? c->relay4 : c->relay6;

		if (!(families & (f == 0 ? TP_RELAY_V4 : TP_RELAY_V6)))
			continue;
		a.port = port;
		rc = tp_udp_open(&a, TP_SOCK_NONBLOCK, &r->s[f]);
		if (rc < 0) {
			r->s[f] = TP_SOCKET_INVALID;
			break;
		}
		r->tag[f].kind = EV_RELAY;
		r->tag[f].family = a.family;
		r->tag[f].port = port;
		rc = tp_poller_add(w->poller, r->s[f], TP_POLL_IN, &r->tag[f]);
	}
	if (rc < 0) {
		relay_close(w, port, families);
		tp_log(TP_LOG_DEBUG, "worker %u: relay port %u unavailable: %s", w->id, port,
		       tp_strerror(rc));
	}
	return rc;
}

static const char *transport_name(uint8_t t)
{
	return t == TP_TRANSPORT_TCP ? "tcp" : t == TP_TRANSPORT_TLS ? "tls" : "udp";
}

static void on_event(void *ctx, const struct tp_engine_event *ev)
{
	static const char *const what[] = { "created", "refreshed", "deleted", "expired" };
	struct worker *w = ctx;
	char client[TP_ADDR_STRLEN], r4[TP_ADDR_STRLEN] = "-", r6[TP_ADDR_STRLEN] = "-";
	enum tp_log_level level = ev->kind == TP_EVENT_ALLOC_REFRESHED ? TP_LOG_DEBUG : TP_LOG_INFO;

	if (!tp_log_enabled(level))
		return;
	tp_addr_format(&ev->client, client, sizeof(client), true);
	if (ev->relay4.family)
		tp_addr_format(&ev->relay4, r4, sizeof(r4), true);
	if (ev->relay6.family)
		tp_addr_format(&ev->relay6, r6, sizeof(r6), true);
	tp_log(level, "allocation %s: worker %u %s client %s relay %s %s user \"%s\" lifetime %u",
	       what[ev->kind & 3], w->id, transport_name(ev->transport), client, r4, r6, ev->user,
	       ev->lifetime);
}

/* --- output --- */

/*
 * Group the queued datagrams by socket and, within a socket, by destination, keeping the order
 * of each (socket, destination) pair: a burst from a listener interleaves allocations, and the
 * platform sends a run to one destination as one GSO send. Returns false when already grouped.
 */
static bool group_out(struct worker *w, uint8_t *order)
{
	bool taken[RX_BURST] = { false };
	unsigned i, k, m, c = 0;
	bool moved = false;

	for (i = 0; i < w->nout; i++) {
		if (taken[i])
			continue;
		for (k = i; k < w->nout; k++) {
			if (taken[k] || w->out[k].s != w->out[i].s)
				continue;
			for (m = k; m < w->nout; m++) {
				if (taken[m] || w->out[m].s != w->out[i].s ||
				    !tp_addr_eq(&w->out[m].d.dst, &w->out[k].d.dst))
					continue;
				taken[m] = true;
				moved |= m != c;
				order[c++] = (uint8_t)m;
			}
		}
	}
	return moved;
}

static void flush_out(struct worker *w)
{
	uint8_t order[RX_BURST];
	bool reorder = w->nout > 2 && group_out(w, order);
	unsigned i = 0;

	while (i < w->nout) {
		unsigned j = i + 1, sent;
		tp_socket_t s = w->out[reorder ? order[i] : i].s;
		int rc;

		while (j < w->nout && w->out[reorder ? order[j] : j].s == s)
			j++;
		/* One batch per run of datagrams for the same socket. */
		{
			struct tp_dgram_out d[RX_BURST];

			for (unsigned k = i; k < j; k++)
				d[k - i] = w->out[reorder ? order[k] : k].d;
			sent = 0;
			while (sent < j - i) {
				rc = tp_udp_send_batch(s, d + sent, j - i - sent);
				if (rc == 0 || rc == -EAGAIN) {
					/* A full socket: drop the rest of this run, counted. */
					tp_stat_add(&w->tx_failed, j - i - sent);
					break;
				}
				if (rc < 0) {
					/* One datagram refused (an unreachable peer, a too-big
					 * datagram with DF): skip it, send the others. */
					tp_stat_add(&w->tx_failed, 1);
					sent++;
					continue;
				}
				sent += (unsigned)rc;
			}
		}
		i = j;
	}
	w->nout = 0;
}

static struct tp_dgram_out *queue_out(struct worker *w, tp_socket_t s)
{
	struct out *o;

	if (w->nout == RX_BURST)
		flush_out(w);
	o = &w->out[w->nout++];
	o->s = s;
	memset(&o->d, 0, sizeof(o->d));
	return &o->d;
}

/* The listener a reply or relayed data to a client leaves from. */
static struct lsock *listener_for(struct worker *w, const struct tp_addr *from)
{
	for (unsigned i = 0; i < w->nls; i++) {
		struct lsock *l = &w->ls[i];

		if (l->transport == TP_TRANSPORT_UDP && l->addr.family == from->family &&
		    l->addr.port == from->port)
			return l;
	}
	return NULL;
}

static struct conn *conn_get(struct worker *w, uint32_t id)
{
	if (id == 0 || id > w->nconns)
		return NULL;
	return w->conns[id - 1];
}

static void conn_close(struct worker *w, struct conn *c);
static void conn_flush(struct worker *w, struct conn *c);

/* Queue bytes on a stream connection; false when it is stuck (and was closed). */
static bool conn_queue(struct worker *w, struct conn *c, const struct tp_iov *iov, unsigned n)
{
	size_t total = 0;

	for (unsigned i = 0; i < n; i++)
		total += iov[i].len;
	if (!c->obuf) {
		c->obuf = malloc(CONN_OBUF);
		if (!c->obuf)
			return false;
	}
	if (c->olen + total > CONN_OBUF) {
		/* The client does not read: drop what does not fit, counted like a full socket. */
		tp_stat_add(&w->tx_failed, 1);
		return false;
	}
	for (unsigned i = 0; i < n; i++) {
		memcpy(c->obuf + c->olen, iov[i].base, iov[i].len);
		c->olen += iov[i].len;
	}
	conn_flush(w, c);
	return true;
}

static void send_to_client_stream(struct worker *w, const struct tp_verdict *v,
				  const struct tp_iov *iov, unsigned n)
{
	struct conn *c = conn_get(w, v->conn);

	if (!c || c->closing) {
		tp_stat_add(&w->tx_failed, 1);
		return;
	}
	conn_queue(w, c, iov, n);
}

static void execute(struct worker *w, const struct tp_pkt *pkt, const struct tp_verdict *v)
{
	struct tp_iov iov[3];
	unsigned n = 0;

	if (v->kind == TP_VERDICT_REPLY) {
		iov[n].base = pkt->reply_buf;
		iov[n++].len = v->len;
	} else {
		if (v->head_len) {
			iov[n].base = v->head;
			iov[n++].len = v->head_len;
		}
		iov[n].base = pkt->data + v->off;
		iov[n++].len = v->len;
		if (v->tail_len) {
			iov[n].base = v->tail;
			iov[n++].len = v->tail_len;
		}
	}

	if (v->flags & TP_VF_TO_PEER) {
		struct relay_slot *r = &w->relays[v->from.port - w->dp->conf.port_min];
		unsigned f = fam_index(v->from.family);
		bool df = (v->flags & TP_VF_DF) != 0;
		struct tp_dgram_out *d;

		if (r->s[f] == TP_SOCKET_INVALID) {
			tp_stat_add(&w->tx_failed, 1);
			return;
		}
		/* DONT-FRAGMENT (RFC 8656 §7.2): set DF on the relay socket, a syscall only when
		 * the wanted state changes. */
		if (r->df[f] != df) {
			flush_out(w);
			if (tp_sock_set_df(r->s[f], v->from.family, df) == 0)
				r->df[f] = df;
		}
		d = queue_out(w, r->s[f]);
		memcpy(d->iov, iov, sizeof(iov[0]) * n);
		d->iovcnt = n;
		d->dst = v->to;
		return;
	}
	if (v->transport != TP_TRANSPORT_UDP) {
		send_to_client_stream(w, v, iov, n);
		return;
	}
	{
		struct lsock *l = listener_for(w, &v->from);
		struct tp_dgram_out *d;

		if (!l) {
			tp_stat_add(&w->tx_failed, 1);
			return;
		}
		d = queue_out(w, l->s);
		memcpy(d->iov, iov, sizeof(iov[0]) * n);
		d->iovcnt = n;
		d->dst = v->to;
		d->src = v->from; /* a wildcard listener answers from the address asked */
	}
}

static void run_burst(struct worker *w, unsigned n)
{
	tp_engine_process(w->eng, w->pkts, w->v, n, &w->clock);
	for (unsigned i = 0; i < n; i++)
		if (w->v[i].kind != TP_VERDICT_DROP)
			execute(w, &w->pkts[i], &w->v[i]);
	flush_out(w);
}

/* --- datagram input --- */

static void udp_input(struct worker *w, tp_socket_t s, const struct tp_addr *local, uint8_t origin)
{
	/* Bounded, so one busy socket cannot starve the others. */
	for (unsigned round = 0; round < 8; round++) {
		int n = tp_udp_recv_batch(s, local, w->rx, RX_BURST);
		unsigned k = 0;

		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct tp_pkt *p = &w->pkts[k];

			if (w->rx[i].flags & TP_DGRAM_TRUNC)
				continue; /* never relay a cut datagram */
			p->data = w->rx[i].buf;
			p->len = w->rx[i].len;
			p->origin = origin;
			p->transport = TP_TRANSPORT_UDP;
			p->conn = 0;
			p->src = w->rx[i].src;
			p->dst = w->rx[i].dst.family ? w->rx[i].dst : *local;
			p->reply_buf = w->replybuf + (size_t)k * REPLY_CAP;
			p->reply_cap = REPLY_CAP;
			k++;
		}
		run_burst(w, k);
		if (n < RX_BURST)
			return;
	}
}

/* --- stream connections --- */

static void conn_close(struct worker *w, struct conn *c)
{
	tp_engine_conn_closed(w->eng, c->transport, &c->peer, &c->local, &w->clock);
	tp_poller_del(w->poller, c->s);
	if (c->ssl)
		tp_tls_free(c->ssl);
	tp_sock_close(c->s);
	w->conns[c->id - 1] = NULL;
	w->live_conns--;
	free(c->obuf);
	free(c);
}

static long conn_write_raw(struct conn *c, const void *p, size_t n)
{
	return c->ssl ? tp_tls_write(c->ssl, p, n) : tp_sock_send(c->s, p, n);
}

static void conn_flush(struct worker *w, struct conn *c)
{
	size_t done = 0;

	if (c->handshaking)
		return;
	while (done < c->olen) {
		long rc = conn_write_raw(c, c->obuf + done, c->olen - done);

		if (rc == -EAGAIN)
			break;
		if (rc <= 0) {
			c->closing = true;
			break;
		}
		done += (size_t)rc;
	}
	if (done) {
		memmove(c->obuf, c->obuf + done, c->olen - done);
		c->olen -= done;
	}
	tp_poller_mod(w->poller, c->s, TP_POLL_IN | (c->olen ? TP_POLL_OUT : 0), &c->tag);
}

static void conn_frames(struct worker *w, struct conn *c)
{
	const uint8_t *frame;
	size_t len;
	int rc;

	while ((rc = tp_framer_next(&c->fr, &frame, &len)) == 1) {
		struct tp_pkt *p = &w->pkts[0];

		p->data = frame;
		p->len = (uint32_t)len;
		p->origin = TP_PKT_FROM_CLIENT;
		p->transport = c->transport;
		p->conn = c->id;
		p->src = c->peer;
		p->dst = c->local;
		p->reply_buf = w->replybuf;
		p->reply_cap = REPLY_CAP;
		run_burst(w, 1);
		if (c->closing)
			return;
	}
	if (rc < 0)
		c->closing = true; /* RFC 8656 §12.5: a stream that is not TURN is closed */
}

static void conn_input(struct worker *w, struct conn *c)
{
	for (unsigned round = 0; round < 16 && !c->closing; round++) {
		size_t avail;
		uint8_t *dst = tp_framer_space(&c->fr, &avail);
		long n;

		if (avail == 0) {
			c->closing = true;
			break;
		}
		n = c->ssl ? tp_tls_read(c->ssl, dst, avail) : tp_sock_recv(c->s, dst, avail);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			c->closing = true;
			break;
		}
		tp_framer_commit(&c->fr, (size_t)n);
		conn_frames(w, c);
	}
}

static void conn_event(struct worker *w, struct conn *c, unsigned events)
{
	if (c->handshaking) {
		int rc = tp_tls_handshake(c->ssl);

		if (rc < 0) {
			conn_close(w, c);
			return;
		}
		if (rc == 0)
			return;
		c->handshaking = false;
	}
	if (events & (TP_POLL_IN | TP_POLL_HUP | TP_POLL_ERR))
		conn_input(w, c);
	if (!c->closing && c->olen)
		conn_flush(w, c);
	if (c->closing)
		conn_close(w, c);
}

static void tcp_accept(struct worker *w, struct lsock *l)
{
	for (unsigned round = 0; round < 32; round++) {
		struct tp_addr peer, local;
		tp_socket_t s;
		struct conn *c;
		uint32_t slot;
		int rc = tp_tcp_accept(l->s, &s, &peer, &local);

		if (rc < 0)
			return;
		for (slot = 0; slot < w->nconns && w->conns[slot]; slot++)
			;
		if (slot == w->nconns) {
			if (w->nconns == w->conn_cap) {
				uint32_t cap = w->conn_cap ? w->conn_cap * 2 : 64;
				struct conn **n = realloc(w->conns, cap * sizeof(*n));

				if (!n) {
					tp_sock_close(s);
					return;
				}
				w->conns = n;
				w->conn_cap = cap;
			}
			w->conns[w->nconns++] = NULL;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			tp_sock_close(s);
			return;
		}
		c->s = s;
		c->id = slot + 1;
		c->transport = l->transport;
		c->peer = peer;
		c->local = local;
		c->tag.kind = EV_CONN;
		c->tag.idx = c->id;
		tp_framer_init(&c->fr, c->rbuf, sizeof(c->rbuf));
		if (l->tls) {
			c->ssl = tp_tls_new(l->tls, s);
			c->handshaking = true;
			if (!c->ssl) {
				tp_sock_close(s);
				free(c);
				continue;
			}
		}
		if (tp_poller_add(w->poller, s, TP_POLL_IN, &c->tag) < 0) {
			tp_tls_free(c->ssl);
			tp_sock_close(s);
			free(c);
			continue;
		}
		w->conns[slot] = c;
		w->live_conns++;
		if (c->handshaking)
			conn_event(w, c, TP_POLL_IN);
	}
}

/* --- the loop --- */

static void take_policy(struct worker *w)
{
	const struct tp_engine_policy *want = atomic_load_explicit(&w->want, memory_order_acquire);

	if (want != atomic_load_explicit(&w->seen, memory_order_relaxed)) {
		tp_engine_set_policy(w->eng, want);
		atomic_store_explicit(&w->seen, want, memory_order_release);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct tp_poll_event ev[POLL_EVENTS];
	uint64_t last_tick = 0;

	while (!atomic_load_explicit(&w->dp->stop, memory_order_relaxed)) {
		int n = tp_poller_wait(w->poller, ev, POLL_EVENTS, POLL_TIMEOUT);

		w->clock.mono_ms = tp_time_mono_ms();
		w->clock.unix_s = tp_time_unix_s();
		take_policy(w);
		for (int i = 0; i < n; i++) {
			struct ev_tag *t = ev[i].data;

			switch (t->kind) {
			case EV_UDP_LISTEN:
				udp_input(w, w->ls[t->idx].s, &w->ls[t->idx].addr,
					  TP_PKT_FROM_CLIENT);
				break;
			case EV_TCP_LISTEN:
				tcp_accept(w, &w->ls[t->idx]);
				break;
			case EV_RELAY: {
				struct relay_slot *r = &w->relays[t->port - w->dp->conf.port_min];
				struct tp_addr local = t->family == TP_AF_INET ? w->dp->conf.relay4
									       : w->dp->conf.relay6;

				local.port = t->port;
				if (r->s[fam_index(t->family)] != TP_SOCKET_INVALID)
					udp_input(w, r->s[fam_index(t->family)], &local,
						  TP_PKT_FROM_PEER);
				break;
			}
			case EV_CONN: {
				struct conn *c = conn_get(w, t->idx);

				if (c)
					conn_event(w, c, ev[i].events);
				break;
			}
			}
		}
		if (w->clock.mono_ms - last_tick >= 250) {
			tp_engine_tick(w->eng, &w->clock);
			last_tick = w->clock.mono_ms;
		}
	}
	return NULL;
}

/* --- set-up and tear-down, called from the control thread --- */

int tp_worker_init(struct worker *w, struct tp_sockdp *dp, unsigned id,
		   const struct tp_engine_policy *pol, char *err, size_t errlen)
{
	const struct tp_sockdp_conf *c = &dp->conf;
	uint32_t range = (uint32_t)c->port_max - c->port_min + 1;
	struct tp_engine_ops ops = { relay_open, relay_close, on_event, w };
	unsigned flags = TP_SOCK_NONBLOCK | (dp->nworkers > 1 ? TP_SOCK_REUSEPORT : 0);
	uint32_t per_shard;

	w->dp = dp;
	w->id = id;
	atomic_init(&w->want, pol);
	atomic_init(&w->seen, pol);
	w->poller = tp_poller_create();
	w->relays = malloc(range * sizeof(*w->relays));
	w->ls = calloc(c->n_listeners, sizeof(*w->ls));
	w->rxbuf = malloc((size_t)RX_BURST * RX_BUF);
	w->replybuf = calloc(RX_BURST, REPLY_CAP);
	if (!w->poller || !w->relays || !w->ls || !w->rxbuf || !w->replybuf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < range; i++) {
		w->relays[i].s[0] = w->relays[i].s[1] = TP_SOCKET_INVALID;
		w->relays[i].df[0] = w->relays[i].df[1] = false;
	}
	for (unsigned i = 0; i < RX_BURST; i++) {
		w->rx[i].buf = w->rxbuf + (size_t)i * RX_BUF;
		w->rx[i].cap = RX_BUF;
	}
	for (unsigned i = 0; i < c->n_listeners; i++) {
		const struct tp_sockdp_listener *sl = &c->listeners[i];
		struct lsock *l = &w->ls[w->nls];
		char text[TP_ADDR_STRLEN];
		int rc;

		l->addr = sl->addr;
		l->transport = sl->transport;
		l->tls = dp->tls_ctx[i];
		if (sl->transport == TP_TRANSPORT_UDP)
			rc = tp_udp_open(&sl->addr, flags, &l->s);
		else
			rc = tp_tcp_listen(&sl->addr, flags, 1024, &l->s);
		if (rc < 0) {
			tp_addr_format(&sl->addr, text, sizeof(text), true);
			snprintf(err, errlen, "cannot listen on %s %s: %s",
				 transport_name(sl->transport), text, tp_strerror(rc));
			return rc;
		}
		if (sl->transport == TP_TRANSPORT_UDP)
			tp_sock_set_buffers(l->s, 4 << 20, 4 << 20);
		l->tag.kind = sl->transport == TP_TRANSPORT_UDP ? EV_UDP_LISTEN : EV_TCP_LISTEN;
		l->tag.idx = w->nls;
		w->nls++;
		rc = tp_poller_add(w->poller, l->s, TP_POLL_IN, &l->tag);
		if (rc < 0) {
			snprintf(err, errlen, "poller: %s", tp_strerror(rc));
			return rc;
		}
	}
	/* Each allocation holds a relay port: a shard never needs more than its share. */
	per_shard = range / dp->nworkers + 2;
	if (c->max_allocations && c->max_allocations < per_shard)
		per_shard = c->max_allocations;
	w->eng = tp_engine_create(dp->sh, pol, id, dp->nworkers, per_shard, &ops);
	if (!w->eng) {
		snprintf(err, errlen, "cannot create engine shard %u", id);
		return -ENOMEM;
	}
	return 0;
}

int tp_worker_start(struct worker *w)
{
	char name[16];

	snprintf(name, sizeof(name), "tp-worker-%u", w->id);
	return tp_thread_start(&w->th, worker_main, w, name);
}

void tp_worker_join(struct worker *w)
{
	tp_thread_join(&w->th, NULL);
}

void tp_worker_fini(struct worker *w)
{
	if (w->eng) {
		tp_engine_destroy(w->eng); /* closes the relay sockets through relay_close */
		w->eng = NULL;
	}
	for (uint32_t i = 0; i < w->nconns; i++) {
		struct conn *c = w->conns[i];

		if (c) {
			if (c->ssl)
				tp_tls_free(c->ssl);
			tp_sock_close(c->s);
			free(c->obuf);
			free(c);
		}
	}
	free(w->conns);
	for (unsigned i = 0; i < w->nls; i++)
		tp_sock_close(w->ls[i].s);
	free(w->ls);
	free(w->relays);
	free(w->rxbuf);
	free(w->replybuf);
	if (w->poller)
		tp_poller_destroy(w->poller);
	memset(w, 0, sizeof(*w));
}
