/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK plane's control side: start and stop, workers on lcores (SKIP_MAIN: the main lcore
 * stays the control thread), policy hand-over through RCU, counters, and the allocation events
 * the workers queue for the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <tp_build.h>
#include <turnpike/log.h>

#if TP_HAVE_NUMA
#include <numa.h>
#endif

#include "dpdkdp_int.h"

static const char *const drop_names[] = {
#define TP_DPDKDP_X(name, desc) #name,
	TP_DPDKDP_DROPS(TP_DPDKDP_X)
#undef TP_DPDKDP_X
};

static const char *const counter_names[] = {
#define TP_DPDKDP_X(name, desc) #name,
	TP_DPDKDP_COUNTERS(TP_DPDKDP_X)
#undef TP_DPDKDP_X
};

const char *tp_dpdkdp_drop_name(unsigned reason)
{
	return reason < TP_DPDKDP_DROP_COUNT ? drop_names[reason] : "?";
}

const char *tp_dpdkdp_counter_name(unsigned ctr)
{
	return ctr < TP_DPDKDP_CTR_COUNT ? counter_names[ctr] : "?";
}

unsigned tp_dpdkdp_workers(const struct tp_dpdkdp *dp)
{
	return dp->nworkers;
}

bool tp_dpdkdp_flow_steering(const struct tp_dpdkdp *dp)
{
	bool any = false;

	for (unsigned i = 0; i < dp->n_ports; i++) {
		const struct tp_dp_port *p = &dp->ports[i];
		bool has_relay = (dp->conf.relay4.family &&
				  tp_dp_port_has_ip(p, TP_AF_INET, dp->conf.relay4.ip)) ||
				 (dp->conf.relay6.family &&
				  tp_dp_port_has_ip(p, TP_AF_INET6, dp->conf.relay6.ip));

		if (has_relay && !p->flow)
			return false;
		any |= has_relay;
	}
	return any;
}

/* --- allocation events: worker -> ring -> control thread's log --- */

static void on_event(void *ctx, const struct tp_engine_event *ev)
{
	struct tp_dp_worker *w = ctx;
	struct tp_dp_event e;
	uint32_t raw[TP_DP_EVENT_WORDS];

	memset(&e, 0, sizeof(e));
	e.kind = (uint8_t)ev->kind;
	e.transport = ev->transport;
	e.worker = (uint16_t)w->id;
	e.lifetime = ev->lifetime;
	e.client = ev->client;
	e.relay4 = ev->relay4;
	e.relay6 = ev->relay6;
	snprintf(e.user, sizeof(e.user), "%s", ev->user ? ev->user : "");
	memcpy(raw, &e, sizeof(raw));
	if (rte_ring_sp_enqueue_elem(w->events, raw, sizeof(raw)) != 0)
		tp_dp_count(w, TP_DPDKDP_CTR_EVENTS_LOST, 1);
}

void tp_dpdkdp_service(struct tp_dpdkdp *dp)
{
	static const char *const what[] = { "created", "refreshed", "deleted", "expired" };

	for (unsigned i = 0; dp->workers && i < dp->nworkers; i++) {
		uint32_t raw[TP_DP_EVENT_WORDS];

		while (rte_ring_sc_dequeue_elem(dp->workers[i].events, raw, sizeof(raw)) == 0) {
			char client[TP_ADDR_STRLEN], r4[TP_ADDR_STRLEN] = "-",
						     r6[TP_ADDR_STRLEN] = "-";
			struct tp_dp_event e;
			enum tp_log_level level;

			memcpy(&e, raw, sizeof(e));
			level = e.kind == TP_EVENT_ALLOC_REFRESHED ? TP_LOG_DEBUG : TP_LOG_INFO;
			if (!tp_log_enabled(level))
				continue;
			tp_addr_format(&e.client, client, sizeof(client), true);
			if (e.relay4.family)
				tp_addr_format(&e.relay4, r4, sizeof(r4), true);
			if (e.relay6.family)
				tp_addr_format(&e.relay6, r6, sizeof(r6), true);
			tp_log(level,
			       "allocation %s: worker %u udp client %s relay %s %s user \"%s\" "
			       "lifetime %u",
			       what[e.kind & 3], e.worker, client, r4, r6, e.user, e.lifetime);
		}
	}
}

/* --- counters --- */

void tp_dpdkdp_stats(const struct tp_dpdkdp *dp, struct tp_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned w = 0; w < dp->nworkers; w++)
		tp_stats_add(sum, tp_engine_stats(dp->workers[w].eng));
}

