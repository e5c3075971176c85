/* SPDX-License-Identifier: BSD-3-Clause */
/* The end-of-run report: a few human lines, then one JSON object as the last line of stdout. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "load.h"

const char *ld_addr_str(const struct tp_addr *a, char buf[TP_ADDR_STRLEN])
{
	if (!tp_addr_format(a, buf, TP_ADDR_STRLEN, a->port != 0))
		snprintf(buf, TP_ADDR_STRLEN, "?");
	return buf;
}

static double pct(uint64_t sent, uint64_t rcvd)
{
	return sent ? 100.0 * (double)(sent > rcvd ? sent - rcvd : 0) / (double)sent : 0.0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

void ld_report(const struct ld_conf *c, const struct ld_backend *be, const struct ld_result *r)
{
	static const char *const dname[] = { "c2p", "p2c" };
	const struct ld_dir_stats *d = r->dir;
	static struct ld_hist lat; /* about 15 KB: not on the stack */
	char srv[TP_ADDR_STRLEN], peer[TP_ADDR_STRLEN];
	uint64_t sent = d[0].sent + d[1].sent, rcvd = d[0].received + d[1].received;
	uint64_t bad = d[0].bad + d[1].bad, txf = d[0].tx_failed + d[1].tx_failed;
	double secs = r->measured_s > 0 ? r->measured_s : 1;
	const char *dir = c->dirs == 3 ? "both" : c->dirs == 1 ? "c2p" : "p2c";
	unsigned i;

	memset(&lat, 0, sizeof(lat));
	ld_hist_merge(&lat, &d[0].lat);
	ld_hist_merge(&lat, &d[1].lat);
	ld_addr_str(&c->server, srv);
	ld_addr_str(&be->peer, peer);

	printf("turnpike-load: %s back end, server %s, peer %s, %" PRIu32
	       " allocations, %s mode, %s, %" PRIu32 "-byte payload\n",
	       be->ops->name, srv, peer, c->allocations,
	       c->mode == LD_MODE_CHANNEL ? "channel" : "send", dir, c->payload);
	printf("setup:    %.3f s (%.0f allocations/s)\n", r->setup_s,
	       r->setup_s > 0 ? c->allocations / r->setup_s : 0.0);
	for (i = 0; i < 2; i++) {
		if (!(c->dirs & LD_DIR_BIT(i)))
			continue;
		printf("%s:      sent %" PRIu64 " rcvd %" PRIu64 " (%.0f / %.0f pps) loss %.4f%%"
		       " reordered %" PRIu64 " dup %" PRIu64 " p50 %.1f us p99 %.1f us\n",
		       dname[i], d[i].sent, d[i].received, (double)d[i].sent / secs,
		       (double)d[i].received / secs, pct(d[i].sent, d[i].received), d[i].reordered,
		       d[i].duplicates, us(ld_hist_quantile(&d[i].lat, 0.5)),
		       us(ld_hist_quantile(&d[i].lat, 0.99)));
	}
	printf("total:    %.0f pps offered, %.0f pps relayed, loss %.4f%%, latency p50 %.1f us "
	       "p99 %.1f us p99.9 %.1f us max %.1f us\n",
	       (double)sent / secs, (double)rcvd / secs, pct(sent, rcvd),
	       us(ld_hist_quantile(&lat, 0.5)), us(ld_hist_quantile(&lat, 0.99)),
	       us(ld_hist_quantile(&lat, 0.999)), us(lat.max));
	printf("control:  %" PRIu64 " refresh cycles, %" PRIu64 " retransmissions, %" PRIu64
	       " new ports after 437, %" PRIu64 " errors; data: %" PRIu64
	       " invalid arrivals, %" PRIu64 " not sent\n",
	       r->refreshes, r->retransmits, r->rebinds, r->ctl_errors, bad, txf);

	printf("{\"step\":%u,\"step_of\":%.4f,\"backend\":\"%s\",\"server\":\"%s\",\"peer\":\"%s\","
	       "\"allocations\":%" PRIu32 ",\"payload\":%" PRIu32
	       ",\"mode\":\"%s\",\"direction\":\"%s\","
	       "\"target_pps\":%" PRIu64 ",\"duration_s\":%.3f,\"warmup_s\":%.3f,"
	       "\"setup_s\":%.4f,\"allocs_per_s\":%.1f,",
	       r->step, r->step_of, be->ops->name, srv, peer, c->allocations, c->payload,
	       c->mode == LD_MODE_CHANNEL ? "channel" : "send", dir, c->rate, r->measured_s,
	       c->warmup, r->setup_s, r->setup_s > 0 ? c->allocations / r->setup_s : 0.0);
	printf("\"sent\":%" PRIu64 ",\"received\":%" PRIu64 ",\"offered_pps\":%.1f,"
	       "\"relayed_pps\":%.1f,\"loss_pct\":%.4f,\"reordered\":%" PRIu64
	       ",\"duplicates\":%" PRIu64 ",",
	       sent, rcvd, (double)sent / secs, (double)rcvd / secs, pct(sent, rcvd),
	       d[0].reordered + d[1].reordered, d[0].duplicates + d[1].duplicates);
	printf("\"lat_p50_us\":%.2f,\"lat_p99_us\":%.2f,\"lat_p999_us\":%.2f,"
	       "\"lat_max_us\":%.2f,\"lat_mean_us\":%.2f,",
	       us(ld_hist_quantile(&lat, 0.5)), us(ld_hist_quantile(&lat, 0.99)),
	       us(ld_hist_quantile(&lat, 0.999)), us(lat.max),
	       lat.count ? us(lat.sum / lat.count) : 0.0);
	for (i = 0; i < 2; i++)
		printf("\"%s_sent\":%" PRIu64 ",\"%s_received\":%" PRIu64 ",\"%s_loss_pct\":%.4f,",
		       dname[i], d[i].sent, dname[i], d[i].received, dname[i],
		       pct(d[i].sent, d[i].received));
	printf("\"tx_failed\":%" PRIu64 ",\"bad_packets\":%" PRIu64 ",\"ctl_errors\":%" PRIu64
	       ",\"refreshes\":%" PRIu64 ",\"retransmits\":%" PRIu64 ",\"rebinds\":%" PRIu64
	       ",\"rx_foreign\":%" PRIu64 ",\"tx_no_neighbor\":%" PRIu64 ",\"errors\":%" PRIu64
	       "}\n",
	       txf, bad, r->ctl_errors, r->refreshes, r->retransmits, r->rebinds, r->rx_foreign,
	       r->tx_no_neighbor, bad + r->ctl_errors);
	fflush(stdout);
}
