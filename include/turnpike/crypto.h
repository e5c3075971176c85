/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The crypto interface: digests, HMAC with precomputed keys, CRC-32, constant-time compare,
 * random bytes and base64.
 *
 * Callers never see the backend. Linux and the other POSIX systems use OpenSSL's libcrypto and
 * zlib; Windows uses CNG (bcrypt) and zlib behind the same functions (src/crypto/cng.c).
 * Nothing here allocates memory, so HMAC verification is safe on the request path: a key is
 * expanded once into a struct tp_hmac_key and every MAC after that starts from it. With OpenSSL
 * the key holds the hash states after the ipad and opad blocks, which each MAC copies; with
 * CNG, whose hash states sit behind handles, it holds the RFC 2104 key block, from which each
 * MAC opens an HMAC object in stack memory.
 */
#ifndef TURNPIKE_CRYPTO_H
#define TURNPIKE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/** Digest algorithms. */
enum tp_digest {
	TP_DIGEST_MD5 = 1,    /**< MD5: only for the RFC 8489 long-term key */
	TP_DIGEST_SHA1 = 2,   /**< SHA-1: MESSAGE-INTEGRITY, TURN REST passwords */
	TP_DIGEST_SHA256 = 3, /**< SHA-256: MESSAGE-INTEGRITY-SHA256, USERHASH */
};

#define TP_MD5_LEN    16 /**< MD5 output length */
#define TP_SHA1_LEN   20 /**< SHA-1 output length */
#define TP_SHA256_LEN 32 /**< SHA-256 output length */
#define TP_DIGEST_MAX 32 /**< largest output of any enum tp_digest */

/** Room for one backend hash state; backends check at build time that theirs fits. */
#define TP_HASH_STATE_SIZE 512

/** A piece of input to a digest or MAC: the input is the concatenation of an array of these. */
struct tp_chunk {
	const void *base; /**< first byte */
	size_t len;	  /**< number of bytes */
};

/** An HMAC key expanded once; copyable, never allocates, wipe it with tp_hmac_key_wipe(). */
struct tp_hmac_key {
	uint32_t digest; /**< enum tp_digest */
	uint32_t reserved;
	union {
		uint64_t align;
		uint8_t bytes[TP_HASH_STATE_SIZE];
	} inner, outer; /**< backend state after the ipad and the opad block */
};

/** Output length of @p d in bytes, or 0 if @p d is not a known digest. */
size_t tp_digest_len(enum tp_digest d);

/**
 * Hash the concatenation of @p n chunks.
 * @return 0, or -EINVAL for an unknown digest, or -EIO when the backend fails.
 */
int tp_digest(enum tp_digest d, const struct tp_chunk *in, unsigned n, uint8_t *out);

/**
 * Expand @p key (any length) into @p k for @p d (SHA-1 or SHA-256; MD5 works too).
 * @return 0 or a negative errno.
 */
int tp_hmac_key_init(struct tp_hmac_key *k, enum tp_digest d, const void *key, size_t len);

/** Overwrite @p k so no key material stays in memory. */
void tp_hmac_key_wipe(struct tp_hmac_key *k);

/**
 * HMAC of the concatenation of @p n chunks under @p k; writes tp_digest_len() bytes to @p out.
 * @return 0 or a negative errno.
 */
int tp_hmac(const struct tp_hmac_key *k, const struct tp_chunk *in, unsigned n, uint8_t *out);

/** One-shot HMAC with a key that is used only once. */
int tp_hmac_once(enum tp_digest d, const void *key, size_t keylen, const void *data, size_t len,
		 uint8_t *out);

/** CRC-32 (ISO-HDLC, as in zlib and STUN's FINGERPRINT) of @p len bytes, continuing @p crc. */
uint32_t tp_crc32(uint32_t crc, const void *data, size_t len);

/** 1 if the @p n bytes at @p a and @p b are equal, else 0; time does not depend on the data. */
int tp_memeq_ct(const void *a, const void *b, size_t n);

/** Fill @p buf with @p n cryptographically secure random bytes. @return 0 or -EIO. */
int tp_random_bytes(void *buf, size_t n);

/** Length of the base64 (RFC 4648, padded) encoding of @p n bytes, without a terminator. */
static inline size_t tp_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/**
 * Base64-encode @p n bytes of @p in into @p out, which holds @p cap bytes, NUL-terminated.
 * @return the encoded length, or -ENOSPC when @p cap is too small.
 */
int tp_base64_encode(const void *in, size_t n, char *out, size_t cap);

#endif /* TURNPIKE_CRYPTO_H */
