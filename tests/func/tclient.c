/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The test client's protocol half: building requests with the codec, the long-term credential
 * flow (RFC 8489 §9.2), transactions with retransmission over UDP (RFC 8489 §6.2.1), checking
 * every response, and the TURN methods and data paths (RFC 8656).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/stun_build.h>

#include "tclient.h"

int tcl_timeout_ms = 3000;

#define TCL_RTO_MS 200 /* first retransmission; doubles after each */

/* --- credentials --- */

void tcl_set_user(struct tcl *c, const char *user, const char *pass)
{
	c->has_user = user != NULL;
	snprintf(c->user, sizeof(c->user), "%s", user ? user : "");
	snprintf(c->pass, sizeof(c->pass), "%s", pass ? pass : "");
	c->nonce_len = 0;
	c->realm_len = 0;
	c->key_len = 0;
}

void tcl_rest_credentials(const char *secret, uint64_t expiry, const char *user, char *name,
			  size_t name_cap, char *pass, size_t pass_cap)
{
	uint8_t mac[TP_SHA1_LEN];

	snprintf(name, name_cap, "%llu:%s", (unsigned long long)expiry, user);
	tp_hmac_once(TP_DIGEST_SHA1, secret, strlen(secret), name, strlen(name), mac);
	tp_base64_encode(mac, sizeof(mac), pass, pass_cap);
}

static void add_credentials(struct tcl *c, struct tp_stun_builder *b)
{
	enum tp_stun_pwalg alg =
		c->alg == TP_STUN_PWALG_SHA256 ? TP_STUN_PWALG_SHA256 : TP_STUN_PWALG_MD5;
	uint8_t hash[TP_STUN_USERHASH_LEN];
	struct tp_hmac_key k;
	int n;

	/* RFC 8489 §9.2.2: the key is a hash of username:realm:password. */
	n = tp_stun_long_term_key(alg, c->user, strlen(c->user), c->realm, c->realm_len, c->pass,
				  strlen(c->pass), c->key);
	c->key_len = n > 0 ? (size_t)n : 0;
	if (c->userhash) {
		tp_stun_userhash(c->user, strlen(c->user), c->realm, c->realm_len, hash);
		tp_stun_add(b, TP_STUN_ATTR_USERHASH, hash, sizeof(hash));
	} else {
		tp_stun_add_string(b, TP_STUN_ATTR_USERNAME, c->user, strlen(c->user));
	}
	tp_stun_add_string(b, TP_STUN_ATTR_REALM, c->realm, c->realm_len);
	tp_stun_add_string(b, TP_STUN_ATTR_NONCE, c->nonce, c->nonce_len);
	if (c->alg) {
		/* RFC 8489 §9.2.4: echo the server's list, name the one chosen. */
		tp_stun_add_password_algorithms(b, c->pwalgs, c->n_pwalgs);
		tp_stun_add_password_algorithm(b, c->alg);
	}
	if (c->alg == TP_STUN_PWALG_SHA256) {
		tp_hmac_key_init(&k, TP_DIGEST_SHA256, c->key, c->key_len);
		tp_stun_add_integrity_sha256(b, &k, TP_SHA256_LEN);
	} else {
		tp_hmac_key_init(&k, TP_DIGEST_SHA1, c->key, c->key_len);
		tp_stun_add_integrity(b, &k);
	}
	tp_hmac_key_wipe(&k);
}

int tcl_learn(struct tcl *c)
{
	const uint8_t *s;
	size_t n;

	if (tp_stun_get_string(&c->m, TP_STUN_ATTR_REALM, &s, &n) < 0)
		return tcl_fail(c, TCL_EPROTO, "%d without a REALM", tcl_code(c));
	memcpy(c->realm, s, n);
	c->realm[n] = '\0';
	c->realm_len = n;
	if (tp_stun_get_string(&c->m, TP_STUN_ATTR_NONCE, &s, &n) < 0)
		return tcl_fail(c, TCL_EPROTO, "%d without a NONCE", tcl_code(c));
	memcpy(c->nonce, s, n);
	c->nonce[n] = '\0';
	c->nonce_len = n;
	if (tp_stun_get_password_algorithms(&c->m, c->pwalgs, 8, &c->n_pwalgs) < 0)
		c->n_pwalgs = 0;
	return 0;
}

/* --- building --- */

