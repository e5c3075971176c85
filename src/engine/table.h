/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's containers, all addressed by 32-bit indexes rather than pointers:
 *
 * - struct tp_pool: objects of one type in chunks of TP_POOL_CHUNK, grown on the request path
 *   only (never while relaying), so memory follows use and an index stays valid forever;
 * - struct tp_itab: a chained hash table whose chains run through a struct tp_hlink inside
 *   each object;
 * - struct tp_wheel: a timer wheel of one-second slots whose lists run through a
 *   struct tp_tlink inside each object.
 *
 * Objects of one pool are reached with tp_pool_at(); the generic code finds the links inside
 * them from a byte offset given once at initialisation.
 */
#ifndef TP_ENGINE_TABLE_H
#define TP_ENGINE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_NIL		 UINT32_MAX /* the null index */
#define TP_POOL_CHUNK_LG 10
#define TP_POOL_CHUNK	 (1u << TP_POOL_CHUNK_LG)

/*
 * A pool of fixed-size objects. Free objects are chained through their first uint32_t.
 * Objects of 64 bytes or more start on a cache line (64-byte stride, 64-byte aligned chunks), so
 * the first lines of an object are known lines: what the relay paths read, and prefetch.
 */
#define TP_POOL_LINE 64

struct tp_pool {
	uint8_t **chunks; /* aligned */
	void **mem;	  /* as allocated: what free() takes */
	uint32_t nchunks;
	uint32_t limit; /* most objects it may hold */
	uint32_t stride;
	uint32_t used;
	uint32_t free_head;
};

int tp_pool_init(struct tp_pool *p, size_t stride, uint32_t limit);
void tp_pool_fini(struct tp_pool *p);
/* A zeroed object's index, or TP_NIL when the pool is full or memory ran out. */
uint32_t tp_pool_get(struct tp_pool *p);
void tp_pool_put(struct tp_pool *p, uint32_t i);

static inline void *tp_pool_at(const struct tp_pool *p, uint32_t i)
{
	return p->chunks[i >> TP_POOL_CHUNK_LG] + (size_t)(i & (TP_POOL_CHUNK - 1)) * p->stride;
}

/* Hash chain link, embedded in objects. */
struct tp_hlink {
	uint32_t next;
	uint32_t hash;
};

struct tp_itab {
	uint32_t *bucket;
	uint32_t mask;
	uint32_t link_off; /* offset of the struct tp_hlink in the pool's objects */
	struct tp_pool *pool;
};

int tp_itab_init(struct tp_itab *t, struct tp_pool *pool, size_t link_off, uint32_t min_buckets);
void tp_itab_fini(struct tp_itab *t);
void tp_itab_insert(struct tp_itab *t, uint32_t i, uint32_t hash);
void tp_itab_remove(struct tp_itab *t, uint32_t i);

static inline struct tp_hlink *tp_itab_link(const struct tp_itab *t, uint32_t i)
{
	return (struct tp_hlink *)(void *)((uint8_t *)tp_pool_at(t->pool, i) + t->link_off);
}

/* First candidate in the chain of @hash; walk with tp_itab_next(). */
static inline uint32_t tp_itab_first(const struct tp_itab *t, uint32_t hash)
{
	uint32_t i = t->bucket[hash & t->mask];

	while (i != TP_NIL && tp_itab_link(t, i)->hash != hash)
		i = tp_itab_link(t, i)->next;
	return i;
}

static inline uint32_t tp_itab_next(const struct tp_itab *t, uint32_t i)
{
	uint32_t hash = tp_itab_link(t, i)->hash;

	i = tp_itab_link(t, i)->next;
	while (i != TP_NIL && tp_itab_link(t, i)->hash != hash)
		i = tp_itab_link(t, i)->next;
	return i;
}

/* Timer link, embedded in objects: expiry in engine seconds. */
struct tp_tlink {
	uint32_t next;
	uint32_t prev;
	uint32_t expires;
};

#define TP_WHEEL_SLOTS 4096u /* one-second slots: longer timers go round more than once */

struct tp_wheel {
	uint32_t slot[TP_WHEEL_SLOTS];
	uint32_t link_off;
	struct tp_pool *pool;
	uint32_t now; /* every slot before this second has been run */
};

void tp_wheel_init(struct tp_wheel *w, struct tp_pool *pool, size_t link_off, uint32_t now);
/* (Re)arm object @i to expire at second @expires. */
void tp_wheel_arm(struct tp_wheel *w, uint32_t i, uint32_t expires);
void tp_wheel_cancel(struct tp_wheel *w, uint32_t i);
/*
 * Hand every object due by @now (expires <= now) to @fire, which must cancel or re-arm it.
 * At most @budget objects per call (0: no limit), so one tick cannot stall a shard.
 */
unsigned tp_wheel_run(struct tp_wheel *w, uint32_t now, unsigned budget,
		      void (*fire)(void *ctx, uint32_t i), void *ctx);

static inline struct tp_tlink *tp_wheel_link(const struct tp_wheel *w, uint32_t i)
{
	return (struct tp_tlink *)(void *)((uint8_t *)tp_pool_at(w->pool, i) + w->link_off);
}

/* A 32-bit hash of @len bytes (8-byte words, MurmurHash3's mixes), seeded per shard. */
uint32_t tp_hash_bytes(uint32_t seed, const void *p, size_t len);

#endif /* TP_ENGINE_TABLE_H */
