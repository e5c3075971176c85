/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The platform layer on loopback (127.0.0.1 and ::1 only): clocks, UDP with PKTINFO and batched
 * I/O, SO_REUSEPORT groups, Don't Fragment, TCP streams, the poller, threads and signals.
 *
 * Built twice: test_platform links the configured poller, test_platform_poll the portable poll()
 * backend, so both backends run in every build. Every wait has a deadline; the tests pass with
 * CK_FORK=no (the signal test, which latches the stop flag, runs last).
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/platform.h>

/* ---- helpers ---------------------------------------------------------------------------- */

static const uint8_t ip_lo4[16] = { 127, 0, 0, 1 };
static const uint8_t ip_lo6[16] = { [15] = 1 };
static const uint8_t ip_any[16] = { 0 };
static const uint8_t ip_doc4[16] = { 192, 0, 2, 1 };			 /* RFC 5737 */
static const uint8_t ip_doc6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }; /* RFC 3849 */

/* Loop tests run once per family: _i == 0 is IPv4, _i == 1 IPv6. */
static uint8_t fam_of(int i)
{
	return i == 0 ? TP_AF_INET : TP_AF_INET6;
}

static struct tp_addr mk(uint8_t family, const uint8_t *ip, uint16_t port)
{
	struct tp_addr a;

	if (family == TP_AF_INET)
		tp_addr_set4(&a, ip, port);
	else
		tp_addr_set6(&a, ip, port);
	return a;
}

static struct tp_addr lo(int i, uint16_t port)
{
	return mk(fam_of(i), i == 0 ? ip_lo4 : ip_lo6, port);
}

static tp_socket_t udp(const struct tp_addr *bind, struct tp_addr *local)
{
	tp_socket_t s = TP_SOCKET_INVALID;

	ck_assert_int_eq(tp_udp_open(bind, TP_SOCK_NONBLOCK, &s), 0);
	ck_assert(s != TP_SOCKET_INVALID);
	if (local)
		ck_assert_int_eq(tp_sock_local_addr(s, local), 0);
	return s;
}

/* Wait up to @timeout_ms for @s to report any of @want; returns the events seen (0: none). */
static unsigned wait_for(tp_socket_t s, unsigned want, int timeout_ms)
{
	struct tp_poller *p = tp_poller_create();
	struct tp_poll_event ev[2];
	int tag, n;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(tp_poller_add(p, s, want, &tag), 0);
	n = tp_poller_wait(p, ev, 2, timeout_ms);
	ck_assert_int_ge(n, 0);
	ck_assert_int_le(n, 1);
	if (n)
		ck_assert_ptr_eq(ev[0].data, &tag);
	tp_poller_destroy(p);
	return n ? ev[0].events : 0;
}

/* Receive until @want datagrams are in @d or 2 s pass; returns how many arrived. */
static unsigned recv_n(tp_socket_t s, const struct tp_addr *local, struct tp_dgram *d,
		       unsigned want)
{
	uint64_t deadline = tp_time_mono_ms() + 2000;
	unsigned got = 0;

	while (got < want && tp_time_mono_ms() < deadline) {
		int r = tp_udp_recv_batch(s, local, d + got, want - got);

		ck_assert_int_ge(r, 0);
		got += (unsigned)r;
		if (!r)
			wait_for(s, TP_POLL_IN, 100);
	}
	return got;
}

static struct tp_dgram_out out1(const void *buf, size_t len, const struct tp_addr *dst)
{
	struct tp_dgram_out o;

	memset(&o, 0, sizeof(o));
	o.iov[0].base = buf;
	o.iov[0].len = len;
	o.iovcnt = 1;
	o.dst = *dst;
	return o;
}

/* ---- time ------------------------------------------------------------------------------- */

START_TEST(time_clocks)
{
	uint64_t ms0 = tp_time_mono_ms(), ns0 = tp_time_mono_ns();
	uint64_t ms1, ns1;

	tp_sleep_ms(20);
	ms1 = tp_time_mono_ms();
	ns1 = tp_time_mono_ns();
	ck_assert_uint_ge(ns1 - ns0, 20000000u);
	ck_assert_uint_lt(ns1 - ns0, 2000000000u);
	ck_assert_uint_ge(ms1 - ms0, 19); /* both readings truncated to whole ms */
	ck_assert_uint_lt(ms1 - ms0, 2000);
	/* One clock: ns / 1e6 and ms agree to within the time between the reads. */
	ck_assert_uint_le(ns1 / 1000000u - ms1, 5);
	ck_assert_uint_gt(tp_time_unix_s(), 1600000000u);
	tp_sleep_ms(0);
}
END_TEST

/* ---- UDP -------------------------------------------------------------------------------- */

