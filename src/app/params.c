/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/stun.h>

#include "params.h"

static uint8_t transport_of(enum tp_conf_transport t)
{
	return t == TP_CONF_TCP	  ? TP_TRANSPORT_TCP
	       : t == TP_CONF_TLS ? TP_TRANSPORT_TLS
				  : TP_TRANSPORT_UDP;
}

static bool unspecified(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, tp_addr_iplen(a)) == 0;
}

int tp_app_params_init(struct tp_app_params *ap, const struct tp_config *cfg)
{
	const struct tp_conf_kernel_relay *kr = &cfg->dataplane.dpdk.kernel_relay;
	struct tp_engine_params *p = &ap->p;
	unsigned n_own = 0;

	memset(ap, 0, sizeof(*ap));
	p->realm = cfg->realm;
	p->software = cfg->software;
	p->relay4 = cfg->relay.address;
	p->relay6 = cfg->relay.address6;
	p->port_min = cfg->relay.port_min;
	p->port_max = cfg->relay.port_max;
	if (cfg->auth.n_users) {
		ap->users = calloc(cfg->auth.n_users, sizeof(*ap->users));
		if (!ap->users)
			return -ENOMEM;
		for (size_t i = 0; i < cfg->auth.n_users; i++) {
			ap->users[i].name = cfg->auth.users[i].name;
			ap->users[i].password = cfg->auth.users[i].password;
		}
	}
	p->users = ap->users;
	p->n_users = (unsigned)cfg->auth.n_users;
	p->rest_secret = cfg->auth.secret;
	p->auth_required = cfg->auth.required;
	for (size_t i = 0; i < cfg->auth.n_password_algorithms; i++) {
		if (cfg->auth.password_algorithms[i] == TP_STUN_PWALG_MD5)
			p->pwalg_md5 = true;
		else if (cfg->auth.password_algorithms[i] == TP_STUN_PWALG_SHA256)
			p->pwalg_sha256 = true;
		/* The operator's order is the order of preference sent to clients. */
		if (i == 0)
			p->pwalg_sha256_first =
				cfg->auth.password_algorithms[0] == TP_STUN_PWALG_SHA256;
	}
	p->nonce_lifetime = cfg->auth.nonce_lifetime;
	p->allocations_per_user = cfg->limits.allocations_per_user;
	p->allocations_total = cfg->limits.allocations_total;
	p->permissions_per_allocation = cfg->limits.permissions_per_allocation;
	p->channels_per_allocation = cfg->limits.channels_per_allocation;
	p->default_lifetime = cfg->limits.default_lifetime;
	p->max_lifetime = cfg->limits.max_lifetime;
	p->permission_lifetime = 300; /* RFC 8656 §9 */
	p->channel_lifetime = 600;    /* RFC 8656 §12 */
	p->bandwidth_bps = cfg->limits.bandwidth_bps;
	p->unauth_rate = cfg->limits.unauth_rate;
	p->allow = cfg->peers.allow;
	p->n_allow = (unsigned)cfg->peers.n_allow;
	p->deny = cfg->peers.deny;
	p->n_deny = (unsigned)cfg->peers.n_deny;
	p->allow_loopback = cfg->peers.allow_loopback;

	/* The server's own addresses are never peers (DESIGN §7). */
	ap->own = calloc(cfg->n_listen + 4, sizeof(*ap->own));
	if (!ap->own) {
		tp_app_params_fini(ap);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_listen; i++)
		if (!unspecified(&cfg->listen[i].addr))
			ap->own[n_own++] = cfg->listen[i].addr;
	if (cfg->relay.address.family)
		ap->own[n_own++] = cfg->relay.address;
	if (cfg->relay.address6.family)
		ap->own[n_own++] = cfg->relay.address6;
	if (cfg->dataplane.kind == TP_CONF_DPDK) {
		/* Both planes' policies deny both planes' relay addresses. */
		if (kr->address.family)
			ap->own[n_own++] = kr->address;
		if (kr->address6.family)
			ap->own[n_own++] = kr->address6;
	}
	for (unsigned i = 0; i < n_own; i++)
		ap->own[i].port = 0;
	p->own = ap->own;
	p->n_own = n_own;
	return 0;
}

