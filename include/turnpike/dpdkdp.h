/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The DPDK data plane: poll-mode ports, one engine shard per worker lcore, and the L2/L3 a relay
 * needs (ARP, IPv6 neighbour discovery, ICMP echo) done in the lcore loop. No DPDK type appears
 * here, so the entry point includes this header like any other.
 *
 * Each worker runs the l3fwd loop on its own lcore (the main lcore stays the control thread):
 * receive a burst from each of its queues, classify it (ARP/NDP/ICMP answered on the spot, UDP
 * to a listening address and port from clients, UDP to a relay address and port from peers,
 * everything else dropped and counted), hand the UDP payloads to the engine without copying
 * them, rewrite each mbuf in place from the verdicts (new Ethernet/IP/UDP headers, ChannelData or
 * Data-indication heads prepended, padding appended, checksums by the NIC or by RFC 1624), and
 * transmit in bursts, flushed at least every 100 µs.
 *
 * Steering (DESIGN.md §4): client 5-tuples reach a worker by RSS; a peer packet for a relay port
 * of another shard (tp_engine_port_shard()) is handed to its owner over a single-producer,
 * single-consumer ring, one per ordered pair of workers. When the port supports rte_flow (found
 * by validating, creating and destroying a rule), rules send each relay-port partition straight
 * to its owner's queue instead; that needs a power-of-two number of workers and a relay port
 * range that is an aligned power-of-two block (the default 49152-65535 is), and the rings stay
 * as the safety net.
 *
 * Queues: port p gets max(queues, workers) RX/TX queue pairs (limited by the device); worker w
 * polls RX queue q of every port when q % workers == w, and transmits on TX queue w.
 *
 * Configuration reloads reach the workers through an RCU quiescent-state scheme
 * (rte_rcu_qsbr): tp_dpdkdp_set_policy() returns once no worker can still use the old policy.
 *
 * TCP and TLS listeners are not served here: the entry point runs them in the same process on
 * the socket plane (include/turnpike/sockdp.h), on kernel interfaces, relaying from
 * dataplane.dpdk.kernel_relay (DESIGN.md §6).
 */
#ifndef TURNPIKE_DPDKDP_H
#define TURNPIKE_DPDKDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/conf.h>
#include <turnpike/engine.h>
#include <turnpike/stats.h>

/** X(NAME, "description") for every reason the data plane itself drops a frame. */
#define TP_DPDKDP_DROPS(X)                                                                 \
	X(MALFORMED, "truncated or invalid Ethernet, ARP, IP, UDP or ICMP header")         \
	X(MULTI_SEGMENT, "frame in a chain of mbufs")                                      \
	X(ETHERTYPE, "EtherType other than ARP, IPv4 and IPv6 (or a second VLAN tag)")     \
	X(FRAGMENT, "IPv4 or IPv6 fragment")                                               \
	X(IP_PROTO, "IP protocol other than UDP and ICMP, or an IPv6 extension header")    \
	X(ICMP_OTHER, "ICMP message other than echo request and neighbour discovery")      \
	X(NOT_OURS, "IP, ARP or ND target that is not one of the ports' addresses")        \
	X(UDP_PORT, "UDP to our address on neither a listening port nor a relay port")     \
	X(L4_CKSUM, "bad UDP checksum (STUN from a client, or flagged by the NIC)")        \
	X(STEER_FULL, "hand-off ring to the owning worker full")                           \
	X(NO_ROUTE, "no port owns the source address, or no on-link match and no gateway") \
	X(NEIGH, "next hop unresolved: its pending queue was full or resolution failed")   \
	X(MTU, "rewritten frame longer than the port's MTU")                               \
	X(NO_ROOM, "too little headroom or tailroom in the mbuf for the rewrite")          \
	X(TX_FULL, "refused by the port's transmit queue")                                 \
	X(NO_MBUF, "mbuf pool empty when sending an ARP or ND request")

/** Data-plane drop reasons. */
enum tp_dpdkdp_drop {
#define TP_DPDKDP_X(name, desc) TP_DPDKDP_DROP_##name,
	TP_DPDKDP_DROPS(TP_DPDKDP_X)
#undef TP_DPDKDP_X
	TP_DPDKDP_DROP_COUNT
};

/** X(NAME, "description") for the data plane's event counters. */
#define TP_DPDKDP_COUNTERS(X)                                                          \
	X(RX, "frames received from the ports")                                        \
	X(TX, "frames accepted by the ports' transmit queues")                         \
	X(STEER_OUT, "peer packets handed to the worker owning their relay port")      \
	X(STEER_IN, "peer packets received from other workers")                        \
	X(ARP_REPLY, "ARP replies sent")                                               \
	X(ND_ADVERT, "neighbour advertisements sent")                                  \
	X(ECHO_REPLY, "ICMP and ICMPv6 echo replies sent")                             \
	X(NEIGH_REQUEST, "ARP requests and neighbour solicitations sent")              \
	X(NEIGH_LEARNED, "neighbour addresses learned or refreshed")                   \
	X(CKSUM_OFFLOAD, "UDP checksums left to the NIC")                              \
	X(CKSUM_INCREMENTAL, "UDP checksums updated from the received one (RFC 1624)") \
	X(CKSUM_FULL, "UDP checksums computed over the whole datagram")                \
	X(EVENTS_LOST, "allocation events not logged (event ring full)")

/** Data-plane counters. */
enum tp_dpdkdp_counter {
#define TP_DPDKDP_X(name, desc) TP_DPDKDP_CTR_##name,
	TP_DPDKDP_COUNTERS(TP_DPDKDP_X)
#undef TP_DPDKDP_X
	TP_DPDKDP_CTR_COUNT
};

