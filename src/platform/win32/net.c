/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Winsock basics shared by UDP and TCP: start-up, WSA error codes as errno values, address
 * conversion, creation with the options every socket gets, and the per-socket knobs (DF,
 * buffers, local address, close).
 */
#include "platform_int.h"

#include <string.h>

LPFN_WSARECVMSG tp_wsa_recvmsg;
LPFN_WSASENDMSG tp_wsa_sendmsg;

/* Look up one extension function through a socket of the provider that implements it. */
static int ext_func(SOCKET s, GUID guid, void *fn, DWORD fnlen)
{
	DWORD got = 0;

	if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), fn, fnlen, &got,
		     NULL, NULL) == SOCKET_ERROR)
		return tp_neg_wsa();
	return 0;
}

int tp_net_init(void)
{
	WSADATA wd;
	SOCKET s;
	int err;

	err = WSAStartup(MAKEWORD(2, 2), &wd);
	if (err)
		return -tp_wsa_errno(err);
	/*
	 * WSARecvMsg has no import-library entry, and both are per provider; the IPv4 and IPv6
	 * UDP providers are the same MSAFD one, so one lookup serves every socket.
	 */
	s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	if (s == INVALID_SOCKET)
		s = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
	if (s == INVALID_SOCKET) {
		err = tp_neg_wsa();
		goto fail;
	}
	err = ext_func(s, (GUID)WSAID_WSARECVMSG, &tp_wsa_recvmsg, sizeof(tp_wsa_recvmsg));
	if (err == 0)
		err = ext_func(s, (GUID)WSAID_WSASENDMSG, &tp_wsa_sendmsg, sizeof(tp_wsa_sendmsg));
	closesocket(s);
	if (err == 0 && (!tp_wsa_recvmsg || !tp_wsa_sendmsg))
		err = -ENOSYS;
	if (err == 0)
		return 0;
fail:
	WSACleanup();
	return err;
}

void tp_net_fini(void)
{
	WSACleanup();
}

bool tp_net_have_reuseport(void)
{
	/*
	 * Windows has nothing that spreads one port's datagrams over sockets. SO_REUSEADDR would
	 * let a second socket (of any process) bind the port and take its traffic, so it is never
	 * used in its place (DESIGN §1): one listener, one worker.
	 */
	return false;
}

int tp_wsa_errno(int wsa)
{
	switch (wsa) {
	case 0:
		return EIO; /* a failure without a code: still a failure */
	case WSAEWOULDBLOCK:
		return EAGAIN;
	case WSAEINTR:
		return EINTR;
	case WSAEBADF:
	case WSAENOTSOCK:
		return EBADF;
	case WSAEACCES:
		return EACCES;
	case WSAEFAULT:
		return EFAULT;
	case WSAEINVAL:
		return EINVAL;
	case WSAEMFILE:
		return EMFILE;
	case WSAEINPROGRESS:
		return EINPROGRESS;
	case WSAEALREADY:
		return EALREADY;
	case WSAEDESTADDRREQ:
		return EDESTADDRREQ;
	case WSAEMSGSIZE:
		return EMSGSIZE;
	case WSAEPROTOTYPE:
		return EPROTOTYPE;
	case WSAENOPROTOOPT:
		return ENOPROTOOPT;
	case WSAEPROTONOSUPPORT:
	case WSAESOCKTNOSUPPORT:
		return EPROTONOSUPPORT;
	case WSAEOPNOTSUPP:
		return ENOTSUP; /* one value on Linux; callers test ENOTSUP */
	case WSAEPFNOSUPPORT:
	case WSAEAFNOSUPPORT:
		return EAFNOSUPPORT;
	case WSAEADDRINUSE:
		return EADDRINUSE;
	case WSAEADDRNOTAVAIL:
		return EADDRNOTAVAIL;
	case WSAENETDOWN:
	case WSANOTINITIALISED:
	case WSASYSNOTREADY:
		return ENETDOWN;
	case WSAENETUNREACH:
		return ENETUNREACH;
	case WSAENETRESET:
		return ENETRESET;
	case WSAECONNABORTED:
		return ECONNABORTED;
	case WSAECONNRESET:
		return ECONNRESET;
	case WSAENOBUFS:
	case WSA_NOT_ENOUGH_MEMORY:
		return ENOBUFS;
	case WSAEISCONN:
		return EISCONN;
	case WSAENOTCONN:
		return ENOTCONN;
	case WSAESHUTDOWN:
		return EPIPE; /* sending after shutdown: what POSIX reports as EPIPE */
	case WSAETIMEDOUT:
		return ETIMEDOUT;
	case WSAECONNREFUSED:
		return ECONNREFUSED;
	case WSAELOOP:
		return ELOOP;
	case WSAENAMETOOLONG:
		return ENAMETOOLONG;
	case WSAEHOSTDOWN:
	case WSAEHOSTUNREACH:
		return EHOSTUNREACH;
	case WSAVERNOTSUPPORTED:
		return ENOSYS;
	default:
		return EIO;
	}
}

