/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine test rig: a world of one or two shards driven only through the public engine API,
 * with fake data-plane ops that record every relay port and event, a clock the tests move by
 * hand, and a small TURN client that builds real STUN bytes with the codec, learns the realm and
 * nonce from a 401 like a real client, and parses (and integrity-checks) every reply.
 */
#ifndef TP_TEST_ENGINE_FIXTURE_H
#define TP_TEST_ENGINE_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/channel.h>
#include <turnpike/engine.h>
#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

#define TW_MAX_SHARDS 2
#define TW_MAX_EVENTS 64
#define TW_PORT_MIN   49152
#define TW_PORT_MAX   (TW_PORT_MIN + 63)
#define TW_REALM      "turnpike.test"
#define TW_SECRET     "rest-secret"
#define TW_UNIX_START 1700000000ull
#define TW_MONO_START 1000000ull /* the engine's clock does not start at zero */

/* Addresses used throughout: all public unless said otherwise. */
#define TW_RELAY4  "1.2.3.4"
#define TW_RELAY6  "2a00:1450::10"
#define TW_SERVER4 "1.2.3.5:3478"
#define TW_SERVER6 "[2a00:1450::11]:3478"
#define TW_PEER	   "9.9.9.9:5000"
#define TW_PEER_B  "8.8.8.8:6000"
#define TW_PEER6   "[2606:4700::1111]:5000"
#define TW_CLIENT  "5.6.7.8:40000"
#define TW_CLIENT6 "[2a01:4f8::7]:40000"

/* One allocation event as the fake ops saw it. */
struct tw_event {
	enum tp_engine_event_kind kind;
	uint8_t transport;
	struct tp_addr client, relay4, relay6;
	char user[80];
	uint32_t lifetime;
};

/* What one shard's data plane was told. */
struct tw_ops {
	unsigned shard;
	unsigned opens, closes, failed_opens;
	unsigned misuse; /* opened twice, closed unopened, or a port of another shard */
	uint16_t last_open, last_close;
	unsigned last_families;
	unsigned fail_next; /* refuse this many relay_open calls */
	bool fail_all;
	uint16_t fail_port[8]; /* refuse these ports */
	unsigned n_fail_port;
	unsigned n_events;
	struct tw_event ev[TW_MAX_EVENTS];
	uint8_t open[65536]; /* families of each open port */
};

/* The world: parameters (edit them before tw_start), shards, ops and the clock. */
struct tw {
	struct tp_engine_params p;
	struct tp_engine_user users[4];
	struct tp_cidr allow[8], deny[8];
	struct tp_addr own[8];
	unsigned nshards;
	uint32_t max_allocations;
	struct tp_engine_policy *pol;
	struct tp_engine_policy *old_pol[8]; /* replaced by tw_reload, freed at teardown */
	unsigned n_old;
	struct tp_engine_shared *sh;
	struct tp_engine *e[TW_MAX_SHARDS];
	struct tw_ops ops[TW_MAX_SHARDS];
	struct tp_clock now;
	struct tp_addr server4, server6; /* listening addresses */
	uint32_t tid_seq;
};

extern struct tw *W;

/* Checked fixture: default parameters; tests change W->p and then call tw_start(). */
void tw_setup(void);
void tw_teardown(void);
void tw_start(void);
/* Build a new policy from W->p and switch every shard to it. */
void tw_reload(void);
/* Move the clock (both monotonic and wall time); tw_tick also runs every shard's timers. */
void tw_advance_ms(uint64_t ms);
void tw_tick(uint32_t seconds);

/* Parse "ip[:port]" or fail the test. */
struct tp_addr tw_addr(const char *s);
struct tp_cidr tw_cidr(const char *s);

/* Counters summed over the shards. */
uint64_t tw_drops(enum tp_drop why);
uint64_t tw_error_code(enum tp_stat_error code);
uint64_t tw_ctr(enum tp_counter c);
uint64_t tw_wire_errors(void);
uint32_t tw_allocations(void);
unsigned tw_opens(void);

/* Data from @peer (text) to relay address @relay, handled by the shard owning the port. */
void tw_from_peer(const char *peer, const struct tp_addr *relay, const void *data, size_t len,
		  struct tp_verdict *v);
/* head + payload + tail of a FORWARD verdict for @data, into @out; returns the length. */
size_t tw_assemble(const struct tp_verdict *v, const uint8_t *data, uint8_t *out, size_t cap);

/* --- the client --- */

enum tc_omit {
	TC_OMIT_USERNAME = 1u << 0,
	TC_OMIT_REALM = 1u << 1,
	TC_OMIT_NONCE = 1u << 2,
};

