/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pipeline benchmark's rig: the EAL in this process, one net_ring port whose RX and TX rings
 * the benchmark fills and drains, a DPDK plane of one worker in manual mode (the benchmark calls
 * tp_dpdkdp_poll_once()), and frames built around the payloads of bench_common's TURN client.
 * After tests/dpdk/pipeline_rig.c, reduced to what a benchmark needs.
 */
#ifndef TP_BENCH_RIG_H
#define TP_BENCH_RIG_H

#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/dpdkdp.h>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

struct brig {
	struct rte_mempool *pool; /* the frames the benchmark injects */
	struct rte_ring *rx, *tx; /* the port's: we enqueue to rx, dequeue from tx */
	uint16_t port_id;
	struct tp_dpdkdp *dp;
	struct tp_engine_policy *pol;
	struct tp_engine_shared *sh;
	struct tp_addr srv;   /* listening address: 10.99.0.2:3478 */
	struct tp_addr relay; /* relay address: 10.99.0.2 */
	uint64_t tsc_hz;
};

extern struct brig B;
extern const uint8_t BR_PMAC[6], BR_GMAC[6];

/* EAL on the first CPU this process may run on, the pool and the port; 0 or -1. */
int brig_eal_init(void);
void brig_eal_fini(void);
/* A plane with authentication required and room for @max_allocs allocations. */
int brig_start(uint32_t max_allocs);
void brig_stop(void);

/* Ethernet (from the gateway's MAC) + IPv4 + UDP (checksum filled in) around @pay. */
size_t brig_frame(uint8_t *b, const struct tp_addr *src, const struct tp_addr *dst, const void *pay,
		  size_t len);
/* Put @len bytes of @frame into a fresh mbuf. */
struct rte_mbuf *brig_mbuf(const uint8_t *frame, size_t len);
/* Enqueue @n mbufs on the port's RX ring. */
void brig_inject(struct rte_mbuf **m, unsigned n);
/* Dequeue what the port transmitted, at most @cap; the caller frees them. */
unsigned brig_take(struct rte_mbuf **m, unsigned cap);
void brig_free(struct rte_mbuf **m, unsigned n);
/* The UDP payload of a transmitted frame and its destination; NULL if not IPv4/UDP. */
const uint8_t *brig_udp_payload(struct rte_mbuf *m, size_t *len, struct tp_addr *dst);
/* The gateway announces itself (ARP), so replies to off-link clients can leave. */
void brig_prime(void);

#endif /* TP_BENCH_RIG_H */
