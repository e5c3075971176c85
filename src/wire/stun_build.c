/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The STUN message builder. Every byte it reserves is zeroed first (RFC 8489 §14: padding is
 * zero on output; and a response must never carry stale buffer contents).
 */
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/stun_build.h>

static void fail(struct tp_stun_builder *b, int err)
{
	if (b->err == 0)
		b->err = err;
}

static void set_length(struct tp_stun_builder *b)
{
	tp_put_be16(b->buf + 2, (uint16_t)(b->len - TP_STUN_HDR_LEN));
}

void tp_stun_build_init(struct tp_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
			uint16_t cls, const uint8_t tid[TP_STUN_TID_LEN])
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->err = 0;
	b->sealed = false;
	if (buf == NULL || cap < TP_STUN_HDR_LEN || method > 0x0fff) {
		fail(b, buf == NULL || method > 0x0fff ? -TP_WIRE_EARG : -TP_WIRE_ENOSPACE);
		return;
	}
	tp_put_be16(buf, tp_stun_type(method, cls));
	tp_put_be16(buf + 2, 0);
	tp_put_be32(buf + 4, TP_STUN_MAGIC_COOKIE);
	memcpy(buf + 8, tid, TP_STUN_TID_LEN);
	b->len = TP_STUN_HDR_LEN;
}

int tp_stun_build_finish(const struct tp_stun_builder *b)
{
	return b->err ? b->err : (int)b->len;
}

uint8_t *tp_stun_add_space(struct tp_stun_builder *b, uint16_t type, size_t len)
{
	size_t padded = (len + 3) / 4 * 4;
	uint8_t *p;

	if (b->err)
		return NULL;
	if (b->sealed) {
		fail(b, -TP_WIRE_EFP_NOT_LAST);
		return NULL;
	}
	if (len > 0xffff || b->len + 4 + padded > b->cap || b->len + 4 + padded > TP_STUN_MAX_LEN) {
		fail(b, -TP_WIRE_ENOSPACE);
		return NULL;
	}
	p = b->buf + b->len;
	memset(p, 0, 4 + padded);
	tp_put_be16(p, type);
	tp_put_be16(p + 2, (uint16_t)len);
	b->len += 4 + padded;
	set_length(b);
	return p + 4;
}

void tp_stun_add(struct tp_stun_builder *b, uint16_t type, const void *value, size_t len)
{
	uint8_t *p = tp_stun_add_space(b, type, len);

	if (p && value && len)
		memcpy(p, value, len);
}

void tp_stun_add_u32(struct tp_stun_builder *b, uint16_t type, uint32_t v)
{
	uint8_t *p = tp_stun_add_space(b, type, 4);

	if (p)
		tp_put_be32(p, v);
}

void tp_stun_add_addr(struct tp_stun_builder *b, uint16_t type, const struct tp_addr *a)
{
	unsigned iplen = tp_addr_iplen(a);
	bool xor = type == TP_STUN_ATTR_XOR_MAPPED_ADDRESS ||
		   type == TP_STUN_ATTR_XOR_PEER_ADDRESS ||
		   type == TP_STUN_ATTR_XOR_RELAYED_ADDRESS;
	uint16_t port = a->port;
	uint8_t *p;

	if (iplen == 0) {
		fail(b, -TP_WIRE_EARG);
		return;
	}
	p = tp_stun_add_space(b, type, 4 + iplen);
	if (!p)
		return;
	p[1] = a->family;
	memcpy(p + 4, a->ip, iplen);
	if (xor) {
		uint8_t mask[16];

		port ^= (uint16_t)(TP_STUN_MAGIC_COOKIE >> 16);
		tp_put_be32(mask, TP_STUN_MAGIC_COOKIE);
		memcpy(mask + 4, b->buf + 8, TP_STUN_TID_LEN);
		for (unsigned i = 0; i < iplen; i++)
			p[4 + i] ^= mask[i];
	}
	tp_put_be16(p + 2, port);
}

void tp_stun_add_string(struct tp_stun_builder *b, uint16_t type, const void *s, size_t len)
{
	size_t max;

	switch (type) {
	case TP_STUN_ATTR_USERNAME:
		max = TP_STUN_USERNAME_MAX;
		break;
	case TP_STUN_ATTR_REALM:
	case TP_STUN_ATTR_NONCE:
	case TP_STUN_ATTR_SOFTWARE:
		max = TP_STUN_REALM_MAX;
		break;
	case TP_STUN_ATTR_ALTERNATE_DOMAIN:
		max = TP_STUN_DOMAIN_MAX;
		break;
	default:
		fail(b, -TP_WIRE_EARG);
		return;
	}
	if (len > max) {
		fail(b, -TP_WIRE_ETOO_LONG);
		return;
	}
	tp_stun_add(b, type, s, len);
}

