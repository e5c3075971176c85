/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Allocations: Allocate and Refresh (RFC 8656 §7), relay ports, EVEN-PORT reservations,
 * address families (REQUESTED-ADDRESS-FAMILY, ADDITIONAL-ADDRESS-FAMILY), quotas and expiry.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

void tp_alloc_hash_insert(struct tp_engine *e, uint32_t i);

#define PORT_ATTEMPTS 16 /* relay ports tried before answering 508 */

/* --- relay ports --- */

int tp_ports_init(struct tp_engine *e)
{
	const struct tp_engine_params *p = &e->pol->p;
	uint32_t range, n = 0;

	if (p->port_min == 0 || p->port_max < p->port_min)
		return -1;
	e->port_min = p->port_min;
	e->port_max = p->port_max;
	range = (uint32_t)p->port_max - p->port_min + 1;
	e->port_alloc = malloc(range * sizeof(uint32_t));
	e->port_state = calloc(range, 1);
	e->port_queued = calloc(range, 1);
	e->port_queue = malloc(range * sizeof(uint16_t));
	if (!e->port_alloc || !e->port_state || !e->port_queued || !e->port_queue)
		return -1;
	memset(e->port_alloc, 0xff, range * sizeof(uint32_t));
	for (uint32_t i = 0; i < range; i++) {
		uint16_t port = (uint16_t)(p->port_min + i);

		if (tp_engine_port_shard(port, p->port_min, e->nshards) != e->shard) {
			e->port_state[i] = TP_PORT_FOREIGN;
			continue;
		}
		e->port_queue[n++] = port;
		e->port_queued[i] = 1;
	}
	/* RFC 8656 §7.2 and RFC 6056: relay ports are chosen at random. Shuffle once; the queue
	 * then hands out ports in that order and takes freed ones at the back. */
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j;
		uint16_t t;

		if (tp_random_bytes(&j, sizeof(j)) < 0)
			return -1;
		j %= i;
		t = e->port_queue[i - 1];
		e->port_queue[i - 1] = e->port_queue[j];
		e->port_queue[j] = t;
	}
	e->pq_head = 0;
	e->pq_len = n;
	e->pq_cap = range;
	return 0;
}

void tp_ports_fini(struct tp_engine *e)
{
	free(e->port_alloc);
	free(e->port_state);
	free(e->port_queued);
	free(e->port_queue);
	e->port_alloc = NULL;
	e->port_state = NULL;
	e->port_queued = NULL;
	e->port_queue = NULL;
}

static void port_enqueue(struct tp_engine *e, uint16_t port)
{
	uint32_t i = port - e->port_min;

	if (e->port_queued[i] || e->pq_len == e->pq_cap)
		return;
	e->port_queue[(e->pq_head + e->pq_len) % e->pq_cap] = port;
	e->pq_len++;
	e->port_queued[i] = 1;
}

static uint16_t port_dequeue(struct tp_engine *e)
{
	uint16_t port = e->port_queue[e->pq_head];

	e->pq_head = (e->pq_head + 1) % e->pq_cap;
	e->pq_len--;
	e->port_queued[port - e->port_min] = 0;
	return port;
}

static bool port_free(const struct tp_engine *e, uint32_t port)
{
	return port >= e->port_min && port <= e->port_max &&
	       e->port_state[port - e->port_min] == TP_PORT_FREE;
}

static int port_open(struct tp_engine *e, uint16_t port, unsigned families)
{
	if (!e->ops.relay_open)
		return 0;
	return e->ops.relay_open(e->ops.ctx, port, families);
}

static void port_release(struct tp_engine *e, uint16_t port, unsigned families)
{
	if (e->ops.relay_close)
		e->ops.relay_close(e->ops.ctx, port, families);
	e->port_state[port - e->port_min] = TP_PORT_FREE;
	e->port_alloc[port - e->port_min] = TP_NIL;
	port_enqueue(e, port);
}

