/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turnpike: the command line, start-up, the control loop (signals, reload) and shutdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tp_build.h>
#include <turnpike/conf.h>
#include <turnpike/engine.h>
#include <turnpike/log.h>
#include <turnpike/metrics.h>
#include <turnpike/platform.h>
#include <turnpike/sockdp.h>

#include "params.h"

#define ERRLEN 1024

/* The command line after "--": EAL arguments for dataplane.kind "dpdk". */
static char **eal_extra;
static int n_eal_extra;

static void usage(FILE *f)
{
	fputs("Usage: turnpike --config FILE [-- EAL-ARGUMENTS...]\n"
	      "       turnpike --check-config FILE\n"
	      "       turnpike --version | --help\n"
	      "\n"
	      "A TURN relay (RFC 8656). It runs the data plane that FILE selects\n"
	      "(dataplane.kind: \"sockets\" or \"dpdk\") until SIGINT or SIGTERM;\n"
	      "SIGHUP reloads FILE, keeping the running configuration if the new one is invalid.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE        run with the JSON configuration FILE\n"
	      "  -t, --check-config FILE  validate FILE, print the verdict and exit (0 when "
	      "valid)\n"
	      "  -V, --version            print the version and the features built in\n"
	      "  -h, --help               print this help\n"
	      "\n"
	      "Documentation: docs/config.md (every key), docs/architecture.md.\n",
	      f);
}

static void version(void)
{
	printf("turnpike %s\n", TP_VERSION);
	printf("data planes: sockets%s\n", TP_HAVE_DPDK ? ", dpdk" : "");
	printf("TLS: %s\n", TP_HAVE_TLS ? "yes" : "no");
	printf("SO_REUSEPORT: %s, recvmmsg: %s, poller: %s\n", TP_HAVE_SO_REUSEPORT ? "yes" : "no",
	       TP_HAVE_RECVMMSG ? "yes" : "no", tp_poller_name());
}

/* Parts that a reload cannot change while sockets are open: compare and warn. */
static bool same_addr(const struct tp_addr *a, const struct tp_addr *b)
{
	return tp_addr_eq(a, b);
}

static bool needs_restart(const struct tp_config *old, const struct tp_config *cur)
{
	if (old->n_listen != cur->n_listen || old->dataplane.kind != cur->dataplane.kind ||
	    old->dataplane.workers != cur->dataplane.workers ||
	    !same_addr(&old->relay.address, &cur->relay.address) ||
	    !same_addr(&old->relay.address6, &cur->relay.address6) ||
	    old->relay.port_min != cur->relay.port_min ||
	    old->relay.port_max != cur->relay.port_max)
		return true;
	for (size_t i = 0; i < old->n_listen; i++)
		if (old->listen[i].transport != cur->listen[i].transport ||
		    !same_addr(&old->listen[i].addr, &cur->listen[i].addr))
			return true;
	return false;
}

struct runtime {
	const char *path;
	struct tp_config *cfg;
	struct tp_engine_policy *pol;
	struct tp_engine_shared *sh;
	struct tp_sockdp *dp;
	struct tp_metrics *metrics;	     /* NULL when disabled */
	struct tp_conf_metrics metrics_conf; /* as started: a reload does not move it */
};

/* The metrics endpoint reads the data plane through these, so src/ctl needs no sockdp.h. */
static void metrics_stats(void *ctx, struct tp_stats *sum)
{
	tp_sockdp_stats(ctx, sum);
}

static uint32_t metrics_workers(void *ctx)
{
	return tp_sockdp_workers(ctx);
}

