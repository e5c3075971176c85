/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TURN client side of turnpike-load: every allocation walks Allocate -> CreatePermission ->
 * ChannelBind (RFC 8656 §7, §9, §12), later Refresh -> CreatePermission -> ChannelBind, and
 * finally Refresh with LIFETIME 0. Up to --window transactions are in flight at once over all
 * allocations, each retransmitted on its own timer (RFC 8489 §6.2.1), so a thousand allocations
 * take a few round trips' worth of wall time instead of four thousand.
 *
 * Messages are built and parsed with the project's codec (include/turnpike/stun*.h); this file
 * only decides what to send.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <turnpike/channel.h>
#include <turnpike/stun.h>
#include <turnpike/stun_build.h>

#include "load.h"

#define LD_CTL_MAX    1024		      /* largest request we build */
#define LD_RTO_NS     (250ull * 1000 * 1000)  /* first retransmission timeout */
#define LD_RTO_MAX_NS (2000ull * 1000 * 1000) /* RTO doubles up to this */
#define LD_TRIES      7			      /* RFC 8489 §6.2.1: Rc = 7 */
#define LD_PERM_SECS  150		      /* RFC 8656 §9: permissions last 300 s */
#define LD_CHANNEL    TP_CHANNEL_MIN	      /* every allocation binds one channel */
#define LD_NS	      1000000000ull

enum ld_stage {
	ST_IDLE,
	ST_ALLOC,
	ST_PERM,
	ST_CHAN,
	ST_READY,
	ST_REFRESH,
	ST_RPERM,
	ST_RCHAN,
	ST_DEALLOC,
	ST_DONE,
	ST_FAILED,
};

static const char *const stage_name[] = {
	[ST_IDLE] = "idle",
	[ST_ALLOC] = "Allocate",
	[ST_PERM] = "CreatePermission",
	[ST_CHAN] = "ChannelBind",
	[ST_READY] = "ready",
	[ST_REFRESH] = "Refresh",
	[ST_RPERM] = "CreatePermission (refresh)",
	[ST_RCHAN] = "ChannelBind (refresh)",
	[ST_DEALLOC] = "Refresh (deallocate)",
	[ST_DONE] = "done",
	[ST_FAILED] = "failed",
};

/* One allocation's control state. */
struct ld_alloc {
	uint8_t tid[TP_STUN_TID_LEN]; /* of the transaction in flight */
	uint8_t stage;		      /* enum ld_stage */
	uint8_t tries;		      /* transmissions of the current transaction */
	uint8_t auth;		      /* requests carry credentials (a 401 taught us the realm) */
	uint8_t retries;	      /* 438/401 answers to this stage, against loops */
	uint8_t moved;		      /* new local ports after 437, against loops */
	int32_t slot;		      /* index in ld_turn.flight, -1 when nothing in flight */
	uint32_t lifetime;	      /* granted LIFETIME, s */
	uint64_t deadline;	      /* retransmit at */
	uint64_t next_refresh;	      /* start the next refresh cycle at */
	char *nonce;		      /* the server's NONCE for this 5-tuple */
	uint16_t nonce_len;
};

struct ld_turn {
	const struct ld_conf *c;
	struct ld_backend *be;
	uint32_t n;
	struct ld_alloc *a;
	struct ld_flow *flows;
	uint32_t *flight; /* allocation indices with a transaction in flight */
	uint32_t n_flight;
	uint32_t next_start; /* setup: next allocation to start */
	uint32_t n_ready, n_failed, n_done;
	uint32_t refresh_cursor;
	bool refreshing; /* after setup: refresh cycles run from ld_turn_tick() */

	char user[TP_STUN_USERNAME_MAX + 1];
	size_t user_len;
	char pass[256];
	size_t pass_len;
	char realm[TP_STUN_REALM_MAX + 1];
	size_t realm_len;
	struct tp_hmac_key key; /* SHA-1 HMAC under MD5(user:realm:pass) */
	bool have_key;

	struct ld_pkt out[LD_BATCH_MAX];
	uint8_t (*out_buf)[LD_CTL_MAX];
	unsigned n_out;

