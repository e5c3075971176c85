/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The functional suite: the real turnpike binary, driven over loopback by our own TURN client.
 * Every test starts its own relay with the config it needs and the fixture stops it, asserting
 * a clean exit, so the suite passes with CK_FORK=no as well as in Check's fork mode.
 *
 * Usage: test_func TURNPIKE_BINARY (or TP_BIN=TURNPIKE_BINARY test_func).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "func.h"

#define MAX_CLIENTS 64
#define MAX_PEERS   16

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
	SRunner *sr;
	Suite *s;
	int failed;

	relay_bin = bin && *bin ? bin : argc > 1 ? argv[1] : NULL;
	if (!relay_bin) {
		fprintf(stderr, "usage: %s TURNPIKE_BINARY (or set TP_BIN)\n", argv[0]);
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
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