int tcl_build(struct tcl *c, const struct tcl_req *rq)
{
	struct tp_stun_builder b;
	uint8_t tid[TP_STUN_TID_LEN];
	uint16_t cls = rq->cls ? rq->cls : TP_STUN_REQUEST;
	int n;

	tp_random_bytes(tid, sizeof(tid));
	tp_stun_build_init(&b, c->req, sizeof(c->req), rq->method, cls, tid);
	if (rq->transport)
		tp_stun_add_transport(&b, rq->transport);
	if (rq->has_lifetime)
		tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, rq->lifetime);
	if (rq->family)
		tp_stun_add_family(&b, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, rq->family);
	if (rq->add_family)
		tp_stun_add_family(&b, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, rq->add_family);
	if (rq->even_port)
		tp_stun_add_even_port(&b, rq->reserve);
	if (rq->has_token)
		tp_stun_add_reservation_token(&b, rq->token);
	if (rq->dont_fragment)
		tp_stun_add(&b, TP_STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	if (rq->has_channel)
		tp_stun_add_channel(&b, rq->channel);
	for (unsigned i = 0; i < rq->n_peers && i < TCL_MAX_PEERS; i++)
		tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &rq->peers[i]);
	if (rq->has_data)
		tp_stun_add(&b, TP_STUN_ATTR_DATA, rq->data, rq->data_len);
	if (rq->extra_type)
		tp_stun_add(&b, rq->extra_type, rq->extra, rq->extra_len);
	/* Indications carry no credentials (RFC 8656 §11.1). */
	c->req_authed = c->has_user && c->nonce_len && !rq->noauth && cls == TP_STUN_REQUEST;
	if (c->req_authed)
		add_credentials(c, &b);
	if (c->fingerprint)
		tp_stun_add_fingerprint(&b);
	n = tp_stun_build_finish(&b);
	if (n < 0)
		return tcl_fail(c, TCL_EPROTO, "cannot build the request: %s", tp_wire_strerror(n));
	c->req_len = (size_t)n;
	return 0;
}

/* --- transactions --- */

int tcl_code(const struct tcl *c)
{
	int code = 0;

	if (c->m.buf && c->m.cls == TP_STUN_ERROR &&
	    tp_stun_get_error(&c->m, &code, NULL, NULL) < 0)
		code = 0;
	return code;
}

/* Keep a data frame for tcl_recv_data(); the oldest goes when the queue is full. */
static void enqueue(struct tcl *c, const uint8_t *p, size_t n)
{
	unsigned slot;
	uint8_t *copy = malloc(n ? n : 1);

	if (!copy)
		return;
	memcpy(copy, p, n);
	if (c->qlen == TCL_QUEUE) {
		free(c->queue[c->qhead]);
		c->queue[c->qhead] = NULL;
		c->qhead = (c->qhead + 1) % TCL_QUEUE;
		c->qlen--;
	}
	slot = (c->qhead + c->qlen) % TCL_QUEUE;
	c->queue[slot] = copy;
	c->queue_len[slot] = n;
	c->qlen++;
}

long tcl_recv_frame(struct tcl *c, uint8_t *buf, size_t cap, int timeout_ms)
{
	if (c->qlen) {
		size_t n = c->queue_len[c->qhead];

		memcpy(buf, c->queue[c->qhead], n < cap ? n : cap);
		free(c->queue[c->qhead]);
		c->queue[c->qhead] = NULL;
		c->qhead = (c->qhead + 1) % TCL_QUEUE;
		c->qlen--;
		return (long)n;
	}
	return tcl_net_recv(c, buf, cap, timeout_ms);
}

static int check_integrity(struct tcl *c)
{
	struct tp_hmac_key k;
	int rc;

	c->integrity = 0;
	if (!c->m.mi256_off && !c->m.mi_off)
		return 0;
	if (!c->req_authed || !c->key_len)
		return tcl_fail(c, TCL_EPROTO, "integrity on a response to a request without any");
	if (c->m.mi256_off) {
		tp_hmac_key_init(&k, TP_DIGEST_SHA256, c->key, c->key_len);
		rc = tp_stun_check_integrity_sha256(&c->m, &k);
		c->integrity = 256;
	} else {
		tp_hmac_key_init(&k, TP_DIGEST_SHA1, c->key, c->key_len);
		rc = tp_stun_check_integrity(&c->m, &k);
		c->integrity = 1;
	}
	tp_hmac_key_wipe(&k);
	if (rc < 0)
		return tcl_fail(c, TCL_EPROTO, "the response's integrity does not verify");
	/* RFC 8489 §9.2.4: the response uses the request's kind of integrity. */
	if ((c->integrity == 256) != (c->alg == TP_STUN_PWALG_SHA256))
		return tcl_fail(c, TCL_EPROTO,
				"the response's integrity is not the request's kind");
	return 0;
}

