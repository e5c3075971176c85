/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Authentication (RFC 8489 §9.2, DESIGN §7): the 401 challenge, long-term credentials with MD5
 * and SHA-256 keys, PASSWORD-ALGORITHMS, USERHASH, stateless nonces and their expiry, and the
 * TURN REST API usernames.
 */
#include <stdio.h>
#include <string.h>

#include "engine_fixture.h"

static const struct treq allocate = { .method = TP_STUN_ALLOCATE,
				      .transport = TP_STUN_TRANSPORT_UDP };

/* The 24 security-feature bits of a nonce (RFC 8489 §9.2: base64 after the cookie). */
static uint32_t nonce_features(const char *nonce)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t bits = 0;

	ck_assert_int_eq(strncmp(nonce, "obMatJos2", 9), 0);
	for (int i = 9; i < 13; i++) {
		const char *p = strchr(b64, nonce[i]);

		ck_assert_ptr_nonnull(p);
		bits = bits << 6 | (uint32_t)(p - b64);
	}
	return bits;
}

#define FEATURE_PASSWORD_ALGORITHMS 0x800000u

START_TEST(challenge_401)
{
	const uint8_t *realm;
	size_t realm_len;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	ck_assert_int_eq(tc_code(&c), 401);
	ck_assert_int_eq(tp_stun_get_string(&c.m, TP_STUN_ATTR_REALM, &realm, &realm_len), 0);
	ck_assert_uint_eq(realm_len, strlen(TW_REALM));
	ck_assert_mem_eq(realm, TW_REALM, realm_len);
	/* RFC 8489 §9.2: the nonce cookie, with the PASSWORD-ALGORITHMS bit matching the list. */
	ck_assert(nonce_features(c.nonce) & FEATURE_PASSWORD_ALGORITHMS);
	ck_assert(c.saw_pwalgs);
	ck_assert_uint_eq(c.n_pwalgs, 2);
	ck_assert_uint_eq(c.pwalgs[0], TP_STUN_PWALG_MD5);
	ck_assert_uint_eq(c.pwalgs[1], TP_STUN_PWALG_SHA256);
	/* DESIGN §7: a 401 carries no MESSAGE-INTEGRITY of either kind. */
	ck_assert(!tc_has(&c, TP_STUN_ATTR_MESSAGE_INTEGRITY));
	ck_assert(!tc_has(&c, TP_STUN_ATTR_MESSAGE_INTEGRITY_SHA256));
	ck_assert_uint_eq(c.m.mi_off, 0);
	ck_assert_uint_eq(c.m.mi256_off, 0);
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(tw_opens(), 0);
}
END_TEST

START_TEST(challenge_lists_algorithms_in_the_operators_order)
{
	struct tc c;

	W->p.pwalg_sha256_first = true;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	ck_assert_uint_eq(c.n_pwalgs, 2);
	ck_assert_uint_eq(c.pwalgs[0], TP_STUN_PWALG_SHA256);
	ck_assert_uint_eq(c.pwalgs[1], TP_STUN_PWALG_MD5);
}
END_TEST

