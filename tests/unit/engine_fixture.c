/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine test rig (see engine_fixture.h): world set-up, fake data-plane ops, the clock, and
 * the client that speaks real STUN to the engine and checks every reply it gets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/crypto.h>

#include "engine_fixture.h"

static struct tw tw_storage;
struct tw *W = &tw_storage;

/* --- helpers --- */

struct tp_addr tw_addr(const char *s)
{
	struct tp_addr a;

	ck_assert_msg(tp_addr_parse(&a, s) == 0, "bad test address %s", s);
	return a;
}

struct tp_cidr tw_cidr(const char *s)
{
	struct tp_cidr c;

	ck_assert_msg(tp_cidr_parse(&c, s) == 0, "bad test prefix %s", s);
	return c;
}

void tw_rest_password(const char *user, char *out, size_t cap)
{
	uint8_t mac[TP_SHA1_LEN];

	ck_assert_int_eq(
		tp_hmac_once(TP_DIGEST_SHA1, TW_SECRET, strlen(TW_SECRET), user, strlen(user), mac),
		0);
	ck_assert_int_gt(tp_base64_encode(mac, sizeof(mac), out, cap), 0);
}

/* --- fake data-plane ops --- */

static int ops_open(void *ctx, uint16_t port, unsigned families)
{
	struct tw_ops *o = ctx;

	if (o->open[port] || tp_engine_port_shard(port, W->p.port_min, W->nshards) != o->shard ||
	    families == 0)
		o->misuse++;
	for (unsigned i = 0; i < o->n_fail_port; i++) {
		if (o->fail_port[i] == port) {
			o->failed_opens++;
			return -EADDRINUSE;
		}
	}
	if (o->fail_all || o->fail_next) {
		if (o->fail_next)
			o->fail_next--;
		o->failed_opens++;
		return -EADDRINUSE;
	}
	o->open[port] = (uint8_t)families;
	o->opens++;
	o->last_open = port;
	o->last_families = families;
	return 0;
}

static void ops_close(void *ctx, uint16_t port, unsigned families)
{
	struct tw_ops *o = ctx;

	if (o->open[port] != families)
		o->misuse++;
	o->open[port] = 0;
	o->closes++;
	o->last_close = port;
}

static void ops_event(void *ctx, const struct tp_engine_event *ev)
{
	struct tw_ops *o = ctx;
	struct tw_event *r;

	if (o->n_events == TW_MAX_EVENTS)
		return;
	r = &o->ev[o->n_events++];
	r->kind = ev->kind;
	r->transport = ev->transport;
	r->client = ev->client;
	r->relay4 = ev->relay4;
	r->relay6 = ev->relay6;
	r->lifetime = ev->lifetime;
	snprintf(r->user, sizeof(r->user), "%s", ev->user ? ev->user : "");
}

/* --- the world --- */

void tw_setup(void)
{
	struct tp_engine_params *p = &W->p;

	memset(W, 0, sizeof(*W));
	W->nshards = 1;
	W->max_allocations = 64;
	W->now.mono_ms = TW_MONO_START;
	W->now.unix_s = TW_UNIX_START;
	W->server4 = tw_addr(TW_SERVER4);
	W->server6 = tw_addr(TW_SERVER6);
	W->users[0] = (struct tp_engine_user){ "alice", "alice-pw" };
	W->users[1] = (struct tp_engine_user){ "bob", "bob-pw" };
	W->own[0] = tw_addr(TW_RELAY4);
	W->own[1] = tw_addr(TW_RELAY6);
	W->own[2] = W->server4;
	W->own[3] = W->server6;

	p->realm = TW_REALM;
	p->relay4 = tw_addr(TW_RELAY4);
	p->relay6 = tw_addr(TW_RELAY6);
	p->port_min = TW_PORT_MIN;
	p->port_max = TW_PORT_MAX;
	p->users = W->users;
	p->n_users = 2;
	p->rest_secret = TW_SECRET;
	p->auth_required = true;
	p->pwalg_md5 = true;
	p->pwalg_sha256 = true;
	p->nonce_lifetime = 600;
	p->allocations_per_user = 10;
	p->allocations_total = 100;
	p->permissions_per_allocation = 8;
	p->channels_per_allocation = 8;
	p->default_lifetime = 600;
	p->max_lifetime = 3600;
	p->permission_lifetime = 300;
	p->channel_lifetime = 600;
	p->allow = W->allow;
	p->deny = W->deny;
	p->own = W->own;
	p->n_own = 4;
}