START_TEST(udp_bind_ephemeral)
{
	struct tp_addr b = lo(_i, 0), got, any = mk(fam_of(_i), ip_any, 0);
	tp_socket_t s, w;

	s = udp(&b, &got);
	ck_assert_uint_eq(got.family, fam_of(_i));
	ck_assert(tp_addr_ip_eq(&got, &b));
	ck_assert_uint_ne(got.port, 0);

	w = udp(&any, &got);
	ck_assert_uint_eq(got.family, fam_of(_i));
	ck_assert(tp_addr_ip_eq(&got, &any));
	ck_assert_uint_ne(got.port, 0);

	/* Nothing pending: a batch receive returns 0, not -EAGAIN. */
	{
		uint8_t buf[16];
		struct tp_dgram d = { .buf = buf, .cap = sizeof(buf) };

		ck_assert_int_eq(tp_udp_recv_batch(s, NULL, &d, 1), 0);
		ck_assert_int_eq(tp_udp_recv_batch(s, NULL, &d, 0), 0);
	}
	tp_sock_close(s);
	tp_sock_close(w);
	tp_sock_close(TP_SOCKET_INVALID); /* ignored */

	/* Bad arguments. */
	{
		struct tp_addr none;

		memset(&none, 0, sizeof(none));
		ck_assert_int_eq(tp_udp_open(&b, 1u << 7, &s), -EINVAL);
		ck_assert_int_eq(tp_udp_open(&none, 0, &s), -EAFNOSUPPORT);
	}
}
END_TEST

enum {
	BATCH = 32
};

START_TEST(udp_batch_in_order_with_addresses)
{
	struct tp_addr any = mk(fam_of(_i), ip_any, 0), lob = lo(_i, 0), rxl, txl, dst;
	static uint8_t payload[BATCH][64], rbuf[BATCH][128];
	struct tp_dgram_out o[BATCH];
	struct tp_dgram d[BATCH];
	tp_socket_t rx, tx;
	unsigned i, sent = 0;

	/* A wildcard receiver learns the local address of each datagram from PKTINFO. */
	rx = udp(&any, &rxl);
	tx = udp(&lob, &txl);
	dst = lo(_i, rxl.port);
	for (i = 0; i < BATCH; i++) {
		int len = snprintf((char *)payload[i], sizeof(payload[i]), "datagram %u of %u/%.*s",
				   i, BATCH, (int)i, "abcdefghijklmnopqrstuvwxyz0123456789");

		o[i] = out1(payload[i], (size_t)len, &dst);
		/* The second half names its source explicitly (sent with PKTINFO). */
		if (i >= BATCH / 2)
			o[i].src = lo(_i, 0);
		d[i].buf = rbuf[i];
		d[i].cap = sizeof(rbuf[i]);
	}
	while (sent < BATCH) {
		int r = tp_udp_send_batch(tx, o + sent, BATCH - sent);

		ck_assert_int_gt(r, 0);
		sent += (unsigned)r;
	}
	ck_assert_uint_eq(recv_n(rx, &rxl, d, BATCH), BATCH);
	for (i = 0; i < BATCH; i++) {
		ck_assert_uint_eq(d[i].len, o[i].iov[0].len);
		ck_assert_mem_eq(d[i].buf, payload[i], d[i].len);
		ck_assert_uint_eq(d[i].flags, 0);
		ck_assert(tp_addr_eq(&d[i].src, &txl));
		ck_assert(tp_addr_eq(&d[i].dst, &dst)); /* loopback IP from PKTINFO, bound port */
	}

	/* Without @local, dst still has the IP but port 0. */
	ck_assert_int_eq(tp_udp_send_batch(tx, o, 1), 1);
	ck_assert_uint_eq(recv_n(rx, NULL, d, 1), 1);
	ck_assert_uint_eq(d[0].dst.family, fam_of(_i));
	ck_assert(tp_addr_ip_eq(&d[0].dst, &dst));
	ck_assert_uint_eq(d[0].dst.port, 0);

	/* A datagram longer than its buffer is cut and flagged. */
	ck_assert_int_eq(tp_udp_send_batch(tx, o + BATCH - 1, 1), 1);
	d[0].cap = 8;
	ck_assert_uint_eq(recv_n(rx, &rxl, d, 1), 1);
	ck_assert_uint_eq(d[0].len, 8);
	ck_assert_uint_eq(d[0].flags, TP_DGRAM_TRUNC);
	ck_assert_mem_eq(d[0].buf, payload[BATCH - 1], 8);

	tp_sock_close(rx);
	tp_sock_close(tx);
}
END_TEST

START_TEST(udp_send_batch_stops_at_a_bad_datagram)
{
	struct tp_addr lob = lo(_i, 0), rxl, other, dst;
	uint8_t buf[32];
	struct tp_dgram d = { .buf = buf, .cap = sizeof(buf) };
	struct tp_dgram_out o[3];
	tp_socket_t rx, tx;

	rx = udp(&lob, &rxl);
	tx = udp(&lob, NULL);
	dst = rxl;
	o[0] = out1("one", 3, &dst);
	o[1] = out1("two", 3, &dst);
	o[1].dst.family = 0; /* no family: refused before the kernel */
	o[2] = out1("three", 5, &dst);
	ck_assert_int_eq(tp_udp_send_batch(tx, o, 3), 1);
	ck_assert_int_eq(tp_udp_send_batch(tx, o + 1, 2), -EAFNOSUPPORT);
	ck_assert_int_eq(tp_udp_send_batch(tx, o + 2, 1), 1);
	ck_assert_int_eq(tp_udp_send_batch(tx, o, 0), 0);
	/* Wrong family for the socket: the kernel refuses it. */
	other = lo(1 - _i, rxl.port);
	o[0].dst = other;
	ck_assert_int_lt(tp_udp_send_batch(tx, o, 1), 0);

	ck_assert_uint_eq(recv_n(rx, &rxl, &d, 1), 1);
	ck_assert_mem_eq(d.buf, "one", 3);
	ck_assert_uint_eq(recv_n(rx, &rxl, &d, 1), 1);
	ck_assert_mem_eq(d.buf, "three", 5);
	tp_sock_close(rx);
	tp_sock_close(tx);
}
END_TEST

