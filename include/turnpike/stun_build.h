/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Building STUN messages into the caller's buffer, and the three integrity mechanisms:
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, with their keys.
 *
 * The builder zeroes every byte it hands out, padding included, so a response never carries
 * bytes the relay did not mean to send. Errors are sticky: after the first failure every call is
 * a no-op and tp_stun_build_finish() reports it, so a response can be written as a straight
 * sequence of calls with one check at the end.
 */
#ifndef TURNPIKE_STUN_BUILD_H
#define TURNPIKE_STUN_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/crypto.h>
#include <turnpike/stun.h>

/** A message under construction. */
struct tp_stun_builder {
	uint8_t *buf; /**< output buffer */
	size_t cap;   /**< its size */
	size_t len;   /**< bytes written so far, always a multiple of 4 */
	int err;      /**< first error, negative enum tp_wire_err, or 0 */
	bool sealed;  /**< FINGERPRINT added: nothing may follow */
};

/** Start a message of @p method and @p cls with transaction ID @p tid in @p buf. */
void tp_stun_build_init(struct tp_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
			uint16_t cls, const uint8_t tid[TP_STUN_TID_LEN]);

/** Length of the finished message, or the first error (negative enum tp_wire_err). */
int tp_stun_build_finish(const struct tp_stun_builder *b);

/** Append attribute @p type with @p len bytes of @p value (NULL: zeroes) and zero padding. */
void tp_stun_add(struct tp_stun_builder *b, uint16_t type, const void *value, size_t len);

/**
 * Reserve an attribute of @p len bytes and return a pointer to its zeroed value, for values
 * written in place; NULL after an error.
 */
uint8_t *tp_stun_add_space(struct tp_stun_builder *b, uint16_t type, size_t len);

/** A 32-bit value, e.g. LIFETIME. */
void tp_stun_add_u32(struct tp_stun_builder *b, uint16_t type, uint32_t v);

/** An address attribute; the XOR-*-ADDRESS types are XORed (RFC 8489 §14.2). */
void tp_stun_add_addr(struct tp_stun_builder *b, uint16_t type, const struct tp_addr *a);

/** A string attribute (USERNAME, REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN), limit enforced. */
void tp_stun_add_string(struct tp_stun_builder *b, uint16_t type, const void *s, size_t len);

/** ERROR-CODE with @p code 300..699 and an optional reason (NULL for none). */
void tp_stun_add_error(struct tp_stun_builder *b, int code, const char *reason);

/** UNKNOWN-ATTRIBUTES listing @p n types. */
void tp_stun_add_unknown(struct tp_stun_builder *b, const uint16_t *types, size_t n);

/** CHANNEL-NUMBER. */
void tp_stun_add_channel(struct tp_stun_builder *b, uint16_t channel);

/** REQUESTED-TRANSPORT. */
void tp_stun_add_transport(struct tp_stun_builder *b, uint8_t proto);

/** REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY. */
void tp_stun_add_family(struct tp_stun_builder *b, uint16_t type, uint8_t family);

/** ADDRESS-ERROR-CODE for @p family. */
void tp_stun_add_address_error(struct tp_stun_builder *b, uint8_t family, int code,
			       const char *reason);

/** EVEN-PORT with the R bit. */
void tp_stun_add_even_port(struct tp_stun_builder *b, bool reserve);

/** RESERVATION-TOKEN. */
void tp_stun_add_reservation_token(struct tp_stun_builder *b, uint64_t token);

/** ICMP (RFC 8656 §18.13). */
void tp_stun_add_icmp(struct tp_stun_builder *b, uint8_t icmp_type, uint8_t icmp_code,
		      uint32_t error_data);

/** PASSWORD-ALGORITHM (no parameters). */
void tp_stun_add_password_algorithm(struct tp_stun_builder *b, uint16_t alg);

/** PASSWORD-ALGORITHMS listing @p n algorithms (no parameters). */
void tp_stun_add_password_algorithms(struct tp_stun_builder *b, const uint16_t *algs, size_t n);

/** MESSAGE-INTEGRITY: HMAC-SHA1 under @p key (which must be a SHA-1 key). */
void tp_stun_add_integrity(struct tp_stun_builder *b, const struct tp_hmac_key *key);

/** MESSAGE-INTEGRITY-SHA256 truncated to @p len bytes (16..32, multiple of 4). */
void tp_stun_add_integrity_sha256(struct tp_stun_builder *b, const struct tp_hmac_key *key,
				  size_t len);

/** FINGERPRINT; must be the last attribute. */
void tp_stun_add_fingerprint(struct tp_stun_builder *b);

/**
 * Verify MESSAGE-INTEGRITY of @p m under the SHA-1 key @p key, in constant time.
 * @return 0, -TP_WIRE_EABSENT, or -TP_WIRE_EINTEGRITY.
 */
int tp_stun_check_integrity(const struct tp_stun_msg *m, const struct tp_hmac_key *key);

/** Verify MESSAGE-INTEGRITY-SHA256 of @p m under the SHA-256 key @p key. */
int tp_stun_check_integrity_sha256(const struct tp_stun_msg *m, const struct tp_hmac_key *key);

/** Verify FINGERPRINT. @return 0, -TP_WIRE_EABSENT, or -TP_WIRE_EFINGERPRINT. */
int tp_stun_check_fingerprint(const struct tp_stun_msg *m);

/**
 * The long-term credential key (RFC 8489 §9.2.2): MD5 (16 bytes) or SHA-256 (32 bytes) of
 * username ":" realm ":" password. The strings are used as given: SASLprep/OpaqueString
 * preparation is the caller's (turnpike expects credentials stored already prepared).
 * @return the key length, or a negative enum tp_wire_err.
 */
int tp_stun_long_term_key(enum tp_stun_pwalg alg, const void *user, size_t ulen, const void *realm,
			  size_t rlen, const void *pass, size_t plen, uint8_t key[TP_DIGEST_MAX]);

/** USERHASH (RFC 8489 §14.4): SHA-256 of username ":" realm. */
int tp_stun_userhash(const void *user, size_t ulen, const void *realm, size_t rlen,
		     uint8_t hash[TP_STUN_USERHASH_LEN]);

/** Bytes of the Data-indication head that precede the payload (RFC 8656 §11.4). */
static inline size_t tp_stun_data_head_len(const struct tp_addr *peer)
{
	return TP_STUN_HDR_LEN + 4 + (peer->family == TP_AF_INET6 ? 20 : 8) + 4;
}

/**
 * Write the head of a Data indication carrying @p payload_len bytes from @p peer: header,
 * XOR-PEER-ADDRESS and the DATA attribute header, tp_stun_data_head_len() bytes in all. The
 * payload follows it, then (payload_len % 4 ? 4 - payload_len % 4 : 0) zero bytes of padding.
 * The data plane uses this to relay peer data without copying the payload.
 * @return the head length, or a negative enum tp_wire_err.
 */
int tp_stun_data_head(uint8_t *out, size_t cap, const uint8_t tid[TP_STUN_TID_LEN],
		      const struct tp_addr *peer, size_t payload_len);

#endif /* TURNPIKE_STUN_BUILD_H */