void tw_start(void)
{
	static const uint8_t secret[32] = { 't', 'u', 'r', 'n', 'p', 'i', 'k', 'e' };
	char err[200] = "";

	W->pol = tp_engine_policy_create(&W->p, err, sizeof(err));
	ck_assert_msg(W->pol != NULL, "policy: %s", err);
	W->sh = tp_engine_shared_create(W->nshards, secret);
	ck_assert_ptr_nonnull(W->sh);
	for (unsigned i = 0; i < W->nshards; i++) {
		struct tp_engine_ops ops = { ops_open, ops_close, ops_event, &W->ops[i] };

		W->ops[i].shard = i;
		W->e[i] = tp_engine_create(W->sh, W->pol, i, W->nshards, W->max_allocations, &ops);
		ck_assert_ptr_nonnull(W->e[i]);
	}
}

void tw_reload(void)
{
	char err[200] = "";
	struct tp_engine_policy *pol = tp_engine_policy_create(&W->p, err, sizeof(err));

	ck_assert_msg(pol != NULL, "policy: %s", err);
	ck_assert_uint_lt(W->n_old, 8);
	for (unsigned i = 0; i < W->nshards; i++)
		tp_engine_set_policy(W->e[i], pol);
	W->old_pol[W->n_old++] = W->pol;
	W->pol = pol;
}

void tw_teardown(void)
{
	for (unsigned i = 0; i < W->nshards; i++) {
		if (!W->e[i])
			continue;
		tp_engine_destroy(W->e[i]);
		W->e[i] = NULL;
		/* Every port the engine opened was closed, each exactly once, on its own shard. */
		ck_assert_uint_eq(W->ops[i].misuse, 0);
		ck_assert_uint_eq(W->ops[i].opens, W->ops[i].closes);
	}
	tp_engine_shared_destroy(W->sh);
	tp_engine_policy_destroy(W->pol);
	for (unsigned i = 0; i < W->n_old; i++)
		tp_engine_policy_destroy(W->old_pol[i]);
	W->sh = NULL;
	W->pol = NULL;
	W->n_old = 0;
}

void tw_advance_ms(uint64_t ms)
{
	W->now.mono_ms += ms;
	W->now.unix_s = TW_UNIX_START + (W->now.mono_ms - TW_MONO_START) / 1000;
}

void tw_tick(uint32_t seconds)
{
	tw_advance_ms((uint64_t)seconds * 1000);
	for (unsigned i = 0; i < W->nshards; i++)
		tp_engine_tick(W->e[i], &W->now);
}

uint64_t tw_drops(enum tp_drop why)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < W->nshards; i++)
		n += tp_stat_read(&tp_engine_stats(W->e[i])->drop[why]);
	return n;
}

uint64_t tw_error_code(enum tp_stat_error code)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < W->nshards; i++)
		n += tp_stat_read(&tp_engine_stats(W->e[i])->error_code[code]);
	return n;
}

uint64_t tw_ctr(enum tp_counter c)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < W->nshards; i++)
		n += tp_stat_read(&tp_engine_stats(W->e[i])->ctr[c]);
	return n;
}

uint64_t tw_wire_errors(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < W->nshards; i++)
		for (unsigned k = 0; k < TP_WIRE_ERR_COUNT; k++)
			n += tp_stat_read(&tp_engine_stats(W->e[i])->wire[k]);
	return n;
}

uint32_t tw_allocations(void)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < W->nshards; i++)
		n += tp_engine_allocations(W->e[i]);
	return n;
}

unsigned tw_opens(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < W->nshards; i++)
		n += W->ops[i].opens;
	return n;
}

void tw_from_peer(const char *peer, const struct tp_addr *relay, const void *data, size_t len,
		  struct tp_verdict *v)
{
	unsigned shard = tp_engine_port_shard(relay->port, W->p.port_min, W->nshards);
	struct tp_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.data = data;
	pkt.len = (uint32_t)len;
	pkt.origin = TP_PKT_FROM_PEER;
	pkt.transport = TP_TRANSPORT_UDP;
	pkt.src = tw_addr(peer);
	pkt.dst = *relay;
	memset(v, 0xa5, sizeof(*v));
	tp_engine_handle(W->e[shard], &pkt, v, &W->now);
}

