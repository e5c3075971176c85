/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_telemetry commands (ipsec-secgw's pattern): /turnpike/stats[,WORKER] sums the data-plane
 * and engine counters (or shows one worker's), /turnpike/allocations lists live allocations per
 * worker. They run on the EAL's telemetry thread and only read counters the workers publish.
 * Commands cannot be unregistered, so they are registered once and look at whichever plane is
 * attached (none: an error).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "dpdkdp_int.h"

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tp_dpdkdp *tel_dp;
static bool tel_registered;

/* "drop_not_ours" (telemetry names: alphanumerics, _ and / only) from a prefix and an upper-case
 * X-macro name. */
static const char *key(char *buf, size_t cap, const char *prefix, const char *name)
{
	size_t n = (size_t)snprintf(buf, cap, "%s", prefix);

	for (; *name && n + 1 < cap; name++)
		buf[n++] = (char)tolower((unsigned char)*name);
	buf[n] = '\0';
	return buf;
}

static int parse_worker(const struct tp_dpdkdp *dp, const char *params)
{
	char *end;
	long w;

	if (!params || !*params)
		return -1;
	w = strtol(params, &end, 10);
	if (*end || w < 0 || (unsigned long)w >= dp->nworkers)
		return -2;
	return (int)w;
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tp_dpdkdp_counters c;
	struct tp_stats s;
	char k[RTE_TEL_MAX_STRING_LEN];
	int w, rc = 0;

	(void)cmd;
	pthread_mutex_lock(&tel_lock);
	if (!tel_dp) {
		rc = -ENODEV;
		goto out;
	}
	w = parse_worker(tel_dp, params);
	if (w == -2) {
		rc = -EINVAL;
		goto out;
	}
	tp_dpdkdp_counters(tel_dp, w, &c);
	if (w < 0)
		tp_dpdkdp_stats(tel_dp, &s);
	else
		s = *tp_engine_stats(tel_dp->workers[w].eng);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "workers", w < 0 ? tel_dp->nworkers : 1);
	for (unsigned i = 0; i < TP_DPDKDP_CTR_COUNT; i++)
		rte_tel_data_add_dict_u64(d, key(k, sizeof(k), "", tp_dpdkdp_counter_name(i)),
					  c.ctr[i]);
	for (unsigned i = 0; i < TP_DPDKDP_DROP_COUNT; i++)
		rte_tel_data_add_dict_u64(d, key(k, sizeof(k), "drop_", tp_dpdkdp_drop_name(i)),
					  c.drop[i]);
	for (unsigned i = 0; i < TP_CTR_COUNT; i++)
		rte_tel_data_add_dict_u64(d, key(k, sizeof(k), "engine_", tp_counter_name(i)),
					  tp_stat_read(&s.ctr[i]));
	for (unsigned i = 0; i < TP_DROP_COUNT; i++)
		rte_tel_data_add_dict_u64(d, key(k, sizeof(k), "engine_drop_", tp_drop_name(i)),
					  tp_stat_read(&s.drop[i]));
	rte_tel_data_add_dict_u64(d, "allocations", tp_stat_read(&s.allocations));
out:
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

static int cmd_allocations(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char k[32];

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&tel_lock);
	if (!tel_dp) {
		pthread_mutex_unlock(&tel_lock);
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", tp_dpdkdp_allocations(tel_dp, -1));
	for (unsigned i = 0; i < tel_dp->nworkers; i++) {
		snprintf(k, sizeof(k), "worker_%u", i);
		rte_tel_data_add_dict_u64(d, k, tp_dpdkdp_allocations(tel_dp, (int)i));
	}
	pthread_mutex_unlock(&tel_lock);
	return 0;
}

void tp_dp_telemetry_attach(struct tp_dpdkdp *dp)
{
	pthread_mutex_lock(&tel_lock);
	tel_dp = dp;
	if (!tel_registered) {
		rte_telemetry_register_cmd("/turnpike/stats", cmd_stats,
					   "Data-plane and engine counters. Parameters: int worker "
					   "(optional; all workers summed without)");
		rte_telemetry_register_cmd("/turnpike/allocations", cmd_allocations,
					   "Live allocations, in total and per worker. No "
					   "parameters");
		tel_registered = true;
	}
	pthread_mutex_unlock(&tel_lock);
}

void tp_dp_telemetry_detach(struct tp_dpdkdp *dp)
{
	pthread_mutex_lock(&tel_lock);
	if (tel_dp == dp)
		tel_dp = NULL;
	pthread_mutex_unlock(&tel_lock);
}
