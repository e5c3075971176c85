/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket data plane's control side: start and stop the workers, hand them policies, and
 * add up their counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/log.h>

#include "sockdp_int.h"

unsigned tp_sockdp_workers(const struct tp_sockdp *dp)
{
	return dp->nworkers;
}

static void free_plane(struct tp_sockdp *dp)
{
	if (dp->workers) {
		for (unsigned i = 0; i < dp->nworkers; i++)
			tp_worker_fini(&dp->workers[i]);
		free(dp->workers);
	}
	if (dp->tls_ctx) {
		for (unsigned i = 0; i < dp->conf.n_listeners; i++)
			if (dp->tls_ctx[i])
				tp_tls_ctx_destroy(dp->tls_ctx[i]);
		free(dp->tls_ctx);
	}
	free(dp->listeners);
	free(dp);
}

struct tp_sockdp *tp_sockdp_start(const struct tp_sockdp_conf *conf, struct tp_engine_shared *sh,
				  const struct tp_engine_policy *pol, char *err, size_t errlen)
{
	struct tp_sockdp *dp = calloc(1, sizeof(*dp));
	unsigned started = 0;

	if (!dp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dp->conf = *conf;
	dp->sh = sh;
	dp->listeners = calloc(conf->n_listeners ? conf->n_listeners : 1, sizeof(*dp->listeners));
	dp->tls_ctx = calloc(conf->n_listeners ? conf->n_listeners : 1, sizeof(*dp->tls_ctx));
	if (!dp->listeners || !dp->tls_ctx) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(dp->listeners, conf->listeners, conf->n_listeners * sizeof(*dp->listeners));
	dp->conf.listeners = dp->listeners;

	/* DESIGN §4: one listener per worker through SO_REUSEPORT, or a single shard. */
	dp->nworkers = conf->workers ? conf->workers : 1;
	if (dp->nworkers > 1 && !tp_net_have_reuseport()) {
		tp_log(TP_LOG_WARN,
		       "no load-balancing SO_REUSEPORT on this platform: running 1 worker, not %u",
		       dp->nworkers);
		dp->nworkers = 1;
	}
	for (unsigned i = 0; i < conf->n_listeners; i++) {
		if (conf->listeners[i].transport != TP_TRANSPORT_TLS)
			continue;
		dp->tls_ctx[i] = tp_tls_ctx_create(conf->listeners[i].cert, conf->listeners[i].key,
						   err, errlen);
		if (!dp->tls_ctx[i])
			goto fail;
	}
	dp->workers = calloc(dp->nworkers, sizeof(*dp->workers));
	if (!dp->workers) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < dp->nworkers; i++)
		if (tp_worker_init(&dp->workers[i], dp, i, pol, err, errlen) < 0)
			goto fail;
	for (; started < dp->nworkers; started++) {
		if (tp_worker_start(&dp->workers[started]) < 0) {
			snprintf(err, errlen, "cannot start worker thread %u", started);
			goto stop;
		}
	}
	tp_log(TP_LOG_INFO, "socket data plane: %u worker%s, %s poller, %s listeners", dp->nworkers,
	       dp->nworkers == 1 ? "" : "s", tp_poller_name(),
	       dp->nworkers > 1 ? "SO_REUSEPORT" : "single");
	return dp;
stop:
	atomic_store(&dp->stop, true);
	for (unsigned i = 0; i < started; i++)
		tp_worker_join(&dp->workers[i]);
fail:
	free_plane(dp);
	return NULL;
}

void tp_sockdp_set_policy(struct tp_sockdp *dp, const struct tp_engine_policy *pol)
{
	for (unsigned i = 0; i < dp->nworkers; i++)
		atomic_store_explicit(&dp->workers[i].want, pol, memory_order_release);
	/* Quiescent state: each worker switches at the top of its loop (POLL_TIMEOUT ms). */
	for (unsigned i = 0; i < dp->nworkers; i++)
		while (atomic_load_explicit(&dp->workers[i].seen, memory_order_acquire) != pol)
			tp_sleep_ms(5);
}

void tp_sockdp_stats(const struct tp_sockdp *dp, struct tp_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned w = 0; w < dp->nworkers; w++)
		tp_stats_add(sum, tp_engine_stats(dp->workers[w].eng));
}

void tp_sockdp_stop(struct tp_sockdp *dp)
{
	if (!dp)
		return;
	atomic_store(&dp->stop, true);
	for (unsigned i = 0; i < dp->nworkers; i++)
		tp_worker_join(&dp->workers[i]);
	free_plane(dp);
}
