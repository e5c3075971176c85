/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS for stream clients (RFC 8656 §3.1: TURN over TLS, port 5349), with OpenSSL's libssl on
 * non-blocking sockets.
 */
#include <errno.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sockdp_int.h"

void *tp_tls_ctx_create(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		snprintf(err, errlen, "TLS: cannot create a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "TLS: cannot load certificate chain %s: %s", cert,
			 ERR_reason_error_string(ERR_get_error()));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "TLS: cannot load private key %s: %s", key,
			 ERR_reason_error_string(ERR_get_error()));
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void tp_tls_ctx_destroy(void *ctx)
{
	SSL_CTX_free(ctx);
}

void *tp_tls_new(void *ctx, tp_socket_t s)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	if (SSL_set_fd(ssl, (int)s) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void tp_tls_free(void *ssl)
{
	if (ssl) {
		ERR_clear_error();
		SSL_shutdown(ssl);
		SSL_free(ssl);
		ERR_clear_error();
	}
}

static long tls_result(SSL *ssl, int rc)
{
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ERR_clear_error();
		return -EPROTO;
	}
}

/*
 * OpenSSL keeps one error queue per thread, shared by every connection of a worker: clear it
 * before each call, or an error left by one connection (e.g. by SSL_shutdown on a closed one)
 * makes SSL_get_error() report a failure for the next connection's harmless WANT_READ.
 */
int tp_tls_handshake(void *ssl)
{
	int rc;
	long r;

	ERR_clear_error();
	rc = SSL_do_handshake(ssl);

	if (rc == 1)
		return 1;
	r = tls_result(ssl, rc);
	return r == -EAGAIN ? 0 : -EPROTO;
}

long tp_tls_read(void *ssl, void *buf, size_t len)
{
	int rc;

	ERR_clear_error();
	rc = SSL_read(ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);

	return rc > 0 ? rc : tls_result(ssl, rc);
}

long tp_tls_write(void *ssl, const void *buf, size_t len)
{
	int rc;

	ERR_clear_error();
	rc = SSL_write(ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);

	if (rc > 0)
		return rc;
	rc = (int)tls_result(ssl, rc);
	return rc == 0 ? -EPIPE : rc;
}
