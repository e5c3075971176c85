/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tp_metrics_render(): the summed counters as Prometheus text exposition format 0.0.4, and
 * tp_metrics_render_family() for the families a data plane adds (struct tp_metrics_source's
 * extra callback).
 *
 * Every family and label value comes from the X-macro tables in stats.h and wire.h (or the
 * caller's, for tp_metrics_render_family()), so the output lists exactly what the code counts
 * and its size is fixed by the build. The text is
 * written with plain string and integer appends (no printf), which keeps it exact and cheap.
 */
#include <stdbool.h>
#include <string.h>

#include <tp_build.h>
#include <turnpike/metrics.h>
#include <turnpike/stats.h>
#include <turnpike/wire.h>

/* A snprintf-like sink: counts everything, stores what fits and keeps room for the NUL. */
struct text {
	char *buf;
	size_t cap;
	size_t len; /* of the whole text, stored or not */
};

static void put_mem(struct text *t, const char *s, size_t n)
{
	if (t->cap && t->len < t->cap - 1) {
		size_t room = t->cap - 1 - t->len;

		memcpy(t->buf + t->len, s, n < room ? n : room);
	}
	t->len += n;
}

static void put(struct text *t, const char *s)
{
	put_mem(t, s, strlen(s));
}

static void put_u64(struct text *t, uint64_t v)
{
	char d[20];
	size_t n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_mem(t, d + n, sizeof(d) - n);
}

/*
 * A label value, escaped as the format requires (backslash, double quote, line feed), and
 * lower-cased on request ("RELAY_TO_PEER_PKTS" -> "relay_to_peer_pkts").
 */
static void put_value(struct text *t, const char *s, bool lower)
{
	for (; *s; s++) {
		char c = *s;

		if (c == '\\' || c == '"') {
			put_mem(t, "\\", 1);
		} else if (c == '\n') {
			put_mem(t, "\\n", 2);
			continue;
		} else if (lower && c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		put_mem(t, &c, 1);
	}
}

/* "# HELP name help\n# TYPE name type\n": the help texts are constants without escapes. */
static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP ");
	put(t, name);
	put(t, " ");
	put(t, help);
	put(t, "\n# TYPE ");
	put(t, name);
	put(t, " ");
	put(t, type);
	put(t, "\n");
}

/* name{key="value"} v */
static void sample(struct text *t, const char *name, const char *key, const char *value, bool lower,
		   uint64_t v)
{
	put(t, name);
	put(t, "{");
	put(t, key);
	put(t, "=\"");
	put_value(t, value, lower);
	put(t, "\"} ");
	put_u64(t, v);
	put(t, "\n");
}

/* name v */
static void gauge(struct text *t, const char *name, const char *help, uint64_t v)
{
	family(t, name, "gauge", help);
	put(t, name);
	put(t, " ");
	put_u64(t, v);
	put(t, "\n");
}

static void responses(struct text *t, const struct tp_stats *sum)
{
	static const char name[] = "turnpike_responses_total";

	family(t, name, "counter", "STUN responses sent, by method and class.");
	for (unsigned m = 0; m < TP_SM_COUNT; m++) {
		for (int err = 0; err < 2; err++) {
			put(t, name);
			put(t, "{method=\"");
			put_value(t, tp_stat_method_name(m), true);
			put(t, err ? "\",class=\"error\"} " : "\",class=\"success\"} ");
			put_u64(t, tp_stat_read(err ? &sum->errors[m] : &sum->success[m]));
			put(t, "\n");
		}
	}
}

static void error_codes(struct text *t, const struct tp_stats *sum)
{
	static const char name[] = "turnpike_error_responses_total";

	family(t, name, "counter", "STUN error responses sent, by error code.");
	for (unsigned i = 0; i < TP_SE_COUNT; i++) {
		put(t, name);
		put(t, "{code=\"");
		put_u64(t, (uint64_t)tp_stat_error_code(i));
		put(t, "\"} ");
		put_u64(t, tp_stat_read(&sum->error_code[i]));
		put(t, "\n");
	}
}

size_t tp_metrics_render(const struct tp_stats *sum, uint32_t workers, char *buf, size_t cap)
{
	struct text t = { buf, buf ? cap : 0, 0 };

	family(&t, "turnpike_drops_total", "counter", "Packets dropped by the engine, by reason.");
	for (unsigned i = 0; i < TP_DROP_COUNT; i++)
		sample(&t, "turnpike_drops_total", "reason", tp_drop_name(i), false,
		       tp_stat_read(&sum->drop[i]));

	/*
	 * One sample per TP_WIRE_ERRORS entry, indexes 1..: index 0 (TP_WIRE_OK) is only the
	 * engine's bucket for a code outside the table, which the codec never returns; such a
	 * message still shows in turnpike_drops_total{reason="STUN_MALFORMED"}.
	 */
	family(&t, "turnpike_codec_errors_total", "counter",
	       "STUN messages the codec refused, by error.");
	for (int e = 1; e < TP_WIRE_ERR_COUNT; e++)
		sample(&t, "turnpike_codec_errors_total", "error", tp_wire_errname(e), false,
		       tp_stat_read(&sum->wire[e]));

	family(&t, "turnpike_events_total", "counter",
	       "Engine events: packets and bytes relayed, allocations, permissions, channels, "
	       "authentication.");
	for (unsigned i = 0; i < TP_CTR_COUNT; i++)
		sample(&t, "turnpike_events_total", "event", tp_counter_name(i), true,
		       tp_stat_read(&sum->ctr[i]));

	family(&t, "turnpike_requests_total", "counter",
	       "STUN requests and indications received, by method.");
	for (unsigned m = 0; m < TP_SM_COUNT; m++)
		sample(&t, "turnpike_requests_total", "method", tp_stat_method_name(m), true,
		       tp_stat_read(&sum->requests[m]));

	responses(&t, sum);
	error_codes(&t, sum);
	gauge(&t, "turnpike_allocations", "Live allocations.", tp_stat_read(&sum->allocations));
	gauge(&t, "turnpike_workers", "Data-plane workers running.", workers);

	family(&t, "turnpike_build_info", "gauge", "Build information; the value is always 1.");
	sample(&t, "turnpike_build_info", "version", TP_VERSION, false, 1);

	if (t.cap)
		t.buf[t.len < t.cap ? t.len : t.cap - 1] = '\0';
	return t.len;
}

size_t tp_metrics_render_family(const struct tp_metrics_family *f, char *buf, size_t cap)
{
	struct text t = { buf, buf ? cap : 0, 0 };

	family(&t, f->name, f->type, f->help);
	for (unsigned i = 0; i < f->n; i++)
		sample(&t, f->name, f->label, f->value_name(i), f->lower, f->values[i]);
	if (t.cap)
		t.buf[t.len < t.cap ? t.len : t.cap - 1] = '\0';
	return t.len;
}