void tp_app_params_fini(struct tp_app_params *ap)
{
	free(ap->users);
	free(ap->own);
	memset(ap, 0, sizeof(*ap));
}

static struct tp_engine_policy *policy(const struct tp_config *cfg, bool kernel, char *err,
				       size_t errlen)
{
	struct tp_app_params ap;
	struct tp_engine_policy *pol;

	if (tp_app_params_init(&ap, cfg) < 0) {
		strncpy(err, "out of memory", errlen);
		return NULL;
	}
	if (kernel) {
		ap.p.relay4 = cfg->dataplane.dpdk.kernel_relay.address;
		ap.p.relay6 = cfg->dataplane.dpdk.kernel_relay.address6;
	}
	pol = tp_engine_policy_create(&ap.p, err, errlen);
	tp_app_params_fini(&ap);
	return pol;
}

struct tp_engine_policy *tp_app_policy(const struct tp_config *cfg, char *err, size_t errlen)
{
	return policy(cfg, false, err, errlen);
}

struct tp_engine_policy *tp_app_kernel_policy(const struct tp_config *cfg, char *err, size_t errlen)
{
	return policy(cfg, true, err, errlen);
}

void tp_app_sockdp_conf(const struct tp_config *cfg, struct tp_sockdp_listener *ls,
			struct tp_sockdp_conf *out)
{
	unsigned workers = cfg->dataplane.workers ? cfg->dataplane.workers : 1;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < cfg->n_listen; i++) {
		ls[i].transport = transport_of(cfg->listen[i].transport);
		ls[i].addr = cfg->listen[i].addr;
		ls[i].cert = cfg->listen[i].cert;
		ls[i].key = cfg->listen[i].key;
	}
	out->listeners = ls;
	out->n_listeners = (unsigned)cfg->n_listen;
	out->relay4 = cfg->relay.address;
	out->relay6 = cfg->relay.address6;
	out->port_min = cfg->relay.port_min;
	out->port_max = cfg->relay.port_max;
	out->workers = workers;
	out->max_allocations = cfg->limits.allocations_total;
}

void tp_app_dpdkdp_conf(const struct tp_config *cfg, struct tp_addr *udp,
			struct tp_dpdkdp_conf *out, unsigned *n_stream)
{
	const struct tp_conf_dpdk *d = &cfg->dataplane.dpdk;

	memset(out, 0, sizeof(*out));
	*n_stream = 0;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		if (cfg->listen[i].transport == TP_CONF_UDP)
			udp[out->n_listen++] = cfg->listen[i].addr;
		else
			(*n_stream)++;
	}
	out->listen = udp;
	out->ports = d->ports;
	out->n_ports = (unsigned)d->n_ports;
	out->relay4 = cfg->relay.address;
	out->relay6 = cfg->relay.address6;
	out->port_min = cfg->relay.port_min;
	out->port_max = cfg->relay.port_max;
	out->workers = cfg->dataplane.workers ? cfg->dataplane.workers : 1;
	out->max_allocations = cfg->limits.allocations_total;
	out->mbufs = d->mbufs;
	out->burst = d->burst;
}

unsigned tp_app_kernel_conf(const struct tp_config *cfg, struct tp_sockdp_listener *ls,
			    struct tp_sockdp_conf *out)
{
	unsigned n = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < cfg->n_listen; i++) {
		if (cfg->listen[i].transport == TP_CONF_UDP)
			continue;
		ls[n].transport = transport_of(cfg->listen[i].transport);
		ls[n].addr = cfg->listen[i].addr;
		ls[n].cert = cfg->listen[i].cert;
		ls[n].key = cfg->listen[i].key;
		n++;
	}
	out->listeners = ls;
	out->n_listeners = n;
	out->relay4 = cfg->dataplane.dpdk.kernel_relay.address;
	out->relay6 = cfg->dataplane.dpdk.kernel_relay.address6;
	/* The same port range as the DPDK plane, on other addresses: no clash. */
	out->port_min = cfg->relay.port_min;
	out->port_max = cfg->relay.port_max;
	out->workers = 1;
	out->max_allocations = cfg->limits.allocations_total;
	return n;
}
