/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP sockets and batched datagram I/O on Winsock: Windows has neither recvmmsg nor
 * sendmmsg, so a batch is a loop of WSARecvMsg / WSASendMsg, with the local address carried in
 * IP_PKTINFO / IPV6_PKTINFO control messages both ways.
 *
 * Every UDP socket is non-blocking here, whatever TP_SOCK_NONBLOCK says: Winsock has no
 * MSG_DONTWAIT, and tp_udp_recv_batch() must never block.
 */
#include "platform_int.h"

#include <limits.h>
#include <string.h>

/* Not in every MinGW-w64 mswsock.h: WSAENETRESET reports for expired TTLs (mstcpip.h). */
#ifndef SIO_UDP_NETRESET
#define SIO_UDP_NETRESET _WSAIOW(IOC_VENDOR, 15)
#endif

/* Control space for one PKTINFO message; the IPv6 one is the larger. */
struct tp_cmsgbuf {
	_Alignas(WSACMSGHDR) char buf[WSA_CMSG_SPACE(sizeof(IN6_PKTINFO))];
};

/* Turn off a Winsock UDP quirk: an error on the next receive after an ICMP message. */
static void udp_ioctl_off(SOCKET s, DWORD code)
{
	BOOL off = FALSE;
	DWORD got = 0;

	/* Best effort: tp_udp_recv_batch() also skips the two errors should they come. */
	WSAIoctl(s, code, &off, sizeof(off), NULL, 0, &got, NULL, NULL);
}

int tp_udp_open(const struct tp_addr *local, unsigned flags, tp_socket_t *out)
{
	union tp_sockaddr u;
	SOCKET s = INVALID_SOCKET;
	int len, err;

	if (flags & ~(unsigned)(TP_SOCK_NONBLOCK | TP_SOCK_REUSEPORT))
		return -EINVAL;
	len = tp_sockaddr_from(&u, local);
	if (!len)
		return -EAFNOSUPPORT;
	/* Never SO_REUSEADDR in its place: see TP_SOCK_REUSEPORT. */
	if (flags & TP_SOCK_REUSEPORT)
		return -ENOTSUP;
	err = tp_sock_create(local->family, SOCK_DGRAM, true, &s);
	if (err < 0)
		return err;
	if ((err = tp_sock_set_exclusive(s)) < 0)
		goto out;
	/*
	 * An ICMP port unreachable (a peer that went away) would otherwise fail the next
	 * WSARecvMsg with WSAECONNRESET, and a TTL expiry with WSAENETRESET.
	 */
	udp_ioctl_off(s, SIO_UDP_CONNRESET);
	udp_ioctl_off(s, SIO_UDP_NETRESET);
	if (local->family == TP_AF_INET)
		err = tp_setsockopt_int(s, IPPROTO_IP, IP_PKTINFO, 1);
	else
		err = tp_setsockopt_int(s, IPPROTO_IPV6, IPV6_PKTINFO, 1);
	if (err < 0)
		goto out;
	if (bind(s, &u.sa, len) == SOCKET_ERROR) {
		err = tp_neg_wsa();
		goto out;
	}
	*out = (tp_socket_t)s;
	return 0;
out:
	closesocket(s);
	return err;
}

/* The destination IP from a received PKTINFO, if any; dst->port is left alone. */
static void udp_dst_from_cmsg(WSAMSG *m, struct tp_addr *dst)
{
	WSACMSGHDR *c;

	for (c = WSA_CMSG_FIRSTHDR(m); c; c = WSA_CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			IN_PKTINFO pi;

			memcpy(&pi, WSA_CMSG_DATA(c), sizeof(pi));
			dst->family = TP_AF_INET;
			memset(dst->ip, 0, sizeof(dst->ip));
			memcpy(dst->ip, &pi.ipi_addr, 4);
			return;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			IN6_PKTINFO pi;

			memcpy(&pi, WSA_CMSG_DATA(c), sizeof(pi));
			dst->family = TP_AF_INET6;
			memcpy(dst->ip, &pi.ipi6_addr, 16);
			return;
		}
	}
}