	uint64_t refreshes, errors, retransmits;
	uint64_t rebinds; /* clients moved to a new port after a 437 */
	char why[512];	  /* first setup failure */
};

static uint16_t stage_method(enum ld_stage s)
{
	switch (s) {
	case ST_ALLOC:
		return TP_STUN_ALLOCATE;
	case ST_PERM:
	case ST_RPERM:
		return TP_STUN_CREATE_PERMISSION;
	case ST_CHAN:
	case ST_RCHAN:
		return TP_STUN_CHANNEL_BIND;
	default:
		return TP_STUN_REFRESH;
	}
}

static bool in_setup(enum ld_stage s)
{
	return s == ST_ALLOC || s == ST_PERM || s == ST_CHAN;
}

static void flush(struct ld_turn *t)
{
	if (t->n_out) {
		t->be->ops->send(t->be, t->out, t->n_out);
		t->n_out = 0;
	}
}

/* Build and queue the request of allocation @p i's current stage (same TID on a resend). */
static void transmit(struct ld_turn *t, uint32_t i)
{
	struct ld_alloc *a = &t->a[i];
	struct tp_stun_builder b;
	uint8_t *buf;
	int len;

	if (t->n_out == LD_BATCH_MAX)
		flush(t);
	buf = t->out_buf[t->n_out];
	tp_stun_build_init(&b, buf, LD_CTL_MAX, stage_method(a->stage), TP_STUN_REQUEST, a->tid);
	switch ((enum ld_stage)a->stage) {
	case ST_ALLOC:
		tp_stun_add_transport(&b, TP_STUN_TRANSPORT_UDP);
		/* RFC 8656 §7.1: the relayed address's family must match the peer's. */
		if (t->c->peer.family == TP_AF_INET6)
			tp_stun_add_family(&b, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, TP_AF_INET6);
		break;
	case ST_PERM:
	case ST_RPERM:
		tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &t->be->peer);
		break;
	case ST_CHAN:
	case ST_RCHAN:
		tp_stun_add_channel(&b, LD_CHANNEL);
		tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &t->be->peer);
		break;
	case ST_REFRESH:
		tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, a->lifetime);
		break;
	case ST_DEALLOC:
		tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, 0);
		break;
	default:
		return;
	}
	if (a->auth) {
		tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, t->user, t->user_len);
		tp_stun_add_string(&b, TP_STUN_ATTR_REALM, t->realm, t->realm_len);
		tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, a->nonce, a->nonce_len);
		tp_stun_add_integrity(&b, &t->key);
	}
	tp_stun_add_fingerprint(&b);
	len = tp_stun_build_finish(&b);
	if (len < 0) {
		t->errors++;
		return;
	}
	t->out[t->n_out] = (struct ld_pkt){ .data = buf, .len = (uint32_t)len, .ep = i };
	t->out[t->n_out].addr = t->c->server;
	t->n_out++;
}

static void flight_add(struct ld_turn *t, uint32_t i)
{
	t->a[i].slot = (int32_t)t->n_flight;
	t->flight[t->n_flight++] = i;
}

static void flight_del(struct ld_turn *t, uint32_t i)
{
	int32_t s = t->a[i].slot;
	uint32_t last;

	if (s < 0)
		return;
	last = t->flight[--t->n_flight];
	t->flight[s] = last;
	t->a[last].slot = s;
	t->a[i].slot = -1;
}

/* Start a new transaction for stage @p st of allocation @p i. */
static void begin(struct ld_turn *t, uint32_t i, enum ld_stage st, uint64_t now)
{
	struct ld_alloc *a = &t->a[i];

	if (st != a->stage)
		a->retries = 0;
	a->stage = (uint8_t)st;
	a->tries = 1;
	tp_random_bytes(a->tid, sizeof(a->tid));
	a->deadline = now + LD_RTO_NS;
	if (a->slot < 0)
		flight_add(t, i);
	transmit(t, i);
}

