/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policies (the engine's view of the configuration) and the state shared by all shards.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

static _Atomic uint32_t policy_generation = 1;

static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *dup_str(const char *s, size_t *len)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);

	if (d)
		memcpy(d, s, n + 1);
	if (len)
		*len = n;
	return d;
}

void tp_engine_policy_destroy(struct tp_engine_policy *pol)
{
	if (!pol)
		return;
	if (pol->users) {
		for (unsigned i = 0; i < pol->p.n_users; i++) {
			free(pol->users[i].name);
			tp_hmac_key_wipe(&pol->users[i].mi_sha1_md5);
			memset(&pol->users[i], 0, sizeof(pol->users[i]));
		}
		free(pol->users);
	}
	if (pol->rest_secret) {
		memset(pol->rest_secret, 0, pol->rest_secret_len);
		free(pol->rest_secret);
	}
	tp_acl_fini(&pol->acl);
	free(pol->realm);
	free(pol->software);
	free(pol);
}

static int make_user(struct tp_engine_policy *pol, struct tp_user *u,
		     const struct tp_engine_user *src)
{
	size_t plen = strlen(src->password);

	u->name = dup_str(src->name, &u->name_len);
	if (!u->name)
		return -1;
	if (tp_stun_long_term_key(TP_STUN_PWALG_MD5, u->name, u->name_len, pol->realm,
				  pol->realm_len, src->password, plen, u->key_md5) < 0 ||
	    tp_stun_long_term_key(TP_STUN_PWALG_SHA256, u->name, u->name_len, pol->realm,
				  pol->realm_len, src->password, plen, u->key_sha256) < 0 ||
	    tp_stun_userhash(u->name, u->name_len, pol->realm, pol->realm_len, u->userhash) < 0 ||
	    tp_hmac_key_init(&u->mi_sha1_md5, TP_DIGEST_SHA1, u->key_md5, TP_MD5_LEN) < 0)
		return -1;
	u->quota_slot = tp_quota_slot((const uint8_t *)u->name, u->name_len);
	return 0;
}

struct tp_engine_policy *tp_engine_policy_create(const struct tp_engine_params *p, char *err,
						 size_t errlen)
{
	struct tp_engine_policy *pol;
	uint8_t feat[3] = { 0, 0, 0 };
	char b64[8];

	if (!p->realm || !*p->realm || strlen(p->realm) > TP_STUN_REALM_MAX) {
		say(err, errlen, "realm must be 1..%d bytes", TP_STUN_REALM_MAX);
		return NULL;
	}
	if (p->relay4.family != TP_AF_INET && p->relay6.family != TP_AF_INET6) {
		say(err, errlen, "need an IPv4 or an IPv6 relay address");
		return NULL;
	}
	if (p->port_min == 0 || p->port_max < p->port_min) {
		say(err, errlen, "relay port range %u..%u is empty", p->port_min, p->port_max);
		return NULL;
	}
	if (p->auth_required && p->n_users == 0 && !p->rest_secret) {
		say(err, errlen, "authentication is required but there are no users and no secret");
		return NULL;
	}
	if (p->nonce_lifetime == 0 || p->default_lifetime == 0 ||
	    p->max_lifetime < p->default_lifetime || p->permission_lifetime == 0 ||
	    p->channel_lifetime == 0) {
		say(err, errlen, "lifetimes must be positive and max_lifetime >= default_lifetime");
		return NULL;
	}
	pol = calloc(1, sizeof(*pol));
	if (!pol)
		goto nomem;
	pol->p = *p;
	pol->realm = dup_str(p->realm, &pol->realm_len);
	if (!pol->realm)
		goto nomem;
	pol->p.realm = pol->realm;
	if (p->software) {
		pol->software = dup_str(p->software, &pol->software_len);
		if (!pol->software)
			goto nomem;
		if (pol->software_len > TP_STUN_SOFTWARE_MAX)
			pol->software_len = TP_STUN_SOFTWARE_MAX;
	}
	pol->p.software = pol->software;
	if (p->rest_secret) {
		pol->rest_secret = (uint8_t *)dup_str(p->rest_secret, &pol->rest_secret_len);
		if (!pol->rest_secret)
			goto nomem;
	}
	pol->p.rest_secret = (const char *)pol->rest_secret;
	if (p->n_users) {
		pol->users = calloc(p->n_users, sizeof(*pol->users));
		if (!pol->users)
			goto nomem;
		for (unsigned i = 0; i < p->n_users; i++) {
			if (make_user(pol, &pol->users[i], &p->users[i]) < 0) {
				pol->p.n_users = i + 1;
				goto nomem;
			}
		}
	}
	pol->p.users = NULL; /* use pol->users */
	if (tp_acl_init(&pol->acl, p->allow, p->n_allow, p->deny, p->n_deny, p->allow_loopback,
			p->own, p->n_own) < 0) {
		say(err, errlen, "invalid peer access list");
		tp_engine_policy_destroy(pol);
		return NULL;
	}
	pol->p.allow = NULL;
	pol->p.deny = NULL;
	pol->p.own = NULL;

	/* RFC 8489 §9.2: password algorithms offered, and the nonce's feature bits saying so. */
	if (p->pwalg_sha256 && p->pwalg_sha256_first)
		pol->pwalgs[pol->n_pwalgs++] = TP_STUN_PWALG_SHA256;
	if (p->pwalg_md5)
		pol->pwalgs[pol->n_pwalgs++] = TP_STUN_PWALG_MD5;
	if (p->pwalg_sha256 && !p->pwalg_sha256_first)
		pol->pwalgs[pol->n_pwalgs++] = TP_STUN_PWALG_SHA256;
	if (pol->n_pwalgs == 1 && pol->pwalgs[0] == TP_STUN_PWALG_MD5)
		pol->n_pwalgs = 0; /* MD5 alone is the default: no need to negotiate */
	if (pol->n_pwalgs)
		feat[0] |= 0x80;
	if (pol->p.n_users)
		feat[0] |= 0x40; /* USERHASH works for static users */
	tp_base64_encode(feat, 3, b64, sizeof(b64));
	memcpy(pol->nonce_features, b64, 4);
	pol->nonce_features[4] = '\0';
	pol->generation = atomic_fetch_add(&policy_generation, 1);
	return pol;
nomem:
	say(err, errlen, "out of memory");
	tp_engine_policy_destroy(pol);
	return NULL;
}

struct tp_engine_shared *tp_engine_shared_create(unsigned nshards, const uint8_t *secret)
{
	struct tp_engine_shared *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return NULL;
	sh->nshards = nshards;
	if (secret)
		memcpy(sh->secret, secret, sizeof(sh->secret));
	else if (tp_random_bytes(sh->secret, sizeof(sh->secret)) < 0)
		goto fail;
	if (tp_hmac_key_init(&sh->nonce_key, TP_DIGEST_SHA256, sh->secret, sizeof(sh->secret)) < 0)
		goto fail;
	return sh;
fail:
	tp_engine_shared_destroy(sh);
	return NULL;
}

void tp_engine_shared_destroy(struct tp_engine_shared *sh)
{
	if (!sh)
		return;
	tp_hmac_key_wipe(&sh->nonce_key);
	memset(sh->secret, 0, sizeof(sh->secret));
	free(sh);
}
