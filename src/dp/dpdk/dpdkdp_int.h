/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of the DPDK data plane, shared by its files. */
#ifndef TP_DPDKDP_INT_H
#define TP_DPDKDP_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_config.h>
#include <rte_mbuf.h>

#include <turnpike/dpdkdp.h>
#include <turnpike/engine.h>

#include "nbr.h"
#include "pkt.h"

#define TP_DP_BURST_MAX	  64   /* largest RX/TX burst */
#define TP_DP_MAX_PORTS	  8    /* configured ports */
#define TP_DP_MAX_WORKERS 64   /* worker lcores */
#define TP_DP_MAX_RXQ	  16   /* RX queues one worker polls over all ports */
#define TP_DP_MAX_ADDRS	  8    /* addresses per port */
#define TP_DP_REPLY_CAP	  1400 /* STUN responses: far smaller; fits any MTU >= 1500 */
#define TP_DP_STEER_RING  1024 /* hand-off ring slots per ordered pair of workers */
#define TP_DP_EVENT_RING  1024 /* allocation events per worker awaiting the control thread */
#define TP_DP_NEIGH_RING  256  /* neighbour updates per worker from the others */
#define TP_DP_NBR_ENTRIES 1024 /* neighbour entries per worker and port */
#define TP_DP_DRAIN_US	  100  /* flush partial TX bursts this often (l3fwd's BURST_TX_DRAIN_US) */
#define TP_DP_TICK_MS	  250  /* engine timers */
#define TP_DP_SWEEP_MS	  100  /* neighbour timers */
#define TP_DP_NO_PORT	  0xff

/* A configured port, read-only once the workers run. */
struct tp_dp_port {
	uint16_t port_id;
	int socket; /* NUMA socket of the device, or SOCKET_ID_ANY */
	uint8_t mac[TP_ETH_ALEN];
	uint16_t mtu;
	uint16_t nb_q; /* RX queues = TX queues */
	bool ol_ip4;   /* TX offload: IPv4 header checksum */
	bool ol_udp;   /* TX offload: UDP checksum */
	bool flow;     /* rte_flow rules steer relay ports to their owners */
	unsigned n_flows;
	struct rte_flow *flows[TP_DP_MAX_WORKERS * 2];
	struct tp_cidr addr[TP_DP_MAX_ADDRS]; /* own addresses; prefix = on-link */
	unsigned n_addr;
	struct tp_addr gw4, gw6;
	struct rte_mempool *pool;
	char name[64];
};

/* A neighbour update one worker learned and passes to the others. */
struct tp_dp_neigh_msg {
	uint8_t port; /* index into dp->ports */
	uint8_t family;
	uint8_t create; /* the message was addressed to us: add the neighbour if unknown */
	uint8_t reserved;
	uint8_t mac[TP_ETH_ALEN];
	uint8_t reserved2[2];
	uint8_t ip[16];
};
/*
 * rte_ring element sizes are multiples of 4, and the ring copies elements as uint32_t: messages
 * cross it as uint32_t arrays, memcpy'd from and to the structs. (Dequeuing straight into a struct
 * lets the compiler's type-based alias analysis treat its fields as never written: clang -O2
 * miscompiled exactly that.)
 */
#define TP_DP_NEIGH_WORDS (sizeof(struct tp_dp_neigh_msg) / 4)
_Static_assert(sizeof(struct tp_dp_neigh_msg) % 4 == 0, "neighbour message size");

/* An allocation event for the control thread's log. */
struct tp_dp_event {
	uint8_t kind; /* enum tp_engine_event_kind */
	uint8_t transport;
	uint16_t worker;
	uint32_t lifetime;
	struct tp_addr client, relay4, relay6;
	char user[64];
};
#define TP_DP_EVENT_WORDS (sizeof(struct tp_dp_event) / 4)
_Static_assert(sizeof(struct tp_dp_event) % 4 == 0, "event size");

/* The next hop last used toward a destination (routes do not change while workers run). */
struct tp_dp_route {
	uint8_t family; /* 0: nothing cached */
	uint8_t dst[16];
	uint8_t nh[16];
};

/* The port that owns an address a verdict sends from (ports do not change while workers run). */
struct tp_dp_from {
	uint8_t family; /* 0: nothing cached */
	uint8_t port;	/* index into dp->ports */
	uint8_t ip[16];
};

struct tp_dp_txbuf {
	uint16_t n;
	struct rte_mbuf *m[TP_DP_BURST_MAX];
};

