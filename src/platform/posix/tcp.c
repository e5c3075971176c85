/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP listeners, accepted connections, test-client connects, and stream send/recv that never
 * raise SIGPIPE. TLS sits above these in the data plane.
 */
#include "platform_int.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <netinet/tcp.h>

#if defined(MSG_NOSIGNAL)
#define TP_MSG_NOSIGNAL MSG_NOSIGNAL
#else
#define TP_MSG_NOSIGNAL 0 /* SO_NOSIGPIPE was set at creation instead */
#endif

int tp_tcp_listen(const struct tp_addr *local, unsigned flags, int backlog, tp_socket_t *out)
{
	union tp_sockaddr u;
	socklen_t len;
	int fd = -1;
	int err;

	err = tp_sock_open_local(local, SOCK_STREAM, flags, &u, &len, &fd);
	if (err < 0)
		return err;
	/* POSIX SO_REUSEADDR only skips TIME_WAIT: a listening port can still not be shared. */
	if ((err = tp_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) < 0)
		goto out;
	if (bind(fd, &u.sa, len) < 0 || listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
		err = tp_neg_errno();
		goto out;
	}
	*out = fd;
	return 0;
out:
	close(fd);
	return err;
}

/* What every connected socket gets: non-blocking, no Nagle delay. */
static int tcp_setup_conn(int fd, bool set_nonblock)
{
	int err;

	if (set_nonblock && (err = tp_sock_set_nonblock(fd)) < 0)
		return err;
	return tp_setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
}

int tp_tcp_accept(tp_socket_t l, tp_socket_t *out, struct tp_addr *peer, struct tp_addr *local)
{
	union tp_sockaddr u;
	socklen_t len;
	bool need_nonblock;
	int fd, err;

	do {
		len = sizeof(u);
		memset(&u, 0, sizeof(u));
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
		fd = accept4(tp_fd(l), &u.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		need_nonblock = false;
#else
		fd = accept(tp_fd(l), &u.sa, &len);
		need_nonblock = true;
#endif
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return tp_neg_errno();
#if !(defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC))
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		err = tp_neg_errno();
		goto out;
	}
#endif
#ifdef SO_NOSIGPIPE
	if ((err = tp_setsockopt_int(fd, SOL_SOCKET, SO_NOSIGPIPE, 1)) < 0)
		goto out;
#endif
	if ((err = tcp_setup_conn(fd, need_nonblock)) < 0)
		goto out;
	if (peer)
		tp_sockaddr_to(peer, &u);
	if (local && (err = tp_sock_local_addr(fd, local)) < 0)
		goto out;
	*out = fd;
	return 0;
out:
	close(fd);
	return err;
}

int tp_tcp_connect(const struct tp_addr *dst, tp_socket_t *out)
{
	union tp_sockaddr u;
	socklen_t len;
	int fd = -1;
	int err;

	len = tp_sockaddr_from(&u, dst);
	if (!len)
		return -EAFNOSUPPORT;
	err = tp_sock_create(dst->family, SOCK_STREAM, false, &fd);
	if (err < 0)
		return err;
	/* A test-client helper: an interrupted connect is reported, not resumed. */
	if (connect(fd, &u.sa, len) < 0) {
		err = tp_neg_errno();
		goto out;
	}
	if ((err = tcp_setup_conn(fd, true)) < 0)
		goto out;
	*out = fd;
	return 0;
out:
	close(fd);
	return err;
}

long tp_sock_recv(tp_socket_t s, void *buf, size_t len)
{
	ssize_t r;

	if (len > INT_MAX)
		len = INT_MAX; /* the same bound as Windows' int lengths */
	do {
		r = recv(tp_fd(s), buf, len, 0);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? tp_neg_errno() : (long)r;
}

long tp_sock_send(tp_socket_t s, const void *buf, size_t len)
{
	ssize_t r;

	if (len > INT_MAX)
		len = INT_MAX;
	do {
		r = send(tp_fd(s), buf, len, TP_MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? tp_neg_errno() : (long)r;
}

long tp_sock_sendv(tp_socket_t s, const struct tp_iov *iov, unsigned cnt)
{
	struct iovec v[TP_DGRAM_IOV_MAX];
	struct msghdr mh;
	size_t total = 0;
	unsigned i;
	ssize_t r;

	if (cnt < 1 || cnt > TP_DGRAM_IOV_MAX)
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		if (iov[i].len > INT_MAX - total)
			return -EMSGSIZE;
		total += iov[i].len;
		v[i].iov_base = (void *)(uintptr_t)iov[i].base;
		v[i].iov_len = iov[i].len;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = v;
	mh.msg_iovlen = cnt;
	do {
		r = sendmsg(tp_fd(s), &mh, TP_MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? tp_neg_errno() : (long)r;
}