/* Check a response like a careful client; 0 or the error code, or a negative tcl_err. */
static int check_response(struct tcl *c, const struct tp_stun_msg *req, size_t n)
{
	const uint8_t *reason;
	size_t rlen;
	int code = 0, rc;

	rc = tp_stun_parse(&c->m, c->resp, n);
	if (rc < 0) {
		memset(&c->m, 0, sizeof(c->m));
		return tcl_fail(c, TCL_EPROTO, "unparsable response: %s", tp_wire_strerror(rc));
	}
	c->resp_len = n;
	if (c->m.method != req->method)
		return tcl_fail(c, TCL_EPROTO, "response method 0x%03x to 0x%03x", c->m.method,
				req->method);
	if (c->m.cls == TP_STUN_ERROR) {
		if (tp_stun_get_error(&c->m, &code, &reason, &rlen) < 0)
			return tcl_fail(c, TCL_EPROTO, "error response without a valid ERROR-CODE");
		/* DESIGN §7: no reason phrases and no SOFTWARE by default. */
		if (rlen)
			return tcl_fail(c, TCL_EPROTO, "%d carries a reason phrase", code);
	}
	if (tp_stun_has(&c->m, TP_STUN_ATTR_SOFTWARE))
		return tcl_fail(c, TCL_EPROTO, "response carries SOFTWARE");
	if ((c->m.fp_off != 0) != (req->fp_off != 0))
		return tcl_fail(c, TCL_EPROTO,
				"FINGERPRINT in the response: %d, in the request: %d",
				c->m.fp_off != 0, req->fp_off != 0);
	if (c->m.fp_off && tp_stun_check_fingerprint(&c->m) < 0)
		return tcl_fail(c, TCL_EPROTO, "the response's FINGERPRINT does not verify");
	rc = check_integrity(c);
	if (rc < 0)
		return rc;
	if (code == 401 || code == 438) {
		/* RFC 8489 §9.2.4: a challenge is never integrity-protected, and teaches a nonce.
		 */
		if (c->integrity)
			return tcl_fail(c, TCL_EPROTO, "%d with integrity", code);
		if (!tp_stun_has(&c->m, TP_STUN_ATTR_REALM) ||
		    !tp_stun_has(&c->m, TP_STUN_ATTR_NONCE))
			return tcl_fail(c, TCL_EPROTO, "%d without REALM and NONCE", code);
	}
	if (c->req_authed && code == 0 && !c->integrity)
		return tcl_fail(c, TCL_EPROTO, "success to an authenticated request, no integrity");
	return code;
}

static bool is_response_to(const uint8_t *p, size_t n, const uint8_t *req)
{
	return n >= TP_STUN_HDR_LEN && tp_wire_classify(p, n) == TP_WIRE_KIND_STUN &&
	       (tp_stun_type_class(tp_get_be16(p)) & TP_STUN_SUCCESS) &&
	       memcmp(p + 8, req + 8, TP_STUN_TID_LEN) == 0;
}

static bool is_response(const uint8_t *p, size_t n)
{
	return n >= TP_STUN_HDR_LEN && tp_wire_classify(p, n) == TP_WIRE_KIND_STUN &&
	       (tp_stun_type_class(tp_get_be16(p)) & TP_STUN_SUCCESS);
}

int tcl_transact(struct tcl *c, int timeout_ms)
{
	uint64_t start = tcl_now_ms(), deadline = start + (uint64_t)timeout_ms;
	uint64_t next_tx = start + TCL_RTO_MS;
	unsigned rto = TCL_RTO_MS;
	struct tp_stun_msg req;
	int rc;

	memset(&c->m, 0, sizeof(c->m));
	c->resp_len = 0;
	if (tp_stun_parse(&req, c->req, c->req_len) < 0)
		return tcl_fail(c, TCL_EPROTO, "the request does not parse");
	rc = tcl_send_raw(c, c->req, c->req_len);
	if (rc < 0)
		return rc;
	for (;;) {
		uint64_t now = tcl_now_ms(), until = deadline;
		long n;

		if (now >= deadline)
			return tcl_fail(c, TCL_ETIMEOUT, "no response to method 0x%03x in %d ms",
					req.method, timeout_ms);
		if (c->transport == TCL_UDP && next_tx < until)
			until = next_tx;
		n = tcl_net_recv(c, c->resp, sizeof(c->resp), until > now ? (int)(until - now) : 0);
		if (n == TCL_ETIMEOUT) {
			/* RFC 8489 §6.2.1: over UDP, the same bytes again with a doubling RTO. */
			if (c->transport == TCL_UDP && tcl_now_ms() >= next_tx) {
				rc = tcl_send_raw(c, c->req, c->req_len);
				if (rc < 0)
					return rc;
				rto *= 2;
				next_tx = tcl_now_ms() + rto;
			}
			continue;
		}
		if (n < 0)
			return (int)n;
		if (is_response_to(c->resp, (size_t)n, c->req))
			return check_response(c, &req, (size_t)n);
		if (is_response(c->resp, (size_t)n))
			c->stray++;
		else
			enqueue(c, c->resp, (size_t)n);
	}
}

