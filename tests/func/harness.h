/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The functional-test harness: runs the real turnpike binary on a config written for the test
 * (fresh temporary directory, free loopback ports, a self-signed TLS certificate), waits until it
 * answers, and stops it by PID, asserting a clean exit: status 0 and no sanitizer report, so an
 * ASan build's leak check at exit fails the test.
 *
 * By default it runs the binary directly, with TLS listeners, and stops it with SIGTERM: that is
 * how the Linux builds run. The environment changes that, for a binary that runs elsewhere, such
 * as turnpike.exe under Wine (tests/windows/run.sh):
 *
 *   TP_FUNC_WRAPPER=PROGRAM [ARGS]  start the relay as PROGRAM [ARGS] BINARY --config FILE
 *                                   (words split at blanks, PROGRAM found on PATH), e.g. "wine";
 *                                   FILE stays a Unix path (Wine shows it as Z:\...).
 *   TP_FUNC_NO_TLS=1                no TLS listeners in the configs, for a build without TLS;
 *                                   the tests that need TLS are not registered at all.
 *   TP_FUNC_SINGLE_WORKER=1         the relay runs one worker whatever dataplane.workers asks
 *                                   (no load-balancing SO_REUSEPORT, as on Windows): the tests
 *                                   that need several workers are not registered, and one that
 *                                   asserts the logged single-worker fallback is.
 *   TP_FUNC_STOP_SIGNAL=TERM|INT    the signal that stops the relay (default TERM; Wine turns
 *                                   INT into a Ctrl-C event and TERM into an abrupt exit). Exit
 *                                   status 0 is required either way.
 *   TP_FUNC_TIMEOUT_SCALE=X         multiplies the start-up, stop and response timeouts and the
 *                                   test cases' time limits (default 1; a number from 1 to 100).
 *   TP_FUNC_KEEP=1                  keep the temporary directories (configs, logs).
 *
 * The DPDK build (tests/dpdk/func.sh runs test_func this way, inside a network namespace that
 * holds a net_tap or a veth the relay drives, whose kernel side carries the clients' addresses):
 *
 *   TP_FUNC_DPDK=FILE               run the relay with dataplane.kind "dpdk": FILE holds the
 *                                   dataplane.dpdk object (eal with a unique --file-prefix and
 *                                   the --vdev, ports with the relay's addresses, mbufs), which
 *                                   the harness completes with kernel_relay (the addresses of
 *                                   TP_FUNC_DPDK_KERNEL). UDP listeners and relay.address(6)
 *                                   are TP_FUNC_DPDK_RELAY, on the DPDK port; TCP and TLS
 *                                   listeners are TP_FUNC_DPDK_KERNEL, served by the same
 *                                   process's kernel-socket shard. Needs the three below.
 *   TP_FUNC_DPDK_RELAY="IPV4 IPV6"  the addresses the DPDK port owns (among its ports[].addresses).
 *   TP_FUNC_DPDK_KERNEL="IPV4 IPV6" kernel addresses of the namespace (not the clients'): TCP/TLS
 *                                   listeners and the relayed addresses of their allocations.
 *   TP_FUNC_DPDK_CLIENTS="A.B.0.0/16 P::/64"
 *                                   where clients and peers live, on the kernel side of the
 *                                   DPDK port: the loopback addresses the tests name map onto
 *                                   them (127.0.b.c to A.B.b.c, ::1 to P::1; harness_ip()), so
 *                                   those must be local addresses there (A.B.0.1, .0.2, .0.3,
 *                                   .0.10, .0.11, .0.66 and P::1), and peers.allow gets both.
 *   TP_FUNC_DPDK_WORKERS=N          dataplane.workers (default 1; the EAL's -l or --lcores must
 *                                   give as many worker lcores).
 *
 * In DPDK mode tests that need the socket plane are not registered: several SO_REUSEPORT workers
 * (FUNC_WORKERS), a relay whose own addresses are loopback ones (FUNC_LOOPBACK), one relay port
 * pool for UDP and TCP clients (FUNC_ONE_PORT_POOL); with several DPDK workers also those that
 * need every UDP client flow on one shard (FUNC_ONE_SHARD). Start-up waits for the log's
 * "running" line as well as a Binding answer, with 3 times the start-up timeout (EAL, ports).
 *
 * The test program prints one line for each switch that leaves tests out, naming them.
 */
#ifndef TP_FUNC_HARNESS_H
#define TP_FUNC_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <turnpike/addr.h>

/* Every relay the harness starts knows these credentials. */
#define H_REALM	     "turnpike.func"
#define H_SECRET     "func-rest-secret" /* auth.secret: TURN REST usernames */
#define H_USER	     "demo"
#define H_PASS	     "demo-pw"
#define H_ALICE	     "alice"
#define H_ALICE_PASS "alice-pw"
#define H_BOB	     "bob"
#define H_BOB_PASS   "bob-pw"

/** What a test wants different from the default relay. Zero means the default. */
struct relay_conf {
	bool no_relay6;		 /**< no relay.address6: IPv6 relaying answers 440 */
	bool no_loopback;	 /**< peers.allow_loopback false: the production ACL */
	const char *peers_allow; /**< JSON array for peers.allow, e.g. "[\"127.0.0.0/8\"]" */
	unsigned nonce_lifetime; /**< auth.nonce_lifetime (default: the relay's) */
	const char *pwalgs;	 /**< JSON array for auth.password_algorithms */
	const char *limits;	 /**< more members of "limits" (not unauth_rate) */
	unsigned unauth_rate;	 /**< limits.unauth_rate; 0: 1000, so tests are not throttled */
	unsigned relay_ports;	 /**< size of the relay port range; 0: 200 */
	unsigned workers;	 /**< dataplane.workers; 0: 1 */
};

/** A running relay. */
struct relay {
	pid_t pid; /**< 0 when not running */
	char dir[PATH_MAX];
	char conf[PATH_MAX + 32];
	char log[PATH_MAX + 32];
	uint16_t port;	       /**< UDP and TCP listeners on 127.0.0.1 and ::1 */
	uint16_t tls_port;     /**< TLS listeners on 127.0.0.1 and ::1 (0: TP_FUNC_NO_TLS) */
	uint16_t metrics_port; /**< the Prometheus endpoint on 127.0.0.1 */
	uint16_t port_min, port_max;
};

/** The turnpike binary (TP_BIN, else the first argument). */
extern const char *relay_bin;

/** How the relay is run: the environment above, read by harness_init(). */
struct harness_env {
	char *wrapper[16]; /**< TP_FUNC_WRAPPER split into words, NULL-terminated; [0] NULL: none */
	bool no_tls;	   /**< TP_FUNC_NO_TLS */
	bool single_worker;    /**< TP_FUNC_SINGLE_WORKER */
	int stop_signal;       /**< TP_FUNC_STOP_SIGNAL: SIGTERM or SIGINT */
	const char *stop_name; /**< "SIGTERM" or "SIGINT" */
	double timeout_scale;  /**< TP_FUNC_TIMEOUT_SCALE */
	char *dpdk;	       /**< TP_FUNC_DPDK's file without its closing brace; NULL: sockets */
	unsigned dpdk_workers; /**< TP_FUNC_DPDK_WORKERS */
	struct tp_addr relay4, relay6;	   /**< TP_FUNC_DPDK_RELAY */
	struct tp_addr kernel4, kernel6;   /**< TP_FUNC_DPDK_KERNEL */
	struct tp_addr clients4, clients6; /**< TP_FUNC_DPDK_CLIENTS (the networks) */
};
extern struct harness_env harness;

/**
 * Read the environment into @c harness and scale tcl_timeout_ms. @return 0, or -1 with a
 * message in @p err for a value it does not understand.
 */
int harness_init(char *err, size_t errlen);

/** @p ms times TP_FUNC_TIMEOUT_SCALE. */
unsigned harness_ms(unsigned ms);

/**
 * Write the config, start the relay, and wait (5 s at most, times the timeout scale) until it
 * answers a Binding.
 */
void relay_start(struct relay *r, const struct relay_conf *conf);

/**
 * SIGTERM (or TP_FUNC_STOP_SIGNAL), wait 10 s at most (times the timeout scale; then SIGKILL
 * and fail), assert exit 0 and a clean log. The failure messages name the log, whose directory
 * a failed stop leaves in place.
 */
void relay_stop(struct relay *r);

/** Remove the temporary directory (kept when TP_FUNC_KEEP is set). */
void relay_cleanup(struct relay *r);

/** True while the process runs (it has not exited). */
bool relay_alive(struct relay *r);

/** How many times @p needle occurs in the relay's log so far. */
unsigned relay_log_count(const struct relay *r, const char *needle);

/**
 * The value of one series of the relay's metrics endpoint (GET /metrics), written as in the
 * exposition, e.g. "turnpike_allocations" or "turnpike_drops_total{reason=\"NOT_TURN\"}".
 * Fails the test when the endpoint does not answer or lacks the series.
 */
uint64_t relay_metric(const struct relay *r, const char *series);

/** The listening address for @p transport (enum tcl_transport) and @p family (TP_AF_*). */
struct tp_addr relay_listen(const struct relay *r, int transport, int family);

/**
 * The IP (port 0) the relay gives the allocations of clients on @p transport in @p family:
 * loopback; in DPDK mode the DPDK port's for UDP, the kernel shard's for TCP and TLS.
 */
struct tp_addr relay_relayed_ip(int transport, int family);

/**
 * Where a test's client or peer at the loopback address @p ip (as the socket-plane tests name
 * them: "127.0.0.2", "::1") really is: @p ip itself, or in DPDK mode its image in
 * TP_FUNC_DPDK_CLIENTS. Other addresses are returned unchanged. The result lives until the
 * eighth call after this one.
 */
const char *harness_ip(const char *ip);

#endif /* TP_FUNC_HARNESS_H */
