/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed attribute accessors: each checks the RFC's length rule for its attribute before it
 * reads a byte of the value.
 */
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/stun.h>

/* The value span of @type, or -TP_WIRE_EABSENT. */
static int span_of(const struct tp_stun_msg *m, uint16_t type, struct tp_stun_span *s)
{
	*s = tp_stun_find(m, type);
	return s->off ? 0 : -TP_WIRE_EABSENT;
}

static bool is_xor_addr(uint16_t type)
{
	return type == TP_STUN_ATTR_XOR_MAPPED_ADDRESS || type == TP_STUN_ATTR_XOR_PEER_ADDRESS ||
	       type == TP_STUN_ATTR_XOR_RELAYED_ADDRESS;
}

int tp_stun_decode_addr(const struct tp_stun_msg *m, uint16_t type, struct tp_stun_span s,
			struct tp_addr *out)
{
	const uint8_t *v = tp_stun_value(m, s);
	uint8_t family;
	uint16_t port;

	if (s.off == 0)
		return -TP_WIRE_EABSENT;
	if (s.len < 4)
		return -TP_WIRE_EATTR_VALUE;
	/* RFC 8489 §14.1: the first byte is zero and ignored by receivers. */
	family = v[1];
	port = tp_get_be16(v + 2);
	memset(out, 0, sizeof(*out));
	if (family == TP_AF_INET && s.len == 8) {
		memcpy(out->ip, v + 4, 4);
	} else if (family == TP_AF_INET6 && s.len == 20) {
		memcpy(out->ip, v + 4, 16);
	} else {
		return -TP_WIRE_EATTR_VALUE;
	}
	out->family = family;
	if (is_xor_addr(type)) {
		/* RFC 8489 §14.2: XOR with the cookie, then (IPv6) the transaction ID. */
		uint8_t mask[16];

		tp_put_be32(mask, TP_STUN_MAGIC_COOKIE);
		memcpy(mask + 4, tp_stun_tid(m), TP_STUN_TID_LEN);
		port ^= (uint16_t)(TP_STUN_MAGIC_COOKIE >> 16);
		for (unsigned i = 0; i < tp_addr_iplen(out); i++)
			out->ip[i] ^= mask[i];
	}
	if (port == 0)
		return -TP_WIRE_EATTR_VALUE;
	out->port = port;
	return 0;
}

int tp_stun_get_addr(const struct tp_stun_msg *m, uint16_t type, struct tp_addr *out)
{
	return tp_stun_decode_addr(m, type, tp_stun_find(m, type), out);
}

/* RFC length limits of the string attributes; 0 for types that are not strings. */
static size_t string_max(uint16_t type, bool *nonempty)
{
	*nonempty = true;
	switch (type) {
	case TP_STUN_ATTR_USERNAME:
		return TP_STUN_USERNAME_MAX;
	case TP_STUN_ATTR_REALM:
		return TP_STUN_REALM_MAX;
	case TP_STUN_ATTR_NONCE:
		return TP_STUN_NONCE_MAX;
	case TP_STUN_ATTR_ALTERNATE_DOMAIN:
		return TP_STUN_DOMAIN_MAX;
	case TP_STUN_ATTR_SOFTWARE:
		*nonempty = false;
		return TP_STUN_SOFTWARE_MAX;
	}
	return 0;
}

int tp_stun_get_string(const struct tp_stun_msg *m, uint16_t type, const uint8_t **s, size_t *len)
{
	struct tp_stun_span sp;
	bool nonempty;
	size_t max = string_max(type, &nonempty);
	int rc;

	if (max == 0)
		return -TP_WIRE_EARG;
	rc = span_of(m, type, &sp);
	if (rc < 0)
		return rc;
	if (sp.len > max)
		return -TP_WIRE_ETOO_LONG;
	if (nonempty && sp.len == 0)
		return -TP_WIRE_EATTR_VALUE;
	*s = tp_stun_value(m, sp);
	*len = sp.len;
	return 0;
}

