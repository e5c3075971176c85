/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Authentication: stateless nonces, long-term credentials (static users and the TURN REST API
 * shared secret), PASSWORD-ALGORITHMS, USERHASH, MESSAGE-INTEGRITY and -SHA256 (RFC 8489 §9.2),
 * and the per-source rate limit on challenges.
 *
 * Nothing here creates state for an unauthenticated request: the nonce is a MAC of the client's
 * address and the time under a secret shared by the shards, and the rate limiter is a fixed
 * table of token buckets indexed by a hash of the source.
 */
#include <string.h>

#include <turnpike/byteorder.h>

#include "engine_int.h"

/* RFC 8489 §9.2: security feature bits, most significant first. */
#define FEATURE_PASSWORD_ALGORITHMS 0x800000u
#define FEATURE_USERNAME_ANONYMITY  0x400000u

uint32_t tp_quota_slot(const uint8_t *user, size_t len)
{
	const uint8_t *colon = memchr(user, ':', len);

	/* A REST username "expiry:user" counts against "user": each credential differs. */
	if (colon) {
		len -= (size_t)(colon + 1 - user);
		user = colon + 1;
	}
	return tp_hash_bytes(0x7475726e, user, len) % TP_QUOTA_SLOTS;
}

static void hex32(char *out, uint32_t v)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 7; i >= 0; i--) {
		out[i] = digits[v & 15];
		v >>= 4;
	}
}