static uint64_t refresh_interval(const struct ld_turn *t, const struct ld_alloc *a)
{
	double s = t->c->refresh;

	/* Refresh well before the allocation (RFC 8656 §7) or the permission (§9) expires. */
	if (a->lifetime && s > a->lifetime / 2.0)
		s = a->lifetime / 2.0;
	if (s > LD_PERM_SECS)
		s = LD_PERM_SECS;
	return (uint64_t)(s * (double)LD_NS);
}

static void ready(struct ld_turn *t, uint32_t i, uint64_t now)
{
	struct ld_alloc *a = &t->a[i];

	if (a->stage == ST_CHAN || a->stage == ST_PERM)
		t->n_ready++;
	else
		t->refreshes++;
	flight_del(t, i);
	a->stage = ST_READY;
	a->next_refresh = now + refresh_interval(t, a);
	t->flows[i].ready = true;
}

/* A transaction of allocation @p i failed for good. */
static void failed(struct ld_turn *t, uint32_t i, uint64_t now, const char *what)
{
	struct ld_alloc *a = &t->a[i];
	char addr[TP_ADDR_STRLEN];

	t->errors++;
	flight_del(t, i);
	if (in_setup(a->stage)) {
		if (!t->why[0])
			snprintf(t->why, sizeof(t->why), "allocation %" PRIu32 " on %s: %s: %s", i,
				 ld_addr_str(&t->c->server, addr), stage_name[a->stage], what);
		a->stage = ST_FAILED;
		t->n_failed++;
	} else if (a->stage == ST_DEALLOC) {
		a->stage = ST_DONE;
		t->n_done++;
	} else {
		/* A refresh cycle failed: keep the flow, try again a quarter interval later. */
		a->stage = ST_READY;
		a->next_refresh = now + refresh_interval(t, a) / 4;
	}
}

static int set_realm(struct ld_turn *t, const uint8_t *realm, size_t len)
{
	uint8_t k[TP_DIGEST_MAX];
	int klen;

	if (t->have_key && len == t->realm_len && memcmp(realm, t->realm, len) == 0)
		return 0;
	memcpy(t->realm, realm, len);
	t->realm_len = len;
	klen = tp_stun_long_term_key(TP_STUN_PWALG_MD5, t->user, t->user_len, t->realm, len,
				     t->pass, t->pass_len, k);
	if (klen < 0 || tp_hmac_key_init(&t->key, TP_DIGEST_SHA1, k, (size_t)klen) < 0)
		return -1;
	t->have_key = true;
	return 0;
}

static int set_nonce(struct ld_alloc *a, const uint8_t *nonce, size_t len)
{
	if (len != a->nonce_len || !a->nonce) {
		char *p = realloc(a->nonce, len);

		if (!p)
			return -1;
		a->nonce = p;
		a->nonce_len = (uint16_t)len;
	}
	memcpy(a->nonce, nonce, len);
	return 0;
}

/* Reason phrases (RFC 8489 §14.8, RFC 8656 §19) for servers that send none. */
static const char *default_reason(int code)
{
	switch (code) {
	case 300:
		return "Try Alternate";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 420:
		return "Unknown Attribute";
	case 437:
		return "Allocation Mismatch";
	case 438:
		return "Stale Nonce";
	case 440:
		return "Address Family not Supported";
	case 441:
		return "Wrong Credentials";
	case 442:
		return "Unsupported Transport Protocol";
	case 443:
		return "Peer Address Family Mismatch";
	case 486:
		return "Allocation Quota Reached";
	case 500:
		return "Server Error";
	case 508:
		return "Insufficient Capacity";
	default:
		return "?";
	}
}

