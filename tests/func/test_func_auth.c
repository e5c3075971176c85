/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Authentication through the real relay: MESSAGE-INTEGRITY-SHA256 with PASSWORD-ALGORITHMS,
 * USERHASH, TURN REST usernames (valid, expired, malformed), stale nonces (438) and the
 * per-source rate limit on 401 answers.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <turnpike/stun.h>

#include "func.h"

static unsigned created(void)
{
	return relay_log_count(&R, "allocation created");
}

START_TEST(auth_sha256_with_password_algorithms)
{
	struct tcl *c, *d;
	struct tcl_peer *p;
	struct tcl_req refresh = { .method = TP_STUN_REFRESH };
	uint16_t t;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_TCP, TP_AF_INET6);
	p = peer_open(TP_AF_INET);
	c->alg = TP_STUN_PWALG_SHA256;
	EXPECT(c, tcl_allocate(c, NULL), 0);
	ck_assert_int_eq(c->integrity, 256);
	ck_assert_uint_eq(c->n_pwalgs, 2);
	EXPECT(c, tcl_permit(c, &p->addr, 1), 0);
	ck_assert_int_eq(c->integrity, 256);
	EXPECT(c, tcl_refresh(c, 900), 0);
	ck_assert_int_eq(c->integrity, 256);
	/* RFC 8489 §9.2.4: PASSWORD-ALGORITHMS must be the list the server sent, as sent. */
	t = c->pwalgs[0];
	c->pwalgs[0] = c->pwalgs[1];
	c->pwalgs[1] = t;
	EXPECT(c, tcl_build(c, &refresh), 0);
	EXPECT(c, tcl_transact(c, TCL_TIMEOUT_MS), 400);
	ck_assert_int_eq(c->integrity, 0);
	c->pwalgs[1] = c->pwalgs[0];
	c->pwalgs[0] = t;
	/* A PASSWORD-ALGORITHM the server did not offer. */
	c->alg = 0x0003;
	EXPECT(c, tcl_build(c, &refresh), 0);
	EXPECT(c, tcl_transact(c, TCL_TIMEOUT_MS), 400);
	/* MD5 chosen explicitly from the list: the MD5 key and MESSAGE-INTEGRITY. */
	d->alg = TP_STUN_PWALG_MD5;
	EXPECT(d, tcl_allocate(d, NULL), 0);
	ck_assert_int_eq(d->integrity, 1);
}
END_TEST

START_TEST(auth_sha256_only)
{
	struct tcl *c, *d;

	start_relay(&(struct relay_conf){ .pwalgs = "[\"sha256\"]" });
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_UDP, TP_AF_INET);
	c->alg = TP_STUN_PWALG_SHA256;
	EXPECT(c, tcl_allocate(c, NULL), 0);
	ck_assert_int_eq(c->integrity, 256);
	ck_assert_uint_eq(c->n_pwalgs, 1);
	ck_assert_uint_eq(c->pwalgs[0], TP_STUN_PWALG_SHA256);
	/* MD5 is not on the list. */
	d->alg = TP_STUN_PWALG_MD5;
	EXPECT(d, tcl_allocate(d, NULL), 400);
	/* A client that knows no PASSWORD-ALGORITHM at all (RFC 5389 style, MD5 key). */
	d->alg = 0;
	EXPECT(d, tcl_allocate(d, NULL), 400);
	ck_assert_uint_eq(created(), 1);
}
END_TEST

START_TEST(auth_userhash)
{
	struct tcl *c, *d, *e;

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_TLS, TP_AF_INET);
	e = cl_open(TCL_UDP, TP_AF_INET6);
	/* USERHASH instead of USERNAME (RFC 8489 §14.4), with SHA-256 and with MD5 keys. */
	c->userhash = true;
	c->alg = TP_STUN_PWALG_SHA256;
	tcl_set_user(c, H_ALICE, H_ALICE_PASS);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	ck_assert_int_eq(c->integrity, 256);
	ck_assert_uint_eq(relay_log_count(&R, "user \"" H_ALICE "\""), 1);
	d->userhash = true;
	EXPECT(d, tcl_allocate(d, NULL), 0);
	ck_assert_int_eq(d->integrity, 1);
	ck_assert_uint_eq(relay_log_count(&R, "user \"" H_USER "\""), 1);
	/* The hash of a user the relay does not know. */
	e->userhash = true;
	e->alg = TP_STUN_PWALG_SHA256;
	tcl_set_user(e, "nobody", "whatever");
	EXPECT(e, tcl_allocate(e, NULL), 401);
	/* The owner of an allocation made with USERHASH is the user it names. */
	tcl_set_user(c, H_BOB, H_BOB_PASS);
	EXPECT(c, tcl_refresh(c, 600), 441);
	ck_assert_uint_eq(created(), 2);
}
END_TEST