/*
 * Batches shaped for UDP GSO (same destination, same length, a shorter last one) and batches
 * that break the runs (other destinations, other sources, other lengths, an empty datagram):
 * whether the platform sends them as GSO or one by one, every datagram arrives whole, in order.
 */
enum {
	GSO_N = TP_UDP_BATCH_MAX,
	GSO_BIG = 1100
};

static uint8_t gso_pay[GSO_N][GSO_BIG], gso_rbuf[2][GSO_N][GSO_BIG + 64];

static void gso_fill(struct tp_dgram_out *o, unsigned i, size_t len, const struct tp_addr *dst)
{
	size_t a = len / 3, b = len / 2;

	for (size_t j = 0; j < len; j++)
		gso_pay[i][j] = (uint8_t)(i * 31 + j);
	*o = out1(gso_pay[i], len, dst);
	if (i % 3 == 1 && len >= 2) { /* some in several pieces, as relayed data is */
		o->iov[0].len = a;
		o->iov[1].base = gso_pay[i] + a;
		o->iov[1].len = b - a;
		o->iov[2].base = gso_pay[i] + b;
		o->iov[2].len = len - b;
		o->iovcnt = 3;
	}
}

/* Send @n from @o on @tx, then check what each of @rx[0..1] got against the datagrams to it. */
static void gso_check(tp_socket_t tx, tp_socket_t rx[2], const struct tp_addr rxl[2],
		      const struct tp_dgram_out *o, unsigned n)
{
	struct tp_dgram d[GSO_N];
	unsigned sent = 0;

	while (sent < n) {
		int r = tp_udp_send_batch(tx, o + sent, n - sent);

		ck_assert_int_gt(r, 0);
		ck_assert_int_le(r, (int)(n - sent));
		sent += (unsigned)r;
	}
	for (unsigned k = 0; k < 2; k++) {
		unsigned want = 0, got = 0;

		for (unsigned i = 0; i < n; i++) {
			want += tp_addr_eq(&o[i].dst, &rxl[k]);
			d[i].buf = gso_rbuf[k][i];
			d[i].cap = sizeof(gso_rbuf[k][i]);
		}
		if (want)
			ck_assert_uint_eq(recv_n(rx[k], &rxl[k], d, want), want);
		for (unsigned i = 0; i < n; i++) {
			size_t len = 0;

			if (!tp_addr_eq(&o[i].dst, &rxl[k]))
				continue;
			for (unsigned j = 0; j < o[i].iovcnt; j++)
				len += o[i].iov[j].len;
			ck_assert_uint_eq(d[got].len, len);
			ck_assert_uint_eq(d[got].flags, 0);
			ck_assert_mem_eq(d[got].buf, gso_pay[i], len);
			got++;
		}
		/* Nothing more (no merged or split datagrams). */
		ck_assert_int_eq(tp_udp_recv_batch(rx[k], &rxl[k], d, 1), 0);
	}
}

START_TEST(udp_send_batch_gso_runs)
{
	struct tp_addr lob = lo(_i, 0), rxl[2], src = lo(_i, 0);
	struct tp_dgram_out o[GSO_N];
	tp_socket_t rx[2], tx;
	unsigned i;

	rx[0] = udp(&lob, &rxl[0]);
	rx[1] = udp(&lob, &rxl[1]);
	tx = udp(&lob, NULL);

	/* One run: 40 of 100 bytes and a shorter last one. */
	for (i = 0; i < 41; i++)
		gso_fill(&o[i], i, i == 40 ? 37 : 100, &rxl[0]);
	gso_check(tx, rx, rxl, o, 41);

	/* A full batch of 1100-byte datagrams: over 65000 bytes, so more than one GSO send. */
	for (i = 0; i < GSO_N; i++)
		gso_fill(&o[i], i, GSO_BIG, &rxl[0]);
	gso_check(tx, rx, rxl, o, GSO_N);

	/* The same with a PKTINFO source on every one: both control messages together. */
	for (i = 0; i < GSO_N; i++)
		o[i].src = src;
	gso_check(tx, rx, rxl, o, GSO_N);

	/* Mixed: runs broken by a destination, a source, a length, an empty datagram. */
	for (i = 0; i < GSO_N; i++) {
		static const uint16_t lens[] = { 200, 200, 200, 50, 200, 200, 300, 0, 7, 7 };
		const struct tp_addr *dst = &rxl[(i / 5) % 2 == 1 && i % 5 == 2 ? 1 : 0];

		gso_fill(&o[i], i, lens[i % 10], dst);
		if (i % 13 == 4)
			o[i].src = src;
	}
	gso_check(tx, rx, rxl, o, GSO_N);

	/* Interleaved destinations: runs of one. */
	for (i = 0; i < 10; i++)
		gso_fill(&o[i], i, 64, &rxl[i % 2]);
	gso_check(tx, rx, rxl, o, 10);

	tp_sock_close(rx[0]);
	tp_sock_close(rx[1]);
	tp_sock_close(tx);
}
END_TEST