/* The value of @type if it is exactly @want bytes long. */
static int fixed(const struct tp_stun_msg *m, uint16_t type, size_t want, const uint8_t **v)
{
	struct tp_stun_span sp;
	int rc = span_of(m, type, &sp);

	if (rc < 0)
		return rc;
	if (sp.len != want)
		return -TP_WIRE_EATTR_VALUE;
	*v = tp_stun_value(m, sp);
	return 0;
}

int tp_stun_get_u32(const struct tp_stun_msg *m, uint16_t type, uint32_t *out)
{
	const uint8_t *v;
	int rc = fixed(m, type, 4, &v);

	if (rc == 0)
		*out = tp_get_be32(v);
	return rc;
}

/* ERROR-CODE and ADDRESS-ERROR-CODE share their layout after the first byte (RFC 8489 §14.8,
 * RFC 8656 §18.12): class in the low 3 bits of byte 2, number in byte 3, then the reason. */
static int decode_error(const uint8_t *v, size_t len, int *code, const uint8_t **reason,
			size_t *reason_len)
{
	unsigned cls, num;

	if (len < 4)
		return -TP_WIRE_EATTR_VALUE;
	if (len - 4 > TP_STUN_REASON_MAX)
		return -TP_WIRE_ETOO_LONG;
	cls = v[2] & 0x07;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return -TP_WIRE_EATTR_VALUE;
	*code = (int)(cls * 100 + num);
	if (reason) {
		*reason = v + 4;
		*reason_len = len - 4;
	}
	return 0;
}

int tp_stun_get_error(const struct tp_stun_msg *m, int *code, const uint8_t **reason,
		      size_t *reason_len)
{
	struct tp_stun_span sp;
	int rc = span_of(m, TP_STUN_ATTR_ERROR_CODE, &sp);

	if (rc < 0)
		return rc;
	return decode_error(tp_stun_value(m, sp), sp.len, code, reason, reason_len);
}

int tp_stun_get_address_error(const struct tp_stun_msg *m, uint8_t *family, int *code,
			      const uint8_t **reason, size_t *reason_len)
{
	struct tp_stun_span sp;
	int rc = span_of(m, TP_STUN_ATTR_ADDRESS_ERROR_CODE, &sp);

	if (rc < 0)
		return rc;
	rc = decode_error(tp_stun_value(m, sp), sp.len, code, reason, reason_len);
	if (rc == 0)
		*family = tp_stun_value(m, sp)[0];
	return rc;
}

int tp_stun_get_unknown(const struct tp_stun_msg *m, uint16_t *types, size_t cap, size_t *n)
{
	struct tp_stun_span sp;
	const uint8_t *v;
	int rc = span_of(m, TP_STUN_ATTR_UNKNOWN_ATTRIBUTES, &sp);

	if (rc < 0)
		return rc;
	if (sp.len & 1)
		return -TP_WIRE_EATTR_VALUE;
	v = tp_stun_value(m, sp);
	*n = sp.len / 2u;
	for (size_t i = 0; i < *n && i < cap; i++)
		types[i] = tp_get_be16(v + 2 * i);
	return 0;
}

int tp_stun_get_channel(const struct tp_stun_msg *m, uint16_t *channel)
{
	const uint8_t *v;
	int rc = fixed(m, TP_STUN_ATTR_CHANNEL_NUMBER, 4, &v);

	if (rc == 0)
		*channel = tp_get_be16(v);
	return rc;
}

int tp_stun_get_transport(const struct tp_stun_msg *m, uint8_t *proto)
{
	const uint8_t *v;
	int rc = fixed(m, TP_STUN_ATTR_REQUESTED_TRANSPORT, 4, &v);

	if (rc == 0)
		*proto = v[0];
	return rc;
}