size_t tw_assemble(const struct tp_verdict *v, const uint8_t *data, uint8_t *out, size_t cap)
{
	size_t n = (size_t)v->head_len + v->len + v->tail_len;

	ck_assert_uint_eq(v->kind, TP_VERDICT_FORWARD);
	ck_assert_uint_le(n, cap);
	memcpy(out, v->head, v->head_len);
	memcpy(out + v->head_len, data + v->off, v->len);
	memcpy(out + v->head_len + v->len, v->tail, v->tail_len);
	return n;
}

/* --- the client --- */

void tc_init(struct tc *c, const char *addr, const char *user, const char *pass)
{
	memset(c, 0, sizeof(*c));
	c->addr = tw_addr(addr);
	c->server = c->addr.family == TP_AF_INET6 ? W->server6 : W->server4;
	c->transport = TP_TRANSPORT_UDP;
	c->user = user;
	c->pass = pass;
	c->reply_cap = sizeof(c->reply);
}

/* The key for the credentials about to be sent (RFC 8489 §9.2.2). */
static void derive_key(struct tc *c)
{
	enum tp_stun_pwalg alg =
		c->alg == TP_STUN_PWALG_SHA256 ? TP_STUN_PWALG_SHA256 : TP_STUN_PWALG_MD5;
	int n = tp_stun_long_term_key(alg, c->user, strlen(c->user), c->realm, c->realm_len,
				      c->pass, strlen(c->pass), c->key);

	ck_assert_int_gt(n, 0);
	c->key_len = (size_t)n;
}

static void add_credentials(struct tc *c, const struct treq *rq, struct tp_stun_builder *b)
{
	struct tp_hmac_key k;
	uint8_t hash[TP_STUN_USERHASH_LEN];

	derive_key(c);
	if (!(rq->omit & TC_OMIT_USERNAME)) {
		if (c->userhash) {
			ck_assert_int_eq(tp_stun_userhash(c->user, strlen(c->user), c->realm,
							  c->realm_len, hash),
					 0);
			tp_stun_add(b, TP_STUN_ATTR_USERHASH, hash, sizeof(hash));
		} else {
			tp_stun_add_string(b, TP_STUN_ATTR_USERNAME, c->user, strlen(c->user));
		}
	}
	if (!(rq->omit & TC_OMIT_REALM))
		tp_stun_add_string(b, TP_STUN_ATTR_REALM, c->realm, c->realm_len);
	if (!(rq->omit & TC_OMIT_NONCE))
		tp_stun_add_string(b, TP_STUN_ATTR_NONCE, c->nonce, c->nonce_len);
	if (c->alg) {
		tp_stun_add_password_algorithms(b, c->pwalgs, c->n_pwalgs);
		tp_stun_add_password_algorithm(b, c->send_alg ? c->send_alg : c->alg);
	}
	if (c->mi256 || c->alg == TP_STUN_PWALG_SHA256) {
		tp_hmac_key_init(&k, TP_DIGEST_SHA256, c->key, c->key_len);
		tp_stun_add_integrity_sha256(b, &k, TP_SHA256_LEN);
	} else {
		tp_hmac_key_init(&k, TP_DIGEST_SHA1, c->key, c->key_len);
		tp_stun_add_integrity(b, &k);
	}
	tp_hmac_key_wipe(&k);
}

void tc_build(struct tc *c, const struct treq *rq)
{
	struct tp_stun_builder b;
	uint8_t tid[TP_STUN_TID_LEN] = { 'e', 'n', 'g', 'i', 'n', 'e', '-', 't' };
	int n;

	tp_put_be32(tid + 8, ++W->tid_seq);
	tp_stun_build_init(&b, c->req, sizeof(c->req), rq->method,
			   rq->cls ? rq->cls : TP_STUN_REQUEST, tid);
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
	if (rq->channel)
		tp_stun_add_channel(&b, rq->channel);
	for (unsigned i = 0; i < 8 && rq->peers[i]; i++) {
		struct tp_addr peer = tw_addr(rq->peers[i]);

		tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	}
	if (rq->has_data)
		tp_stun_add(&b, TP_STUN_ATTR_DATA, rq->data, rq->data_len);
	if (rq->unknown)
		tp_stun_add_u32(&b, rq->unknown, 0x12345678);
	if (c->user && c->nonce_len && !rq->noauth)
		add_credentials(c, rq, &b);
	if (c->fingerprint)
		tp_stun_add_fingerprint(&b);
	n = tp_stun_build_finish(&b);
	ck_assert_int_gt(n, 0);
	c->req_len = (size_t)n;
}

