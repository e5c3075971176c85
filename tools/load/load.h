/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turnpike-load: a TURN load generator. The pieces and how they meet:
 *
 *   opts.c     command line -> struct ld_conf
 *   turn.c     the TURN client (Allocate, CreatePermission, ChannelBind, Refresh), windowed
 *   traffic.c  packet templates, pacing, receive validation, the run loop
 *   hist.c     log-linear latency histogram
 *   report.c   progress lines and the JSON summary
 *   be_sock.c  back end on kernel UDP sockets (sendmmsg/recvmmsg, epoll)
 *   be_dpdk.c  back end on a DPDK port with its own ARP/IPv4/UDP (only with DPDK)
 *
 * The TURN and traffic logic never know which back end carries their packets: a back end is
 * the small table in struct ld_backend_ops (send a batch, receive a batch, now(), rebind), the way
 * Knot DNS puts recvmmsg and XDP behind one table.
 */
#ifndef TURNPIKE_LOAD_H
#define TURNPIKE_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/crypto.h>

#define LD_BATCH_MAX   64   /**< largest send/receive batch */
#define LD_PKT_MAX     2048 /**< largest datagram handled */
#define LD_PAYLOAD_MIN 24   /**< magic + flow + seq + timestamp */
#define LD_PAYLOAD_MAX 1400
#define LD_EP_PEER     UINT32_MAX /**< endpoint number of the peer sink */
#define LD_STEPS_MAX   32	  /**< --steps entries */

enum ld_backend_kind {
	LD_BACKEND_SOCKETS,
	LD_BACKEND_DPDK,
};

enum ld_mode {
	LD_MODE_CHANNEL,
	LD_MODE_SEND,
};

/** Traffic directions, as bits. */
enum ld_dir {
	LD_C2P = 0, /**< client -> relay -> peer */
	LD_P2C = 1, /**< peer -> relay -> client */
};
#define LD_DIR_BIT(d) (1u << (d))

/** Everything the command line says. */
struct ld_conf {
	enum ld_backend_kind backend;
	struct tp_addr server; /**< the TURN server's UDP address */
	struct tp_addr peer;   /**< the peer sink; port 0: ephemeral (sockets) */
	struct tp_addr client_ip;
	bool have_peer, have_client_ip;
	uint32_t allocations;
	const char *user, *password;
	const char *rest_secret, *rest_user;
	uint32_t rest_ttl;
	enum ld_mode mode;
	unsigned dirs; /**< LD_DIR_BIT() set */
	uint64_t rate; /**< packets/s offered in total; 0 = flat out */
	uint32_t payload;
	double duration, warmup, drain, progress, refresh, setup_timeout;
	uint32_t window;	    /**< control transactions in flight */
	bool keep;		    /**< --keep: leave the allocations in place at the end */
	double steps[LD_STEPS_MAX]; /**< --steps: further measurements, as fractions of the first */
	unsigned n_steps;
	unsigned burst;	     /**< packets per send batch */
	unsigned flow_burst; /**< consecutive packets per allocation; 0 = back end's default */
	struct tp_cidr dpdk_net;
	struct tp_addr dpdk_ip;
	bool have_dpdk_ip;
	uint16_t dpdk_port_base;
	int eal_argc;
	char **eal_argv; /**< EAL arguments, argv[0] included */
};

/** One datagram crossing the back-end interface. */
struct ld_pkt {
	uint8_t *data;	     /**< the UDP payload */
	uint32_t len;	     /**< its length */
	uint32_t ep;	     /**< local endpoint: allocation index, or LD_EP_PEER */
	struct tp_addr addr; /**< send: destination; receive: source */
};

struct ld_backend;

/** A back end: a table of three functions plus clean-up. */
struct ld_backend_ops {
	const char *name;
	/** Send @p n datagrams; returns how many were accepted (the rest are dropped). */
	unsigned (*send)(struct ld_backend *b, const struct ld_pkt *pkts, unsigned n);
	/**
	 * Receive up to @p n datagrams, waiting at most @p timeout_ns when none is ready (a
	 * polling back end ignores it). Their data stays valid until the next call.
	 */
	unsigned (*recv)(struct ld_backend *b, struct ld_pkt *pkts, unsigned n,
			 uint64_t timeout_ns);
	/** Monotonic nanoseconds. */
	uint64_t (*now)(struct ld_backend *b);
	/**
	 * Give client endpoint @p ep a new local port: a server that still holds an allocation
	 * for the old 5-tuple (a previous run's, not yet expired) answers its Allocate with 437.
	 * Returns 0, or -1 when the back end cannot.
	 */
	int (*rebind)(struct ld_backend *b, uint32_t ep);
	void (*destroy)(struct ld_backend *b);
};

/** The part of a back end that the rest of the program sees. */
struct ld_backend {
	const struct ld_backend_ops *ops;
	struct tp_addr peer;	 /**< the peer sink's address as bound */
	unsigned flow_burst;	 /**< preferred consecutive packets per allocation */
	uint64_t rx_foreign;	 /**< frames received that were not for an endpoint */
	uint64_t tx_no_neighbor; /**< datagrams not sent for want of a MAC address */
};

