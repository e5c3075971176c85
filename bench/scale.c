/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * turnpike-bench-scale: the engine alone (no data plane, no DPDK), DESIGN.md §10 "Scale".
 *
 * (a) memory per allocation: heap (mallinfo2: in use + mmapped) and RSS before and after
 *     creating allocations, and again after one permission and one channel each; at 1, 1k,
 *     10k and 64k (one engine: one relay address holds 64512 relay ports) and at 1M (16 engines
 *     in this process, each with its own policy and IPv4 relay address and 62500 allocations:
 *     as 16 relay addresses would be served);
 * (b) authenticated Allocates per second on one core, through tp_engine_handle(): "full
 *     handshake" (the request without credentials, its 401, then the authenticated Allocate)
 *     and "authenticated Allocate only" (pre-built requests with a valid nonce and
 *     MESSAGE-INTEGRITY from distinct 5-tuples);
 * (c) lookup cost: ChannelData client->peer and peer->client (ChannelData) through
 *     tp_engine_handle() at 1, 1k, 10k, 64k and 1M live allocations, spread uniformly at random.
 *
 * Allocations for (a) and (c) are made without credentials (auth_required false): what they
 * store is the same; (b) is where authentication is measured.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <turnpike/byteorder.h>
#include <turnpike/channel.h>
#include <turnpike/engine.h>
#include <turnpike/stun_build.h>

#include "bench_common.h"

#define MAX_SHARDS 16
#define ONE_M_PER  62500 /* 16 x 62500 = 1M */

static const char usage[] =
	"usage: turnpike-bench-scale [--quick] [--json-only] [--help]\n"
	"  Engine-only scale benchmark: memory per allocation (1 .. 1M), authenticated\n"
	"  Allocates per second per core, ChannelData lookup cost vs live allocations.\n"
	"  Prints a table and one JSON object per line; pin it: taskset -c 1 ...\n";

static struct bc_opts opts;
static struct tp_engine_shared *shared;
static struct tp_clock clk;
static uint8_t reply[1500];
static const struct tp_addr *peer_addr;
static struct tp_addr peer;

#define say(...)                             \
	do {                                 \
		if (!opts.json_only)         \
			printf(__VA_ARGS__); \
	} while (0)

struct shard {
	struct tp_engine_policy *pol;
	struct tp_engine *e;
	struct tp_engine_user user;
	struct tp_addr relay, srv;
	uint16_t *port; /* relay port of allocation i */
	uint32_t n;
};

static void die(const char *what)
{
	fprintf(stderr, "turnpike-bench-scale: %s\n", what);
	exit(1);
}

static void shard_open(struct shard *s, unsigned k, bool auth, uint32_t cap)
{
	struct tp_engine_params p;
	char err[256];

	memset(s, 0, sizeof(*s));
	memset(&s->relay, 0, sizeof(s->relay));
	s->relay.family = TP_AF_INET;
	s->relay.ip[0] = 10;
	s->relay.ip[1] = 100;
	s->relay.ip[2] = (uint8_t)k;
	s->relay.ip[3] = 1;
	s->srv = s->relay;
	s->srv.port = 3478;
	s->user.name = BC_USER;
	s->user.password = BC_PASSWORD;
	bc_params(&p, &s->relay, &s->user, auth);
	s->pol = tp_engine_policy_create(&p, err, sizeof(err));
	if (!s->pol)
		die(err);
	s->e = tp_engine_create(shared, s->pol, 0, 1, cap, NULL);
	if (!s->e)
		die("tp_engine_create");
}

static void shard_close(struct shard *s)
{
	tp_engine_destroy(s->e);
	tp_engine_policy_destroy(s->pol);
	free(s->port);
	memset(s, 0, sizeof(*s));
}

/* Hand one client datagram to the engine; returns the verdict kind (reply in reply[]). */
static int client_send(struct shard *s, const struct tp_addr *cli, const uint8_t *msg, size_t len,
		       struct tp_verdict *v)
{
	struct tp_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.data = msg;
	pkt.len = (uint32_t)len;
	pkt.origin = TP_PKT_FROM_CLIENT;
	pkt.transport = TP_TRANSPORT_UDP;
	pkt.reply_buf = reply;
	pkt.reply_cap = sizeof(reply);
	pkt.src = *cli;
	pkt.dst = s->srv;
	tp_engine_handle(s->e, &pkt, v, &clk);
	return v->kind;
}