START_TEST(sha256_only_refuses_clients_without_algorithms)
{
	struct tc c;

	/* RFC 8489 §9.2.4: no PASSWORD-ALGORITHM(S) means MD5, which this server does not take. */
	W->p.pwalg_md5 = false;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	c.alg = 0; /* a legacy client: no PASSWORD-ALGORITHM(S), an MD5 key */
	ck_assert_int_eq(tc_do(&c, &(struct treq){ .method = TP_STUN_ALLOCATE,
						   .transport = TP_STUN_TRANSPORT_UDP }),
			 400);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(challenge_md5_only_has_no_algorithm_list)
{
	struct tc c;

	W->p.pwalg_sha256 = false;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	ck_assert(!c.saw_pwalgs);
	ck_assert_uint_eq(nonce_features(c.nonce) & FEATURE_PASSWORD_ALGORITHMS, 0);
	tc_allocate(&c);
	ck_assert_int_eq(c.integrity, 1);
}
END_TEST

START_TEST(allocate_md5_success)
{
	const struct tw_event *ev;
	struct tp_addr relay4 = tw_addr(TW_RELAY4);
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_allocate(&c);
	ck_assert_int_eq(c.integrity, 1); /* MESSAGE-INTEGRITY under the MD5 key, verified */
	ck_assert_uint_eq(c.n_relay, 1);
	ck_assert(tp_addr_ip_eq(&c.relay[0], &relay4));
	ck_assert_uint_ge(c.relay[0].port, TW_PORT_MIN);
	ck_assert_uint_le(c.relay[0].port, TW_PORT_MAX);
	ck_assert_uint_eq(tp_engine_port_shard(c.relay[0].port, TW_PORT_MIN, 1), 0);
	ck_assert_uint_eq(c.lifetime, 600);
	ck_assert(tp_addr_eq(&c.mapped, &c.addr));
	ck_assert(!c.has_token);
	ck_assert_uint_eq(tw_allocations(), 1);
	ck_assert_uint_eq(W->ops[0].opens, 1);
	ck_assert_uint_eq(W->ops[0].last_open, c.relay[0].port);
	ck_assert_uint_eq(W->ops[0].last_families, TP_RELAY_V4);
	ck_assert_uint_eq(W->ops[0].n_events, 1);
	ev = &W->ops[0].ev[0];
	ck_assert_int_eq(ev->kind, TP_EVENT_ALLOC_CREATED);
	ck_assert_str_eq(ev->user, "alice");
	ck_assert(tp_addr_eq(&ev->client, &c.addr));
	ck_assert(tp_addr_eq(&ev->relay4, &c.relay[0]));
	ck_assert_uint_eq(ev->relay6.family, 0);
	ck_assert_uint_eq(ev->lifetime, 600);
	ck_assert_uint_eq(ev->transport, TP_TRANSPORT_UDP);
}
END_TEST

START_TEST(wrong_password_401)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "not-her-password");
	ck_assert_int_eq(tc_do(&c, &allocate), 401);
	ck_assert_int_eq(c.integrity, 0);
	ck_assert(tc_has(&c, TP_STUN_ATTR_NONCE));
	ck_assert_uint_eq(tw_allocations(), 0);
	ck_assert_uint_eq(tw_ctr(TP_CTR_AUTH_FAIL), 3);
	ck_assert_uint_eq(tw_ctr(TP_CTR_AUTH_OK), 0);
	/* An unknown user is refused the same way. */
	tc_init(&c, TW_CLIENT, "mallory", "alice-pw");
	ck_assert_int_eq(tc_do(&c, &allocate), 401);
	ck_assert_uint_eq(tw_opens(), 0);
}
END_TEST

START_TEST(stale_nonce_438)
{
	char old[sizeof(((struct tc *)0)->nonce)];
	struct tc a, b;

	tw_start();
	tc_init(&a, TW_CLIENT, "alice", "alice-pw");
	tc_init(&b, "5.6.7.9:40000", "bob", "bob-pw");
	tc_challenge(&a);
	tc_challenge(&b);
	tw_advance_ms(599 * 1000);
	ck_assert_int_eq(tc_send(&b, &allocate), 0); /* still fresh at 599 s */
	tw_advance_ms(1000);
	memcpy(old, a.nonce, sizeof(old));
	ck_assert_int_eq(tc_send(&a, &allocate), 438);
	ck_assert_int_eq(a.integrity, 0);
	ck_assert(tc_has(&a, TP_STUN_ATTR_REALM));
	ck_assert(tc_has(&a, TP_STUN_ATTR_PASSWORD_ALGORITHMS));
	/* The 438 brings a fresh nonce, and the client succeeds with it. */
	tc_learn(&a);
	ck_assert_str_ne(a.nonce, old);
	ck_assert_int_eq(strncmp(a.nonce, "obMatJos2", 9), 0);
	ck_assert_int_eq(tc_send(&a, &allocate), 0);
	ck_assert_uint_eq(tw_allocations(), 2);
	ck_assert_uint_eq(tp_stat_read(&tp_engine_stats(W->e[0])->error_code[TP_SE_438]), 1);
}
END_TEST

START_TEST(stale_nonce_with_bad_password_401)
{
	struct tc c;

	/* RFC 8489 §9.2.4: the stale-nonce check comes after the integrity check, so a 438 is
	 * only ever sent to a client that proved its credentials. */
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "wrong");
	tc_challenge(&c);
	tw_advance_ms(601 * 1000);
	ck_assert_int_eq(tc_send(&c, &allocate), 401);
}
END_TEST

