/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turnpike with dataplane.kind "dpdk": the EAL, the DPDK plane, and the control loop on the main
 * lcore (signals, reload through RCU, the metrics endpoint, the workers' allocation log).
 * Built only with DPDK; main.c calls tp_app_run_dpdk() for that kind.
 *
 * TCP and TLS listeners (DESIGN §6) are served in the same process by a socket-plane worker
 * thread on the host's kernel interfaces: its relay sockets bind dataplane.dpdk.kernel_relay,
 * with the same relay port range. Both planes share the quota counters (one struct
 * tp_engine_shared) and get every reload together; the socket shard's policy differs only in
 * its relay addresses. The thread inherits the main lcore's CPU affinity, so it never competes
 * with the DPDK workers.
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
#include <turnpike/sockdp.h>

#include "params.h"

#define ERRLEN 1024

/* Both planes of the process, and their policies. */
struct planes {
	struct tp_dpdkdp *dp;
	struct tp_sockdp *kdp;		/* TCP/TLS on kernel interfaces; NULL when none */
	struct tp_engine_policy *pol;	/* the DPDK workers' */
	struct tp_engine_policy *kpol;	/* the socket worker's; NULL when kdp is */
	struct tp_sockdp_listener *kls; /* kdp's listeners */
};

/* The metrics endpoint sums both planes' engine counters. */
static void metrics_stats(void *ctx, struct tp_stats *sum)
{
	const struct planes *pl = ctx;

	tp_dpdkdp_stats(pl->dp, sum);
	if (pl->kdp) {
		struct tp_stats k;

		tp_sockdp_stats(pl->kdp, &k);
		tp_stats_add(sum, &k);
	}
}

static uint32_t metrics_workers(void *ctx)
{
	const struct planes *pl = ctx;

	return tp_dpdkdp_workers(pl->dp) + (pl->kdp ? tp_sockdp_workers(pl->kdp) : 0);
}

/* The DPDK plane's own counters: turnpike_dataplane_{events,drops}_total (docs/metrics.md). */
static size_t metrics_extra(void *ctx, char *buf, size_t cap)
{
	const struct planes *pl = ctx;
	struct tp_dpdkdp_counters c;
	const struct tp_metrics_family events = {
		.name = "turnpike_dataplane_events_total",
		.type = "counter",
		.help = "DPDK data-plane events (frames received and sent, hand-offs, ARP, ND, "
			"echo, checksums), summed over the workers.",
		.label = "event",
		.lower = true,
		.n = TP_DPDKDP_CTR_COUNT,
		.value_name = tp_dpdkdp_counter_name,
		.values = c.ctr,
	};
	const struct tp_metrics_family drops = {
		.name = "turnpike_dataplane_drops_total",
		.type = "counter",
		.help = "Frames the DPDK data plane dropped before or after the engine, by reason.",
		.label = "reason",
		.lower = false,
		.n = TP_DPDKDP_DROP_COUNT,
		.value_name = tp_dpdkdp_drop_name,
		.values = c.drop,
	};
	size_t n;

	tp_dpdkdp_counters(pl->dp, -1, &c);
	n = tp_metrics_render_family(&events, buf, cap);
	return n +
	       tp_metrics_render_family(&drops, n < cap ? buf + n : NULL, n < cap ? cap - n : 0);
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
	    !tp_addr_eq(&old->dataplane.dpdk.kernel_relay.address,
			&cur->dataplane.dpdk.kernel_relay.address) ||
	    !tp_addr_eq(&old->dataplane.dpdk.kernel_relay.address6,
			&cur->dataplane.dpdk.kernel_relay.address6) ||
	    !ports_same(&old->dataplane.dpdk, &cur->dataplane.dpdk))
		return true;
	for (size_t i = 0; i < old->n_listen; i++)
		if (old->listen[i].transport != cur->listen[i].transport ||
		    !tp_addr_eq(&old->listen[i].addr, &cur->listen[i].addr))
			return true;
	return false;
}

static void reload(const char *path, struct tp_config **cfg, struct planes *pl)
{
	char err[ERRLEN] = "";
	struct tp_config *next = tp_config_load_file(path, err, sizeof(err));
	struct tp_engine_policy *np = NULL, *nkp = NULL;

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
	if (np && pl->kdp)
		nkp = tp_app_kernel_policy(next, err, sizeof(err));
	if (!np || (pl->kdp && !nkp)) {
		tp_log(TP_LOG_ERROR, "reload failed, keeping the running configuration: %s: %s",
		       path, err);
		tp_engine_policy_destroy(np);
		tp_config_destroy(next);
		return;
	}
	if (next->metrics.enabled != (*cfg)->metrics.enabled ||
	    !tp_addr_eq(&next->metrics.listen, &(*cfg)->metrics.listen))
		tp_log(TP_LOG_WARN, "%s: .metrics changed; that needs a restart", path);
	/* Each returns once none of its workers can use the old policy (RCU, quiescent point). */
	tp_dpdkdp_set_policy(pl->dp, np);
	if (pl->kdp)
		tp_sockdp_set_policy(pl->kdp, nkp);
	tp_engine_policy_destroy(pl->pol);
	tp_engine_policy_destroy(pl->kpol);
	tp_config_destroy(*cfg);
	pl->pol = np;
	pl->kpol = nkp;
	*cfg = next;
	tp_log_set_level((enum tp_log_level)next->log.level);
	tp_log(TP_LOG_INFO, "configuration reloaded from %s", path);
}

static const char *transport_name(uint8_t t)
{
	return t == TP_TRANSPORT_TCP ? "tcp" : t == TP_TRANSPORT_TLS ? "tls" : "udp";
}