/* ERROR-CODE / ADDRESS-ERROR-CODE value: [family or 0] 0 class number reason. */
static void add_error_value(struct tp_stun_builder *b, uint16_t type, uint8_t first, int code,
			    const char *reason)
{
	size_t rlen = reason ? strlen(reason) : 0;
	uint8_t *p;

	if (code < 300 || code > 699) {
		fail(b, -TP_WIRE_EARG);
		return;
	}
	if (rlen > TP_STUN_REASON_MAX) {
		fail(b, -TP_WIRE_ETOO_LONG);
		return;
	}
	p = tp_stun_add_space(b, type, 4 + rlen);
	if (!p)
		return;
	p[0] = first;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	if (rlen)
		memcpy(p + 4, reason, rlen);
}

void tp_stun_add_error(struct tp_stun_builder *b, int code, const char *reason)
{
	add_error_value(b, TP_STUN_ATTR_ERROR_CODE, 0, code, reason);
}

void tp_stun_add_address_error(struct tp_stun_builder *b, uint8_t family, int code,
			       const char *reason)
{
	add_error_value(b, TP_STUN_ATTR_ADDRESS_ERROR_CODE, family, code, reason);
}

void tp_stun_add_unknown(struct tp_stun_builder *b, const uint16_t *types, size_t n)
{
	uint8_t *p;

	if (n > 0x7fff) {
		fail(b, -TP_WIRE_EARG);
		return;
	}
	p = tp_stun_add_space(b, TP_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);
	for (size_t i = 0; p && i < n; i++)
		tp_put_be16(p + 2 * i, types[i]);
}

void tp_stun_add_channel(struct tp_stun_builder *b, uint16_t channel)
{
	uint8_t *p = tp_stun_add_space(b, TP_STUN_ATTR_CHANNEL_NUMBER, 4);

	if (p)
		tp_put_be16(p, channel);
}

void tp_stun_add_transport(struct tp_stun_builder *b, uint8_t proto)
{
	uint8_t *p = tp_stun_add_space(b, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4);

	if (p)
		p[0] = proto;
}

void tp_stun_add_family(struct tp_stun_builder *b, uint16_t type, uint8_t family)
{
	uint8_t *p;

	if (type != TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY &&
	    type != TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY) {
		fail(b, -TP_WIRE_EARG);
		return;
	}
	p = tp_stun_add_space(b, type, 4);
	if (p)
		p[0] = family;
}

void tp_stun_add_even_port(struct tp_stun_builder *b, bool reserve)
{
	uint8_t *p = tp_stun_add_space(b, TP_STUN_ATTR_EVEN_PORT, 1);

	if (p)
		p[0] = reserve ? 0x80 : 0;
}

void tp_stun_add_reservation_token(struct tp_stun_builder *b, uint64_t token)
{
	uint8_t *p = tp_stun_add_space(b, TP_STUN_ATTR_RESERVATION_TOKEN, 8);

	if (p)
		tp_put_be64(p, token);
}

void tp_stun_add_icmp(struct tp_stun_builder *b, uint8_t icmp_type, uint8_t icmp_code,
		      uint32_t error_data)
{
	uint8_t *p = tp_stun_add_space(b, TP_STUN_ATTR_ICMP, 8);

	if (p) {
		p[2] = icmp_type;
		p[3] = icmp_code;
		tp_put_be32(p + 4, error_data);
	}
}

void tp_stun_add_password_algorithm(struct tp_stun_builder *b, uint16_t alg)
{
	uint8_t *p = tp_stun_add_space(b, TP_STUN_ATTR_PASSWORD_ALGORITHM, 4);

	if (p)
		tp_put_be16(p, alg);
}

void tp_stun_add_password_algorithms(struct tp_stun_builder *b, const uint16_t *algs, size_t n)
{
	uint8_t *p;

	if (n == 0 || n > 0x3fff) {
		fail(b, -TP_WIRE_EARG);
		return;
	}
	p = tp_stun_add_space(b, TP_STUN_ATTR_PASSWORD_ALGORITHMS, 4 * n);
	for (size_t i = 0; p && i < n; i++)
		tp_put_be16(p + 4 * i, algs[i]);
}

int tp_stun_data_head(uint8_t *out, size_t cap, const uint8_t tid[TP_STUN_TID_LEN],
		      const struct tp_addr *peer, size_t payload_len)
{
	struct tp_stun_builder b;
	size_t head, total;
	uint8_t *data;

	if (tp_addr_iplen(peer) == 0)
		return -TP_WIRE_EARG;
	head = tp_stun_data_head_len(peer);
	total = head + (payload_len + 3) / 4 * 4;
	if (total > TP_STUN_MAX_LEN)
		return -TP_WIRE_ENOSPACE;
	if (cap < head)
		return -TP_WIRE_ENOSPACE;
	tp_stun_build_init(&b, out, cap, TP_STUN_DATA, TP_STUN_INDICATION, tid);
	tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, peer);
	if (b.err)
		return b.err;
	/* The DATA header only: its value is the payload that follows in the caller's buffer. */
	data = out + b.len;
	tp_put_be16(data, TP_STUN_ATTR_DATA);
	tp_put_be16(data + 2, (uint16_t)payload_len);
	tp_put_be16(out + 2, (uint16_t)(total - TP_STUN_HDR_LEN));
	return (int)head;
}