int tp_stun_get_family(const struct tp_stun_msg *m, uint16_t type, uint8_t *family)
{
	const uint8_t *v;
	int rc;

	if (type != TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY &&
	    type != TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY)
		return -TP_WIRE_EARG;
	rc = fixed(m, type, 4, &v);
	if (rc == 0)
		*family = v[0];
	return rc;
}

int tp_stun_get_even_port(const struct tp_stun_msg *m, bool *reserve)
{
	const uint8_t *v;
	int rc = fixed(m, TP_STUN_ATTR_EVEN_PORT, 1, &v);

	if (rc == 0)
		*reserve = (v[0] & 0x80) != 0;
	return rc;
}

int tp_stun_get_reservation_token(const struct tp_stun_msg *m, uint64_t *token)
{
	const uint8_t *v;
	int rc = fixed(m, TP_STUN_ATTR_RESERVATION_TOKEN, 8, &v);

	if (rc == 0)
		*token = tp_get_be64(v);
	return rc;
}

int tp_stun_get_data(const struct tp_stun_msg *m, const uint8_t **data, size_t *len)
{
	struct tp_stun_span sp;
	int rc = span_of(m, TP_STUN_ATTR_DATA, &sp);

	if (rc == 0) {
		*data = tp_stun_value(m, sp);
		*len = sp.len;
	}
	return rc;
}

int tp_stun_get_icmp(const struct tp_stun_msg *m, uint8_t *icmp_type, uint8_t *icmp_code,
		     uint32_t *error_data)
{
	const uint8_t *v;
	int rc = fixed(m, TP_STUN_ATTR_ICMP, 8, &v);

	if (rc == 0) {
		*icmp_type = v[2];
		*icmp_code = v[3];
		*error_data = tp_get_be32(v + 4);
	}
	return rc;
}

int tp_stun_get_userhash(const struct tp_stun_msg *m, const uint8_t **hash)
{
	return fixed(m, TP_STUN_ATTR_USERHASH, TP_STUN_USERHASH_LEN, hash);
}

/* One algorithm entry at @v with @left bytes to go: its number and its padded size. */
static int alg_entry(const uint8_t *v, size_t left, uint16_t *alg, size_t *size)
{
	size_t plen;

	if (left < 4)
		return -TP_WIRE_EATTR_VALUE;
	*alg = tp_get_be16(v);
	plen = tp_get_be16(v + 2);
	*size = 4 + (plen + 3) / 4 * 4;
	if (4 + plen > left)
		return -TP_WIRE_EATTR_VALUE;
	if (*size > left)
		*size = left; /* the last entry's padding is the attribute's padding */
	return 0;
}

int tp_stun_get_password_algorithm(const struct tp_stun_msg *m, uint16_t *alg)
{
	struct tp_stun_span sp;
	size_t size;
	int rc = span_of(m, TP_STUN_ATTR_PASSWORD_ALGORITHM, &sp);

	if (rc < 0)
		return rc;
	rc = alg_entry(tp_stun_value(m, sp), sp.len, alg, &size);
	if (rc == 0 && size != sp.len)
		return -TP_WIRE_EATTR_VALUE;
	return rc;
}

int tp_stun_get_password_algorithms(const struct tp_stun_msg *m, uint16_t *algs, size_t cap,
				    size_t *n)
{
	struct tp_stun_span sp;
	const uint8_t *v;
	size_t off = 0;
	int rc = span_of(m, TP_STUN_ATTR_PASSWORD_ALGORITHMS, &sp);

	if (rc < 0)
		return rc;
	if (sp.len == 0)
		return -TP_WIRE_EATTR_VALUE;
	v = tp_stun_value(m, sp);
	*n = 0;
	while (off < sp.len) {
		uint16_t alg;
		size_t size;

		rc = alg_entry(v + off, sp.len - off, &alg, &size);
		if (rc < 0)
			return rc;
		if (*n < cap)
			algs[*n] = alg;
		(*n)++;
		off += size;
	}
	return 0;
}
