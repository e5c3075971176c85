/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

int tp_pool_init(struct tp_pool *p, size_t stride, uint32_t limit)
{
	memset(p, 0, sizeof(*p));
	if (stride < sizeof(uint32_t) || limit == 0 || limit == TP_NIL)
		return -EINVAL;
	p->nchunks = (limit + TP_POOL_CHUNK - 1) / TP_POOL_CHUNK;
	p->chunks = calloc(p->nchunks, sizeof(*p->chunks));
	p->mem = calloc(p->nchunks, sizeof(*p->mem));
	if (!p->chunks || !p->mem) {
		tp_pool_fini(p);
		return -ENOMEM;
	}
	if (stride >= TP_POOL_LINE)
		p->stride = (uint32_t)((stride + TP_POOL_LINE - 1) & ~(size_t)(TP_POOL_LINE - 1));
	else
		p->stride = (uint32_t)((stride + 7) & ~(size_t)7);
	p->limit = limit;
	p->free_head = TP_NIL;
	return 0;
}

void tp_pool_fini(struct tp_pool *p)
{
	if (p->mem)
		for (uint32_t c = 0; c < p->nchunks; c++)
			free(p->mem[c]);
	free(p->mem);
	free(p->chunks);
	memset(p, 0, sizeof(*p));
}

/* Add a chunk and thread its objects onto the free list, lowest index first. */
static int pool_grow(struct tp_pool *p)
{
	uint32_t c, base, n;

	for (c = 0; c < p->nchunks && p->chunks[c]; c++)
		;
	if (c == p->nchunks)
		return -ENOSPC;
	base = c * TP_POOL_CHUNK;
	n = p->limit - base < TP_POOL_CHUNK ? p->limit - base : TP_POOL_CHUNK;
	/* calloc plus alignment by hand: aligned_alloc() is missing from Windows' C runtimes. */
	p->mem[c] = calloc(1, (size_t)n * p->stride + TP_POOL_LINE - 1);
	if (!p->mem[c])
		return -ENOMEM;
	p->chunks[c] = (uint8_t *)(((uintptr_t)p->mem[c] + TP_POOL_LINE - 1) &
				   ~(uintptr_t)(TP_POOL_LINE - 1));
	for (uint32_t k = n; k-- > 0;) {
		uint32_t *next = (uint32_t *)(void *)(p->chunks[c] + (size_t)k * p->stride);

		*next = p->free_head;
		p->free_head = base + k;
	}
	return 0;
}

uint32_t tp_pool_get(struct tp_pool *p)
{
	uint32_t i;
	uint8_t *o;

	if (p->free_head == TP_NIL && pool_grow(p) < 0)
		return TP_NIL;
	i = p->free_head;
	o = tp_pool_at(p, i);
	memcpy(&p->free_head, o, sizeof(uint32_t));
	memset(o, 0, p->stride);
	p->used++;
	return i;
}

void tp_pool_put(struct tp_pool *p, uint32_t i)
{
	uint8_t *o = tp_pool_at(p, i);

	memset(o, 0, p->stride);
	memcpy(o, &p->free_head, sizeof(uint32_t));
	p->free_head = i;
	p->used--;
}

int tp_itab_init(struct tp_itab *t, struct tp_pool *pool, size_t link_off, uint32_t min_buckets)
{
	uint32_t n = 64;

	while (n < min_buckets && n < (1u << 30))
		n <<= 1;
	t->bucket = malloc((size_t)n * sizeof(uint32_t));
	if (!t->bucket)
		return -ENOMEM;
	memset(t->bucket, 0xff, (size_t)n * sizeof(uint32_t));
	t->mask = n - 1;
	t->link_off = (uint32_t)link_off;
	t->pool = pool;
	return 0;
}

void tp_itab_fini(struct tp_itab *t)
{
	free(t->bucket);
	t->bucket = NULL;
}

void tp_itab_insert(struct tp_itab *t, uint32_t i, uint32_t hash)
{
	struct tp_hlink *l = tp_itab_link(t, i);

	l->hash = hash;
	l->next = t->bucket[hash & t->mask];
	t->bucket[hash & t->mask] = i;
}

