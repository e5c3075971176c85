/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every config key, as tables: name, kind, field, range, default. Below each table, the rules
 * that involve more than one key. docs/config.md documents the same keys; keep them in step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/stun.h>

#include "conf_int.h"

/* Row shorthands. T is the struct being filled, f its member. */
/* clang-format off */
#define INT(k, T, f, lo, hi, d) \
	{ .key = k, .kind = CONF_INT, CONF_AT(T, f), .min = lo, .max = hi, .def = d }
#define POW2(k, T, f, lo, hi, d) \
	{ .key = k, .kind = CONF_INT, .flags = CONF_POW2, CONF_AT(T, f), .min = lo, .max = hi, \
	  .def = d }
#define BOOL(k, T, f, d) \
	{ .key = k, .kind = CONF_BOOL, CONF_AT(T, f), .def = d }
#define STR(k, T, f, lo, hi, d, fl) \
	{ .key = k, .kind = CONF_STR, .flags = fl, CONF_AT(T, f), .min = lo, .max = hi, .sdef = d }
#define ENUM(k, T, f, names_, d, fl) \
	{ .key = k, .kind = CONF_ENUM, .flags = fl, CONF_AT(T, f), .names = names_, .def = d }
#define ADDR(k, T, f, fl) \
	{ .key = k, .kind = CONF_ADDR, .flags = fl, CONF_AT(T, f) }
#define OBJ(k, T, f, s) \
	{ .key = k, .kind = CONF_OBJ, CONF_AT(T, f), .sub = &s }
#define ARRAY(k, T, p, n, lo, hi, e, fl) \
	{ .key = k, .kind = CONF_ARRAY, .flags = fl, CONF_ARR_AT(T, p, n), .min = lo, .max = hi, \
	  .elem = &e }
/* clang-format on */

static const char *const transport_names[] = { "udp", "tcp", "tls", NULL };
static const char *const level_names[] = { "error", "warn", "info", "debug", NULL };
static const char *const kind_names[] = { "sockets", "dpdk", NULL };
static const char *const pwalg_names[] = { "md5", "sha256", NULL };
static const uint16_t pwalg_values[] = { TP_STUN_PWALG_MD5, TP_STUN_PWALG_SHA256 };

/* Array elements: no key, offset 0, the element's size. */
static const struct conf_opt path_elem = {
	.kind = CONF_STR, .size = sizeof(char *), .min = 1, .max = 4096
};
static const struct conf_opt cidr_elem = { .kind = CONF_CIDR, .size = sizeof(struct tp_cidr) };
static const struct conf_opt ifaddr_elem = { .kind = CONF_CIDR,
					     .flags = CONF_HOSTBITS | CONF_SPECIFIC,
					     .size = sizeof(struct tp_cidr) };
static const struct conf_opt pwalg_elem = {
	.kind = CONF_ENUM, .size = sizeof(uint16_t), .names = pwalg_names, .values = pwalg_values
};

static int addr_text(char *out, size_t cap, const struct tp_addr *a)
{
	char t[TP_ADDR_STRLEN];

	tp_addr_format(a, t, sizeof(t), false);
	return snprintf(out, cap, "\"%s\"", t);
}

/* ---- listen[] ---- */

static int listener_check(struct conf_ctx *ctx, void *base)
{
	struct tp_conf_listener *l = base;
	bool tls = l->transport == TP_CONF_TLS;

	if (!l->addr.port) /* RFC 8656 §4: 3478 for UDP and TCP, 5349 for TLS */
		l->addr.port = tls ? 5349 : 3478;
	if (tls && !l->cert)
		return conf_fail(ctx, NULL,
				 "missing key \"cert\" (required with transport \"tls\")");
	if (tls && !l->key)
		return conf_fail(ctx, NULL,
				 "missing key \"key\" (required with transport \"tls\")");
	if (!tls && (l->cert || l->key))
		return conf_fail(ctx, l->cert ? ".cert" : ".key",
				 "only allowed with transport \"tls\", got transport \"%s\"",
				 transport_names[l->transport]);
	return 0;
}

