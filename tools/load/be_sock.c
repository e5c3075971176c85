/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sockets back end: one connected UDP socket per client (so each allocation has its own
 * 5-tuple, as real clients do), one unconnected socket for the peer sink. Sends go out with
 * sendmmsg, one call per run of datagrams from the same socket; receives find ready sockets
 * with epoll and drain each with recvmmsg.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define LD_SOCK_RX_PER_FD 32		     /* datagrams taken from one socket per receive */
#define LD_PEER_BUF	  (16 * 1024 * 1024) /* the peer sink gets everything */

struct ld_sock {
	struct ld_backend base; /* first: the rest of the program sees only this */
	uint32_t n;
	int *fd; /* per client */
	int peer_fd;
	int epfd;
	struct tp_addr server;
	struct tp_addr client_ip; /* --client-ip, port 0 */
	struct epoll_event ev[LD_BATCH_MAX];
	struct mmsghdr msg[LD_BATCH_MAX];
	struct iovec iov[LD_BATCH_MAX];
	struct sockaddr_storage name[LD_BATCH_MAX];
	uint8_t (*rxbuf)[LD_PKT_MAX];
};

static struct ld_sock *sock_of(struct ld_backend *b)
{
	return (struct ld_sock *)(void *)b;
}

static socklen_t to_sa(const struct tp_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == TP_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
		return sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->ip, 16);
		return sizeof(*s6);
	}
}

static void from_sa(const struct sockaddr_storage *ss, struct tp_addr *a)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)ss;

		tp_addr_set4(a, (const uint8_t *)&s4->sin_addr, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)ss;

		tp_addr_set6(a, (const uint8_t *)&s6->sin6_addr, ntohs(s6->sin6_port));
	} else {
		memset(a, 0, sizeof(*a));
	}
}

