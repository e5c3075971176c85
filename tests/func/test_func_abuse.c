/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The malformed-traffic run (DESIGN.md §8): thousands of bad datagrams and stream frames of
 * every class, data without permission in both directions, and floods of 401s, allocations,
 * permissions and channels. Afterwards the relay must still be running, answer a Binding, carry
 * a whole allocation and relay correctly, and hold no state from the bad traffic.
 *
 * "No state" is read from the relay's metrics endpoint (turnpike_allocations, the event
 * counters) and its log; the drop and codec-error counters show that the bad traffic did reach
 * the engine and was refused for the reason it was built to break.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>
#include <turnpike/stun.h>

#include "func.h"

#define BUF_MAX	  16384 /* no larger than the relay's stream frame limit */
#define BATCH	  250	/* bad messages between two Binding barriers */
#define CD_TARGET 0x4321

/* --- a deterministic generator of bad messages --- */

struct gen {
	uint64_t s;
};

static uint32_t rnd(struct gen *g)
{
	/* xorshift64*: reproducible runs, so a failure can be replayed. */
	g->s ^= g->s >> 12;
	g->s ^= g->s << 25;
	g->s ^= g->s >> 27;
	return (uint32_t)((g->s * 0x2545F4914F6CDD1Dull) >> 32);
}

struct msg {
	uint8_t *b;
	size_t len, cap;
	struct gen *g;
};

static void m_init(struct msg *m, uint8_t *buf, size_t cap, struct gen *g, uint16_t type)
{
	m->b = buf;
	m->cap = cap;
	m->g = g;
	tp_put_be16(buf, type);
	tp_put_be16(buf + 2, 0);
	tp_put_be32(buf + 4, TP_STUN_MAGIC_COOKIE);
	for (int i = 8; i < 20; i++)
		buf[i] = (uint8_t)rnd(g);
	m->len = TP_STUN_HDR_LEN;
}

/* An attribute of @len bytes (random when @val is NULL), padded with @pad. */
static void m_attr(struct msg *m, uint16_t type, size_t len, const void *val, uint8_t pad)
{
	size_t padded = (len + 3) & ~(size_t)3;

	if (m->len + 4 + padded > m->cap)
		return;
	tp_put_be16(m->b + m->len, type);
	tp_put_be16(m->b + m->len + 2, (uint16_t)len);
	for (size_t i = 0; i < len; i++)
		m->b[m->len + 4 + i] = val ? ((const uint8_t *)val)[i] : (uint8_t)rnd(m->g);
	memset(m->b + m->len + 4 + len, pad, padded - len);
	m->len += 4 + padded;
}

static void m_str(struct msg *m, uint16_t type, const char *s)
{
	m_attr(m, type, strlen(s), s, 0);
}

static size_t m_done(struct msg *m)
{
	tp_put_be16(m->b + 2, (uint16_t)(m->len - TP_STUN_HDR_LEN));
	return m->len;
}

/* USERNAME, REALM, a NONCE the relay never made, and a random MESSAGE-INTEGRITY. */
static void m_fake_creds(struct msg *m, const char *user)
{
	m_str(m, TP_STUN_ATTR_USERNAME, user);
	m_str(m, TP_STUN_ATTR_REALM, H_REALM);
	m_attr(m, TP_STUN_ATTR_NONCE, 37, "obMatJos2gAAA0000000000000000000000000", 0);
	m_attr(m, TP_STUN_ATTR_MESSAGE_INTEGRITY, 20, NULL, 0);
}

enum kind {
	/* framing stays valid: also sent over streams */
	K_OVERRUN,
	K_PADDING,
	K_ZERO_LEN,
	K_DUPLICATES,
	K_TINY_MANY,
	K_AFTER_INTEGRITY,
	K_FINGERPRINT,
	K_MI_LEN,
	K_UNKNOWN_REQUIRED,
	K_ADDRESS,
	K_LONG_STRINGS,
	K_REST_NAME,
	K_WRONG_CLASS,
	K_UNKNOWN_METHOD,
	K_CHANDATA,
	K_STREAM_KINDS,
	/* datagrams only: over a stream these break the framing, see fatal_frame() */
	K_SHORT = K_STREAM_KINDS,
	K_BITS,
	K_COOKIE,
	K_LEN_ALIGN,
	K_LEN_MISMATCH,
	K_TRUNCATED,
	K_GARBAGE,
	K_KINDS
};

