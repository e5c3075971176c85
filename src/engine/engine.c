/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's entry points: shard life cycle, per-packet dispatch, the relay paths (ChannelData
 * and Send from clients, data from peers), Binding, responses and the transaction cache.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>

#include "engine_int.h"

/* --- statistics names --- */

static const char *const drop_names[TP_DROP_COUNT] = {
#define TP_STATS_X(name, desc) #name,
	TP_DROP_REASONS(TP_STATS_X)
#undef TP_STATS_X
};
static const char *const drop_descs[TP_DROP_COUNT] = {
#define TP_STATS_X(name, desc) desc,
	TP_DROP_REASONS(TP_STATS_X)
#undef TP_STATS_X
};
static const char *const counter_names[TP_CTR_COUNT] = {
#define TP_STATS_X(name, desc) #name,
	TP_COUNTERS(TP_STATS_X)
#undef TP_STATS_X
};
static const char *const method_names[TP_SM_COUNT] = {
#define TP_STATS_X(name) #name,
	TP_STAT_METHODS(TP_STATS_X)
#undef TP_STATS_X
};
static const int error_codes[TP_SE_COUNT] = {
#define TP_STATS_X(code) code,
	TP_STUN_ERROR_CODES(TP_STATS_X)
#undef TP_STATS_X
};

const char *tp_drop_name(unsigned reason)
{
	return reason < TP_DROP_COUNT ? drop_names[reason] : "UNKNOWN";
}

const char *tp_drop_desc(unsigned reason)
{
	return reason < TP_DROP_COUNT ? drop_descs[reason] : "unknown";
}

const char *tp_counter_name(unsigned ctr)
{
	return ctr < TP_CTR_COUNT ? counter_names[ctr] : "UNKNOWN";
}

const char *tp_stat_method_name(unsigned m)
{
	return m < TP_SM_COUNT ? method_names[m] : "UNKNOWN";
}

int tp_stat_error_code(unsigned idx)
{
	return idx < TP_SE_COUNT ? error_codes[idx] : 0;
}

void tp_stats_add(struct tp_stats *sum, const struct tp_stats *add)
{
	/* struct tp_stats is nothing but counters: walk it as an array of them. */
	_Atomic uint64_t *dst = (_Atomic uint64_t *)(void *)sum;
	const _Atomic uint64_t *src = (const _Atomic uint64_t *)(const void *)add;

	_Static_assert(sizeof(struct tp_stats) % sizeof(uint64_t) == 0, "counters only");
	for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		tp_stat_add(&dst[i], tp_stat_read(&src[i]));
}

unsigned tp_stat_method_of(uint16_t method)
{
	switch (method) {
	case TP_STUN_BINDING:
		return TP_SM_BINDING;
	case TP_STUN_ALLOCATE:
		return TP_SM_ALLOCATE;
	case TP_STUN_REFRESH:
		return TP_SM_REFRESH;
	case TP_STUN_SEND:
		return TP_SM_SEND;
	case TP_STUN_CREATE_PERMISSION:
		return TP_SM_CREATE_PERMISSION;
	case TP_STUN_CHANNEL_BIND:
		return TP_SM_CHANNEL_BIND;
	}
	return TP_SM_OTHER;
}

static void count_error_code(struct tp_engine *e, int code)
{
	for (unsigned i = 0; i < TP_SE_COUNT; i++) {
		if (error_codes[i] == code) {
			tp_stat_add(&e->stats.error_code[i], 1);
			return;
		}
	}
}

/* --- life cycle --- */

static void set_clock(struct tp_engine *e, const struct tp_clock *now)
{
	e->now_ms = now->mono_ms;
	e->now_s = (uint32_t)(now->mono_ms / 1000);
	e->unix_s = now->unix_s;
}