/** A snapshot of data-plane counters (one worker or the sum). */
struct tp_dpdkdp_counters {
	uint64_t ctr[TP_DPDKDP_CTR_COUNT];   /**< by enum tp_dpdkdp_counter */
	uint64_t drop[TP_DPDKDP_DROP_COUNT]; /**< by enum tp_dpdkdp_drop */
};

/** Flags for struct tp_dpdkdp_conf. */
enum tp_dpdkdp_flag {
	/** Launch no lcores: the caller drives each worker with tp_dpdkdp_poll_once() (tests). */
	TP_DPDKDP_F_MANUAL = 1u << 0,
	/** Never install rte_flow rules; steer with the hand-off rings only. */
	TP_DPDKDP_F_NO_FLOW = 1u << 1,
	/** Compute checksums in software even where the port offers TX checksum offloads. */
	TP_DPDKDP_F_SW_CKSUM = 1u << 2,
};

/** What the DPDK plane needs to know; copied by tp_dpdkdp_start(). */
struct tp_dpdkdp_conf {
	const struct tp_conf_dpdk_port *ports; /**< the ports, by EAL device name */
	unsigned n_ports;
	/**
	 * NULL, or n_ports MAC addresses (6 bytes each) to use instead of the ports' own. The
	 * plane programs them with rte_eth_dev_default_mac_addr_set(); where the PMD cannot
	 * (net_ring, whose address is all zeros), it still sends from them, which suits PMDs that
	 * filter nothing.
	 */
	const uint8_t (*macs)[6];
	const struct tp_addr *listen; /**< UDP listening addresses and ports (may be wildcards) */
	unsigned n_listen;
	struct tp_addr relay4;	     /**< IPv4 relay address (family 0 if none) */
	struct tp_addr relay6;	     /**< IPv6 relay address (family 0 if none) */
	uint16_t port_min, port_max; /**< relay ports */
	unsigned workers;	     /**< worker lcores (engine shards) */
	uint32_t max_allocations;    /**< in all; each shard gets room for its share of ports */
	uint32_t mbufs;		     /**< mbufs per pool (one pool per NUMA socket); 0: 16384 */
	uint16_t burst;		     /**< RX/TX burst, at most 64; 0: 32 */
	unsigned flags;		     /**< enum tp_dpdkdp_flag bits */
};

struct tp_dpdkdp;

/**
 * Initialise the EAL with @p args (no program name: "-l", "0,1", "--no-pci", ...). Call once per
 * process, before tp_dpdkdp_start().
 * @return 0, or a negative errno with a message in @p err.
 */
int tp_dpdkdp_eal_init(const char *const *args, unsigned n, char *err, size_t errlen);

/** Close every port and release the EAL (after tp_dpdkdp_stop()). */
void tp_dpdkdp_eal_fini(void);

/**
 * Find and start every configured port (failing clearly when one is missing: the EAL starts
 * fine with zero ports), create the mbuf pools, the engine shards and the rings, register the
 * telemetry commands and launch the workers on the EAL's worker lcores (unless
 * TP_DPDKDP_F_MANUAL). The EAL must be initialised.
 * @return the plane, or NULL with a message in @p err.
 */
struct tp_dpdkdp *tp_dpdkdp_start(const struct tp_dpdkdp_conf *conf, struct tp_engine_shared *sh,
				  const struct tp_engine_policy *pol, char *err, size_t errlen);

/** Number of workers. */
unsigned tp_dpdkdp_workers(const struct tp_dpdkdp *dp);

/** True when rte_flow rules steer relay ports on every port (else the hand-off rings do). */
bool tp_dpdkdp_flow_steering(const struct tp_dpdkdp *dp);

/**
 * Publish @p pol to every worker and wait until none can still use the previous policy
 * (rte_rcu_qsbr); the caller may then free the previous one.
 */
void tp_dpdkdp_set_policy(struct tp_dpdkdp *dp, const struct tp_engine_policy *pol);

/** Add up the workers' engine counters into @p sum (zeroed first). */
void tp_dpdkdp_stats(const struct tp_dpdkdp *dp, struct tp_stats *sum);

/** The data-plane counters of worker @p worker, or of all workers when @p worker < 0. */
void tp_dpdkdp_counters(const struct tp_dpdkdp *dp, int worker, struct tp_dpdkdp_counters *out);

/** Live allocations of worker @p worker, or of all when @p worker < 0. */
uint64_t tp_dpdkdp_allocations(const struct tp_dpdkdp *dp, int worker);

/**
 * The control thread's share of the work, to call every few hundred milliseconds: log the
 * allocation events the workers queued (workers never write logs themselves).
 */
void tp_dpdkdp_service(struct tp_dpdkdp *dp);

/** Stop the workers, stop the ports and free the plane (the ports stay until eal_fini). */
void tp_dpdkdp_stop(struct tp_dpdkdp *dp);

/**
 * Run one iteration of worker @p worker's loop in the calling thread and flush its transmit
 * buffers: for tests with TP_DPDKDP_F_MANUAL, where no lcore runs the loop.
 * @return the number of frames it took in (from its queues and from other workers).
 */
unsigned tp_dpdkdp_poll_once(struct tp_dpdkdp *dp, unsigned worker);

/**
 * Tests only: pretend every port offers (@p on) or lacks IPv4 and UDP TX checksum offloads, so
 * both checksum paths can be exercised over a PMD that has none.
 */
void tp_dpdkdp_test_tx_offload(struct tp_dpdkdp *dp, bool on);

/** Name of a drop reason, e.g. "FRAGMENT". */
const char *tp_dpdkdp_drop_name(unsigned reason);

/** Name of a counter, e.g. "STEER_IN". */
const char *tp_dpdkdp_counter_name(unsigned ctr);

#endif /* TURNPIKE_DPDKDP_H */
