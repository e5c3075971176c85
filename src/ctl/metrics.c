/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint: a minimal HTTP/1.x server on the control thread.
 *
 * One poller holds the listener and up to TP_METRICS_CONNS connections. A connection goes
 * through two states: READ until the request line and headers have arrived (an empty line),
 * then WRITE until the whole response is sent, then it is closed. Each state has a deadline of
 * TP_METRICS_TIMEOUT_MS, so a client that stalls costs one slot for at most that long. When
 * every slot is taken the listener is paused (its connections wait in the backlog) unless a
 * slot can be reclaimed from a client that has sat on it for METRICS_GRACE_MS without a full
 * request, so a handful of idle connections cannot lock out the scraper.
 *
 * Nothing here blocks: sockets are non-blocking, and tp_metrics_poll() waits only in
 * tp_poller_wait(), at most for the caller's timeout.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/metrics.h>
#include <turnpike/platform.h>

/* Listen backlog: scrapers are few; a burst beyond the slots waits here. */
#define METRICS_BACKLOG 128
/* A busy slot may be reclaimed from a client that has not completed its request by then. */
#define METRICS_GRACE_MS 250
/* After an accept error other than a vanished connection (EMFILE, ENOBUFS, ...). */
#define METRICS_BACKOFF_MS 100
/* Connections accepted per call at most, so a flood cannot hold up the control loop. */
#define METRICS_ACCEPT_BURST 64

enum conn_state {
	CONN_FREE = 0,
	CONN_READ,  /* waiting for the request */
	CONN_WRITE, /* sending the response */
};

struct metrics_conn {
	tp_socket_t s;
	enum conn_state state;
	uint64_t accepted; /* tp_time_mono_ms() */
	uint64_t deadline; /* dropped when the clock reaches this */
	char *out;	   /* the response (malloc), while writing */
	size_t out_len, out_off;
	size_t in_len;
	char in[TP_METRICS_REQUEST_MAX];
};

struct tp_metrics {
	tp_socket_t listener;
	struct tp_poller *poller;
	uint16_t port;
	bool paused;	    /* listener not watched */
	bool paused_full;   /* ... because every slot is busy: resume when one frees */
	uint64_t resume_at; /* ... or at this time (UINT64_MAX: never by time) */
	unsigned n_conns;
	struct metrics_conn conns[TP_METRICS_CONNS];
};

static void set_err(char *err, size_t errlen, const char *what, const struct tp_addr *a, int rc)
{
	char text[TP_ADDR_STRLEN];

	if (!err || !errlen)
		return;
	tp_addr_format(a, text, sizeof(text), true);
	snprintf(err, errlen, "metrics: %s %s: %s", what, text, tp_strerror(rc));
}

struct tp_metrics *tp_metrics_open(const struct tp_addr *listen, char *err, size_t errlen)
{
	struct tp_metrics *m = calloc(1, sizeof(*m));
	struct tp_addr local;
	bool ok = false;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!m) {
		set_err(err, errlen, "out of memory for", listen, -ENOMEM);
		return NULL;
	}
	m->listener = TP_SOCKET_INVALID;
	for (unsigned i = 0; i < TP_METRICS_CONNS; i++)
		m->conns[i].s = TP_SOCKET_INVALID;
	rc = tp_tcp_listen(listen, TP_SOCK_NONBLOCK, METRICS_BACKLOG, &m->listener);
	if (rc < 0) {
		set_err(err, errlen, "cannot listen on", listen, rc);
		goto out;
	}
	rc = tp_sock_local_addr(m->listener, &local);
	if (rc < 0) {
		set_err(err, errlen, "cannot read the address of", listen, rc);
		goto out;
	}
	m->port = local.port;
	m->poller = tp_poller_create();
	if (!m->poller) {
		set_err(err, errlen, "cannot create a poller for", listen, -ENOMEM);
		goto out;
	}
	rc = tp_poller_add(m->poller, m->listener, TP_POLL_IN, m);
	if (rc < 0) {
		set_err(err, errlen, "cannot poll", listen, rc);
		goto out;
	}
	ok = true;
out:
	if (!ok) {
		tp_metrics_close(m);
		m = NULL;
	}
	return m;
}

uint16_t tp_metrics_port(const struct tp_metrics *m)
{
	return m->port;
}