struct tp_engine *tp_engine_create(struct tp_engine_shared *sh, const struct tp_engine_policy *pol,
				   unsigned shard, unsigned nshards, uint32_t max_allocations,
				   const struct tp_engine_ops *ops)
{
	struct tp_engine *e;
	uint32_t perms_max, chans_max;

	if (!sh || !pol || nshards == 0 || shard >= nshards || max_allocations == 0 ||
	    max_allocations > (1u << 28))
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->sh = sh;
	e->pol = pol;
	if (ops)
		e->ops = *ops;
	e->shard = shard;
	e->nshards = nshards;
	if (tp_random_bytes(&e->seed, sizeof(e->seed)) < 0 ||
	    tp_random_bytes(&e->tid_state, sizeof(e->tid_state)) < 0)
		goto fail;
	e->last_perm = TP_NIL;
	e->last_chan = TP_NIL;

	/* Permissions and channels: room for a few per allocation on average, memory on use. */
	perms_max = max_allocations > (1u << 26) ? (1u << 28) : max_allocations * 4 + 1024;
	chans_max = perms_max;
	if (tp_pool_init(&e->allocs, sizeof(struct tp_alloc), max_allocations) < 0 ||
	    tp_pool_init(&e->perms, sizeof(struct tp_perm), perms_max) < 0 ||
	    tp_pool_init(&e->chans, sizeof(struct tp_chan), chans_max) < 0)
		goto fail;
	/* Twice the buckets of allocations: at most half full, so a lookup seldom walks past
	 * another allocation (a dependent cache miss) before it finds its own. */
	if (tp_itab_init(&e->alloc_by_tuple, &e->allocs, offsetof(struct tp_alloc, hl),
			 max_allocations * 2) < 0 ||
	    tp_itab_init(&e->perm_by_peer, &e->perms, offsetof(struct tp_perm, hl),
			 max_allocations * 2) < 0 ||
	    tp_itab_init(&e->chan_by_num, &e->chans, offsetof(struct tp_chan, hl_num),
			 max_allocations * 2) < 0 ||
	    tp_itab_init(&e->chan_by_peer, &e->chans, offsetof(struct tp_chan, hl_peer),
			 max_allocations * 2) < 0)
		goto fail;
	tp_wheel_init(&e->alloc_timers, &e->allocs, offsetof(struct tp_alloc, tl), 0);
	tp_wheel_init(&e->perm_timers, &e->perms, offsetof(struct tp_perm, tl), 0);
	tp_wheel_init(&e->chan_timers, &e->chans, offsetof(struct tp_chan, tl), 0);
	e->txc = calloc(TP_TXC_SLOTS, sizeof(*e->txc));
	if (!e->txc || tp_ports_init(e) < 0)
		goto fail;
	return e;
fail:
	tp_engine_destroy(e);
	return NULL;
}

void tp_engine_destroy(struct tp_engine *e)
{
	if (!e)
		return;
	if (e->port_alloc) {
		/* Close every relay port quietly: shutting down is not an expiry. */
		e->ops.event = NULL;
		for (uint32_t p = e->port_min; p <= e->port_max; p++) {
			uint32_t a = e->port_alloc[p - e->port_min];

			if (a != TP_NIL)
				tp_alloc_delete(e, a, TP_EVENT_ALLOC_DELETED);
		}
	}
	tp_ports_fini(e);
	free(e->txc);
	tp_itab_fini(&e->alloc_by_tuple);
	tp_itab_fini(&e->perm_by_peer);
	tp_itab_fini(&e->chan_by_num);
	tp_itab_fini(&e->chan_by_peer);
	tp_pool_fini(&e->allocs);
	tp_pool_fini(&e->perms);
	tp_pool_fini(&e->chans);
	free(e);
}

void tp_engine_set_policy(struct tp_engine *e, const struct tp_engine_policy *pol)
{
	e->pol = pol;
	e->last_perm = TP_NIL;
	e->last_chan = TP_NIL;
}

uint32_t tp_engine_allocations(const struct tp_engine *e)
{
	return e->allocs.used;
}

const struct tp_stats *tp_engine_stats(const struct tp_engine *e)
{
	return &e->stats;
}

/* --- lookups --- */

/* The bytes of @a's IP that tp_addr_ip_eq() compares, at @p; returns how many. */
static size_t put_ip(uint8_t *p, const struct tp_addr *a)
{
	if (a->family == TP_AF_INET6) {
		memcpy(p, a->ip, 16);
		return 16;
	}
	if (a->family == TP_AF_INET) {
		memcpy(p, a->ip, 4);
		return 4;
	}
	return 0;
}

/* Only what the lookup compares goes in: 16 bytes for IPv4 (two words to mix), 40 for IPv6. */
static uint32_t tuple_hash(const struct tp_engine *e, uint8_t transport,
			   const struct tp_addr *client, const struct tp_addr *server)
{
	uint8_t key[8 + 2 * 16];
	size_t n = 8;

	key[0] = transport;
	key[1] = client->family;
	key[2] = server->family;
	key[3] = 0;
	tp_put_be16(key + 4, client->port);
	tp_put_be16(key + 6, server->port);
	n += put_ip(key + n, client);
	n += put_ip(key + n, server);
	return tp_hash_bytes(e->seed, key, n);
}

uint32_t tp_alloc_find(struct tp_engine *e, uint8_t transport, const struct tp_addr *client,
		       const struct tp_addr *server)
{
	return tp_alloc_find_hashed(e, tuple_hash(e, transport, client, server), transport, client,
				    server);
}