START_TEST(auth_rest_credentials)
{
	struct tcl *c, *d, *e;
	char name[128], pass[64], line[160];

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_TCP, TP_AF_INET);
	e = cl_open(TCL_UDP, TP_AF_INET6);
	tcl_rest_credentials(H_SECRET, (uint64_t)time(NULL) + 600, "rest-user", name, sizeof(name),
			     pass, sizeof(pass));
	tcl_set_user(c, name, pass);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	ck_assert_int_eq(c->integrity, 1);
	snprintf(line, sizeof(line), "user \"%s\"", name);
	ck_assert_uint_eq(relay_log_count(&R, line), 1);
	/* With SHA-256 keys as well (the password is the HMAC, the key is derived as usual). */
	tcl_set_user(d, name, pass);
	d->alg = TP_STUN_PWALG_SHA256;
	EXPECT(d, tcl_allocate(d, NULL), 0);
	ck_assert_int_eq(d->integrity, 256);
	/* The password of another secret. */
	tcl_rest_credentials("not-the-secret", (uint64_t)time(NULL) + 600, "rest-user", name,
			     sizeof(name), pass, sizeof(pass));
	tcl_set_user(e, name, pass);
	EXPECT(e, tcl_allocate(e, NULL), 401);
	ck_assert_uint_eq(created(), 2);
}
END_TEST

START_TEST(auth_rest_expired_or_malformed)
{
	static const char *const names[] = {
		"12ab:rest-user",
		":rest-user",
		"99999999999999999999:rest-user",
		"-5:rest-user",
		" 1999999999:rest-user",
		"rest-user",
	};
	char name[128], pass[64];
	struct tcl *c;
	uint8_t mac[TP_SHA1_LEN];

	start_relay(NULL);
	c = cl_open(TCL_UDP, TP_AF_INET);
	/* Expired a moment ago. */
	tcl_rest_credentials(H_SECRET, (uint64_t)time(NULL) - 2, "rest-user", name, sizeof(name),
			     pass, sizeof(pass));
	tcl_set_user(c, name, pass);
	EXPECT(c, tcl_allocate(c, NULL), 401);
	/* Timestamps that are not one, each with the password the secret gives for it. */
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		tp_hmac_once(TP_DIGEST_SHA1, H_SECRET, strlen(H_SECRET), names[i], strlen(names[i]),
			     mac);
		tp_base64_encode(mac, sizeof(mac), pass, sizeof(pass));
		tcl_set_user(c, names[i], pass);
		EXPECT(c, tcl_allocate(c, NULL), 401);
	}
	ck_assert_uint_eq(created(), 0);
}
END_TEST