const char *tp_strerror(int err)
{
	if (err < 0)
		err = -err;
	/*
	 * MinGW's <errno.h> adds the POSIX socket codes (EADDRINUSE = 100, ...) that the CRT's
	 * strerror() calls "Unknown error": name them here.
	 */
	switch (err) {
	case EADDRINUSE:
		return "Address already in use";
	case EADDRNOTAVAIL:
		return "Cannot assign requested address";
	case EAFNOSUPPORT:
		return "Address family not supported by protocol";
	case EALREADY:
		return "Operation already in progress";
	case ECONNABORTED:
		return "Software caused connection abort";
	case ECONNREFUSED:
		return "Connection refused";
	case ECONNRESET:
		return "Connection reset by peer";
	case EDESTADDRREQ:
		return "Destination address required";
	case EHOSTUNREACH:
		return "No route to host";
	case EINPROGRESS:
		return "Operation now in progress";
	case EISCONN:
		return "Transport endpoint is already connected";
	case ELOOP:
		return "Too many levels of symbolic links";
	case EMSGSIZE:
		return "Message too long";
	case ENETDOWN:
		return "Network is down";
	case ENETRESET:
		return "Network dropped connection on reset";
	case ENETUNREACH:
		return "Network is unreachable";
	case ENOBUFS:
		return "No buffer space available";
	case ENOPROTOOPT:
		return "Protocol not available";
	case ENOTCONN:
		return "Transport endpoint is not connected";
	case ENOTSUP:
		return "Operation not supported";
	case EPROTO:
		return "Protocol error";
	case EPROTONOSUPPORT:
		return "Protocol not supported";
	case EPROTOTYPE:
		return "Protocol wrong type for socket";
	case ETIMEDOUT:
		return "Connection timed out";
	default:
		return strerror(err);
	}
}

int tp_sockaddr_from(union tp_sockaddr *u, const struct tp_addr *a)
{
	memset(u, 0, sizeof(*u));
	switch (a->family) {
	case TP_AF_INET:
		u->v4.sin_family = AF_INET;
		u->v4.sin_port = htons(a->port);
		memcpy(&u->v4.sin_addr, a->ip, 4);
		return (int)sizeof(u->v4);
	case TP_AF_INET6:
		u->v6.sin6_family = AF_INET6;
		u->v6.sin6_port = htons(a->port);
		memcpy(&u->v6.sin6_addr, a->ip, 16);
		return (int)sizeof(u->v6);
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

int tp_setsockopt_int(SOCKET s, int level, int name, int value)
{
	if (setsockopt(s, level, name, (const char *)&value, (int)sizeof(value)) == SOCKET_ERROR)
		return tp_neg_wsa();
	return 0;
}

int tp_sock_set_nonblock(SOCKET s)
{
	u_long on = 1;

	if (ioctlsocket(s, (long)FIONBIO, &on) == SOCKET_ERROR)
		return tp_neg_wsa();
	return 0;
}

int tp_sock_set_exclusive(SOCKET s)
{
	return tp_setsockopt_int(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1);
}

void tp_sock_no_inherit(SOCKET s)
{
	/* Best effort: a socket a child inherits still works here; it only stays open longer. */
	SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
}

int tp_sock_create(int family, int type, bool nonblock, SOCKET *out)
{
	int af = family == TP_AF_INET ? AF_INET : family == TP_AF_INET6 ? AF_INET6 : -1;
	int proto = type == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
	SOCKET s;
	int err;

	if (af < 0)
		return -EAFNOSUPPORT;
	/* WSA_FLAG_NO_HANDLE_INHERIT needs Windows 7 SP1; older systems refuse the flag. */
	s = WSASocketW(af, type, proto, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
	if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) {
		s = WSASocketW(af, type, proto, NULL, 0, WSA_FLAG_OVERLAPPED);
		if (s != INVALID_SOCKET)
			tp_sock_no_inherit(s);
	}
	if (s == INVALID_SOCKET)
		return tp_neg_wsa();
	if (nonblock && (err = tp_sock_set_nonblock(s)) < 0)
		goto out;
	/* Always explicit: Linux defaults to dual-stack, Windows to v6-only. */
	if (af == AF_INET6 && (err = tp_setsockopt_int(s, IPPROTO_IPV6, IPV6_V6ONLY, 1)) < 0)
		goto out;
	*out = s;
	return 0;
out:
	closesocket(s);
	return err;
}

int tp_sock_local_addr(tp_socket_t s, struct tp_addr *a)
{
	union tp_sockaddr u;
	int len = (int)sizeof(u);

	memset(&u, 0, sizeof(u));
	if (getsockname(tp_sock(s), &u.sa, &len) == SOCKET_ERROR)
		return tp_neg_wsa();
	tp_sockaddr_to(a, &u);
	return a->family ? 0 : -EAFNOSUPPORT;
}

int tp_sock_set_df(tp_socket_t s, int family, bool on)
{
	int err;

	switch (family) {
	case TP_AF_INET:
		/* Set: DF on every datagram, and sends over the path MTU fail with WSAEMSGSIZE. */
		err = tp_setsockopt_int(tp_sock(s), IPPROTO_IP, IP_DONTFRAGMENT, on ? 1 : 0);
		break;
	case TP_AF_INET6:
		err = tp_setsockopt_int(tp_sock(s), IPPROTO_IPV6, IPV6_DONTFRAG, on ? 1 : 0);
		break;
	default:
		return -EAFNOSUPPORT;
	}
	/* A stack without the option says so with one of these. */
	return err == -ENOPROTOOPT || err == -EINVAL ? -ENOTSUP : err;
}

int tp_sock_set_buffers(tp_socket_t s, int rcvbuf, int sndbuf)
{
	int err;

	if (rcvbuf < 0 || sndbuf < 0)
		return -EINVAL;
	if (rcvbuf && (err = tp_setsockopt_int(tp_sock(s), SOL_SOCKET, SO_RCVBUF, rcvbuf)) < 0)
		return err;
	if (sndbuf && (err = tp_setsockopt_int(tp_sock(s), SOL_SOCKET, SO_SNDBUF, sndbuf)) < 0)
		return err;
	return 0;
}

void tp_sock_close(tp_socket_t s)
{
	if (s != TP_SOCKET_INVALID)
		closesocket(tp_sock(s));
}
