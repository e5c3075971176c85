/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The test client's I/O half: addresses, sockets, TLS (OpenSSL libssl, client side, no
 * certificate verification: the relay under test has a self-signed certificate), stream framing
 * with tp_framer, and the loopback UDP peers. Every wait is bounded by poll().
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tclient.h"

#define TCL_SOCK_TIMEOUT_S 5 /* backstop for the blocking connect and TLS handshake */

uint64_t tcl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int tcl_fail(struct tcl *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* --- addresses --- */

struct tp_addr tcl_addr(const char *text)
{
	struct tp_addr a;

	memset(&a, 0, sizeof(a));
	if (tp_addr_parse(&a, text) < 0)
		memset(&a, 0, sizeof(a));
	return a;
}

const char *tcl_addr_str(const struct tp_addr *a)
{
	static char bufs[4][TP_ADDR_STRLEN];
	static unsigned next;
	char *b = bufs[next++ % 4];

	if (!tp_addr_format(a, b, TP_ADDR_STRLEN, true))
		snprintf(b, TP_ADDR_STRLEN, "(none)");
	return b;
}

static socklen_t to_sockaddr(const struct tp_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == TP_AF_INET) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(a->port);
		memcpy(&sin.sin_addr, a->ip, 4);
		memcpy(ss, &sin, sizeof(sin));
		return sizeof(sin);
	}
	if (a->family == TP_AF_INET6) {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(a->port);
		memcpy(&sin6.sin6_addr, a->ip, 16);
		memcpy(ss, &sin6, sizeof(sin6));
		return sizeof(sin6);
	}
	return 0;
}

static struct tp_addr from_sockaddr(const struct sockaddr_storage *ss)
{
	struct tp_addr a;

	memset(&a, 0, sizeof(a));
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, ss, sizeof(sin));
		tp_addr_set4(&a, (const uint8_t *)&sin.sin_addr, ntohs(sin.sin_port));
	} else if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, ss, sizeof(sin6));
		tp_addr_set6(&a, (const uint8_t *)&sin6.sin6_addr, ntohs(sin6.sin6_port));
	}
	return a;
}

static struct tp_addr local_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	getsockname(fd, (struct sockaddr *)&ss, &len);
	return from_sockaddr(&ss);
}

