/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The TURN engine: the state of one shard (allocations, permissions, channels, nonces, quotas,
 * timers) and the per-packet decisions, with no I/O of its own.
 *
 * Both data planes drive it the same way. Each worker owns one struct tp_engine and is the only
 * thread that touches it. For every received packet the worker fills a struct tp_pkt that points
 * at the L4 payload inside its own buffer, calls tp_engine_process() on a burst, and carries out
 * the verdicts:
 *
 * - TP_VERDICT_DROP: free the packet; the reason has already been counted.
 * - TP_VERDICT_REPLY: send reply_len bytes from the packet's reply buffer to @c to, from @c from.
 * - TP_VERDICT_FORWARD: send head + payload[off, off+len) + tail to @c to, from @c from. The
 *   payload is never copied by the engine: the DPDK plane prepends and appends inside the mbuf,
 *   the socket plane uses an iovec.
 *
 * Relay ports are numbers. The shard owning a relay port is tp_engine_port_shard(); the engine
 * tells its data plane when a port opens or closes through struct tp_engine_ops, so the socket
 * plane can bind or close a socket (a failed bind makes the engine try another port).
 *
 * Configuration reaches a shard as an immutable struct tp_engine_policy, swapped in at a
 * quiescent point with tp_engine_set_policy(); allocations survive the swap.
 */
#ifndef TURNPIKE_ENGINE_H
#define TURNPIKE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/stats.h>

/** Client transports. */
enum tp_transport {
	TP_TRANSPORT_UDP = 0,
	TP_TRANSPORT_TCP = 1,
	TP_TRANSPORT_TLS = 2,
};

/** Where a packet arrived. */
enum tp_pkt_origin {
	TP_PKT_FROM_CLIENT = 0, /**< on a listening address: STUN or ChannelData from a client */
	TP_PKT_FROM_PEER = 1,	/**< on a relay address and port: data from a peer */
};

/** One received packet, as a data plane hands it to the engine. */
struct tp_pkt {
	const uint8_t *data; /**< L4 payload (a whole datagram, or one stream frame) */
	uint32_t len;	     /**< its length */
	uint8_t origin;	     /**< enum tp_pkt_origin */
	uint8_t transport;   /**< enum tp_transport of the client side (UDP for peers) */
	uint16_t reply_cap;  /**< size of reply_buf */
	uint32_t conn;	     /**< stream connection id for TCP/TLS clients, 0 for UDP */
	struct tp_addr src;  /**< remote address and port */
	struct tp_addr dst;  /**< local address and port it arrived on */
	uint8_t *reply_buf; /**< where a REPLY verdict writes its message (may be NULL for peers) */
};

/** What to do with a packet. */
enum tp_verdict_kind {
	TP_VERDICT_DROP = 0,
	TP_VERDICT_REPLY = 1,
	TP_VERDICT_FORWARD = 2,
};

/** Verdict flags. */
enum tp_verdict_flag {
	TP_VF_DF = 1u << 0,	   /**< set Don't Fragment on the outgoing IP packet */
	TP_VF_TO_PEER = 1u << 1,   /**< goes out of a relay address to a peer */
	TP_VF_TO_CLIENT = 1u << 2, /**< goes out of a listening address to a client */
};

#define TP_VERDICT_HEAD_MAX 48 /**< Data indication head for an IPv6 peer: 20 + 24 + 4 */
#define TP_VERDICT_TAIL_MAX 4  /**< padding to a multiple of 4 */

/** The engine's decision for one packet. */
struct tp_verdict {
	uint8_t kind;			   /**< enum tp_verdict_kind */
	uint8_t flags;			   /**< enum tp_verdict_flag bits */
	uint8_t transport;		   /**< enum tp_transport to send on */
	uint8_t reason;			   /**< enum tp_drop for DROP */
	uint32_t conn;			   /**< stream connection for TCP/TLS clients */
	struct tp_addr from;		   /**< local address and port to send from */
	struct tp_addr to;		   /**< destination */
	uint32_t off;			   /**< FORWARD: payload start within the packet's data */
	uint32_t len;			   /**< FORWARD: payload length; REPLY: reply length */
	uint8_t head_len;		   /**< FORWARD: bytes of head to put before the payload */
	uint8_t tail_len;		   /**< FORWARD: bytes of tail to put after it */
	uint8_t head[TP_VERDICT_HEAD_MAX]; /**< ChannelData header or Data indication head */
	uint8_t tail[TP_VERDICT_TAIL_MAX]; /**< zero padding */
};