uint32_t tp_alloc_find_hashed(struct tp_engine *e, uint32_t h, uint8_t transport,
			      const struct tp_addr *client, const struct tp_addr *server)
{
	for (uint32_t i = tp_itab_first(&e->alloc_by_tuple, h); i != TP_NIL;
	     i = tp_itab_next(&e->alloc_by_tuple, i)) {
		struct tp_alloc *a = alloc_at(e, i);

		if (a->transport == transport && tp_addr_eq(&a->client, client) &&
		    tp_addr_eq(&a->server, server)) {
			/* Due but not yet reaped by the timer wheel: it is gone already. */
			if (a->tl.expires <= e->now_s) {
				tp_alloc_delete(e, i, TP_EVENT_ALLOC_EXPIRED);
				return TP_NIL;
			}
			return i;
		}
	}
	return TP_NIL;
}

/* The allocation of @pkt's 5-tuple; @hash is its tuple hash when already computed, or NULL. */
static uint32_t pkt_alloc_find(struct tp_engine *e, const struct tp_pkt *pkt, const uint32_t *hash)
{
	if (hash)
		return tp_alloc_find_hashed(e, *hash, pkt->transport, &pkt->src, &pkt->dst);
	return tp_alloc_find(e, pkt->transport, &pkt->src, &pkt->dst);
}

/* Hash for the allocation table, exposed to alloc.c through this wrapper. */
void tp_alloc_hash_insert(struct tp_engine *e, uint32_t i);
void tp_alloc_hash_insert(struct tp_engine *e, uint32_t i)
{
	struct tp_alloc *a = alloc_at(e, i);

	tp_itab_insert(&e->alloc_by_tuple, i, tuple_hash(e, a->transport, &a->client, &a->server));
}

/* --- responses --- */

void tp_reply_begin(struct tp_req *r, uint16_t cls)
{
	tp_stun_build_init(&r->b, r->pkt->reply_buf, r->pkt->reply_cap, r->m.method, cls,
			   tp_stun_tid(&r->m));
}

static uint32_t txc_slot(const struct tp_engine *e, const struct tp_pkt *pkt, const uint8_t *tid)
{
	uint8_t key[1 + 1 + 2 + 16 + TP_STUN_TID_LEN];

	key[0] = pkt->transport;
	key[1] = pkt->src.family;
	tp_put_be16(key + 2, pkt->src.port);
	memcpy(key + 4, pkt->src.ip, 16);
	memcpy(key + 20, tid, TP_STUN_TID_LEN);
	return tp_hash_bytes(e->seed, key, sizeof(key)) % TP_TXC_SLOTS;
}

static void txc_store(struct tp_req *r, size_t len)
{
	struct tp_txc_entry *t;

	if (len > TP_TXC_MAX)
		return;
	t = &r->e->txc[txc_slot(r->e, r->pkt, tp_stun_tid(&r->m))];
	memcpy(t->tid, tp_stun_tid(&r->m), TP_STUN_TID_LEN);
	t->req_crc = tp_crc32(0, r->pkt->data, r->pkt->len);
	t->stamp = r->e->now_s;
	t->conn = r->pkt->conn;
	t->transport = r->pkt->transport;
	t->client = r->pkt->src;
	t->len = (uint16_t)len;
	memcpy(t->resp, r->pkt->reply_buf, len);
}

static void set_reply(struct tp_req *r, uint32_t len)
{
	struct tp_verdict *v = r->v;

	v->kind = TP_VERDICT_REPLY;
	v->flags = TP_VF_TO_CLIENT;
	v->transport = r->pkt->transport;
	v->conn = r->pkt->conn;
	v->from = r->pkt->dst;
	v->to = r->pkt->src;
	v->off = 0;
	v->len = len;
	v->head_len = 0;
	v->tail_len = 0;
}

/* A retransmission of a request answered in the last 40 s gets the same bytes again. */
static bool txc_replay(struct tp_req *r)
{
	struct tp_engine *e = r->e;
	struct tp_txc_entry *t = &e->txc[txc_slot(e, r->pkt, tp_stun_tid(&r->m))];

	if (t->len == 0 || memcmp(t->tid, tp_stun_tid(&r->m), TP_STUN_TID_LEN) != 0 ||
	    t->transport != r->pkt->transport || t->conn != r->pkt->conn ||
	    !tp_addr_eq(&t->client, &r->pkt->src) || e->now_s - t->stamp > TP_TXC_WINDOW_S ||
	    t->len > r->pkt->reply_cap || t->req_crc != tp_crc32(0, r->pkt->data, r->pkt->len))
		return false;
	memcpy(r->pkt->reply_buf, t->resp, t->len);
	set_reply(r, t->len);
	tp_stat_add(&e->stats.ctr[TP_CTR_RETRANSMIT], 1);
	return true;
}