static const char *const rest_names[] = {
	"12ab:demo",   ":demo",	  "99999999999999999999999:demo",
	"1:demo",      "-1:demo", "0x7fffffff:demo",
	"1e10:demo",   "::::",	  ":",
	"4294967296:",
};

/* One bad message of @kind into @buf; its length. */
static size_t bad_message(enum kind kind, struct gen *g, uint8_t *buf, size_t cap, bool stream)
{
	static const uint16_t requests[] = { 0x0001, 0x0003, 0x0004, 0x0008, 0x0009 };
	uint16_t req = requests[rnd(g) % 5];
	struct msg m;
	size_t n;

	switch (kind) {
	case K_OVERRUN: /* an attribute claiming more than the message holds */
		m_init(&m, buf, cap, g, req);
		m_attr(&m, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, "\x11\0\0\0", 0);
		tp_put_be16(buf + m.len, (uint16_t)(rnd(g) % 2 ? 0x0006 : 0x8022));
		tp_put_be16(buf + m.len + 2, (uint16_t)(8 + rnd(g) % 2000));
		m.len += 8;
		return m_done(&m);
	case K_PADDING: /* non-zero padding, or none where some is due */
		m_init(&m, buf, cap, g, req);
		m_attr(&m, TP_STUN_ATTR_USERNAME, 5, "abcde", 0xff);
		if (rnd(g) % 2) {
			m.len -= 3; /* the next attribute starts unaligned */
			m_attr(&m, TP_STUN_ATTR_REALM, 3, "xyz", 0);
			m_attr(&m, TP_STUN_ATTR_SOFTWARE, 4 - (m.len & 3), NULL, 0);
			m.len &= ~(size_t)3;
		}
		m_attr(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY, 20, NULL, 0);
		return m_done(&m);
	case K_ZERO_LEN: { /* empty values where the RFC wants some */
		static const uint16_t types[] = { TP_STUN_ATTR_USERNAME,
						  TP_STUN_ATTR_REALM,
						  TP_STUN_ATTR_NONCE,
						  TP_STUN_ATTR_LIFETIME,
						  TP_STUN_ATTR_XOR_PEER_ADDRESS,
						  TP_STUN_ATTR_REQUESTED_TRANSPORT,
						  TP_STUN_ATTR_CHANNEL_NUMBER,
						  TP_STUN_ATTR_USERHASH };
		m_init(&m, buf, cap, g, req);
		m_attr(&m, types[rnd(g) % 8], 0, NULL, 0);
		m_fake_creds(&m, H_USER);
		return m_done(&m);
	}
	case K_DUPLICATES:
		m_init(&m, buf, cap, g, 0x0003);
		m_attr(&m, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, "\x11\0\0\0", 0);
		m_attr(&m, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, "\x06\0\0\0", 0);
		m_attr(&m, TP_STUN_ATTR_LIFETIME, 4, NULL, 0);
		m_attr(&m, TP_STUN_ATTR_LIFETIME, 4, NULL, 0);
		m_str(&m, TP_STUN_ATTR_USERNAME, H_ALICE);
		m_fake_creds(&m, H_USER);
		return m_done(&m);
	case K_TINY_MANY: { /* thousands of empty attributes, known, unknown, required or not */
		unsigned count = 100 + rnd(g) % (stream ? 3000 : 3900);

		m_init(&m, buf, cap, g, rnd(g) % 2 ? 0x0001 : 0x0003);
		for (unsigned i = 0; i < count; i++)
			m_attr(&m, (uint16_t)(rnd(g) % 4 ? 0x8000 | rnd(g) : rnd(g) % 0x40), 0,
			       NULL, 0);
		return m_done(&m);
	}
	case K_AFTER_INTEGRITY: /* attributes after MESSAGE-INTEGRITY or FINGERPRINT */
		m_init(&m, buf, cap, g, req);
		if (rnd(g) % 2) {
			m_fake_creds(&m, H_USER);
			m_attr(&m, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, "\x11\0\0\0", 0);
			m_attr(&m, 0x7777, 4, NULL, 0);
		} else {
			m_attr(&m, TP_STUN_ATTR_FINGERPRINT, 4, NULL, 0);
			m_attr(&m, TP_STUN_ATTR_SOFTWARE, 7, NULL, 0);
		}
		return m_done(&m);
	case K_FINGERPRINT: /* a wrong CRC, a wrong length */
		m_init(&m, buf, cap, g, req);
		m_attr(&m, TP_STUN_ATTR_PRIORITY, 4, NULL, 0);
		m_attr(&m, TP_STUN_ATTR_FINGERPRINT, rnd(g) % 3 ? 4 : rnd(g) % 12, NULL, 0);
		return m_done(&m);
	case K_MI_LEN: { /* MESSAGE-INTEGRITY(-SHA256) of lengths the RFC forbids */
		static const uint8_t mi[] = { 0, 4, 16, 19, 21, 24, 32 };
		static const uint8_t mi256[] = { 0, 4, 12, 15, 18, 36, 64 };

		m_init(&m, buf, cap, g, req);
		m_str(&m, TP_STUN_ATTR_USERNAME, H_USER);
		m_str(&m, TP_STUN_ATTR_REALM, H_REALM);
		m_attr(&m, TP_STUN_ATTR_NONCE, 37, NULL, 0);
		if (rnd(g) % 2)
			m_attr(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY, mi[rnd(g) % 7], NULL, 0);
		else
			m_attr(&m, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, mi256[rnd(g) % 7], NULL,
			       0);
		return m_done(&m);
	}
	case K_UNKNOWN_REQUIRED: /* 420 in requests, silence in indications */
		m_init(&m, buf, cap, g, rnd(g) % 2 ? 0x0001 : 0x0016);
		for (unsigned i = 0, k = 1 + rnd(g) % 24; i < k; i++)
			m_attr(&m, (uint16_t)(0x0040 + rnd(g) % 0x7000), rnd(g) % 9, NULL, 0);
		if (tp_get_be16(buf) == 0x0016) {
			m_attr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, 8,
			       "\0\x01\x31\x13\x5e\x12\xa4\x43", 0);
			m_attr(&m, TP_STUN_ATTR_DATA, 9, NULL, 0);
		}
		return m_done(&m);
	case K_ADDRESS: { /* bad families, lengths and ports */
		static const uint8_t lens[] = { 0, 4, 6, 8, 12, 20, 24 };
		uint8_t v[24];
		uint16_t types[] = { TP_STUN_ATTR_XOR_PEER_ADDRESS, TP_STUN_ATTR_MAPPED_ADDRESS,
				     TP_STUN_ATTR_XOR_MAPPED_ADDRESS,
				     TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
				     TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY };

		for (size_t i = 0; i < sizeof(v); i++)
			v[i] = (uint8_t)rnd(g);
		v[1] = (uint8_t)(rnd(g) % 4 == 0 ? 1 + rnd(g) % 2 : rnd(g)); /* family */
		if (rnd(g) % 2)
			v[2] = v[3] = rnd(g) % 2 ? 0x21 : 0; /* port 0, XORed or not */
		m_init(&m, buf, cap, g, req);
		m_attr(&m, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, "\x11\0\0\0", 0);
		m_attr(&m, types[rnd(g) % 5], lens[rnd(g) % 7], v, 0);
		if (rnd(g) % 2)
			m_fake_creds(&m, H_USER);
		return m_done(&m);
	}
	case K_LONG_STRINGS: { /* past RFC 8489 §14's limits */
		static const uint16_t types[] = { TP_STUN_ATTR_USERNAME, TP_STUN_ATTR_REALM,
						  TP_STUN_ATTR_NONCE, TP_STUN_ATTR_SOFTWARE,
						  TP_STUN_ATTR_ALTERNATE_DOMAIN };
		unsigned t = rnd(g) % 5;

		m_init(&m, buf, cap, g, req);
		m_attr(&m, types[t], (t == 0 ? 509 : t == 4 ? 256 : 764) + rnd(g) % 300, NULL, 0);
		m_fake_creds(&m, "x");
		return m_done(&m);
	}
	case K_REST_NAME: /* TURN REST usernames whose timestamp is not one */
		m_init(&m, buf, cap, g, 0x0003);
		m_attr(&m, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, "\x11\0\0\0", 0);
		m_fake_creds(&m, rest_names[rnd(g) % 10]);
		return m_done(&m);
	case K_WRONG_CLASS: { /* responses and indications a client has no business sending */
		static const uint16_t types[] = { 0x0101, 0x0111, 0x0017, 0x0103,
						  0x0011, 0x0113, 0x0018, 0x0118 };

		m_init(&m, buf, cap, g, types[rnd(g) % 8]);
		m_attr(&m, TP_STUN_ATTR_ERROR_CODE, 4, "\0\0\x04\x01", 0);
		m_attr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, 8, "\0\x01\x31\x13\x5e\x12\xa4\x43", 0);
		m_attr(&m, TP_STUN_ATTR_DATA, rnd(g) % 40, NULL, 0);
		return m_done(&m);
	}
	case K_UNKNOWN_METHOD: /* methods past 0x0FF start with a byte > 3: not STUN (RFC 7983) */
		m_init(&m, buf, cap, g,
		       tp_stun_type((uint16_t)(0x00A + rnd(g) % (stream ? 0xF6 : 0xFF6)), 0));
		m_attr(&m, TP_STUN_ATTR_SOFTWARE, rnd(g) % 30, NULL, 0);
		return m_done(&m);
	case K_CHANDATA: { /* unbound, out of range, or longer than what came */
		uint16_t ch = (uint16_t)(TP_CHANNEL_MIN + rnd(g) % 0x4000);
		size_t len = rnd(g) % 600;

		n = TP_CHANDATA_HDR_LEN + len;
		if (!stream && rnd(g) % 2) {
			switch (rnd(g) % 4) {
			case 0:
				ch = rnd(g) % 2 ? 0x3FFF : (uint16_t)(0x8000 | rnd(g));
				break;
			case 1:
				n = rnd(g) % TP_CHANDATA_HDR_LEN; /* not even a header */
				break;
			default:
				len += 1 + rnd(g) % 1000; /* claims more than it carries */
				break;
			}
		}
		tp_chandata_put_hdr(buf, ch, (uint16_t)len);
		if (stream)
			n = (n + 3) & ~(size_t)3;
		for (size_t i = TP_CHANDATA_HDR_LEN; i < n; i++)
			buf[i] = (uint8_t)rnd(g);
		return n;
	}
	case K_SHORT: /* 0-19 bytes: no STUN header fits */
		n = rnd(g) % TP_STUN_HDR_LEN;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd(g);
		if (n)
			buf[0] &= 0x03;
		return n;
	case K_BITS: /* the two leading bits set */
		m_init(&m, buf, cap, g, req);
		m_fake_creds(&m, H_USER);
		n = m_done(&m);
		buf[0] |= (uint8_t)(0x40 << (rnd(g) % 2));
		return n;
	case K_COOKIE:
		m_init(&m, buf, cap, g, req);
		m_attr(&m, TP_STUN_ATTR_SOFTWARE, 4, NULL, 0);
		n = m_done(&m);
		buf[4 + rnd(g) % 4] ^= (uint8_t)(1 + rnd(g) % 255);
		return n;
	case K_LEN_ALIGN: /* a length that is not a multiple of 4 */
		m_init(&m, buf, cap, g, req);
		m_attr(&m, TP_STUN_ATTR_SOFTWARE, 8, NULL, 0);
		n = m_done(&m) - (1 + rnd(g) % 3);
		tp_put_be16(buf + 2, (uint16_t)(n - TP_STUN_HDR_LEN));
		return n;
	case K_LEN_MISMATCH: /* a length that disagrees with the datagram */
		m_init(&m, buf, cap, g, req);
		m_attr(&m, TP_STUN_ATTR_SOFTWARE, 8, NULL, 0);
		n = m_done(&m);
		tp_put_be16(buf + 2,
			    (uint16_t)(rnd(g) % 2 ? n - TP_STUN_HDR_LEN + 4 * (1 + rnd(g) % 100)
						  : rnd(g) % 3 * 4));
		return n;
	case K_TRUNCATED: /* a plausible request cut short */
		m_init(&m, buf, cap, g, 0x0003);
		m_attr(&m, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, "\x11\0\0\0", 0);
		m_fake_creds(&m, H_USER);
		m_attr(&m, TP_STUN_ATTR_FINGERPRINT, 4, NULL, 0);
		return TP_STUN_HDR_LEN + rnd(g) % (m_done(&m) - TP_STUN_HDR_LEN);
	default: /* K_GARBAGE */
		n = 1 + rnd(g) % 1500;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd(g);
		return n;
	}
}