/** Current time, passed in by the caller: the engine never reads a clock. */
struct tp_clock {
	uint64_t mono_ms; /**< monotonic milliseconds: timers and lifetimes */
	uint64_t unix_s;  /**< wall-clock seconds: TURN REST username expiry */
};

/** Allocation events, for the data plane's log (slow path only). */
enum tp_engine_event_kind {
	TP_EVENT_ALLOC_CREATED = 0,
	TP_EVENT_ALLOC_REFRESHED,
	TP_EVENT_ALLOC_DELETED, /**< by the client: Refresh with LIFETIME 0, or stream closed */
	TP_EVENT_ALLOC_EXPIRED,
};

/** An allocation event. Pointers are valid during the callback only. */
struct tp_engine_event {
	enum tp_engine_event_kind kind;
	uint8_t transport;     /**< client transport */
	struct tp_addr client; /**< client address */
	struct tp_addr relay4; /**< IPv4 relayed address (family 0 if none) */
	struct tp_addr relay6; /**< IPv6 relayed address (family 0 if none) */
	const char *user;      /**< username (NUL-terminated) */
	uint32_t lifetime;     /**< seconds granted (0 when deleted or expired) */
};

/** Relay-port address families, as a bit mask. */
enum tp_relay_family {
	TP_RELAY_V4 = 1u << 0,
	TP_RELAY_V6 = 1u << 1,
};

/** How the engine tells its data plane about relay ports and allocations. */
struct tp_engine_ops {
	/**
	 * A relay port is about to be used for @p families (enum tp_relay_family bits). Return 0
	 * when it is ready, or a negative errno when it cannot be bound (the engine then tries
	 * another port). NULL: ports need no set-up (the DPDK plane).
	 */
	int (*relay_open)(void *ctx, uint16_t port, unsigned families);
	/** A relay port is no longer used. NULL when not needed. */
	void (*relay_close)(void *ctx, uint16_t port, unsigned families);
	/** An allocation event (for logging). May be NULL. */
	void (*event)(void *ctx, const struct tp_engine_event *ev);
	void *ctx; /**< passed to every callback */
};

/** A static user (long-term credentials). */
struct tp_engine_user {
	const char *name;     /**< username, as prepared (no SASLprep is applied) */
	const char *password; /**< password, likewise */
};

/** Everything configurable about the engine; copied by tp_engine_policy_create(). */
struct tp_engine_params {
	const char *realm;	     /**< REALM */
	const char *software;	     /**< SOFTWARE to send, or NULL for none */
	struct tp_addr relay4;	     /**< IPv4 relay address (port ignored), family 0 if none */
	struct tp_addr relay6;	     /**< IPv6 relay address, family 0 if none */
	uint16_t port_min, port_max; /**< relay port range, shared by all shards */
	const struct tp_engine_user *users; /**< static users */
	unsigned n_users;
	const char *rest_secret;       /**< TURN REST API shared secret, or NULL */
	bool auth_required;	       /**< false: requests need no credentials (tests only) */
	bool pwalg_md5;		       /**< offer PASSWORD-ALGORITHM MD5 */
	bool pwalg_sha256;	       /**< offer PASSWORD-ALGORITHM SHA-256 */
	bool pwalg_sha256_first;       /**< list SHA-256 before MD5 in PASSWORD-ALGORITHMS */
	uint32_t nonce_lifetime;       /**< seconds */
	uint32_t allocations_per_user; /**< 486 past this */
	uint32_t allocations_total;    /**< 508 past this, over all shards */
	uint32_t permissions_per_allocation;
	uint32_t channels_per_allocation;
	uint32_t default_lifetime;    /**< seconds (RFC 8656: 600) */
	uint32_t max_lifetime;	      /**< seconds (3600) */
	uint32_t permission_lifetime; /**< seconds (300) */
	uint32_t channel_lifetime;    /**< seconds (600) */
	uint64_t bandwidth_bps;	     /**< per allocation, both directions together; 0 = unlimited */
	uint32_t unauth_rate;	     /**< 401 responses per second per source IP; 0 = unlimited */
	const struct tp_cidr *allow; /**< peers allowed despite the deny lists */
	unsigned n_allow;
	const struct tp_cidr *deny; /**< peers denied in addition to the defaults */
	unsigned n_deny;
	bool allow_loopback;	   /**< let loopback peers through (tests only) */
	const struct tp_addr *own; /**< the server's own addresses: always denied as peers */
	unsigned n_own;
};