static int unhex32(const char *s, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 8; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* MAC over the nonce's visible part and the client's transport address. */
static void nonce_mac(const struct tp_engine *e, const struct tp_pkt *pkt, const char *visible,
		      char out[17])
{
	uint8_t addr[1 + 1 + 2 + 16];
	uint8_t mac[TP_SHA256_LEN];
	struct tp_chunk in[2] = { { visible, 21 }, { addr, sizeof(addr) } };
	char b64[TP_SHA256_LEN * 2];

	addr[0] = pkt->transport;
	addr[1] = pkt->src.family;
	tp_put_be16(addr + 2, pkt->src.port);
	memcpy(addr + 4, pkt->src.ip, 16);
	tp_hmac(&e->sh->nonce_key, in, 2, mac);
	tp_base64_encode(mac, 12, b64, sizeof(b64));
	/* base64 of 12 bytes is 16 characters; '/' and '+' are fine in a NONCE. */
	memcpy(out, b64, 16);
	out[16] = '\0';
}

void tp_auth_nonce(struct tp_engine *e, const struct tp_pkt *pkt, char out[TP_NONCE_LEN + 1])
{
	memcpy(out, TP_NONCE_PREFIX, 9);
	memcpy(out + 9, e->pol->nonce_features, 4);
	hex32(out + 13, e->now_s);
	nonce_mac(e, pkt, out, out + 21);
}

enum nonce_state {
	NONCE_OK,
	NONCE_EXPIRED, /* ours, but too old: 438 once the request has proved its credentials */
	NONCE_STALE,   /* ours, from before a reload that changed the features: 438 at once */
	NONCE_BAD
};

static enum nonce_state nonce_check(struct tp_engine *e, const struct tp_pkt *pkt,
				    const uint8_t *nonce, size_t len)
{
	char visible[22], mac[17];
	uint32_t stamp;

	if (len != TP_NONCE_LEN || memcmp(nonce, TP_NONCE_PREFIX, 9) != 0)
		return NONCE_BAD;
	memcpy(visible, nonce, 21);
	visible[21] = '\0';
	if (unhex32(visible + 13, &stamp) < 0)
		return NONCE_BAD;
	nonce_mac(e, pkt, visible, mac);
	if (!tp_memeq_ct(mac, nonce + 21, 16))
		return NONCE_BAD;
	/* Features changed by a reload: the client must learn the new ones. */
	if (memcmp(visible + 9, e->pol->nonce_features, 4) != 0)
		return NONCE_STALE;
	if (stamp > e->now_s || e->now_s - stamp >= e->pol->p.nonce_lifetime)
		return NONCE_EXPIRED;
	return NONCE_OK;
}

/* True when a challenge may go to this source now (DESIGN §7: per-source 401 rate limit). */
static bool challenge_allowed(struct tp_engine *e, const struct tp_addr *src)
{
	uint32_t rate = e->pol->p.unauth_rate;
	uint32_t h = tp_hash_bytes(e->seed ^ 0x5a5a5a5au, src->ip, 16);
	struct tp_rl_entry *rl = &e->rl[h % TP_RL_SLOTS];
	uint64_t elapsed;

	if (rate == 0)
		return true;
	if (rl->tag != h) {
		rl->tag = h;
		rl->tokens = rate;
		rl->last_ms = e->now_ms;
	}
	elapsed = e->now_ms - rl->last_ms;
	if (elapsed >= 1000 / rate) {
		uint64_t add = elapsed * rate / 1000;

		rl->tokens = add + rl->tokens > rate ? rate : (uint32_t)(add + rl->tokens);
		rl->last_ms = e->now_ms;
	}
	if (rl->tokens == 0)
		return false;
	rl->tokens--;
	return true;
}

void tp_auth_challenge(struct tp_req *r, int code)
{
	struct tp_engine *e = r->e;
	const struct tp_engine_policy *pol = e->pol;
	char nonce[TP_NONCE_LEN + 1];

	if (!challenge_allowed(e, &r->pkt->src)) {
		drop(e, r->v, TP_DROP_UNAUTH_RATE);
		return;
	}
	r->authed = false;
	tp_auth_nonce(e, r->pkt, nonce);
	tp_reply_begin(r, TP_STUN_ERROR);
	tp_stun_add_error(&r->b, code, NULL);
	tp_stun_add_string(&r->b, TP_STUN_ATTR_REALM, pol->realm, pol->realm_len);
	tp_stun_add_string(&r->b, TP_STUN_ATTR_NONCE, nonce, TP_NONCE_LEN);
	if (pol->n_pwalgs)
		tp_stun_add_password_algorithms(&r->b, pol->pwalgs, pol->n_pwalgs);
	tp_stat_add(&e->stats.error_code[code == 401 ? TP_SE_401 : TP_SE_438], 1);
	tp_reply_finish(r);
}

/* RFC 8489 §9.2.4: which password algorithm the request uses, or -1 for a 400. */
static int password_algorithm(const struct tp_req *r, bool features_on)
{
	const struct tp_engine_policy *pol = r->e->pol;
	bool has_list = tp_stun_has(&r->m, TP_STUN_ATTR_PASSWORD_ALGORITHMS);
	bool has_one = tp_stun_has(&r->m, TP_STUN_ATTR_PASSWORD_ALGORITHM);
	uint16_t list[8], alg;
	size_t n;

	if (!features_on)
		return TP_STUN_PWALG_MD5;
	/* RFC 8489 §9.2.4: neither attribute means "as though PASSWORD-ALGORITHM were MD5", which a
	 * config without MD5 (auth.password_algorithms ["sha256"]) refuses. */
	if (!has_list && !has_one)
		return pol->p.pwalg_md5 ? TP_STUN_PWALG_MD5 : -1;
	if (!has_list || !has_one)
		return -1;
	/* The list must be the one the server sent, in the same order. */
	if (tp_stun_get_password_algorithms(&r->m, list, 8, &n) < 0 || n != pol->n_pwalgs)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (list[i] != pol->pwalgs[i])
			return -1;
	if (tp_stun_get_password_algorithm(&r->m, &alg) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (alg == pol->pwalgs[i])
			return alg;
	return -1;
}

static const struct tp_user *find_user(const struct tp_engine_policy *pol, const uint8_t *name,
				       size_t len)
{
	for (unsigned i = 0; i < pol->p.n_users; i++)
		if (pol->users[i].name_len == len && memcmp(pol->users[i].name, name, len) == 0)
			return &pol->users[i];
	return NULL;
}

static const struct tp_user *find_userhash(const struct tp_engine_policy *pol, const uint8_t *hash)
{
	const struct tp_user *found = NULL;

	/* Constant time over the user list: do not reveal which entry matched. */
	for (unsigned i = 0; i < pol->p.n_users; i++)
		if (tp_memeq_ct(pol->users[i].userhash, hash, TP_STUN_USERHASH_LEN))
			found = &pol->users[i];
	return found;
}

/*
 * TURN REST API credentials (coturn's use-auth-secret): username "expiry[:user]" with a
 * decimal UNIX expiry time; password = base64(HMAC-SHA1(secret, username)).
 */
static int rest_key(struct tp_req *r, int alg, const uint8_t *name, size_t len)
{
	const struct tp_engine_policy *pol = r->e->pol;
	uint8_t mac[TP_SHA1_LEN];
	char pass[TP_SHA1_LEN * 2];
	uint64_t expiry = 0;
	size_t i;
	int n;

	if (!pol->rest_secret)
		return -1;
	for (i = 0; i < len && name[i] != ':'; i++) {
		if (name[i] < '0' || name[i] > '9' || i >= 19)
			return -1;
		expiry = expiry * 10 + (uint64_t)(name[i] - '0');
	}
	if (i == 0 || expiry <= r->e->unix_s)
		return -1;
	if (tp_hmac_once(TP_DIGEST_SHA1, pol->rest_secret, pol->rest_secret_len, name, len, mac) <
	    0)
		return -1;
	n = tp_base64_encode(mac, sizeof(mac), pass, sizeof(pass));
	if (n < 0)
		return -1;
	n = tp_stun_long_term_key((enum tp_stun_pwalg)alg, name, len, pol->realm, pol->realm_len,
				  pass, (size_t)n, r->key);
	if (n < 0)
		return -1;
	r->key_len = (uint8_t)n;
	return 0;
}

static int verify_integrity(struct tp_req *r, const struct tp_user *u, int alg)
{
	/* RFC 8489 §9.2.4: MESSAGE-INTEGRITY-SHA256 when present, else MESSAGE-INTEGRITY. */
	r->sha256 = r->m.mi256_off != 0;
	if (u && !r->sha256 && alg == TP_STUN_PWALG_MD5) {
		r->mi_key = &u->mi_sha1_md5;
	} else {
		if (tp_hmac_key_init(&r->mi_local, r->sha256 ? TP_DIGEST_SHA256 : TP_DIGEST_SHA1,
				     r->key, r->key_len) < 0)
			return -1;
		r->mi_key = &r->mi_local;
	}
	/* The response is signed with the same key (tp_reply_finish). */
	return r->sha256 ? tp_stun_check_integrity_sha256(&r->m, r->mi_key)
			 : tp_stun_check_integrity(&r->m, r->mi_key);
}

static int fail(struct tp_req *r, int code)
{
	tp_stat_add(&r->e->stats.ctr[TP_CTR_AUTH_FAIL], 1);
	if (code == 401 || code == 438)
		tp_auth_challenge(r, code);
	else
		tp_reply_error(r, code);
	return -1;
}

int tp_auth_check(struct tp_req *r)
{
	struct tp_engine *e = r->e;
	const struct tp_engine_policy *pol = e->pol;
	const uint8_t *nonce, *realm, *name = NULL, *hash = NULL;
	size_t nonce_len, realm_len, name_len = 0;
	const struct tp_user *u = NULL;
	uint8_t digest[TP_SHA256_LEN];
	struct tp_chunk ch;
	enum nonce_state nonce_state;
	bool features_on;
	int alg, rc;

	if (!pol->p.auth_required) {
		static const uint8_t anon[] = "anonymous";

		r->user = anon;
		r->user_len = sizeof(anon) - 1;
		r->quota_slot = tp_quota_slot(anon, r->user_len);
		memset(r->user_digest, 0, sizeof(r->user_digest));
		return 0;
	}
	if (!r->m.mi_off && !r->m.mi256_off)
		return fail(r, 401);
	/* RFC 8489 §9.2.4: integrity without the attributes that go with it is a 400. */
	rc = tp_stun_get_string(&r->m, TP_STUN_ATTR_USERNAME, &name, &name_len);
	if (rc == -TP_WIRE_EABSENT)
		rc = tp_stun_get_userhash(&r->m, &hash);
	if (rc < 0 || tp_stun_get_string(&r->m, TP_STUN_ATTR_REALM, &realm, &realm_len) < 0 ||
	    tp_stun_get_string(&r->m, TP_STUN_ATTR_NONCE, &nonce, &nonce_len) < 0)
		return fail(r, 400);
	nonce_state = nonce_check(e, r->pkt, nonce, nonce_len);
	if (nonce_state == NONCE_BAD)
		return fail(r, 401);
	if (nonce_state == NONCE_STALE)
		return fail(r, 438);
	if (realm_len != pol->realm_len || memcmp(realm, pol->realm, realm_len) != 0)
		return fail(r, 401);
	features_on = pol->n_pwalgs != 0;
	alg = password_algorithm(r, features_on);
	if (alg < 0)
		return fail(r, 400);

	if (hash) {
		u = find_userhash(pol, hash);
		if (!u)
			return fail(r, 401);
	} else {
		u = find_user(pol, name, name_len);
	}
	if (u) {
		r->key_len = alg == TP_STUN_PWALG_SHA256 ? TP_SHA256_LEN : TP_MD5_LEN;
		memcpy(r->key, alg == TP_STUN_PWALG_SHA256 ? u->key_sha256 : u->key_md5,
		       r->key_len);
		name = (const uint8_t *)u->name;
		name_len = u->name_len;
		r->quota_slot = u->quota_slot;
	} else {
		if (rest_key(r, alg, name, name_len) < 0)
			return fail(r, 401);
		r->quota_slot = tp_quota_slot(name, name_len);
	}
	r->user = name;
	r->user_len = name_len;
	if (verify_integrity(r, u, alg) < 0) {
		r->key_len = 0;
		return fail(r, 401);
	}
	/* RFC 8489 §9.2.4: the nonce's age is checked last, after the integrity. */
	if (nonce_state == NONCE_EXPIRED)
		return fail(r, 438);
	ch.base = name;
	ch.len = name_len;
	tp_digest(TP_DIGEST_SHA256, &ch, 1, digest);
	memcpy(r->user_digest, digest, sizeof(r->user_digest));
	r->authed = true;
	tp_stat_add(&e->stats.ctr[TP_CTR_AUTH_OK], 1);

	/* RFC 8656 §5: an allocation belongs to the username that created it. */
	if (r->alloc != TP_NIL && !tp_memeq_ct(alloc_at(e, r->alloc)->user_digest, r->user_digest,
					       sizeof(r->user_digest))) {
		tp_reply_error(r, 441);
		return -1;
	}
	return 0;
}