int tp_udp_recv_batch(tp_socket_t s, const struct tp_addr *local, struct tp_dgram *d, unsigned n)
{
	unsigned i = 0, tries;

	if (n > TP_UDP_BATCH_MAX)
		n = TP_UDP_BATCH_MAX;
	/* Each try either fills a descriptor or skips one stale ICMP error. */
	for (tries = 0; i < n && tries < 2 * n; tries++) {
		union tp_sockaddr name;
		struct tp_cmsgbuf cb;
		WSABUF b;
		WSAMSG m;
		DWORD got = 0;
		bool trunc = false;

		b.buf = (char *)d[i].buf;
		b.len = d[i].cap;
		memset(&name, 0, sizeof(name));
		memset(&m, 0, sizeof(m));
		m.name = &name.sa;
		m.namelen = (int)sizeof(name);
		m.lpBuffers = &b;
		m.dwBufferCount = 1;
		m.Control.buf = cb.buf;
		m.Control.len = sizeof(cb.buf);
		if (tp_wsa_recvmsg(tp_sock(s), &m, &got, NULL, NULL) == SOCKET_ERROR) {
			int e = WSAGetLastError();

			if (e == WSAECONNRESET || e == WSAENETRESET)
				continue; /* a late ICMP error for some earlier send */
			if (e != WSAEMSGSIZE) {
				if (i > 0 || e == WSAEWOULDBLOCK || e == WSAEINTR)
					break;
				return -tp_wsa_errno(e);
			}
			/* Longer than the buffer: the head was stored, the rest discarded. */
			got = d[i].cap;
			trunc = true;
		}
		d[i].len = got < d[i].cap ? (uint32_t)got : d[i].cap;
		d[i].flags = trunc || (m.dwFlags & MSG_TRUNC) ? TP_DGRAM_TRUNC : 0;
		tp_sockaddr_to(&d[i].src, &name);
		if (local)
			d[i].dst = *local;
		else
			memset(&d[i].dst, 0, sizeof(d[i].dst));
		udp_dst_from_cmsg(&m, &d[i].dst);
		i++;
	}
	return (int)i;
}

/* Build the message for @o in @m; 0 or a negative errno for one Winsock must not see. */
static int udp_prep_send(WSAMSG *m, WSABUF *b, union tp_sockaddr *name, struct tp_cmsgbuf *cb,
			 const struct tp_dgram_out *o)
{
	WSACMSGHDR *c;
	size_t total = 0;
	int namelen;
	unsigned i;

	if (o->iovcnt < 1 || o->iovcnt > TP_DGRAM_IOV_MAX)
		return -EINVAL;
	namelen = tp_sockaddr_from(name, &o->dst);
	if (!namelen)
		return -EAFNOSUPPORT;
	for (i = 0; i < o->iovcnt; i++) {
		if (o->iov[i].len > INT_MAX - total)
			return -EMSGSIZE;
		total += o->iov[i].len;
		b[i].buf = (char *)(uintptr_t)o->iov[i].base;
		b[i].len = (ULONG)o->iov[i].len;
	}
	memset(m, 0, sizeof(*m));
	m->name = &name->sa;
	m->namelen = namelen;
	m->lpBuffers = b;
	m->dwBufferCount = o->iovcnt;
	if (!o->src.family)
		return 0;
	memset(cb, 0, sizeof(*cb));
	m->Control.buf = cb->buf;
	c = (WSACMSGHDR *)(void *)cb->buf;
	switch (o->src.family) {
	case TP_AF_INET: {
		/* ipi_addr is the source address to use; interface 0 lets routing choose. */
		IN_PKTINFO pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_addr, o->src.ip, 4);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = WSA_CMSG_LEN(sizeof(pi));
		memcpy(WSA_CMSG_DATA(c), &pi, sizeof(pi));
		m->Control.len = WSA_CMSG_SPACE(sizeof(pi));
		return 0;
	}
	case TP_AF_INET6: {
		IN6_PKTINFO pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi6_addr, o->src.ip, 16);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = WSA_CMSG_LEN(sizeof(pi));
		memcpy(WSA_CMSG_DATA(c), &pi, sizeof(pi));
		m->Control.len = WSA_CMSG_SPACE(sizeof(pi));
		return 0;
	}
	default:
		return -EAFNOSUPPORT;
	}
}

/* Send one datagram: bytes sent or a negative errno. */
static long udp_send1(tp_socket_t s, const struct tp_dgram_out *o)
{
	WSABUF b[TP_DGRAM_IOV_MAX];
	union tp_sockaddr name;
	struct tp_cmsgbuf cb;
	WSAMSG m;
	DWORD sent = 0;
	int err;

	err = udp_prep_send(&m, b, &name, &cb, o);
	if (err < 0)
		return err;
	if (tp_wsa_sendmsg(tp_sock(s), &m, 0, &sent, NULL, NULL) == SOCKET_ERROR)
		return tp_neg_wsa();
	return (long)sent;
}

int tp_udp_send_batch(tp_socket_t s, const struct tp_dgram_out *d, unsigned n)
{
	unsigned i;

	if (n > TP_UDP_BATCH_MAX)
		n = TP_UDP_BATCH_MAX;
	for (i = 0; i < n; i++) {
		long r = udp_send1(s, &d[i]);

		if (r < 0)
			return i > 0 ? (int)i : (int)r;
	}
	return (int)n;
}

long tp_udp_sendv(tp_socket_t s, const struct tp_dgram_out *d)
{
	return udp_send1(s, d);
}
