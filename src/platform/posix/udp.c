/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP sockets and batched datagram I/O: recvmmsg/sendmmsg where the OS has them, a
 * recvmsg/sendmsg loop elsewhere, with the local address carried in PKTINFO control messages
 * both ways (RFC 3542 §6 for IPv6; IP_PKTINFO on Linux and macOS, IP_RECVDSTADDR and
 * IP_SENDSRCADDR on the BSDs).
 *
 * On Linux >= 4.18 a run of same-sized datagrams to one destination leaves as one UDP GSO send
 * (UDP_SEGMENT): one route lookup and one skb walk through the stack for up to 64 datagrams,
 * split into separate datagrams at the device (or by software GSO), not one per datagram.
 */
#include "platform_int.h"

#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#if TP_HAVE_RECVMMSG && TP_HAVE_UDP_SEGMENT
#include <netinet/udp.h>
#include <stdatomic.h>
#define UDP_GSO 1
#else
#define UDP_GSO 0
#endif

#if UDP_GSO
/* The kernel's UDP_MAX_SEGMENTS, and a total that keeps the IPv6 datagram under 64 KiB. */
#define UDP_GSO_SEGS_MAX  64
#define UDP_GSO_BYTES_MAX 65000

/* Whether this process's kernel takes UDP_SEGMENT: probed on first use, shared by the workers. */
enum {
	GSO_UNKNOWN,
	GSO_PROBED,
	GSO_WORKS,
	GSO_OFF
};
static atomic_int udp_gso_state;

/* Control space for PKTINFO (the IPv6 one is the largest used) plus a UDP_SEGMENT size. */
struct tp_cmsgbuf {
	_Alignas(struct cmsghdr) unsigned char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
						   CMSG_SPACE(sizeof(uint16_t))];
};
#else
/* Control space for one PKTINFO message; the IPv6 one is the largest of the kinds used. */
struct tp_cmsgbuf {
	_Alignas(struct cmsghdr) unsigned char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};
#endif

static int udp_enable_pktinfo(int fd, int family)
{
	if (family == TP_AF_INET) {
#if defined(IP_PKTINFO)
		return tp_setsockopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
#elif defined(IP_RECVDSTADDR)
		return tp_setsockopt_int(fd, IPPROTO_IP, IP_RECVDSTADDR, 1);
#else
		/* No way to learn the destination: tp_dgram::dst falls back to the bound IP. */
		return 0;
#endif
	}
#if defined(IPV6_RECVPKTINFO)
	return tp_setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
#else
	return tp_setsockopt_int(fd, IPPROTO_IPV6, IPV6_PKTINFO, 1);
#endif
}

int tp_udp_open(const struct tp_addr *local, unsigned flags, tp_socket_t *out)
{
	union tp_sockaddr u;
	socklen_t len;
	int fd = -1;
	int err;

	err = tp_sock_open_local(local, SOCK_DGRAM, flags, &u, &len, &fd);
	if (err < 0)
		return err;
	if ((err = udp_enable_pktinfo(fd, local->family)) < 0)
		goto out;
	if (bind(fd, &u.sa, len) < 0) {
		err = tp_neg_errno();
		goto out;
	}
	*out = fd;
	return 0;
out:
	close(fd);
	return err;
}

/* Point @mh at @d's buffer, a name slot and a control buffer. */
static void udp_prep_recv(struct msghdr *mh, struct iovec *iov, union tp_sockaddr *name,
			  struct tp_cmsgbuf *cb, const struct tp_dgram *d)
{
	iov->iov_base = d->buf;
	iov->iov_len = d->cap;
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = name;
	mh->msg_namelen = sizeof(*name);
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	mh->msg_control = cb->buf;
	mh->msg_controllen = sizeof(cb->buf);
}

/* The destination IP from a received PKTINFO, if any; dst->port is left alone. */
static void udp_dst_from_cmsg(struct msghdr *mh, struct tp_addr *dst)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
#if defined(IP_PKTINFO)
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst->family = TP_AF_INET;
			memset(dst->ip, 0, sizeof(dst->ip));
			memcpy(dst->ip, &pi.ipi_addr, 4);
			return;
		}