void tc_raw(struct tc *c, const uint8_t *data, size_t len)
{
	struct tp_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.data = data;
	pkt.len = (uint32_t)len;
	pkt.origin = TP_PKT_FROM_CLIENT;
	pkt.transport = c->transport;
	pkt.conn = c->conn;
	pkt.src = c->addr;
	pkt.dst = c->server;
	pkt.reply_buf = c->reply;
	pkt.reply_cap = c->reply_cap;
	memset(&c->v, 0xa5, sizeof(c->v)); /* no field may be left over from an earlier call */
	memset(c->reply, 0xa5, sizeof(c->reply));
	tp_engine_handle(W->e[c->shard], &pkt, &c->v, &W->now);
}

/* Check a reply like a careful client, and keep what it says. */
static int take_reply(struct tc *c)
{
	const struct tp_verdict *v = &c->v;
	struct tp_stun_msg req;
	struct tp_hmac_key k;
	int code = 0;

	if (v->kind == TP_VERDICT_DROP)
		return -1;
	if (v->kind == TP_VERDICT_FORWARD)
		return -2;
	ck_assert_uint_eq(v->kind, TP_VERDICT_REPLY);
	ck_assert(tp_addr_eq(&v->to, &c->addr));
	ck_assert(tp_addr_eq(&v->from, &c->server));
	ck_assert_uint_eq(v->transport, c->transport);
	ck_assert_uint_eq(v->conn, c->conn);
	ck_assert_uint_eq(v->flags & TP_VF_TO_CLIENT, TP_VF_TO_CLIENT);
	ck_assert_int_eq(tp_stun_parse(&req, c->req, c->req_len), 0);
	ck_assert_int_eq(tp_stun_parse(&c->m, c->reply, v->len), 0);
	ck_assert_mem_eq(tp_stun_tid(&c->m), tp_stun_tid(&req), TP_STUN_TID_LEN);
	ck_assert_uint_eq(c->m.method, req.method);
	ck_assert(c->m.cls == TP_STUN_SUCCESS || c->m.cls == TP_STUN_ERROR);
	/* DESIGN §7: no SOFTWARE and no reason phrase by default; the SOFTWARE configured. */
	if (W->p.software) {
		const uint8_t *sw;
		size_t sw_len;

		ck_assert_int_eq(tp_stun_get_string(&c->m, TP_STUN_ATTR_SOFTWARE, &sw, &sw_len), 0);
		ck_assert_uint_eq(sw_len, strlen(W->p.software));
		ck_assert_mem_eq(sw, W->p.software, sw_len);
	} else {
		ck_assert(!tc_has(c, TP_STUN_ATTR_SOFTWARE));
	}
	if (c->m.cls == TP_STUN_ERROR) {
		const uint8_t *reason;
		size_t rlen;

		ck_assert_int_eq(tp_stun_get_error(&c->m, &code, &reason, &rlen), 0);
		ck_assert_uint_eq(rlen, 0);
	}
	/* FINGERPRINT in the reply exactly when the request had one. */
	ck_assert_int_eq(c->m.fp_off != 0, req.fp_off != 0);
	if (c->m.fp_off)
		ck_assert_int_eq(tp_stun_check_fingerprint(&c->m), 0);
	c->integrity = 0;
	if (c->m.mi256_off) {
		tp_hmac_key_init(&k, TP_DIGEST_SHA256, c->key, c->key_len);
		ck_assert_msg(tp_stun_check_integrity_sha256(&c->m, &k) == 0,
			      "MESSAGE-INTEGRITY-SHA256 of the reply does not verify");
		c->integrity = 256;
	} else if (c->m.mi_off) {
		tp_hmac_key_init(&k, TP_DIGEST_SHA1, c->key, c->key_len);
		ck_assert_msg(tp_stun_check_integrity(&c->m, &k) == 0,
			      "MESSAGE-INTEGRITY of the reply does not verify");
		c->integrity = 1;
	}
	if (c->integrity)
		tp_hmac_key_wipe(&k);
	if (c->m.cls == TP_STUN_SUCCESS && c->m.method == TP_STUN_ALLOCATE) {
		struct tp_stun_span it = { 0, 0 };

		c->n_relay = 0;
		while (c->n_relay < 2 && tp_stun_next(&c->m, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &it))
			ck_assert_int_eq(tp_stun_decode_addr(&c->m,
							     TP_STUN_ATTR_XOR_RELAYED_ADDRESS, it,
							     &c->relay[c->n_relay++]),
					 0);
		ck_assert_int_eq(tp_stun_get_u32(&c->m, TP_STUN_ATTR_LIFETIME, &c->lifetime), 0);
		ck_assert_int_eq(
			tp_stun_get_addr(&c->m, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &c->mapped), 0);
		c->has_token = tp_stun_get_reservation_token(&c->m, &c->token) == 0;
	}
	return c->m.cls == TP_STUN_SUCCESS ? 0 : code;
}