START_TEST(auth_438_stale_nonce)
{
	struct tcl_req refresh = { .method = TP_STUN_REFRESH };
	struct tcl_req alloc = { .method = TP_STUN_ALLOCATE, .transport = 17 };
	char old[TP_STUN_NONCE_MAX + 1];
	struct tcl *c, *d, *e;

	start_relay(&(struct relay_conf){ .nonce_lifetime = 10 });
	c = cl_open(TCL_UDP, TP_AF_INET);
	d = cl_open(TCL_TCP, TP_AF_INET);
	e = cl_open(TCL_UDP, TP_AF_INET6);
	EXPECT(c, tcl_allocate(c, NULL), 0);
	alloc.noauth = true;
	EXPECT(d, tcl_request(d, &alloc), 401);
	EXPECT(d, tcl_learn(d), 0);
	EXPECT(e, tcl_request(e, &alloc), 401);
	EXPECT(e, tcl_learn(e), 0);
	alloc.noauth = false;
	memcpy(old, c->nonce, c->nonce_len + 1);
	/* auth.nonce_lifetime is 10 s, the least allowed: wait it out. */
	sleep_ms(10500);
	EXPECT(c, tcl_build(c, &refresh), 0);
	EXPECT(c, tcl_transact(c, TCL_TIMEOUT_MS), 438);
	ck_assert_int_eq(c->integrity, 0);
	EXPECT(c, tcl_learn(c), 0);
	ck_assert_str_ne(c->nonce, old);
	EXPECT(c, tcl_build(c, &refresh), 0);
	EXPECT(c, tcl_transact(c, TCL_TIMEOUT_MS), 0);
	ck_assert_int_eq(c->integrity, 1);
	/* An Allocate with a stale nonce: 438, then the client's retry succeeds. */
	EXPECT(d, tcl_build(d, &alloc), 0);
	EXPECT(d, tcl_transact(d, TCL_TIMEOUT_MS), 438);
	EXPECT(d, tcl_allocate(d, NULL), 0);
	/* RFC 8489 §9.2.4: integrity is checked before the nonce's age; wrong credentials with
	 * a stale nonce are a 401, not a 438. */
	snprintf(e->pass, sizeof(e->pass), "wrong"); /* keeps e's stale nonce */
	EXPECT(e, tcl_build(e, &alloc), 0);
	EXPECT(e, tcl_transact(e, TCL_TIMEOUT_MS), 401);
	ck_assert_uint_eq(created(), 2);
}
END_TEST

START_TEST(auth_unauth_rate_limit)
{
	struct tcl_req alloc = { .method = TP_STUN_ALLOCATE, .transport = 17, .noauth = true };
	uint8_t buf[TCL_FRAME_MAX];
	unsigned answers = 0;
	uint64_t dropped;
	struct tcl *flood, *other;
	uint64_t deadline;

	start_relay(&(struct relay_conf){ .unauth_rate = 5 });
	flood = cl_open_from(TCL_UDP, TP_AF_INET, "127.0.0.2");
	other = cl_open_from(TCL_UDP, TP_AF_INET, "127.0.0.3");
	for (int i = 0; i < 60; i++) {
		EXPECT(flood, tcl_build(flood, &alloc), 0);
		EXPECT(flood, tcl_send_raw(flood, flood->req, flood->req_len), 0);
	}
	/* Each request is answered or dropped by the limiter; only the burst (5) is answered,
	 * and perhaps one more if the relay took over 200 ms for the 60. */
	deadline = tcl_now_ms() + TCL_TIMEOUT_MS;
	do {
		if (tcl_recv_frame(flood, buf, sizeof(buf), 20) >= TP_STUN_HDR_LEN)
			answers++;
		dropped = relay_metric(&R, DROPS("UNAUTH_RATE"));
	} while (answers + dropped < 60 && tcl_now_ms() < deadline);
	ck_assert_uint_eq(answers + dropped, 60);
	ck_assert_msg(answers >= 5 && answers <= 7, "%u answers to 60 unauthenticated requests",
		      answers);
	/* Another source has a bucket of its own. */
	EXPECT(other, tcl_request(other, &alloc), 401);
	/* And the flooding source gets answers again a second later. */
	sleep_ms(1100);
	EXPECT(flood, tcl_request(flood, &alloc), 401);
	ck_assert_uint_eq(created(), 0);
}
END_TEST

TCase *func_tcase_auth(void)
{
	TCase *tc = tcase_create("auth");

	tcase_add_checked_fixture(tc, func_setup, func_teardown);
	tcase_set_timeout(tc, func_timeout(90));
	FUNC_ADD_TEST(tc, auth_sha256_with_password_algorithms, 0);
	FUNC_ADD_TEST(tc, auth_sha256_only, 0);
	FUNC_ADD_TEST(tc, auth_userhash, FUNC_TLS);
	FUNC_ADD_TEST(tc, auth_rest_credentials, 0);
	FUNC_ADD_TEST(tc, auth_rest_expired_or_malformed, 0);
	FUNC_ADD_TEST(tc, auth_438_stale_nonce, 0);
	FUNC_ADD_TEST(tc, auth_unauth_rate_limit, 0);
	return tc;
}