#elif defined(IP_RECVDSTADDR)
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVDSTADDR) {
			dst->family = TP_AF_INET;
			memset(dst->ip, 0, sizeof(dst->ip));
			memcpy(dst->ip, CMSG_DATA(c), 4);
			return;
		}
#endif
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			dst->family = TP_AF_INET6;
			memcpy(dst->ip, &pi.ipi6_addr, 16);
			return;
		}
	}
}

static void udp_finish_recv(struct tp_dgram *d, struct msghdr *mh, size_t len,
			    const union tp_sockaddr *name, const struct tp_addr *local)
{
	d->len = (uint32_t)(len < d->cap ? len : d->cap);
	d->flags = (mh->msg_flags & MSG_TRUNC) ? TP_DGRAM_TRUNC : 0;
	tp_sockaddr_to(&d->src, name);
	if (local)
		d->dst = *local;
	else
		memset(&d->dst, 0, sizeof(d->dst));
	udp_dst_from_cmsg(mh, &d->dst);
}

int tp_udp_recv_batch(tp_socket_t s, const struct tp_addr *local, struct tp_dgram *d, unsigned n)
{
	int fd = tp_fd(s);
	struct iovec iov[TP_UDP_BATCH_MAX];
	union tp_sockaddr name[TP_UDP_BATCH_MAX];
	struct tp_cmsgbuf cb[TP_UDP_BATCH_MAX];
	unsigned i;
	int err;

	if (n > TP_UDP_BATCH_MAX)
		n = TP_UDP_BATCH_MAX;
	if (n == 0)
		return 0;
#if TP_HAVE_RECVMMSG
	struct mmsghdr mm[TP_UDP_BATCH_MAX];
	int r;

	for (i = 0; i < n; i++) {
		udp_prep_recv(&mm[i].msg_hdr, &iov[i], &name[i], &cb[i], &d[i]);
		mm[i].msg_len = 0;
	}
	/* MSG_DONTWAIT: without it recvmmsg would wait until all n slots are filled. */
	r = recvmmsg(fd, mm, n, MSG_DONTWAIT, NULL);
	if (r < 0) {
		err = tp_neg_errno();
		return err == -EAGAIN || err == -EINTR ? 0 : err;
	}
	for (i = 0; i < (unsigned)r; i++)
		udp_finish_recv(&d[i], &mm[i].msg_hdr, mm[i].msg_len, &name[i], local);
	return r;
#else
	for (i = 0; i < n; i++) {
		struct msghdr mh;
		ssize_t r;

		udp_prep_recv(&mh, &iov[i], &name[i], &cb[i], &d[i]);
		r = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (r < 0) {
			err = tp_neg_errno();
			if (i > 0 || err == -EAGAIN || err == -EINTR)
				break;
			return err;
		}
		udp_finish_recv(&d[i], &mh, (size_t)r, &name[i], local);
	}
	return (int)i;
#endif
}

/* Build the message for @o; 0 or a negative errno for a descriptor the kernel must not see. */
static int udp_prep_send(struct msghdr *mh, struct iovec *iov, union tp_sockaddr *name,
			 struct tp_cmsgbuf *cb, const struct tp_dgram_out *o)
{
	struct cmsghdr *c;
	socklen_t namelen;
	unsigned i;

	if (o->iovcnt < 1 || o->iovcnt > TP_DGRAM_IOV_MAX)
		return -EINVAL;
	namelen = tp_sockaddr_from(name, &o->dst);
	if (!namelen)
		return -EAFNOSUPPORT;
	for (i = 0; i < o->iovcnt; i++) {
		iov[i].iov_base = (void *)(uintptr_t)o->iov[i].base;
		iov[i].iov_len = o->iov[i].len;
	}
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = name;
	mh->msg_namelen = namelen;
	mh->msg_iov = iov;
	mh->msg_iovlen = o->iovcnt;
	if (!o->src.family)
		return 0;
	memset(cb, 0, sizeof(*cb));
	mh->msg_control = cb->buf;
	mh->msg_controllen = sizeof(cb->buf);
	c = CMSG_FIRSTHDR(mh);
	switch (o->src.family) {
	case TP_AF_INET: {
#if defined(IP_PKTINFO)
		/* ipi_spec_dst is the source address to use; ifindex 0 lets routing choose. */
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_spec_dst, o->src.ip, 4);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
#elif defined(IP_SENDSRCADDR)
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_SENDSRCADDR;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_addr));
		memcpy(CMSG_DATA(c), o->src.ip, 4);
		mh->msg_controllen = CMSG_SPACE(sizeof(struct in_addr));
