/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address text: strict dotted quads, IPv6 in every RFC 4291 §2.2 form, canonical RFC 5952
 * output, and CIDR prefixes.
 *
 * Written against libc alone: inet_pton is missing or behaves differently on some of the
 * platforms the codec builds for (it accepts "01.2.3.4" on some, refuses it on others), and the
 * codec must not pull in sockets headers. Every parser works on a span [p, e) so that brackets,
 * ports and prefixes can be split off without copying.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <turnpike/addr.h>
#include <turnpike/byteorder.h>
#include <turnpike/wire.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A decimal number filling all of [p, e): no sign, no leading zero (except "0" itself), <= max. */
static bool dec_span(const char *p, const char *e, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;

	if (p == e || (*p == '0' && e - p > 1))
		return false;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint32_t)(*p - '0');
		if (v > max) /* max is small, so v never wraps before this catches it */
			return false;
	}
	*out = v;
	return true;
}

/* A dotted quad filling all of [p, e). */
static bool v4_span(const char *p, const char *e, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		const char *q = p;
		uint32_t v;

		while (q < e && *q != '.')
			q++;
		if (!dec_span(p, q, 255, &v))
			return false;
		out[i] = (uint8_t)v;
		if (i < 3) {
			if (q == e)
				return false;
			p = q + 1;
		} else if (q != e) {
			return false;
		}
	}
	return true;
}

/*
 * RFC 4291 §2.2: eight groups of 1-4 hex digits separated by ':', at most one "::" standing for
 * one or more zero groups, and optionally a dotted quad in place of the last two groups.
 */
static bool v6_span(const char *p, const char *e, uint8_t out[16])
{
	uint16_t w[8];
	int n = 0, gap = -1;

	if (e - p >= 2 && p[0] == ':' && p[1] == ':') {
		gap = 0;
		p += 2;
	} else if (p < e && p[0] == ':') {
		return false; /* a lone leading colon */
	}
	while (p < e) {
		const char *q = p;
		unsigned v = 0;

		while (q < e && hex_value(*q) >= 0)
			q++;
		if (q < e && *q == '.') { /* the dotted-quad tail: it must end the text */
			uint8_t b[4];

			if (n > 6 || !v4_span(p, e, b))
				return false;
			w[n++] = (uint16_t)(b[0] << 8 | b[1]);
			w[n++] = (uint16_t)(b[2] << 8 | b[3]);
			p = e;
			break;
		}
		if (q == p || q - p > 4 || n == 8)
			return false;
		for (; p < q; p++)
			v = v << 4 | (unsigned)hex_value(*p);
		w[n++] = (uint16_t)v;
		if (p == e)
			break;
		if (*p != ':')
			return false;
		p++;
		if (p < e && *p == ':') {
			if (gap >= 0)
				return false; /* a second "::" */
			gap = n;
			p++;
		} else if (p == e) {
			return false; /* a lone trailing colon */
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return false;

	memset(out, 0, 16);
	for (int i = 0; i < n; i++) {
		/* Groups after the gap move to the end; the zeros in between are the "::". */
		int slot = gap >= 0 && i >= gap ? 8 - n + i : i;

		out[2 * slot] = (uint8_t)(w[i] >> 8);
		out[2 * slot + 1] = (uint8_t)w[i];
	}
	return true;
}

/* An IPv4 or IPv6 address filling all of [p, e); IPv6 is recognised by its colon. */
static bool ip_span(const char *p, const char *e, struct tp_addr *a)
{
	uint8_t ip[16];

	if (memchr(p, ':', (size_t)(e - p))) {
		if (!v6_span(p, e, ip))
			return false;
		tp_addr_set6(a, ip, 0);
	} else {
		if (!v4_span(p, e, ip))
			return false;
		tp_addr_set4(a, ip, 0);
	}
	return true;
}

int tp_addr_parse_ip(struct tp_addr *a, const char *s)
{
	struct tp_addr t;

	if (!a || !s || !ip_span(s, s + strlen(s), &t))
		return -TP_WIRE_EARG;
	*a = t;
	return 0;
}

int tp_addr_parse(struct tp_addr *a, const char *s)
{
	const char *e, *host_end, *colon;
	struct tp_addr t;
	uint32_t port = 0;
	uint8_t ip[16];

	if (!a || !s)
		return -TP_WIRE_EARG;
	e = s + strlen(s);

	if (*s == '[') { /* RFC 3986 §3.2.2: brackets are for IPv6 only */
		host_end = memchr(s, ']', (size_t)(e - s));
		if (!host_end || !v6_span(s + 1, host_end, ip))
			return -TP_WIRE_EARG;
		tp_addr_set6(&t, ip, 0);
		if (host_end + 1 != e) {
			if (host_end[1] != ':' || !dec_span(host_end + 2, e, 65535, &port) ||
			    port == 0)
				return -TP_WIRE_EARG;
		}
	} else {
		colon = memchr(s, ':', (size_t)(e - s));
		if (colon && !memchr(colon + 1, ':', (size_t)(e - colon - 1))) {
			/* Exactly one colon: IPv4 with a port. */
			if (!v4_span(s, colon, ip) || !dec_span(colon + 1, e, 65535, &port) ||
			    port == 0)
				return -TP_WIRE_EARG;
			tp_addr_set4(&t, ip, 0);
		} else if (!ip_span(s, e, &t)) {
			return -TP_WIRE_EARG;
		}
	}
	t.port = (uint16_t)port;
	*a = t;
	return 0;
}

static size_t put_dec(char *out, unsigned v)
{
	char tmp[5];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	while (n)
		out[i++] = tmp[--n];
	return i;
}

static size_t put_v4(char *out, const uint8_t ip[4])
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i)
			out[n++] = '.';
		n += put_dec(out + n, ip[i]);
	}
	return n;
}