/* A request to build. Zero fields mean "absent". */
struct treq {
	uint16_t method;
	uint16_t cls;	   /* TP_STUN_REQUEST (0) or TP_STUN_INDICATION */
	uint8_t transport; /* REQUESTED-TRANSPORT */
	bool has_lifetime;
	uint32_t lifetime;
	uint8_t family;	    /* REQUESTED-ADDRESS-FAMILY */
	uint8_t add_family; /* ADDITIONAL-ADDRESS-FAMILY */
	bool even_port, reserve;
	bool has_token;
	uint64_t token;
	bool dont_fragment;
	uint16_t channel;
	const char *peers[8]; /* XOR-PEER-ADDRESS, in order */
	uint16_t unknown;     /* an attribute the server cannot know */
	bool has_data;
	const void *data;
	size_t data_len;
	bool noauth;   /* no credentials even when the client has a nonce */
	unsigned omit; /* enum tc_omit bits */
};

struct tc {
	unsigned shard;
	uint8_t transport;
	uint32_t conn;
	struct tp_addr addr, server;
	const char *user, *pass;
	bool userhash;	   /* send USERHASH instead of USERNAME */
	uint16_t alg;	   /* 0: legacy (no PASSWORD-ALGORITHM(S), MD5 key); else that algorithm */
	uint16_t send_alg; /* nonzero: put this in PASSWORD-ALGORITHM instead of alg */
	bool mi256;	   /* MESSAGE-INTEGRITY-SHA256 even with alg 0 */
	bool fingerprint;
	/* learned from the last 401/438 */
	char realm[TP_STUN_REALM_MAX + 1];
	char nonce[TP_STUN_NONCE_MAX + 1];
	size_t realm_len, nonce_len;
	uint16_t pwalgs[8];
	size_t n_pwalgs;
	bool saw_pwalgs;
	/* the last exchange */
	uint8_t req[1500];
	size_t req_len;
	uint8_t reply[1500];
	uint16_t reply_cap;
	struct tp_verdict v;
	struct tp_stun_msg m; /* the parsed reply when v.kind == REPLY */
	int integrity;	      /* the reply's: 0 none, 1 MESSAGE-INTEGRITY, 256 -SHA256 (verified) */
	uint8_t key[TP_DIGEST_MAX];
	size_t key_len;
	/* from the last successful Allocate */
	struct tp_addr relay[2];
	unsigned n_relay;
	uint32_t lifetime;
	struct tp_addr mapped;
	bool has_token;
	uint64_t token;
};

/*
 * A UDP client at @addr with credentials (user NULL: none), talking to shard 0 on the listening
 * address of its family. Change transport, conn, shard, alg etc. before its first request.
 */
void tc_init(struct tc *c, const char *addr, const char *user, const char *pass);
/* Build @rq into c->req (with credentials when a nonce is known). */
void tc_build(struct tc *c, const struct treq *rq);
/*
 * Send @rq once. Returns 0 for a success response, the error code of an error response,
 * -1 when dropped (c->v.reason says why) and -2 for a FORWARD verdict.
 */
int tc_send(struct tc *c, const struct treq *rq);
/* Send c->req again, byte for byte. Same return values. */
int tc_resend(struct tc *c);
/* Like a real client: send, and after a 401 or 438 learn the nonce and retry (twice at most). */
int tc_do(struct tc *c, const struct treq *rq);
/* Take REALM, NONCE and PASSWORD-ALGORITHMS from the last reply (a 401 or 438). */
void tc_learn(struct tc *c);
/* Fetch a nonce: an unauthenticated Allocate, expecting 401. */
void tc_challenge(struct tc *c);
/* Allocate a UDP relay (asserting success). */
void tc_allocate(struct tc *c);
/* CreatePermission for one peer, ChannelBind: asserting success. */
void tc_permit(struct tc *c, const char *peer);
void tc_bind(struct tc *c, uint16_t channel, const char *peer);
/* Any bytes from this client; the verdict lands in c->v, a reply in c->reply. */
void tc_raw(struct tc *c, const uint8_t *data, size_t len);
/* ChannelData from this client; the message is kept in c->req. */
void tc_chandata(struct tc *c, uint16_t channel, const void *data, size_t len);
/* A Send indication; the message is kept in c->req. */
void tc_sendind(struct tc *c, const char *peer, const void *data, size_t len, bool df);
/* The reply's ERROR-CODE (0 when none). */
int tc_code(const struct tc *c);
bool tc_has(const struct tc *c, uint16_t attr);
/* The REST password for @user: base64(HMAC-SHA1(TW_SECRET, user)). */
void tw_rest_password(const char *user, char *out, size_t cap);

/* TCase factories, one per file. */
TCase *engine_tcase_basic(void);
TCase *engine_tcase_auth(void);
TCase *engine_tcase_alloc(void);
TCase *engine_tcase_lifecycle(void);
TCase *engine_tcase_perm(void);
TCase *engine_tcase_acl(void);
TCase *engine_tcase_relay(void);
TCase *engine_tcase_abuse(void);

#endif /* TP_TEST_ENGINE_FIXTURE_H */