#define L struct tp_conf_listener
static const struct conf_opt listener_opts[] = {
	ENUM("transport", L, transport, transport_names, 0, CONF_REQUIRED),
	ADDR("address", L, addr, CONF_REQUIRED),
	INT("port", L, addr.port, 1, 65535, 0), /* 0: the transport's default, set above */
	STR("cert", L, cert, 1, 4096, NULL, 0),
	STR("key", L, key, 1, 4096, NULL, 0),
};
static const struct conf_schema listener_schema = CONF_SCHEMA(listener_opts, L, listener_check);
static const struct conf_opt listener_elem = { .kind = CONF_OBJ,
					       .size = sizeof(L),
					       .sub = &listener_schema };
#undef L

/* ---- relay ---- */

static int relay_check(struct conf_ctx *ctx, void *base)
{
	struct tp_conf_relay *r = base;

	if (!r->address.family && !r->address6.family)
		return conf_fail(ctx, NULL, "must have \"address\" or \"address6\"");
	if (r->port_max < r->port_min)
		return conf_fail(ctx, ".port_max", "must be >= port_min (%u), got %u", r->port_min,
				 r->port_max);
	return 0;
}

#define R struct tp_conf_relay
static const struct conf_opt relay_opts[] = {
	ADDR("address", R, address, CONF_IPV4 | CONF_SPECIFIC),
	ADDR("address6", R, address6, CONF_IPV6 | CONF_SPECIFIC),
	INT("port_min", R, port_min, 1024, 65535, 49152),
	INT("port_max", R, port_max, 1024, 65535, 65535),
};
static const struct conf_schema relay_schema = CONF_SCHEMA(relay_opts, R, relay_check);
#undef R

/* ---- auth ---- */

#define U struct tp_conf_user
static const struct conf_opt user_opts[] = {
	STR("name", U, name, 1, TP_STUN_USERNAME_MAX, NULL, CONF_REQUIRED),
	STR("password", U, password, 1, 1024, NULL, CONF_REQUIRED),
};
static const struct conf_schema user_schema = CONF_SCHEMA(user_opts, U, NULL);
static const struct conf_opt user_elem = { .kind = CONF_OBJ,
					   .size = sizeof(U),
					   .sub = &user_schema };
#undef U

static int user_cmp(const void *a, const void *b)
{
	const struct tp_conf_user *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);

	/* Ties in array order, so the duplicate reported is the later one. */
	return c ? c : (*x < *y ? -1 : *x > *y);
}

/* Names must be unique; sorting keeps this fast for large user lists. */
static int users_unique(struct conf_ctx *ctx, const struct tp_conf_auth *a)
{
	const struct tp_conf_user **v;
	char sub[48], q[80];
	int rc = 0;

	if (a->n_users < 2)
		return 0;
	v = malloc(a->n_users * sizeof(*v));
	if (!v)
		return conf_error(ctx, "out of memory");
	for (size_t i = 0; i < a->n_users; i++)
		v[i] = &a->users[i];
	qsort(v, a->n_users, sizeof(*v), user_cmp);
	for (size_t i = 1; i < a->n_users; i++) {
		if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
			snprintf(sub, sizeof(sub), ".users[%lu].name",
				 (unsigned long)(v[i] - a->users));
			conf_quote(q, sizeof(q), v[i]->name);
			rc = conf_fail(ctx, sub, "duplicate user %s", q);
			goto out;
		}
	}
out:
	free(v);
	return rc;
}

