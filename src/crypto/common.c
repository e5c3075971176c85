/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The backend-independent half of the crypto interface: CRC-32 (zlib), constant-time compare,
 * base64, and the convenience wrappers over the backend's digest and HMAC.
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include <turnpike/crypto.h>

size_t tp_digest_len(enum tp_digest d)
{
	switch (d) {
	case TP_DIGEST_MD5:
		return TP_MD5_LEN;
	case TP_DIGEST_SHA1:
		return TP_SHA1_LEN;
	case TP_DIGEST_SHA256:
		return TP_SHA256_LEN;
	}
	return 0;
}

int tp_hmac_once(enum tp_digest d, const void *key, size_t keylen, const void *data, size_t len,
		 uint8_t *out)
{
	struct tp_hmac_key k;
	struct tp_chunk c = { data, len };
	int rc;

	rc = tp_hmac_key_init(&k, d, key, keylen);
	if (rc == 0)
		rc = tp_hmac(&k, &c, 1, out);
	tp_hmac_key_wipe(&k);
	return rc;
}

uint32_t tp_crc32(uint32_t crc, const void *data, size_t len)
{
	const Bytef *p = data;
	uLong c = crc;

	/* zlib takes uInt lengths; feed large inputs in slices. */
	while (len > 0) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;

		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)c;
}

int tp_memeq_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a;
	const volatile uint8_t *y = b;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= (uint8_t)(x[i] ^ y[i]);
	return acc == 0;
}

void tp_hmac_key_wipe(struct tp_hmac_key *k)
{
#if defined(__GNUC__) || defined(__clang__)
	/* A plain memset, which the empty asm that "reads" the memory keeps from being dropped as
	 * a dead store: a byte loop through a volatile pointer cost ~1000 cycles per key, on
	 * every authenticated request. */
	memset(k, 0, sizeof(*k));
	__asm__ __volatile__("" : : "r"(k) : "memory");
#else
	volatile uint8_t *p = (volatile uint8_t *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		p[i] = 0;
#endif
}

int tp_base64_encode(const void *in, size_t n, char *out, size_t cap)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *s = in;
	size_t olen = tp_base64_len(n);
	size_t o = 0;

	if (olen + 1 > cap || olen > 0x7fffffff)
		return -ENOSPC;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (left > 2)
			v |= s[i + 2];
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = left > 1 ? tbl[v >> 6 & 63] : '=';
		out[o++] = left > 2 ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}
