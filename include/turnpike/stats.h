/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Per-shard counters. Each shard writes only its own struct tp_stats (cache-aligned, no shared
 * lines) with plain relaxed loads and stores, never a locked instruction; the control thread
 * reads them with tp_stat_read() and sums over shards. Names come from X-macros, so metrics and
 * telemetry list exactly what the code counts.
 */
#ifndef TURNPIKE_STATS_H
#define TURNPIKE_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include <turnpike/wire.h>

/** X(NAME, "description") for every reason the engine drops a packet. */
#define TP_DROP_REASONS(X)                                                           \
	X(NOT_TURN, "neither STUN nor ChannelData")                                  \
	X(STUN_MALFORMED, "malformed STUN message (see the codec error counters)")   \
	X(STUN_NOT_REQUEST, "STUN response or unsupported indication from a client") \
	X(CHAN_MALFORMED, "malformed ChannelData")                                   \
	X(CHAN_UNBOUND, "ChannelData on a channel that is not bound")                \
	X(NO_ALLOCATION, "indication or data for a 5-tuple without an allocation")   \
	X(NO_PERMISSION, "no permission for the peer")                               \
	X(PEER_DENIED, "peer address refused by the access lists")                   \
	X(SEND_MALFORMED, "Send indication without a usable peer address or data")   \
	X(FAMILY_MISMATCH, "peer family has no relayed address in the allocation")   \
	X(UNAUTH_RATE, "401 response suppressed by the per-source rate limit")       \
	X(BANDWIDTH, "allocation over its bandwidth cap")                            \
	X(RELAY_NO_ALLOCATION, "peer packet to a relay port without an allocation")  \
	X(TOO_BIG, "relayed data too large to frame")                                \
	X(REPLY_FAILED, "no room to build the response")                             \
	X(UNKNOWN_ORIGIN, "packet descriptor with a bad origin or transport")

/** Drop reasons. */
enum tp_drop {
#define TP_STATS_X(name, desc) TP_DROP_##name,
	TP_DROP_REASONS(TP_STATS_X)
#undef TP_STATS_X
	TP_DROP_COUNT
};

/** X(NAME, "description") for the engine's event counters. */
#define TP_COUNTERS(X)                                               \
	X(RX_CLIENT, "packets from clients")                         \
	X(RX_PEER, "packets from peers")                             \
	X(RELAY_TO_PEER_PKTS, "packets relayed to peers")            \
	X(RELAY_TO_PEER_BYTES, "payload bytes relayed to peers")     \
	X(RELAY_TO_CLIENT_PKTS, "packets relayed to clients")        \
	X(RELAY_TO_CLIENT_BYTES, "payload bytes relayed to clients") \
	X(ALLOC_CREATED, "allocations created")                      \
	X(ALLOC_REFRESHED, "allocations refreshed")                  \
	X(ALLOC_DELETED, "allocations deleted by their clients")     \
	X(ALLOC_EXPIRED, "allocations expired")                      \
	X(PERM_CREATED, "permissions installed")                     \
	X(PERM_EXPIRED, "permissions expired")                       \
	X(CHAN_BOUND, "channels bound")                              \
	X(CHAN_EXPIRED, "channels expired")                          \
	X(AUTH_OK, "requests authenticated")                         \
	X(AUTH_FAIL, "requests that failed authentication")          \
	X(RETRANSMIT, "retransmissions answered from the transaction cache")

/** Event counters. */
enum tp_counter {
#define TP_STATS_X(name, desc) TP_CTR_##name,
	TP_COUNTERS(TP_STATS_X)
#undef TP_STATS_X
	TP_CTR_COUNT
};

/** X(NAME, index) for the methods counted per request and response. */
#define TP_STAT_METHODS(X)   \
	X(BINDING)           \
	X(ALLOCATE)          \
	X(REFRESH)           \
	X(SEND)              \
	X(CREATE_PERMISSION) \
	X(CHANNEL_BIND)      \
	X(OTHER)

/** Method indexes for the per-method counters. */
enum tp_stat_method {
#define TP_STATS_X(name) TP_SM_##name,
	TP_STAT_METHODS(TP_STATS_X)
#undef TP_STATS_X
	TP_SM_COUNT
};

/** X(code) for every error code the engine sends. */
#define TP_STUN_ERROR_CODES(X) \
	X(400) X(401) X(403) X(420) X(437) X(438) X(440) X(441) X(442) X(443) X(486) X(500) X(508)

/** Error-code indexes for the per-code counters. */
enum tp_stat_error {
#define TP_STATS_X(code) TP_SE_##code,
	TP_STUN_ERROR_CODES(TP_STATS_X)
#undef TP_STATS_X
	TP_SE_COUNT
};

/** One shard's counters. */
struct tp_stats {
	_Alignas(64) _Atomic uint64_t drop[TP_DROP_COUNT]; /**< by enum tp_drop */
	_Atomic uint64_t wire[TP_WIRE_ERR_COUNT];	   /**< codec errors, by enum tp_wire_err */
	_Atomic uint64_t ctr[TP_CTR_COUNT];		   /**< by enum tp_counter */
	_Atomic uint64_t requests[TP_SM_COUNT];		   /**< requests/indications received */
	_Atomic uint64_t success[TP_SM_COUNT];		   /**< success responses sent */
	_Atomic uint64_t errors[TP_SM_COUNT];		   /**< error responses sent */
	_Atomic uint64_t error_code[TP_SE_COUNT];	   /**< error responses by code */
	_Atomic uint64_t allocations;			   /**< live allocations (gauge) */
};

/** Add @p n to a counter owned by the calling shard: a plain load and store, no lock prefix. */
static inline void tp_stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/** Read a counter of any shard. */
static inline uint64_t tp_stat_read(const _Atomic uint64_t *c)
{
	return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

/** Add every counter of @p add (any shard's, read with tp_stat_read()) to @p sum. */
void tp_stats_add(struct tp_stats *sum, const struct tp_stats *add);

/** Name of a drop reason, e.g. "NO_PERMISSION". */
const char *tp_drop_name(unsigned reason);
/** Description of a drop reason. */
const char *tp_drop_desc(unsigned reason);
/** Name of a counter, e.g. "RELAY_TO_PEER_PKTS". */
const char *tp_counter_name(unsigned ctr);
/** Name of a method index, e.g. "ALLOCATE". */
const char *tp_stat_method_name(unsigned m);
/** The error code of an error index. */
int tp_stat_error_code(unsigned idx);

#endif /* TURNPIKE_STATS_H */
