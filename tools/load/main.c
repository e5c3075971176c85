/* SPDX-License-Identifier: BSD-3-Clause */
/* turnpike-load: options, back end, setup, traffic, teardown, report (see load.h). */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

volatile int ld_stop;

static void on_signal(int sig)
{
	(void)sig;
	ld_stop = 1;
}

int main(int argc, char **argv)
{
	static struct ld_result r; /* two histograms: not on the stack */
	struct ld_conf c;
	struct ld_backend *be = NULL;
	struct ld_turn *t = NULL;
	struct sigaction sa;
	char err[768];
	double setup_s, base;
	int rc;

	rc = ld_opts_parse(&c, argc, argv);
	if (rc)
		return rc == 1 ? 0 : 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	be = c.backend == LD_BACKEND_DPDK ? ld_dpdk_create(&c, err, sizeof(err))
					  : ld_sock_create(&c, err, sizeof(err));
	if (!be) {
		fprintf(stderr, "turnpike-load: %s\n", err);
		return 1;
	}
	t = ld_turn_create(&c, be, err, sizeof(err));
	if (!t) {
		fprintf(stderr, "turnpike-load: %s\n", err);
		be->ops->destroy(be);
		return 1;
	}
	if (ld_turn_setup(t, &r.setup_s, err, sizeof(err)) < 0) {
		fprintf(stderr, "turnpike-load: setup failed: %s\n", err);
		ld_turn_teardown(t, 2.0);
		ld_turn_destroy(t);
		be->ops->destroy(be);
		return 1;
	}
	setup_s = r.setup_s;
	fprintf(stderr, "turnpike-load: %u allocations ready in %.3f s (%.0f/s)\n", c.allocations,
		r.setup_s, r.setup_s > 0 ? c.allocations / r.setup_s : 0.0);
	ld_traffic_run(&c, be, t, &r);
	/* --steps: more measurements on the same allocations, at fractions of the first one's
	 * rate. Each gets its own summary; the last one (printed last) carries the teardown's
	 * counters. */
	base = c.rate ? (double)c.rate
		      : (double)(r.dir[0].received + r.dir[1].received) /
				(r.measured_s > 0 ? r.measured_s : 1);
	for (unsigned s = 0; s <= c.n_steps && !ld_stop; s++) {
		struct ld_conf cs = c;

		if (s > 0) {
			memset(&r, 0, sizeof(r));
			r.setup_s = setup_s;
			r.step = s;
			r.step_of = c.steps[s - 1];
			cs.rate = (uint64_t)(base * c.steps[s - 1]);
			if (cs.rate < 1)
				cs.rate = 1;
			ld_traffic_run(&cs, be, t, &r);
		}
		if (s == c.n_steps && !c.keep)
			ld_turn_teardown(t, 3.0);
		ld_turn_counters(t, &r.refreshes, &r.ctl_errors, &r.retransmits, &r.rebinds);
		r.rx_foreign = be->rx_foreign;
		r.tx_no_neighbor = be->tx_no_neighbor;
		if (s > 0)
			printf("\n");
		ld_report(&cs, be, &r);
	}
	ld_turn_destroy(t);
	be->ops->destroy(be);
	return 0;
}