START_TEST(nonce_from_another_address_401)
{
	struct tc a, b;

	tw_start();
	tc_init(&a, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&a);
	/* The same IP, another port; then another IP: the nonce is bound to the address. */
	tc_init(&b, "5.6.7.8:40001", "alice", "alice-pw");
	memcpy(b.realm, a.realm, sizeof(b.realm));
	memcpy(b.nonce, a.nonce, sizeof(b.nonce));
	b.realm_len = a.realm_len;
	b.nonce_len = a.nonce_len;
	ck_assert_int_eq(tc_send(&b, &allocate), 401);
	b.addr = tw_addr("5.6.7.99:40000");
	ck_assert_int_eq(tc_send(&b, &allocate), 401);
	/* Over TCP from the very same address and port it is another nonce too. */
	b.addr = a.addr;
	b.transport = TP_TRANSPORT_TCP;
	b.conn = 3;
	ck_assert_int_eq(tc_send(&b, &allocate), 401);
	/* A nonce with a forged MAC. */
	a.nonce[a.nonce_len - 1] ^= 1;
	ck_assert_int_eq(tc_send(&a, &allocate), 401);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(missing_credential_attributes_400)
{
	static const unsigned omit[] = { TC_OMIT_USERNAME, TC_OMIT_REALM, TC_OMIT_NONCE };
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	for (unsigned i = 0; i < 3; i++) {
		struct treq rq = allocate;

		rq.omit = omit[i];
		ck_assert_int_eq(tc_send(&c, &rq), 400);
		/* RFC 8489 §9.2.4: no integrity, no REALM or NONCE in this 400. */
		ck_assert_int_eq(c.integrity, 0);
		ck_assert(!tc_has(&c, TP_STUN_ATTR_NONCE));
		ck_assert(!tc_has(&c, TP_STUN_ATTR_REALM));
	}
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(wrong_realm_401)
{
	const uint8_t *realm;
	size_t len;
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	strcpy(c.realm, "elsewhere.test");
	c.realm_len = strlen(c.realm);
	ck_assert_int_eq(tc_send(&c, &allocate), 401);
	ck_assert_int_eq(tp_stun_get_string(&c.m, TP_STUN_ATTR_REALM, &realm, &len), 0);
	ck_assert_mem_eq(realm, TW_REALM, strlen(TW_REALM));
}
END_TEST

START_TEST(sha256_with_password_algorithms)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	c.alg = TP_STUN_PWALG_SHA256;
	tc_allocate(&c);
	ck_assert_uint_eq(c.key_len, 32); /* the SHA-256 long-term key */
	ck_assert_int_eq(c.integrity, 256);
	ck_assert(!tc_has(&c, TP_STUN_ATTR_MESSAGE_INTEGRITY));
	/* Later requests carry on with the same algorithm. */
	tc_permit(&c, TW_PEER);
	ck_assert_int_eq(c.integrity, 256);
}
END_TEST

START_TEST(md5_key_with_sha256_integrity)
{
	struct tc c;

	/* RFC 8489 §9.2.5: a client that saw PASSWORD-ALGORITHMS uses MESSAGE-INTEGRITY-SHA256,
	 * whichever algorithm made the key. */
	tw_start();
	tc_init(&c, TW_CLIENT, "bob", "bob-pw");
	c.alg = TP_STUN_PWALG_MD5;
	c.mi256 = true;
	tc_allocate(&c);
	ck_assert_uint_eq(c.key_len, 16);
	ck_assert_int_eq(c.integrity, 256);
}
END_TEST

START_TEST(password_algorithms_mismatch_400)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	c.alg = TP_STUN_PWALG_SHA256;
	/* The list must be exactly the one the server sent, in its order (RFC 8489 §9.2.4). */
	c.pwalgs[0] = TP_STUN_PWALG_SHA256;
	c.pwalgs[1] = TP_STUN_PWALG_MD5;
	ck_assert_int_eq(tc_send(&c, &allocate), 400);
	c.n_pwalgs = 1;
	ck_assert_int_eq(tc_send(&c, &allocate), 400);
	ck_assert_int_eq(c.integrity, 0);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(password_algorithm_not_offered_400)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	c.alg = TP_STUN_PWALG_SHA256;
	c.send_alg = 0x0003;
	ck_assert_int_eq(tc_send(&c, &allocate), 400);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(password_algorithm_outside_a_sha256_only_list_400)
{
	struct tc c;

	W->p.pwalg_md5 = false;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	ck_assert_uint_eq(c.n_pwalgs, 1);
	ck_assert_uint_eq(c.pwalgs[0], TP_STUN_PWALG_SHA256);
	c.alg = TP_STUN_PWALG_MD5;
	c.mi256 = true;
	ck_assert_int_eq(tc_send(&c, &allocate), 400);
	c.alg = TP_STUN_PWALG_SHA256;
	ck_assert_int_eq(tc_send(&c, &allocate), 0);
	ck_assert_int_eq(c.integrity, 256);
}
END_TEST

START_TEST(userhash_static_user)
{
	struct tc c, d, e;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	c.userhash = true;
	c.alg = TP_STUN_PWALG_SHA256;
	tc_allocate(&c);
	ck_assert_int_eq(c.integrity, 256);
	ck_assert_str_eq(W->ops[0].ev[0].user, "alice");
	/* USERHASH with the legacy MD5 integrity works too. */
	tc_init(&d, "5.6.7.8:40002", "bob", "bob-pw");
	d.userhash = true;
	tc_allocate(&d);
	/* A hash that matches no user. */
	tc_init(&e, "5.6.7.8:40003", "carol", "carol-pw");
	e.userhash = true;
	ck_assert_int_eq(tc_do(&e, &allocate), 401);
}
END_TEST

START_TEST(rest_credentials)
{
	char user[64], pass[64];
	struct tc c;

	tw_start();
	snprintf(user, sizeof(user), "%llu:alice", (unsigned long long)W->now.unix_s + 3600);
	tw_rest_password(user, pass, sizeof(pass));
	tc_init(&c, TW_CLIENT, user, pass);
	tc_allocate(&c);
	ck_assert_int_eq(c.integrity, 1);
	ck_assert_str_eq(W->ops[0].ev[0].user, user);
	/* A username without a user part is a valid REST username too (coturn). */
	snprintf(user, sizeof(user), "%llu", (unsigned long long)W->now.unix_s + 60);
	tw_rest_password(user, pass, sizeof(pass));
	tc_init(&c, "5.6.7.8:40001", user, pass);
	c.alg = TP_STUN_PWALG_SHA256;
	tc_allocate(&c);
	ck_assert_int_eq(c.integrity, 256);
	/* The wrong password for a REST username. */
	snprintf(user, sizeof(user), "%llu:bob", (unsigned long long)W->now.unix_s + 60);
	tc_init(&c, "5.6.7.8:40002", user, "bm90IHRoZSBITUFD");
	ck_assert_int_eq(tc_do(&c, &allocate), 401);
}
END_TEST

START_TEST(rest_expired_401)
{
	char user[64], pass[64];
	struct tc c;

	tw_start();
	snprintf(user, sizeof(user), "%llu:alice", (unsigned long long)W->now.unix_s - 1);
	tw_rest_password(user, pass, sizeof(pass));
	tc_init(&c, TW_CLIENT, user, pass);
	ck_assert_int_eq(tc_do(&c, &allocate), 401);
	/* A username that expires exactly now has expired. */
	snprintf(user, sizeof(user), "%llu:alice", (unsigned long long)W->now.unix_s);
	tw_rest_password(user, pass, sizeof(pass));
	tc_init(&c, TW_CLIENT, user, pass);
	ck_assert_int_eq(tc_do(&c, &allocate), 401);
	/* Valid now, expired by the time the nonce is used. */
	snprintf(user, sizeof(user), "%llu:alice", (unsigned long long)W->now.unix_s + 10);
	tw_rest_password(user, pass, sizeof(pass));
	tc_init(&c, TW_CLIENT, user, pass);
	tc_challenge(&c);
	tw_advance_ms(10 * 1000);
	ck_assert_int_eq(tc_send(&c, &allocate), 401);
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(rest_malformed_timestamps_401)
{
	static const char *const users[] = {
		"abc:alice",
		":alice",
		"1234567890123456789012345:alice",
		"17000036O0:alice",
		"-1:alice",
		" 1800000000:alice",
		"18446744073709551617:alice",
	};
	char pass[64];
	struct tc c;

	tw_start();
	for (unsigned i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		tw_rest_password(users[i], pass, sizeof(pass));
		tc_init(&c, TW_CLIENT, users[i], pass);
		ck_assert_msg(tc_do(&c, &allocate) == 401, "%s was accepted", users[i]);
	}
	ck_assert_uint_eq(tw_allocations(), 0);
}
END_TEST

START_TEST(rest_needs_a_secret)
{
	char user[64], pass[64];
	struct tc c;

	W->p.rest_secret = NULL;
	tw_start();
	snprintf(user, sizeof(user), "%llu:alice", (unsigned long long)W->now.unix_s + 3600);
	tw_rest_password(user, pass, sizeof(pass));
	tc_init(&c, TW_CLIENT, user, pass);
	ck_assert_int_eq(tc_do(&c, &allocate), 401);
}
END_TEST

START_TEST(reload_changing_algorithms_makes_nonces_stale)
{
	struct tc c;

	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	W->p.pwalg_sha256 = false;
	tw_reload();
	/* The nonce advertised PASSWORD-ALGORITHMS; the server no longer does. */
	ck_assert_int_eq(tc_send(&c, &allocate), 438);
	ck_assert(!tc_has(&c, TP_STUN_ATTR_PASSWORD_ALGORITHMS));
	ck_assert_int_eq(tc_do(&c, &allocate), 0);
}
END_TEST

START_TEST(no_auth_required)
{
	struct tc c;

	W->p.auth_required = false;
	tw_start();
	tc_init(&c, TW_CLIENT, NULL, NULL);
	ck_assert_int_eq(tc_send(&c, &allocate), 0);
	ck_assert_int_eq(c.integrity, 0);
	ck_assert_str_eq(W->ops[0].ev[0].user, "anonymous");
}
END_TEST

START_TEST(nonce_valid_on_every_shard)
{
	struct tc c;

	/* The nonce secret is shared: a nonce from one shard is good on another. */
	W->nshards = 2;
	tw_start();
	tc_init(&c, TW_CLIENT, "alice", "alice-pw");
	tc_challenge(&c);
	c.shard = 1;
	ck_assert_int_eq(tc_send(&c, &allocate), 0);
	ck_assert_uint_eq(tp_engine_allocations(W->e[1]), 1);
}
END_TEST

TCase *engine_tcase_auth(void)
{
	TCase *tc = tcase_create("auth");

	tcase_add_checked_fixture(tc, tw_setup, tw_teardown);
	tcase_add_test(tc, challenge_401);
	tcase_add_test(tc, challenge_lists_algorithms_in_the_operators_order);
	tcase_add_test(tc, sha256_only_refuses_clients_without_algorithms);
	tcase_add_test(tc, challenge_md5_only_has_no_algorithm_list);
	tcase_add_test(tc, allocate_md5_success);
	tcase_add_test(tc, wrong_password_401);
	tcase_add_test(tc, stale_nonce_438);
	tcase_add_test(tc, stale_nonce_with_bad_password_401);
	tcase_add_test(tc, nonce_from_another_address_401);
	tcase_add_test(tc, missing_credential_attributes_400);
	tcase_add_test(tc, wrong_realm_401);
	tcase_add_test(tc, sha256_with_password_algorithms);
	tcase_add_test(tc, md5_key_with_sha256_integrity);
	tcase_add_test(tc, password_algorithms_mismatch_400);
	tcase_add_test(tc, password_algorithm_not_offered_400);
	tcase_add_test(tc, password_algorithm_outside_a_sha256_only_list_400);
	tcase_add_test(tc, userhash_static_user);
	tcase_add_test(tc, rest_credentials);
	tcase_add_test(tc, rest_expired_401);
	tcase_add_test(tc, rest_malformed_timestamps_401);
	tcase_add_test(tc, rest_needs_a_secret);
	tcase_add_test(tc, reload_changing_algorithms_makes_nonces_stale);
	tcase_add_test(tc, no_auth_required);
	tcase_add_test(tc, nonce_valid_on_every_shard);
	return tc;
}