START_TEST(udp_sendv_concatenates_and_sets_source)
{
	struct tp_addr lob = lo(_i, 0), any = mk(fam_of(_i), ip_any, 0), rxl, txl;
	uint8_t buf[64];
	struct tp_dgram d = { .buf = buf, .cap = sizeof(buf) };
	struct tp_dgram_out o;
	tp_socket_t rx, tx;
	long r;

	rx = udp(&lob, &rxl);
	tx = udp(&any, &txl); /* wildcard sender: the source comes from o.src */
	memset(&o, 0, sizeof(o));
	o.iov[0] = (struct tp_iov){ "\x40\x01\x00\x07", 4 };
	o.iov[1] = (struct tp_iov){ "payload", 7 };
	o.iov[2] = (struct tp_iov){ "\0", 1 };
	o.iovcnt = 3;
	o.dst = rxl;
	o.src = lo(_i, 9); /* the port is ignored */
	ck_assert_int_eq(tp_udp_sendv(tx, &o), 12);
	ck_assert_uint_eq(recv_n(rx, &rxl, &d, 1), 1);
	ck_assert_uint_eq(d.len, 12);
	ck_assert_mem_eq(d.buf, "\x40\x01\x00\x07payload\0", 12);
	ck_assert(tp_addr_ip_eq(&d.src, &lob));
	ck_assert_uint_eq(d.src.port, txl.port);
	ck_assert(tp_addr_eq(&d.dst, &rxl));

	/* A source address that is not the host's: refused, or (with nonlocal bind) used. */
	o.src = mk(fam_of(_i), _i == 0 ? ip_doc4 : ip_doc6, 0);
	r = tp_udp_sendv(tx, &o);
	if (r >= 0) {
		ck_assert_uint_eq(recv_n(rx, &rxl, &d, 1), 1);
		ck_assert(tp_addr_ip_eq(&d.src, &o.src));
	}

	o.iovcnt = 0;
	ck_assert_int_eq(tp_udp_sendv(tx, &o), -EINVAL);
	o.iovcnt = TP_DGRAM_IOV_MAX + 1;
	ck_assert_int_eq(tp_udp_sendv(tx, &o), -EINVAL);
	tp_sock_close(rx);
	tp_sock_close(tx);
}
END_TEST