void tp_reply_finish(struct tp_req *r)
{
	struct tp_engine *e = r->e;
	const struct tp_engine_policy *pol = e->pol;
	unsigned sm = tp_stat_method_of(r->m.method);
	int n;

	if (pol->software)
		tp_stun_add_string(&r->b, TP_STUN_ATTR_SOFTWARE, pol->software, pol->software_len);
	if (r->authed && r->key_len && r->mi_key) {
		/* the key that verified the request (verify_integrity) */
		if (r->sha256)
			tp_stun_add_integrity_sha256(&r->b, r->mi_key, TP_SHA256_LEN);
		else
			tp_stun_add_integrity(&r->b, r->mi_key);
	}
	if (r->m.fp_off)
		tp_stun_add_fingerprint(&r->b);
	n = tp_stun_build_finish(&r->b);
	if (n < 0) {
		drop(e, r->v, TP_DROP_REPLY_FAILED);
		return;
	}
	set_reply(r, (uint32_t)n);
	if (tp_stun_type_class(tp_get_be16(r->pkt->reply_buf)) == TP_STUN_ERROR)
		tp_stat_add(&e->stats.errors[sm], 1);
	else
		tp_stat_add(&e->stats.success[sm], 1);
	if (r->cache && r->authed)
		txc_store(r, (size_t)n);
}

void tp_reply_error(struct tp_req *r, int code)
{
	tp_reply_begin(r, TP_STUN_ERROR);
	/* DESIGN §7: no reason phrases by default; the code says it all. */
	tp_stun_add_error(&r->b, code, NULL);
	if (code == 420) {
		unsigned n =
			r->m.n_unknown < TP_STUN_MAX_UNKNOWN ? r->m.n_unknown : TP_STUN_MAX_UNKNOWN;

		tp_stun_add_unknown(&r->b, r->m.unknown, n);
	}
	count_error_code(r->e, code);
	tp_reply_finish(r);
}

/* --- methods that need no allocation --- */

static void binding_request(struct tp_req *r)
{
	if (r->m.n_unknown) {
		tp_reply_error(r, 420);
		return;
	}
	tp_reply_begin(r, TP_STUN_SUCCESS);
	tp_stun_add_addr(&r->b, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &r->pkt->src);
	tp_reply_finish(r);
}

static void request(struct tp_req *r)
{
	struct tp_engine *e = r->e;

	tp_stat_add(&e->stats.requests[tp_stat_method_of(r->m.method)], 1);
	if (!r->pkt->reply_buf || r->pkt->reply_cap < TP_STUN_HDR_LEN) {
		drop(e, r->v, TP_DROP_REPLY_FAILED);
		return;
	}
	switch (r->m.method) {
	case TP_STUN_BINDING:
		binding_request(r);
		return;
	case TP_STUN_ALLOCATE:
	case TP_STUN_REFRESH:
	case TP_STUN_CREATE_PERMISSION:
	case TP_STUN_CHANNEL_BIND:
		break;
	default:
		/* RFC 8489 §6.3.1: a request of an unknown method gets 400. */
		tp_reply_error(r, 400);
		return;
	}
	if (txc_replay(r))
		return;
	r->alloc = pkt_alloc_find(e, r->pkt, r->tuple_hash);
	if (tp_auth_check(r) != 0)
		return;
	r->cache = true;
	/* RFC 8489 §6.3.1.1: unknown comprehension-required attributes, after authentication. */
	if (r->m.n_unknown) {
		tp_reply_error(r, 420);
		return;
	}
	switch (r->m.method) {
	case TP_STUN_ALLOCATE:
		tp_alloc_request(r);
		break;
	case TP_STUN_REFRESH:
		tp_refresh_request(r);
		break;
	case TP_STUN_CREATE_PERMISSION:
		tp_create_permission_request(r);
		break;
	default:
		tp_channel_bind_request(r);
		break;
	}
}

/* --- relaying --- */

/* Token bucket over both directions; DESIGN §7 per-allocation bandwidth cap. */
static bool bandwidth_ok(struct tp_engine *e, struct tp_alloc *a, size_t bytes)
{
	uint64_t rate = e->pol->p.bandwidth_bps / 8; /* bytes per second */
	uint64_t burst, elapsed;

	if (rate == 0)
		return true;
	burst = rate < 65536 ? 65536 : rate;
	elapsed = e->now_ms - a->bw_last_ms;
	if (elapsed) {
		a->bw_tokens += elapsed * rate / 1000;
		if (a->bw_tokens > burst)
			a->bw_tokens = burst;
		a->bw_last_ms = e->now_ms;
	}
	if (a->bw_tokens < bytes) {
		tp_stat_add(&e->stats.drop[TP_DROP_BANDWIDTH], 1);
		return false;
	}
	a->bw_tokens -= bytes;
	return true;
}