static int auth_check(struct conf_ctx *ctx, void *base)
{
	/* RFC 8489 §9.2.4: the server lists algorithms in order of preference. */
	static const uint16_t default_algs[] = { TP_STUN_PWALG_SHA256, TP_STUN_PWALG_MD5 };
	struct tp_conf_auth *a = base;

	if (!a->n_password_algorithms) {
		a->password_algorithms = default_algs;
		a->n_password_algorithms = 2;
	} else if (a->n_password_algorithms == 2 &&
		   a->password_algorithms[0] == a->password_algorithms[1]) {
		return conf_fail(ctx, ".password_algorithms[1]", "duplicate \"%s\"",
				 a->password_algorithms[1] == TP_STUN_PWALG_MD5 ? "md5" : "sha256");
	}
	if (users_unique(ctx, a) < 0)
		return -1;
	if (a->required && !a->n_users && !a->secret)
		return conf_fail(ctx, NULL,
				 "must have \"users\" or \"secret\" when \"required\" is true");
	return 0;
}

#define A struct tp_conf_auth
static const struct conf_opt auth_opts[] = {
	BOOL("required", A, required, true),
	ARRAY("users", A, users, n_users, 0, 100000, user_elem, 0),
	STR("secret", A, secret, 1, 1024, NULL, 0),
	INT("nonce_lifetime", A, nonce_lifetime, 10, 86400, 600),
	ARRAY("password_algorithms", A, password_algorithms, n_password_algorithms, 1, 2,
	      pwalg_elem, 0),
};
static const struct conf_schema auth_schema = CONF_SCHEMA(auth_opts, A, auth_check);
#undef A

/* ---- limits ---- */

static int limits_check(struct conf_ctx *ctx, void *base)
{
	struct tp_conf_limits *l = base;

	if (l->max_lifetime < l->default_lifetime)
		return conf_fail(ctx, ".max_lifetime", "must be >= default_lifetime (%lu), got %lu",
				 (unsigned long)l->default_lifetime,
				 (unsigned long)l->max_lifetime);
	return 0;
}

#define M struct tp_conf_limits
static const struct conf_opt limits_opts[] = {
	INT("allocations_per_user", M, allocations_per_user, 1, 1000000, 10),
	INT("allocations_total", M, allocations_total, 1, 16777216, 100000),
	INT("permissions_per_allocation", M, permissions_per_allocation, 1, 65535, 1024),
	/* RFC 8656 §12: there are 0x1000 channel numbers */
	INT("channels_per_allocation", M, channels_per_allocation, 1, 4096, 1024),
	INT("max_lifetime", M, max_lifetime, 60, 86400, 3600),
	INT("default_lifetime", M, default_lifetime, 60, 86400, 600),
	INT("bandwidth_bps", M, bandwidth_bps, 0, 1000000000000, 0),
	INT("unauth_rate", M, unauth_rate, 1, 1000000, 10),
};
static const struct conf_schema limits_schema = CONF_SCHEMA(limits_opts, M, limits_check);
#undef M

/* ---- peers ---- */

#define P struct tp_conf_peers
static const struct conf_opt peers_opts[] = {
	ARRAY("allow", P, allow, n_allow, 0, 65536, cidr_elem, 0),
	ARRAY("deny", P, deny, n_deny, 0, 65536, cidr_elem, 0),
	BOOL("allow_loopback", P, allow_loopback, false),
};
static const struct conf_schema peers_schema = CONF_SCHEMA(peers_opts, P, NULL);
#undef P

/* ---- dataplane.dpdk ---- */

static int gateway_one(struct conf_ctx *ctx, struct tp_conf_dpdk_port *p, const cJSON *item)
{
	struct tp_addr a, *slot;
	char q[80];

	if (cJSON_IsString(item) && tp_addr_parse_ip(&a, item->valuestring) == 0 &&
	    !conf_addr_unspecified(&a)) {
		slot = a.family == TP_AF_INET ? &p->gateway4 : &p->gateway6;
		if (!slot->family) {
			*slot = a;
			return 0;
		}
	}
	if (cJSON_IsString(item))
		conf_quote(q, sizeof(q), item->valuestring);
	else
		snprintf(q, sizeof(q), "%s", conf_json_type(item));
	return conf_fail(ctx, NULL, "must be one IPv4 and/or one IPv6 address, got %s", q);
}