START_TEST(udp_reuseport_group)
{
	struct tp_addr lob = lo(_i, 0), la, same;
	tp_socket_t a, b, c, x;
	int r;

	/* Without the flag a taken port is refused. */
	x = udp(&lob, &la);
	same = la;
	ck_assert_int_eq(tp_udp_open(&same, 0, &c), -EADDRINUSE);
	tp_sock_close(x);

	r = tp_udp_open(&lob, TP_SOCK_REUSEPORT | TP_SOCK_NONBLOCK, &a);
	if (!tp_net_have_reuseport()) {
		ck_assert_int_eq(r, -ENOTSUP);
		ck_assert_int_eq(tp_tcp_listen(&lob, TP_SOCK_REUSEPORT, 0, &a), -ENOTSUP);
		return;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(tp_sock_local_addr(a, &la), 0);
	same = la;
	ck_assert_int_eq(tp_udp_open(&same, TP_SOCK_REUSEPORT | TP_SOCK_NONBLOCK, &b), 0);
	/* A socket outside the group still cannot have the port. */
	ck_assert_int_eq(tp_udp_open(&same, TP_SOCK_NONBLOCK, &c), -EADDRINUSE);

	/* Datagrams from 8 sources all land in the group, spread by the kernel's hash. */
	{
		enum {
			SRC = 8
		};
		struct tp_poller *p = tp_poller_create();
		uint64_t deadline = tp_time_mono_ms() + 2000;
		unsigned i, got = 0;

		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(tp_poller_add(p, a, TP_POLL_IN, &a), 0);
		ck_assert_int_eq(tp_poller_add(p, b, TP_POLL_IN, &b), 0);
		for (i = 0; i < SRC; i++) {
			tp_socket_t s = udp(&lob, NULL);
			struct tp_dgram_out o = out1("hi", 2, &la);

			ck_assert_int_eq(tp_udp_sendv(s, &o), 2);
			tp_sock_close(s);
		}
		while (got < SRC && tp_time_mono_ms() < deadline) {
			struct tp_poll_event ev[2];
			int n = tp_poller_wait(p, ev, 2, 100), k;

			ck_assert_int_ge(n, 0);
			for (k = 0; k < n; k++) {
				uint8_t buf[8];
				struct tp_dgram d[SRC];

				for (i = 0; i < SRC; i++)
					d[i] = (struct tp_dgram){ .buf = buf, .cap = sizeof(buf) };
				r = tp_udp_recv_batch(*(tp_socket_t *)ev[k].data, &la, d, SRC);
				ck_assert_int_ge(r, 0);
				got += (unsigned)r;
			}
		}
		ck_assert_uint_eq(got, SRC);
		tp_poller_destroy(p);
	}
	tp_sock_close(a);
	tp_sock_close(b);

	/* TCP listeners form a group the same way. */
	ck_assert_int_eq(tp_tcp_listen(&lob, TP_SOCK_REUSEPORT, 0, &a), 0);
	ck_assert_int_eq(tp_sock_local_addr(a, &la), 0);
	ck_assert_int_eq(tp_tcp_listen(&la, TP_SOCK_REUSEPORT, 0, &b), 0);
	tp_sock_close(a);
	tp_sock_close(b);
}
END_TEST

START_TEST(udp_dont_fragment)
{
	struct tp_addr lob = lo(_i, 0);
	tp_socket_t s = udp(&lob, NULL);
	int on = tp_sock_set_df(s, fam_of(_i), true), off = tp_sock_set_df(s, fam_of(_i), false);

#if defined(__linux__)
	ck_assert_int_eq(on, 0);
	ck_assert_int_eq(off, 0);
#else
	ck_assert(on == 0 || on == -ENOTSUP);
	ck_assert(off == 0 || off == -ENOTSUP);
#endif
	ck_assert_int_eq(tp_sock_set_df(s, 7, true), -EAFNOSUPPORT);
	ck_assert_int_eq(tp_sock_set_buffers(s, 1 << 20, 1 << 20), 0);
	ck_assert_int_eq(tp_sock_set_buffers(s, 0, 0), 0);
	ck_assert_int_eq(tp_sock_set_buffers(s, -1, 0), -EINVAL);
	tp_sock_close(s);
}
END_TEST

/* ---- TCP -------------------------------------------------------------------------------- */

/* A connected pair: @c the client end (tp_tcp_connect), @sv the accepted end. */
static void tcp_pair(int i, tp_socket_t *l, tp_socket_t *c, tp_socket_t *sv)
{
	struct tp_addr lob = lo(i, 0), la, cl, peer, local;

	ck_assert_int_eq(tp_tcp_listen(&lob, TP_SOCK_NONBLOCK, 0, l), 0);
	ck_assert_int_eq(tp_sock_local_addr(*l, &la), 0);
	ck_assert_int_eq(tp_tcp_accept(*l, sv, NULL, NULL), -EAGAIN);
	ck_assert_int_eq(tp_tcp_connect(&la, c), 0);
	ck_assert_int_eq(tp_sock_local_addr(*c, &cl), 0);
	ck_assert_uint_ne(wait_for(*l, TP_POLL_IN, 2000) & TP_POLL_IN, 0);
	ck_assert_int_eq(tp_tcp_accept(*l, sv, &peer, &local), 0);
	ck_assert(tp_addr_eq(&peer, &cl));
	ck_assert(tp_addr_eq(&local, &la));
}

START_TEST(tcp_stream_partial_reads_eof_and_epipe)
{
	tp_socket_t l, c, sv;
	char buf[16];
	long r;
	int tries;

	tcp_pair(_i, &l, &c, &sv);
	ck_assert_int_eq(tp_sock_send(c, "0123456789", 10), 10);
	ck_assert_uint_ne(wait_for(sv, TP_POLL_IN, 2000) & TP_POLL_IN, 0);
	ck_assert_int_eq(tp_sock_recv(sv, buf, 4), 4);
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert_int_eq(tp_sock_recv(sv, buf, 4), 4);
	ck_assert_mem_eq(buf, "4567", 4);
	ck_assert_int_eq(tp_sock_recv(sv, buf, 4), 2);
	ck_assert_mem_eq(buf, "89", 2);
	ck_assert_int_eq(tp_sock_recv(sv, buf, 4), -EAGAIN);

	{
		struct tp_iov v[3] = { { "\x40\x00", 2 }, { "\x00\x03", 2 }, { "abc", 3 } };
		long got = 0;

		ck_assert_int_eq(tp_sock_sendv(c, v, 3), 7);
		ck_assert_int_eq(tp_sock_sendv(c, v, 0), -EINVAL);
		while (got < 7) {
			ck_assert_uint_ne(wait_for(sv, TP_POLL_IN, 2000), 0);
			r = tp_sock_recv(sv, buf + got, sizeof(buf) - (size_t)got);
			ck_assert_int_gt(r, 0);
			got += r;
		}
		ck_assert_int_eq(got, 7);
		ck_assert_mem_eq(buf,
				 "\x40\x00\x00\x03"
				 "abc",
				 7);
	}

	/* Peer closes: readable, then recv reports an orderly EOF. */
	tp_sock_close(c);
	ck_assert_uint_ne(wait_for(sv, TP_POLL_IN, 2000), 0);
	ck_assert_int_eq(tp_sock_recv(sv, buf, sizeof(buf)), 0);

	/* Writing to the closed peer fails (its RST arrives after the first write), no SIGPIPE. */
	for (tries = 0; tries < 200; tries++) {
		r = tp_sock_send(sv, "x", 1);
		if (r < 0)
			break;
		tp_sleep_ms(5);
	}
	ck_assert(r == -EPIPE || r == -ECONNRESET);
	tp_sock_close(sv);
	tp_sock_close(l);
}
END_TEST

START_TEST(tcp_connect_refused)
{
	struct tp_addr lob = lo(_i, 0), la;
	tp_socket_t l, c;

	ck_assert_int_eq(tp_tcp_listen(&lob, 0, 0, &l), 0);
	ck_assert_int_eq(tp_sock_local_addr(l, &la), 0);
	ck_assert_int_eq(tp_tcp_listen(&la, 0, 0, &c), -EADDRINUSE);
	tp_sock_close(l);
	ck_assert_int_eq(tp_tcp_connect(&la, &c), -ECONNREFUSED);
}
END_TEST

/* ---- poller ----------------------------------------------------------------------------- */

START_TEST(poller_add_mod_del)
{
	struct tp_addr lob = lo(0, 0), ul;
	struct tp_poll_event ev[4];
	struct tp_poller *p = tp_poller_create();
	tp_socket_t u, other, tx;
	int tag1, tag2;

	ck_assert_ptr_nonnull(p);
	ck_assert(strcmp(tp_poller_name(), "epoll") == 0 || strcmp(tp_poller_name(), "poll") == 0 ||
		  strcmp(tp_poller_name(), "wsapoll") == 0);
	u = udp(&lob, &ul);
	other = udp(&lob, NULL);
	tx = udp(&lob, NULL);

	ck_assert_int_eq(tp_poller_add(p, u, TP_POLL_IN, &tag1), 0);
	ck_assert_int_eq(tp_poller_add(p, u, TP_POLL_IN, &tag1), -EEXIST);
	ck_assert_int_eq(tp_poller_mod(p, other, TP_POLL_IN, NULL), -ENOENT);
	ck_assert_int_eq(tp_poller_del(p, other), -ENOENT);
	ck_assert_int_eq(tp_poller_add(p, TP_SOCKET_INVALID, TP_POLL_IN, NULL), -EBADF);
	ck_assert_int_eq(tp_poller_add(p, other, 1u << 6, NULL), -EINVAL);
	ck_assert_int_eq(tp_poller_wait(p, ev, 0, 0), -EINVAL);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 0), 0); /* nothing pending */

	/* OUT: an idle UDP socket is writable at once; the new data pointer comes back. */
	ck_assert_int_eq(tp_poller_mod(p, u, TP_POLL_IN | TP_POLL_OUT, &tag2), 0);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 1000), 1);
	ck_assert_ptr_eq(ev[0].data, &tag2);
	ck_assert_uint_eq(ev[0].events, TP_POLL_OUT);

	/* IN after a datagram arrives, reported on every wait until read (level-triggered). */
	ck_assert_int_eq(tp_poller_mod(p, u, TP_POLL_IN, &tag1), 0);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 0), 0);
	{
		struct tp_dgram_out o = out1("ping", 4, &ul);

		ck_assert_int_eq(tp_udp_sendv(tx, &o), 4);
	}
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 2000), 1);
	ck_assert_ptr_eq(ev[0].data, &tag1);
	ck_assert_uint_eq(ev[0].events, TP_POLL_IN);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 0), 1);

	/* Mask 0: readable but not asked for, so not reported. */
	ck_assert_int_eq(tp_poller_mod(p, u, 0, &tag1), 0);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 0), 0);

	/* Deleted: silent; deleting twice is an error; adding back works. */
	ck_assert_int_eq(tp_poller_mod(p, u, TP_POLL_IN, &tag1), 0);
	ck_assert_int_eq(tp_poller_del(p, u), 0);
	ck_assert_int_eq(tp_poller_del(p, u), -ENOENT);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 0), 0);
	ck_assert_int_eq(tp_poller_add(p, u, TP_POLL_IN, &tag2), 0);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 0), 1);
	ck_assert_ptr_eq(ev[0].data, &tag2);
	ck_assert_int_eq(tp_poller_del(p, u), 0);

	tp_poller_destroy(p);
	tp_poller_destroy(NULL);
	tp_sock_close(u);
	tp_sock_close(other);
	tp_sock_close(tx);
}
END_TEST