/* --- checks --- */

static unsigned created(void)
{
	return relay_log_count(&R, "allocation created");
}

/* Send @count bad messages on @c, a Binding answered after every BATCH of them. */
static void blast(struct tcl *c, struct gen *g, unsigned count, bool stream)
{
	static uint8_t buf[BUF_MAX];

	for (unsigned i = 0; i < count; i++) {
		enum kind k = (enum kind)(rnd(g) % (stream ? K_STREAM_KINDS : K_KINDS));
		size_t n = bad_message(k, g, buf, sizeof(buf), stream);

		ck_assert_msg(tcl_send_raw(c, buf, n) == 0, "bad message %u (kind %d): %s", i, k,
			      c->err);
		if ((i + 1) % BATCH == 0 || i + 1 == count)
			EXPECT(c, tcl_binding(c, NULL), 0);
	}
	/* Nothing but responses came back: no data from anywhere. */
	client_expect_nothing(c, 0);
}

static uint64_t metric(const char *series)
{
	return relay_metric(&R, series);
}

#define CODEC(error) metric("turnpike_codec_errors_total{error=\"" error "\"}")

/*
 * What must hold after any abuse: running, answering, relaying, and nothing left behind but
 * the @live allocations the test made on purpose (@made in all).
 */
static void assert_healthy(unsigned made, unsigned live)
{
	struct tcl *c, *d;
	struct tcl_peer *p;
	struct tp_addr mapped;

	ck_assert_msg(relay_alive(&R), "the relay died");
	ck_assert_uint_eq(created(), made);
	ck_assert_uint_eq(metric("turnpike_events_total{event=\"alloc_created\"}"), made);
	ck_assert_uint_eq(metric("turnpike_allocations"), live);
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_TCP, TP_AF_INET6);
	EXPECT(c, tcl_binding(c, &mapped), 0);
	ck_assert(tp_addr_eq(&mapped, &c->local));
	EXPECT(d, tcl_binding(d, &mapped), 0);
	ck_assert(tp_addr_eq(&mapped, &d->local));
	p = peer_open(TP_AF_INET);
	tcl_set_user(c, H_BOB, H_BOB_PASS);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	ck_assert_uint_eq(metric("turnpike_allocations"), live + 1);
	EXPECT(c, tcl_permit(c, &p->addr, 1), 0);
	EXPECT(c, tcl_send(c, &p->addr, "still fine", 10, false), 0);
	peer_expect(p, "still fine", 10, &c->relay[0]);
	ck_assert_int_eq(tcl_peer_send(p, &c->relay[0], "and back", 8), 0);
	client_expect_data(c, 0, &p->addr, "and back", 8);
	EXPECT(c, tcl_bind(c, 0x4000, &p->addr), 0);
	EXPECT(c, tcl_chandata(c, 0x4000, "chan", 4), 0);
	peer_expect(p, "chan", 4, &c->relay[0]);
	ck_assert_int_eq(tcl_peer_send(p, &c->relay[0], "chan back", 9), 0);
	client_expect_data(c, 0x4000, NULL, "chan back", 9);
	ck_assert_uint_eq(created(), made + 1);
	EXPECT(c, tcl_refresh(c, 0), 0);
	ck_assert_uint_eq(metric("turnpike_allocations"), live);
	ck_assert_msg(relay_alive(&R), "the relay died");
}

