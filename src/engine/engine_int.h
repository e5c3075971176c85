/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Engine internals shared by its source files: the shard, its objects, and the request context.
 */
#ifndef TP_ENGINE_INT_H
#define TP_ENGINE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <turnpike/crypto.h>
#include <turnpike/engine.h>
#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

#include "acl.h"
#include "table.h"

#define TP_USER_SHOWN	  64   /* bytes of a username kept for the log */
#define TP_TXC_SLOTS	  1024 /* transaction cache entries per shard */
#define TP_TXC_MAX	  1024 /* largest response kept for retransmissions: see below */
#define TP_TXC_WINDOW_S	  40   /* RFC 8489 §6.2.1: a client gives up after about 39.5 s */
#define TP_RL_SLOTS	  4096 /* 401 rate limiter buckets per shard */
#define TP_RESERVE_SLOTS  256  /* EVEN-PORT reservations per shard */
#define TP_RESERVE_LIFE_S 30   /* RFC 8656 §7.2: reservations last about 30 seconds */
#define TP_QUOTA_SLOTS	  65536
#define TP_NONCE_PREFIX	  "obMatJos2" /* RFC 8489 §9.2: the nonce cookie */
#define TP_NONCE_LEN	  37	      /* cookie 9 + features 4 + time 8 + MAC 16 */

/*
 * Every response must fit in the transaction cache, or its retransmission would be answered
 * anew (a retransmitted Allocate would get a 437). The longest is a dual-stack Allocate success
 * with the longest SOFTWARE: header, XOR-RELAYED-ADDRESS x2, ADDRESS-ERROR-CODE, LIFETIME,
 * RESERVATION-TOKEN, XOR-MAPPED-ADDRESS, SOFTWARE, MESSAGE-INTEGRITY-SHA256, FINGERPRINT.
 */
_Static_assert(TP_TXC_MAX >= TP_STUN_HDR_LEN + 12 + 24 + 8 + 8 + 12 + 24 + 4 +
				     ((TP_STUN_SOFTWARE_MAX + 3) & ~3) + 36 + 8,
	       "TP_TXC_MAX cannot hold the longest response");

/* A static user, with its keys ready for both password algorithms. */
struct tp_user {
	char *name;
	size_t name_len;
	uint8_t key_md5[TP_DIGEST_MAX];	   /* MD5(user:realm:pass), first 16 bytes */
	uint8_t key_sha256[TP_SHA256_LEN]; /* SHA-256(user:realm:pass) */
	uint8_t userhash[TP_STUN_USERHASH_LEN];
	uint32_t quota_slot;
	/* MESSAGE-INTEGRITY (HMAC-SHA1) under key_md5, expanded once: the common case, which
	 * then costs no key set-up per request. */
	struct tp_hmac_key mi_sha1_md5;
};

struct tp_engine_policy {
	struct tp_engine_params p; /* strings and lists point into this policy's own copies */
	char *realm;
	size_t realm_len;
	char *software;
	size_t software_len;
	struct tp_user *users;
	uint8_t *rest_secret;
	size_t rest_secret_len;
	struct tp_acl acl;
	uint32_t generation; /* differs between policies: permissions re-check the ACL */
	uint16_t pwalgs[2];
	unsigned n_pwalgs;
	char nonce_features[5]; /* base64 of the 24 security-feature bits */
};

/* Shared by all shards: written on the allocation path only. */
struct tp_engine_shared {
	uint8_t secret[32];
	struct tp_hmac_key nonce_key;
	unsigned nshards;
	_Atomic uint32_t total;
	_Atomic uint32_t per_user[TP_QUOTA_SLOTS];
};

enum tp_alloc_flag {
	TP_AF_DF = 1u << 0,	 /* DONT-FRAGMENT requested */
	TP_AF_SHA256 = 1u << 1,	 /* the client authenticates with MESSAGE-INTEGRITY-SHA256 */
	TP_AF_RESERVED = 1u << 2 /* its port was taken through a reservation */
};

/*
 * The relay paths read an allocation's first two cache lines and nothing past them: the pool
 * starts objects on a line (table.h), and the burst stages prefetch both lines. The first holds
 * what finding it by 5-tuple and a ChannelData/Send to a peer read; the second what the peer
 * direction adds (expiry, connection) and the bandwidth bucket. The rest is for requests.
 * The pool's free-list word overlays hl.next, which means nothing while the object is free.
 */
