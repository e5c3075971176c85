/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the Windows files of the platform layer share: sockaddr <-> tp_addr conversion, WSA
 * error codes mapped onto negative errno values, socket creation, and the WSARecvMsg /
 * WSASendMsg entry points. Never included outside src/platform/win32.
 */
#ifndef TP_PLATFORM_INT_H
#define TP_PLATFORM_INT_H

/* winsock2.h before windows.h, or windows.h drags in the old winsock.h. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <errno.h>
#include <stdint.h>

#include <turnpike/platform.h>

#include "tp_build.h"

/* Every socket address this layer handles, aligned for each member. */
union tp_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr_storage ss;
};

/* Fill @u from @a; returns the length to pass to Winsock, or 0 for a bad family. */
int tp_sockaddr_from(union tp_sockaddr *u, const struct tp_addr *a);

/* Fill @a from @u (family 0 when @u is neither AF_INET nor AF_INET6). */
void tp_sockaddr_to(struct tp_addr *a, const union tp_sockaddr *u);

/* The errno value (positive) for a WSA error code; EIO for one with no counterpart. */
int tp_wsa_errno(int wsa);

/* -errno for the calling thread's last Winsock error. */
static inline int tp_neg_wsa(void)
{
	return -tp_wsa_errno(WSAGetLastError());
}

/* The SOCKET in @s (INVALID_SOCKET for TP_SOCKET_INVALID, as both are all ones). */
static inline SOCKET tp_sock(tp_socket_t s)
{
	return (SOCKET)(uintptr_t)s;
}

/*
 * Create a socket of @family (TP_AF_*) and @type (SOCK_DGRAM or SOCK_STREAM) that child
 * processes do not inherit, IPV6_V6ONLY when IPv6, non-blocking when @nonblock.
 */
int tp_sock_create(int family, int type, bool nonblock, SOCKET *out);

/* Switch non-blocking mode on (FIONBIO). */
int tp_sock_set_nonblock(SOCKET s);

/* setsockopt() of an int (Winsock takes a DWORD-sized BOOL/int), returning 0 or -errno. */
int tp_setsockopt_int(SOCKET s, int level, int name, int value);

/*
 * SO_EXCLUSIVEADDRUSE: no other socket, in this process or another, may bind the same port,
 * even with SO_REUSEADDR. Windows' answer to port hijacking (DESIGN §1).
 */
int tp_sock_set_exclusive(SOCKET s);

/* Not inherited by child processes: the Windows counterpart of close-on-exec. */
void tp_sock_no_inherit(SOCKET s);

/* Winsock extension functions, looked up by tp_net_init() (WSAIoctl with their GUIDs). */
extern LPFN_WSARECVMSG tp_wsa_recvmsg;
extern LPFN_WSASENDMSG tp_wsa_sendmsg;

#endif /* TP_PLATFORM_INT_H */
