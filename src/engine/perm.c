/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Permissions and channels: CreatePermission (RFC 8656 §10) and ChannelBind (§12), their
 * tables and their expiry.
 */
#include <string.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>

#include "engine_int.h"

/* --- keys --- */

static uint32_t perm_hash(const struct tp_engine *e, uint32_t alloc, const struct tp_addr *peer)
{
	uint8_t key[4 + 1 + 16];

	tp_put_be32(key, alloc);
	key[4] = peer->family;
	memcpy(key + 5, peer->ip, 16);
	return tp_hash_bytes(e->seed, key, sizeof(key));
}

static uint32_t chan_num_hash(const struct tp_engine *e, uint32_t alloc, uint16_t number)
{
	uint8_t key[6];

	tp_put_be32(key, alloc);
	tp_put_be16(key + 4, number);
	return tp_hash_bytes(e->seed ^ 0x1234567u, key, sizeof(key));
}

static uint32_t chan_peer_hash(const struct tp_engine *e, uint32_t alloc,
			       const struct tp_addr *peer)
{
	uint8_t key[4 + 1 + 2 + 16];

	tp_put_be32(key, alloc);
	key[4] = peer->family;
	tp_put_be16(key + 5, peer->port);
	memcpy(key + 7, peer->ip, 16);
	return tp_hash_bytes(e->seed ^ 0x7654321u, key, sizeof(key));
}

/*
 * An allocation usually has one to a few permissions and channels. Its own list reaches them in
 * one cache miss per entry, where the shard's hash tables take a bucket miss and then the entry's:
 * up to this many entries, walk the list.
 */
#define LIST_WALK_MAX 3

uint32_t tp_perm_find(struct tp_engine *e, uint32_t alloc, const struct tp_addr *peer)
{
	const struct tp_alloc *a = alloc_at(e, alloc);
	uint32_t h;

	if (a->n_perms <= LIST_WALK_MAX) {
		for (uint32_t i = a->perms; i != TP_NIL; i = perm_at(e, i)->next)
			if (tp_addr_ip_eq(&perm_at(e, i)->peer, peer))
				return i;
		return TP_NIL;
	}
	h = perm_hash(e, alloc, peer);

	for (uint32_t i = tp_itab_first(&e->perm_by_peer, h); i != TP_NIL;
	     i = tp_itab_next(&e->perm_by_peer, i)) {
		struct tp_perm *p = perm_at(e, i);

		if (p->alloc == alloc && tp_addr_ip_eq(&p->peer, peer))
			return i;
	}
	return TP_NIL;
}

uint32_t tp_chan_by_number(struct tp_engine *e, uint32_t alloc, uint16_t number)
{
	const struct tp_alloc *a = alloc_at(e, alloc);
	uint32_t h;

	if (a->n_chans <= LIST_WALK_MAX) {
		for (uint32_t i = a->chans; i != TP_NIL; i = chan_at(e, i)->next) {
			const struct tp_chan *c = chan_at(e, i);

			if (c->number == number)
				return c->tl.expires > e->now_s ? i : TP_NIL;
		}
		return TP_NIL;
	}
	h = chan_num_hash(e, alloc, number);

	for (uint32_t i = tp_itab_first(&e->chan_by_num, h); i != TP_NIL;
	     i = tp_itab_next(&e->chan_by_num, i)) {
		struct tp_chan *c = chan_at(e, i);

		if (c->alloc == alloc && c->number == number)
			return c->tl.expires > e->now_s ? i : TP_NIL;
	}
	return TP_NIL;
}

uint32_t tp_chan_by_peer(struct tp_engine *e, uint32_t alloc, const struct tp_addr *peer)
{
	const struct tp_alloc *a = alloc_at(e, alloc);
	uint32_t h;

	if (a->n_chans <= LIST_WALK_MAX) {
		for (uint32_t i = a->chans; i != TP_NIL; i = chan_at(e, i)->next) {
			const struct tp_chan *c = chan_at(e, i);

			if (tp_addr_eq(&c->peer, peer))
				return c->tl.expires > e->now_s ? i : TP_NIL;
		}
		return TP_NIL;
	}
	h = chan_peer_hash(e, alloc, peer);

	for (uint32_t i = tp_itab_first(&e->chan_by_peer, h); i != TP_NIL;
	     i = tp_itab_next(&e->chan_by_peer, i)) {
		struct tp_chan *c = chan_at(e, i);

		if (c->alloc == alloc && tp_addr_eq(&c->peer, peer))
			return c->tl.expires > e->now_s ? i : TP_NIL;
	}
	return TP_NIL;
}

/* --- removal --- */

static void perm_remove(struct tp_engine *e, uint32_t i)
{
	struct tp_perm *p = perm_at(e, i);
	struct tp_alloc *a = alloc_at(e, p->alloc);

	if (p->prev != TP_NIL)
		perm_at(e, p->prev)->next = p->next;
	else
		a->perms = p->next;
	if (p->next != TP_NIL)
		perm_at(e, p->next)->prev = p->prev;
	a->n_perms--;
	tp_itab_remove(&e->perm_by_peer, i);
	tp_wheel_cancel(&e->perm_timers, i);
	if (e->last_perm == i)
		e->last_perm = TP_NIL;
	tp_pool_put(&e->perms, i);
}