struct tp_alloc {
	struct tp_hlink hl; /* by 5-tuple */
	struct tp_addr client;
	struct tp_addr server;
	uint8_t transport;
	uint8_t families; /* enum tp_relay_family bits */
	uint8_t flags;	  /* enum tp_alloc_flag */
	uint8_t key_len;
	uint16_t port;
	uint16_t n_perms;
	uint16_t n_chans;
	uint16_t user_len;
	uint32_t perms; /* list of permissions */
	/* second cache line */
	uint32_t chans;	    /* list of channels */
	struct tp_tlink tl; /* expiry */
	uint32_t conn;
	uint32_t quota_slot;
	uint32_t lifetime;
	uint64_t bw_tokens; /* bytes */
	uint64_t bw_last_ms;
	/* cold: requests only */
	uint8_t key[TP_SHA256_LEN];   /* long-term key for its username */
	uint8_t user_digest[16];      /* SHA-256 of the username, truncated: 441 checks */
	char user[TP_USER_SHOWN + 1]; /* for the log; may be truncated */
};
_Static_assert(offsetof(struct tp_alloc, perms) + sizeof(uint32_t) <= 64,
	       "the lookup and client-side relay fields fit the first cache line");
_Static_assert(offsetof(struct tp_alloc, bw_last_ms) + sizeof(uint64_t) <= 128,
	       "the relay fields fit two cache lines");

/* One cache line each (the pool aligns them): the relay paths read all of it. */
struct tp_perm {
	struct tp_hlink hl; /* by (allocation, peer IP); hl.next is the pool's free-list word */
	struct tp_tlink tl;
	uint32_t alloc;
	uint32_t next, prev; /* the allocation's list */
	uint32_t acl_gen;    /* policy generation the ACL was checked under */
	struct tp_addr peer; /* port 0 */
};
_Static_assert(sizeof(struct tp_perm) <= 64, "a permission fits a cache line");

struct tp_chan {
	struct tp_hlink hl_num;	 /* by (allocation, number); hl_num.next is the free-list word */
	struct tp_hlink hl_peer; /* by (allocation, peer address and port) */
	struct tp_tlink tl;
	uint32_t alloc;
	uint32_t next, prev;
	uint16_t number;
	struct tp_addr peer;
};
_Static_assert(sizeof(struct tp_chan) <= 64, "a channel fits a cache line");

struct tp_txc_entry {
	uint8_t tid[TP_STUN_TID_LEN];
	uint32_t req_crc;
	uint32_t stamp; /* engine seconds */
	uint32_t conn;
	uint16_t len;
	uint8_t transport;
	struct tp_addr client;
	uint8_t resp[TP_TXC_MAX];
};

struct tp_rl_entry {
	uint32_t tag;
	uint32_t tokens;
	uint64_t last_ms;
};

struct tp_reservation {
	uint64_t token;
	uint32_t expires;
	uint16_t port;
	uint8_t families; /* of the allocation that made it */
};

enum tp_port_state {
	TP_PORT_FREE = 0,
	TP_PORT_USED = 1,
	TP_PORT_RESERVED = 2,
	TP_PORT_FOREIGN = 3, /* another shard's */
};

struct tp_engine {
	struct tp_stats stats;
	struct tp_engine_shared *sh;
	const struct tp_engine_policy *pol;
	struct tp_engine_ops ops;
	unsigned shard, nshards;
	uint32_t seed;	    /* hash seed: fixed for the shard's life */
	uint64_t tid_state; /* Data indication transaction IDs */
	uint32_t now_s;	    /* engine seconds (monotonic) */
	uint64_t now_ms;
	uint64_t unix_s;

	struct tp_pool allocs;
	struct tp_pool perms;
	struct tp_pool chans;
	struct tp_itab alloc_by_tuple;
	struct tp_itab perm_by_peer;
	struct tp_itab chan_by_num;
	struct tp_itab chan_by_peer;
	struct tp_wheel alloc_timers;
	struct tp_wheel perm_timers;
	struct tp_wheel chan_timers;

	/* Relay ports: the whole configured range, this shard's share marked. */
	uint16_t port_min, port_max;
	uint32_t *port_alloc; /* allocation per port, TP_NIL when none */
	uint8_t *port_state;  /* enum tp_port_state */
	uint8_t *port_queued;
	uint16_t *port_queue; /* free ports in random order: a FIFO ring */
	uint32_t pq_head, pq_len, pq_cap;