/* An error response: 401 and 438 are retried with what they teach, the rest fail. */
static void on_error(struct ld_turn *t, uint32_t i, const struct tp_stun_msg *m, uint64_t now)
{
	struct ld_alloc *a = &t->a[i];
	const uint8_t *reason = NULL, *realm, *nonce;
	size_t reason_len = 0, realm_len, nonce_len;
	int code = 0;
	char what[256];
	bool has_nonce;

	tp_stun_get_error(m, &code, &reason, &reason_len);
	has_nonce = tp_stun_get_string(m, TP_STUN_ATTR_NONCE, &nonce, &nonce_len) == 0;
	if (code == 437 && a->stage == ST_DEALLOC) {
		/* Already gone (expired, or our earlier Refresh 0 was answered and lost). */
		flight_del(t, i);
		a->stage = ST_DONE;
		t->n_done++;
		return;
	}
	/* 437 to an Allocate: the server still holds an allocation for this 5-tuple (an earlier
	 * run's, whose release was lost). Start again from a new local port. */
	if (code == 437 && a->stage == ST_ALLOC && a->moved < 3 && t->be->ops->rebind &&
	    t->be->ops->rebind(t->be, i) == 0) {
		t->rebinds++;
		a->moved++;
		a->auth = 0;
		a->retries = 0;
		begin(t, i, ST_ALLOC, now);
		return;
	}
	/* RFC 8489 §9.2.5: a 401 to a request without credentials carries REALM and NONCE; one
	 * to a request with them means the credentials are wrong, unless the nonce changed. */
	if (code == 401 && has_nonce && a->retries < 2 &&
	    (!a->auth || nonce_len != a->nonce_len || memcmp(nonce, a->nonce, nonce_len) != 0) &&
	    tp_stun_get_string(m, TP_STUN_ATTR_REALM, &realm, &realm_len) == 0) {
		if (set_realm(t, realm, realm_len) < 0 || set_nonce(a, nonce, nonce_len) < 0) {
			failed(t, i, now, "cannot compute the long-term key");
			return;
		}
		a->auth = 1;
		a->retries++;
		begin(t, i, (enum ld_stage)a->stage, now);
		return;
	}
	/* RFC 8489 §9.2.5: 438 Stale Nonce: retry with the new one. */
	if (code == 438 && has_nonce && a->retries < 3) {
		if (set_nonce(a, nonce, nonce_len) < 0) {
			failed(t, i, now, "out of memory");
			return;
		}
		a->retries++;
		begin(t, i, (enum ld_stage)a->stage, now);
		return;
	}
	if (!reason || !reason_len) {
		reason = (const uint8_t *)default_reason(code);
		reason_len = strlen((const char *)reason);
	}
	snprintf(what, sizeof(what), "error %d (%.*s)%s", code, (int)reason_len,
		 (const char *)reason,
		 code == 401 && a->auth ? ": wrong username or password?" : "");
	failed(t, i, now, what);
}

static void on_success(struct ld_turn *t, uint32_t i, const struct tp_stun_msg *m, uint64_t now)
{
	struct ld_alloc *a = &t->a[i];
	uint32_t lifetime;

	/* RFC 8489 §9.2.5: a response to an authenticated request must carry valid integrity. */
	if (a->auth && tp_stun_check_integrity(m, &t->key) < 0) {
		failed(t, i, now, "success response fails its MESSAGE-INTEGRITY check");
		return;
	}
	switch ((enum ld_stage)a->stage) {
	case ST_ALLOC:
		if (tp_stun_get_addr(m, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &t->flows[i].relayed) <
		    0) {
			failed(t, i, now, "success without a usable XOR-RELAYED-ADDRESS");
			return;
		}
		if (tp_stun_get_u32(m, TP_STUN_ATTR_LIFETIME, &lifetime) == 0)
			a->lifetime = lifetime;
		begin(t, i, ST_PERM, now);
		return;
	case ST_PERM:
		if (t->c->mode == LD_MODE_CHANNEL)
			begin(t, i, ST_CHAN, now);
		else
			ready(t, i, now);
		return;
	case ST_REFRESH:
		if (tp_stun_get_u32(m, TP_STUN_ATTR_LIFETIME, &lifetime) == 0 && lifetime)
			a->lifetime = lifetime;
		begin(t, i, ST_RPERM, now);
		return;
	case ST_RPERM:
		if (t->c->mode == LD_MODE_CHANNEL)
			begin(t, i, ST_RCHAN, now);
		else
			ready(t, i, now);
		return;
	case ST_CHAN:
	case ST_RCHAN:
		ready(t, i, now);
		return;
	case ST_DEALLOC:
		flight_del(t, i);
		a->stage = ST_DONE;
		t->n_done++;
		return;
	default:
		return;
	}
}

