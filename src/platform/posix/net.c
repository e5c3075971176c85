/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket basics shared by UDP and TCP: address conversion, creation with the options every
 * socket gets, and the per-socket knobs (DF, buffers, local address, close).
 */
#include "platform_int.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int tp_net_init(void)
{
	return 0;
}

void tp_net_fini(void)
{
}

bool tp_net_have_reuseport(void)
{
	/*
	 * Only kernels that spread a port's datagrams over the group count: Linux (and DragonFly)
	 * SO_REUSEPORT, FreeBSD SO_REUSEPORT_LB. macOS and OpenBSD have an SO_REUSEPORT that
	 * hands everything to one socket, which would leave all but one worker idle.
	 */
#if defined(SO_REUSEPORT_LB)
	return true;
#elif TP_HAVE_SO_REUSEPORT && (defined(__linux__) || defined(__DragonFly__))
	return true;
#else
	return false;
#endif
}

const char *tp_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

int tp_af_to_os(int family)
{
	switch (family) {
	case TP_AF_INET:
		return AF_INET;
	case TP_AF_INET6:
		return AF_INET6;
	default:
		return -1;
	}
}

socklen_t tp_sockaddr_from(union tp_sockaddr *u, const struct tp_addr *a)
{
	memset(u, 0, sizeof(*u));
	switch (a->family) {
	case TP_AF_INET:
		u->v4.sin_family = AF_INET;
		u->v4.sin_port = htons(a->port);
		memcpy(&u->v4.sin_addr, a->ip, 4);
		return sizeof(u->v4);
	case TP_AF_INET6:
		u->v6.sin6_family = AF_INET6;
		u->v6.sin6_port = htons(a->port);
		memcpy(&u->v6.sin6_addr, a->ip, 16);
		return sizeof(u->v6);
	default:
		return 0;
	}
}

void tp_sockaddr_to(struct tp_addr *a, const union tp_sockaddr *u)
{
	memset(a, 0, sizeof(*a));
	switch (u->sa.sa_family) {
	case AF_INET:
		a->family = TP_AF_INET;
		a->port = ntohs(u->v4.sin_port);
		memcpy(a->ip, &u->v4.sin_addr, 4);
		break;
	case AF_INET6:
		/* Link-local scope ids are dropped: a relay has no use for fe80::/10. */
		a->family = TP_AF_INET6;
		a->port = ntohs(u->v6.sin6_port);
		memcpy(a->ip, &u->v6.sin6_addr, 16);
		break;
	default:
		break;
	}
}

int tp_setsockopt_int(int fd, int level, int name, int value)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
		return tp_neg_errno();
	return 0;
}

int tp_sock_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return tp_neg_errno();
	return 0;
}

int tp_sock_set_reuseport(int fd)
{
#if defined(SO_REUSEPORT_LB)
	return tp_setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT_LB, 1);
#elif TP_HAVE_SO_REUSEPORT && (defined(__linux__) || defined(__DragonFly__))
	return tp_setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#else
	(void)fd;
	return -ENOTSUP;
#endif
}

int tp_sock_open_local(const struct tp_addr *local, int type, unsigned flags, union tp_sockaddr *u,
		       socklen_t *len, int *fd)
{
	int err;

	if (flags & ~(unsigned)(TP_SOCK_NONBLOCK | TP_SOCK_REUSEPORT))
		return -EINVAL;
	*len = tp_sockaddr_from(u, local);
	if (!*len)
		return -EAFNOSUPPORT;
	/* Never SO_REUSEADDR in its place: see TP_SOCK_REUSEPORT. */
	if ((flags & TP_SOCK_REUSEPORT) && !tp_net_have_reuseport())
		return -ENOTSUP;
	err = tp_sock_create(local->family, type, flags & TP_SOCK_NONBLOCK, fd);
	if (err < 0)
		return err;
	if ((flags & TP_SOCK_REUSEPORT) && (err = tp_sock_set_reuseport(*fd)) < 0) {
		close(*fd);
		*fd = -1;
		return err;
	}
	return 0;
}

int tp_sock_create(int family, int type, bool nonblock, int *out)
{
	int af = tp_af_to_os(family);
	int fd, err;

	if (af < 0)
		return -EAFNOSUPPORT;
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
	fd = socket(af, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return tp_neg_errno();
#else
	fd = socket(af, type, 0);
	if (fd < 0)
		return tp_neg_errno();
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		err = tp_neg_errno();
		goto out;
	}
	if (nonblock && (err = tp_sock_set_nonblock(fd)) < 0)
		goto out;
#endif
#ifdef SO_NOSIGPIPE
	/* Where send() has no MSG_NOSIGNAL (macOS), the socket itself must not raise SIGPIPE. */
	if ((err = tp_setsockopt_int(fd, SOL_SOCKET, SO_NOSIGPIPE, 1)) < 0)
		goto out;
#endif
	/* Always explicit: Linux defaults to dual-stack, Windows to v6-only. */
	if (af == AF_INET6 && (err = tp_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) < 0)
		goto out;
	*out = fd;
	return 0;
out:
	close(fd);
	return err;
}

int tp_sock_local_addr(tp_socket_t s, struct tp_addr *a)
{
	union tp_sockaddr u;
	socklen_t len = sizeof(u);

	memset(&u, 0, sizeof(u));
	if (getsockname(tp_fd(s), &u.sa, &len) < 0)
		return tp_neg_errno();
	tp_sockaddr_to(a, &u);
	return a->family ? 0 : -EAFNOSUPPORT;
}

int tp_sock_set_df(tp_socket_t s, int family, bool on)
{
	int fd = tp_fd(s);

	switch (family) {
	case TP_AF_INET:
#if defined(IP_MTU_DISCOVER) && defined(IP_PMTUDISC_DO) && defined(IP_PMTUDISC_DONT)
		/* Linux: DO sets DF and refuses sends over the path MTU; DONT clears DF. */
		return tp_setsockopt_int(fd, IPPROTO_IP, IP_MTU_DISCOVER,
					 on ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT);
#elif defined(IP_DONTFRAG)
		return tp_setsockopt_int(fd, IPPROTO_IP, IP_DONTFRAG, on ? 1 : 0);
#else
		(void)fd;
		(void)on;
		return -ENOTSUP;
#endif
	case TP_AF_INET6:
#if defined(IPV6_DONTFRAG)
		/* RFC 3542 §11.2: no fragmentation at the source; too big fails with EMSGSIZE. */
		return tp_setsockopt_int(fd, IPPROTO_IPV6, IPV6_DONTFRAG, on ? 1 : 0);
#else
		(void)fd;
		(void)on;
		return -ENOTSUP;
#endif
	default:
		return -EAFNOSUPPORT;
	}
}

int tp_sock_set_buffers(tp_socket_t s, int rcvbuf, int sndbuf)
{
	int fd = tp_fd(s);
	int err;

	if (rcvbuf < 0 || sndbuf < 0)
		return -EINVAL;
	if (rcvbuf && (err = tp_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf)) < 0)
		return err;
	if (sndbuf && (err = tp_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, sndbuf)) < 0)
		return err;
	return 0;
}

void tp_sock_close(tp_socket_t s)
{
	int fd = tp_fd(s);

	/* No retry on EINTR: the descriptor is released either way (POSIX 2024, Linux). */
	if (fd >= 0)
		close(fd);
}
