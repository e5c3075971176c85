/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turnpike-bench-pipeline: the cost of the DPDK pipeline per packet, DESIGN.md §10 "Pipeline
 * cost", in one process over net_ring (no NIC, no hugepages).
 *
 * One plane with one worker in manual mode, authentication required. For each path and each
 * number of live allocations (1, 10k, and 64k = every port of the one relay address), bursts of
 * 32 frames are put on the port's RX ring (untimed) and one tp_dpdkdp_poll_once() is timed with
 * the TSC: RX burst, classification, engine, rewrite, TX burst. Traffic goes to allocations
 * picked uniformly at random among the live ones. The floor is measured in the same run, burst
 * by burst, on the same frames and the same port: RX burst, swap the MAC addresses, TX burst,
 * timed the same way (DPDK's l2fwd). Each figure is the median of several repetitions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>
#include <turnpike/stun_build.h>

#include "bench_common.h"
#include "rig.h"

#define BURST	  32
#define FRESH_0	  1000000u /* client indexes of the Allocates measured */
#define MAX_REPS  9	   /* at most */
#define FRAME_MAX 512

static const char usage[] =
	"usage: turnpike-bench-pipeline [--quick] [--json-only] [--help]\n"
	"  DPDK pipeline cost per packet over net_ring (one worker, manual polling), next to an\n"
	"  l2fwd-like floor on the same frames: ChannelData both ways, Send and Data indications,\n"
	"  Binding, authenticated Allocate, CreatePermission, ChannelBind; 1, 10k, 64k "
	"allocations.\n"
	"  Prints a table and one JSON object per line; pin it: taskset -c 1 ...\n";

static struct bc_opts opts;
static struct bc_cred cred;
static uint32_t n_live; /* clients 0..n_live-1 hold an allocation each */
static uint16_t relay_port[BC_PORTS];
static char nonces[BC_PORTS][BC_NONCE_MAX];
static char fresh_nonce[2 * BURST][BC_NONCE_MAX];
static uint32_t fresh = FRESH_0;
static struct tp_addr peer, peer_di; /* :5000 has the channel; :5001 gets Data indications */
static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint8_t payload[BC_PAYLOAD];

/* Frames of the burst being measured, replayed for the floor. */
static uint8_t saved[BURST][FRAME_MAX];
static size_t saved_len[BURST];
static uint32_t burst_idx[BURST];
static unsigned bad; /* responses or forwards missing or wrong in this measurement */

#define say(...)                             \
	do {                                 \
		if (!opts.json_only)         \
			printf(__VA_ARGS__); \
	} while (0)

static void die(const char *what)
{
	fprintf(stderr, "turnpike-bench-pipeline: %s\n", what);
	exit(1);
}

static uint32_t client_index(const struct tp_addr *a)
{
	return ((tp_get_be32(a->ip) - 0xc6120000u) << 6) | ((uint32_t)(a->port - 20000) & 63);
}

static char *nonce_of(uint32_t i)
{
	return i < BC_PORTS ? nonces[i] : fresh_nonce[i % (2 * BURST)];
}

/* --- requests --- */

typedef size_t (*mk_fn)(uint8_t *msg, size_t cap, uint32_t i);
typedef void (*got_fn)(uint32_t i, const uint8_t *resp, size_t len);

static size_t mk_unauth_alloc(uint8_t *msg, size_t cap, uint32_t i)
{
	struct bc_req rq = { .method = TP_STUN_ALLOCATE, .transport = true };

	(void)i;
	return bc_build(msg, cap, &rq);
}

static size_t mk_alloc(uint8_t *msg, size_t cap, uint32_t i)
{
	struct bc_req rq = {
		.method = TP_STUN_ALLOCATE, .transport = true, .cred = &cred, .nonce = nonce_of(i)
	};

	return bc_build(msg, cap, &rq);
}

static size_t mk_delete(uint8_t *msg, size_t cap, uint32_t i)
{
	struct bc_req rq = { .method = TP_STUN_REFRESH,
			     .has_lifetime = true,
			     .lifetime = 0,
			     .cred = &cred,
			     .nonce = nonce_of(i) };

	return bc_build(msg, cap, &rq);
}

static size_t mk_perm(uint8_t *msg, size_t cap, uint32_t i)
{
	struct bc_req rq = { .method = TP_STUN_CREATE_PERMISSION,
			     .peer = &peer,
			     .cred = &cred,
			     .nonce = nonce_of(i) };

	return bc_build(msg, cap, &rq);
}

static size_t mk_bind(uint8_t *msg, size_t cap, uint32_t i)
{
	struct bc_req rq = { .method = TP_STUN_CHANNEL_BIND,
			     .peer = &peer,
			     .channel = BC_CHANNEL,
			     .cred = &cred,
			     .nonce = nonce_of(i) };

	return bc_build(msg, cap, &rq);
}

static size_t mk_binding(uint8_t *msg, size_t cap, uint32_t i)
{
	struct bc_req rq = { .method = TP_STUN_BINDING };

	(void)i;
	return bc_build(msg, cap, &rq);
}

static size_t mk_send(uint8_t *msg, size_t cap, uint32_t i)
{
	struct bc_req rq = { .method = TP_STUN_SEND,
			     .cls = TP_STUN_INDICATION,
			     .peer = &peer,
			     .data = payload,
			     .data_len = sizeof(payload) };

	(void)i;
	return bc_build(msg, cap, &rq);
}

static void got_nonce(uint32_t i, const uint8_t *resp, size_t len)
{
	int code;

	if (bc_resp_class(resp, len, &code) != TP_STUN_ERROR || code != 401 ||
	    bc_resp_nonce(resp, len, nonce_of(i), BC_NONCE_MAX) < 0)
		die("expected a 401 with a nonce");
}

static void got_relay(uint32_t i, const uint8_t *resp, size_t len)
{
	uint16_t p = bc_resp_relay_port(resp, len);

	if (!p)
		die("Allocate failed");
	if (i < BC_PORTS)
		relay_port[i] = p;
}

static void got_success(uint32_t i, const uint8_t *resp, size_t len)
{
	int code;

	(void)i;
	if (bc_resp_class(resp, len, &code) != TP_STUN_SUCCESS) {
		fprintf(stderr, "error response %d\n", code);
		die("request failed");
	}
}

/* Build one frame from client @i to the listening address into @m's slot @k. */
static struct rte_mbuf *client_frame(unsigned k, uint32_t i, mk_fn mk)
{
	uint8_t msg[FRAME_MAX];
	struct tp_addr c = bc_client(i);
	size_t n = mk(msg, sizeof(msg), i);

	saved_len[k] = brig_frame(saved[k], &c, &B.srv, msg, n);
	burst_idx[k] = i;
	return brig_mbuf(saved[k], saved_len[k]);
}

static struct rte_mbuf *peer_frame(unsigned k, uint32_t i, const struct tp_addr *from)
{
	struct tp_addr relay = B.relay;

	relay.port = relay_port[i];
	saved_len[k] = brig_frame(saved[k], from, &relay, payload, sizeof(payload));
	burst_idx[k] = i;
	return brig_mbuf(saved[k], saved_len[k]);
}

/* Collect the responses of one poll and hand them to @got; returns how many came. */
static unsigned collect(got_fn got)
{
	struct rte_mbuf *out[2 * BURST];
	unsigned n = brig_take(out, BC_N(out));

	for (unsigned k = 0; k < n; k++) {
		struct tp_addr dst;
		size_t len;
		const uint8_t *p = brig_udp_payload(out[k], &len, &dst);

		if (!p)
			die("not a UDP frame");
		if (got)
			got(client_index(&dst), p, len);
	}
	brig_free(out, n);
	return n;
}

/* One request from each of @n clients, answered in one poll (untimed: set-up). */
static void exchange(const uint32_t *idx, unsigned n, mk_fn mk, got_fn got)
{
	struct rte_mbuf *m[BURST];

	for (unsigned k = 0; k < n; k++)
		m[k] = client_frame(k, idx[k], mk);
	brig_inject(m, n);
	tp_dpdkdp_poll_once(B.dp, 0);
	if (collect(got) != n)
		die("a request went unanswered");
}

/* Clients n_live .. @to-1 get an allocation, a permission for the peer and a channel to it. */
static void grow(uint32_t to)
{
	while (n_live < to) {
		uint32_t idx[BURST];
		unsigned n = to - n_live < BURST ? to - n_live : BURST;

		for (unsigned k = 0; k < n; k++)
			idx[k] = n_live + k;
		exchange(idx, n, mk_unauth_alloc, got_nonce);
		exchange(idx, n, mk_alloc, got_relay);
		exchange(idx, n, mk_perm, got_success);
		exchange(idx, n, mk_bind, got_success);
		n_live += n;
	}
}

/* Delete the allocations of clients @to .. n_live-1. */
static void shrink(uint32_t to)
{
	while (n_live > to) {
		uint32_t idx[BURST];
		unsigned n = n_live - to < BURST ? n_live - to : BURST;

		for (unsigned k = 0; k < n; k++)
			idx[k] = n_live - 1 - k;
		exchange(idx, n, mk_delete, got_success);
		n_live -= n;
	}
}

/* --- the paths: fill a burst (untimed), then check what came out (untimed) --- */

struct path {
	const char *key;  /* JSON "path" */
	const char *name; /* table */
	void (*fill)(struct rte_mbuf **m);
	void (*after)(void);
};

static uint32_t pick(void)
{
	return bc_rand_below(&rng, n_live);
}

static void fill_cd_c2p(struct rte_mbuf **m)
{
	static uint8_t cd[TP_CHANDATA_HDR_LEN + BC_PAYLOAD];

	tp_chandata_put_hdr(cd, BC_CHANNEL, BC_PAYLOAD);
	memcpy(cd + TP_CHANDATA_HDR_LEN, payload, BC_PAYLOAD);
	for (unsigned k = 0; k < BURST; k++) {
		struct tp_addr c;

		burst_idx[k] = pick();
		c = bc_client(burst_idx[k]);
		saved_len[k] = brig_frame(saved[k], &c, &B.srv, cd, sizeof(cd));
		m[k] = brig_mbuf(saved[k], saved_len[k]);
	}
}

/*
 * The relay range 1024-65535 holds the listening port 3478 too, and the plane takes a datagram
 * to the listening address as a client's: the allocation that drew relay port 3478 cannot get
 * peer data. Peer traffic skips it.
 */
static uint32_t pick_peer_target(void)
{
	uint32_t i;

	do
		i = pick();
	while (relay_port[i] == B.srv.port && n_live > 1);
	return i;
}

static void fill_cd_p2c(struct rte_mbuf **m)
{
	for (unsigned k = 0; k < BURST; k++)
		m[k] = peer_frame(k, pick_peer_target(), &peer);
}

static void fill_data_ind(struct rte_mbuf **m)
{
	for (unsigned k = 0; k < BURST; k++)
		m[k] = peer_frame(k, pick_peer_target(), &peer_di);
}

static void fill_send(struct rte_mbuf **m)
{
	for (unsigned k = 0; k < BURST; k++)
		m[k] = client_frame(k, pick(), mk_send);
}

static void fill_binding(struct rte_mbuf **m)
{
	for (unsigned k = 0; k < BURST; k++)
		m[k] = client_frame(k, pick(), mk_binding);
}

static void fill_perm(struct rte_mbuf **m)
{
	for (unsigned k = 0; k < BURST; k++)
		m[k] = client_frame(k, pick(), mk_perm);
}

static void fill_bind(struct rte_mbuf **m)
{
	for (unsigned k = 0; k < BURST; k++)
		m[k] = client_frame(k, pick(), mk_bind);
}

/* New 5-tuples: their nonces come from a 401 first (untimed), as a client's would. */
static void fill_alloc(struct rte_mbuf **m)
{
	uint32_t idx[BURST];

	for (unsigned k = 0; k < BURST; k++)
		idx[k] = fresh++;
	exchange(idx, BURST, mk_unauth_alloc, got_nonce);
	for (unsigned k = 0; k < BURST; k++)
		m[k] = client_frame(k, idx[k], mk_alloc);
}

static void after_forward(void)
{
	unsigned n = collect(NULL);

	bad += BURST - n;
}

static void after_success(void)
{
	struct rte_mbuf *out[2 * BURST];
	unsigned n = brig_take(out, BC_N(out));

	bad += BURST - n;
	for (unsigned k = 0; k < n; k++) {
		struct tp_addr dst;
		size_t len;
		const uint8_t *p = brig_udp_payload(out[k], &len, &dst);
		int code;

		if (!p || bc_resp_class(p, len, &code) != TP_STUN_SUCCESS)
			bad++;
	}
	brig_free(out, n);
}

/* The Allocates just measured are deleted again: the count stays where it was. */
static void after_alloc(void)
{
	after_success();
	exchange(burst_idx, BURST, mk_delete, got_success);
}

static const struct path paths[] = {
	{ "chandata_client_to_peer", "ChannelData client->peer", fill_cd_c2p, after_forward },
	{ "chandata_peer_to_client", "peer->client ChannelData", fill_cd_p2c, after_forward },
	{ "send_to_peer", "Send indication->peer", fill_send, after_forward },
	{ "peer_to_data_indication", "peer->Data indication", fill_data_ind, after_forward },
	{ "binding", "Binding", fill_binding, after_success },
	{ "allocate_auth", "authenticated Allocate", fill_alloc, after_alloc },
	{ "create_permission", "CreatePermission (auth)", fill_perm, after_success },
	{ "channel_bind", "ChannelBind (auth)", fill_bind, after_success },
};

/* --- timing --- */

static uint64_t time_poll(void)
{
	uint64_t t0 = rte_rdtsc_precise();

	tp_dpdkdp_poll_once(B.dp, 0);
	return rte_rdtsc_precise() - t0;
}

/* l2fwd on the same frames: RX burst, swap the MAC addresses, TX burst. */
static uint64_t time_floor(void)
{
	struct rte_mbuf *m[BURST];
	uint64_t t0, t;
	uint16_t n, sent;

	for (unsigned k = 0; k < BURST; k++)
		m[k] = brig_mbuf(saved[k], saved_len[k]);
	brig_inject(m, BURST);
	t0 = rte_rdtsc_precise();
	n = rte_eth_rx_burst(B.port_id, 0, m, BURST);
	for (uint16_t k = 0; k < n; k++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m[k], struct rte_ether_hdr *);
		struct rte_ether_addr tmp = eth->src_addr;

		eth->src_addr = eth->dst_addr;
		eth->dst_addr = tmp;
	}
	sent = rte_eth_tx_burst(B.port_id, 0, m, n);
	t = rte_rdtsc_precise() - t0;
	brig_free(m + sent, n - sent);
	if (n != BURST || sent != n)
		bad++;
	while ((n = (uint16_t)brig_take(m, BURST)) > 0)
		brig_free(m, n);
	return t;
}