void tp_dpdkdp_counters(const struct tp_dpdkdp *dp, int worker, struct tp_dpdkdp_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < dp->nworkers; w++) {
		if (worker >= 0 && (unsigned)worker != w)
			continue;
		for (unsigned i = 0; i < TP_DPDKDP_CTR_COUNT; i++)
			out->ctr[i] += tp_stat_read(&dp->workers[w].ctr[i]);
		for (unsigned i = 0; i < TP_DPDKDP_DROP_COUNT; i++)
			out->drop[i] += tp_stat_read(&dp->workers[w].drop[i]);
	}
}

uint64_t tp_dpdkdp_allocations(const struct tp_dpdkdp *dp, int worker)
{
	uint64_t n = 0;

	for (unsigned w = 0; w < dp->nworkers; w++)
		if (worker < 0 || (unsigned)worker == w)
			n += tp_stat_read(&tp_engine_stats(dp->workers[w].eng)->allocations);
	return n;
}

void tp_dpdkdp_test_tx_offload(struct tp_dpdkdp *dp, bool on)
{
	dp->force_offload = on ? 1 : 0;
}

/* --- policy --- */

void tp_dpdkdp_set_policy(struct tp_dpdkdp *dp, const struct tp_engine_policy *pol)
{
	uint64_t token;

	atomic_store_explicit(&dp->policy, pol, memory_order_release);
	if (!dp->launched) {
		/* No worker thread runs (tests drive them): switch them here. */
		for (unsigned i = 0; i < dp->nworkers; i++) {
			tp_engine_set_policy(dp->workers[i].eng, pol);
			dp->workers[i].pol = pol;
		}
		return;
	}
	/* Each worker takes the new pointer at the top of its loop and reports a quiescent state
	 * at the bottom; a report after this token means it has switched. */
	token = rte_rcu_qsbr_start(dp->qs);
	rte_rcu_qsbr_check(dp->qs, token, true);
}

/* --- start and stop --- */