/* "gateway": one address, or an array with at most one per family. */
static int parse_gateway(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item,
			 void *base)
{
	struct tp_conf_dpdk_port *p = base;
	const cJSON *child;
	unsigned long i = 0;

	(void)o;
	if (!cJSON_IsArray(item))
		return gateway_one(ctx, p, item);
	if (cJSON_GetArraySize(item) < 1)
		return conf_fail(ctx, NULL, "must be one IPv4 and/or one IPv6 address, got []");
	cJSON_ArrayForEach(child, item)
	{
		size_t mark = conf_path_push(ctx, "[%lu]", i++);
		int r = gateway_one(ctx, p, child);

		conf_path_pop(ctx, mark);
		if (r < 0)
			return -1;
	}
	return 0;
}

static bool port_on_link(const struct tp_conf_dpdk_port *p, const struct tp_addr *a)
{
	for (size_t i = 0; i < p->n_addresses; i++)
		if (tp_cidr_match(&p->addresses[i], a))
			return true;
	return false;
}

static bool port_has_family(const struct tp_conf_dpdk_port *p, int family)
{
	for (size_t i = 0; i < p->n_addresses; i++)
		if (p->addresses[i].addr.family == family)
			return true;
	return false;
}

static int port_check(struct conf_ctx *ctx, void *base)
{
	static const struct tp_cidr link_local = { { TP_AF_INET6, 0, 0, { 0xfe, 0x80 } }, 10 };
	struct tp_conf_dpdk_port *p = base;
	char got[64];

	if (p->mtu < 1280 && port_has_family(p, TP_AF_INET6)) /* RFC 8200 §5 */
		return conf_fail(ctx, ".mtu", "must be >= 1280 with an IPv6 address, got %u",
				 p->mtu);
	if (p->gateway4.family && !port_on_link(p, &p->gateway4)) {
		addr_text(got, sizeof(got), &p->gateway4);
		return conf_fail(ctx, ".gateway", "must be inside one of \"addresses\", got %s",
				 got);
	}
	if (p->gateway6.family &&
	    !(port_has_family(p, TP_AF_INET6) &&
	      (port_on_link(p, &p->gateway6) || tp_cidr_match(&link_local, &p->gateway6)))) {
		addr_text(got, sizeof(got), &p->gateway6);
		return conf_fail(ctx, ".gateway",
				 "must be inside one of \"addresses\" (or link-local, with an IPv6 "
				 "address on the port), got %s",
				 got);
	}
	return 0;
}

#define D struct tp_conf_dpdk_port
static const struct conf_opt port_opts[] = {
	STR("device", D, device, 1, 255, NULL, CONF_REQUIRED),
	ARRAY("addresses", D, addresses, n_addresses, 1, 64, ifaddr_elem, CONF_REQUIRED),
	{ .key = "gateway", .kind = CONF_CUSTOM, .fn = parse_gateway },
	INT("mtu", D, mtu, 576, 9000, 1500),
	INT("queues", D, queues, 1, 64, 1),
	POW2("rx_desc", D, rx_desc, 64, 32768, 1024),
	POW2("tx_desc", D, tx_desc, 64, 32768, 1024),
};
static const struct conf_schema port_schema = CONF_SCHEMA(port_opts, D, port_check);
static const struct conf_opt port_elem = { .kind = CONF_OBJ,
					   .size = sizeof(D),
					   .sub = &port_schema };
#undef D

static int dpdk_check(struct conf_ctx *ctx, void *base)
{
	struct tp_conf_dpdk *d = base;
	char sub[48], q[80];

	for (size_t i = 0; i < d->n_ports; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(d->ports[i].device, d->ports[j].device) == 0) {
				snprintf(sub, sizeof(sub), ".ports[%lu].device", (unsigned long)i);
				conf_quote(q, sizeof(q), d->ports[i].device);
				return conf_fail(ctx, sub, "must differ from ports[%lu], got %s",
						 (unsigned long)j, q);
			}
		}
	}
	return 0;
}