int tcl_request(struct tcl *c, const struct tcl_req *rq)
{
	for (int attempt = 0;; attempt++) {
		int rc = tcl_build(c, rq);

		if (rc < 0)
			return rc;
		rc = tcl_transact(c, TCL_TIMEOUT_MS);
		if (attempt == 2 || rq->noauth || !c->has_user || (rc != 401 && rc != 438))
			return rc;
		rc = tcl_learn(c);
		if (rc < 0)
			return rc;
	}
}

/* --- methods --- */

int tcl_binding(struct tcl *c, struct tp_addr *mapped)
{
	struct tcl_req rq = { .method = TP_STUN_BINDING, .noauth = true };
	struct tp_addr a;
	int rc = tcl_request(c, &rq);

	if (rc != 0)
		return rc;
	if (tp_stun_get_addr(&c->m, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &a) < 0)
		return tcl_fail(c, TCL_EPROTO, "Binding success without XOR-MAPPED-ADDRESS");
	if (mapped)
		*mapped = a;
	return 0;
}

int tcl_allocate(struct tcl *c, const struct tcl_req *opt)
{
	struct tcl_req rq;
	struct tp_stun_span it = { 0, 0 };
	int rc;

	if (opt)
		rq = *opt;
	else
		memset(&rq, 0, sizeof(rq));
	rq.method = TP_STUN_ALLOCATE;
	if (!rq.transport)
		rq.transport = TP_STUN_TRANSPORT_UDP;
	rc = tcl_request(c, &rq);
	if (rc != 0)
		return rc;
	c->n_relay = 0;
	while (c->n_relay < 2 && tp_stun_next(&c->m, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &it))
		if (tp_stun_decode_addr(&c->m, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, it,
					&c->relay[c->n_relay++]) < 0)
			return tcl_fail(c, TCL_EPROTO, "malformed XOR-RELAYED-ADDRESS");
	if (c->n_relay == 0 || tp_stun_get_u32(&c->m, TP_STUN_ATTR_LIFETIME, &c->lifetime) < 0 ||
	    tp_stun_get_addr(&c->m, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &c->mapped) < 0)
		return tcl_fail(c, TCL_EPROTO,
				"Allocate success without relay, lifetime or mapped");
	c->has_token = tp_stun_get_reservation_token(&c->m, &c->token) == 0;
	c->has_addr_err = tp_stun_get_address_error(&c->m, &c->addr_err_family, &c->addr_err_code,
						    NULL, NULL) == 0;
	return 0;
}

int tcl_refresh(struct tcl *c, long lifetime)
{
	struct tcl_req rq = { .method = TP_STUN_REFRESH };
	int rc;

	if (lifetime >= 0) {
		rq.has_lifetime = true;
		rq.lifetime = (uint32_t)lifetime;
	}
	rc = tcl_request(c, &rq);
	if (rc == 0 && tp_stun_get_u32(&c->m, TP_STUN_ATTR_LIFETIME, &c->lifetime) < 0)
		return tcl_fail(c, TCL_EPROTO, "Refresh success without LIFETIME");
	return rc;
}

int tcl_permit(struct tcl *c, const struct tp_addr *peers, unsigned n)
{
	struct tcl_req rq = { .method = TP_STUN_CREATE_PERMISSION };

	if (n > TCL_MAX_PEERS)
		return tcl_fail(c, TCL_EPROTO, "too many peers");
	memcpy(rq.peers, peers, n * sizeof(*peers));
	rq.n_peers = n;
	return tcl_request(c, &rq);
}

int tcl_bind(struct tcl *c, uint16_t channel, const struct tp_addr *peer)
{
	struct tcl_req rq = { .method = TP_STUN_CHANNEL_BIND, .has_channel = true };

	rq.channel = channel;
	rq.peers[0] = *peer;
	rq.n_peers = 1;
	return tcl_request(c, &rq);
}