void tp_itab_remove(struct tp_itab *t, uint32_t i)
{
	struct tp_hlink *l = tp_itab_link(t, i);
	uint32_t *pp = &t->bucket[l->hash & t->mask];

	while (*pp != TP_NIL && *pp != i)
		pp = &tp_itab_link(t, *pp)->next;
	if (*pp == i)
		*pp = l->next;
	l->next = TP_NIL;
}

void tp_wheel_init(struct tp_wheel *w, struct tp_pool *pool, size_t link_off, uint32_t now)
{
	for (unsigned s = 0; s < TP_WHEEL_SLOTS; s++)
		w->slot[s] = TP_NIL;
	w->pool = pool;
	w->link_off = (uint32_t)link_off;
	w->now = now;
}

static void wheel_unlink(struct tp_wheel *w, uint32_t i)
{
	struct tp_tlink *l = tp_wheel_link(w, i);

	if (l->prev != TP_NIL)
		tp_wheel_link(w, l->prev)->next = l->next;
	else
		w->slot[l->expires % TP_WHEEL_SLOTS] = l->next;
	if (l->next != TP_NIL)
		tp_wheel_link(w, l->next)->prev = l->prev;
	l->next = l->prev = TP_NIL;
}

void tp_wheel_arm(struct tp_wheel *w, uint32_t i, uint32_t expires)
{
	struct tp_tlink *l = tp_wheel_link(w, i);
	uint32_t *head;

	/* A zeroed object has expires 0 and no list: "armed" means expires != 0. */
	if (l->expires)
		wheel_unlink(w, i);
	if (expires < w->now)
		expires = w->now; /* already due: fire on the next run */
	if (expires == 0)
		expires = 1;
	l->expires = expires;
	head = &w->slot[expires % TP_WHEEL_SLOTS];
	l->prev = TP_NIL;
	l->next = *head;
	if (*head != TP_NIL)
		tp_wheel_link(w, *head)->prev = i;
	*head = i;
}

void tp_wheel_cancel(struct tp_wheel *w, uint32_t i)
{
	struct tp_tlink *l = tp_wheel_link(w, i);

	if (l->expires) {
		wheel_unlink(w, i);
		l->expires = 0;
	}
}

unsigned tp_wheel_run(struct tp_wheel *w, uint32_t now, unsigned budget,
		      void (*fire)(void *ctx, uint32_t i), void *ctx)
{
	unsigned fired = 0;

	/* Run each second from w->now up to and including now; at most one full turn. */
	if (now - w->now > TP_WHEEL_SLOTS && now > w->now)
		w->now = now - TP_WHEEL_SLOTS;
	while (w->now <= now) {
		uint32_t i = w->slot[w->now % TP_WHEEL_SLOTS];

		while (i != TP_NIL) {
			uint32_t next = tp_wheel_link(w, i)->next;

			if (tp_wheel_link(w, i)->expires <= now) {
				if (budget && fired == budget)
					return fired; /* w->now stays: resume here */
				fire(ctx, i);
				fired++;
				/* fire() unlinked i, and may have unlinked others: restart. */
				next = w->slot[w->now % TP_WHEEL_SLOTS];
			}
			i = next;
		}
		if (w->now == now)
			break;
		w->now++;
	}
	return fired;
}

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

/* One 64-bit word into the state: MurmurHash3's x64 block mix. */
static inline uint64_t hash_word(uint64_t h, uint64_t k)
{
	k *= 0x87c37b91114253d5ull;
	k = rotl64(k, 31);
	k *= 0x4cf5ad432745937full;
	h ^= k;
	return rotl64(h, 27) * 5 + 0x52dce729u;
}

uint32_t tp_hash_bytes(uint32_t seed, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull), k;

	/* Eight bytes at a time (the keys are 6 to 40 bytes: this is on every lookup); the loads
	 * are memcpy'd, so alignment does not matter. */
	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&k, b, 8);
		h = hash_word(h, k);
	}
	if (len) {
		k = 0;
		memcpy(&k, b, len);
		h = hash_word(h, k);
	}
	/* fmix64 from MurmurHash3's finaliser, so low bits depend on every input bit. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}
