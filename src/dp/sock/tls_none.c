/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS in a build without libssl (TP_HAVE_TLS 0: the Windows cross build, as Debian has no
 * MinGW OpenSSL). A TLS listener is refused when the plane starts, with a message that says
 * why; no connection ever reaches the other functions.
 */
#include <errno.h>
#include <stdio.h>

#include "sockdp_int.h"

void *tp_tls_ctx_create(const char *cert, const char *key, char *err, size_t errlen)
{
	(void)key;
	snprintf(err, errlen,
		 "TLS listener (certificate %s): this turnpike was built without TLS support "
		 "(no OpenSSL libssl for this platform); remove the \"tls\" listener or use a "
		 "build with TLS",
		 cert ? cert : "(none)");
	return NULL;
}

void tp_tls_ctx_destroy(void *ctx)
{
	(void)ctx;
}

void *tp_tls_new(void *ctx, tp_socket_t s)
{
	(void)ctx;
	(void)s;
	return NULL;
}

void tp_tls_free(void *ssl)
{
	(void)ssl;
}

int tp_tls_handshake(void *ssl)
{
	(void)ssl;
	return -ENOTSUP;
}

long tp_tls_read(void *ssl, void *buf, size_t len)
{
	(void)ssl;
	(void)buf;
	(void)len;
	return -ENOTSUP;
}

long tp_tls_write(void *ssl, const void *buf, size_t len)
{
	(void)ssl;
	(void)buf;
	(void)len;
	return -ENOTSUP;
}
