/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <turnpike/byteorder.h>
#include <turnpike/stun_build.h>

#include "bench_common.h"

int bc_parse_opts(int argc, char **argv, struct bc_opts *o, const char *usage)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o->quick = true;
		} else if (!strcmp(argv[i], "--json-only")) {
			o->json_only = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 1;
		} else {
			fprintf(stderr, "unknown option %s\n%s", argv[i], usage);
			return -1;
		}
	}
	return 0;
}

uint64_t bc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bc_median(double *v, unsigned n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bc_params(struct tp_engine_params *p, const struct tp_addr *relay,
	       const struct tp_engine_user *user, bool auth)
{
	memset(p, 0, sizeof(*p));
	p->realm = BC_REALM;
	p->relay4 = *relay;
	p->port_min = BC_PORT_MIN;
	p->port_max = BC_PORT_MAX;
	p->users = user;
	p->n_users = 1;
	p->auth_required = auth;
	p->nonce_lifetime = 3600;
	p->allocations_per_user = 4000000;
	p->allocations_total = 4000000;
	p->permissions_per_allocation = 16;
	p->channels_per_allocation = 16;
	p->default_lifetime = 3600;
	p->max_lifetime = 3600;
	p->permission_lifetime = 3600;
	p->channel_lifetime = 3600;
	p->own = relay;
	p->n_own = 1;
}

const char *bc_count_name(uint32_t n, char *buf, size_t cap)
{
	if (n == BC_PORTS)
		snprintf(buf, cap, "64k");
	else if (n >= 1000000 && n % 1000000 == 0)
		snprintf(buf, cap, "%uM", n / 1000000);
	else if (n >= 1000 && n % 1000 == 0)
		snprintf(buf, cap, "%uk", n / 1000);
	else
		snprintf(buf, cap, "%u", n);
	return buf;
}

struct tp_addr bc_client(uint32_t i)
{
	struct tp_addr a;
	uint32_t ip = 0xc6120000u + (i >> 6); /* 198.18.0.0 */

	memset(&a, 0, sizeof(a));
	a.family = TP_AF_INET;
	tp_put_be32(a.ip, ip);
	a.port = (uint16_t)(20000 + (i & 63));
	return a;
}

void bc_cred_init(struct bc_cred *c)
{
	uint8_t key[TP_DIGEST_MAX];
	int n = tp_stun_long_term_key(TP_STUN_PWALG_MD5, BC_USER, strlen(BC_USER), BC_REALM,
				      strlen(BC_REALM), BC_PASSWORD, strlen(BC_PASSWORD), key);

	if (n <= 0 || tp_hmac_key_init(&c->key, TP_DIGEST_SHA1, key, (size_t)n) < 0) {
		fprintf(stderr, "cannot derive the long-term key\n");
		exit(1);
	}
}

size_t bc_build(uint8_t *buf, size_t cap, const struct bc_req *rq)
{
	static uint64_t tid_ctr;
	struct tp_stun_builder b;
	uint8_t tid[TP_STUN_TID_LEN] = { 0x62, 0x65, 0x6e, 0x63 };
	int n;

	tp_put_be64(tid + 4, ++tid_ctr);
	tp_stun_build_init(&b, buf, cap, rq->method, rq->cls, tid);
	if (rq->transport)
		tp_stun_add_transport(&b, TP_STUN_TRANSPORT_UDP);
	if (rq->has_lifetime)
		tp_stun_add_u32(&b, TP_STUN_ATTR_LIFETIME, rq->lifetime);
	if (rq->peer)
		tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, rq->peer);
	if (rq->channel)
		tp_stun_add_channel(&b, rq->channel);
	if (rq->data)
		tp_stun_add(&b, TP_STUN_ATTR_DATA, rq->data, rq->data_len);
	if (rq->cred) {
		tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, BC_USER, strlen(BC_USER));
		tp_stun_add_string(&b, TP_STUN_ATTR_REALM, BC_REALM, strlen(BC_REALM));
		tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, rq->nonce, strlen(rq->nonce));
		tp_stun_add_integrity(&b, &rq->cred->key);
	}
	n = tp_stun_build_finish(&b);
	if (n <= 0) {
		fprintf(stderr, "cannot build a request (%d)\n", n);
		exit(1);
	}
	return (size_t)n;
}

int bc_resp_class(const uint8_t *b, size_t len, int *code)
{
	struct tp_stun_msg m;

	*code = 0;
	if (tp_stun_parse(&m, b, len) < 0)
		return -1;
	if (m.cls == TP_STUN_ERROR)
		tp_stun_get_error(&m, code, NULL, NULL);
	return m.cls;
}

int bc_resp_nonce(const uint8_t *b, size_t len, char *out, size_t cap)
{
	struct tp_stun_msg m;
	const uint8_t *s;
	size_t n;

	if (tp_stun_parse(&m, b, len) < 0 ||
	    tp_stun_get_string(&m, TP_STUN_ATTR_NONCE, &s, &n) < 0 || n + 1 > cap)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

uint16_t bc_resp_relay_port(const uint8_t *b, size_t len)
{
	struct tp_stun_msg m;
	struct tp_addr a;

	if (tp_stun_parse(&m, b, len) < 0 || m.cls != TP_STUN_SUCCESS ||
	    tp_stun_get_addr(&m, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &a) < 0)
		return 0;
	return a.port;
}

void bc_json(const char *fmt, ...)
{
	va_list ap;

	putchar('{');
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	puts("}");
	fflush(stdout);
}