#else
		return -ENOTSUP;
#endif
		return 0;
	}
	case TP_AF_INET6: {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi6_addr, o->src.ip, 16);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		return 0;
	}
	default:
		return -EAFNOSUPPORT;
	}
}

#if UDP_GSO
static size_t udp_dgram_len(const struct tp_dgram_out *o)
{
	size_t len = 0;

	for (unsigned i = 0; i < o->iovcnt; i++)
		len += o->iov[i].len;
	return len;
}

/* Whether @b may ride in the same GSO send as @a: same destination, same source choice. */
static bool udp_same_flow(const struct tp_dgram_out *a, const struct tp_dgram_out *b)
{
	return tp_addr_eq(&a->dst, &b->dst) && a->src.family == b->src.family &&
	       (!a->src.family || tp_addr_ip_eq(&a->src, &b->src));
}

/* Append UDP_SEGMENT = @seg to @mh's control data (after any PKTINFO in @cb). */
static void udp_add_segment(struct msghdr *mh, struct tp_cmsgbuf *cb, uint16_t seg)
{
	struct cmsghdr *c;

	if (!mh->msg_control) {
		mh->msg_control = cb->buf;
		mh->msg_controllen = 0;
	}
	c = (struct cmsghdr *)(void *)(cb->buf + mh->msg_controllen);
	memset(c, 0, CMSG_SPACE(sizeof(seg)));
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	mh->msg_controllen += CMSG_SPACE(sizeof(seg));
}

/* True when GSO may be tried; the first caller asks the kernel whether it knows UDP_SEGMENT
 * (< 4.18 would ignore the cmsg and send one oversized datagram). */
static bool udp_gso_usable(int fd)
{
	int st = atomic_load_explicit(&udp_gso_state, memory_order_relaxed);

	if (st == GSO_UNKNOWN) {
		int v = 0;
		socklen_t len = sizeof(v);

		st = getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &v, &len) == 0 ? GSO_PROBED : GSO_OFF;
		atomic_store_explicit(&udp_gso_state, st, memory_order_relaxed);
	}
	return st != GSO_OFF;
}

/* The errors by which a kernel or device refuses GSO itself rather than a datagram. */
static bool udp_gso_refused(int err)
{
	return err == EIO || err == EINVAL || err == ENOPROTOOPT || err == EOPNOTSUPP;
}
#endif

#if TP_HAVE_RECVMMSG
/*
 * sendmmsg @n datagrams; with @gso, each run of same-flow datagrams of one length (the last of
 * the run may be shorter) is one message with UDP_SEGMENT. Returns datagrams sent, or a
 * negative errno for @d[0] (for a GSO run, the errno of the run; @gso_err tells which).
 */