static void chan_remove(struct tp_engine *e, uint32_t i)
{
	struct tp_chan *c = chan_at(e, i);
	struct tp_alloc *a = alloc_at(e, c->alloc);

	if (c->prev != TP_NIL)
		chan_at(e, c->prev)->next = c->next;
	else
		a->chans = c->next;
	if (c->next != TP_NIL)
		chan_at(e, c->next)->prev = c->prev;
	a->n_chans--;
	tp_itab_remove(&e->chan_by_num, i);
	tp_itab_remove(&e->chan_by_peer, i);
	tp_wheel_cancel(&e->chan_timers, i);
	if (e->last_chan == i)
		e->last_chan = TP_NIL;
	tp_pool_put(&e->chans, i);
}

void tp_perm_expire(void *ctx, uint32_t i)
{
	struct tp_engine *e = ctx;

	tp_stat_add(&e->stats.ctr[TP_CTR_PERM_EXPIRED], 1);
	perm_remove(e, i);
}

void tp_chan_expire(void *ctx, uint32_t i)
{
	struct tp_engine *e = ctx;

	tp_stat_add(&e->stats.ctr[TP_CTR_CHAN_EXPIRED], 1);
	chan_remove(e, i);
}

void tp_alloc_drop_children(struct tp_engine *e, uint32_t alloc)
{
	struct tp_alloc *a = alloc_at(e, alloc);

	while (a->chans != TP_NIL)
		chan_remove(e, a->chans);
	while (a->perms != TP_NIL)
		perm_remove(e, a->perms);
}

/*
 * A permission still counts when it has not expired and its peer passes the access lists of
 * the policy in force; a reload re-checks each permission once, on its next use.
 */
bool tp_perm_usable(struct tp_engine *e, uint32_t i)
{
	struct tp_perm *p = perm_at(e, i);

	if (p->tl.expires <= e->now_s)
		return false;
	if (p->acl_gen != e->pol->generation) {
		if (!tp_acl_allowed(&e->pol->acl, &p->peer))
			return false;
		p->acl_gen = e->pol->generation;
	}
	return true;
}

/* --- installation --- */

static uint32_t perm_install(struct tp_engine *e, uint32_t alloc, const struct tp_addr *peer)
{
	struct tp_alloc *a = alloc_at(e, alloc);
	uint32_t i = tp_perm_find(e, alloc, peer);
	struct tp_perm *p;

	if (i == TP_NIL) {
		i = tp_pool_get(&e->perms);
		if (i == TP_NIL)
			return TP_NIL;
		p = perm_at(e, i);
		p->alloc = alloc;
		p->peer = *peer;
		p->peer.port = 0;
		p->acl_gen = e->pol->generation;
		p->prev = TP_NIL;
		p->next = a->perms;
		if (a->perms != TP_NIL)
			perm_at(e, a->perms)->prev = i;
		a->perms = i;
		a->n_perms++;
		tp_itab_insert(&e->perm_by_peer, i, perm_hash(e, alloc, peer));
		tp_stat_add(&e->stats.ctr[TP_CTR_PERM_CREATED], 1);
	}
	tp_wheel_arm(&e->perm_timers, i, e->now_s + e->pol->p.permission_lifetime);
	return i;
}

static bool family_ok(const struct tp_alloc *a, const struct tp_addr *peer)
{
	return (peer->family == TP_AF_INET && (a->families & TP_RELAY_V4)) ||
	       (peer->family == TP_AF_INET6 && (a->families & TP_RELAY_V6));
}

/* Check one XOR-PEER-ADDRESS: 0, or the error code (RFC 8656 §10.2, §12.2, DESIGN §7). */
static int peer_check(struct tp_req *r, const struct tp_alloc *a, const struct tp_addr *peer)
{
	if (!family_ok(a, peer))
		return 443;
	if (!tp_acl_allowed(&r->e->pol->acl, peer))
		return 403; /* counted as a 403 response, not as a drop */
	return 0;
}