/* Runs only when the object is present (CONF_OPTIONAL); check_dpdk() fills it in otherwise. */
static int kernel_relay_check(struct conf_ctx *ctx, void *base)
{
	struct tp_conf_kernel_relay *k = base;

	if (!k->address.family && !k->address6.family)
		return conf_fail(ctx, NULL, "must have \"address\" or \"address6\"");
	k->configured = true;
	return 0;
}

#define KR struct tp_conf_kernel_relay
static const struct conf_opt kernel_relay_opts[] = {
	ADDR("address", KR, address, CONF_IPV4 | CONF_SPECIFIC),
	ADDR("address6", KR, address6, CONF_IPV6 | CONF_SPECIFIC),
};
static const struct conf_schema kernel_relay_schema =
	CONF_SCHEMA(kernel_relay_opts, KR, kernel_relay_check);
#undef KR

#define K struct tp_conf_dpdk
static const struct conf_opt dpdk_opts[] = {
	ARRAY("eal", K, eal, n_eal, 0, 256, path_elem, 0),
	ARRAY("ports", K, ports, n_ports, 0, 32, port_elem, 0),
	INT("mbufs", K, mbufs, 1024, 16777216, 16384),
	INT("burst", K, burst, 1, 256, 32),
	{ .key = "kernel_relay",
	  .kind = CONF_OBJ,
	  .flags = CONF_OPTIONAL,
	  CONF_AT(K, kernel_relay),
	  .sub = &kernel_relay_schema },
};
static const struct conf_schema dpdk_schema = CONF_SCHEMA(dpdk_opts, K, dpdk_check);
#undef K

/* ---- dataplane, log ---- */

#define DP struct tp_conf_dataplane
static const struct conf_opt dataplane_opts[] = {
	ENUM("kind", DP, kind, kind_names, TP_CONF_SOCKETS, 0),
	INT("workers", DP, workers, 1, 128, 1),
	OBJ("dpdk", DP, dpdk, dpdk_schema),
};
static const struct conf_schema dataplane_schema = CONF_SCHEMA(dataplane_opts, DP, NULL);
#undef DP

static const struct conf_opt log_opts[] = {
	ENUM("level", struct tp_conf_log, level, level_names, TP_CONF_LOG_INFO, 0),
};
static const struct conf_schema log_schema = CONF_SCHEMA(log_opts, struct tp_conf_log, NULL);

/* ---- metrics ---- */

/* Runs only when the object is present (CONF_OPTIONAL): that is what turns the endpoint on. */
static int metrics_check(struct conf_ctx *ctx, void *base)
{
	struct tp_conf_metrics *m = base;

	(void)ctx;
	m->enabled = true;
	return 0;
}

static const struct conf_opt metrics_opts[] = {
	{ .key = "listen",
	  .kind = CONF_ENDPOINT,
	  .flags = CONF_REQUIRED,
	  CONF_AT(struct tp_conf_metrics, listen) },
};
static const struct conf_schema metrics_schema =
	CONF_SCHEMA(metrics_opts, struct tp_conf_metrics, metrics_check);

/* ---- the document ---- */

/* Two listeners that would need the same socket: same protocol (TLS is TCP), family and
 * port, and the same address or a wildcard on either side. */
static bool listeners_clash(const struct tp_conf_listener *a, const struct tp_conf_listener *b)
{
	return (a->transport == TP_CONF_UDP) == (b->transport == TP_CONF_UDP) &&
	       a->addr.family == b->addr.family && a->addr.port == b->addr.port &&
	       (tp_addr_ip_eq(&a->addr, &b->addr) || conf_addr_unspecified(&a->addr) ||
		conf_addr_unspecified(&b->addr));
}

static bool dpdk_owns(const struct tp_conf_dpdk *d, const struct tp_addr *a)
{
	for (size_t i = 0; i < d->n_ports; i++)
		for (size_t j = 0; j < d->ports[i].n_addresses; j++)
			if (tp_addr_ip_eq(&d->ports[i].addresses[j].addr, a))
				return true;
	return false;
}

