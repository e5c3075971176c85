/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The functional suite: the real turnpike binary, driven over loopback by our own TURN client.
 * Every test starts its own relay with the config it needs and the fixture stops it, asserting
 * a clean exit, so the suite passes with CK_FORK=no as well as in Check's fork mode.
 *
 * Usage: test_func TURNPIKE_BINARY (or TP_BIN=TURNPIKE_BINARY test_func).
 *
 * With no TP_FUNC_* variables set, every test runs (how scripts/test runs the Linux builds).
 * For a relay that runs elsewhere, harness.h lists them: TP_FUNC_WRAPPER (e.g. wine),
 * TP_FUNC_NO_TLS=1, TP_FUNC_SINGLE_WORKER=1, TP_FUNC_STOP_SIGNAL=INT, TP_FUNC_TIMEOUT_SCALE.
 * The two switches leave tests out by not registering them, never by passing them: the run
 * prints one line per switch naming the tests it left out, and the Check summary counts only
 * the tests that ran. tests/windows/run.sh runs turnpike.exe under Wine this way.
 * TP_FUNC_DPDK runs the DPDK build in a network namespace (tests/dpdk/func.sh), leaving out the
 * same way the tests that need the socket plane, on one line.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "func.h"

#define MAX_CLIENTS 64
#define MAX_PEERS   64

struct relay R;

static struct tcl *clients[MAX_CLIENTS];
static struct tcl_peer *peers[MAX_PEERS];

void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

void wait_metric(const char *series, uint64_t want)
{
	uint64_t deadline = tcl_now_ms() + TCL_TIMEOUT_MS, v;

	while ((v = relay_metric(&R, series)) < want && tcl_now_ms() < deadline)
		sleep_ms(5);
	ck_assert_msg(v == want, "%s is %llu, want %llu", series, (unsigned long long)v,
		      (unsigned long long)want);
}

/* The tests func_wanted() left out, by reason. */
static char left_out_tls[1024], left_out_workers[1024], left_out_dpdk[2048];

static void note(char *list, size_t cap, const char *name)
{
	size_t n = strlen(list);

	snprintf(list + n, cap - n, "%s%s", n ? ", " : "", name);
}

bool func_wanted(const char *name, unsigned needs)
{
	bool want = true;

	if ((needs & FUNC_TLS) && harness.no_tls) {
		note(left_out_tls, sizeof(left_out_tls), name);
		want = false;
	}
	if ((needs & FUNC_WORKERS) && harness.single_worker) {
		note(left_out_workers, sizeof(left_out_workers), name);
		want = false;
	}
	if ((needs & FUNC_ONE_WORKER) && !harness.single_worker)
		want = false; /* the counterpart of the tests with FUNC_WORKERS */
	if (harness.dpdk) {
		static const struct {
			unsigned need;
			const char *why;
		} dpdk_lacks[] = {
			{ FUNC_WORKERS, "several socket-plane workers" },
			{ FUNC_LOOPBACK, "the relay's own addresses on loopback" },
			{ FUNC_ONE_PORT_POOL, "one relay port pool for UDP and TCP clients" },
		};
		char what[256];

		for (unsigned i = 0; i < sizeof(dpdk_lacks) / sizeof(dpdk_lacks[0]); i++) {
			if (!(needs & dpdk_lacks[i].need))
				continue;
			snprintf(what, sizeof(what), "%s (%s)", name, dpdk_lacks[i].why);
			note(left_out_dpdk, sizeof(left_out_dpdk), what);
			want = false;
			break;
		}
		if ((needs & FUNC_ONE_SHARD) && harness.dpdk_workers > 1) {
			snprintf(what, sizeof(what), "%s (every UDP client flow on one worker)",
				 name);
			note(left_out_dpdk, sizeof(left_out_dpdk), what);
			want = false;
		}
	}
	if ((needs & FUNC_DPDK_WORKERS) && !(harness.dpdk && harness.dpdk_workers > 1))
		want = false; /* hand-offs between DPDK workers need some */
	return want;
}

double func_timeout(double seconds)
{
	return seconds * harness.timeout_scale;
}