/* A legitimate allocation receiving malformed and unpermitted traffic on its own 5-tuple. */
static void abuse_allocation(struct tcl *c, struct gen *g)
{
	struct tcl_peer *p = peer_open(TP_AF_INET), *q = peer_open(TP_AF_INET6);
	uint8_t v[20] = { 0, 3, 0x12, 0x34 };
	uint8_t cd[64];

	EXPECT(c, tcl_allocate(c, &(struct tcl_req){ .add_family = TP_AF_INET6 }), 0);
	/* Without permission: Send from the client, data from the peers, both ways dropped. */
	for (int i = 0; i < 200; i++) {
		EXPECT(c, tcl_send(c, &p->addr, "no permission", 13, i % 2), 0);
		ck_assert_int_eq(tcl_peer_send(p, &c->relay[0], "no permission", 13), 0);
		ck_assert_int_eq(tcl_peer_send(q, &c->relay[1], "no permission", 13), 0);
	}
	/* Malformed attributes in authenticated requests: answered with 400. */
	EXPECT(c,
	       tcl_request(c, &(struct tcl_req){ .method = TP_STUN_CREATE_PERMISSION,
						 .extra_type = TP_STUN_ATTR_XOR_PEER_ADDRESS,
						 .extra = v,
						 .extra_len = 8 }),
	       400);
	v[1] = 1; /* IPv4, but 20 bytes long */
	EXPECT(c,
	       tcl_request(c, &(struct tcl_req){ .method = TP_STUN_CREATE_PERMISSION,
						 .extra_type = TP_STUN_ATTR_XOR_PEER_ADDRESS,
						 .extra = v,
						 .extra_len = 20 }),
	       400);
	v[2] = 0x21; /* port 0 once un-XORed */
	v[3] = 0x12;
	EXPECT(c,
	       tcl_request(c, &(struct tcl_req){ .method = TP_STUN_CREATE_PERMISSION,
						 .extra_type = TP_STUN_ATTR_XOR_PEER_ADDRESS,
						 .extra = v,
						 .extra_len = 8 }),
	       400);
	EXPECT(c,
	       tcl_request(c,
			   &(struct tcl_req){ .method = TP_STUN_REFRESH,
					      .extra_type = TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
					      .extra = v,
					      .extra_len = 8 }),
	       400);
	/* ChannelData: unbound, and (over UDP) on a bound channel claiming more data than the
	 * datagram carries. The peers' datagrams above are all dropped before a permission
	 * exists: the drop counter says when. */
	wait_metric(DROPS("NO_PERMISSION"), 600);
	EXPECT(c, tcl_bind(c, CD_TARGET, &p->addr), 0);
	memset(cd, 0x5a, sizeof(cd));
	for (int i = 0; i < 300; i++) {
		uint16_t ch = (uint16_t)(TP_CHANNEL_MIN + rnd(g) % 0x4000);

		tp_chandata_put_hdr(cd, ch == CD_TARGET ? CD_TARGET + 1 : ch, 8);
		EXPECT(c, tcl_send_raw(c, cd, 12), 0);
		if (c->transport != TCL_UDP)
			continue; /* over a stream the length is the framing */
		tp_chandata_put_hdr(cd, CD_TARGET, (uint16_t)(100 + i));
		EXPECT(c, tcl_send_raw(c, cd, sizeof(cd)), 0);
	}
	/* A Send indication with an unknown comprehension-required attribute: dropped. */
	{
		static const uint8_t x[4];
		struct tcl_req rq = { .method = TP_STUN_SEND, .cls = TP_STUN_INDICATION };

		rq.peers[0] = p->addr;
		rq.n_peers = 1;
		rq.has_data = true;
		rq.data = "unknown attribute";
		rq.data_len = 17;
		rq.extra_type = 0x7777;
		rq.extra = x;
		rq.extra_len = sizeof(x);
		EXPECT(c, tcl_build(c, &rq), 0);
		EXPECT(c, tcl_send_raw(c, c->req, c->req_len), 0);
	}
	/* Then the first thing anyone receives is what is allowed. */
	EXPECT(c, tcl_chandata(c, CD_TARGET, "allowed", 7), 0);
	peer_expect(p, "allowed", 7, &c->relay[0]);
	peer_expect_nothing(p, 100);
	peer_expect_nothing(q, 0);
	client_expect_nothing(c, 0);
	EXPECT(c, tcl_refresh(c, 0), 0);
}

