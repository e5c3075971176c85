/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rig of the DPDK pipeline tests: two net_ring ports created once per process, a plane
 * started per case in manual mode (the test drives its workers), frames in and out of the
 * rings, and a small TURN client built on the codec.
 */
#ifndef TP_TEST_PIPELINE_RIG_H
#define TP_TEST_PIPELINE_RIG_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/dpdkdp.h>
#include <turnpike/engine.h>
#include <turnpike/stats.h>
#include <turnpike/stun.h>

#include "pkt.h"

struct rte_mempool;
struct rte_ring;

#define N(a)	 (sizeof(a) / sizeof((a)[0]))
#define PORT_MIN 49152
#define PORT_MAX 65535
#define REALM	 "turnpike.test"
#define USER	 "alice"
#define PASSWORD "wonderland"
#define CHANNEL	 0x4000
#define CLI4	 "10.99.0.50:40000"
#define SRV4	 "10.99.0.2:3478"
#define CLI6	 "[fd00:99::50]:40000"
#define SRV6	 "[fd00:99::2]:3478"
#define PEER4	 "9.9.9.9:5000"
#define PEER6	 "[2606:4700::1111]:5000"

extern const uint8_t PMAC[6]; /* the port's (set through tp_dpdkdp_conf.macs) */
extern const uint8_t CMAC[6]; /* the client's, on the segment */
extern const uint8_t GMAC[6]; /* the gateway's */

struct ringport {
	char name[32]; /* the ethdev name: "net_ring_" + the name given */
	uint16_t id;
	unsigned nq;
	struct rte_ring *rx[2], *tx[2];
};

struct rig {
	bool up;
	struct ringport *rp;
	unsigned workers;
	struct tp_dpdkdp *dp;
	struct tp_engine_params p;
	struct tp_engine_user users[1];
	struct tp_addr own[2];
	struct tp_engine_policy *pol, *old_pol;
	struct tp_engine_shared *sh;
	struct tp_conf_dpdk_port port;
	struct tp_cidr addrs[2];
	struct tp_addr listen[2];
	uint32_t tid;
};

struct out {
	_Alignas(8) uint8_t b[2048];
	size_t len;
	uint64_t ol_flags;
	unsigned l2_len, l3_len;
};

struct req {
	uint16_t method;
	uint16_t cls; /* TP_STUN_REQUEST or TP_STUN_INDICATION */
	bool transport;
	uint8_t family; /* REQUESTED-ADDRESS-FAMILY */
	bool dont_fragment;
	const char *peer;
	uint16_t channel;
	const void *data;
	size_t data_len;
	bool auth;
	const char *nonce;
};

struct resp {
	struct out o;
	struct tp_frame f;
	uint8_t stun[1500];
	struct tp_stun_msg m;
};

extern struct ringport P1, P2; /* one queue pair, two queue pairs */
extern struct rte_mempool *test_pool;
extern struct rig R;

/* Process: the EAL (-l 0 --no-pci --no-huge --no-shconf, a unique --file-prefix) and the ports. */
int rig_eal_init(void);
void rig_eal_fini(void);

struct tp_addr addr(const char *s);
struct tp_cidr cidr(const char *s);

/* A plane of @workers workers on P1 or P2; flags TP_DPDKDP_F_* (MANUAL is always added). */
void rig_params(bool auth);
void rig_start_flags(unsigned workers, bool auth, unsigned flags);
void rig_start(unsigned workers, bool auth); /* with TP_DPDKDP_F_NO_FLOW */
void rig_stop(void);
void rig_teardown(void); /* checked fixture: stops a plane a failed case left running */

void inject(unsigned q, const uint8_t *b, size_t len);
void poll_worker(unsigned w);
void poll_all(void); /* every worker, twice: hand-offs and neighbour news arrive */
bool take(unsigned q, struct out *o);
void must_take(unsigned q, struct out *o);
void expect_nothing(void);
struct tp_dpdkdp_counters counters(int w);
struct tp_stats engine_stats(void);
void assert_frame_eq(const struct out *o, const uint8_t *exp, size_t len);
void complete_offload(struct out *o);			 /* what a NIC would fill in */
void parse_udp(const struct out *o, struct tp_frame *f); /* + DPDK's checksum verifiers */
size_t mk_udp(uint8_t *b, const uint8_t *smac, const struct tp_addr *src, const struct tp_addr *dst,
	      const void *pay, size_t len, bool zero_cksum);
void prime_neighbours(void); /* the gateway and the client announce themselves */

size_t build_req(uint8_t *buf, size_t cap, const struct req *rq);
void transact(unsigned q, const char *cli, const char *srv, const struct req *rq, struct resp *r);
void expect_success(const struct resp *r);
struct tp_addr allocate(unsigned q, const char *cli, const char *srv, uint8_t family);
void permit(unsigned q, const char *cli, const char *srv, const char *peer);
void bind_channel(unsigned q, const char *cli, const char *srv, const char *peer);

#endif /* TP_TEST_PIPELINE_RIG_H */