void ld_turn_input(struct ld_turn *t, uint32_t ep, const uint8_t *p, size_t len, uint64_t now)
{
	struct tp_stun_msg m;
	struct ld_alloc *a;

	if (ep >= t->n || tp_stun_parse(&m, p, len) < 0)
		return;
	a = &t->a[ep];
	if (a->slot < 0 || memcmp(tp_stun_tid(&m), a->tid, TP_STUN_TID_LEN) != 0 ||
	    m.method != stage_method((enum ld_stage)a->stage))
		return; /* a late answer to a retransmission, or not ours */
	if (m.cls == TP_STUN_SUCCESS)
		on_success(t, ep, &m, now);
	else if (m.cls == TP_STUN_ERROR)
		on_error(t, ep, &m, now);
}

/* Retransmit what timed out; fail what ran out of tries. */
static void retransmit(struct ld_turn *t, uint64_t now)
{
	uint32_t k = 0;

	while (k < t->n_flight) {
		uint32_t i = t->flight[k];
		struct ld_alloc *a = &t->a[i];
		uint64_t rto;

		if (now < a->deadline) {
			k++;
			continue;
		}
		if (a->tries >= LD_TRIES) {
			char what[96];

			snprintf(what, sizeof(what), "no answer after %u transmissions", LD_TRIES);
			failed(t, i, now, what); /* removes flight[k]: look at k again */
			continue;
		}
		rto = LD_RTO_NS << a->tries;
		a->tries++;
		a->deadline = now + (rto > LD_RTO_MAX_NS ? LD_RTO_MAX_NS : rto);
		t->retransmits++;
		transmit(t, i);
		k++;
	}
}