static size_t expect_success(struct shard *s, const struct tp_addr *cli, const struct bc_req *rq)
{
	uint8_t msg[512];
	struct tp_verdict v;
	size_t n = bc_build(msg, sizeof(msg), rq);
	int code = 0;

	if (client_send(s, cli, msg, n, &v) != TP_VERDICT_REPLY ||
	    bc_resp_class(reply, v.len, &code) != TP_STUN_SUCCESS) {
		fprintf(stderr, "request %#x failed: error %d\n", rq->method, code);
		exit(1);
	}
	return v.len;
}

/* n allocations from clients 0..n-1, without credentials. */
static void populate_allocs(struct shard *s, uint32_t n)
{
	struct bc_req rq = { .method = TP_STUN_ALLOCATE, .transport = true };

	s->port = calloc(n, sizeof(*s->port));
	if (!s->port)
		die("out of memory");
	for (uint32_t i = 0; i < n; i++) {
		struct tp_addr c = bc_client(i);

		size_t len = expect_success(s, &c, &rq);

		s->port[i] = bc_resp_relay_port(reply, len);
		if (!s->port[i])
			die("no relayed address");
	}
	s->n = n;
}

static void populate_chans(struct shard *s)
{
	struct bc_req perm = { .method = TP_STUN_CREATE_PERMISSION, .peer = peer_addr };
	struct bc_req bind = { .method = TP_STUN_CHANNEL_BIND,
			       .peer = peer_addr,
			       .channel = BC_CHANNEL };

	for (uint32_t i = 0; i < s->n; i++) {
		struct tp_addr c = bc_client(i);

		expect_success(s, &c, &perm);
		expect_success(s, &c, &bind);
	}
}

/* --- memory --- */

struct mem {
	double heap, rss; /* bytes */
};

static struct mem mem_now(void)
{
	struct mallinfo2 mi = mallinfo2();
	struct mem m = { (double)(mi.uordblks + mi.hblkhd), 0 };
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, res;

	if (f && fscanf(f, "%lu %lu", &size, &res) == 2)
		m.rss = (double)res * (double)sysconf(_SC_PAGESIZE);
	if (f)
		fclose(f);
	return m;
}

/* --- (c) lookups --- */

struct lk_pkt {
	struct tp_pkt pkt;
	struct tp_engine *e;
};

static void lookup_bench(struct shard *sh, unsigned nsh, uint32_t total, const char *label)
{
	static uint8_t cd[TP_CHANDATA_HDR_LEN + BC_PAYLOAD];
	uint32_t m = total >= 1000000 ? (opts.quick ? 1u << 19 : 1u << 20)
				      : (opts.quick ? 1u << 16 : 1u << 18);
	struct lk_pkt *p = malloc((size_t)m * sizeof(*p));
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ total;
	unsigned reps = opts.quick ? 3 : 5;
	static const char *const dirs[2] = { "chandata_client_to_peer", "chandata_peer_to_client" };

	if (!p)
		die("out of memory");
	tp_chandata_put_hdr(cd, BC_CHANNEL, BC_PAYLOAD);
	memset(cd + TP_CHANDATA_HDR_LEN, 0x5a, BC_PAYLOAD);
	for (unsigned dir = 0; dir < 2; dir++) {
		double ns[8];

		for (uint32_t k = 0; k < m; k++) {
			uint32_t g = bc_rand_below(&rng, total);
			struct shard *s = &sh[g / sh[0].n < nsh ? g / sh[0].n : nsh - 1];
			uint32_t i = g % sh[0].n;
			struct tp_pkt *pk = &p[k].pkt;

			memset(pk, 0, sizeof(*pk));
			p[k].e = s->e;
			pk->transport = TP_TRANSPORT_UDP;
			pk->reply_buf = reply;
			pk->reply_cap = sizeof(reply);
			if (dir == 0) {
				pk->origin = TP_PKT_FROM_CLIENT;
				pk->data = cd;
				pk->len = sizeof(cd);
				pk->src = bc_client(i);
				pk->dst = s->srv;
			} else {
				pk->origin = TP_PKT_FROM_PEER;
				pk->data = cd + TP_CHANDATA_HDR_LEN;
				pk->len = BC_PAYLOAD;
				pk->src = peer;
				pk->dst = s->relay;
				pk->dst.port = s->port[i];
			}
		}
		for (unsigned r = 0; r < reps; r++) {
			struct tp_verdict v;
			uint32_t fwd = 0;
			uint64_t t0 = bc_now_ns();

			for (uint32_t k = 0; k < m; k++) {
				tp_engine_handle(p[k].e, &p[k].pkt, &v, &clk);
				fwd += v.kind == TP_VERDICT_FORWARD;
			}
			ns[r] = (double)(bc_now_ns() - t0) / m;
			if (fwd != m)
				die("a relayed packet was not forwarded");
		}
		{
			double med = bc_median(ns, reps);

			say("  %-26s %6s allocations  %7.1f ns/packet\n", dirs[dir], label, med);
			bc_json("\"bench\":\"scale\",\"test\":\"lookup\",\"path\":\"%s\","
				"\"allocations\":\"%s\",\"allocations_n\":%u,\"ns\":%.1f,"
				"\"packets\":%u,\"engines\":%u",
				dirs[dir], label, total, med, m, nsh);
		}
	}
	free(p);
}

