/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT: adding them, checking them, and
 * the long-term keys they are made with.
 */
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/stun_build.h>

/*
 * MAC over a message prefix: the header with its length field set as if the message ended after
 * the integrity attribute at @attr_off of @mac_len bytes, then everything up to that attribute
 * (RFC 8489 §14.5, §14.6).
 */
static int mac_prefix(const uint8_t *msg, size_t attr_off, size_t mac_len,
		      const struct tp_hmac_key *key, uint8_t *out)
{
	uint8_t hdr[TP_STUN_HDR_LEN];
	struct tp_chunk in[2];

	memcpy(hdr, msg, TP_STUN_HDR_LEN);
	tp_put_be16(hdr + 2, (uint16_t)(attr_off + 4 + mac_len - TP_STUN_HDR_LEN));
	in[0].base = hdr;
	in[0].len = TP_STUN_HDR_LEN;
	in[1].base = msg + TP_STUN_HDR_LEN;
	in[1].len = attr_off - TP_STUN_HDR_LEN;
	return tp_hmac(key, in, 2, out);
}

static uint32_t fingerprint(const uint8_t *msg, size_t fp_off)
{
	uint8_t hdr[TP_STUN_HDR_LEN];
	uint32_t crc;

	memcpy(hdr, msg, TP_STUN_HDR_LEN);
	tp_put_be16(hdr + 2, (uint16_t)(fp_off + 8 - TP_STUN_HDR_LEN));
	crc = tp_crc32(0, hdr, TP_STUN_HDR_LEN);
	crc = tp_crc32(crc, msg + TP_STUN_HDR_LEN, fp_off - TP_STUN_HDR_LEN);
	return crc ^ TP_STUN_FP_XOR;
}

static void add_mac(struct tp_stun_builder *b, uint16_t type, const struct tp_hmac_key *key,
		    size_t len)
{
	uint8_t mac[TP_DIGEST_MAX];
	size_t off = b->len;
	uint8_t *p;

	p = tp_stun_add_space(b, type, len);
	if (!p)
		return;
	if (mac_prefix(b->buf, off, len, key, mac) < 0) {
		b->err = -TP_WIRE_EINTEGRITY;
		return;
	}
	memcpy(p, mac, len);
}

void tp_stun_add_integrity(struct tp_stun_builder *b, const struct tp_hmac_key *key)
{
	if (key->digest != TP_DIGEST_SHA1) {
		if (b->err == 0)
			b->err = -TP_WIRE_EARG;
		return;
	}
	add_mac(b, TP_STUN_ATTR_MESSAGE_INTEGRITY, key, TP_STUN_MI_LEN);
}

void tp_stun_add_integrity_sha256(struct tp_stun_builder *b, const struct tp_hmac_key *key,
				  size_t len)
{
	if (key->digest != TP_DIGEST_SHA256 || len < TP_STUN_MI256_MIN || len > TP_STUN_MI256_MAX ||
	    (len & 3)) {
		if (b->err == 0)
			b->err = -TP_WIRE_EARG;
		return;
	}
	add_mac(b, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, key, len);
}

void tp_stun_add_fingerprint(struct tp_stun_builder *b)
{
	size_t off = b->len;
	uint8_t *p = tp_stun_add_space(b, TP_STUN_ATTR_FINGERPRINT, 4);

	if (!p)
		return;
	tp_put_be32(p, fingerprint(b->buf, off));
	b->sealed = true;
}

int tp_stun_check_integrity(const struct tp_stun_msg *m, const struct tp_hmac_key *key)
{
	uint8_t mac[TP_DIGEST_MAX];

	if (!m->mi_off)
		return -TP_WIRE_EABSENT;
	if (key->digest != TP_DIGEST_SHA1)
		return -TP_WIRE_EARG;
	if (mac_prefix(m->buf, m->mi_off, TP_STUN_MI_LEN, key, mac) < 0)
		return -TP_WIRE_EINTEGRITY;
	return tp_memeq_ct(mac, m->buf + m->mi_off + 4, TP_STUN_MI_LEN) ? 0 : -TP_WIRE_EINTEGRITY;
}

int tp_stun_check_integrity_sha256(const struct tp_stun_msg *m, const struct tp_hmac_key *key)
{
	uint8_t mac[TP_DIGEST_MAX];
	size_t len;

	if (!m->mi256_off)
		return -TP_WIRE_EABSENT;
	if (key->digest != TP_DIGEST_SHA256)
		return -TP_WIRE_EARG;
	len = tp_get_be16(m->buf + m->mi256_off + 2);
	if (mac_prefix(m->buf, m->mi256_off, len, key, mac) < 0)
		return -TP_WIRE_EINTEGRITY;
	return tp_memeq_ct(mac, m->buf + m->mi256_off + 4, len) ? 0 : -TP_WIRE_EINTEGRITY;
}

int tp_stun_check_fingerprint(const struct tp_stun_msg *m)
{
	if (!m->fp_off)
		return -TP_WIRE_EABSENT;
	return fingerprint(m->buf, m->fp_off) == tp_get_be32(m->buf + m->fp_off + 4)
		       ? 0
		       : -TP_WIRE_EFINGERPRINT;
}

int tp_stun_long_term_key(enum tp_stun_pwalg alg, const void *user, size_t ulen, const void *realm,
			  size_t rlen, const void *pass, size_t plen, uint8_t key[TP_DIGEST_MAX])
{
	struct tp_chunk in[5] = {
		{ user, ulen }, { ":", 1 }, { realm, rlen }, { ":", 1 }, { pass, plen },
	};
	enum tp_digest d;

	switch (alg) {
	case TP_STUN_PWALG_MD5:
		d = TP_DIGEST_MD5;
		break;
	case TP_STUN_PWALG_SHA256:
		d = TP_DIGEST_SHA256;
		break;
	default:
		return -TP_WIRE_EARG;
	}
	if (tp_digest(d, in, 5, key) < 0)
		return -TP_WIRE_EARG;
	return (int)tp_digest_len(d);
}

int tp_stun_userhash(const void *user, size_t ulen, const void *realm, size_t rlen,
		     uint8_t hash[TP_STUN_USERHASH_LEN])
{
	struct tp_chunk in[3] = { { user, ulen }, { ":", 1 }, { realm, rlen } };

	return tp_digest(TP_DIGEST_SHA256, in, 3, hash) < 0 ? -TP_WIRE_EARG : 0;
}