static bool alloc_has_family(const struct tp_alloc *a, uint8_t family)
{
	return (family == TP_AF_INET && (a->families & TP_RELAY_V4)) ||
	       (family == TP_AF_INET6 && (a->families & TP_RELAY_V6));
}

/* The relayed transport address of @a in @family. */
static void relay_addr(const struct tp_engine *e, const struct tp_alloc *a, uint8_t family,
		       struct tp_addr *out)
{
	*out = family == TP_AF_INET ? e->pol->p.relay4 : e->pol->p.relay6;
	out->port = a->port;
}

static void forward_to_peer(struct tp_engine *e, struct tp_verdict *v, struct tp_alloc *a,
			    const struct tp_addr *peer, uint32_t off, uint32_t len, bool df)
{
	v->kind = TP_VERDICT_FORWARD;
	v->flags = TP_VF_TO_PEER | (df || (a->flags & TP_AF_DF) ? TP_VF_DF : 0);
	v->transport = TP_TRANSPORT_UDP;
	v->conn = 0;
	relay_addr(e, a, peer->family, &v->from);
	v->to = *peer;
	v->off = off;
	v->len = len;
	v->head_len = 0;
	v->tail_len = 0;
	tp_stat_add(&e->stats.ctr[TP_CTR_RELAY_TO_PEER_PKTS], 1);
	tp_stat_add(&e->stats.ctr[TP_CTR_RELAY_TO_PEER_BYTES], len);
}

static void chandata_from_client(struct tp_engine *e, const struct tp_pkt *pkt,
				 struct tp_verdict *v, const uint32_t *hash)
{
	struct tp_chandata cd;
	struct tp_alloc *a;
	struct tp_chan *c;
	uint32_t ai, ci, pi;

	if (tp_chandata_parse(&cd, pkt->data, pkt->len) < 0) {
		drop(e, v, TP_DROP_CHAN_MALFORMED);
		return;
	}
	ai = pkt_alloc_find(e, pkt, hash);
	if (ai == TP_NIL) {
		drop(e, v, TP_DROP_NO_ALLOCATION);
		return;
	}
	a = alloc_at(e, ai);
	ci = tp_chan_by_number(e, ai, cd.channel);
	if (ci == TP_NIL) {
		drop(e, v, TP_DROP_CHAN_UNBOUND);
		return;
	}
	c = chan_at(e, ci);
	pi = tp_perm_find(e, ai, &c->peer);
	if (pi == TP_NIL || !tp_perm_usable(e, pi)) {
		drop(e, v, TP_DROP_NO_PERMISSION);
		return;
	}
	if (!bandwidth_ok(e, a, cd.len)) {
		v->kind = TP_VERDICT_DROP;
		v->reason = TP_DROP_BANDWIDTH;
		return;
	}
	forward_to_peer(e, v, a, &c->peer, TP_CHANDATA_HDR_LEN, cd.len, false);
}

static void send_indication(struct tp_req *r)
{
	struct tp_engine *e = r->e;
	const uint8_t *data;
	struct tp_addr peer;
	struct tp_alloc *a;
	size_t len;
	uint32_t pi;

	tp_stat_add(&e->stats.requests[TP_SM_SEND], 1);
	r->alloc = pkt_alloc_find(e, r->pkt, r->tuple_hash);
	if (r->alloc == TP_NIL) {
		drop(e, r->v, TP_DROP_NO_ALLOCATION);
		return;
	}
	a = alloc_at(e, r->alloc);
	/* RFC 8489 §6.3.2: an indication with an unknown comprehension-required attribute is
	 * discarded, never acted on. */
	if (r->m.n_unknown || tp_stun_get_addr(&r->m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peer) < 0 ||
	    tp_stun_get_data(&r->m, &data, &len) < 0) {
		drop(e, r->v, TP_DROP_SEND_MALFORMED);
		return;
	}
	if (!alloc_has_family(a, peer.family)) {
		drop(e, r->v, TP_DROP_FAMILY_MISMATCH);
		return;
	}
	pi = tp_perm_find(e, r->alloc, &peer);
	if (pi == TP_NIL || !tp_perm_usable(e, pi)) {
		drop(e, r->v, TP_DROP_NO_PERMISSION);
		return;
	}
	if (!bandwidth_ok(e, a, len)) {
		r->v->kind = TP_VERDICT_DROP;
		r->v->reason = TP_DROP_BANDWIDTH;
		return;
	}
	forward_to_peer(e, r->v, a, &peer, (uint32_t)(data - r->pkt->data), (uint32_t)len,
			tp_stun_has(&r->m, TP_STUN_ATTR_DONT_FRAGMENT));
}