/* One line for each switch that left tests out, and how the relay runs when that is not the
 * default. Flushed before Check forks. */
static void print_mode(void)
{
	if (harness.wrapper[0] || harness.stop_signal != SIGTERM || harness.timeout_scale != 1) {
		printf("test_func: relay started as");
		for (unsigned i = 0; harness.wrapper[i]; i++)
			printf(" %s", harness.wrapper[i]);
		printf(" %s --config FILE, stopped with %s, timeouts x%g\n", relay_bin,
		       harness.stop_name, harness.timeout_scale);
	}
	if (left_out_tls[0])
		printf("test_func: TP_FUNC_NO_TLS=1, the relay has no TLS listeners; "
		       "not registered, as they need TLS: %s\n",
		       left_out_tls);
	if (left_out_workers[0])
		printf("test_func: TP_FUNC_SINGLE_WORKER=1, the relay runs one worker; "
		       "not registered, as they need several workers: %s\n",
		       left_out_workers);
	if (harness.single_worker)
		printf("test_func: TP_FUNC_SINGLE_WORKER=1: registered instead: "
		       "relay_single_worker_fallback (two workers asked for, one logged)\n");
	if (harness.dpdk)
		printf("test_func: TP_FUNC_DPDK, %u DPDK worker%s: UDP on the DPDK port, "
		       "TCP/TLS on the kernel shard; not registered, as they need what this relay "
		       "lacks: %s%s\n",
		       harness.dpdk_workers, harness.dpdk_workers == 1 ? "" : "s",
		       left_out_dpdk[0] ? left_out_dpdk : "none",
		       harness.dpdk_workers > 1 ? "; registered in addition: relay_dpdk_hand_off "
						  "(peer packets handed to their owner)"
						: "");
	fflush(stdout);
}

void func_setup(void)
{
	memset(&R, 0, sizeof(R));
	memset(clients, 0, sizeof(clients));
	memset(peers, 0, sizeof(peers));
}

void func_teardown(void)
{
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i]) {
			tcl_close(clients[i]);
			free(clients[i]);
			clients[i] = NULL;
		}
	}
	for (unsigned i = 0; i < MAX_PEERS; i++) {
		if (peers[i]) {
			tcl_peer_close(peers[i]);
			free(peers[i]);
			peers[i] = NULL;
		}
	}
	relay_stop(&R);
	relay_cleanup(&R);
}

void start_relay(const struct relay_conf *conf)
{
	relay_start(&R, conf);
}

struct tcl *cl_open_from(int transport, int family, const char *local_ip)
{
	struct tp_addr server = relay_listen(&R, transport, family);
	struct tcl *c = calloc(1, sizeof(*c));
	unsigned i;
	int rc;

	ck_assert_ptr_nonnull(c);
	for (i = 0; i < MAX_CLIENTS && clients[i]; i++)
		;
	ck_assert_uint_lt(i, MAX_CLIENTS);
	clients[i] = c;
	if (local_ip)
		local_ip = harness_ip(local_ip);
	rc = tcl_open(c, transport, &server, local_ip);
	ck_assert_msg(rc == 0, "connect to %s: %s", tcl_addr_str(&server), c->err);
	tcl_set_user(c, H_USER, H_PASS);
	return c;
}

void cl_close(struct tcl *c)
{
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i] == c) {
			tcl_close(c);
			free(c);
			clients[i] = NULL;
			return;
		}
	}
	ck_abort_msg("cl_close: not a client of cl_open");
}

struct tcl *cl_open(int transport, int family)
{
	return cl_open_from(transport, family, NULL);
}

struct tcl_peer *peer_open(int family)
{
	return peer_open_ip(family == TP_AF_INET6 ? "::1" : "127.0.0.1");
}

struct tcl_peer *peer_open_ip(const char *ip)
{
	struct tcl_peer *p = calloc(1, sizeof(*p));
	unsigned i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < MAX_PEERS && peers[i]; i++)
		;
	ck_assert_uint_lt(i, MAX_PEERS);
	peers[i] = p;
	ip = harness_ip(ip);
	ck_assert_msg(tcl_peer_open(p, ip) == 0, "cannot open a peer on %s", ip);
	return p;
}