	struct tp_reservation reserve[TP_RESERVE_SLOTS];
	struct tp_rl_entry rl[TP_RL_SLOTS];
	struct tp_txc_entry *txc; /* TP_TXC_SLOTS */

	/* Last peer lookup: a burst from one peer usually hits one flow. */
	uint32_t last_perm;
	uint32_t last_chan;
};

/* Everything about the request being answered. */
struct tp_req {
	struct tp_engine *e;
	const struct tp_pkt *pkt;
	struct tp_verdict *v;
	const uint32_t *tuple_hash; /* the 5-tuple's hash when the burst computed it, or NULL */
	struct tp_stun_msg m;
	struct tp_stun_builder b;
	uint32_t alloc; /* allocation of the 5-tuple, TP_NIL if none */
	bool authed;
	bool sha256;		    /* answer with MESSAGE-INTEGRITY-SHA256 */
	bool cache;		    /* keep the answer for retransmissions */
	uint8_t key[TP_SHA256_LEN]; /* long-term key, when authed */
	uint8_t key_len;
	/* The key expanded for the request's MESSAGE-INTEGRITY(-SHA256), reused for the
	 * response's: the static user's precomputed one, or mi_local; NULL until verified. */
	const struct tp_hmac_key *mi_key;
	struct tp_hmac_key mi_local;
	const uint8_t *user; /* username bytes in the request (or the static user's name) */
	size_t user_len;
	uint32_t quota_slot;
	uint8_t user_digest[16];
};

static inline struct tp_alloc *alloc_at(const struct tp_engine *e, uint32_t i)
{
	return tp_pool_at(&e->allocs, i);
}

static inline struct tp_perm *perm_at(const struct tp_engine *e, uint32_t i)
{
	return tp_pool_at(&e->perms, i);
}

static inline struct tp_chan *chan_at(const struct tp_engine *e, uint32_t i)
{
	return tp_pool_at(&e->chans, i);
}

static inline void drop(struct tp_engine *e, struct tp_verdict *v, enum tp_drop why)
{
	v->kind = TP_VERDICT_DROP;
	v->reason = (uint8_t)why;
	tp_stat_add(&e->stats.drop[why], 1);
}

/* engine.c */
unsigned tp_stat_method_of(uint16_t method);
void tp_reply_begin(struct tp_req *r, uint16_t cls);
void tp_reply_finish(struct tp_req *r);
void tp_reply_error(struct tp_req *r, int code);
uint32_t tp_alloc_find(struct tp_engine *e, uint8_t transport, const struct tp_addr *client,
		       const struct tp_addr *server);
/* The same, with the 5-tuple's hash already computed. */
uint32_t tp_alloc_find_hashed(struct tp_engine *e, uint32_t h, uint8_t transport,
			      const struct tp_addr *client, const struct tp_addr *server);

/* auth.c */
void tp_auth_nonce(struct tp_engine *e, const struct tp_pkt *pkt, char out[TP_NONCE_LEN + 1]);
/* 0: authenticated; otherwise the request was answered (401, 438, 400, 441) or dropped. */
int tp_auth_check(struct tp_req *r);
void tp_auth_challenge(struct tp_req *r, int code);
uint32_t tp_quota_slot(const uint8_t *user, size_t len);

/* alloc.c */
void tp_alloc_request(struct tp_req *r);
void tp_refresh_request(struct tp_req *r);
void tp_alloc_delete(struct tp_engine *e, uint32_t i, enum tp_engine_event_kind why);
void tp_alloc_expire(void *ctx, uint32_t i);
void tp_reservations_expire(struct tp_engine *e);
int tp_ports_init(struct tp_engine *e);
void tp_ports_fini(struct tp_engine *e);

/* perm.c */
void tp_create_permission_request(struct tp_req *r);
void tp_channel_bind_request(struct tp_req *r);
uint32_t tp_perm_find(struct tp_engine *e, uint32_t alloc, const struct tp_addr *peer);
uint32_t tp_chan_by_number(struct tp_engine *e, uint32_t alloc, uint16_t number);
uint32_t tp_chan_by_peer(struct tp_engine *e, uint32_t alloc, const struct tp_addr *peer);
bool tp_perm_usable(struct tp_engine *e, uint32_t perm);
void tp_perm_expire(void *ctx, uint32_t i);
void tp_chan_expire(void *ctx, uint32_t i);
void tp_alloc_drop_children(struct tp_engine *e, uint32_t alloc);

#endif /* TP_ENGINE_INT_H */