int tc_send(struct tc *c, const struct treq *rq)
{
	tc_build(c, rq);
	return tc_resend(c);
}

int tc_resend(struct tc *c)
{
	tc_raw(c, c->req, c->req_len);
	return take_reply(c);
}

void tc_learn(struct tc *c)
{
	const uint8_t *s;
	size_t n;

	ck_assert_int_eq(tp_stun_get_string(&c->m, TP_STUN_ATTR_REALM, &s, &n), 0);
	memcpy(c->realm, s, n);
	c->realm[n] = '\0';
	c->realm_len = n;
	ck_assert_int_eq(tp_stun_get_string(&c->m, TP_STUN_ATTR_NONCE, &s, &n), 0);
	memcpy(c->nonce, s, n);
	c->nonce[n] = '\0';
	c->nonce_len = n;
	c->saw_pwalgs = tp_stun_get_password_algorithms(&c->m, c->pwalgs, 8, &c->n_pwalgs) == 0;
	if (!c->saw_pwalgs)
		c->n_pwalgs = 0;
}

int tc_do(struct tc *c, const struct treq *rq)
{
	int code = tc_send(c, rq);

	for (int tries = 0; tries < 2 && (code == 401 || code == 438) && c->user; tries++) {
		/* A 401 or 438 is never integrity-protected (RFC 8489 §9.2.4). */
		ck_assert_int_eq(c->integrity, 0);
		tc_learn(c);
		code = tc_send(c, rq);
	}
	return code;
}

void tc_challenge(struct tc *c)
{
	ck_assert_int_eq(tc_send(c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						    .transport = TP_STUN_TRANSPORT_UDP,
						    .noauth = true }),
			 401);
	tc_learn(c);
}

void tc_allocate(struct tc *c)
{
	int code = tc_do(c, &(struct treq){ .method = TP_STUN_ALLOCATE,
					    .transport = TP_STUN_TRANSPORT_UDP });

	ck_assert_msg(code == 0, "Allocate failed: %d (drop %s)", code,
		      code == -1 ? tp_drop_name(c->v.reason) : "-");
}

void tc_permit(struct tc *c, const char *peer)
{
	int code =
		tc_do(c, &(struct treq){ .method = TP_STUN_CREATE_PERMISSION, .peers = { peer } });

	ck_assert_msg(code == 0, "CreatePermission %s failed: %d", peer, code);
}

void tc_bind(struct tc *c, uint16_t channel, const char *peer)
{
	int code = tc_do(c, &(struct treq){ .method = TP_STUN_CHANNEL_BIND,
					    .channel = channel,
					    .peers = { peer } });

	ck_assert_msg(code == 0, "ChannelBind 0x%x %s failed: %d", channel, peer, code);
}

void tc_chandata(struct tc *c, uint16_t channel, const void *data, size_t len)
{
	bool stream = c->transport != TP_TRANSPORT_UDP;
	size_t pad = tp_chandata_pad(len, stream);

	ck_assert_uint_le(TP_CHANDATA_HDR_LEN + len + pad, sizeof(c->req));
	tp_chandata_put_hdr(c->req, channel, (uint16_t)len);
	memcpy(c->req + TP_CHANDATA_HDR_LEN, data, len);
	memset(c->req + TP_CHANDATA_HDR_LEN + len, 0, pad);
	c->req_len = TP_CHANDATA_HDR_LEN + len + pad;
	tc_raw(c, c->req, c->req_len);
}

void tc_sendind(struct tc *c, const char *peer, const void *data, size_t len, bool df)
{
	tc_build(c, &(struct treq){ .method = TP_STUN_SEND,
				    .cls = TP_STUN_INDICATION,
				    .peers = { peer },
				    .has_data = true,
				    .data = data,
				    .data_len = len,
				    .dont_fragment = df,
				    .noauth = true });
	tc_raw(c, c->req, c->req_len);
}

int tc_code(const struct tc *c)
{
	int code = 0;

	if (c->v.kind != TP_VERDICT_REPLY || c->m.cls != TP_STUN_ERROR)
		return 0;
	tp_stun_get_error(&c->m, &code, NULL, NULL);
	return code;
}

bool tc_has(const struct tc *c, uint16_t attr)
{
	return tp_stun_has(&c->m, attr);
}