void tp_create_permission_request(struct tp_req *r)
{
	struct tp_engine *e = r->e;
	struct tp_stun_span it = { 0, 0 };
	struct tp_addr peer;
	struct tp_alloc *a;
	uint32_t fresh = 0, seen = 0;
	int code;

	if (r->alloc == TP_NIL) {
		tp_reply_error(r, 437);
		return;
	}
	a = alloc_at(e, r->alloc);
	/* All or nothing: check every peer before installing any. */
	while (tp_stun_next(&r->m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &it)) {
		if (tp_stun_decode_addr(&r->m, TP_STUN_ATTR_XOR_PEER_ADDRESS, it, &peer) < 0) {
			tp_reply_error(r, 400);
			return;
		}
		code = peer_check(r, a, &peer);
		if (code) {
			tp_reply_error(r, code);
			return;
		}
		seen++;
		if (tp_perm_find(e, r->alloc, &peer) == TP_NIL)
			fresh++; /* duplicates in one request are counted twice: harmless */
	}
	if (seen == 0) {
		tp_reply_error(r, 400);
		return;
	}
	if (a->n_perms + fresh > e->pol->p.permissions_per_allocation ||
	    e->perms.used + fresh > e->perms.limit) {
		tp_reply_error(r, 508);
		return;
	}
	it.off = 0;
	while (tp_stun_next(&r->m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &it)) {
		tp_stun_decode_addr(&r->m, TP_STUN_ATTR_XOR_PEER_ADDRESS, it, &peer);
		if (perm_install(e, r->alloc, &peer) == TP_NIL) {
			tp_reply_error(r, 508); /* memory ran out after the check */
			return;
		}
	}
	tp_reply_begin(r, TP_STUN_SUCCESS);
	tp_reply_finish(r);
}

void tp_channel_bind_request(struct tp_req *r)
{
	struct tp_engine *e = r->e;
	const struct tp_engine_params *p = &e->pol->p;
	struct tp_addr peer;
	struct tp_alloc *a;
	struct tp_chan *c;
	uint32_t by_num, by_peer, ci;
	uint16_t number;
	int code;

	if (r->alloc == TP_NIL) {
		tp_reply_error(r, 437);
		return;
	}
	a = alloc_at(e, r->alloc);
	if (tp_stun_get_channel(&r->m, &number) < 0 || !tp_channel_valid(number) ||
	    tp_stun_get_addr(&r->m, TP_STUN_ATTR_XOR_PEER_ADDRESS, &peer) < 0) {
		tp_reply_error(r, 400);
		return;
	}
	code = peer_check(r, a, &peer);
	if (code) {
		tp_reply_error(r, code);
		return;
	}
	/* RFC 8656 §12.2: a channel is bound to one peer, a peer to one channel. */
	by_num = tp_chan_by_number(e, r->alloc, number);
	by_peer = tp_chan_by_peer(e, r->alloc, &peer);
	if ((by_num != TP_NIL && !tp_addr_eq(&chan_at(e, by_num)->peer, &peer)) ||
	    (by_peer != TP_NIL && chan_at(e, by_peer)->number != number)) {
		tp_reply_error(r, 400);
		return;
	}
	if (by_num == TP_NIL) {
		/* An expired binding still in the tables until its timer runs: reap it now. */
		uint32_t h = chan_num_hash(e, r->alloc, number);

		for (ci = tp_itab_first(&e->chan_by_num, h); ci != TP_NIL;
		     ci = tp_itab_next(&e->chan_by_num, ci))
			if (chan_at(e, ci)->alloc == r->alloc && chan_at(e, ci)->number == number)
				break;
		if (ci != TP_NIL)
			chan_remove(e, ci);
		h = chan_peer_hash(e, r->alloc, &peer);
		for (ci = tp_itab_first(&e->chan_by_peer, h); ci != TP_NIL;
		     ci = tp_itab_next(&e->chan_by_peer, ci))
			if (chan_at(e, ci)->alloc == r->alloc &&
			    tp_addr_eq(&chan_at(e, ci)->peer, &peer))
				break;
		if (ci != TP_NIL)
			chan_remove(e, ci);
	}
	/* Check the permission's room too before a channel is made: a channel whose permission
	 * then cannot be installed would stay behind, unarmed, holding a channel slot. */
	if ((by_num == TP_NIL && a->n_chans >= p->channels_per_allocation) ||
	    (tp_perm_find(e, r->alloc, &peer) == TP_NIL &&
	     (a->n_perms >= p->permissions_per_allocation || e->perms.used >= e->perms.limit))) {
		tp_reply_error(r, 508);
		return;
	}
	ci = by_num;
	if (ci == TP_NIL) {
		ci = tp_pool_get(&e->chans);
		if (ci == TP_NIL) {
			tp_reply_error(r, 508);
			return;
		}
		c = chan_at(e, ci);
		c->alloc = r->alloc;
		c->number = number;
		c->peer = peer;
		c->prev = TP_NIL;
		c->next = a->chans;
		if (a->chans != TP_NIL)
			chan_at(e, a->chans)->prev = ci;
		a->chans = ci;
		a->n_chans++;
		tp_itab_insert(&e->chan_by_num, ci, chan_num_hash(e, r->alloc, number));
		tp_itab_insert(&e->chan_by_peer, ci, chan_peer_hash(e, r->alloc, &peer));
		tp_stat_add(&e->stats.ctr[TP_CTR_CHAN_BOUND], 1);
	}
	/* RFC 8656 §12.2: binding (or refreshing) a channel installs or refreshes the
	 * permission for the peer's IP address too. */
	if (perm_install(e, r->alloc, &peer) == TP_NIL) {
		tp_reply_error(r, 508);
		return;
	}
	tp_wheel_arm(&e->chan_timers, ci, e->now_s + p->channel_lifetime);
	tp_reply_begin(r, TP_STUN_SUCCESS);
	tp_reply_finish(r);
}
