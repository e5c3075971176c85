/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Windows CNG (bcrypt) backend of the crypto interface: MD5, SHA-1, SHA-256, their HMACs and
 * the system's random generator. CRC-32 still comes from zlib (common.c).
 *
 * Precomputed HMAC keys. CNG hash states live in objects reached through a handle, so they
 * cannot be kept by value in struct tp_hmac_key the way the OpenSSL backend keeps its ipad and
 * opad states: a BCryptDuplicateHash copy would tie the key to its address and to a handle that
 * needs destroying, and the key must stay copyable and free of cleanup. So the key holds the
 * RFC 2104 key block instead: K zero-padded to the 64-byte block, or H(K) zero-padded when K is
 * longer than a block (k->inner; k->outer stays zero). Each MAC opens an HMAC object from that
 * block with BCRYPT_ALG_HANDLE_HMAC_FLAG, in stack memory: the same MAC as from the original
 * key (a key of exactly one block is used as it is), no allocation, at the cost of hashing the
 * ipad and opad blocks again (two compression-function calls) per MAC.
 *
 * The algorithm providers are opened once, on first use, and stay open for the process.
 */
#include <windows.h>
#include <bcrypt.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <turnpike/crypto.h>

#define BLOCK_LEN 64 /* all three digests have 64-byte blocks */

/* Room for a hash object on the stack; a provider wanting more gets NULL and allocates. */
#define OBJ_MAX 1024

_Static_assert(BLOCK_LEN <= TP_HASH_STATE_SIZE, "the key block fits in tp_hmac_key");

enum {
	ALG_MD5,
	ALG_SHA1,
	ALG_SHA256,
	ALG_COUNT
};

struct provider {
	BCRYPT_ALG_HANDLE alg;
	ULONG objlen;
};

/* [0]: plain digests, [1]: HMAC. */
static struct provider providers[2][ALG_COUNT];
static INIT_ONCE providers_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK providers_open(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
	static const LPCWSTR ids[ALG_COUNT] = { BCRYPT_MD5_ALGORITHM, BCRYPT_SHA1_ALGORITHM,
						BCRYPT_SHA256_ALGORITHM };

	(void)once;
	(void)param;
	(void)ctx;
	for (unsigned h = 0; h < 2; h++) {
		for (unsigned a = 0; a < ALG_COUNT; a++) {
			struct provider *p = &providers[h][a];
			ULONG got = 0;

			if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(
				    &p->alg, ids[a], NULL, h ? BCRYPT_ALG_HANDLE_HMAC_FLAG : 0)))
				goto fail;
			if (!BCRYPT_SUCCESS(BCryptGetProperty(p->alg, BCRYPT_OBJECT_LENGTH,
							      (PUCHAR)&p->objlen, sizeof(p->objlen),
							      &got, 0)))
				p->objlen = 0; /* let CNG allocate */
		}
	}
	return TRUE;
fail:
	/* Close what was opened, so that a later call can try again from scratch. */
	for (unsigned h = 0; h < 2; h++)
		for (unsigned a = 0; a < ALG_COUNT; a++)
			if (providers[h][a].alg) {
				BCryptCloseAlgorithmProvider(providers[h][a].alg, 0);
				providers[h][a].alg = NULL;
			}
	return FALSE;
}

/* The provider for @d, plain (@hmac false) or keyed; NULL for an unknown digest or failure. */
static const struct provider *provider_of(enum tp_digest d, bool hmac)
{
	int a;

	switch (d) {
	case TP_DIGEST_MD5:
		a = ALG_MD5;
		break;
	case TP_DIGEST_SHA1:
		a = ALG_SHA1;
		break;
	case TP_DIGEST_SHA256:
		a = ALG_SHA256;
		break;
	default:
		return NULL;
	}
	if (!InitOnceExecuteOnce(&providers_once, providers_open, NULL, NULL))
		return NULL;
	return &providers[hmac][a];
}

/* Hash (or MAC, with @key) the chunks into @out, which holds the digest's length. */
static int run_hash(const struct provider *p, const uint8_t *key, ULONG keylen,
		    const struct tp_chunk *in, unsigned n, uint8_t *out, ULONG outlen)
{
	_Alignas(16) UCHAR obj[OBJ_MAX];
	bool stack = p->objlen && p->objlen <= sizeof(obj);
	BCRYPT_HASH_HANDLE h = NULL;
	int rc = 0;

	if (!BCRYPT_SUCCESS(BCryptCreateHash(p->alg, &h, stack ? obj : NULL, stack ? p->objlen : 0,
					     (PUCHAR)(uintptr_t)key, keylen, 0)))
		return -EIO;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		const UCHAR *b = in[i].base;
		size_t left = in[i].len;

		/* CNG takes ULONG lengths: feed large chunks in slices. */
		while (left > 0 && rc == 0) {
			ULONG k = left > ULONG_MAX ? ULONG_MAX : (ULONG)left;

			if (!BCRYPT_SUCCESS(BCryptHashData(h, (PUCHAR)(uintptr_t)b, k, 0)))
				rc = -EIO;
			b += k;
			left -= k;
		}
	}
	if (rc == 0 && !BCRYPT_SUCCESS(BCryptFinishHash(h, out, outlen, 0)))
		rc = -EIO;
	BCryptDestroyHash(h);
	SecureZeroMemory(obj, sizeof(obj));
	return rc;
}

int tp_digest(enum tp_digest d, const struct tp_chunk *in, unsigned n, uint8_t *out)
{
	size_t len = tp_digest_len(d);
	const struct provider *p;

	if (len == 0)
		return -EINVAL;
	p = provider_of(d, false);
	if (!p)
		return -EIO;
	return run_hash(p, NULL, 0, in, n, out, (ULONG)len);
}

int tp_hmac_key_init(struct tp_hmac_key *k, enum tp_digest d, const void *key, size_t len)
{
	int rc = 0;

	memset(k, 0, sizeof(*k));
	if (tp_digest_len(d) == 0)
		return -EINVAL;
	k->digest = (uint32_t)d;
	/* RFC 2104: keys longer than a block are hashed first; the rest is zero padding. */
	if (len > BLOCK_LEN) {
		struct tp_chunk ch = { key, len };

		rc = tp_digest(d, &ch, 1, k->inner.bytes);
	} else if (len > 0) {
		memcpy(k->inner.bytes, key, len);
	}
	if (rc < 0)
		tp_hmac_key_wipe(k);
	return rc;
}

int tp_hmac(const struct tp_hmac_key *k, const struct tp_chunk *in, unsigned n, uint8_t *out)
{
	enum tp_digest d = (enum tp_digest)k->digest;
	size_t len = tp_digest_len(d);
	const struct provider *p;

	if (len == 0)
		return -EINVAL;
	p = provider_of(d, true);
	if (!p)
		return -EIO;
	return run_hash(p, k->inner.bytes, BLOCK_LEN, in, n, out, (ULONG)len);
}

int tp_random_bytes(void *buf, size_t n)
{
	PUCHAR p = buf;

	while (n > 0) {
		ULONG k = n > ULONG_MAX ? ULONG_MAX : (ULONG)n;

		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, k, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return -EIO;
		p += k;
		n -= k;
	}
	return 0;
}