static int check_listeners(struct conf_ctx *ctx, const struct tp_config *c)
{
	const struct tp_conf_relay *r = &c->relay;
	char sub[48], got[TP_ADDR_STRLEN + 2];

	if (!c->n_listen)
		return conf_fail(ctx, ".listen", "must have at least one listener");
	for (size_t i = 0; i < c->n_listen; i++) {
		const struct tp_conf_listener *l = &c->listen[i];
		const struct tp_addr *ra =
			l->addr.family == TP_AF_INET ? &r->address : &r->address6;

		for (size_t j = 0; j < i; j++) {
			if (listeners_clash(l, &c->listen[j])) {
				snprintf(sub, sizeof(sub), ".listen[%lu]", (unsigned long)i);
				addr_text(got, sizeof(got), &l->addr);
				return conf_fail(ctx, sub,
						 "must not use the same %s address and port as "
						 ".listen[%lu], got %s port %u",
						 l->transport == TP_CONF_UDP ? "UDP" : "TCP",
						 (unsigned long)j, got, l->addr.port);
			}
		}
		/* A UDP listener inside the relay range could collide with a relay port. */
		if (l->transport == TP_CONF_UDP && ra->family &&
		    (conf_addr_unspecified(&l->addr) || tp_addr_ip_eq(&l->addr, ra)) &&
		    l->addr.port >= r->port_min && l->addr.port <= r->port_max) {
			snprintf(sub, sizeof(sub), ".listen[%lu].port", (unsigned long)i);
			return conf_fail(ctx, sub,
					 "must be outside the relay port range %u..%u on the relay "
					 "address, got %u",
					 r->port_min, r->port_max, l->addr.port);
		}
	}
	return 0;
}

/*
 * With kind "dpdk" (issue 4 §1, §6), the relay addresses and the UDP listeners live on DPDK
 * ports. TCP and TLS clients are served by socket workers on kernel interfaces, so their
 * listeners and the relay addresses of their allocations (kernel_relay) must not be DPDK port
 * addresses, which the kernel does not see.
 */
static int check_dpdk_addr(struct conf_ctx *ctx, const struct tp_conf_dpdk *d,
			   const struct tp_addr *a, bool want_dpdk, const char *sub)
{
	char got[TP_ADDR_STRLEN + 2];

	if (!a->family || dpdk_owns(d, a) == want_dpdk)
		return 0;
	addr_text(got, sizeof(got), a);
	if (want_dpdk)
		return conf_fail(ctx, sub,
				 "must be an address of a dataplane.dpdk port when kind is "
				 "\"dpdk\", got %s",
				 got);
	return conf_fail(ctx, sub,
			 "must not be an address of a dataplane.dpdk port (TCP, TLS and their "
			 "relayed UDP use kernel interfaces), got %s",
			 got);
}

/* No kernel_relay object: take the first specific IPv4 and IPv6 TCP/TLS listener addresses. */
static int derive_kernel_relay(struct conf_ctx *ctx, struct tp_config *c)
{
	struct tp_conf_kernel_relay *k = &c->dataplane.dpdk.kernel_relay;

	for (size_t i = 0; i < c->n_listen; i++) {
		const struct tp_conf_listener *l = &c->listen[i];
		struct tp_addr *slot = l->addr.family == TP_AF_INET ? &k->address : &k->address6;

		if (l->transport == TP_CONF_UDP || conf_addr_unspecified(&l->addr) || slot->family)
			continue;
		*slot = l->addr;
		slot->port = 0;
		k->derived = true;
	}
	if (!k->derived)
		return conf_fail(ctx, ".dataplane.dpdk",
				 "missing key \"kernel_relay\" (required with kind \"dpdk\" when "
				 "no TCP or TLS listener has a specific address to take it from)");
	return 0;
}

#define KERNEL_RELAY ".dataplane.dpdk.kernel_relay"