START_TEST(malformed_datagrams)
{
	struct gen g = { 0x9E3779B97F4A7C15ull };
	static const char *const from[] = { "127.0.0.10", "127.0.0.11", "::1", "::1" };
	struct tcl *c;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	abuse_allocation(c, &g);
	/* 6000 bad datagrams from four sources, none with an allocation. */
	for (unsigned i = 0; i < 4; i++) {
		struct tcl *bad = cl_open_from(TCL_UDP, i < 2 ? TP_AF_INET : TP_AF_INET6, from[i]);

		blast(bad, &g, 1500, false);
	}
	/* Every class reached the engine and was refused for its own reason. */
	ck_assert_uint_eq(metric(DROPS("NO_PERMISSION")), 600);
	ck_assert_uint_eq(metric(DROPS("CHAN_UNBOUND")), 300);
	ck_assert_uint_ge(metric(DROPS("CHAN_MALFORMED")), 300);
	ck_assert_uint_eq(metric(DROPS("SEND_MALFORMED")), 1);
	ck_assert_uint_gt(metric(DROPS("NOT_TURN")), 0);
	ck_assert_uint_gt(metric(DROPS("STUN_NOT_REQUEST")), 0);
	ck_assert_uint_gt(metric(DROPS("NO_ALLOCATION")), 0);
	{
		/* NOT_STUN never shows: such a first byte is ChannelData or NOT_TURN to the
		 * demultiplexer (RFC 7983) before the STUN parser sees it. */
		static const char *const errors[] = { "SHORT",	      "COOKIE",	      "LEN_ALIGN",
						      "LEN_MISMATCH", "ATTR_OVERRUN", "FP_NOT_LAST",
						      "MI_LEN",	      "MI256_LEN",    "FP_LEN",
						      "FINGERPRINT" };

		for (unsigned i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
			char series[96];

			snprintf(series, sizeof(series),
				 "turnpike_codec_errors_total{error=\"%s\"}", errors[i]);
			ck_assert_msg(metric(series) > 0, "no %s codec error counted", errors[i]);
		}
	}
	ck_assert_uint_gt(metric("turnpike_error_responses_total{code=\"420\"}"), 0);
	ck_assert_uint_gt(metric("turnpike_error_responses_total{code=\"401\"}"), 0);
	ck_assert_uint_gt(metric("turnpike_error_responses_total{code=\"400\"}"), 0);
	assert_healthy(1, 0);
}
END_TEST

