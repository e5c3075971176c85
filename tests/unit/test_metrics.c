/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint: the exposition text line by line, truncation, and the HTTP server over
 * real loopback sockets (status codes, timeouts, idle and flooding clients). The tests pump
 * tp_metrics_poll() themselves, as the control loop does, so they need no threads.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tp_build.h>
#include <turnpike/metrics.h>
#include <turnpike/platform.h>
#include <turnpike/stats.h>
#include <turnpike/wire.h>

/* ---- rendering ---- */

static struct tp_stats known;

/* Known, distinct values in every kind of counter. */
static void fill_known(struct tp_stats *s)
{
	memset(s, 0, sizeof(*s));
	tp_stat_add(&s->drop[TP_DROP_NOT_TURN], 1);
	tp_stat_add(&s->drop[TP_DROP_NO_PERMISSION], 7);
	tp_stat_add(&s->drop[TP_DROP_UNKNOWN_ORIGIN], 18446744073709551615ull);
	tp_stat_add(&s->wire[TP_WIRE_ECOOKIE], 3);
	tp_stat_add(&s->ctr[TP_CTR_RELAY_TO_PEER_BYTES], 123456789012ull);
	tp_stat_add(&s->ctr[TP_CTR_ALLOC_CREATED], 42);
	tp_stat_add(&s->requests[TP_SM_CREATE_PERMISSION], 5);
	tp_stat_add(&s->requests[TP_SM_ALLOCATE], 3);
	tp_stat_add(&s->success[TP_SM_ALLOCATE], 2);
	tp_stat_add(&s->errors[TP_SM_ALLOCATE], 1);
	tp_stat_add(&s->error_code[TP_SE_401], 9);
	tp_stat_add(&s->error_code[TP_SE_508], 4);
	tp_stat_add(&s->allocations, 4);
}

static char *render(const struct tp_stats *s, uint32_t workers)
{
	size_t need = tp_metrics_render(s, workers, NULL, 0);
	char *buf = malloc(need + 1);

	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(tp_metrics_render(s, workers, buf, need + 1), need);
	ck_assert_uint_eq(strlen(buf), need);
	return buf;
}

/* True when @p line (without its line feed) is one whole line of @p text. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static const char *const exact_lines[] = {
	"# HELP turnpike_drops_total Packets dropped by the engine, by reason.",
	"# TYPE turnpike_drops_total counter",
	"turnpike_drops_total{reason=\"NOT_TURN\"} 1",
	"turnpike_drops_total{reason=\"NO_PERMISSION\"} 7",
	"turnpike_drops_total{reason=\"UNKNOWN_ORIGIN\"} 18446744073709551615",
	"turnpike_drops_total{reason=\"BANDWIDTH\"} 0",
	"# TYPE turnpike_codec_errors_total counter",
	"turnpike_codec_errors_total{error=\"COOKIE\"} 3",
	"turnpike_codec_errors_total{error=\"SHORT\"} 0",
	"# TYPE turnpike_events_total counter",
	"turnpike_events_total{event=\"relay_to_peer_bytes\"} 123456789012",
	"turnpike_events_total{event=\"alloc_created\"} 42",
	"turnpike_events_total{event=\"retransmit\"} 0",
	"# TYPE turnpike_requests_total counter",
	"turnpike_requests_total{method=\"create_permission\"} 5",
	"turnpike_requests_total{method=\"allocate\"} 3",
	"turnpike_requests_total{method=\"binding\"} 0",
	"# TYPE turnpike_responses_total counter",
	"turnpike_responses_total{method=\"allocate\",class=\"success\"} 2",
	"turnpike_responses_total{method=\"allocate\",class=\"error\"} 1",
	"turnpike_responses_total{method=\"channel_bind\",class=\"success\"} 0",
	"# TYPE turnpike_error_responses_total counter",
	"turnpike_error_responses_total{code=\"401\"} 9",
	"turnpike_error_responses_total{code=\"508\"} 4",
	"turnpike_error_responses_total{code=\"400\"} 0",
	"# HELP turnpike_allocations Live allocations.",
	"# TYPE turnpike_allocations gauge",
	"turnpike_allocations 4",
	"# TYPE turnpike_workers gauge",
	"turnpike_workers 3",
	"# TYPE turnpike_build_info gauge",
	"turnpike_build_info{version=\"" TP_VERSION "\"} 1",
};

START_TEST(render_exact_lines)
{
	char *text;

	fill_known(&known);
	text = render(&known, 3);
	for (size_t i = 0; i < sizeof(exact_lines) / sizeof(exact_lines[0]); i++)
		ck_assert_msg(has_line(text, exact_lines[i]), "missing line: %s", exact_lines[i]);
	ck_assert(text[strlen(text) - 1] == '\n');
	free(text);
}
END_TEST

/* Samples of each family, in order, and the families' HELP/TYPE lines. */
static const struct {
	const char *name, *type;
	unsigned samples;
} families[] = {
	{ "turnpike_drops_total", "counter", TP_DROP_COUNT },
	{ "turnpike_codec_errors_total", "counter", TP_WIRE_ERR_COUNT - 1 },
	{ "turnpike_events_total", "counter", TP_CTR_COUNT },
	{ "turnpike_requests_total", "counter", TP_SM_COUNT },
	{ "turnpike_responses_total", "counter", 2 * TP_SM_COUNT },
	{ "turnpike_error_responses_total", "counter", TP_SE_COUNT },
	{ "turnpike_allocations", "gauge", 1 },
	{ "turnpike_workers", "gauge", 1 },
	{ "turnpike_build_info", "gauge", 1 },
};