static void stun_from_client(struct tp_engine *e, const struct tp_pkt *pkt, struct tp_verdict *v,
			     const uint32_t *hash)
{
	struct tp_req r;
	int rc;

	r.e = e;
	r.pkt = pkt;
	r.v = v;
	r.tuple_hash = hash;
	r.alloc = TP_NIL;
	r.authed = false;
	r.sha256 = false;
	r.cache = false;
	r.key_len = 0;
	r.user = NULL;
	r.user_len = 0;
	r.mi_key = NULL;
	rc = tp_stun_parse(&r.m, pkt->data, pkt->len);
	if (rc == 0 && r.m.fp_off && tp_stun_check_fingerprint(&r.m) < 0)
		rc = -TP_WIRE_EFINGERPRINT;
	if (rc < 0) {
		tp_stat_add(&e->stats.wire[-rc < TP_WIRE_ERR_COUNT ? -rc : 0], 1);
		drop(e, v, TP_DROP_STUN_MALFORMED);
		return;
	}
	if (r.m.cls == TP_STUN_REQUEST)
		request(&r);
	else if (r.m.cls == TP_STUN_INDICATION && r.m.method == TP_STUN_SEND)
		send_indication(&r);
	else
		drop(e, v, TP_DROP_STUN_NOT_REQUEST);
	if (r.mi_key == &r.mi_local)
		tp_hmac_key_wipe(&r.mi_local);
}

static void client_packet(struct tp_engine *e, const struct tp_pkt *pkt, struct tp_verdict *v,
			  const uint32_t *hash)
{
	tp_stat_add(&e->stats.ctr[TP_CTR_RX_CLIENT], 1);
	switch (tp_wire_classify(pkt->data, pkt->len)) {
	case TP_WIRE_KIND_STUN:
		stun_from_client(e, pkt, v, hash);
		break;
	case TP_WIRE_KIND_CHANNEL:
		chandata_from_client(e, pkt, v, hash);
		break;
	default:
		drop(e, v, TP_DROP_NOT_TURN);
		break;
	}
}

/* A transaction ID for a Data indication: unique enough, not secret (RFC 8656 §11.4). */
static void data_tid(struct tp_engine *e, uint8_t tid[TP_STUN_TID_LEN])
{
	/* splitmix64 over a per-shard counter: cheap, and never repeats within a shard. */
	uint64_t x = e->tid_state += 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	tp_put_be64(tid, x);
	tp_put_be32(tid + 8, (uint32_t)(e->tid_state >> 32) ^ e->shard);
}