/* One worker: its own cache lines, touched by its lcore only (counters are read by others). */
struct tp_dp_worker {
	struct tp_dpdkdp *dp;
	unsigned id;
	unsigned lcore;
	struct tp_engine *eng;
	const struct tp_engine_policy *pol; /* the one its engine uses */
	struct {
		uint8_t port; /* index into dp->ports */
		uint16_t queue;
	} rxq[TP_DP_MAX_RXQ];
	unsigned n_rxq;
	uint16_t ip_id; /* IPv4 identification of the frames it builds */
	struct tp_clock clock;
	uint64_t tsc_clock, tsc_drain, tsc_tick, tsc_sweep;
	struct rte_ring *events; /* to the control thread (single producer, single consumer) */
	struct rte_ring *neigh;	 /* from the other workers (multi producer, single consumer) */
	struct tp_nbr_table nbr[TP_DP_MAX_PORTS];
	struct tp_dp_route route[TP_DP_MAX_PORTS];
	struct tp_dp_from from[2]; /* [to a peer]: the relay address, else a listening one */
	struct tp_dp_txbuf tx[TP_DP_MAX_PORTS]; /* TX queue = id on every port */
	_Atomic uint64_t ctr[TP_DPDKDP_CTR_COUNT];
	_Atomic uint64_t drop[TP_DPDKDP_DROP_COUNT];
	/* per-burst scratch */
	unsigned n_eng;
	struct rte_mbuf *eng_m[TP_DP_BURST_MAX];
	struct tp_frame fr[TP_DP_BURST_MAX];
	struct tp_pkt pkts[TP_DP_BURST_MAX];
	struct tp_verdict v[TP_DP_BURST_MAX];
	uint8_t reply[TP_DP_BURST_MAX][TP_DP_REPLY_CAP];
} __rte_cache_aligned;

struct tp_dpdkdp {
	struct tp_dpdkdp_conf conf;
	struct tp_addr listen[16];
	struct tp_dp_port ports[TP_DP_MAX_PORTS];
	unsigned n_ports;
	uint8_t port_idx[RTE_MAX_ETHPORTS]; /* port id -> index, TP_DP_NO_PORT */
	struct tp_engine_shared *sh;
	unsigned nworkers;
	struct tp_dp_worker *workers; /* rte_zmalloc'd, cache-aligned */
	struct rte_ring *steer[TP_DP_MAX_WORKERS][TP_DP_MAX_WORKERS]; /* [from][to] */
	struct rte_rcu_qsbr *qs;
	_Atomic(const struct tp_engine_policy *) policy;
	_Atomic bool stop;
	bool launched;
	bool sw_cksum;
	int force_offload; /* tests: -1 as the port says, 0 off, 1 on */
	uint64_t tsc_hz, tsc_per_ms, tsc_drain;
	uint64_t base_mono_ms, base_unix_ms, base_tsc;
};

static inline void tp_dp_count(struct tp_dp_worker *w, enum tp_dpdkdp_counter c, uint64_t n)
{
	tp_stat_add(&w->ctr[c], n);
}

static inline void tp_dp_drop(struct tp_dp_worker *w, struct rte_mbuf *m, enum tp_dpdkdp_drop why)
{
	tp_stat_add(&w->drop[why], 1);
	rte_pktmbuf_free(m);
}

/* Port checksum offloads as the rewrite sees them (tests may force them). */
static inline bool tp_dp_ol_udp(const struct tp_dpdkdp *dp, const struct tp_dp_port *p)
{
	return dp->force_offload >= 0 ? dp->force_offload == 1 : p->ol_udp && !dp->sw_cksum;
}

static inline bool tp_dp_ol_ip4(const struct tp_dpdkdp *dp, const struct tp_dp_port *p)
{
	return dp->force_offload >= 0 ? dp->force_offload == 1 : p->ol_ip4 && !dp->sw_cksum;
}

/* port.c */
int tp_dp_ports_start(struct tp_dpdkdp *dp, char *err, size_t errlen);
void tp_dp_ports_stop(struct tp_dpdkdp *dp);
/* The port index owning IP address @a (exact match), or TP_DP_NO_PORT. */
unsigned tp_dp_port_of_addr(const struct tp_dpdkdp *dp, const struct tp_addr *a);
/* True when @ip (family @family) is an address of port @p. */
bool tp_dp_port_has_ip(const struct tp_dp_port *p, uint8_t family, const uint8_t *ip);

/* worker.c */
int tp_dp_worker_main(void *arg);
unsigned tp_dp_worker_poll(struct tp_dp_worker *w);
void tp_dp_tx(struct tp_dp_worker *w, unsigned port, struct rte_mbuf *m);
void tp_dp_flush(struct tp_dp_worker *w);

/* l2.c: ARP, neighbour discovery, ICMP echo and next-hop resolution */
void tp_dp_l2_input(struct tp_dp_worker *w, unsigned port, struct rte_mbuf *m,
		    const struct tp_frame *f);
/* Resolve the next hop toward @to on @port and send @m (Ethernet source already written; the
 * destination MAC is filled in here), or hold it until resolved, or drop it. */
void tp_dp_l2_send(struct tp_dp_worker *w, unsigned port, struct rte_mbuf *m,
		   const struct tp_addr *to, bool tagged, uint16_t tci);
void tp_dp_l2_neigh_input(struct tp_dp_worker *w);
void tp_dp_l2_sweep(struct tp_dp_worker *w);
void tp_dp_l2_release(void *ctx, void *pkt);

/* rewrite.c: verdicts into frames */
void tp_dp_reply(struct tp_dp_worker *w, unsigned k);
void tp_dp_forward(struct tp_dp_worker *w, unsigned k);

/* telemetry.c */
void tp_dp_telemetry_attach(struct tp_dpdkdp *dp);
void tp_dp_telemetry_detach(struct tp_dpdkdp *dp);

#endif /* TP_DPDKDP_INT_H */
