/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The Prometheus metrics endpoint, served by the control thread (DESIGN.md §5).
 *
 * A small HTTP/1.x server on its own poller: the listener plus at most TP_METRICS_CONNS client
 * connections, every socket non-blocking, so tp_metrics_poll() can stand in for the control
 * loop's sleep without ever holding it up. `GET /metrics` is answered with the Prometheus text
 * exposition format (version 0.0.4) of the workers' summed counters, then the connection is
 * closed; nothing else is served. docs/metrics.md lists every metric.
 *
 * The data plane is reached only through a struct tp_metrics_source, so this module does not
 * depend on it; the counters are read with tp_stat_read() when a scrape arrives and never
 * touched on the packet path. Label values come from the fixed name tables in stats.h (and, for a
 * source's extra families, such as the DPDK plane's, from its own X-macro tables), so the number
 * of series is bounded (no per-user or per-address labels).
 */
#ifndef TURNPIKE_METRICS_H
#define TURNPIKE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/stats.h>

/** Most client connections served at once; more wait in the listen backlog. */
#define TP_METRICS_CONNS 16

/** Bytes a request (request line and headers) may take; a longer one gets 400. */
#define TP_METRICS_REQUEST_MAX 4096

/**
 * Milliseconds a client has to send its whole request, and then to read the response; after
 * that the connection is dropped.
 */
#define TP_METRICS_TIMEOUT_MS 2000

/** Where the numbers come from: callbacks, so the control side needs no data-plane headers. */
struct tp_metrics_source {
	/** Add up every shard's counters into @p sum (zero it first), e.g. tp_sockdp_stats(). */
	void (*stats)(void *ctx, struct tp_stats *sum);
	/** Number of data-plane workers running, e.g. tp_sockdp_workers(). */
	uint32_t (*workers)(void *ctx);
	/** Passed to every callback. */
	void *ctx;
	/**
	 * Optional (NULL: nothing more): append further families after the engine's, e.g. the DPDK
	 * plane's own counters, as whole lines in the text format. Works like snprintf(): write at
	 * most @p cap bytes (NUL-terminated when @p cap > 0) and return the length of the whole
	 * text. Called once per scrape, and again with a larger buffer when the text did not fit;
	 * tp_metrics_render_family() does the formatting.
	 */
	size_t (*extra)(void *ctx, char *buf, size_t cap);
};

/** One counter family with one label, for tp_metrics_render_family(). */
struct tp_metrics_family {
	const char *name;  /**< metric name, e.g. "turnpike_dataplane_drops_total" */
	const char *type;  /**< "counter" or "gauge" */
	const char *help;  /**< HELP text: no backslash and no line feed */
	const char *label; /**< label name, e.g. "reason" */
	bool lower;	   /**< lower-case the label values ("STEER_IN" -> "steer_in") */
	unsigned n;	   /**< number of samples */
	const char *(*value_name)(unsigned i); /**< label value of sample i (escaped here) */
	const uint64_t *values;		       /**< the n sample values */
};

/** An open endpoint: its listener, poller and client connections. */
struct tp_metrics;

/**
 * Open the endpoint: a non-blocking TCP listener on @p listen and a poller for it.
 *
 * @param listen  address and port; port 0 picks an ephemeral one (see tp_metrics_port())
 * @param err     receives a message naming the address on failure, e.g.
 *                "metrics: cannot listen on 127.0.0.1:9641: Address already in use"; may be
 *                NULL
 * @param errlen  size of @p err
 * @return the endpoint, or NULL
 */
struct tp_metrics *tp_metrics_open(const struct tp_addr *listen, char *err, size_t errlen);

/** Close every connection and the listener, and free @p m. NULL is a no-op. */
void tp_metrics_close(struct tp_metrics *m);

/** The port the listener is bound to (useful after opening port 0). */
uint16_t tp_metrics_port(const struct tp_metrics *m);

/**
 * Wait up to @p timeout_ms for the endpoint's sockets, then do all the work that is ready:
 * accept connections, read requests, answer them, and drop connections past their
 * TP_METRICS_TIMEOUT_MS deadline. Every socket is non-blocking, so the call returns within
 * about @p timeout_ms (sooner when something happened or a signal arrived).
 *
 * Requests: `GET /metrics` (optionally with a query string) over HTTP/1.0 or HTTP/1.1 gets
 * 200 with the metrics; any other path 404; another method on /metrics 405; a request that is
 * not HTTP/1.0 or 1.1, or longer than TP_METRICS_REQUEST_MAX, 400. Every response closes the
 * connection. When all TP_METRICS_CONNS connections are busy, a new one replaces the oldest that
 * has not completed its request within 250 ms; otherwise it waits in the backlog.
 *
 * @param timeout_ms  0 returns at once; negative values count as 0
 * @param src         where a scrape reads the counters; NULL renders zeros
 * @return the number of ready events handled (>= 0), or a negative errno from the poller
 */
int tp_metrics_poll(struct tp_metrics *m, int timeout_ms, const struct tp_metrics_source *src);

/**
 * Render the metrics for the summed counters @p sum in the Prometheus text format 0.0.4:
 * `# HELP` and `# TYPE` lines, then one sample per line, for every family in docs/metrics.md.
 * Works like snprintf(): writes at most @p cap bytes, always NUL-terminated when @p cap > 0,
 * and returns the length of the whole text, so a result >= @p cap means it was cut short.
 *
 * @param sum      counters of all shards added up; read with tp_stat_read()
 * @param workers  the value of the turnpike_workers gauge
 * @param buf      output, or NULL when @p cap is 0 (to ask for the length)
 * @return the length of the full text, without the NUL
 */
size_t tp_metrics_render(const struct tp_stats *sum, uint32_t workers, char *buf, size_t cap);

/**
 * Render one family: its `# HELP` and `# TYPE` lines, then `name{label="value"} v` for each
 * sample, in order. Works like tp_metrics_render() (snprintf() semantics on @p buf, @p cap).
 *
 * @return the length of the full text, without the NUL
 */
size_t tp_metrics_render_family(const struct tp_metrics_family *f, char *buf, size_t cap);

#endif /* TURNPIKE_METRICS_H */