static void peer_packet(struct tp_engine *e, const struct tp_pkt *pkt, struct tp_verdict *v)
{
	uint16_t port = pkt->dst.port;
	struct tp_alloc *a;
	uint32_t ai, pi, ci;
	bool stream;

	tp_stat_add(&e->stats.ctr[TP_CTR_RX_PEER], 1);
	if (port < e->port_min || port > e->port_max ||
	    (ai = e->port_alloc[port - e->port_min]) == TP_NIL) {
		drop(e, v, TP_DROP_RELAY_NO_ALLOCATION);
		return;
	}
	a = alloc_at(e, ai);
	if (a->tl.expires <= e->now_s) {
		tp_alloc_delete(e, ai, TP_EVENT_ALLOC_EXPIRED);
		drop(e, v, TP_DROP_RELAY_NO_ALLOCATION);
		return;
	}
	if (!alloc_has_family(a, pkt->src.family)) {
		drop(e, v, TP_DROP_FAMILY_MISMATCH);
		return;
	}
	/* Permissions are per IP (RFC 8656 §9); the cache catches a flow's next packet. */
	pi = e->last_perm;
	if (pi == TP_NIL || perm_at(e, pi)->alloc != ai ||
	    !tp_addr_ip_eq(&perm_at(e, pi)->peer, &pkt->src)) {
		pi = tp_perm_find(e, ai, &pkt->src);
		e->last_perm = pi;
	}
	if (pi == TP_NIL || !tp_perm_usable(e, pi)) {
		e->last_perm = TP_NIL;
		drop(e, v, pi == TP_NIL ? TP_DROP_NO_PERMISSION : TP_DROP_PEER_DENIED);
		return;
	}
	if (!bandwidth_ok(e, a, pkt->len)) {
		v->kind = TP_VERDICT_DROP;
		v->reason = TP_DROP_BANDWIDTH;
		return;
	}
	ci = e->last_chan;
	if (ci == TP_NIL || chan_at(e, ci)->alloc != ai ||
	    !tp_addr_eq(&chan_at(e, ci)->peer, &pkt->src)) {
		ci = tp_chan_by_peer(e, ai, &pkt->src);
		e->last_chan = ci;
	}
	stream = a->transport != TP_TRANSPORT_UDP;
	v->kind = TP_VERDICT_FORWARD;
	v->flags = TP_VF_TO_CLIENT;
	v->transport = a->transport;
	v->conn = a->conn;
	v->from = a->server;
	v->to = a->client;
	v->off = 0;
	v->len = pkt->len;
	if (ci != TP_NIL) {
		/* RFC 8656 §12.6: ChannelData; padded to 4 bytes over a stream. */
		if (pkt->len > 0xffff) {
			drop(e, v, TP_DROP_TOO_BIG);
			return;
		}
		tp_chandata_put_hdr(v->head, chan_at(e, ci)->number, (uint16_t)pkt->len);
		v->head_len = TP_CHANDATA_HDR_LEN;
		v->tail_len = (uint8_t)tp_chandata_pad(pkt->len, stream);
	} else {
		/* RFC 8656 §11.4: a Data indication around the payload. */
		uint8_t tid[TP_STUN_TID_LEN];
		int head;

		data_tid(e, tid);
		head = tp_stun_data_head(v->head, sizeof(v->head), tid, &pkt->src, pkt->len);
		if (head < 0) {
			drop(e, v, TP_DROP_TOO_BIG);
			return;
		}
		v->head_len = (uint8_t)head;
		v->tail_len = (uint8_t)((4 - (pkt->len & 3)) & 3);
	}
	memset(v->tail, 0, sizeof(v->tail));
	tp_stat_add(&e->stats.ctr[TP_CTR_RELAY_TO_CLIENT_PKTS], 1);
	tp_stat_add(&e->stats.ctr[TP_CTR_RELAY_TO_CLIENT_BYTES], pkt->len);
}

/* One packet, the clock already set; @hash: its 5-tuple's hash if a client's and computed. */
static void handle(struct tp_engine *e, const struct tp_pkt *pkt, struct tp_verdict *v,
		   const uint32_t *hash)
{
	v->kind = TP_VERDICT_DROP;
	v->flags = 0;
	if (pkt->origin == TP_PKT_FROM_PEER)
		peer_packet(e, pkt, v);
	else if (pkt->origin == TP_PKT_FROM_CLIENT && pkt->transport <= TP_TRANSPORT_TLS)
		client_packet(e, pkt, v, hash);
	else
		drop(e, v, TP_DROP_UNKNOWN_ORIGIN);
}

void tp_engine_handle(struct tp_engine *e, const struct tp_pkt *pkt, struct tp_verdict *v,
		      const struct tp_clock *now)
{
	set_clock(e, now);
	handle(e, pkt, v, NULL);
}

/* --- bursts --- */

/*
 * With many allocations, a relayed packet costs a chain of dependent cache (and TLB) misses:
 * hash bucket or port slot -> allocation -> its channel and permission. Taken one packet at a
 * time they add up; so, as DPDK's l3fwd and rte_hash's bulk lookup do, a burst is walked in
 * stages, each one prefetching what the next will read for every packet, and only then decided.
 * Only hashes are carried from one stage to the next: the indexes read ahead are hints for the
 * prefetches, since deciding one packet may create or delete what the next one finds.
 */
#define LOOKAHEAD_MAX 32 /* packets staged at once */

enum lookahead {
	LA_NONE = 0,
	LA_CLIENT, /* looks up its 5-tuple: key[k] is the tuple hash */
	LA_PEER,   /* looks up its relay port: key[k] is port - port_min */
};

struct burst_stage {
	uint8_t kind[LOOKAHEAD_MAX];
	uint32_t key[LOOKAHEAD_MAX];   /* as enum lookahead says */
	uint32_t alloc[LOOKAHEAD_MAX]; /* candidate allocation, TP_NIL if none */
};

/* Both lines the relay paths read (engine_int.h). */
static inline void prefetch_alloc(const struct tp_engine *e, uint32_t ai)
{
	const uint8_t *a = (const uint8_t *)alloc_at(e, ai);

	__builtin_prefetch(a);
	__builtin_prefetch(a + TP_POOL_LINE);
}

