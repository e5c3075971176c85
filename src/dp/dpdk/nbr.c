/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-lcore neighbour table (see nbr.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/addr.h>

#include "nbr.h"

static unsigned iplen(uint8_t family)
{
	return family == TP_AF_INET6 ? 16 : 4;
}

/* @n holds @ip: constant-size compares, which the compiler inlines. */
static bool holds(const struct tp_nbr *n, uint8_t family, const uint8_t *ip)
{
	if (n->state == TP_NBR_FREE || n->family != family)
		return false;
	return family == TP_AF_INET6 ? memcmp(n->ip, ip, 16) == 0 : memcmp(n->ip, ip, 4) == 0;
}

/* fmix32 from MurmurHash3's finaliser over the address words. */
static uint32_t hash_ip(uint8_t family, const uint8_t *ip)
{
	uint32_t h = family;

	for (unsigned i = 0; i < iplen(family); i += 4) {
		uint32_t w = (uint32_t)ip[i] << 24 | (uint32_t)ip[i + 1] << 16 |
			     (uint32_t)ip[i + 2] << 8 | ip[i + 3];

		h ^= w;
		h ^= h >> 16;
		h *= 0x85ebca6bu;
		h ^= h >> 13;
		h *= 0xc2b2ae35u;
		h ^= h >> 16;
	}
	return h;
}

static struct tp_nbr *set_of(struct tp_nbr_table *t, uint8_t family, const uint8_t *ip)
{
	return &t->e[(size_t)(hash_ip(family, ip) & t->set_mask) * TP_NBR_WAYS];
}

int tp_nbr_init(struct tp_nbr_table *t, unsigned capacity, void (*release)(void *, void *),
		void *ctx)
{
	unsigned sets = 1;

	memset(t, 0, sizeof(*t));
	while ((size_t)sets * TP_NBR_WAYS < capacity && sets < (1u << 20))
		sets <<= 1;
	t->e = calloc((size_t)sets * TP_NBR_WAYS, sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->set_mask = sets - 1;
	t->release = release;
	t->ctx = ctx;
	return 0;
}

static void drop_pending(struct tp_nbr_table *t, struct tp_nbr *n)
{
	for (unsigned i = 0; i < n->npending; i++)
		if (t->release)
			t->release(t->ctx, n->pending[i]);
	n->npending = 0;
}

void tp_nbr_fini(struct tp_nbr_table *t)
{
	if (!t->e)
		return;
	for (size_t i = 0; i < (size_t)(t->set_mask + 1) * TP_NBR_WAYS; i++)
		drop_pending(t, &t->e[i]);
	free(t->e);
	t->e = NULL;
	t->last = NULL;
}

struct tp_nbr *tp_nbr_lookup(struct tp_nbr_table *t, uint8_t family, const uint8_t *ip)
{
	struct tp_nbr *s = set_of(t, family, ip);

	for (unsigned i = 0; i < TP_NBR_WAYS; i++)
		if (holds(&s[i], family, ip))
			return &s[i];
	return NULL;
}

/* A slot for a new entry in @ip's set: free, else failed, else the oldest. */
static struct tp_nbr *claim(struct tp_nbr_table *t, uint8_t family, const uint8_t *ip,
			    uint64_t now_ms)
{
	struct tp_nbr *s = set_of(t, family, ip), *victim = NULL;

	for (unsigned i = 0; i < TP_NBR_WAYS; i++) {
		struct tp_nbr *n = &s[i];

		if (n->state == TP_NBR_FREE) {
			victim = n;
			break;
		}
		/* Failed entries go first, then the least recently confirmed. */
		if (!victim || (n->state == TP_NBR_FAILED) > (victim->state == TP_NBR_FAILED) ||
		    ((n->state == TP_NBR_FAILED) == (victim->state == TP_NBR_FAILED) &&
		     n->confirmed_ms < victim->confirmed_ms))
			victim = n;
	}
	if (victim->state != TP_NBR_FREE) {
		t->evictions++;
		drop_pending(t, victim);
	}
	memset(victim, 0, sizeof(*victim));
	victim->family = family;
	memcpy(victim->ip, ip, iplen(family));
	victim->confirmed_ms = now_ms;
	return victim;
}

enum tp_nbr_result tp_nbr_resolve(struct tp_nbr_table *t, uint8_t family, const uint8_t *ip,
				  bool tagged, uint16_t tci, uint64_t now_ms, void *pkt,
				  uint8_t mac[6], bool *probe)
{
	/* Entries are unique per address and never move: the last one, if it still holds @ip,
	 * is what the lookup would find. */
	struct tp_nbr *n =
		t->last && holds(t->last, family, ip) ? t->last : tp_nbr_lookup(t, family, ip);

	*probe = false;
	if (n && n->state == TP_NBR_REACHABLE) {
		t->last = n;
		memcpy(mac, n->mac, 6);
		if (now_ms - n->confirmed_ms >= TP_NBR_REACHABLE_MS &&
		    now_ms - n->probed_ms >= TP_NBR_RETRANS_MS) {
			n->probed_ms = now_ms;
			*probe = true;
		}
		return TP_NBR_RESOLVED;
	}
	if (n && n->state == TP_NBR_FAILED) {
		if (now_ms - n->confirmed_ms < TP_NBR_FAILED_MS)
			return TP_NBR_DROP;
		n->state = TP_NBR_INCOMPLETE; /* ask again */
		n->confirmed_ms = now_ms;
		n->probed_ms = now_ms;
		n->probes = 1;
		*probe = true;
	}
	if (!n) {
		n = claim(t, family, ip, now_ms);
		n->state = TP_NBR_INCOMPLETE;
		n->tagged = tagged;
		n->tci = tci;
		n->probed_ms = now_ms;
		n->probes = 1;
		*probe = true;
	}
	if (!pkt)
		return TP_NBR_HELD;
	if (n->npending == TP_NBR_PENDING)
		return TP_NBR_DROP;
	n->pending[n->npending++] = pkt;
	return TP_NBR_HELD;
}

unsigned tp_nbr_learn(struct tp_nbr_table *t, uint8_t family, const uint8_t *ip,
		      const uint8_t mac[6], bool create, uint64_t now_ms, void *out[TP_NBR_PENDING])
{
	struct tp_nbr *n = tp_nbr_lookup(t, family, ip);
	unsigned k;

	if (!n) {
		if (!create)
			return 0;
		n = claim(t, family, ip, now_ms);
	}
	memcpy(n->mac, mac, 6);
	n->state = TP_NBR_REACHABLE;
	n->confirmed_ms = now_ms;
	n->probes = 0;
	k = n->npending;
	memcpy(out, n->pending, k * sizeof(void *));
	n->npending = 0;
	return k;
}

void tp_nbr_sweep(struct tp_nbr_table *t, uint64_t now_ms,
		  void (*probe)(void *ctx, const struct tp_nbr *n), void *ctx)
{
	for (size_t i = 0; i < (size_t)(t->set_mask + 1) * TP_NBR_WAYS; i++) {
		struct tp_nbr *n = &t->e[i];

		if (n->state == TP_NBR_INCOMPLETE && now_ms - n->probed_ms >= TP_NBR_RETRANS_MS) {
			if (n->probes >= TP_NBR_PROBES) {
				n->state = TP_NBR_FAILED;
				n->confirmed_ms = now_ms;
				t->failures++;
				drop_pending(t, n);
				continue;
			}
			n->probes++;
			n->probed_ms = now_ms;
			if (probe)
				probe(ctx, n);
		} else if (n->state == TP_NBR_FAILED &&
			   now_ms - n->confirmed_ms >= TP_NBR_FAILED_MS) {
			n->state = TP_NBR_FREE;
		}
	}
}
