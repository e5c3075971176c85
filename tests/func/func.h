/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the functional-test files share: the relay of the running test, clients and peers that
 * the fixture closes, and assertions on relayed data.
 */
#ifndef TP_FUNC_FUNC_H
#define TP_FUNC_FUNC_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "tclient.h"

/** The relay of the running test (started by the test, stopped by the fixture). */
extern struct relay R;

/** Checked fixture: every test starts from nothing and its relay must exit cleanly. */
void func_setup(void);
void func_teardown(void);

/** Start R with @p conf (NULL: the defaults). */
void start_relay(const struct relay_conf *conf);

/**
 * A client connected to R's listener for @p transport and @p family, from @p local_ip (NULL:
 * the kernel's choice; else through harness_ip()), with the credentials of H_USER. Closed by
 * the fixture.
 */
struct tcl *cl_open(int transport, int family);
struct tcl *cl_open_from(int transport, int family, const char *local_ip);

/** Close a client of cl_open() before the fixture does. */
void cl_close(struct tcl *c);

/**
 * A UDP peer on 127.0.0.1 (TP_AF_INET) or ::1 (TP_AF_INET6), or what harness_ip() maps them
 * to. Closed by the fixture.
 */
struct tcl_peer *peer_open(int family);
/** A UDP peer on @p ip, e.g. "127.0.0.2" (through harness_ip()). Closed by the fixture. */
struct tcl_peer *peer_open_ip(const char *ip);

/** Assert that @p expr (a tclient call on @p c) returns @p want, showing c->err if not. */
#define EXPECT(c, expr, want)                                                                \
	do {                                                                                 \
		int rc_ = (expr);                                                            \
		ck_assert_msg(rc_ == (want), "%s: got %d, want %d (%s)", #expr, rc_, (want), \
			      (c)->err);                                                     \
	} while (0)

/** The next datagram at @p p is exactly @p data, sent from @p from. */
void peer_expect(struct tcl_peer *p, const void *data, size_t len, const struct tp_addr *from);

/** Nothing reaches @p p within @p ms. */
void peer_expect_nothing(struct tcl_peer *p, int ms);

/**
 * The next relayed data at @p c is @p data: ChannelData on @p channel, or (channel 0) a Data
 * indication from @p peer. Padding, when there is any, must be zero.
 */
void client_expect_data(struct tcl *c, uint16_t channel, const struct tp_addr *peer,
			const void *data, size_t len);

/** No relayed data reaches @p c within @p ms. */
void client_expect_nothing(struct tcl *c, int ms);

/**
 * Wait (bounded) until the relay's metric @p series reaches @p want, then assert it is exactly
 * that: a barrier for things that leave no other trace, such as a dropped datagram.
 */
void wait_metric(const char *series, uint64_t want);

/** Series of turnpike_drops_total for @p reason, e.g. DROPS("NO_PERMISSION"). */
#define DROPS(reason) "turnpike_drops_total{reason=\"" reason "\"}"

/** Milliseconds to sleep. */
void sleep_ms(unsigned ms);

/** What a test needs that a relay may lack (flags for FUNC_ADD_TEST). */
enum func_needs {
	FUNC_TLS = 1,	     /**< TLS listeners: left out under TP_FUNC_NO_TLS */
	FUNC_WORKERS = 2,    /**< several socket-plane workers: left out under
				  TP_FUNC_SINGLE_WORKER and TP_FUNC_DPDK */
	FUNC_ONE_WORKER = 4, /**< registered only under TP_FUNC_SINGLE_WORKER */
	FUNC_LOOPBACK = 8,   /**< the relay's own addresses are loopback ones: left out under
				  TP_FUNC_DPDK */
	FUNC_ONE_PORT_POOL =
		16,		/**< UDP and TCP allocations draw on one pool of relay ports: left
				     out under TP_FUNC_DPDK (the TCP/TLS kernel shard has its own) */
	FUNC_ONE_SHARD = 32,	/**< every UDP client flow reaches the same shard: left out under
				     TP_FUNC_DPDK with several DPDK workers */
	FUNC_DPDK_WORKERS = 64, /**< registered only under TP_FUNC_DPDK with several workers */
};

/**
 * Whether a test with @p needs (enum func_needs) runs against this relay; if not, its @p name
 * is noted for the line test_func prints at start, one per switch.
 */
bool func_wanted(const char *name, unsigned needs);

/** Add the test @p tf to @p tc if func_wanted(): otherwise it is not registered at all. */
#define FUNC_ADD_TEST(tc, tf, needs)              \
	do {                                      \
		if (func_wanted(#tf, (needs)))    \
			tcase_add_test((tc), tf); \
	} while (0)

/** A test case's time limit: @p seconds times TP_FUNC_TIMEOUT_SCALE. */
double func_timeout(double seconds);

/* The test cases, one factory per file. */
TCase *func_tcase_methods(void);
TCase *func_tcase_relay(void);
TCase *func_tcase_errors(void);
TCase *func_tcase_auth(void);
TCase *func_tcase_acl(void);
TCase *func_tcase_abuse(void);

#endif /* TP_FUNC_FUNC_H */