/* ---- connections ---- */

static void conn_close(struct tp_metrics *m, struct metrics_conn *c)
{
	tp_poller_del(m->poller, c->s);
	tp_sock_close(c->s);
	free(c->out);
	c->out = NULL;
	c->s = TP_SOCKET_INVALID;
	c->state = CONN_FREE;
	m->n_conns--;
}

void tp_metrics_close(struct tp_metrics *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < TP_METRICS_CONNS; i++)
		if (m->conns[i].state != CONN_FREE)
			conn_close(m, &m->conns[i]);
	if (m->poller && m->listener != TP_SOCKET_INVALID)
		tp_poller_del(m->poller, m->listener);
	tp_sock_close(m->listener);
	tp_poller_destroy(m->poller);
	free(m);
}

/* Read and discard what the client sent beyond the request, so closing sends a FIN, not a
 * RST that could destroy the response before the client has read it. */
static void conn_drain(struct metrics_conn *c)
{
	for (int i = 0; i < 4 && tp_sock_recv(c->s, c->in, sizeof(c->in)) > 0; i++)
		;
}

static void conn_write(struct tp_metrics *m, struct metrics_conn *c)
{
	while (c->out_off < c->out_len) {
		long n = tp_sock_send(c->s, c->out + c->out_off, c->out_len - c->out_off);

		if (n == -EAGAIN)
			return; /* watched for TP_POLL_OUT */
		if (n <= 0) {
			conn_close(m, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	conn_drain(c);
	conn_close(m, c);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Bad Request";
	}
}

/*
 * The source's extra families, whole: a first try in a page, then in a buffer of the size it
 * asked for (with slack, as counters may have grown a digit meanwhile). NULL when there are none
 * or memory is short: the engine's families are still served.
 */
static char *render_extra(const struct tp_metrics_source *src, size_t *len)
{
	size_t cap = 4096;

	*len = 0;
	if (!src || !src->extra)
		return NULL;
	for (int attempt = 0; attempt < 3; attempt++) {
		char *buf = malloc(cap);
		size_t n;

		if (!buf)
			return NULL;
		n = src->extra(src->ctx, buf, cap);
		if (n < cap) {
			*len = n;
			return buf;
		}
		free(buf);
		cap = n + 1024;
	}
	return NULL;
}

/* Build the whole response into c->out and start sending it. */
static void conn_respond(struct tp_metrics *m, struct metrics_conn *c, int status,
			 const struct tp_metrics_source *src, uint64_t now)
{
	struct tp_stats sum;
	char *extra = NULL;
	size_t extra_len = 0, core_len = 0;
	const char *type = "text/plain; charset=utf-8";
	const char *body = status == 404   ? "not found\n"
			   : status == 405 ? "method not allowed\n"
					   : "bad request\n";
	const char *allow = status == 405 ? "Allow: GET\r\n" : "";
	uint32_t workers = 0;
	size_t body_len = strlen(body), cap;
	char head[256];
	int head_len;

	if (status == 200) {
		memset(&sum, 0, sizeof(sum));
		if (src && src->stats)
			src->stats(src->ctx, &sum);
		if (src && src->workers)
			workers = src->workers(src->ctx);
		core_len = tp_metrics_render(&sum, workers, NULL, 0);
		extra = render_extra(src, &extra_len);
		body_len = core_len + extra_len;
		type = "text/plain; version=0.0.4";
	}
	head_len = snprintf(head, sizeof(head),
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: %s\r\n"
			    "Content-Length: %lu\r\n"
			    "%s"
			    "Connection: close\r\n"
			    "\r\n",
			    status, status_text(status), type, (unsigned long)body_len, allow);
	if (head_len < 0 || (size_t)head_len >= sizeof(head))
		goto fail;
	cap = (size_t)head_len + body_len + 1;
	c->out = malloc(cap);
	if (!c->out)
		goto fail;
	memcpy(c->out, head, (size_t)head_len);
	if (status == 200) {
		tp_metrics_render(&sum, workers, c->out + head_len, cap - (size_t)head_len);
		if (extra_len)
			memcpy(c->out + head_len + core_len, extra, extra_len);
		c->out[cap - 1] = '\0';
	} else {
		memcpy(c->out + head_len, body, body_len);
	}
	free(extra);
	extra = NULL;
	c->out_len = (size_t)head_len + body_len;
	c->out_off = 0;
	c->state = CONN_WRITE;
	c->deadline = now + TP_METRICS_TIMEOUT_MS;
	if (tp_poller_mod(m->poller, c->s, TP_POLL_OUT, c) < 0)
		goto fail;
	conn_write(m, c);
	return;
fail:
	free(extra);
	conn_close(m, c);
}

/* ---- requests ---- */

/* RFC 9110 §5.6.2: the characters of a token, such as a method. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/*
 * The end of the header block: the offset just past the first empty line, or 0 while it has
 * not arrived. Lines end in CRLF or, leniently (RFC 9112 §2.2), a bare LF.
 */
static size_t request_end(const char *p, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (i == line || (i == line + 1 && p[line] == '\r'))
			return i + 1;
		line = i + 1;
	}
	return 0;
}

/*
 * The status for the request line in @p p (RFC 9112 §3): "METHOD SP target SP HTTP/1.x",
 * then CRLF or LF. The target is origin-form ("/metrics?x") or absolute-form
 * ("http://host/metrics").
 */
static int request_status(const char *p, size_t len)
{
	const char *end = memchr(p, '\n', len), *sp1, *sp2, *path;
	size_t mlen, plen, n;

	if (!end)
		return 400;
	n = (size_t)(end - p);
	if (n && p[n - 1] == '\r')
		n--;
	sp1 = memchr(p, ' ', n);
	if (!sp1 || sp1 == p)
		return 400;
	mlen = (size_t)(sp1 - p);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar(p[i]))
			return 400;
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (!sp2 || sp2 == sp1 + 1 || p + n - (sp2 + 1) != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return 400;
	path = sp1 + 1;
	plen = (size_t)(sp2 - path);
	for (size_t i = 0; i < plen; i++)
		if (path[i] <= ' ' || path[i] == 0x7f)
			return 400;
	if (plen > 7 && (memcmp(path, "http://", 7) == 0 || memcmp(path, "https://", 8) == 0)) {
		const char *host = path + (path[4] == ':' ? 7 : 8); /* past "http://" */
		const char *slash = memchr(host, '/', (size_t)(sp2 - host));

		plen = slash ? (size_t)(sp2 - slash) : 0;
		path = slash ? slash : sp2;
	}
	if (plen < 8 || memcmp(path, "/metrics", 8) != 0 || (plen > 8 && path[8] != '?'))
		return 404;
	if (mlen != 3 || memcmp(p, "GET", 3) != 0)
		return 405;
	return 200;
}

static void conn_read(struct tp_metrics *m, struct metrics_conn *c,
		      const struct tp_metrics_source *src, uint64_t now)
{
	for (;;) {
		size_t room = sizeof(c->in) - c->in_len;
		long n;

		if (!room) { /* no empty line within TP_METRICS_REQUEST_MAX bytes */
			conn_respond(m, c, 400, src, now);
			return;
		}
		n = tp_sock_recv(c->s, c->in + c->in_len, room);
		if (n == -EAGAIN)
			return;
		if (n <= 0) { /* closed or failed before a whole request */
			conn_close(m, c);
			return;
		}
		c->in_len += (size_t)n;
		/* A broken request line is answered at once; a good one after the headers. */
		if (memchr(c->in, '\n', c->in_len) && request_status(c->in, c->in_len) == 400) {
			conn_respond(m, c, 400, src, now);
			return;
		}
		if (request_end(c->in, c->in_len)) {
			conn_respond(m, c, request_status(c->in, c->in_len), src, now);
			return;
		}
	}
}

/* ---- the listener ---- */

static void listener_pause(struct tp_metrics *m, bool full, uint64_t until)
{
	if (!m->paused && tp_poller_mod(m->poller, m->listener, 0, m) == 0)
		m->paused = true;
	m->paused_full = full;
	m->resume_at = until;
}

static void listener_resume(struct tp_metrics *m, uint64_t now)
{
	if (!m->paused ||
	    (now < m->resume_at && !(m->paused_full && m->n_conns < TP_METRICS_CONNS)))
		return;
	if (tp_poller_mod(m->poller, m->listener, TP_POLL_IN, m) == 0)
		m->paused = false;
}

/* A slot for a new connection: a free one, or the oldest that has idled past the grace time. */
static struct metrics_conn *conn_slot(struct tp_metrics *m, uint64_t now, uint64_t *retry)
{
	struct metrics_conn *oldest = NULL;

	for (unsigned i = 0; i < TP_METRICS_CONNS; i++) {
		struct metrics_conn *c = &m->conns[i];

		if (c->state == CONN_FREE)
			return c;
		if (c->state == CONN_READ && (!oldest || c->accepted < oldest->accepted))
			oldest = c;
	}
	*retry = oldest ? oldest->accepted + METRICS_GRACE_MS : UINT64_MAX;
	if (!oldest || now < *retry)
		return NULL;
	conn_close(m, oldest);
	return oldest;
}

static void listener_accept(struct tp_metrics *m, const struct tp_metrics_source *src, uint64_t now)
{
	for (int i = 0; i < METRICS_ACCEPT_BURST; i++) {
		uint64_t retry = UINT64_MAX;
		struct metrics_conn *c = conn_slot(m, now, &retry);
		tp_socket_t s;
		int rc;

		if (!c) {
			listener_pause(m, true, retry);
			return;
		}
		rc = tp_tcp_accept(m->listener, &s, NULL, NULL);
		if (rc == -EAGAIN)
			return;
		if (rc == -ECONNABORTED || rc == -EPROTO || rc == -EINTR)
			continue; /* that connection died in the queue; take the next */
		if (rc < 0) {
			/* Out of descriptors or buffers: the listener stays readable, so stop
			 * watching it for a moment instead of spinning. */
			listener_pause(m, false, now + METRICS_BACKOFF_MS);
			return;
		}
		if (tp_poller_add(m->poller, s, TP_POLL_IN, c) < 0) {
			tp_sock_close(s);
			continue;
		}
		c->s = s;
		c->state = CONN_READ;
		c->accepted = now;
		c->deadline = now + TP_METRICS_TIMEOUT_MS;
		c->in_len = 0;
		m->n_conns++;
		conn_read(m, c, src, now); /* the request has usually arrived with the handshake */
	}
}

/* ---- the loop ---- */

static int wait_ms(const struct tp_metrics *m, int timeout_ms, uint64_t now)
{
	uint64_t until = now + (uint64_t)timeout_ms;

	for (unsigned i = 0; i < TP_METRICS_CONNS; i++)
		if (m->conns[i].state != CONN_FREE && m->conns[i].deadline < until)
			until = m->conns[i].deadline;
	if (m->paused && m->resume_at < until)
		until = m->resume_at;
	return until > now ? (int)(until - now) : 0;
}

int tp_metrics_poll(struct tp_metrics *m, int timeout_ms, const struct tp_metrics_source *src)
{
	struct tp_poll_event ev[TP_METRICS_CONNS + 1];
	bool accept = false;
	uint64_t now;
	int n;

	if (timeout_ms < 0)
		timeout_ms = 0;
	n = tp_poller_wait(m->poller, ev, TP_METRICS_CONNS + 1,
			   wait_ms(m, timeout_ms, tp_time_mono_ms()));
	if (n < 0)
		return n;
	now = tp_time_mono_ms();
	/* Connections first: handling one closes only itself, and accepting afterwards cannot
	 * hand a slot with an event still pending in ev[] to a new connection. */
	for (int i = 0; i < n; i++) {
		struct metrics_conn *c = ev[i].data;

		if (ev[i].data == m) {
			accept = !m->paused && (ev[i].events & TP_POLL_IN);
		} else if (c->state == CONN_READ) {
			conn_read(m, c, src, now);
		} else if (c->state == CONN_WRITE) {
			if (ev[i].events & (TP_POLL_ERR | TP_POLL_HUP) &&
			    !(ev[i].events & TP_POLL_OUT))
				conn_close(m, c);
			else
				conn_write(m, c);
		}
	}
	for (unsigned i = 0; i < TP_METRICS_CONNS; i++)
		if (m->conns[i].state != CONN_FREE && now >= m->conns[i].deadline)
			conn_close(m, &m->conns[i]);
	if (accept)
		listener_accept(m, src, now);
	listener_resume(m, now); /* once re-watched, the next wait reports what is queued */
	return n;
}