void peer_expect(struct tcl_peer *p, const void *data, size_t len, const struct tp_addr *from)
{
	uint8_t buf[TCL_FRAME_MAX];
	struct tp_addr src;
	long n = tcl_peer_recv(p, buf, sizeof(buf), &src, TCL_TIMEOUT_MS);

	ck_assert_msg(n >= 0, "peer %s: nothing arrived", tcl_addr_str(&p->addr));
	ck_assert_msg((size_t)n == len && memcmp(buf, data, len) == 0,
		      "peer %s got %ld bytes, not the %zu sent", tcl_addr_str(&p->addr), n, len);
	ck_assert_msg(tp_addr_eq(&src, from), "peer got data from %s, not from %s",
		      tcl_addr_str(&src), tcl_addr_str(from));
}

void peer_expect_nothing(struct tcl_peer *p, int ms)
{
	uint8_t buf[TCL_FRAME_MAX];
	long n = tcl_peer_recv(p, buf, sizeof(buf), NULL, ms);

	ck_assert_msg(n == TCL_ETIMEOUT, "peer %s got %ld bytes it should not have",
		      tcl_addr_str(&p->addr), n);
}

void client_expect_data(struct tcl *c, uint16_t channel, const struct tp_addr *peer,
			const void *data, size_t len)
{
	static struct tcl_data d; /* large: not on the stack */
	int rc = tcl_recv_data(c, &d, TCL_TIMEOUT_MS);

	ck_assert_msg(rc == 1, "no relayed data at the client: %d (%s)", rc, c->err);
	if (channel) {
		ck_assert_msg(d.channel, "a Data indication from %s, not ChannelData",
			      tcl_addr_str(&d.peer));
		ck_assert_uint_eq(d.number, channel);
	} else {
		ck_assert_msg(!d.channel, "ChannelData 0x%04x, not a Data indication", d.number);
		ck_assert_msg(tp_addr_eq(&d.peer, peer), "XOR-PEER-ADDRESS %s, not %s",
			      tcl_addr_str(&d.peer), tcl_addr_str(peer));
	}
	ck_assert_msg(d.len == len && memcmp(d.buf, data, len) == 0,
		      "client got %zu bytes, not the %zu sent", d.len, len);
	ck_assert_msg(d.pad_zero, "non-zero padding");
}

void client_expect_nothing(struct tcl *c, int ms)
{
	static struct tcl_data d;
	int rc = tcl_recv_data(c, &d, ms);

	ck_assert_msg(rc == TCL_ETIMEOUT,
		      "client got relayed data it should not have (%d: %zu bytes)", rc, d.len);
}

int main(int argc, char **argv)
{
	const char *bin = getenv("TP_BIN");
	char err[256];
	SRunner *sr;
	Suite *s;
	int failed;

	relay_bin = bin && *bin ? bin : argc > 1 ? argv[1] : NULL;
	if (!relay_bin) {
		fprintf(stderr,
			"usage: %s TURNPIKE_BINARY (or set TP_BIN)\n"
			"environment (tests/func/harness.h): TP_FUNC_WRAPPER=PROGRAM, "
			"TP_FUNC_NO_TLS=1,\n"
			"  TP_FUNC_SINGLE_WORKER=1, TP_FUNC_STOP_SIGNAL=TERM|INT, "
			"TP_FUNC_TIMEOUT_SCALE=X, TP_FUNC_KEEP=1,\n"
			"  TP_FUNC_DPDK=FILE with TP_FUNC_DPDK_{RELAY,KERNEL,CLIENTS,WORKERS}\n",
			argv[0]);
		return 2;
	}
	if (harness_init(err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a relay that closes a stream must not kill the tests */
	s = suite_create("func");
	suite_add_tcase(s, func_tcase_methods());
	suite_add_tcase(s, func_tcase_relay());
	suite_add_tcase(s, func_tcase_errors());
	suite_add_tcase(s, func_tcase_auth());
	suite_add_tcase(s, func_tcase_acl());
	suite_add_tcase(s, func_tcase_abuse());
	print_mode();
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
