/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP listeners, accepted connections, test-client connects, and stream send/recv on
 * Winsock. Windows has no SIGPIPE, so nothing is needed to suppress it.
 */
#include "platform_int.h"

#include <limits.h>
#include <string.h>

int tp_tcp_listen(const struct tp_addr *local, unsigned flags, int backlog, tp_socket_t *out)
{
	union tp_sockaddr u;
	SOCKET s = INVALID_SOCKET;
	int len, err;

	if (flags & ~(unsigned)(TP_SOCK_NONBLOCK | TP_SOCK_REUSEPORT))
		return -EINVAL;
	len = tp_sockaddr_from(&u, local);
	if (!len)
		return -EAFNOSUPPORT;
	if (flags & TP_SOCK_REUSEPORT)
		return -ENOTSUP;
	err = tp_sock_create(local->family, SOCK_STREAM, flags & TP_SOCK_NONBLOCK, &s);
	if (err < 0)
		return err;
	/*
	 * Not SO_REUSEADDR: on Windows it lets another socket bind the same port and steal
	 * connections. A Windows listener binds a port in TIME_WAIT without help anyway.
	 */
	if ((err = tp_sock_set_exclusive(s)) < 0)
		goto out;
	if (bind(s, &u.sa, len) == SOCKET_ERROR ||
	    listen(s, backlog > 0 ? backlog : SOMAXCONN) == SOCKET_ERROR) {
		err = tp_neg_wsa();
		goto out;
	}
	*out = (tp_socket_t)s;
	return 0;
out:
	closesocket(s);
	return err;
}

/* What every connected socket gets: non-blocking, no Nagle delay. */
static int tcp_setup_conn(SOCKET s)
{
	int err = tp_sock_set_nonblock(s);

	if (err < 0)
		return err;
	return tp_setsockopt_int(s, IPPROTO_TCP, TCP_NODELAY, 1);
}

int tp_tcp_accept(tp_socket_t l, tp_socket_t *out, struct tp_addr *peer, struct tp_addr *local)
{
	union tp_sockaddr u;
	int len = (int)sizeof(u);
	SOCKET s;
	int err;

	memset(&u, 0, sizeof(u));
	s = accept(tp_sock(l), &u.sa, &len);
	if (s == INVALID_SOCKET) {
		err = tp_neg_wsa();
		/* A connection reset while queued: POSIX calls that ECONNABORTED. */
		return err == -ECONNRESET ? -ECONNABORTED : err;
	}
	tp_sock_no_inherit(s);
	if ((err = tcp_setup_conn(s)) < 0)
		goto out;
	if (peer)
		tp_sockaddr_to(peer, &u);
	if (local && (err = tp_sock_local_addr((tp_socket_t)s, local)) < 0)
		goto out;
	*out = (tp_socket_t)s;
	return 0;
out:
	closesocket(s);
	return err;
}

int tp_tcp_connect(const struct tp_addr *dst, tp_socket_t *out)
{
	union tp_sockaddr u;
	SOCKET s = INVALID_SOCKET;
	int len, err;

	len = tp_sockaddr_from(&u, dst);
	if (!len)
		return -EAFNOSUPPORT;
	err = tp_sock_create(dst->family, SOCK_STREAM, false, &s);
	if (err < 0)
		return err;
	if (connect(s, &u.sa, len) == SOCKET_ERROR) {
		err = tp_neg_wsa();
		goto out;
	}
	if ((err = tcp_setup_conn(s)) < 0)
		goto out;
	*out = (tp_socket_t)s;
	return 0;
out:
	closesocket(s);
	return err;
}

long tp_sock_recv(tp_socket_t s, void *buf, size_t len)
{
	int r;

	if (len > INT_MAX)
		len = INT_MAX;
	r = recv(tp_sock(s), buf, (int)len, 0);
	return r == SOCKET_ERROR ? tp_neg_wsa() : (long)r;
}

long tp_sock_send(tp_socket_t s, const void *buf, size_t len)
{
	int r;

	if (len > INT_MAX)
		len = INT_MAX;
	r = send(tp_sock(s), buf, (int)len, 0);
	return r == SOCKET_ERROR ? tp_neg_wsa() : (long)r;
}

long tp_sock_sendv(tp_socket_t s, const struct tp_iov *iov, unsigned cnt)
{
	WSABUF b[TP_DGRAM_IOV_MAX];
	size_t total = 0;
	DWORD sent = 0;
	unsigned i;

	if (cnt < 1 || cnt > TP_DGRAM_IOV_MAX)
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		if (iov[i].len > INT_MAX - total)
			return -EMSGSIZE;
		total += iov[i].len;
		b[i].buf = (char *)(uintptr_t)iov[i].base;
		b[i].len = (ULONG)iov[i].len;
	}
	if (WSASend(tp_sock(s), b, cnt, &sent, 0, NULL, NULL) == SOCKET_ERROR)
		return tp_neg_wsa();
	return (long)sent;
}