static size_t put_hex16(char *out, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	int shift = 12;

	while (shift > 0 && !(v >> shift & 0xf)) /* RFC 5952 §4.1: no leading zeros */
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		out[n++] = digits[v >> shift & 0xf];
	return n;
}

static size_t put_v6(char *out, const uint8_t ip[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	int best = -1, best_len = 1, run = 0;
	size_t n = 0;
	unsigned w[8];

	/* RFC 5952 §5: IPv4-mapped addresses end in a dotted quad. */
	if (memcmp(ip, mapped, sizeof(mapped)) == 0) {
		memcpy(out, "::ffff:", 7);
		return 7 + put_v4(out + 7, ip + 12);
	}
	/* RFC 5952 §4.2: compress the longest run of two or more zero fields, the first on a tie.
	 */
	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
		run = w[i] ? 0 : run + 1;
		if (run > best_len) {
			best_len = run;
			best = i - run + 1;
		}
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			out[n++] = ':';
			out[n++] = ':';
			i += best_len - 1;
			continue;
		}
		if (i && i != best + best_len)
			out[n++] = ':';
		n += put_hex16(out + n, w[i]);
	}
	return n;
}

size_t tp_addr_format(const struct tp_addr *a, char *buf, size_t cap, bool with_port)
{
	char t[TP_ADDR_STRLEN];
	size_t n = 0;

	if (!buf)
		return 0;
	if (a && a->family == TP_AF_INET) {
		n = put_v4(t, a->ip);
	} else if (a && a->family == TP_AF_INET6) {
		if (with_port)
			t[n++] = '[';
		n += put_v6(t + n, a->ip);
		if (with_port)
			t[n++] = ']';
	} else {
		goto fail;
	}
	if (with_port) {
		t[n++] = ':';
		n += put_dec(t + n, a->port);
	}
	if (n >= cap)
		goto fail;
	memcpy(buf, t, n);
	buf[n] = '\0';
	return n;
fail:
	if (cap)
		buf[0] = '\0';
	return 0;
}

int tp_cidr_parse(struct tp_cidr *c, const char *s)
{
	const char *e, *slash;
	struct tp_addr a;
	uint32_t max, prefix;
	unsigned i;

	if (!c || !s)
		return -TP_WIRE_EARG;
	e = s + strlen(s);
	slash = memchr(s, '/', (size_t)(e - s));
	if (!ip_span(s, slash ? slash : e, &a))
		return -TP_WIRE_EARG;
	max = 8 * tp_addr_iplen(&a);
	if (!slash)
		prefix = max;
	else if (!dec_span(slash + 1, e, max, &prefix))
		return -TP_WIRE_EARG;

	/* Clear the host bits: the partial byte keeps its top (prefix % 8) bits. */
	for (i = prefix / 8; i < 16; i++)
		a.ip[i] = i == prefix / 8 && prefix % 8
				  ? (uint8_t)(a.ip[i] & (0xff00u >> prefix % 8))
				  : 0;
	c->addr = a;
	c->prefix = (uint8_t)prefix;
	return 0;
}

bool tp_cidr_match(const struct tp_cidr *c, const struct tp_addr *a)
{
	unsigned bits;

	if (!c || !a || !tp_addr_iplen(a) || c->addr.family != a->family ||
	    c->prefix > 8 * tp_addr_iplen(a))
		return false;
	/* 32 bits at a time, the last word masked to its top bits: host bits are never compared.
	 * (The data plane routes every packet through this: no memcmp call of a run-time length.)
	 */
	bits = c->prefix;
	for (unsigned i = 0; bits; i += 4) {
		uint32_t diff = tp_get_be32(c->addr.ip + i) ^ tp_get_be32(a->ip + i);

		if (bits < 32) {
			diff &= ~(0xffffffffu >> bits);
			bits = 0;
		} else {
			bits -= 32;
		}
		if (diff)
			return false;
	}
	return true;
}