/* A frame no TURN stream can carry: the relay must close the connection (RFC 8656 §12.5). */
static size_t fatal_frame(unsigned kind, struct gen *g, uint8_t *buf)
{
	struct msg m;

	m_init(&m, buf, 64, g, 0x0001);
	switch (kind % 7) {
	case 0: /* bad cookie */
		tp_put_be32(buf + 4, 0x2112A443);
		return m_done(&m);
	case 1: /* length not a multiple of 4 */
		tp_put_be16(buf + 2, 0x0006);
		return 26;
	case 2: /* STUN length past the relay's frame limit */
		tp_put_be16(buf + 2, 0xFFFC);
		return 20;
	case 3: /* ChannelData length past the frame limit */
		tp_chandata_put_hdr(buf, 0x4000, 0xFFFF);
		return 4;
	case 4: /* neither STUN nor ChannelData */
		buf[0] = (uint8_t)(0x80 | rnd(g));
		return 20;
	case 5: /* channel 0x3FFF: not a channel */
		tp_chandata_put_hdr(buf, 0x3FFF, 4);
		return 8;
	default: /* a header promising more, then the connection ends */
		tp_put_be16(buf + 2, 1000);
		return 24;
	}
}

START_TEST(malformed_stream_frames)
{
	struct gen g = { 0xD1B54A32D192ED03ull };
	uint8_t buf[64];
	struct tcl *c;

	start_relay(NULL);
	c = cl_open(TCL_TCP, TP_AF_INET);
	abuse_allocation(c, &g);
	/* Well-framed bad messages: the connections stay up and keep answering. */
	blast(cl_open(TCL_TCP, TP_AF_INET), &g, 2000, true);
	blast(cl_open(TCL_TCP, TP_AF_INET6), &g, 1000, true);
	blast(cl_open(TCL_TLS, TP_AF_INET), &g, 1000, true);
	/* Frames that end a stream: closed by the relay, or by us halfway through one. */
	for (unsigned i = 0; i < 70; i++) {
		int transport = i % 10 == 9 ? TCL_TLS : TCL_TCP;
		struct tcl *s = cl_open(transport, i % 2 ? TP_AF_INET6 : TP_AF_INET);
		size_t n = fatal_frame(i, &g, buf);
		long rc;

		EXPECT(s, tcl_send_raw(s, buf, n), 0);
		if (i % 7 == 6) {
			cl_close(s);
			continue;
		}
		rc = tcl_recv_frame(s, buf, sizeof(buf), TCL_TIMEOUT_MS);
		ck_assert_msg(rc == TCL_EIO, "fatal frame %u: the relay kept the stream (%ld, %s)",
			      i % 7, rc, s->err);
		cl_close(s);
	}
	ck_assert_uint_eq(metric(DROPS("NO_PERMISSION")), 600);
	ck_assert_uint_eq(metric(DROPS("CHAN_UNBOUND")), 300);
	ck_assert_uint_gt(metric(DROPS("NO_ALLOCATION")), 0);
	ck_assert_uint_gt(metric(DROPS("STUN_MALFORMED")), 0);
	ck_assert_uint_gt(CODEC("ATTR_OVERRUN"), 0);
	ck_assert_uint_gt(CODEC("MI_LEN") + CODEC("MI256_LEN"), 0);
	assert_healthy(1, 0);
}
END_TEST

