/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OpenSSL (libcrypto) backend of the crypto interface.
 *
 * HMAC is built here from the one-block digest primitives rather than from EVP_MAC: a
 * precomputed key is then two plain hash states that are copied by value for each MAC, with no
 * allocation and no locking on the request path. Those primitives are marked deprecated in
 * OpenSSL 3 but remain part of its API; the deprecation warnings are silenced in this file only.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <errno.h>
#include <string.h>

#include <openssl/md5.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <turnpike/crypto.h>

_Static_assert(sizeof(SHA256_CTX) <= TP_HASH_STATE_SIZE, "SHA256_CTX fits");
_Static_assert(sizeof(SHA_CTX) <= TP_HASH_STATE_SIZE, "SHA_CTX fits");
_Static_assert(sizeof(MD5_CTX) <= TP_HASH_STATE_SIZE, "MD5_CTX fits");

#define BLOCK_LEN 64 /* all three digests have 64-byte blocks */

union hash_ctx {
	MD5_CTX md5;
	SHA_CTX sha1;
	SHA256_CTX sha256;
};

static int ctx_init(enum tp_digest d, union hash_ctx *c)
{
	switch (d) {
	case TP_DIGEST_MD5:
		return MD5_Init(&c->md5) == 1 ? 0 : -EIO;
	case TP_DIGEST_SHA1:
		return SHA1_Init(&c->sha1) == 1 ? 0 : -EIO;
	case TP_DIGEST_SHA256:
		return SHA256_Init(&c->sha256) == 1 ? 0 : -EIO;
	}
	return -EINVAL;
}

static int ctx_update(enum tp_digest d, union hash_ctx *c, const void *p, size_t n)
{
	switch (d) {
	case TP_DIGEST_MD5:
		return MD5_Update(&c->md5, p, n) == 1 ? 0 : -EIO;
	case TP_DIGEST_SHA1:
		return SHA1_Update(&c->sha1, p, n) == 1 ? 0 : -EIO;
	case TP_DIGEST_SHA256:
		return SHA256_Update(&c->sha256, p, n) == 1 ? 0 : -EIO;
	}
	return -EINVAL;
}

static int ctx_final(enum tp_digest d, union hash_ctx *c, uint8_t *out)
{
	switch (d) {
	case TP_DIGEST_MD5:
		return MD5_Final(out, &c->md5) == 1 ? 0 : -EIO;
	case TP_DIGEST_SHA1:
		return SHA1_Final(out, &c->sha1) == 1 ? 0 : -EIO;
	case TP_DIGEST_SHA256:
		return SHA256_Final(out, &c->sha256) == 1 ? 0 : -EIO;
	}
	return -EINVAL;
}

static int ctx_chunks(enum tp_digest d, union hash_ctx *c, const struct tp_chunk *in, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = ctx_update(d, c, in[i].base, in[i].len);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int tp_digest(enum tp_digest d, const struct tp_chunk *in, unsigned n, uint8_t *out)
{
	union hash_ctx c;
	int rc;

	rc = ctx_init(d, &c);
	if (rc == 0)
		rc = ctx_chunks(d, &c, in, n);
	if (rc == 0)
		rc = ctx_final(d, &c, out);
	memset(&c, 0, sizeof(c));
	return rc;
}

int tp_hmac_key_init(struct tp_hmac_key *k, enum tp_digest d, const void *key, size_t len)
{
	uint8_t block[BLOCK_LEN] = { 0 };
	uint8_t pad[BLOCK_LEN];
	union hash_ctx c;
	int rc;

	memset(k, 0, sizeof(*k));
	if (tp_digest_len(d) == 0)
		return -EINVAL;
	k->digest = (uint32_t)d;

	/* RFC 2104: keys longer than a block are hashed first. */
	if (len > BLOCK_LEN) {
		struct tp_chunk ch = { key, len };

		rc = tp_digest(d, &ch, 1, block);
		if (rc < 0)
			goto out;
	} else if (len > 0) {
		memcpy(block, key, len);
	}

	for (size_t i = 0; i < BLOCK_LEN; i++)
		pad[i] = block[i] ^ 0x36;
	rc = ctx_init(d, &c);
	if (rc == 0)
		rc = ctx_update(d, &c, pad, BLOCK_LEN);
	if (rc < 0)
		goto out;
	memcpy(k->inner.bytes, &c, sizeof(c));

	for (size_t i = 0; i < BLOCK_LEN; i++)
		pad[i] = block[i] ^ 0x5c;
	rc = ctx_init(d, &c);
	if (rc == 0)
		rc = ctx_update(d, &c, pad, BLOCK_LEN);
	if (rc < 0)
		goto out;
	memcpy(k->outer.bytes, &c, sizeof(c));
out:
	memset(block, 0, sizeof(block));
	memset(pad, 0, sizeof(pad));
	memset(&c, 0, sizeof(c));
	if (rc < 0)
		tp_hmac_key_wipe(k);
	return rc;
}

int tp_hmac(const struct tp_hmac_key *k, const struct tp_chunk *in, unsigned n, uint8_t *out)
{
	enum tp_digest d = (enum tp_digest)k->digest;
	uint8_t ihash[TP_DIGEST_MAX];
	size_t dlen = tp_digest_len(d);
	union hash_ctx c;
	int rc;

	if (dlen == 0)
		return -EINVAL;
	memcpy(&c, k->inner.bytes, sizeof(c));
	rc = ctx_chunks(d, &c, in, n);
	if (rc == 0)
		rc = ctx_final(d, &c, ihash);
	if (rc == 0) {
		memcpy(&c, k->outer.bytes, sizeof(c));
		rc = ctx_update(d, &c, ihash, dlen);
	}
	if (rc == 0)
		rc = ctx_final(d, &c, out);
	memset(&c, 0, sizeof(c));
	memset(ihash, 0, sizeof(ihash));
	return rc;
}

int tp_random_bytes(void *buf, size_t n)
{
	if (n > 0x7fffffff)
		return -EINVAL;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -EIO;
}