/* The next line of @p *p, NUL-terminated in place; NULL at the end of the text. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (!*line)
		return NULL;
	nl = strchr(line, '\n');
	ck_assert_ptr_nonnull(nl); /* every line ends with a line feed */
	*nl = '\0';
	*p = nl + 1;
	return line;
}

START_TEST(render_structure)
{
	const size_t nf = sizeof(families) / sizeof(families[0]);
	unsigned seen[sizeof(families) / sizeof(families[0])] = { 0 };
	char *text, *line, *at;
	char want[128];
	size_t f = nf; /* no family yet */

	memset(&known, 0, sizeof(known));
	text = render(&known, 1);
	at = text;
	/* Each family: HELP, TYPE, then all its samples; every label set once (counted). */
	while ((line = next_line(&at)) != NULL) {
		if (line[0] == '#') {
			f = f == nf ? 0 : f + 1;
			ck_assert_uint_lt(f, nf);
			snprintf(want, sizeof(want), "# HELP %s ", families[f].name);
			ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "%s", line);
			line = next_line(&at);
			ck_assert_ptr_nonnull(line);
			snprintf(want, sizeof(want), "# TYPE %s %s", families[f].name,
				 families[f].type);
			ck_assert_str_eq(line, want);
			continue;
		}
		ck_assert_uint_lt(f, nf);
		snprintf(want, sizeof(want), "%s", families[f].name);
		ck_assert_msg(strncmp(line, want, strlen(want)) == 0 && line[strlen(want)] &&
				      strchr("{ ", line[strlen(want)]) != NULL,
			      "%s outside its family %s", line, want);
		seen[f]++;
	}
	ck_assert_uint_eq(f, nf - 1);
	for (size_t i = 0; i < nf; i++)
		ck_assert_msg(seen[i] == families[i].samples, "%s: %u samples", families[i].name,
			      seen[i]);
	free(text);
}
END_TEST

START_TEST(render_truncates_safely)
{
	char *full, *buf;
	size_t need;

	fill_known(&known);
	full = render(&known, 2);
	need = strlen(full);
	ck_assert_uint_gt(need, 1000);
	ck_assert_uint_eq(tp_metrics_render(&known, 2, NULL, 0), need);
	{
		char one = 'x';

		ck_assert_uint_eq(tp_metrics_render(&known, 2, &one, 0), need);
		ck_assert_int_eq(one, 'x'); /* cap 0 writes nothing */
	}
	{
		const size_t caps[] = { 1, 2, 7, 100, need / 2, need - 1, need, need + 1 };

		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			size_t cap = caps[i], kept = need < cap ? need : cap - 1;

			buf = malloc(cap); /* exactly cap bytes: ASan catches a write past it */
			ck_assert_ptr_nonnull(buf);
			memset(buf, 'x', cap);
			ck_assert_uint_eq(tp_metrics_render(&known, 2, buf, cap), need);
			ck_assert_uint_eq(strlen(buf), kept);
			ck_assert(memcmp(buf, full, kept) == 0);
			free(buf);
		}
	}
	free(full);
}
END_TEST