/* --- (a) + (c) at one size --- */

static void scale_point(uint32_t total)
{
	static struct shard sh[MAX_SHARDS];
	unsigned nsh = total > BC_PORTS ? MAX_SHARDS : 1;
	uint32_t per = nsh > 1 ? total / nsh : total;
	char label[16];
	struct mem m0, m1, m2, m3;
	uint64_t t0;
	double fixed, pa, pc, ph_tot, rss_tot;

	bc_count_name(total, label, sizeof(label));
	if (total >= 1000000 && nsh > 1)
		snprintf(label, sizeof(label), "%uM", total / 1000000);
	malloc_trim(0);
	m0 = mem_now();
	for (unsigned k = 0; k < nsh; k++)
		shard_open(&sh[k], k, false, nsh > 1 ? BC_PORTS : BC_PORTS);
	m1 = mem_now();
	t0 = bc_now_ns();
	for (unsigned k = 0; k < nsh; k++)
		populate_allocs(&sh[k], per);
	m2 = mem_now();
	for (unsigned k = 0; k < nsh; k++)
		populate_chans(&sh[k]);
	m3 = mem_now();
	/* the bench's own port[] arrays are 2 bytes per allocation: take them out */
	fixed = (m1.heap - m0.heap) / nsh;
	pa = (m2.heap - m1.heap - 2.0 * total) / total;
	pc = (m3.heap - m1.heap - 2.0 * total) / total;
	ph_tot = (m3.heap - m0.heap - 2.0 * total) / 1048576.0;
	rss_tot = (m3.rss - m0.rss) / 1048576.0;
	say("  %6s allocations (%u engine%s x %u): engine fixed %.2f MB; %.0f B/allocation, "
	    "%.0f B with 1 permission + 1 channel; total heap %.1f MB, RSS %.1f MB (setup %.1f "
	    "s)\n",
	    label, nsh, nsh > 1 ? "s" : "", per, fixed / 1048576.0, pa, pc, ph_tot, rss_tot,
	    (double)(bc_now_ns() - t0) / 1e9);
	bc_json("\"bench\":\"scale\",\"test\":\"memory\",\"allocations\":\"%s\","
		"\"allocations_n\":%u,\"engines\":%u,\"per_engine\":%u,"
		"\"engine_fixed_bytes\":%.0f,\"bytes_per_alloc\":%.1f,"
		"\"bytes_per_alloc_with_perm_chan\":%.1f,\"total_heap_mb\":%.1f,"
		"\"total_rss_mb\":%.1f",
		label, total, nsh, per, fixed, pa, pc, ph_tot, rss_tot);
	lookup_bench(sh, nsh, total, label);
	for (unsigned k = 0; k < nsh; k++)
		shard_close(&sh[k]);
}

/* --- (b) authenticated Allocates per second --- */

struct authreq {
	struct tp_addr cli;
	uint16_t ulen, alen;
	uint8_t unauth[64];
	uint8_t auth[192];
};