/* A socket of @family bound to @local_ip (NULL: unbound), with send/receive backstops. */
static int socket_for(const struct tp_addr *server, int type, const char *local_ip)
{
	struct timeval tv = { .tv_sec = TCL_SOCK_TIMEOUT_S };
	struct sockaddr_storage ss;
	int fd = socket(server->family == TP_AF_INET6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (local_ip) {
		struct tp_addr l = tcl_addr(local_ip);
		socklen_t len = to_sockaddr(&l, &ss);

		if (!len || bind(fd, (struct sockaddr *)&ss, len) < 0) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* --- connections --- */

static int tls_start(struct tcl *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int flags;

	if (!ctx)
		return tcl_fail(c, TCL_EIO, "TLS: no context");
	c->ssl_ctx = ctx;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(ctx);
	if (!ssl)
		return tcl_fail(c, TCL_EIO, "TLS: no session");
	c->ssl = ssl;
	if (SSL_set_fd(ssl, c->fd) != 1 || SSL_connect(ssl) != 1)
		return tcl_fail(c, TCL_EIO, "TLS handshake with %s failed: %s",
				tcl_addr_str(&c->server), ERR_reason_error_string(ERR_get_error()));
	/* From here on non-blocking, so that a TLS record without application data (a TLS 1.3
	 * session ticket) cannot make a read block past its deadline. */
	flags = fcntl(c->fd, F_GETFL);
	if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return tcl_fail(c, TCL_EIO, "fcntl: %s", strerror(errno));
	return 0;
}

int tcl_open(struct tcl *c, int transport, const struct tp_addr *server, const char *local_ip)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->transport = transport;
	c->server = *server;
	c->rbuf = malloc(TCL_FRAME_MAX);
	if (!c->rbuf)
		return tcl_fail(c, TCL_EIO, "out of memory");
	tp_framer_init(&c->fr, c->rbuf, TCL_FRAME_MAX);
	len = to_sockaddr(server, &ss);
	if (!len)
		return tcl_fail(c, TCL_EIO, "no server address");
	c->fd = socket_for(server, transport == TCL_UDP ? SOCK_DGRAM : SOCK_STREAM, local_ip);
	if (c->fd < 0)
		return tcl_fail(c, TCL_EIO, "socket/bind %s: %s", local_ip ? local_ip : "",
				strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&ss, len) < 0)
		return tcl_fail(c, TCL_EIO, "connect %s: %s", tcl_addr_str(server),
				strerror(errno));
	if (transport != TCL_UDP)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->local = local_of(c->fd);
	if (transport == TCL_TLS)
		return tls_start(c);
	return 0;
}

void tcl_close(struct tcl *c)
{
	if (!c->rbuf)
		return;
	if (c->ssl) {
		SSL_shutdown(c->ssl); /* sends close_notify; does not wait for the answer */
		SSL_free(c->ssl);
	}
	if (c->ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	c->ssl = c->ssl_ctx = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	for (unsigned i = 0; i < TCL_QUEUE; i++) {
		free(c->queue[i]);
		c->queue[i] = NULL;
	}
	c->qlen = 0;
	free(c->rbuf);
	c->rbuf = NULL;
}

/* Wait until @fd is ready for @events, at most @ms: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, ms < 0 ? 0 : ms);
	while (rc < 0 && errno == EINTR);
	return rc > 0;
}

static int remaining(uint64_t deadline)
{
	uint64_t now = tcl_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

int tcl_send_raw(struct tcl *c, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t done = 0;

	if (c->fd < 0)
		return tcl_fail(c, TCL_EIO, "not connected");
	if (c->transport == TCL_UDP) {
		if (send(c->fd, p, n, 0) != (ssize_t)n)
			return tcl_fail(c, TCL_EIO, "send: %s", strerror(errno));
		return 0;
	}
	while (done < n) {
		long k;

		if (c->ssl) {
			int e;

			ERR_clear_error();
			k = SSL_write(c->ssl, b + done, (int)(n - done));
			if (k <= 0) {
				e = SSL_get_error(c->ssl, (int)k);
				if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) &&
				    wait_fd(c->fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN,
					    TCL_SOCK_TIMEOUT_S * 1000))
					continue;
				return tcl_fail(c, TCL_EIO, "TLS write failed (%d)", e);
			}
		} else {
			k = send(c->fd, b + done, n - done, MSG_NOSIGNAL);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return tcl_fail(c, TCL_EIO, "send: %s", strerror(errno));
		}
		done += (size_t)k;
	}
	return 0;
}

/* Read more stream bytes into the framer, waiting until @deadline. */
static int stream_fill(struct tcl *c, uint64_t deadline)
{
	for (;;) {
		size_t avail;
		uint8_t *dst;
		long n;

		if (!(c->ssl && SSL_pending(c->ssl) > 0) &&
		    !wait_fd(c->fd, POLLIN, remaining(deadline)))
			return TCL_ETIMEOUT;
		dst = tp_framer_space(&c->fr, &avail);
		if (avail == 0)
			return tcl_fail(c, TCL_EPROTO, "a frame larger than %d bytes",
					TCL_FRAME_MAX);
		if (c->ssl) {
			int e;

			ERR_clear_error();
			n = SSL_read(c->ssl, dst, (int)(avail > 65536 ? 65536 : avail));
			if (n <= 0) {
				e = SSL_get_error(c->ssl, (int)n);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
					if (remaining(deadline) == 0)
						return TCL_ETIMEOUT;
					continue;
				}
				return tcl_fail(c, TCL_EIO, "TLS stream closed (%d)", e);
			}
		} else {
			n = recv(c->fd, dst, avail, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return tcl_fail(c, TCL_EIO, "stream closed by the server%s%s",
						n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		}
		tp_framer_commit(&c->fr, (size_t)n);
		return 0;
	}
}

long tcl_net_recv(struct tcl *c, uint8_t *buf, size_t cap, int timeout_ms)
{
	uint64_t deadline = tcl_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);

	if (c->fd < 0)
		return tcl_fail(c, TCL_EIO, "not connected");
	if (c->transport == TCL_UDP) {
		ssize_t n;

		if (!wait_fd(c->fd, POLLIN, timeout_ms))
			return TCL_ETIMEOUT;
		n = recv(c->fd, c->rbuf, TCL_FRAME_MAX, 0);
		if (n < 0)
			return tcl_fail(c, TCL_EIO, "recv: %s", strerror(errno));
		memcpy(buf, c->rbuf, (size_t)n < cap ? (size_t)n : cap);
		return (long)n;
	}
	for (;;) {
		const uint8_t *frame;
		size_t len;
		int rc = tp_framer_next(&c->fr, &frame, &len);

		if (rc < 0)
			return tcl_fail(c, TCL_EPROTO, "stream framing: %s", tp_wire_strerror(rc));
		if (rc == 1) {
			memcpy(buf, frame, len < cap ? len : cap);
			return (long)len;
		}
		rc = stream_fill(c, deadline);
		if (rc < 0)
			return rc;
	}
}

/* --- peers --- */

int tcl_peer_open(struct tcl_peer *p, const char *ip)
{
	struct tp_addr a = tcl_addr(ip);
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&a, &ss);

	p->fd = -1;
	if (!len)
		return TCL_EIO;
	p->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&ss, len) < 0)
		return TCL_EIO;
	p->addr = local_of(p->fd);
	return 0;
}

void tcl_peer_close(struct tcl_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int tcl_peer_send(struct tcl_peer *p, const struct tp_addr *to, const void *data, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(to, &ss);

	if (!sl || sendto(p->fd, data, len, 0, (struct sockaddr *)&ss, sl) != (ssize_t)len)
		return TCL_EIO;
	return 0;
}

long tcl_peer_recv(struct tcl_peer *p, void *buf, size_t cap, struct tp_addr *from, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n;

	if (!wait_fd(p->fd, POLLIN, timeout_ms))
		return TCL_ETIMEOUT;
	memset(&ss, 0, sizeof(ss));
	n = recvfrom(p->fd, buf, cap, 0, (struct sockaddr *)&ss, &sl);
	if (n < 0)
		return TCL_EIO;
	if (from)
		*from = from_sockaddr(&ss);
	return (long)n;
}