/*
 * A kernel relay address the kernel does not have would fail every relay bind later, one
 * Allocate at a time (508): find out now, with a throwaway socket on an ephemeral port.
 */
static int kernel_relay_usable(const struct tp_addr *a, const char *key, char *err, size_t errlen)
{
	struct tp_addr any = *a;
	tp_socket_t s;
	char t[TP_ADDR_STRLEN];
	int rc;

	if (!a->family)
		return 0;
	any.port = 0;
	rc = tp_udp_open(&any, 0, &s);
	if (rc == 0) {
		tp_sock_close(s);
		return 0;
	}
	tp_addr_format(a, t, sizeof(t), false);
	snprintf(err, errlen,
		 ".dataplane.dpdk.kernel_relay.%s: cannot bind UDP on %s (%s); it must be an "
		 "address of one of this host's kernel interfaces",
		 key, t, tp_strerror(rc));
	return rc;
}

/* TCP and TLS listeners: a socket-plane worker on the kernel interfaces (DESIGN §6). */
static int start_kernel_plane(const struct tp_config *cfg, struct tp_engine_shared *sh,
			      struct planes *pl, char *err, size_t errlen)
{
	const struct tp_conf_kernel_relay *kr = &cfg->dataplane.dpdk.kernel_relay;
	struct tp_sockdp_conf kc;
	char r4[TP_ADDR_STRLEN] = "", r6[TP_ADDR_STRLEN] = "";

	pl->kls = calloc(cfg->n_listen, sizeof(*pl->kls));
	if (!pl->kls) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!tp_app_kernel_conf(cfg, pl->kls, &kc))
		return 0;
	if (kernel_relay_usable(&kr->address, "address", err, errlen) < 0 ||
	    kernel_relay_usable(&kr->address6, "address6", err, errlen) < 0)
		return -1;
	pl->kpol = tp_app_kernel_policy(cfg, err, errlen);
	if (!pl->kpol)
		return -1;
	pl->kdp = tp_sockdp_start(&kc, sh, pl->kpol, err, errlen);
	if (!pl->kdp)
		return -1;
	if (kr->address.family)
		tp_addr_format(&kr->address, r4, sizeof(r4), false);
	if (kr->address6.family)
		tp_addr_format(&kr->address6, r6, sizeof(r6), false);
	tp_log(TP_LOG_INFO,
	       "TCP/TLS clients: kernel sockets, %u worker thread%s, relayed from %s%s%s%s",
	       tp_sockdp_workers(pl->kdp), tp_sockdp_workers(pl->kdp) == 1 ? "" : "s", r4,
	       *r4 && *r6 ? " and " : "", r6,
	       kr->derived ? " (taken from the TCP/TLS listeners: set "
			     "dataplane.dpdk.kernel_relay to choose)"
			   : "");
	return 0;
}

int tp_app_run_dpdk(const char *path, struct tp_config **cfgp, char *const *extra, int n_extra)
{
	const struct tp_conf_dpdk *d = &(*cfgp)->dataplane.dpdk;
	const char **args = calloc(d->n_eal + (size_t)n_extra + 1, sizeof(*args));
	struct tp_addr *udp = calloc((*cfgp)->n_listen + 1, sizeof(*udp));
	struct planes pl = { 0 };
	struct tp_metrics_source src = { metrics_stats, metrics_workers, &pl, metrics_extra };
	struct tp_engine_shared *sh = NULL;
	struct tp_metrics *metrics = NULL;
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
	tp_app_dpdkdp_conf(*cfgp, udp, &dc, &n_stream);
	pl.pol = tp_app_policy(*cfgp, err, sizeof(err));
	/* One set of quota counters for the DPDK workers and the socket worker. */
	sh = tp_engine_shared_create(dc.workers + (n_stream ? 1 : 0), NULL);
	if (!pl.pol || !sh) {
		fprintf(stderr, "turnpike: %s: %s\n", path, pl.pol ? "out of memory" : err);
		goto out;
	}
	if (tp_signals_init() < 0) {
		fprintf(stderr, "turnpike: cannot install signal handlers\n");
		goto out;
	}
	pl.dp = tp_dpdkdp_start(&dc, sh, pl.pol, err, sizeof(err));
	if (!pl.dp) {
		fprintf(stderr, "turnpike: %s: %s\n", path, err);
		goto out;
	}
	if (n_stream && start_kernel_plane(*cfgp, sh, &pl, err, sizeof(err)) < 0) {
		fprintf(stderr, "turnpike: %s: %s\n", path, err);
		goto out;
	}
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
	for (unsigned i = 0; pl.kdp && i < n_stream; i++) {
		char a[TP_ADDR_STRLEN];

		tp_addr_format(&pl.kls[i].addr, a, sizeof(a), true);
		tp_log(TP_LOG_INFO, "listening on %s %s (kernel sockets)",
		       transport_name(pl.kls[i].transport), a);
	}
	if (metrics) {
		char a[TP_ADDR_STRLEN];

		tp_addr_format(&(*cfgp)->metrics.listen, a, sizeof(a), true);
		tp_log(TP_LOG_INFO, "metrics on http://%s/metrics", a);
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
		tp_dpdkdp_service(pl.dp);
		if (tp_signal_take_reload())
			reload(path, cfgp, &pl);
	}
	tp_log(TP_LOG_INFO, "stopping");
	status = EXIT_SUCCESS;
out:
	tp_metrics_close(metrics);
	tp_sockdp_stop(pl.kdp);
	tp_dpdkdp_stop(pl.dp);
	tp_engine_policy_destroy(pl.pol);
	tp_engine_policy_destroy(pl.kpol);
	tp_engine_shared_destroy(sh);
	if (eal)
		tp_dpdkdp_eal_fini();
	free(pl.kls);
	free(args);
	free(udp);
	return status;
}