void ld_turn_tick(struct ld_turn *t, uint64_t now)
{
	uint32_t seen;

	retransmit(t, now);
	/* Allocations became ready roughly in index order and refresh on the same interval, so
	 * a cursor walking the indices meets them roughly when they are due. */
	for (seen = 0; t->refreshing && seen < t->n && t->n_flight < t->c->window; seen++) {
		uint32_t i = t->refresh_cursor;
		struct ld_alloc *a = &t->a[i];

		if (a->stage == ST_READY) {
			if (a->next_refresh > now)
				break;
			begin(t, i, ST_REFRESH, now);
		}
		t->refresh_cursor = i + 1 == t->n ? 0 : i + 1;
	}
	flush(t);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Receive and handle control answers for at most one batch. */
static void pump(struct ld_turn *t, uint64_t timeout_ns)
{
	struct ld_pkt pk[LD_BATCH_MAX];
	unsigned n, k;
	uint64_t now;

	n = t->be->ops->recv(t->be, pk, LD_BATCH_MAX, timeout_ns);
	now = t->be->ops->now(t->be);
	for (k = 0; k < n; k++)
		if (pk[k].ep != LD_EP_PEER &&
		    tp_wire_classify(pk[k].data, pk[k].len) == TP_WIRE_KIND_STUN)
			ld_turn_input(t, pk[k].ep, pk[k].data, pk[k].len, now);
	ld_turn_tick(t, now);
}

int ld_turn_setup(struct ld_turn *t, double *secs, char *err, size_t errlen)
{
	double t0 = mono_s(), el = 0;

	while (t->n_ready < t->n && !t->n_failed && !ld_stop) {
		uint64_t now = t->be->ops->now(t->be);

		while (t->next_start < t->n && t->n_flight < t->c->window)
			begin(t, t->next_start++, ST_ALLOC, now);
		flush(t);
		pump(t, 1000000);
		el = mono_s() - t0;
		if (el > t->c->setup_timeout) {
			snprintf(t->why, sizeof(t->why),
				 "setup timed out after %.1f s: %" PRIu32 " of %" PRIu32
				 " allocations ready",
				 el, t->n_ready, t->n);
			break;
		}
	}
	*secs = mono_s() - t0;
	if (t->n_ready == t->n) {
		t->refreshing = true;
		return 0;
	}
	snprintf(err, errlen, "%s", t->why[0] ? t->why : "interrupted");
	return -1;
}

void ld_turn_teardown(struct ld_turn *t, double secs)
{
	double t0 = mono_s();
	uint32_t i, next = 0, todo = 0;

	t->refreshing = false;
	/* Abandon refreshes in flight: their allocations are released now. */
	while (t->n_flight)
		flight_del(t, t->flight[0]);
	for (i = 0; i < t->n; i++)
		if (t->a[i].stage != ST_FAILED && t->a[i].stage != ST_IDLE) {
			t->a[i].stage = ST_READY;
			todo++;
		}
	t->n_done = 0;
	while (t->n_done < todo && mono_s() - t0 < secs) {
		uint64_t now = t->be->ops->now(t->be);

		for (; next < t->n && t->n_flight < t->c->window; next++) {
			if (t->a[next].stage != ST_READY)
				continue;
			t->flows[next].ready = false;
			begin(t, next, ST_DEALLOC, now);
		}
		flush(t);
		pump(t, 1000000);
	}
	if (t->n_done < todo)
		t->errors += todo - t->n_done;
}

struct ld_turn *ld_turn_create(const struct ld_conf *c, struct ld_backend *be, char *err,
			       size_t errlen)
{
	struct ld_turn *t = calloc(1, sizeof(*t));
	uint32_t i;

	if (!t)
		goto nomem;
	t->c = c;
	t->be = be;
	t->n = c->allocations;
	t->a = calloc(t->n, sizeof(*t->a));
	t->flows = calloc(t->n, sizeof(*t->flows));
	t->flight = calloc(t->n, sizeof(*t->flight));
	t->out_buf = calloc(LD_BATCH_MAX, sizeof(*t->out_buf));
	if (!t->a || !t->flows || !t->flight || !t->out_buf)
		goto nomem;
	for (i = 0; i < t->n; i++)
		t->a[i].slot = -1;
	if (c->rest_secret) {
		/* TURN REST API (draft-uberti-behave-turn-rest): "expiry:name" and its HMAC. */
		uint8_t mac[TP_SHA1_LEN];

		snprintf(t->user, sizeof(t->user), "%lld:%s",
			 (long long)time(NULL) + (long long)c->rest_ttl, c->rest_user);
		t->user_len = strlen(t->user);
		if (tp_hmac_once(TP_DIGEST_SHA1, c->rest_secret, strlen(c->rest_secret), t->user,
				 t->user_len, mac) < 0 ||
		    tp_base64_encode(mac, sizeof(mac), t->pass, sizeof(t->pass)) < 0) {
			snprintf(err, errlen, "cannot compute the TURN REST password");
			ld_turn_destroy(t);
			return NULL;
		}
		t->pass_len = strlen(t->pass);
	} else {
		t->user_len = strlen(c->user);
		t->pass_len = strlen(c->password);
		if (t->user_len > TP_STUN_USERNAME_MAX || t->pass_len >= sizeof(t->pass)) {
			snprintf(err, errlen, "--user or --password is too long");
			ld_turn_destroy(t);
			return NULL;
		}
		memcpy(t->user, c->user, t->user_len);
		memcpy(t->pass, c->password, t->pass_len);
	}
	return t;
nomem:
	snprintf(err, errlen, "out of memory for %" PRIu32 " allocations", c->allocations);
	ld_turn_destroy(t);
	return NULL;
}

void ld_turn_destroy(struct ld_turn *t)
{
	uint32_t i;

	if (!t)
		return;
	if (t->a)
		for (i = 0; i < t->n; i++)
			free(t->a[i].nonce);
	tp_hmac_key_wipe(&t->key);
	free(t->a);
	free(t->flows);
	free(t->flight);
	free(t->out_buf);
	free(t);
}

const struct ld_flow *ld_turn_flows(const struct ld_turn *t)
{
	return t->flows;
}

void ld_turn_counters(const struct ld_turn *t, uint64_t *refreshes, uint64_t *errors,
		      uint64_t *retransmits, uint64_t *rebinds)
{
	*refreshes = t->refreshes;
	*errors = t->errors;
	*retransmits = t->retransmits;
	*rebinds = t->rebinds;
}