START_TEST(poller_hup_on_peer_close)
{
	struct tp_poll_event ev[4];
	struct tp_poller *p = tp_poller_create();
	tp_socket_t l, c, sv;
	int tag;

	ck_assert_ptr_nonnull(p);
	tcp_pair(_i, &l, &c, &sv);
	ck_assert_int_eq(tp_poller_add(p, sv, TP_POLL_IN, &tag), 0);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 0), 0);
	tp_sock_close(c);
	ck_assert_int_eq(tp_poller_wait(p, ev, 4, 2000), 1);
	ck_assert_ptr_eq(ev[0].data, &tag);
	ck_assert_uint_ne(ev[0].events & TP_POLL_IN, 0);
#if defined(__linux__)
	ck_assert_uint_ne(ev[0].events & TP_POLL_HUP, 0);
#endif
	ck_assert_int_eq(tp_poller_del(p, sv), 0);
	tp_poller_destroy(p);
	tp_sock_close(sv);
	tp_sock_close(l);
}
END_TEST

START_TEST(poller_wait_times_out)
{
	struct tp_addr lob = lo(0, 0);
	struct tp_poll_event ev[1];
	struct tp_poller *p = tp_poller_create();
	tp_socket_t u = udp(&lob, NULL);
	uint64_t t0, dt;

	ck_assert_ptr_nonnull(p);
	/* Empty poller, then one quiet socket. */
	t0 = tp_time_mono_ns();
	ck_assert_int_eq(tp_poller_wait(p, ev, 1, 30), 0);
	dt = tp_time_mono_ns() - t0;
	ck_assert_uint_ge(dt, 25000000u);
	ck_assert_uint_lt(dt, 1000000000u);

	ck_assert_int_eq(tp_poller_add(p, u, TP_POLL_IN, NULL), 0);
	t0 = tp_time_mono_ns();
	ck_assert_int_eq(tp_poller_wait(p, ev, 1, 50), 0);
	dt = tp_time_mono_ns() - t0;
	ck_assert_uint_ge(dt, 45000000u);
	ck_assert_uint_lt(dt, 1000000000u);
	ck_assert_int_eq(tp_poller_del(p, u), 0);
	tp_poller_destroy(p);
	tp_sock_close(u);
}
END_TEST