struct ld_backend *ld_sock_create(const struct ld_conf *c, char *err, size_t errlen);
struct ld_backend *ld_dpdk_create(const struct ld_conf *c, char *err, size_t errlen);
/** True when this binary was built with the DPDK back end. */
bool ld_dpdk_available(void);

/* --- options (opts.c) --- */

/** Parse the command line; returns 0, 1 for --help (printed), or 2 after printing an error. */
int ld_opts_parse(struct ld_conf *c, int argc, char **argv);

/* --- latency histogram (hist.c) --- */

#define LD_HIST_SUB_BITS 5
#define LD_HIST_BUCKETS	 ((64 - LD_HIST_SUB_BITS + 1) << LD_HIST_SUB_BITS)

/** Log-linear histogram of nanosecond values: 32 linear steps per power of two (~3%). */
struct ld_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t b[LD_HIST_BUCKETS];
};

static inline unsigned ld_hist_bucket(uint64_t v)
{
	unsigned e;

	if (v < (1u << LD_HIST_SUB_BITS))
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return ((e - LD_HIST_SUB_BITS + 1) << LD_HIST_SUB_BITS) |
	       (unsigned)((v >> (e - LD_HIST_SUB_BITS)) & ((1u << LD_HIST_SUB_BITS) - 1));
}

static inline void ld_hist_add(struct ld_hist *h, uint64_t v)
{
	h->b[ld_hist_bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

/** Merge @p src into @p dst. */
void ld_hist_merge(struct ld_hist *dst, const struct ld_hist *src);
/** The value at quantile @p q (0..1): the middle of its bucket; 0 when empty. */
uint64_t ld_hist_quantile(const struct ld_hist *h, double q);

/* --- the TURN client (turn.c) --- */

struct ld_turn;

/** State of one allocation the data path needs. */
struct ld_flow {
	struct tp_addr relayed; /**< XOR-RELAYED-ADDRESS */
	bool ready;		/**< allocated, permission (and channel) in place */
};

struct ld_turn *ld_turn_create(const struct ld_conf *c, struct ld_backend *be, char *err,
			       size_t errlen);
void ld_turn_destroy(struct ld_turn *t);
/** Allocate everything; returns 0 or -1 with the reason in @p err. Sets @p secs. */
int ld_turn_setup(struct ld_turn *t, double *secs, char *err, size_t errlen);
/** A STUN message that arrived on client endpoint @p ep. */
void ld_turn_input(struct ld_turn *t, uint32_t ep, const uint8_t *p, size_t len, uint64_t now);
/** Retransmissions and refreshes due at @p now; sends what it has to. */
void ld_turn_tick(struct ld_turn *t, uint64_t now);
/** Release every allocation (Refresh LIFETIME 0), waiting at most @p secs. */
void ld_turn_teardown(struct ld_turn *t, double secs);
/** The allocations, indexed by endpoint. */
const struct ld_flow *ld_turn_flows(const struct ld_turn *t);
/** Counters: refresh cycles done, control errors, retransmissions, clients moved after 437. */
void ld_turn_counters(const struct ld_turn *t, uint64_t *refreshes, uint64_t *errors,
		      uint64_t *retransmits, uint64_t *rebinds);

/* --- traffic and report (traffic.c, report.c) --- */

/** What one direction saw. */
struct ld_dir_stats {
	uint64_t sent;	     /**< measured datagrams accepted by the back end */
	uint64_t received;   /**< measured datagrams that arrived valid */
	uint64_t reordered;  /**< arrivals with a seq below the flow's highest */
	uint64_t duplicates; /**< seq seen before */
	uint64_t warm_sent;  /**< sent during the warm-up (not counted) */
	uint64_t warm_rcvd;  /**< received from the warm-up (not counted) */
	uint64_t tx_failed;  /**< measured datagrams the back end did not accept */
	uint64_t bad;	     /**< arrivals that failed validation */
	struct ld_hist lat;  /**< one-way latency, ns */
};

/** The outcome of a run, for the report. */
struct ld_result {
	unsigned step;	/**< 0: the first measurement; i: the i-th of --steps */
	double step_of; /**< the fraction of --steps this measurement ran at (0: first) */
	double setup_s;
	double measured_s; /**< time traffic was counted */
	struct ld_dir_stats dir[2];
	uint64_t refreshes, ctl_errors, retransmits, rebinds;
	uint64_t rx_foreign, tx_no_neighbor;
};

/** Run the traffic phase; fills @p r. Returns 0. */
int ld_traffic_run(const struct ld_conf *c, struct ld_backend *be, struct ld_turn *t,
		   struct ld_result *r);

/** Print the human summary and, as the last line of stdout, the JSON object. */
void ld_report(const struct ld_conf *c, const struct ld_backend *be, const struct ld_result *r);

/** Text of an address, e.g. "127.0.0.1:3478" (static buffer per call site: use @p buf). */
const char *ld_addr_str(const struct tp_addr *a, char buf[TP_ADDR_STRLEN]);

/** Set by SIGINT/SIGTERM: stop sending, drain and report. */
extern volatile int ld_stop;

#endif /* TURNPIKE_LOAD_H */
