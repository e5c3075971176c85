/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the POSIX files of the platform layer share: sockaddr <-> tp_addr conversion, errno
 * normalisation and socket creation. Never included outside src/platform/posix.
 */
#ifndef TP_PLATFORM_INT_H
#define TP_PLATFORM_INT_H

/* macOS hides the RFC 3542 IPv6 socket API (IPV6_RECVPKTINFO, IPV6_DONTFRAG) without this. */
#ifndef __APPLE_USE_RFC_3542
#define __APPLE_USE_RFC_3542 1
#endif

#include <errno.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <turnpike/platform.h>

#include "tp_build.h"

/* Every socket address this layer handles, aligned for each member. */
union tp_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr_storage ss;
};

/* Fill @u from @a; returns the length to pass to the kernel, or 0 for a bad family. */
socklen_t tp_sockaddr_from(union tp_sockaddr *u, const struct tp_addr *a);

/* Fill @a from @u (family 0 when @u is neither AF_INET nor AF_INET6). */
void tp_sockaddr_to(struct tp_addr *a, const union tp_sockaddr *u);

/* The OS address family for a TP_AF_* value, or -1. */
int tp_af_to_os(int family);

/* -errno of the last failed call, with EWOULDBLOCK folded into EAGAIN. */
static inline int tp_neg_errno(void)
{
	int e = errno;

	if (e == EWOULDBLOCK)
		return -EAGAIN;
	return e ? -e : -EIO;
}

/*
 * Create a close-on-exec, SIGPIPE-free socket of @family (TP_AF_*) and @type (SOCK_DGRAM or
 * SOCK_STREAM), IPV6_V6ONLY when IPv6, non-blocking when @nonblock.
 */
int tp_sock_create(int family, int type, bool nonblock, int *out);

/*
 * What opening any bound socket starts with: check @flags (TP_SOCK_NONBLOCK, TP_SOCK_REUSEPORT),
 * convert @local into @u / @len, create the socket and join the SO_REUSEPORT group if asked.
 * On success *fd is open and the caller binds it (closing it on its own errors).
 */
int tp_sock_open_local(const struct tp_addr *local, int type, unsigned flags, union tp_sockaddr *u,
		       socklen_t *len, int *fd);

/* Switch O_NONBLOCK on. */
int tp_sock_set_nonblock(int fd);

/* Join a load-balancing SO_REUSEPORT group; -ENOTSUP where the OS has none. */
int tp_sock_set_reuseport(int fd);

/* setsockopt() of an int, returning 0 or -errno. */
int tp_setsockopt_int(int fd, int level, int name, int value);

/* The descriptor in @s, or -1 when it cannot be one. */
static inline int tp_fd(tp_socket_t s)
{
	return s >= 0 && s <= INT32_MAX ? (int)s : -1;
}

#endif /* TP_PLATFORM_INT_H */