/*
 * Take a free port, even if @even, with a free odd neighbour if @pair (RFC 8656 §7.2 EVEN-PORT),
 * and open it. Returns 0 when none could be had.
 */
static uint16_t port_take(struct tp_engine *e, unsigned families, bool even, bool pair)
{
	unsigned failures = 0;
	uint32_t scan = e->pq_len;

	while (scan-- > 0 && e->pq_len > 0) {
		uint16_t port = port_dequeue(e);

		if (!port_free(e, port))
			continue; /* a stale entry: taken by a reservation meanwhile */
		if ((even && (port & 1)) || (pair && !port_free(e, (uint32_t)port + 1))) {
			port_enqueue(e, port);
			continue;
		}
		if (port_open(e, port, families) < 0) {
			port_enqueue(e, port);
			if (++failures == PORT_ATTEMPTS)
				return 0;
			continue;
		}
		e->port_state[port - e->port_min] = TP_PORT_USED;
		return port;
	}
	return 0;
}

/* --- quotas (shared by the shards: atomics on the allocation path only) --- */

static bool quota_take(_Atomic uint32_t *c, uint32_t limit)
{
	uint32_t cur = atomic_load_explicit(c, memory_order_relaxed);

	do {
		if (cur >= limit)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(c, &cur, cur + 1, memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

static void quota_give(_Atomic uint32_t *c)
{
	atomic_fetch_sub_explicit(c, 1, memory_order_relaxed);
}

/* --- life cycle --- */

static void fill_event(struct tp_engine *e, const struct tp_alloc *a,
		       enum tp_engine_event_kind kind, struct tp_engine_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->transport = a->transport;
	ev->client = a->client;
	if (a->families & TP_RELAY_V4) {
		ev->relay4 = e->pol->p.relay4;
		ev->relay4.port = a->port;
	}
	if (a->families & TP_RELAY_V6) {
		ev->relay6 = e->pol->p.relay6;
		ev->relay6.port = a->port;
	}
	ev->user = a->user;
	ev->lifetime = kind == TP_EVENT_ALLOC_CREATED || kind == TP_EVENT_ALLOC_REFRESHED
			       ? a->lifetime
			       : 0;
}

static void emit(struct tp_engine *e, const struct tp_alloc *a, enum tp_engine_event_kind kind)
{
	struct tp_engine_event ev;

	if (!e->ops.event)
		return;
	fill_event(e, a, kind, &ev);
	e->ops.event(e->ops.ctx, &ev);
}

void tp_alloc_delete(struct tp_engine *e, uint32_t i, enum tp_engine_event_kind why)
{
	struct tp_alloc *a = alloc_at(e, i);

	emit(e, a, why);
	tp_alloc_drop_children(e, i);
	tp_itab_remove(&e->alloc_by_tuple, i);
	tp_wheel_cancel(&e->alloc_timers, i);
	port_release(e, a->port, a->families);
	quota_give(&e->sh->per_user[a->quota_slot]);
	quota_give(&e->sh->total);
	tp_stat_add(&e->stats.ctr[why == TP_EVENT_ALLOC_EXPIRED ? TP_CTR_ALLOC_EXPIRED
								: TP_CTR_ALLOC_DELETED],
		    1);
	tp_pool_put(&e->allocs, i);
	atomic_store_explicit(&e->stats.allocations, e->allocs.used, memory_order_relaxed);
	if (e->last_perm != TP_NIL || e->last_chan != TP_NIL) {
		e->last_perm = TP_NIL;
		e->last_chan = TP_NIL;
	}
}

void tp_alloc_expire(void *ctx, uint32_t i)
{
	tp_alloc_delete(ctx, i, TP_EVENT_ALLOC_EXPIRED);
}

/* RFC 8656 §7.2/§7.3: min(requested, max), but never below the default. */
static uint32_t lifetime_of(const struct tp_req *r)
{
	const struct tp_engine_params *p = &r->e->pol->p;
	uint32_t want;

	if (tp_stun_get_u32(&r->m, TP_STUN_ATTR_LIFETIME, &want) < 0)
		return p->default_lifetime;
	if (want > p->max_lifetime)
		want = p->max_lifetime;
	return want > p->default_lifetime ? want : p->default_lifetime;
}

/* Find and consume a reservation; 0 when the token is unknown or stale. */
static uint16_t reservation_take(struct tp_engine *e, uint64_t token, unsigned *families)
{
	for (unsigned i = 0; i < TP_RESERVE_SLOTS; i++) {
		struct tp_reservation *rs = &e->reserve[i];
		uint16_t port = rs->port;

		if (rs->token != token || token == 0 || rs->expires <= e->now_s)
			continue;
		/* RFC 8656 §7.2: the reserved transport address, in the family it was made for. */
		*families = rs->families;
		memset(rs, 0, sizeof(*rs));
		if (e->port_state[port - e->port_min] != TP_PORT_RESERVED)
			return 0;
		e->port_state[port - e->port_min] = TP_PORT_FREE;
		return port;
	}
	return 0;
}

/* Forget a reservation; the port it still holds goes back to the pool of free ports. */
static void reservation_clear(struct tp_engine *e, struct tp_reservation *rs)
{
	if (rs->token && e->port_state[rs->port - e->port_min] == TP_PORT_RESERVED) {
		e->port_state[rs->port - e->port_min] = TP_PORT_FREE;
		port_enqueue(e, rs->port); /* port_take may have dropped it from the queue */
	}
	memset(rs, 0, sizeof(*rs));
}

void tp_reservations_expire(struct tp_engine *e)
{
	for (unsigned i = 0; i < TP_RESERVE_SLOTS; i++)
		if (e->reserve[i].token && e->reserve[i].expires <= e->now_s)
			reservation_clear(e, &e->reserve[i]);
}

static uint64_t reservation_make(struct tp_engine *e, uint16_t port, unsigned families)
{
	uint64_t token = 0;

	for (unsigned i = 0; i < TP_RESERVE_SLOTS; i++) {
		struct tp_reservation *rs = &e->reserve[i];

		if (rs->token && rs->expires > e->now_s)
			continue;
		reservation_clear(e, rs); /* lapsed but not reaped by a tick yet */
		if (tp_random_bytes(&token, sizeof(token)) < 0 || token == 0)
			return 0;
		rs->token = token;
		rs->port = port;
		rs->families = (uint8_t)families;
		rs->expires = e->now_s + TP_RESERVE_LIFE_S;
		e->port_state[port - e->port_min] = TP_PORT_RESERVED;
		return token;
	}
	return 0;
}

struct alloc_plan {
	unsigned families;  /* granted */
	uint8_t failed_fam; /* dual allocation: the family that could not be had, or 0 */
	bool even, reserve, df;
	uint64_t token; /* RESERVATION-TOKEN in the request, 0 if none */
};

/* Work out what the Allocate asks for; 0, or the error code to answer. */
static int plan_allocation(struct tp_req *r, struct alloc_plan *pl)
{
	const struct tp_engine_params *p = &r->e->pol->p;
	bool have4 = p->relay4.family == TP_AF_INET, have6 = p->relay6.family == TP_AF_INET6;
	bool has_req = tp_stun_has(&r->m, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	bool has_add = tp_stun_has(&r->m, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY);
	bool has_even = tp_stun_has(&r->m, TP_STUN_ATTR_EVEN_PORT);
	bool has_token = tp_stun_has(&r->m, TP_STUN_ATTR_RESERVATION_TOKEN);
	uint8_t proto, fam;

	memset(pl, 0, sizeof(*pl));
	/* RFC 8656 §7.2, in the order the RFC checks. */
	if (tp_stun_get_transport(&r->m, &proto) < 0)
		return 400;
	if (proto != TP_STUN_TRANSPORT_UDP)
		return 442;
	pl->df = tp_stun_has(&r->m, TP_STUN_ATTR_DONT_FRAGMENT);
	if (has_token && (has_even || has_req || has_add))
		return 400;
	if (has_req && has_add)
		return 400;
	if (has_even && tp_stun_get_even_port(&r->m, &pl->reserve) < 0)
		return 400;
	pl->even = has_even;
	if (has_token && tp_stun_get_reservation_token(&r->m, &pl->token) < 0)
		return 400;
	if (has_token)
		return 0; /* the family is the reservation's */

	if (has_add) {
		/* ADDITIONAL-ADDRESS-FAMILY: IPv4 plus IPv6 (RFC 8656 §7.2: only IPv6 is valid). */
		if (tp_stun_get_family(&r->m, TP_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &fam) < 0 ||
		    fam != TP_AF_INET6)
			return 400;
		if (!have4 && !have6)
			return 440;
		pl->families = (have4 ? TP_RELAY_V4 : 0) | (have6 ? TP_RELAY_V6 : 0);
		pl->failed_fam = !have6 ? TP_AF_INET6 : !have4 ? TP_AF_INET : 0;
		return 0;
	}
	fam = TP_AF_INET;
	if (has_req && tp_stun_get_family(&r->m, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &fam) < 0)
		return 400;
	if (fam == TP_AF_INET && have4)
		pl->families = TP_RELAY_V4;
	else if (fam == TP_AF_INET6 && have6)
		pl->families = TP_RELAY_V6;
	else
		return 440;
	return 0;
}

void tp_alloc_request(struct tp_req *r)
{
	struct tp_engine *e = r->e;
	const struct tp_engine_params *p = &e->pol->p;
	struct alloc_plan pl;
	struct tp_addr relay;
	struct tp_alloc *a;
	uint64_t token = 0;
	uint16_t port;
	uint32_t i;
	int code;

	/* RFC 8656 §7.2: a 5-tuple holds one allocation; a retransmission was answered from the
	 * transaction cache before this point. */
	if (r->alloc != TP_NIL) {
		tp_reply_error(r, 437);
		return;
	}
	code = plan_allocation(r, &pl);
	if (code) {
		tp_reply_error(r, code);
		return;
	}
	if (!quota_take(&e->sh->per_user[r->quota_slot], p->allocations_per_user)) {
		tp_reply_error(r, 486);
		return;
	}
	if (!quota_take(&e->sh->total, p->allocations_total)) {
		quota_give(&e->sh->per_user[r->quota_slot]);
		tp_reply_error(r, 508);
		return;
	}
	i = tp_pool_get(&e->allocs);
	if (i == TP_NIL)
		goto capacity;
	if (pl.token) {
		port = reservation_take(e, pl.token, &pl.families);
		if (port && port_open(e, port, pl.families) < 0) {
			port_enqueue(e, port);
			port = 0;
		}
		if (port)
			e->port_state[port - e->port_min] = TP_PORT_USED;
	} else {
		port = port_take(e, pl.families, pl.even, pl.reserve);
	}
	if (!port) {
		tp_pool_put(&e->allocs, i);
		goto capacity;
	}
	if (pl.reserve) {
		token = reservation_make(e, (uint16_t)(port + 1), pl.families);
		if (!token) {
			port_release(e, port, pl.families);
			tp_pool_put(&e->allocs, i);
			goto capacity;
		}
	}

	a = alloc_at(e, i);
	a->client = r->pkt->src;
	a->server = r->pkt->dst;
	a->conn = r->pkt->conn;
	a->transport = r->pkt->transport;
	a->families = (uint8_t)pl.families;
	a->flags = (uint8_t)((pl.df ? TP_AF_DF : 0) | (r->sha256 ? TP_AF_SHA256 : 0) |
			     (pl.token ? TP_AF_RESERVED : 0));
	a->port = port;
	a->perms = TP_NIL;
	a->chans = TP_NIL;
	a->quota_slot = r->quota_slot;
	a->lifetime = lifetime_of(r);
	a->bw_tokens = p->bandwidth_bps / 8 < 65536 ? 65536 : p->bandwidth_bps / 8;
	a->bw_last_ms = e->now_ms;
	a->key_len = r->key_len;
	memcpy(a->key, r->key, r->key_len);
	memcpy(a->user_digest, r->user_digest, sizeof(a->user_digest));
	a->user_len = (uint16_t)(r->user_len < TP_USER_SHOWN ? r->user_len : TP_USER_SHOWN);
	memcpy(a->user, r->user, a->user_len);
	a->user[a->user_len] = '\0';
	tp_alloc_hash_insert(e, i);
	e->port_alloc[port - e->port_min] = i;
	tp_wheel_arm(&e->alloc_timers, i, e->now_s + a->lifetime);
	tp_stat_add(&e->stats.ctr[TP_CTR_ALLOC_CREATED], 1);
	atomic_store_explicit(&e->stats.allocations, e->allocs.used, memory_order_relaxed);

	tp_reply_begin(r, TP_STUN_SUCCESS);
	if (pl.families & TP_RELAY_V4) {
		relay = p->relay4;
		relay.port = port;
		tp_stun_add_addr(&r->b, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &relay);
	}
	if (pl.families & TP_RELAY_V6) {
		relay = p->relay6;
		relay.port = port;
		tp_stun_add_addr(&r->b, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &relay);
	}
	if (pl.failed_fam)
		tp_stun_add_address_error(&r->b, pl.failed_fam, 440, NULL);
	tp_stun_add_u32(&r->b, TP_STUN_ATTR_LIFETIME, a->lifetime);
	if (token)
		tp_stun_add_reservation_token(&r->b, token);
	tp_stun_add_addr(&r->b, TP_STUN_ATTR_XOR_MAPPED_ADDRESS, &r->pkt->src);
	tp_reply_finish(r);
	emit(e, a, TP_EVENT_ALLOC_CREATED);
	return;

capacity:
	quota_give(&e->sh->per_user[r->quota_slot]);
	quota_give(&e->sh->total);
	tp_reply_error(r, 508);
}

void tp_refresh_request(struct tp_req *r)
{
	struct tp_engine *e = r->e;
	struct tp_alloc *a;
	uint32_t want;
	uint8_t fam;

	if (r->alloc == TP_NIL) {
		tp_reply_error(r, 437);
		return;
	}
	a = alloc_at(e, r->alloc);
	/* RFC 8656 §7.3: a family the allocation does not have is a 443. */
	if (tp_stun_has(&r->m, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY)) {
		if (tp_stun_get_family(&r->m, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &fam) < 0) {
			tp_reply_error(r, 400);
			return;
		}
		if (!((fam == TP_AF_INET && (a->families & TP_RELAY_V4)) ||
		      (fam == TP_AF_INET6 && (a->families & TP_RELAY_V6)))) {
			tp_reply_error(r, 443);
			return;
		}
	}
	if (tp_stun_get_u32(&r->m, TP_STUN_ATTR_LIFETIME, &want) == 0 && want == 0) {
		/* LIFETIME 0 deletes the allocation at once. */
		tp_reply_begin(r, TP_STUN_SUCCESS);
		tp_stun_add_u32(&r->b, TP_STUN_ATTR_LIFETIME, 0);
		tp_reply_finish(r);
		tp_alloc_delete(e, r->alloc, TP_EVENT_ALLOC_DELETED);
		r->alloc = TP_NIL;
		return;
	}
	a->lifetime = lifetime_of(r);
	tp_wheel_arm(&e->alloc_timers, r->alloc, e->now_s + a->lifetime);
	tp_stat_add(&e->stats.ctr[TP_CTR_ALLOC_REFRESHED], 1);
	tp_reply_begin(r, TP_STUN_SUCCESS);
	tp_stun_add_u32(&r->b, TP_STUN_ATTR_LIFETIME, a->lifetime);
	tp_reply_finish(r);
	emit(e, a, TP_EVENT_ALLOC_REFRESHED);
}