/* ---- one family (the DPDK plane's counters are rendered this way) ---- */

static const char *const family_names[] = { "RX", "STEER_IN", "odd \"q\" \\ b\nl" };

static const char *family_name(unsigned i)
{
	return family_names[i];
}

static const uint64_t family_values[] = { 1333, 0, 18446744073709551615ull };

static const struct tp_metrics_family test_family = {
	.name = "turnpike_dataplane_events_total",
	.type = "counter",
	.help = "DPDK data-plane events.",
	.label = "event",
	.lower = true,
	.n = 3,
	.value_name = family_name,
	.values = family_values,
};

static const char family_text[] =
	"# HELP turnpike_dataplane_events_total DPDK data-plane events.\n"
	"# TYPE turnpike_dataplane_events_total counter\n"
	"turnpike_dataplane_events_total{event=\"rx\"} 1333\n"
	"turnpike_dataplane_events_total{event=\"steer_in\"} 0\n"
	"turnpike_dataplane_events_total{event=\"odd \\\"q\\\" \\\\ b\\nl\"} "
	"18446744073709551615\n";

START_TEST(render_family_exact)
{
	struct tp_metrics_family f = test_family;
	char buf[1024];

	ck_assert_uint_eq(tp_metrics_render_family(&f, buf, sizeof(buf)), strlen(family_text));
	ck_assert_str_eq(buf, family_text);

	/* label values as they are, and an empty family */
	f.lower = false;
	f.n = 2;
	f.name = "turnpike_dataplane_drops_total";
	f.label = "reason";
	f.help = "Drops.";
	tp_metrics_render_family(&f, buf, sizeof(buf));
	ck_assert_str_eq(buf, "# HELP turnpike_dataplane_drops_total Drops.\n"
			      "# TYPE turnpike_dataplane_drops_total counter\n"
			      "turnpike_dataplane_drops_total{reason=\"RX\"} 1333\n"
			      "turnpike_dataplane_drops_total{reason=\"STEER_IN\"} 0\n");
	f.n = 0;
	f.type = "gauge";
	tp_metrics_render_family(&f, buf, sizeof(buf));
	ck_assert_str_eq(buf, "# HELP turnpike_dataplane_drops_total Drops.\n"
			      "# TYPE turnpike_dataplane_drops_total gauge\n");
}
END_TEST

START_TEST(render_family_truncates_safely)
{
	const size_t need = strlen(family_text);
	const size_t caps[] = { 1, 2, 50, need - 1, need, need + 1 };

	ck_assert_uint_eq(tp_metrics_render_family(&test_family, NULL, 0), need);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		size_t cap = caps[i], kept = need < cap ? need : cap - 1;
		char *buf = malloc(cap); /* exactly cap bytes: ASan catches a write past it */

		ck_assert_ptr_nonnull(buf);
		memset(buf, 'x', cap);
		ck_assert_uint_eq(tp_metrics_render_family(&test_family, buf, cap), need);
		ck_assert_uint_eq(strlen(buf), kept);
		ck_assert(memcmp(buf, family_text, kept) == 0);
		free(buf);
	}
}
END_TEST

/* ---- the endpoint ---- */

struct fake {
	unsigned scrapes;
};

static void fake_stats(void *ctx, struct tp_stats *sum)
{
	struct fake *f = ctx;

	f->scrapes++;
	memset(sum, 0, sizeof(*sum));
	tp_stat_add(&sum->drop[TP_DROP_NO_PERMISSION], 7);
	tp_stat_add(&sum->error_code[TP_SE_401], 9);
	tp_stat_add(&sum->allocations, 2);
}

static uint32_t fake_workers(void *ctx)
{
	(void)ctx;
	return 3;
}