struct tp_engine;
struct tp_engine_policy;
struct tp_engine_shared;

/**
 * Build an immutable policy from @p p: copies every string and list, precomputes user keys and
 * the access lists. @return NULL with a message in @p err on invalid parameters.
 */
struct tp_engine_policy *tp_engine_policy_create(const struct tp_engine_params *p, char *err,
						 size_t errlen);

/** Free a policy that no shard uses any more. */
void tp_engine_policy_destroy(struct tp_engine_policy *pol);

/**
 * State shared by all shards: the nonce secret and the quota counters (atomics, touched on the
 * allocation path only). @p secret (32 bytes) may be NULL to draw a random one.
 */
struct tp_engine_shared *tp_engine_shared_create(unsigned nshards, const uint8_t *secret);
void tp_engine_shared_destroy(struct tp_engine_shared *sh);

/**
 * Create shard @p shard of @p nshards with room for @p max_allocations allocations.
 * @return NULL on allocation failure or bad arguments.
 */
struct tp_engine *tp_engine_create(struct tp_engine_shared *sh, const struct tp_engine_policy *pol,
				   unsigned shard, unsigned nshards, uint32_t max_allocations,
				   const struct tp_engine_ops *ops);

/** Destroy a shard, closing every relay port through its ops (without events). */
void tp_engine_destroy(struct tp_engine *e);

/** Switch to @p pol at a quiescent point; allocations stay. */
void tp_engine_set_policy(struct tp_engine *e, const struct tp_engine_policy *pol);

/**
 * The shard that owns relay port @p port: a pure function of the port and the range. Ports go
 * in even/odd pairs, so an EVEN-PORT reservation of port + 1 stays in the same shard.
 */
static inline unsigned tp_engine_port_shard(uint16_t port, uint16_t port_min, unsigned nshards)
{
	return nshards <= 1 ? 0 : (unsigned)((port >> 1) - (port_min >> 1)) % nshards;
}

/**
 * Decide @p n packets. @p v receives one verdict per packet, the same as tp_engine_handle() on
 * each in turn would give; but the burst is first walked in stages that prefetch, for every
 * packet, the hash bucket or relay-port slot, the allocation and its channel and permission, so
 * the cache misses of a burst overlap instead of following one another. Pass whole bursts.
 * @return the number of packets that were not dropped.
 */
unsigned tp_engine_process(struct tp_engine *e, const struct tp_pkt *pkts, struct tp_verdict *v,
			   unsigned n, const struct tp_clock *now);

/** Decide one packet. */
void tp_engine_handle(struct tp_engine *e, const struct tp_pkt *pkt, struct tp_verdict *v,
		      const struct tp_clock *now);

/** Run the timers: expire allocations, permissions, channels and reservations due by @p now. */
void tp_engine_tick(struct tp_engine *e, const struct tp_clock *now);

/**
 * A TCP or TLS client connection closed: delete the allocation it carried, if any
 * (@p client and @p server are the connection's remote and local addresses).
 */
void tp_engine_conn_closed(struct tp_engine *e, uint8_t transport, const struct tp_addr *client,
			   const struct tp_addr *server, const struct tp_clock *now);

/** Live allocations in this shard. */
uint32_t tp_engine_allocations(const struct tp_engine *e);

/** This shard's counters (written by the shard only; read them with tp_stat_read()). */
const struct tp_stats *tp_engine_stats(const struct tp_engine *e);

#endif /* TURNPIKE_ENGINE_H */