static void now_ms(uint64_t *mono, uint64_t *unix_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	*mono = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	*unix_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void free_ring_mbufs(struct rte_ring *r)
{
	void *m;

	if (!r)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

static void free_plane(struct tp_dpdkdp *dp)
{
	if (dp->workers) {
		for (unsigned i = 0; i < dp->nworkers; i++) {
			struct tp_dp_worker *w = &dp->workers[i];

			for (unsigned p = 0; p < dp->n_ports; p++) {
				for (unsigned j = 0; j < w->tx[p].n; j++)
					rte_pktmbuf_free(w->tx[p].m[j]);
				w->tx[p].n = 0;
				tp_nbr_fini(&w->nbr[p]);
			}
			if (w->eng)
				tp_engine_destroy(w->eng);
			rte_ring_free(w->events);
			rte_ring_free(w->neigh);
		}
	}
	for (unsigned s = 0; s < TP_DP_MAX_WORKERS; s++)
		for (unsigned d = 0; d < TP_DP_MAX_WORKERS; d++)
			free_ring_mbufs(dp->steer[s][d]);
	rte_free(dp->workers);
	rte_free(dp->qs);
	free(dp);
}

/* Every listening and relay address must belong to a port (wildcard listeners excepted). */
static int check_addresses(const struct tp_dpdkdp *dp, char *err, size_t errlen)
{
	static const uint8_t zero[16];
	char text[TP_ADDR_STRLEN];

	for (unsigned i = 0; i < dp->conf.n_listen; i++) {
		const struct tp_addr *l = &dp->listen[i];

		if (memcmp(l->ip, zero, tp_addr_iplen(l)) == 0)
			continue;
		if (tp_dp_port_of_addr(dp, l) == TP_DP_NO_PORT) {
			tp_addr_format(l, text, sizeof(text), true);
			snprintf(err, errlen,
				 ".listen: %s is not an address of any dataplane.dpdk.ports[]",
				 text);
			return -EINVAL;
		}
	}
	for (unsigned f = 0; f < 2; f++) {
		const struct tp_addr *r = f ? &dp->conf.relay6 : &dp->conf.relay4;

		if (r->family && tp_dp_port_of_addr(dp, r) == TP_DP_NO_PORT) {
			tp_addr_format(r, text, sizeof(text), false);
			snprintf(err, errlen,
				 ".relay.%s: %s is not an address of any dataplane.dpdk.ports[]",
				 f ? "address6" : "address", text);
			return -EINVAL;
		}
	}
	return 0;
}

static int workers_create(struct tp_dpdkdp *dp, const struct tp_engine_policy *pol, char *err,
			  size_t errlen)
{
	uint32_t range = (uint32_t)dp->conf.port_max - dp->conf.port_min + 1;
	uint32_t per_shard = range / dp->nworkers + 2;
	unsigned lcore = 0;
	int socket = (int)rte_socket_id();

	if (dp->conf.max_allocations && dp->conf.max_allocations < per_shard)
		per_shard = dp->conf.max_allocations;
	dp->workers =
		rte_zmalloc("tp_workers", dp->nworkers * sizeof(*dp->workers), RTE_CACHE_LINE_SIZE);
	if (!dp->workers) {
		snprintf(err, errlen, "out of memory for %u workers", dp->nworkers);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct tp_dp_worker *w = &dp->workers[i];
		struct tp_engine_ops ops = { NULL, NULL, on_event, w };
		char name[RTE_RING_NAMESIZE];

		w->dp = dp;
		w->id = i;
		w->pol = pol;
		w->clock.mono_ms = dp->base_mono_ms;
		w->clock.unix_s = dp->base_unix_ms / 1000;
		w->tsc_clock = w->tsc_drain = w->tsc_tick = w->tsc_sweep = dp->base_tsc;
		if (!(dp->conf.flags & TP_DPDKDP_F_MANUAL)) {
			lcore = rte_get_next_lcore(i == 0 ? (unsigned)-1 : lcore, 1, 0);
			w->lcore = lcore;
		}
		w->eng = tp_engine_create(dp->sh, pol, i, dp->nworkers, per_shard, &ops);
		snprintf(name, sizeof(name), "tp_ev%u", i);
		w->events = rte_ring_create_elem(name, sizeof(struct tp_dp_event), TP_DP_EVENT_RING,
						 socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "tp_nb%u", i);
		w->neigh = rte_ring_create_elem(name, sizeof(struct tp_dp_neigh_msg),
						TP_DP_NEIGH_RING, socket, RING_F_SC_DEQ);
		if (!w->eng || !w->events || !w->neigh) {
			snprintf(err, errlen, "worker %u: cannot create its engine shard or rings",
				 i);
			return -ENOMEM;
		}
		for (unsigned p = 0; p < dp->n_ports; p++)
			if (tp_nbr_init(&w->nbr[p], TP_DP_NBR_ENTRIES, tp_dp_l2_release, w) < 0) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
	}
	/* RX queues shared out: worker w polls queue q of each port when q % workers == w. */
	for (unsigned p = 0; p < dp->n_ports; p++) {
		for (uint16_t q = 0; q < dp->ports[p].nb_q; q++) {
			struct tp_dp_worker *w = &dp->workers[q % dp->nworkers];

			if (w->n_rxq == TP_DP_MAX_RXQ) {
				snprintf(err, errlen, "more than %u RX queues for one worker",
					 TP_DP_MAX_RXQ);
				return -EINVAL;
			}
			w->rxq[w->n_rxq].port = (uint8_t)p;
			w->rxq[w->n_rxq].queue = q;
			w->n_rxq++;
			if (!(dp->conf.flags & TP_DPDKDP_F_MANUAL) && dp->ports[p].socket >= 0 &&
			    (unsigned)dp->ports[p].socket != rte_lcore_to_socket_id(w->lcore))
				tp_log(TP_LOG_WARN,
				       "worker %u on lcore %u (NUMA socket %u) serves port %s on "
				       "socket %d: every packet crosses the interconnect",
				       w->id, w->lcore, rte_lcore_to_socket_id(w->lcore),
				       dp->ports[p].name, dp->ports[p].socket);
		}
	}
	for (unsigned s = 0; s < dp->nworkers; s++) {
		for (unsigned d = 0; d < dp->nworkers; d++) {
			char name[RTE_RING_NAMESIZE];

			if (s == d)
				continue;
			snprintf(name, sizeof(name), "tp_st%u_%u", s, d);
			dp->steer[s][d] = rte_ring_create(name, TP_DP_STEER_RING, socket,
							  RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!dp->steer[s][d]) {
				snprintf(err, errlen, "cannot create hand-off ring %s: %s", name,
					 rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
	}
	return 0;
}

static int rcu_create(struct tp_dpdkdp *dp, char *err, size_t errlen)
{
	size_t sz = rte_rcu_qsbr_get_memsize(dp->nworkers);

	dp->qs = rte_zmalloc("tp_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (!dp->qs || rte_rcu_qsbr_init(dp->qs, dp->nworkers) != 0) {
		snprintf(err, errlen, "cannot set up RCU for %u workers", dp->nworkers);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < dp->nworkers; i++)
		rte_rcu_qsbr_thread_register(dp->qs, i);
	return 0;
}

struct tp_dpdkdp *tp_dpdkdp_start(const struct tp_dpdkdp_conf *conf, struct tp_engine_shared *sh,
				  const struct tp_engine_policy *pol, char *err, size_t errlen)
{
	struct tp_dpdkdp *dp = calloc(1, sizeof(*dp));
	bool manual = conf->flags & TP_DPDKDP_F_MANUAL;

	if (!dp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dp->conf = *conf;
	dp->sh = sh;
	dp->nworkers = conf->workers ? conf->workers : 1;
	dp->conf.burst = conf->burst ? conf->burst : 32;
	if (dp->conf.burst > TP_DP_BURST_MAX)
		dp->conf.burst = TP_DP_BURST_MAX;
	dp->sw_cksum = conf->flags & TP_DPDKDP_F_SW_CKSUM;
	dp->force_offload = -1;
	atomic_init(&dp->policy, pol);
	if (conf->n_listen > sizeof(dp->listen) / sizeof(dp->listen[0]) ||
	    dp->nworkers > TP_DP_MAX_WORKERS) {
		snprintf(err, errlen, "at most %zu UDP listeners and %u workers",
			 sizeof(dp->listen) / sizeof(dp->listen[0]), TP_DP_MAX_WORKERS);
		goto fail;
	}
	if (conf->n_listen)
		memcpy(dp->listen, conf->listen, conf->n_listen * sizeof(dp->listen[0]));
	dp->conf.listen = dp->listen;
	if (!manual && rte_lcore_count() < dp->nworkers + 1) {
		snprintf(err, errlen,
			 ".dataplane.workers is %u but the EAL has %u lcore%s: give it one main "
			 "lcore plus one per worker (e.g. -l 0-%u)",
			 dp->nworkers, rte_lcore_count(), rte_lcore_count() == 1 ? "" : "s",
			 dp->nworkers);
		goto fail;
	}
	dp->tsc_hz = rte_get_tsc_hz();
	dp->tsc_per_ms = dp->tsc_hz / 1000 ? dp->tsc_hz / 1000 : 1;
	dp->tsc_drain = (dp->tsc_hz + 999999) / 1000000 * TP_DP_DRAIN_US;
	now_ms(&dp->base_mono_ms, &dp->base_unix_ms);
	dp->base_tsc = rte_rdtsc();

	dp->conf.ports = conf->ports; /* read during start-up only */
	if (tp_dp_ports_start(dp, err, errlen) < 0)
		goto fail;
	dp->conf.ports = NULL;
	dp->conf.macs = NULL;
	if (check_addresses(dp, err, errlen) < 0 || rcu_create(dp, err, errlen) < 0 ||
	    workers_create(dp, pol, err, errlen) < 0)
		goto fail;
#if TP_HAVE_NUMA
	if (numa_available() >= 0 && numa_num_configured_nodes() > 1)
		tp_log(TP_LOG_INFO, "NUMA: %d nodes; mbuf pools are per socket",
		       numa_num_configured_nodes());
#endif
	tp_dp_telemetry_attach(dp);
	if (!manual) {
		for (unsigned i = 0; i < dp->nworkers; i++) {
			int rc = rte_eal_remote_launch(tp_dp_worker_main, &dp->workers[i],
						       dp->workers[i].lcore);

			if (rc != 0) {
				snprintf(err, errlen, "cannot launch worker %u on lcore %u: %s", i,
					 dp->workers[i].lcore, rte_strerror(-rc));
				atomic_store(&dp->stop, true);
				for (unsigned j = 0; j < i; j++)
					rte_eal_wait_lcore(dp->workers[j].lcore);
				tp_dp_telemetry_detach(dp);
				goto fail;
			}
		}
		dp->launched = true;
	}
	tp_log(TP_LOG_INFO, "DPDK data plane: %u worker%s%s, %u port%s, relay ports steered by %s",
	       dp->nworkers, dp->nworkers == 1 ? "" : "s", manual ? " (driven by the caller)" : "",
	       dp->n_ports, dp->n_ports == 1 ? "" : "s",
	       dp->nworkers == 1	     ? "nothing (one worker)"
	       : tp_dpdkdp_flow_steering(dp) ? "rte_flow rules"
					     : "hand-off rings");
	return dp;
fail:
	tp_dp_ports_stop(dp);
	free_plane(dp);
	return NULL;
}

unsigned tp_dpdkdp_poll_once(struct tp_dpdkdp *dp, unsigned worker)
{
	struct tp_dp_worker *w;
	unsigned n;

	if (worker >= dp->nworkers || dp->launched)
		return 0;
	w = &dp->workers[worker];
	n = tp_dp_worker_poll(w);
	tp_dp_flush(w);
	return n;
}

void tp_dpdkdp_stop(struct tp_dpdkdp *dp)
{
	if (!dp)
		return;
	tp_dp_telemetry_detach(dp);
	atomic_store(&dp->stop, true);
	if (dp->launched)
		for (unsigned i = 0; i < dp->nworkers; i++)
			rte_eal_wait_lcore(dp->workers[i].lcore);
	tp_dpdkdp_service(dp); /* the last events */
	tp_dp_ports_stop(dp);
	free_plane(dp);
}