/* xorshift32: a fixed, portable sequence. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

enum {
	MANY = 300
};

/* One wait must report exactly the registered sockets, each once, readable. */
static void expect_exactly(struct tp_poller *p, const bool *live)
{
	static struct tp_poll_event ev[MANY + 8];
	bool seen[MANY] = { false };
	unsigned want = 0, i;
	int n, k;

	for (i = 0; i < MANY; i++)
		want += live[i];
	n = tp_poller_wait(p, ev, MANY + 8, want ? 2000 : 0);
	ck_assert_int_eq(n, (int)want);
	for (k = 0; k < n; k++) {
		uintptr_t idx = (uintptr_t)ev[k].data - 1;

		ck_assert_uint_lt(idx, MANY);
		ck_assert(live[idx]);
		ck_assert(!seen[idx]);
		ck_assert_uint_eq(ev[k].events, TP_POLL_IN);
		seen[idx] = true;
	}
}

START_TEST(poller_many_sockets_random_removal)
{
	static tp_socket_t s[MANY];
	static bool live[MANY];
	static unsigned order[MANY];
	struct tp_addr lob = lo(0, 0), la;
	struct tp_poller *p = tp_poller_create();
	tp_socket_t tx = udp(&lob, NULL);
	uint32_t seed = 0x2545f491;
	unsigned i, k;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < MANY; i++) {
		struct tp_dgram_out o;

		s[i] = udp(&lob, &la);
		ck_assert_int_eq(tp_poller_add(p, s[i], TP_POLL_IN, (void *)(uintptr_t)(i + 1)), 0);
		live[i] = true;
		o = out1(&i, sizeof(i), &la);
		ck_assert_int_eq(tp_udp_sendv(tx, &o), (long)sizeof(i));
		order[i] = i;
	}
	/* Datagrams on loopback are queued by the time sendmsg returns; wait for the last. */
	ck_assert_uint_ne(wait_for(s[MANY - 1], TP_POLL_IN, 2000), 0);
	expect_exactly(p, live);

	/* A small max still reaches every socket within ceil(MANY / max) waits. */
	{
		struct tp_poll_event ev[7];
		bool seen[MANY] = { false };
		unsigned covered = 0;

		for (k = 0; k < (MANY + 6) / 7; k++) {
			int n = tp_poller_wait(p, ev, 7, 1000), j;

			ck_assert_int_eq(n, 7);
			for (j = 0; j < n; j++) {
				uintptr_t idx = (uintptr_t)ev[j].data - 1;

				covered += !seen[idx];
				seen[idx] = true;
			}
		}
		ck_assert_uint_eq(covered, MANY);
	}

	/* Fisher-Yates shuffle, then remove in that order, checking the set after each. */
	for (i = MANY - 1; i > 0; i--) {
		unsigned j = rnd(&seed) % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (k = 0; k < MANY; k++) {
		unsigned victim = order[k];

		ck_assert_int_eq(tp_poller_del(p, s[victim]), 0);
		live[victim] = false;
		/* Halfway, put back every 10th removed socket (their datagrams are still queued).
		 */
		if (k == MANY / 2) {
			for (i = 0; i <= k; i += 10) {
				unsigned back = order[i];

				ck_assert_int_eq(tp_poller_add(p, s[back], TP_POLL_IN,
							       (void *)(uintptr_t)(back + 1)),
						 0);
				live[back] = true;
			}
		}
		expect_exactly(p, live);
	}
	for (i = 0; i < MANY; i++) {
		if (live[i]) {
			ck_assert_int_eq(tp_poller_del(p, s[i]), 0);
			live[i] = false;
		}
	}
	expect_exactly(p, live);
	for (i = 0; i < MANY; i++)
		tp_sock_close(s[i]);
	tp_sock_close(tx);
	tp_poller_destroy(p);
}
END_TEST