static struct fake fake;
static const struct tp_metrics_source src = { fake_stats, fake_workers, &fake, NULL };
static const struct tp_metrics_source *use = &src; /* what the endpoint is pumped with */
static struct tp_metrics *m;

static void endpoint_setup(void)
{
	struct tp_addr a;
	char err[256];

	ck_assert_int_eq(tp_addr_parse(&a, "127.0.0.1"), 0); /* port 0: an ephemeral one */
	m = tp_metrics_open(&a, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_str_eq(err, "");
	ck_assert_uint_ne(tp_metrics_port(m), 0);
	fake.scrapes = 0;
	use = &src;
}

static void endpoint_teardown(void)
{
	tp_metrics_close(m);
	m = NULL;
}

static tp_socket_t client_connect(void)
{
	struct tp_addr a;
	tp_socket_t s;

	ck_assert_int_eq(tp_addr_parse(&a, "127.0.0.1"), 0);
	a.port = tp_metrics_port(m);
	ck_assert_int_eq(tp_tcp_connect(&a, &s), 0);
	return s;
}

static void client_send(tp_socket_t s, const char *req, size_t len)
{
	size_t off = 0;

	while (off < len) {
		long n = tp_sock_send(s, req + off, len - off);

		if (n == -EAGAIN) {
			tp_metrics_poll(m, 5, use);
			continue;
		}
		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
}

/*
 * Read what is there; true once the server has closed (EOF or reset). The response is kept in
 * @p buf, NUL-terminated.
 */
static bool client_read(tp_socket_t s, char *buf, size_t cap, size_t *len)
{
	for (;;) {
		long n = tp_sock_recv(s, buf + *len, cap - 1 - *len);

		if (n == -EAGAIN)
			return false;
		if (n <= 0 || *len + (size_t)n >= cap - 1) {
			if (n > 0)
				*len += (size_t)n;
			buf[*len] = '\0';
			return true;
		}
		*len += (size_t)n;
		buf[*len] = '\0';
	}
}

/* Send @p req and pump the endpoint until the server closes; the response in @p out. */
static void fetch(const char *req, size_t req_len, char *out, size_t cap)
{
	tp_socket_t s = client_connect();
	uint64_t until = tp_time_mono_ms() + 5000;
	size_t len = 0;
	bool closed = false;

	out[0] = '\0';
	client_send(s, req, req_len);
	while (!closed && tp_time_mono_ms() < until) {
		tp_metrics_poll(m, 10, use);
		closed = client_read(s, out, cap, &len);
	}
	ck_assert_msg(closed, "no complete response to %.40s", req);
	tp_sock_close(s);
}

static char resp[65536];

#define FETCH(req) fetch(req, strlen(req), resp, sizeof(resp))

/* The status line, and that the headers close the connection. */
static void expect_status(const char *status_line)
{
	ck_assert_msg(strncmp(resp, status_line, strlen(status_line)) == 0, "got: %.60s", resp);
	ck_assert_ptr_nonnull(strstr(resp, "\r\nConnection: close\r\n"));
}

/* The body after the header block, checked against Content-Length. */
static const char *body_of(const char *r)
{
	const char *end = strstr(r, "\r\n\r\n"), *cl = strstr(r, "\r\nContent-Length: ");

	ck_assert_ptr_nonnull(end);
	ck_assert_ptr_nonnull(cl);
	ck_assert(cl < end);
	ck_assert_uint_eq(strtoul(cl + 18, NULL, 10), strlen(end + 4));
	return end + 4;
}

START_TEST(serves_metrics)
{
	const char *body;

	FETCH("GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	ck_assert_ptr_nonnull(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4\r\n"));
	body = body_of(resp);
	ck_assert(strncmp(body, "# HELP turnpike_drops_total ", 28) == 0);
	ck_assert(has_line(body, "turnpike_drops_total{reason=\"NO_PERMISSION\"} 7"));
	ck_assert(has_line(body, "turnpike_error_responses_total{code=\"401\"} 9"));
	ck_assert(has_line(body, "turnpike_allocations 2"));
	ck_assert(has_line(body, "turnpike_workers 3"));
	ck_assert_uint_eq(fake.scrapes, 1);

	/* HTTP/1.0, a query string, bare LF line ends, absolute-form targets */
	FETCH("GET /metrics?name[]=x HTTP/1.0\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	FETCH("GET /metrics HTTP/1.1\nHost: x\n\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	FETCH("GET http://127.0.0.1:9641/metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	ck_assert_uint_eq(fake.scrapes, 4);

	/* no source: zeros */
	{
		tp_socket_t s = client_connect();
		size_t len = 0;
		bool closed = false;

		client_send(s, "GET /metrics HTTP/1.1\r\n\r\n", 25);
		for (int i = 0; i < 500 && !closed; i++) {
			tp_metrics_poll(m, 10, NULL);
			closed = client_read(s, resp, sizeof(resp), &len);
		}
		tp_sock_close(s);
		ck_assert(closed);
		ck_assert(has_line(body_of(resp), "turnpike_workers 0"));
	}
}
END_TEST

/* A source with extra families: how many calls, and how long a text each call claims. */
static unsigned extra_calls;
static unsigned extra_samples; /* test_family-like samples to render */
static bool extra_greedy;      /* always claim more than the buffer holds */

static const char *extra_name(unsigned i)
{
	static char name[32];

	snprintf(name, sizeof(name), "EVENT_%u", i);
	return name;
}

static size_t fake_extra(void *ctx, char *buf, size_t cap)
{
	static uint64_t values[300];
	struct tp_metrics_family f = test_family;
	size_t n;

	(void)ctx;
	extra_calls++;
	for (unsigned i = 0; i < extra_samples; i++)
		values[i] = 1000 + i;
	f.n = extra_samples;
	f.value_name = extra_name;
	f.values = values;
	n = tp_metrics_render_family(&f, buf, cap);
	return extra_greedy ? cap + n : n;
}

static const struct tp_metrics_source extra_src = { fake_stats, fake_workers, &fake, fake_extra };

START_TEST(serves_extra_families)
{
	const char *body, *last_core;

	use = &extra_src;
	/* a few lines: one call, appended after the engine's families */
	extra_calls = 0;
	extra_samples = 3;
	extra_greedy = false;
	FETCH("GET /metrics HTTP/1.1\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	body = body_of(resp); /* Content-Length covers both parts */
	ck_assert_uint_eq(extra_calls, 1);
	ck_assert(has_line(body, "turnpike_workers 3"));
	ck_assert(has_line(body, "turnpike_dataplane_events_total{event=\"event_0\"} 1000"));
	ck_assert(has_line(body, "turnpike_dataplane_events_total{event=\"event_2\"} 1002"));
	last_core = strstr(body, "turnpike_build_info{");
	ck_assert_ptr_nonnull(last_core);
	ck_assert(strstr(body, "# HELP turnpike_dataplane_events_total") > last_core);
	ck_assert(body[strlen(body) - 1] == '\n');

	/* more than the first buffer holds: a second call with room for all of it */
	extra_calls = 0;
	extra_samples = 300;
	FETCH("GET /metrics HTTP/1.1\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	body = body_of(resp);
	ck_assert_uint_eq(extra_calls, 2);
	ck_assert(has_line(body, "turnpike_dataplane_events_total{event=\"event_299\"} 1299"));

	/* a source that never fits: given up on after a few calls, the engine's part still served
	 */
	extra_calls = 0;
	extra_samples = 3;
	extra_greedy = true;
	FETCH("GET /metrics HTTP/1.1\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	body = body_of(resp);
	ck_assert_uint_eq(extra_calls, 3);
	ck_assert(has_line(body, "turnpike_workers 3"));
	ck_assert_ptr_null(strstr(body, "turnpike_dataplane"));
}
END_TEST

START_TEST(not_found)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /metricsx HTTP/1.1\r\n\r\n",
		"GET /metrics/ HTTP/1.1\r\n\r\n",
		"GET /Metrics HTTP/1.1\r\n\r\n",
		"GET * HTTP/1.1\r\n\r\n",
		"POST /admin HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		"GET http://x HTTP/1.1\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		FETCH(reqs[i]);
		expect_status("HTTP/1.1 404 Not Found\r\n");
		ck_assert_str_eq(body_of(resp), "not found\n");
	}
	ck_assert_uint_eq(fake.scrapes, 0);
}
END_TEST

START_TEST(method_not_allowed)
{
	static const char *const reqs[] = {
		"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		"HEAD /metrics HTTP/1.1\r\n\r\n",
		"get /metrics HTTP/1.1\r\n\r\n",
		"DELETE /metrics?x HTTP/1.0\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		FETCH(reqs[i]);
		expect_status("HTTP/1.1 405 Method Not Allowed\r\n");
		ck_assert_ptr_nonnull(strstr(resp, "\r\nAllow: GET\r\n"));
		ck_assert_str_eq(body_of(resp), "method not allowed\n");
	}
	ck_assert_uint_eq(fake.scrapes, 0);
}
END_TEST

START_TEST(bad_request)
{
	static const char *const reqs[] = {
		"hello\r\n\r\n",
		"GET /metrics\r\n\r\n",
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET /metrics HTTP/1.1 \r\n\r\n",
		"GET  /metrics HTTP/1.1\r\n\r\n",
		"GET\t/metrics HTTP/1.1\r\n\r\n",
		"G(T /metrics HTTP/1.1\r\n\r\n",
		" GET /metrics HTTP/1.1\r\n\r\n",
		"\r\n\r\n",
		"GET /met\x01rics HTTP/1.1\r\n\r\n",
	};
	char big[6000];
	size_t n;

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		FETCH(reqs[i]);
		expect_status("HTTP/1.1 400 Bad Request\r\n");
		ck_assert_str_eq(body_of(resp), "bad request\n");
	}
	/* a NUL inside the request line */
	fetch("GET /me\0trics HTTP/1.1\r\n\r\n", 26, resp, sizeof(resp));
	expect_status("HTTP/1.1 400 Bad Request\r\n");

	/* headers that never end within the limit */
	n = (size_t)snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nX-Pad: ");
	memset(big + n, 'a', sizeof(big) - n);
	fetch(big, sizeof(big), resp, sizeof(resp));
	expect_status("HTTP/1.1 400 Bad Request\r\n");
	ck_assert_uint_eq(fake.scrapes, 0);
}
END_TEST

/* A client that sends nothing, or half a request line, is dropped after the timeout; it holds
 * up neither tp_metrics_poll() nor other clients meanwhile. */
START_TEST(idle_client_dropped)
{
	tp_socket_t silent = client_connect(), partial = client_connect();
	uint64_t start = tp_time_mono_ms(), t0, slowest = 0, elapsed;
	bool silent_gone = false, partial_gone = false;
	size_t len1 = 0, len2 = 0;
	char buf1[256], buf2[256];

	client_send(partial, "GET /met", 8);
	tp_metrics_poll(m, 10, &src);

	t0 = tp_time_mono_ms();
	FETCH("GET /metrics HTTP/1.1\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	ck_assert_uint_lt(tp_time_mono_ms() - t0, 1000);

	while (!(silent_gone && partial_gone) && tp_time_mono_ms() - start < 5000) {
		uint64_t before = tp_time_mono_ms(), took;

		tp_metrics_poll(m, 50, &src);
		took = tp_time_mono_ms() - before;
		if (took > slowest)
			slowest = took;
		silent_gone = silent_gone || client_read(silent, buf1, sizeof(buf1), &len1);
		partial_gone = partial_gone || client_read(partial, buf2, sizeof(buf2), &len2);
	}
	elapsed = tp_time_mono_ms() - start;
	ck_assert_msg(silent_gone && partial_gone, "idle clients still connected");
	ck_assert_uint_eq(len1, 0); /* dropped, not answered */
	ck_assert_uint_eq(len2, 0);
	ck_assert_uint_ge(elapsed, TP_METRICS_TIMEOUT_MS - 100);
	ck_assert_uint_lt(elapsed, TP_METRICS_TIMEOUT_MS + 1500);
	ck_assert_msg(slowest <= 50 + 150, "tp_metrics_poll(50) took %lu ms",
		      (unsigned long)slowest);
	tp_sock_close(silent);
	tp_sock_close(partial);
}
END_TEST

/* Idle connections in every slot do not lock the scraper out for the whole timeout. */
START_TEST(idle_slots_reclaimed)
{
	tp_socket_t idle[TP_METRICS_CONNS + 4];
	uint64_t t0;

	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		idle[i] = client_connect();
	for (int i = 0; i < 5; i++)
		tp_metrics_poll(m, 10, &src);
	t0 = tp_time_mono_ms();
	FETCH("GET /metrics HTTP/1.1\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	ck_assert_uint_lt(tp_time_mono_ms() - t0, TP_METRICS_TIMEOUT_MS / 2);
	for (size_t i = 0; i < sizeof(idle) / sizeof(idle[0]); i++)
		tp_sock_close(idle[i]);
}
END_TEST

#define FLOOD 50

START_TEST(flood)
{
	static char bufs[FLOOD][8192];
	tp_socket_t c[FLOOD];
	size_t len[FLOOD] = { 0 };
	bool closed[FLOOD] = { false };
	unsigned done = 0;
	uint64_t until;

	/* 50 scrapers at once: every one is answered. */
	for (int i = 0; i < FLOOD; i++)
		c[i] = client_connect();
	for (int i = 0; i < FLOOD; i++)
		client_send(c[i], "GET /metrics HTTP/1.1\r\n\r\n", 25);
	until = tp_time_mono_ms() + 10000;
	while (done < FLOOD && tp_time_mono_ms() < until) {
		tp_metrics_poll(m, 10, &src);
		for (int i = 0; i < FLOOD; i++) {
			if (!closed[i] && client_read(c[i], bufs[i], sizeof(bufs[i]), &len[i])) {
				closed[i] = true;
				done++;
			}
		}
	}
	ck_assert_uint_eq(done, FLOOD);
	for (int i = 0; i < FLOOD; i++) {
		ck_assert_msg(strncmp(bufs[i], "HTTP/1.1 200 OK\r\n", 17) == 0, "client %d: %.40s",
			      i, bufs[i]);
		tp_sock_close(c[i]);
	}
	ck_assert_uint_eq(fake.scrapes, FLOOD);

	/* 50 connections that say nothing, then a scraper: it still gets its answer. */
	for (int i = 0; i < FLOOD; i++)
		c[i] = client_connect();
	FETCH("GET /metrics HTTP/1.1\r\n\r\n");
	expect_status("HTTP/1.1 200 OK\r\n");
	/* and closing the endpoint with connections open releases everything (ASan) */
	for (int i = 0; i < 3; i++)
		tp_metrics_poll(m, 10, &src);
	for (int i = 0; i < FLOOD; i++)
		tp_sock_close(c[i]);
}
END_TEST

START_TEST(open_failure_names_the_address)
{
	struct tp_addr a;
	char err[256], want[64];

	ck_assert_int_eq(tp_addr_parse(&a, "127.0.0.1"), 0);
	a.port = tp_metrics_port(m);
	ck_assert_ptr_null(tp_metrics_open(&a, err, sizeof(err)));
	snprintf(want, sizeof(want), "metrics: cannot listen on 127.0.0.1:%u: ", a.port);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_ptr_null(tp_metrics_open(&a, NULL, 0));
	tp_metrics_close(NULL);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, render_exact_lines);
	tcase_add_test(tc, render_structure);
	tcase_add_test(tc, render_truncates_safely);
	tcase_add_test(tc, render_family_exact);
	tcase_add_test(tc, render_family_truncates_safely);
	suite_add_tcase(s, tc);

	tc = tcase_create("endpoint");
	tcase_add_checked_fixture(tc, endpoint_setup, endpoint_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, serves_metrics);
	tcase_add_test(tc, serves_extra_families);
	tcase_add_test(tc, not_found);
	tcase_add_test(tc, method_not_allowed);
	tcase_add_test(tc, bad_request);
	tcase_add_test(tc, idle_client_dropped);
	tcase_add_test(tc, idle_slots_reclaimed);
	tcase_add_test(tc, flood);
	tcase_add_test(tc, open_failure_names_the_address);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (tp_net_init() < 0)
		return EXIT_FAILURE;
	sr = srunner_create(metrics_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tp_net_fini();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