static void auth_bench(void)
{
	uint32_t k = opts.quick ? 20000 : 60000;
	unsigned reps = opts.quick ? 3 : 5;
	struct authreq *q = calloc(k, sizeof(*q));
	struct bc_req un = { .method = TP_STUN_ALLOCATE, .transport = true };
	struct bc_cred cred;
	struct shard s;
	double full[8], only[8];

	if (!q)
		die("out of memory");
	bc_cred_init(&cred);
	/* Set-up: a 401 per 5-tuple gives its nonce (the same for the same second). */
	shard_open(&s, 200, true, BC_PORTS);
	for (uint32_t i = 0; i < k; i++) {
		struct bc_req rq = { .method = TP_STUN_ALLOCATE, .transport = true, .cred = &cred };
		struct tp_verdict v;
		char nonce[BC_NONCE_MAX];
		int code;

		q[i].cli = bc_client(1000000 + i);
		q[i].ulen = (uint16_t)bc_build(q[i].unauth, sizeof(q[i].unauth), &un);
		if (client_send(&s, &q[i].cli, q[i].unauth, q[i].ulen, &v) != TP_VERDICT_REPLY ||
		    bc_resp_class(reply, v.len, &code) != TP_STUN_ERROR || code != 401 ||
		    bc_resp_nonce(reply, v.len, nonce, sizeof(nonce)) < 0)
			die("no 401 with a nonce");
		rq.nonce = nonce;
		q[i].alen = (uint16_t)bc_build(q[i].auth, sizeof(q[i].auth), &rq);
	}
	shard_close(&s);
	for (unsigned r = 0; r < reps; r++) {
		for (int mode = 0; mode < 2; mode++) {
			struct tp_verdict v;
			uint32_t ok = 0;
			uint64_t t0;

			shard_open(&s, 200, true, BC_PORTS);
			t0 = bc_now_ns();
			for (uint32_t i = 0; i < k; i++) {
				if (mode == 0)
					client_send(&s, &q[i].cli, q[i].unauth, q[i].ulen, &v);
				client_send(&s, &q[i].cli, q[i].auth, q[i].alen, &v);
				ok += v.kind == TP_VERDICT_REPLY &&
				      tp_stun_type_class(tp_get_be16(reply)) == TP_STUN_SUCCESS;
			}
			(mode == 0 ? full : only)[r] = (double)k * 1e9 / (double)(bc_now_ns() - t0);
			if (ok != k || tp_engine_allocations(s.e) != k)
				die("an authenticated Allocate failed");
			shard_close(&s);
		}
	}
	{
		double f = bc_median(full, reps), o = bc_median(only, reps);

		say("  full handshake (request, 401, authenticated Allocate): %8.0f allocations/s "
		    "(%.2f us each)\n",
		    f, 1e6 / f);
		say("  authenticated Allocate only:                          %8.0f allocations/s "
		    "(%.2f us each)\n",
		    o, 1e6 / o);
		bc_json("\"bench\":\"scale\",\"test\":\"alloc_rate\",\"mode\":\"full_handshake\","
			"\"allocs_per_s\":%.0f,\"us\":%.3f,\"allocations\":%u",
			f, 1e6 / f, k);
		bc_json("\"bench\":\"scale\",\"test\":\"alloc_rate\",\"mode\":\"auth_only\","
			"\"allocs_per_s\":%.0f,\"us\":%.3f,\"allocations\":%u",
			o, 1e6 / o, k);
	}
	free(q);
}

int main(int argc, char **argv)
{
	static const uint8_t secret[32] = { 7, 7, 7 };
	static const uint32_t sizes[] = { 1, 1000, 10000, BC_PORTS, MAX_SHARDS * ONE_M_PER };
	int rc = bc_parse_opts(argc, argv, &opts, usage);

	if (rc)
		return rc > 0 ? 0 : 2;
	clk.mono_ms = 5000000; /* fixed: nonces stay the same, nothing expires */
	clk.unix_s = (uint64_t)time(NULL);
	if (tp_addr_parse(&peer, "9.9.9.9:5000") < 0)
		die("peer address");
	peer_addr = &peer;
	shared = tp_engine_shared_create(1, secret);
	if (!shared)
		die("tp_engine_shared_create");
	say("turnpike-bench-scale%s: engine only, one thread\n", opts.quick ? " (quick)" : "");
	say("(b) authenticated Allocates per second per core:\n");
	auth_bench();
	say("(a) memory and (c) ChannelData lookup cost, random spread over live allocations:\n");
	for (unsigned i = 0; i < BC_N(sizes); i++)
		scale_point(sizes[i]);
	tp_engine_shared_destroy(shared);
	return 0;
}
