/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turnpike with dataplane.kind "dpdk": the EAL, the DPDK plane, and the control loop on the main
 * lcore (signals, reload through RCU, the metrics endpoint, the workers' allocation log).
 * Built only with DPDK; main.c calls tp_app_run_dpdk() for that kind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tp_build.h>
#include <turnpike/conf.h>
#include <turnpike/dpdkdp.h>
#include <turnpike/engine.h>
#include <turnpike/log.h>
#include <turnpike/metrics.h>
#include <turnpike/platform.h>

#include "params.h"

#define ERRLEN 1024

static void metrics_stats(void *ctx, struct tp_stats *sum)
{
	tp_dpdkdp_stats(ctx, sum);
}

static uint32_t metrics_workers(void *ctx)
{
	return tp_dpdkdp_workers(ctx);
}

static bool ports_same(const struct tp_conf_dpdk *a, const struct tp_conf_dpdk *b)
{
	if (a->n_ports != b->n_ports || a->n_eal != b->n_eal || a->mbufs != b->mbufs ||
	    a->burst != b->burst)
		return false;
	for (size_t i = 0; i < a->n_eal; i++)
		if (strcmp(a->eal[i], b->eal[i]) != 0)
			return false;
	for (size_t i = 0; i < a->n_ports; i++) {
		const struct tp_conf_dpdk_port *p = &a->ports[i], *q = &b->ports[i];

		if (strcmp(p->device, q->device) != 0 || p->n_addresses != q->n_addresses ||
		    !tp_addr_eq(&p->gateway4, &q->gateway4) ||
		    !tp_addr_eq(&p->gateway6, &q->gateway6) || p->mtu != q->mtu ||
		    p->queues != q->queues || p->rx_desc != q->rx_desc || p->tx_desc != q->tx_desc)
			return false;
		for (size_t j = 0; j < p->n_addresses; j++)
			if (!tp_addr_eq(&p->addresses[j].addr, &q->addresses[j].addr) ||
			    p->addresses[j].prefix != q->addresses[j].prefix)
				return false;
	}
	return true;
}

/* What a reload cannot change under running ports and lcores. */
static bool needs_restart(const struct tp_config *old, const struct tp_config *cur)
{
	if (old->n_listen != cur->n_listen || old->dataplane.kind != cur->dataplane.kind ||
	    old->dataplane.workers != cur->dataplane.workers ||
	    !tp_addr_eq(&old->relay.address, &cur->relay.address) ||
	    !tp_addr_eq(&old->relay.address6, &cur->relay.address6) ||
	    old->relay.port_min != cur->relay.port_min ||
	    old->relay.port_max != cur->relay.port_max ||
	    !ports_same(&old->dataplane.dpdk, &cur->dataplane.dpdk))
		return true;
	for (size_t i = 0; i < old->n_listen; i++)
		if (old->listen[i].transport != cur->listen[i].transport ||
		    !tp_addr_eq(&old->listen[i].addr, &cur->listen[i].addr))
			return true;
	return false;
}

static void reload(const char *path, struct tp_config **cfg, struct tp_engine_policy **pol,
		   struct tp_dpdkdp *dp)
{
	char err[ERRLEN] = "";
	struct tp_config *next = tp_config_load_file(path, err, sizeof(err));
	struct tp_engine_policy *np;

	if (!next) {
		tp_log(TP_LOG_ERROR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	if (needs_restart(*cfg, next)) {
		tp_log(TP_LOG_ERROR,
		       "reload refused, keeping the running configuration: %s changes listen, "
		       "relay "
		       "or dataplane settings, which need a restart",
		       path);
		tp_config_destroy(next);
		return;
	}
	np = tp_app_policy(next, err, sizeof(err));
	if (!np) {
		tp_log(TP_LOG_ERROR, "reload failed, keeping the running configuration: %s: %s",
		       path, err);
		tp_config_destroy(next);
		return;
	}
	if (next->metrics.enabled != (*cfg)->metrics.enabled ||
	    !tp_addr_eq(&next->metrics.listen, &(*cfg)->metrics.listen))
		tp_log(TP_LOG_WARN, "%s: .metrics changed; that needs a restart", path);
	tp_dpdkdp_set_policy(dp, np); /* returns once no worker can use the old policy (RCU) */
	tp_engine_policy_destroy(*pol);
	tp_config_destroy(*cfg);
	*pol = np;
	*cfg = next;
	tp_log_set_level((enum tp_log_level)next->log.level);
	tp_log(TP_LOG_INFO, "configuration reloaded from %s", path);
}

int tp_app_run_dpdk(const char *path, struct tp_config **cfgp, char *const *extra, int n_extra)
{
	const struct tp_conf_dpdk *d = &(*cfgp)->dataplane.dpdk;
	const char **args = calloc(d->n_eal + (size_t)n_extra + 1, sizeof(*args));
	struct tp_addr *udp = calloc((*cfgp)->n_listen + 1, sizeof(*udp));
	struct tp_metrics_source src = { metrics_stats, metrics_workers, NULL };
	struct tp_engine_policy *pol = NULL;
	struct tp_engine_shared *sh = NULL;
	struct tp_metrics *metrics = NULL;
	struct tp_dpdkdp *dp = NULL;
	struct tp_dpdkdp_conf dc;
	char err[ERRLEN] = "";
	unsigned n_args = 0, n_stream;
	int status = EXIT_FAILURE;
	bool eal = false, metrics_failed = false;

	if (!args || !udp) {
		fprintf(stderr, "turnpike: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < d->n_eal; i++)
		args[n_args++] = d->eal[i];
	for (int i = 0; i < n_extra; i++)
		args[n_args++] = extra[i];
	if (tp_dpdkdp_eal_init(args, n_args, err, sizeof(err)) < 0) {
		fprintf(stderr, "turnpike: %s\n", err);
		goto out;
	}
	eal = true;
	pol = tp_app_policy(*cfgp, err, sizeof(err));
	sh = tp_engine_shared_create((*cfgp)->dataplane.workers, NULL);
	if (!pol || !sh) {
		fprintf(stderr, "turnpike: %s: %s\n", path, pol ? "out of memory" : err);
		goto out;
	}
	if (tp_signals_init() < 0) {
		fprintf(stderr, "turnpike: cannot install signal handlers\n");
		goto out;
	}
	tp_app_dpdkdp_conf(*cfgp, udp, &dc, &n_stream);
	if (n_stream)
		/* DESIGN §6 puts them on socket shards in this process: not there yet. */
		tp_log(TP_LOG_WARN,
		       "%u TCP/TLS listener%s not served: the DPDK data plane relays UDP clients "
		       "only",
		       n_stream, n_stream == 1 ? " is" : "s are");
	dp = tp_dpdkdp_start(&dc, sh, pol, err, sizeof(err));
	if (!dp) {
		fprintf(stderr, "turnpike: %s: %s\n", path, err);
		goto out;
	}
	src.ctx = dp;
	if ((*cfgp)->metrics.enabled) {
		metrics = tp_metrics_open(&(*cfgp)->metrics.listen, err, sizeof(err));
		if (!metrics) {
			fprintf(stderr, "turnpike: %s: %s\n", path, err);
			goto out;
		}
	}
	for (unsigned i = 0; i < dc.n_listen; i++) {
		char a[TP_ADDR_STRLEN];

		tp_addr_format(&udp[i], a, sizeof(a), true);
		tp_log(TP_LOG_INFO, "listening on udp %s (DPDK)", a);
	}
	tp_log(TP_LOG_INFO, "turnpike %s running (realm \"%s\", relay ports %u-%u, DPDK)",
	       TP_VERSION, (*cfgp)->realm, (*cfgp)->relay.port_min, (*cfgp)->relay.port_max);
	while (!tp_signal_stop_requested()) {
		int rc = metrics ? tp_metrics_poll(metrics, 100, &src) : 0;

		if (rc < 0 && !metrics_failed) {
			tp_log(TP_LOG_ERROR, "metrics: %s", tp_strerror(rc));
			metrics_failed = true;
		}
		if (!metrics || rc < 0)
			tp_sleep_ms(100);
		tp_dpdkdp_service(dp);
		if (tp_signal_take_reload())
			reload(path, cfgp, &pol, dp);
	}
	tp_log(TP_LOG_INFO, "stopping");
	status = EXIT_SUCCESS;
out:
	tp_metrics_close(metrics);
	tp_dpdkdp_stop(dp);
	tp_engine_policy_destroy(pol);
	tp_engine_shared_destroy(sh);
	if (eal)
		tp_dpdkdp_eal_fini();
	free(args);
	free(udp);
	return status;
}