static void measure(const struct path *p, const char *label)
{
	unsigned reps = opts.quick ? 3 : 7, rounds = opts.quick ? 150 : 1500;
	double cyc[MAX_REPS], flo[MAX_REPS], c, f;
	double hz = (double)B.tsc_hz;

	bad = 0;
	brig_prime(); /* the gateway again: its neighbour entry must not age out mid-run */
	for (unsigned r = 0; r < reps; r++) {
		uint64_t pc = 0, fc = 0;

		for (unsigned i = 0; i < rounds; i++) {
			struct rte_mbuf *m[BURST];

			p->fill(m);
			brig_inject(m, BURST);
			pc += time_poll();
			p->after();
			fc += time_floor();
		}
		cyc[r] = (double)pc / (rounds * BURST);
		flo[r] = (double)fc / (rounds * BURST);
	}
	c = bc_median(cyc, reps);
	f = bc_median(flo, reps);
	if (bad) {
		struct tp_dpdkdp_counters dc;
		struct tp_stats es;

		fprintf(stderr,
			"warning: %s at %s: %u packets not handled as expected; drops so far:",
			p->key, label, bad);
		tp_dpdkdp_counters(B.dp, -1, &dc);
		for (unsigned i = 0; i < TP_DPDKDP_DROP_COUNT; i++)
			if (dc.drop[i])
				fprintf(stderr, " %s=%lu", tp_dpdkdp_drop_name(i),
					(unsigned long)dc.drop[i]);
		tp_dpdkdp_stats(B.dp, &es);
		for (unsigned i = 0; i < TP_DROP_COUNT; i++)
			if (tp_stat_read(&es.drop[i]))
				fprintf(stderr, " %s=%lu", tp_drop_name(i),
					(unsigned long)tp_stat_read(&es.drop[i]));
		fputc('\n', stderr);
	}
	say("%-26s %6s %9.0f %8.1f %7.2f %8.0f %7.2f%s\n", p->name, label, c, c * 1e9 / hz,
	    hz / c / 1e6, f, c / f, bad ? "  (!)" : "");
	bc_json("\"bench\":\"pipeline\",\"path\":\"%s\",\"allocations\":\"%s\","
		"\"allocations_n\":%u,\"cycles\":%.1f,\"ns\":%.2f,\"floor_cycles\":%.1f,"
		"\"floor_ns\":%.2f,\"ratio\":%.2f,\"burst\":%u,\"reps\":%u,\"rounds\":%u,"
		"\"errors\":%u",
		p->key, label, n_live, c, c * 1e9 / hz, f, f * 1e9 / hz, c / f, BURST, reps, rounds,
		bad);
}