static int check_dpdk(struct conf_ctx *ctx, struct tp_config *c)
{
	const struct tp_conf_dpdk *d = &c->dataplane.dpdk;
	const struct tp_conf_kernel_relay *k = &d->kernel_relay;
	char sub[48];
	bool stream = false;

	if (c->dataplane.kind != TP_CONF_DPDK)
		return 0;
	if (!d->n_ports)
		return conf_fail(ctx, ".dataplane.dpdk.ports",
				 "must have at least one port when kind is \"dpdk\"");
	if (check_dpdk_addr(ctx, d, &c->relay.address, true, ".relay.address") < 0 ||
	    check_dpdk_addr(ctx, d, &c->relay.address6, true, ".relay.address6") < 0)
		return -1;
	for (size_t i = 0; i < c->n_listen; i++) {
		const struct tp_conf_listener *l = &c->listen[i];
		bool udp = l->transport == TP_CONF_UDP;

		snprintf(sub, sizeof(sub), ".listen[%lu].address", (unsigned long)i);
		/* A wildcard TCP/TLS listener binds kernel addresses only: no DPDK one is there. */
		if ((udp || !conf_addr_unspecified(&l->addr)) &&
		    check_dpdk_addr(ctx, d, &l->addr, udp, sub) < 0)
			return -1;
		stream = stream || !udp;
	}
	if (check_dpdk_addr(ctx, d, &k->address, false, KERNEL_RELAY ".address") < 0 ||
	    check_dpdk_addr(ctx, d, &k->address6, false, KERNEL_RELAY ".address6") < 0)
		return -1;
	return stream && !k->configured ? derive_kernel_relay(ctx, c) : 0;
}
#undef KERNEL_RELAY

/* The metrics endpoint is a TCP socket of its own: it must not need a TCP listener's. */
static int check_metrics(struct conf_ctx *ctx, const struct tp_config *c)
{
	const struct tp_addr *m = &c->metrics.listen;
	char got[TP_ADDR_STRLEN + 2];

	if (!c->metrics.enabled)
		return 0;
	for (size_t i = 0; i < c->n_listen; i++) {
		const struct tp_addr *l = &c->listen[i].addr;

		if (c->listen[i].transport != TP_CONF_UDP && l->family == m->family &&
		    l->port == m->port &&
		    (tp_addr_ip_eq(l, m) || conf_addr_unspecified(l) || conf_addr_unspecified(m))) {
			addr_text(got, sizeof(got), m);
			return conf_fail(ctx, ".metrics.listen",
					 "must not use the same TCP address and port as "
					 ".listen[%lu], got %s port %u",
					 (unsigned long)i, got, m->port);
		}
	}
	return 0;
}

static int root_check(struct conf_ctx *ctx, void *base)
{
	struct tp_config *c = base;
	unsigned ports = (unsigned)c->relay.port_max - c->relay.port_min + 1;

	if (check_listeners(ctx, c) < 0 || check_metrics(ctx, c) < 0)
		return -1;
	/* Each shard owns a share of the relay ports (DESIGN.md §3), so it needs at least one. */
	if (c->dataplane.workers > ports)
		return conf_fail(ctx, ".dataplane.workers",
				 "must be at most the number of relay ports (%u), got %u", ports,
				 c->dataplane.workers);
	return check_dpdk(ctx, c);
}

#define C struct tp_config
static const struct conf_opt root_opts[] = {
	STR("realm", C, realm, 1, TP_STUN_REALM_MAX, "turnpike", 0),
	STR("software", C, software, 1, TP_STUN_SOFTWARE_MAX, NULL, 0),
	ARRAY("listen", C, listen, n_listen, 0, 64, listener_elem, 0),
	OBJ("relay", C, relay, relay_schema),
	OBJ("auth", C, auth, auth_schema),
	OBJ("limits", C, limits, limits_schema),
	OBJ("peers", C, peers, peers_schema),
	OBJ("dataplane", C, dataplane, dataplane_schema),
	OBJ("log", C, log, log_schema),
	{ .key = "metrics",
	  .kind = CONF_OBJ,
	  .flags = CONF_OPTIONAL,
	  CONF_AT(C, metrics),
	  .sub = &metrics_schema },
};
const struct conf_schema conf_root_schema = CONF_SCHEMA(root_opts, C, root_check);
#undef C