static uint64_t sock_now(struct ld_backend *b)
{
	struct timespec ts;

	(void)b;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* sendmmsg all of @p n prepared messages on @p fd; returns how many went out. */
static unsigned send_run(int fd, struct mmsghdr *msg, unsigned n)
{
	unsigned done = 0, retried = 0;

	while (done < n) {
		int r = sendmmsg(fd, msg + done, n - done, MSG_DONTWAIT);

		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		/* A connected socket reports an earlier ICMP error on the next send: once more. */
		if (r < 0 && errno != EAGAIN && errno != ENOBUFS && !retried++)
			continue;
		break;
	}
	return done;
}

static unsigned sock_send(struct ld_backend *b, const struct ld_pkt *p, unsigned n)
{
	struct ld_sock *s = sock_of(b);
	unsigned k = 0, sent = 0;

	while (k < n) {
		uint32_t ep = p[k].ep;
		unsigned j = k;

		for (; j < n && p[j].ep == ep; j++) {
			struct msghdr *h = &s->msg[j - k].msg_hdr;

			s->iov[j - k].iov_base = p[j].data;
			s->iov[j - k].iov_len = p[j].len;
			memset(h, 0, sizeof(*h));
			h->msg_iov = &s->iov[j - k];
			h->msg_iovlen = 1;
			if (ep == LD_EP_PEER) {
				h->msg_name = &s->name[j - k];
				h->msg_namelen = to_sa(&p[j].addr, &s->name[j - k]);
			}
		}
		sent += send_run(ep == LD_EP_PEER ? s->peer_fd : s->fd[ep], s->msg, j - k);
		k = j;
	}
	return sent;
}

/* recvmmsg at most @p room datagrams from endpoint @p ep into p[got...]; returns how many. */
static unsigned recv_fd(struct ld_sock *s, uint32_t ep, struct ld_pkt *p, unsigned got,
			unsigned room)
{
	int fd = ep == LD_EP_PEER ? s->peer_fd : s->fd[ep], r;
	unsigned j, k;

	for (j = 0; j < room; j++) {
		struct msghdr *h = &s->msg[j].msg_hdr;

		s->iov[j].iov_base = s->rxbuf[got + j];
		s->iov[j].iov_len = LD_PKT_MAX;
		memset(h, 0, sizeof(*h));
		h->msg_iov = &s->iov[j];
		h->msg_iovlen = 1;
		if (ep == LD_EP_PEER) {
			h->msg_name = &s->name[j];
			h->msg_namelen = sizeof(s->name[j]);
		}
	}
	r = recvmmsg(fd, s->msg, room, MSG_DONTWAIT, NULL);
	for (k = 0; r > 0 && k < (unsigned)r; k++) {
		struct ld_pkt *q = &p[got + k];

		q->data = s->rxbuf[got + k];
		q->len = s->msg[k].msg_len;
		q->ep = ep;
		if (ep == LD_EP_PEER)
			from_sa(&s->name[k], &q->addr);
		else
			q->addr = s->server; /* connected: only the server gets through */
	}
	return r > 0 ? (unsigned)r : 0;
}

static unsigned sock_recv(struct ld_backend *b, struct ld_pkt *p, unsigned n, uint64_t timeout)
{
	struct ld_sock *s = sock_of(b);
	struct timespec ts = { .tv_sec = (time_t)(timeout / 1000000000ull),
			       .tv_nsec = (long)(timeout % 1000000000ull) };
	unsigned got, room;
	int nev, e;

	if (n > LD_BATCH_MAX)
		n = LD_BATCH_MAX;
	/*
	 * The peer sink takes everything client->peer, as much as all the client sockets
	 * together take peer->client: read it first, up to half the batch, on every call.
	 * Through epoll alone it would get one turn among thousands of ready clients.
	 */
	got = n >= 2 ? recv_fd(s, LD_EP_PEER, p, 0, n / 2) : 0;
	if (got)
		ts.tv_sec = ts.tv_nsec = 0;
	nev = epoll_pwait2(s->epfd, s->ev, (int)(n - got), &ts, NULL);
	if (nev < 0 && errno == ENOSYS)
		nev = epoll_wait(s->epfd, s->ev, (int)(n - got),
				 got ? 0 : (int)((timeout + 999999) / 1000000));
	for (e = 0; e < nev && got < n; e++) {
		room = n - got;
		if (room > LD_SOCK_RX_PER_FD)
			room = LD_SOCK_RX_PER_FD;
		got += recv_fd(s, s->ev[e].data.u32, p, got, room);
	}
	return got;
}

static void sock_destroy(struct ld_backend *b)
{
	struct ld_sock *s = sock_of(b);
	uint32_t i;

	if (s->fd)
		for (i = 0; i < s->n; i++)
			if (s->fd[i] >= 0)
				close(s->fd[i]);
	if (s->peer_fd >= 0)
		close(s->peer_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->fd);
	free(s->rxbuf);
	free(s);
}

static int sock_rebind(struct ld_backend *b, uint32_t ep);

static const struct ld_backend_ops sock_ops = {
	.name = "sockets",
	.send = sock_send,
	.recv = sock_recv,
	.now = sock_now,
	.rebind = sock_rebind,
	.destroy = sock_destroy,
};

static void set_buf(int fd, int opt, int force, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

/* One socket per client plus the peer sink need file descriptors: raise the soft limit. */
static int raise_nofile(uint32_t need, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = rl.rlim_max >= need || rl.rlim_max == RLIM_INFINITY ? need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need) {
		snprintf(err, errlen,
			 "%u file descriptors needed but RLIMIT_NOFILE allows %llu (ulimit -n)",
			 need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	return 0;
}

/* Open client @p i's socket (closing the one it had): --client-ip, an ephemeral port,
 * connected to the server, watched by epoll. Returns 0 or -1 with errno set. */
static int client_open(struct ld_sock *s, uint32_t i)
{
	struct sockaddr_storage ss, srv;
	socklen_t len = to_sa(&s->client_ip, &ss), slen = to_sa(&s->server, &srv);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    connect(fd, (struct sockaddr *)&srv, slen) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (s->n <= 256)
		set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, 1 << 20);
	if (s->fd[i] >= 0)
		close(s->fd[i]); /* also leaves the epoll set */
	s->fd[i] = fd;
	return 0;
}

static int sock_rebind(struct ld_backend *b, uint32_t ep)
{
	struct ld_sock *s = sock_of(b);

	return ep < s->n ? client_open(s, ep) : -1;
}

struct ld_backend *ld_sock_create(const struct ld_conf *c, char *err, size_t errlen)
{
	struct ld_sock *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	struct epoll_event ev = { .events = EPOLLIN };
	char a[TP_ADDR_STRLEN];
	socklen_t len;
	int pfam = c->peer.family == TP_AF_INET ? AF_INET : AF_INET6;
	uint32_t i;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &sock_ops;
	s->base.flow_burst = 16;
	s->n = c->allocations;
	s->server = c->server;
	s->peer_fd = s->epfd = -1;
	s->fd = malloc(s->n * sizeof(*s->fd));
	s->rxbuf = calloc(LD_BATCH_MAX, sizeof(*s->rxbuf));
	if (!s->fd || !s->rxbuf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < s->n; i++)
		s->fd[i] = -1;
	if (raise_nofile(s->n + 64, err, errlen) < 0)
		goto fail;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		goto fail;
	}

	/* The peer sink. */
	s->peer_fd = socket(pfam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	len = to_sa(&c->peer, &ss);
	if (s->peer_fd < 0 || bind(s->peer_fd, (struct sockaddr *)&ss, len) < 0) {
		snprintf(err, errlen, "peer sink %s: %s", ld_addr_str(&c->peer, a),
			 strerror(errno));
		goto fail;
	}
	set_buf(s->peer_fd, SO_RCVBUF, SO_RCVBUFFORCE, LD_PEER_BUF);
	set_buf(s->peer_fd, SO_SNDBUF, SO_SNDBUFFORCE, LD_PEER_BUF);
	len = sizeof(ss);
	getsockname(s->peer_fd, (struct sockaddr *)&ss, &len);
	from_sa(&ss, &s->base.peer);
	ev.data.u32 = LD_EP_PEER;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->peer_fd, &ev);

	/* The clients: bound to --client-ip with an ephemeral port, connected to the server. */
	s->client_ip = c->client_ip;
	for (i = 0; i < s->n; i++) {
		if (client_open(s, i) < 0) {
			snprintf(err, errlen, "client socket %u on %s: %s", i,
				 ld_addr_str(&c->client_ip, a), strerror(errno));
			goto fail;
		}
	}
	return &s->base;
fail:
	sock_destroy(&s->base);
	return NULL;
}