int tcl_send(struct tcl *c, const struct tp_addr *peer, const void *data, size_t len, bool df)
{
	struct tcl_req rq = { .method = TP_STUN_SEND, .cls = TP_STUN_INDICATION };
	int rc;

	rq.peers[0] = *peer;
	rq.n_peers = 1;
	rq.has_data = true;
	rq.data = data;
	rq.data_len = len;
	rq.dont_fragment = df;
	rc = tcl_build(c, &rq);
	return rc < 0 ? rc : tcl_send_raw(c, c->req, c->req_len);
}

int tcl_chandata(struct tcl *c, uint16_t channel, const void *data, size_t len)
{
	size_t pad = c->transport == TCL_UDP ? 0 : (4 - (len & 3)) & 3;
	uint8_t *msg = calloc(1, TP_CHANDATA_HDR_LEN + len + pad);
	int rc;

	if (!msg)
		return tcl_fail(c, TCL_EIO, "out of memory");
	/* RFC 8656 §12.5: over a stream, ChannelData is padded to a multiple of 4. */
	tp_chandata_put_hdr(msg, channel, (uint16_t)len);
	memcpy(msg + TP_CHANDATA_HDR_LEN, data, len);
	rc = tcl_send_raw(c, msg, TP_CHANDATA_HDR_LEN + len + pad);
	free(msg);
	return rc;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* A Data indication or ChannelData into @d: 1, 0 for a frame to skip, or a negative error. */
static int take_data(struct tcl *c, const uint8_t *p, size_t n, struct tcl_data *d)
{
	memset(d, 0, sizeof(*d));
	d->frame_len = n;
	if (tp_wire_classify(p, n) == TP_WIRE_KIND_CHANNEL) {
		struct tp_chandata cd;
		size_t end;

		if (tp_chandata_parse(&cd, p, n) < 0)
			return tcl_fail(c, TCL_EPROTO, "malformed ChannelData from the server");
		end = TP_CHANDATA_HDR_LEN + cd.len;
		/* Over UDP the server sends no padding; over a stream exactly up to 4 bytes. */
		if (n != (c->transport == TCL_UDP ? end : (end + 3) / 4 * 4))
			return tcl_fail(c, TCL_EPROTO, "ChannelData of %zu bytes for %u of data", n,
					cd.len);
		if (cd.len > sizeof(d->buf))
			return tcl_fail(c, TCL_EPROTO, "relayed data too long for the test");
		d->channel = true;
		d->number = cd.channel;
		d->len = cd.len;
		memcpy(d->buf, cd.data, cd.len);
		d->pad_zero = all_zero(p + end, n - end);
		return 1;
	}
	if (is_response(p, n)) {
		c->stray++;
		return 0;
	}
	{
		struct tp_stun_msg m;
		const uint8_t *data;
		size_t len, end;

		if (tp_stun_parse(&m, p, n) < 0 || m.cls != TP_STUN_INDICATION ||
		    m.method != TP_STUN_DATA)
			return tcl_fail(c, TCL_EPROTO, "neither data nor a response (%zu bytes)",
					n);
		if (tp_stun_get_addr(&m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &d->peer) < 0 ||
		    tp_stun_get_data(&m, &data, &len) < 0)
			return tcl_fail(c, TCL_EPROTO, "Data indication without peer or DATA");
		if (m.mi_off || m.mi256_off)
			return tcl_fail(c, TCL_EPROTO, "Data indication with integrity");
		if (len > sizeof(d->buf))
			return tcl_fail(c, TCL_EPROTO, "relayed data too long for the test");
		memcpy(d->buf, data, len);
		d->len = len;
		end = (size_t)(data - p) + len;
		d->pad_zero = all_zero(p + end, ((4 - (len & 3)) & 3));
		return 1;
	}
}

int tcl_recv_data(struct tcl *c, struct tcl_data *d, int timeout_ms)
{
	uint64_t deadline = tcl_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	uint8_t *buf = malloc(TCL_FRAME_MAX); /* c->resp keeps the last response */
	int rc = 0;

	if (!buf)
		return tcl_fail(c, TCL_EIO, "out of memory");
	while (rc == 0) {
		uint64_t now = tcl_now_ms();
		long n = tcl_recv_frame(c, buf, TCL_FRAME_MAX,
					now >= deadline ? 0 : (int)(deadline - now));

		rc = n < 0 ? (int)n : take_data(c, buf, (size_t)n, d);
	}
	free(buf);
	return rc;
}