/* Stage 1: what @pkt will look up; prefetch its hash bucket or port slot. */
static uint8_t stage_key(const struct tp_engine *e, const struct tp_pkt *pkt, uint32_t *key)
{
	if (pkt->origin == TP_PKT_FROM_PEER) {
		uint16_t port = pkt->dst.port;

		if (port < e->port_min || port > e->port_max)
			return LA_NONE;
		*key = (uint32_t)(port - e->port_min);
		__builtin_prefetch(&e->port_alloc[*key]);
		return LA_PEER;
	}
	if (pkt->origin != TP_PKT_FROM_CLIENT || pkt->len < 4)
		return LA_NONE;
	/* ChannelData and every STUN message but a Binding request look up their allocation. */
	if (tp_wire_classify(pkt->data, pkt->len) == TP_WIRE_KIND_OTHER ||
	    (pkt->data[0] == 0 && pkt->data[1] == 1))
		return LA_NONE;
	*key = tuple_hash(e, pkt->transport, &pkt->src, &pkt->dst);
	__builtin_prefetch(&e->alloc_by_tuple.bucket[*key & e->alloc_by_tuple.mask]);
	return LA_CLIENT;
}

/* Stage 2: the allocation its bucket or port slot names; prefetch it. */
static uint32_t stage_alloc(const struct tp_engine *e, uint8_t kind, uint32_t key)
{
	uint32_t ai;

	if (kind == LA_PEER)
		ai = e->port_alloc[key];
	else if (kind == LA_CLIENT)
		ai = e->alloc_by_tuple.bucket[key & e->alloc_by_tuple.mask];
	else
		return TP_NIL;
	if (ai != TP_NIL)
		prefetch_alloc(e, ai);
	return ai;
}

/* Stage 3: the head of its channel and permission lists, which the relay paths walk. */
static void stage_children(const struct tp_engine *e, uint8_t kind, uint32_t key, uint32_t ai)
{
	const struct tp_alloc *a;

	if (ai == TP_NIL)
		return;
	a = alloc_at(e, ai);
	if (kind == LA_CLIENT && a->hl.hash != key) {
		/* Another 5-tuple heads the chain: the lookup will read the next one. */
		if (a->hl.next != TP_NIL)
			prefetch_alloc(e, a->hl.next);
		return;
	}
	if (a->n_chans && a->chans != TP_NIL)
		__builtin_prefetch(chan_at(e, a->chans));
	if (a->n_perms && a->perms != TP_NIL)
		__builtin_prefetch(perm_at(e, a->perms));
}

unsigned tp_engine_process(struct tp_engine *e, const struct tp_pkt *pkts, struct tp_verdict *v,
			   unsigned n, const struct tp_clock *now)
{
	struct burst_stage st;
	unsigned kept = 0;

	set_clock(e, now);
	for (unsigned base = 0; base < n; base += LOOKAHEAD_MAX) {
		unsigned m = n - base < LOOKAHEAD_MAX ? n - base : LOOKAHEAD_MAX;
		const struct tp_pkt *p = pkts + base;

		for (unsigned k = 0; k < m; k++)
			st.kind[k] = stage_key(e, &p[k], &st.key[k]);
		for (unsigned k = 0; k < m; k++)
			st.alloc[k] = stage_alloc(e, st.kind[k], st.key[k]);
		for (unsigned k = 0; k < m; k++)
			stage_children(e, st.kind[k], st.key[k], st.alloc[k]);
		for (unsigned k = 0; k < m; k++) {
			handle(e, &p[k], &v[base + k], st.kind[k] == LA_CLIENT ? &st.key[k] : NULL);
			kept += v[base + k].kind != TP_VERDICT_DROP;
		}
	}
	return kept;
}

void tp_engine_tick(struct tp_engine *e, const struct tp_clock *now)
{
	set_clock(e, now);
	/* Budgets keep one tick short; what is left runs on the next one. */
	tp_wheel_run(&e->chan_timers, e->now_s, 4096, tp_chan_expire, e);
	tp_wheel_run(&e->perm_timers, e->now_s, 4096, tp_perm_expire, e);
	tp_wheel_run(&e->alloc_timers, e->now_s, 1024, tp_alloc_expire, e);
	tp_reservations_expire(e);
}

void tp_engine_conn_closed(struct tp_engine *e, uint8_t transport, const struct tp_addr *client,
			   const struct tp_addr *server, const struct tp_clock *now)
{
	uint32_t ai;

	set_clock(e, now);
	ai = tp_alloc_find(e, transport, client, server);
	if (ai != TP_NIL)
		tp_alloc_delete(e, ai, TP_EVENT_ALLOC_DELETED);
}