static int udp_send_mmsg(int fd, const struct tp_dgram_out *d, unsigned n, bool gso, bool *gso_err)
{
	struct iovec iov[TP_UDP_BATCH_MAX * TP_DGRAM_IOV_MAX];
	union tp_sockaddr name[TP_UDP_BATCH_MAX];
	struct tp_cmsgbuf cb[TP_UDP_BATCH_MAX];
	struct mmsghdr mm[TP_UDP_BATCH_MAX];
	uint8_t cnt[TP_UDP_BATCH_MAX];
	unsigned i = 0, m = 0, niov = 0, done;
	int r, err;

	*gso_err = false;
	while (i < n) {
		unsigned k = 1;

		err = udp_prep_send(&mm[m].msg_hdr, iov + niov, &name[m], &cb[m], &d[i]);
		if (err < 0) {
			/* Send what precedes the bad one; the next call reports it. */
			if (i == 0)
				return err;
			break;
		}
		niov += d[i].iovcnt;
		mm[m].msg_len = 0;
#if UDP_GSO
		if (gso && i + 1 < n) {
			size_t seg = udp_dgram_len(&d[i]), total = seg;

			while (i + k < n && k < UDP_GSO_SEGS_MAX && seg > 0 && seg <= UINT16_MAX) {
				const struct tp_dgram_out *o = &d[i + k];
				size_t len;

				if (o->iovcnt < 1 || o->iovcnt > TP_DGRAM_IOV_MAX ||
				    !udp_same_flow(&d[i], o))
					break;
				len = udp_dgram_len(o);
				if (len == 0 || len > seg || total + len > UDP_GSO_BYTES_MAX)
					break;
				for (unsigned j = 0; j < o->iovcnt; j++) {
					iov[niov + j].iov_base = (void *)(uintptr_t)o->iov[j].base;
					iov[niov + j].iov_len = o->iov[j].len;
				}
				niov += o->iovcnt;
				mm[m].msg_hdr.msg_iovlen += o->iovcnt;
				total += len;
				k++;
				if (len < seg)
					break; /* only the last segment may be short */
			}
			if (k > 1)
				udp_add_segment(&mm[m].msg_hdr, &cb[m], (uint16_t)seg);
		}
#else
		(void)gso;
#endif
		cnt[m++] = (uint8_t)k;
		i += k;
	}
	do {
		r = sendmmsg(fd, mm, m, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		*gso_err = cnt[0] > 1;
		return tp_neg_errno();
	}
	for (done = 0, i = 0; i < (unsigned)r; i++)
		done += cnt[i];
	return (int)done;
}
#endif

int tp_udp_send_batch(tp_socket_t s, const struct tp_dgram_out *d, unsigned n)
{
	int fd = tp_fd(s);

	if (n > TP_UDP_BATCH_MAX)
		n = TP_UDP_BATCH_MAX;
	if (n == 0)
		return 0;
#if TP_HAVE_RECVMMSG
	bool gso = false, gso_err;
	int r;

#if UDP_GSO
	gso = n > 1 && udp_gso_usable(fd);
#endif
	r = udp_send_mmsg(fd, d, n, gso, &gso_err);
#if UDP_GSO
	if (gso && r > 0 &&
	    atomic_load_explicit(&udp_gso_state, memory_order_relaxed) == GSO_PROBED)
		atomic_store_explicit(&udp_gso_state, GSO_WORKS, memory_order_relaxed);
	if (r < 0 && gso_err && udp_gso_refused(-r)) {
		/* The kernel or device refused the GSO send itself (no checksum offload, a
		 * segment over the MTU): send the same datagrams one by one. Before GSO has
		 * worked once, take that as "never" for this process. */
		int expect = GSO_PROBED;

		atomic_compare_exchange_strong(&udp_gso_state, &expect, GSO_OFF);
		r = udp_send_mmsg(fd, d, n, false, &gso_err);
	}
#endif
	return r;
#else
	struct iovec iov[TP_UDP_BATCH_MAX][TP_DGRAM_IOV_MAX];
	union tp_sockaddr name[TP_UDP_BATCH_MAX];
	struct tp_cmsgbuf cb[TP_UDP_BATCH_MAX];
	unsigned i;
	int err;

	for (i = 0; i < n; i++) {
		struct msghdr mh;
		ssize_t r;

		err = udp_prep_send(&mh, iov[i], &name[i], &cb[i], &d[i]);
		if (err == 0) {
			do {
				r = sendmsg(fd, &mh, 0);
			} while (r < 0 && errno == EINTR);
			if (r < 0)
				err = tp_neg_errno();
		}
		if (err < 0)
			return i > 0 ? (int)i : err;
	}
	return (int)n;
#endif
}

long tp_udp_sendv(tp_socket_t s, const struct tp_dgram_out *d)
{
	struct iovec iov[TP_DGRAM_IOV_MAX];
	union tp_sockaddr name;
	struct tp_cmsgbuf cb;
	struct msghdr mh;
	ssize_t r;
	int err;

	err = udp_prep_send(&mh, iov, &name, &cb, d);
	if (err < 0)
		return err;
	do {
		r = sendmsg(tp_fd(s), &mh, 0);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? tp_neg_errno() : (long)r;
}