/* The endpoint keeps the socket it started with; say so when the file now wants another. */
static void metrics_reload_check(const struct runtime *rt, const struct tp_config *cfg)
{
	const struct tp_conf_metrics *was = &rt->metrics_conf, *now = &cfg->metrics;
	char a[TP_ADDR_STRLEN] = "(disabled)";

	if (was->enabled == now->enabled &&
	    (!was->enabled || tp_addr_eq(&was->listen, &now->listen)))
		return;
	if (was->enabled)
		tp_addr_format(&was->listen, a, sizeof(a), true);
	tp_log(TP_LOG_WARN,
	       "%s: .metrics changed; it needs a restart, the metrics endpoint stays %s%s",
	       rt->path, was->enabled ? "on " : "", a);
}

static void reload(struct runtime *rt)
{
	char err[ERRLEN] = "";
	struct tp_config *cfg = tp_config_load_file(rt->path, err, sizeof(err));
	struct tp_engine_policy *pol;

	if (!cfg) {
		tp_log(TP_LOG_ERROR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	if (needs_restart(rt->cfg, cfg)) {
		tp_log(TP_LOG_ERROR,
		       "reload refused, keeping the running configuration: %s changes listen, "
		       "relay "
		       "or dataplane settings, which need a restart",
		       rt->path);
		tp_config_destroy(cfg);
		return;
	}
	pol = tp_app_policy(cfg, err, sizeof(err));
	if (!pol) {
		tp_log(TP_LOG_ERROR, "reload failed, keeping the running configuration: %s: %s",
		       rt->path, err);
		tp_config_destroy(cfg);
		return;
	}
	metrics_reload_check(rt, cfg);
	tp_sockdp_set_policy(rt->dp, pol); /* returns once no worker uses the old policy */
	tp_engine_policy_destroy(rt->pol);
	tp_config_destroy(rt->cfg);
	rt->pol = pol;
	rt->cfg = cfg;
	tp_log_set_level((enum tp_log_level)cfg->log.level);
	tp_log(TP_LOG_INFO, "configuration reloaded from %s", rt->path);
}

static int run(const char *path)
{
	struct runtime rt = { .path = path };
	struct tp_metrics_source src = { metrics_stats, metrics_workers, NULL };
	struct tp_sockdp_listener *ls = NULL;
	struct tp_sockdp_conf sc;
	char err[ERRLEN] = "";
	int status = EXIT_FAILURE;
	bool metrics_failed = false;

	rt.cfg = tp_config_load_file(path, err, sizeof(err));
	if (!rt.cfg) {
		fprintf(stderr, "turnpike: %s\n", err);
		return EXIT_FAILURE;
	}
	tp_log_set_level((enum tp_log_level)rt.cfg->log.level);
	if (rt.cfg->dataplane.kind == TP_CONF_DPDK) {
#if TP_HAVE_DPDK
		status = tp_app_run_dpdk(path, &rt.cfg, eal_extra, n_eal_extra);
#else
		fprintf(stderr,
			"turnpike: %s: .dataplane.kind: \"dpdk\" needs a binary built with DPDK "
			"(meson -Ddpdk=enabled); use \"sockets\"\n",
			path);
#endif
		goto out;
	}
	rt.pol = tp_app_policy(rt.cfg, err, sizeof(err));
	rt.sh = tp_engine_shared_create(rt.cfg->dataplane.workers, NULL);
	if (!rt.pol || !rt.sh) {
		fprintf(stderr, "turnpike: %s: %s\n", path, rt.pol ? "out of memory" : err);
		goto out;
	}
	if (tp_signals_init() < 0) {
		fprintf(stderr, "turnpike: cannot install signal handlers\n");
		goto out;
	}
	rt.metrics_conf = rt.cfg->metrics;
	if (rt.metrics_conf.enabled) {
		rt.metrics = tp_metrics_open(&rt.metrics_conf.listen, err, sizeof(err));
		if (!rt.metrics) {
			fprintf(stderr, "turnpike: %s: %s\n", path, err);
			goto out;
		}
	}
	ls = calloc(rt.cfg->n_listen ? rt.cfg->n_listen : 1, sizeof(*ls));
	if (!ls)
		goto out;
	tp_app_sockdp_conf(rt.cfg, ls, &sc);
	rt.dp = tp_sockdp_start(&sc, rt.sh, rt.pol, err, sizeof(err));
	if (!rt.dp) {
		fprintf(stderr, "turnpike: %s\n", err);
		goto out;
	}
	src.ctx = rt.dp;
	for (size_t i = 0; i < rt.cfg->n_listen; i++) {
		char a[TP_ADDR_STRLEN];

		tp_addr_format(&rt.cfg->listen[i].addr, a, sizeof(a), true);
		tp_log(TP_LOG_INFO, "listening on %s %s",
		       ls[i].transport == TP_TRANSPORT_UDP   ? "udp"
		       : ls[i].transport == TP_TRANSPORT_TCP ? "tcp"
							     : "tls",
		       a);
	}
	if (rt.metrics) {
		char a[TP_ADDR_STRLEN];

		tp_addr_format(&rt.metrics_conf.listen, a, sizeof(a), true);
		tp_log(TP_LOG_INFO, "metrics on http://%s/metrics", a);
	}
	tp_log(TP_LOG_INFO, "turnpike %s running (realm \"%s\", relay ports %u-%u)", TP_VERSION,
	       rt.cfg->realm, rt.cfg->relay.port_min, rt.cfg->relay.port_max);

	while (!tp_signal_stop_requested()) {
		/* The endpoint's wait is the loop's tick: it returns within 100 ms, or at once on a
		 * signal, like the sleep it replaces. */
		int rc = rt.metrics ? tp_metrics_poll(rt.metrics, 100, &src) : 0;

		if (rc < 0 && !metrics_failed) {
			tp_log(TP_LOG_ERROR, "metrics: %s", tp_strerror(rc));
			metrics_failed = true;
		}
		if (!rt.metrics || rc < 0)
			tp_sleep_ms(100);
		if (tp_signal_take_reload())
			reload(&rt);
	}
	tp_log(TP_LOG_INFO, "stopping");
	status = EXIT_SUCCESS;
out:
	tp_metrics_close(rt.metrics);
	tp_sockdp_stop(rt.dp);
	free(ls);
	tp_engine_policy_destroy(rt.pol);
	tp_engine_shared_destroy(rt.sh);
	tp_config_destroy(rt.cfg);
	if (status == EXIT_SUCCESS)
		tp_log(TP_LOG_INFO, "stopped");
	return status;
}

static int check_config(const char *path)
{
	char err[ERRLEN] = "";
	struct tp_config *cfg = tp_config_load_file(path, err, sizeof(err));
	struct tp_engine_policy *pol;

	if (!cfg) {
		fprintf(stderr, "turnpike: %s\n", err);
		return EXIT_FAILURE;
	}
	pol = tp_app_policy(cfg, err, sizeof(err));
	if (!pol) {
		fprintf(stderr, "turnpike: %s: %s\n", path, err);
		tp_config_destroy(cfg);
		return EXIT_FAILURE;
	}
	tp_engine_policy_destroy(pol);
	tp_config_destroy(cfg);
	printf("%s: configuration OK\n", path);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *check = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			version();
			return EXIT_SUCCESS;
		} else if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < argc) {
			config = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			config = a + 9;
		} else if ((!strcmp(a, "-t") || !strcmp(a, "--check-config")) && i + 1 < argc) {
			check = argv[++i];
		} else if (!strncmp(a, "--check-config=", 15)) {
			check = a + 15;
		} else if (!strcmp(a, "--")) {
			eal_extra = argv + i + 1;
			n_eal_extra = argc - i - 1;
			break;
		} else {
			fprintf(stderr, "turnpike: unknown or incomplete option '%s'\n\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!config && !check) {
		usage(stderr);
		return 2;
	}
	if (tp_net_init() < 0) {
		fprintf(stderr, "turnpike: cannot initialise networking\n");
		return EXIT_FAILURE;
	}
	rc = check ? check_config(check) : run(config);
	tp_net_fini();
	return rc;
}
