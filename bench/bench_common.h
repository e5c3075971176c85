/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What both benchmarks share: options, a clock, medians, a small PRNG, the table-and-JSON
 * output, and a TURN client that builds requests with the codec (long-term credentials, the
 * nonce taken from a 401).
 */
#ifndef TP_BENCH_COMMON_H
#define TP_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/crypto.h>
#include <turnpike/engine.h>
#include <turnpike/stun.h>

#define BC_N(a)	     (sizeof(a) / sizeof((a)[0]))
#define BC_REALM     "turnpike.bench"
#define BC_USER	     "alice"
#define BC_PASSWORD  "wonderland"
#define BC_CHANNEL   0x4000
#define BC_PORT_MIN  1024
#define BC_PORT_MAX  65535
#define BC_PORTS     (BC_PORT_MAX - BC_PORT_MIN + 1) /* 64512: one relay address's allocations */
#define BC_PAYLOAD   100			     /* relayed payload bytes */
#define BC_NONCE_MAX 64

struct bc_opts {
	bool quick;
	bool json_only;
};

/* --quick, --json-only, --help; returns 0, 1 for --help (usage printed), -1 on a bad option. */
int bc_parse_opts(int argc, char **argv, struct bc_opts *o, const char *usage);

uint64_t bc_now_ns(void);
double bc_median(double *v, unsigned n); /* sorts v */

/* xorshift64*: cheap and good enough to spread traffic. */
static inline uint64_t bc_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline uint32_t bc_rand_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((bc_rand(s) >> 32) * (uint64_t)n) >> 32);
}

/* "64k" for the whole port range, "10k", "1M"... */
const char *bc_count_name(uint32_t n, char *buf, size_t cap);

/*
 * The engine parameters every benchmark runs with: realm and user above, relay address @p relay
 * (kept by pointer as the own-address list), ports BC_PORT_MIN..BC_PORT_MAX, generous quotas
 * and hour-long lifetimes so nothing expires or is refused during a measurement.
 */
void bc_params(struct tp_engine_params *p, const struct tp_addr *relay,
	       const struct tp_engine_user *user, bool auth);

/* The i-th client of the benchmark: 198.18.0.0/15 (RFC 2544), 64 source ports per address. */
struct tp_addr bc_client(uint32_t i);

/* --- a TURN client --- */

/* Long-term credentials of BC_USER, the MESSAGE-INTEGRITY key expanded once. */
struct bc_cred {
	struct tp_hmac_key key;
};
void bc_cred_init(struct bc_cred *c);

struct bc_req {
	uint16_t method;
	uint16_t cls; /* TP_STUN_REQUEST (0) or TP_STUN_INDICATION */
	bool transport;
	bool has_lifetime;
	uint32_t lifetime;
	const struct tp_addr *peer;
	uint16_t channel;
	const void *data;
	size_t data_len;
	const struct bc_cred *cred; /* NULL: no credentials */
	const char *nonce;
};

/* Build @rq with a fresh transaction ID; returns its length (aborts on a builder error). */
size_t bc_build(uint8_t *buf, size_t cap, const struct bc_req *rq);

/* Parse a STUN response: its class (TP_STUN_SUCCESS, TP_STUN_ERROR) or -1, the error code. */
int bc_resp_class(const uint8_t *b, size_t len, int *code);
/* The NONCE of a 401 into @out (NUL-terminated); 0 or -1. */
int bc_resp_nonce(const uint8_t *b, size_t len, char *out, size_t cap);
/* The relayed port of an Allocate success, or 0. */
uint16_t bc_resp_relay_port(const uint8_t *b, size_t len);

/* --- output --- */

/* A JSON object on one line, from a printf format that yields the members. */
void bc_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* TP_BENCH_COMMON_H */