int main(int argc, char **argv)
{
	static const uint32_t counts[] = { 1, 10000, BC_PORTS };
	int rc = bc_parse_opts(argc, argv, &opts, usage);
	uint64_t t0;

	if (rc)
		return rc > 0 ? 0 : 2;
	if (brig_eal_init() < 0)
		return 1;
	if (brig_start(BC_PORTS) < 0) {
		brig_eal_fini();
		return 1;
	}
	bc_cred_init(&cred);
	tp_addr_parse(&peer, "9.9.9.9:5000");
	tp_addr_parse(&peer_di, "9.9.9.9:5001");
	memset(payload, 0x5a, sizeof(payload));
	brig_prime();
	say("turnpike-bench-pipeline%s: 1 worker, net_ring, bursts of %u, %u-byte payloads, "
	    "TSC %.3f GHz\n",
	    opts.quick ? " (quick)" : "", BURST, BC_PAYLOAD, (double)B.tsc_hz / 1e9);
	say("%-26s %6s %9s %8s %7s %8s %7s\n", "path", "allocs", "cycles/pkt", "ns/pkt", "Mpps",
	    "floor", "ratio");
	for (unsigned c = 0; c < BC_N(counts); c++) {
		char label[16];

		t0 = bc_now_ns();
		grow(counts[c]);
		if (!opts.json_only)
			fprintf(stderr, "(%u allocations set up in %.1f s)\n", n_live,
				(double)(bc_now_ns() - t0) / 1e9);
		bc_count_name(counts[c], label, sizeof(label));
		for (unsigned i = 0; i < BC_N(paths); i++) {
			/* Allocate: 32 more during the burst; at the port range's end make room. */
			if (paths[i].fill == fill_alloc && n_live + BURST > BC_PORTS)
				shrink(BC_PORTS - BURST);
			measure(&paths[i], label);
		}
	}
	brig_stop();
	brig_eal_fini();
	return 0;
}
