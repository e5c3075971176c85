/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A neighbour table (IPv4 ARP and IPv6 NDP cache) for one lcore: IP -> MAC with a state, a bounded
 * number of entries and a bounded queue of packets per unresolved entry (RFC 1122 §2.3.2.2,
 * RFC 4861 §7.2.2: "at least one" queued packet; we keep TP_NBR_PENDING).
 *
 * No locks: one lcore owns a table. No DPDK: queued packets are opaque pointers, released
 * through the caller's callback when an entry fails or is evicted, and handed back to the caller
 * when the address resolves.
 *
 * Entries live in sets of TP_NBR_WAYS (set-associative, like a CPU cache): a lookup scans one
 * set, and a new entry replaces a free, failed or the least recently confirmed one of its set.
 */
#ifndef TP_DPDK_NBR_H
#define TP_DPDK_NBR_H

#include <stdbool.h>
#include <stdint.h>

#define TP_NBR_WAYS	    8	  /* entries per set */
#define TP_NBR_PENDING	    4	  /* packets held per unresolved neighbour */
#define TP_NBR_RETRANS_MS   1000  /* RFC 4861 RETRANS_TIMER */
#define TP_NBR_PROBES	    3	  /* RFC 4861 MAX_MULTICAST_SOLICIT */
#define TP_NBR_REACHABLE_MS 30000 /* RFC 4861 REACHABLE_TIME: refresh after this */
#define TP_NBR_FAILED_MS    3000  /* a failed neighbour is not asked again before this */

/** Entry states. */
enum tp_nbr_state {
	TP_NBR_FREE = 0,
	TP_NBR_INCOMPLETE, /* asked, no answer yet: packets wait */
	TP_NBR_REACHABLE,  /* MAC known (refreshed in the background when older than reachable) */
	TP_NBR_FAILED,	   /* no answer after TP_NBR_PROBES requests */
};

/** One neighbour. */
struct tp_nbr {
	uint8_t family; /* TP_AF_INET / TP_AF_INET6 */
	uint8_t state;	/* enum tp_nbr_state */
	uint8_t probes; /* requests sent since the last answer */
	uint8_t npending;
	uint8_t mac[6];
	bool tagged; /* the VLAN tag to ask and send with */
	uint16_t tci;
	uint8_t ip[16];
	uint64_t confirmed_ms; /* last answer (REACHABLE) or creation / failure time */
	uint64_t probed_ms;    /* last request sent */
	void *pending[TP_NBR_PENDING];
};

/** A table. */
struct tp_nbr_table {
	struct tp_nbr *e;
	uint32_t set_mask;		       /* sets - 1 */
	void (*release)(void *ctx, void *pkt); /* frees a queued packet that will not be sent */
	void *ctx;
	struct tp_nbr *last; /* the entry last resolved: traffic comes in flows (may be stale) */
	uint64_t evictions;  /* entries replaced while in use */
	uint64_t failures;   /* entries that ran out of probes */
};

/** What tp_nbr_resolve() did with a packet. */
enum tp_nbr_result {
	TP_NBR_RESOLVED = 0, /* @c mac holds the address: send now */
	TP_NBR_HELD,	     /* queued until the neighbour answers (or fails) */
	TP_NBR_DROP,	     /* not queued (queue full, neighbour failed): the caller frees it */
};

/**
 * Set up @p t with room for at least @p capacity entries (rounded up to a power of two, at least
 * one set). @p release frees queued packets that will never be sent. Allocates (start-up only).
 * @return 0 or -ENOMEM.
 */
int tp_nbr_init(struct tp_nbr_table *t, unsigned capacity, void (*release)(void *, void *),
		void *ctx);

/** Release every queued packet and free the table. */
void tp_nbr_fini(struct tp_nbr_table *t);

/** The entry for @p ip, or NULL. */
struct tp_nbr *tp_nbr_lookup(struct tp_nbr_table *t, uint8_t family, const uint8_t *ip);

/**
 * Find the MAC of next hop @p ip for packet @p pkt (may be NULL: just ask).
 *
 * A known neighbour: TP_NBR_RESOLVED with @p mac set; when its answer is older than
 * TP_NBR_REACHABLE_MS and no request went out in the last TP_NBR_RETRANS_MS, *probe is set so the
 * caller sends a refresh request (the old MAC keeps being used meanwhile). An unknown one: a new
 * INCOMPLETE entry (tagged with @p tagged / @p tci for the requests), the packet queued, *probe
 * set: TP_NBR_HELD. While incomplete, packets queue up to TP_NBR_PENDING, then TP_NBR_DROP.
 * A failed neighbour drops packets until TP_NBR_FAILED_MS passed, then is asked again.
 */
enum tp_nbr_result tp_nbr_resolve(struct tp_nbr_table *t, uint8_t family, const uint8_t *ip,
				  bool tagged, uint16_t tci, uint64_t now_ms, void *pkt,
				  uint8_t mac[6], bool *probe);

/**
 * An answer: @p ip is at @p mac. Updates an existing entry, or creates one when @p create (the
 * message was addressed to us). Packets that waited for it are moved to @p out (up to
 * TP_NBR_PENDING): the caller writes @p mac into them and sends them.
 * @return the number of packets moved to @p out.
 */
unsigned tp_nbr_learn(struct tp_nbr_table *t, uint8_t family, const uint8_t *ip,
		      const uint8_t mac[6], bool create, uint64_t now_ms,
		      void *out[TP_NBR_PENDING]);

/**
 * Timers, every ~100 ms: INCOMPLETE entries whose last request is TP_NBR_RETRANS_MS old get
 * another (@p probe is called) until TP_NBR_PROBES went unanswered; then they turn FAILED and
 * their packets are released. FAILED entries older than TP_NBR_FAILED_MS are freed.
 */
void tp_nbr_sweep(struct tp_nbr_table *t, uint64_t now_ms,
		  void (*probe)(void *ctx, const struct tp_nbr *n), void *ctx);

#endif /* TP_DPDK_NBR_H */