START_TEST(floods)
{
	struct tcl_req alloc = { .method = TP_STUN_ALLOCATE, .transport = 17, .noauth = true };
	struct tcl *flood, *owner, *c[12];
	struct tcl_peer *p[4];
	struct tp_addr peers[TCL_MAX_PEERS];
	uint8_t buf[TCL_FRAME_MAX];
	unsigned answers = 0, ok = 0, quota = 0;
	uint64_t dropped;
	uint64_t deadline;

	start_relay(&(struct relay_conf){
		.unauth_rate = 20,
		.limits = "\"allocations_per_user\": 5, \"permissions_per_allocation\": 40, "
			  "\"channels_per_allocation\": 8" });
	/* 3000 unauthenticated requests from one source: the 401s stay within the rate. Through a
	 * DPDK port they go in bursts of 100, 2 ms apart: the link (a veth's AF_XDP ring, a tap's
	 * queue) must not drop what the relay is asked to account for, and the whole flood still
	 * takes well under a second. */
	flood = cl_open_from(TCL_UDP, TP_AF_INET, "127.0.0.66");
	for (int i = 0; i < 3000; i++) {
		EXPECT(flood, tcl_build(flood, &alloc), 0);
		EXPECT(flood, tcl_send_raw(flood, flood->req, flood->req_len), 0);
		if (harness.dpdk && i % 100 == 99)
			nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	deadline = tcl_now_ms() + 2 * TCL_TIMEOUT_MS;
	do {
		if (tcl_recv_frame(flood, buf, sizeof(buf), 20) >= TP_STUN_HDR_LEN)
			answers++;
		dropped = metric(DROPS("UNAUTH_RATE"));
	} while (answers + dropped < 3000 && tcl_now_ms() < deadline);
	ck_assert_uint_eq(answers + dropped, 3000);
	ck_assert_msg(answers >= 20 && answers <= 60, "%u 401s for 3000 requests", answers);
	/* Allocations: one user's quota holds. */
	for (unsigned i = 0; i < 12; i++) {
		int rc;

		c[i] = cl_open(i % 3 == 1 ? TCL_TCP : TCL_UDP, i % 2 ? TP_AF_INET6 : TP_AF_INET);
		tcl_set_user(c[i], H_ALICE, H_ALICE_PASS);
		rc = tcl_allocate(c[i], NULL);
		ck_assert_msg(rc == 0 || rc == 486, "Allocate %u: %d (%s)", i, rc, c[i]->err);
		ok += rc == 0;
		quota += rc == 486;
	}
	ck_assert_uint_eq(ok, 5);
	ck_assert_uint_eq(quota, 7);
	/* Permissions and channels: the quotas hold, what was granted still works. */
	owner = cl_open(TCL_UDP, TP_AF_INET);
	EXPECT(owner, tcl_allocate(owner, NULL), 0);
	for (unsigned i = 0; i < 4; i++)
		p[i] = peer_open_ip(i % 2 ? "127.0.0.3" : "127.0.0.2");
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < TCL_MAX_PEERS; i++) {
			char ip[32];

			snprintf(ip, sizeof(ip), "127.0.%u.%u:9", 10 + round, 1 + i);
			peers[i] = tcl_addr(ip);
		}
		EXPECT(owner, tcl_permit(owner, peers, TCL_MAX_PEERS), round < 2 ? 0 : 508);
	}
	for (unsigned i = 0; i < 12; i++) {
		struct tp_addr peer = p[i % 4]->addr;

		if (i >= 4)
			peer.port = (uint16_t)(1000 + i); /* other ports of the same IPs */
		EXPECT(owner, tcl_bind(owner, (uint16_t)(0x4000 + i), &peer), i < 8 ? 0 : 508);
	}
	EXPECT(owner, tcl_chandata(owner, 0x4000, "ok", 2), 0);
	peer_expect(p[0], "ok", 2, &owner->relay[0]);
	EXPECT(owner, tcl_refresh(owner, 0), 0);
	ck_assert_uint_eq(metric("turnpike_error_responses_total{code=\"486\"}"), 7);
	ck_assert_uint_eq(metric("turnpike_error_responses_total{code=\"508\"}"), 5);
	assert_healthy(6, 5);
}
END_TEST

TCase *func_tcase_abuse(void)
{
	TCase *tc = tcase_create("abuse");

	tcase_add_checked_fixture(tc, func_setup, func_teardown);
	tcase_set_timeout(tc, func_timeout(120));
	FUNC_ADD_TEST(tc, malformed_datagrams, 0);
	FUNC_ADD_TEST(tc, malformed_stream_frames, FUNC_TLS);
	FUNC_ADD_TEST(tc, floods, 0);
	return tc;
}