/* ---- threads ---------------------------------------------------------------------------- */

static void *times_three(void *arg)
{
	return (void *)((uintptr_t)arg * 3);
}

static void *pin_somewhere(void *arg)
{
	unsigned cpu;
	int r = -EINVAL;

	(void)arg;
	/* CPU 0 may be outside a container's cpuset: take the first CPU that is allowed. */
	for (cpu = 0; cpu < 1024 && r == -EINVAL; cpu++)
		r = tp_thread_pin(cpu);
	return (void *)(intptr_t)r;
}

START_TEST(threads_start_join_pin)
{
	struct tp_thread t[4];
	void *res;
	unsigned i;
	int r;

	for (i = 0; i < 4; i++) {
		char name[32];

		snprintf(name, sizeof(name), "tp-test-%u-with-a-long-name", i);
		ck_assert_int_eq(
			tp_thread_start(&t[i], times_three, (void *)(uintptr_t)(i + 1), name), 0);
	}
	for (i = 0; i < 4; i++) {
		res = NULL;
		ck_assert_int_eq(tp_thread_join(&t[i], &res), 0);
		ck_assert_uint_eq((uintptr_t)res, (i + 1) * 3);
	}
	ck_assert_int_eq(tp_thread_start(&t[0], times_three, (void *)7, NULL), 0);
	ck_assert_int_eq(tp_thread_join(&t[0], NULL), 0);

	/* Pin in a thread of its own, so the test process keeps its affinity. */
	ck_assert_int_eq(tp_thread_start(&t[0], pin_somewhere, NULL, "tp-pin"), 0);
	ck_assert_int_eq(tp_thread_join(&t[0], &res), 0);
	r = (int)(intptr_t)res;
	ck_assert(r == 0 || r == -ENOTSUP);
	r = tp_thread_pin(1u << 30);
	ck_assert(r == -EINVAL || r == -ENOTSUP);

	ck_assert_uint_ge(tp_cpu_count(), 1);
}
END_TEST

/* ---- signals (last: the stop flag latches) ---------------------------------------------- */

START_TEST(signals_set_flags)
{
	ck_assert_int_eq(tp_signals_init(), 0);
	ck_assert(!tp_signal_take_reload());
#ifdef SIGHUP
	ck_assert_int_eq(raise(SIGHUP), 0);
	ck_assert(tp_signal_take_reload());
	ck_assert(!tp_signal_take_reload());
#endif
	tp_signal_request_reload();
	ck_assert(tp_signal_take_reload());
	ck_assert(!tp_signal_take_reload());
#ifdef SIGPIPE
	ck_assert_int_eq(raise(SIGPIPE), 0); /* ignored, or this process would be gone */
#endif
	ck_assert(!tp_signal_stop_requested());
	ck_assert_int_eq(raise(SIGTERM), 0); /* handled: the default action would end the run */
	ck_assert(tp_signal_stop_requested());
	tp_signal_request_stop();
	ck_assert(tp_signal_stop_requested());
	ck_assert(!tp_signal_take_reload());
}
END_TEST

static Suite *platform_suite(void)
{
	Suite *s = suite_create("platform");
	TCase *t;

	t = tcase_create("time");
	tcase_add_test(t, time_clocks);
	suite_add_tcase(s, t);

	t = tcase_create("udp");
	tcase_set_timeout(t, 30);
	tcase_add_loop_test(t, udp_bind_ephemeral, 0, 2);
	tcase_add_loop_test(t, udp_batch_in_order_with_addresses, 0, 2);
	tcase_add_loop_test(t, udp_send_batch_stops_at_a_bad_datagram, 0, 2);
	tcase_add_loop_test(t, udp_send_batch_gso_runs, 0, 2);
	tcase_add_loop_test(t, udp_sendv_concatenates_and_sets_source, 0, 2);
	tcase_add_loop_test(t, udp_reuseport_group, 0, 2);
	tcase_add_loop_test(t, udp_dont_fragment, 0, 2);
	suite_add_tcase(s, t);

	t = tcase_create("tcp");
	tcase_set_timeout(t, 30);
	tcase_add_loop_test(t, tcp_stream_partial_reads_eof_and_epipe, 0, 2);
	tcase_add_loop_test(t, tcp_connect_refused, 0, 2);
	suite_add_tcase(s, t);

	t = tcase_create("poller");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, poller_add_mod_del);
	tcase_add_loop_test(t, poller_hup_on_peer_close, 0, 2);
	tcase_add_test(t, poller_wait_times_out);
	tcase_add_test(t, poller_many_sockets_random_removal);
	suite_add_tcase(s, t);

	t = tcase_create("thread");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, threads_start_join_pin);
	suite_add_tcase(s, t);

	t = tcase_create("signal");
	tcase_add_test(t, signals_set_flags);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (tp_net_init() < 0)
		return EXIT_FAILURE;
	printf("platform tests, poller backend: %s\n", tp_poller_name());
	sr = srunner_create(platform_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tp_net_fini();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
