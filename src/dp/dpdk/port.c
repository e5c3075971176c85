/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL, mbuf pools, ports and rte_flow steering, all on the control thread at start-up. Ports
 * come up in l2fwd's order: device info -> configure (RSS masked by what the device offers) ->
 * queue setup on the port's NUMA socket -> start -> link.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <turnpike/log.h>

#include "dpdkdp_int.h"

/* --- EAL --- */

/*
 * rte_eal_init() reorders the array it is given and may keep pointers into it and into the
 * strings: both stay allocated until tp_dpdkdp_eal_fini(), and the strings are freed through a
 * second array the EAL never sees.
 */
static char **eal_strings;
static char **eal_argv;
static unsigned eal_argc;

static void free_argv(void)
{
	for (unsigned i = 0; eal_strings && i < eal_argc; i++)
		free(eal_strings[i]);
	free(eal_strings);
	free(eal_argv);
	eal_strings = eal_argv = NULL;
	eal_argc = 0;
}

int tp_dpdkdp_eal_init(const char *const *args, unsigned n, char *err, size_t errlen)
{
	int rc;

	eal_argc = n + 1;
	eal_strings = calloc((size_t)n + 2, sizeof(*eal_strings));
	eal_argv = calloc((size_t)n + 2, sizeof(*eal_argv));
	if (!eal_strings || !eal_argv) {
		free_argv();
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	eal_strings[0] = strdup("turnpike");
	for (unsigned i = 0; i < n; i++)
		eal_strings[i + 1] = strdup(args[i]);
	for (unsigned i = 0; i < eal_argc; i++) {
		if (!eal_strings[i]) {
			free_argv();
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		eal_argv[i] = eal_strings[i];
	}
	rc = rte_eal_init((int)eal_argc, eal_argv);
	if (rc < 0) {
		rc = -rte_errno;
		snprintf(err, errlen, "DPDK EAL initialisation failed: %s (see the EAL's messages)",
			 rte_strerror(rte_errno));
		free_argv();
		return rc;
	}
	return 0;
}

void tp_dpdkdp_eal_fini(void)
{
	uint16_t pid;

	RTE_ETH_FOREACH_DEV(pid)
	{
		/* tp_dpdkdp_stop() stopped ours; a port still running is stopped first. */
		if (rte_eth_dev_close(pid) != 0) {
			rte_eth_dev_stop(pid);
			rte_eth_dev_close(pid);
		}
	}
	rte_eal_cleanup();
	free_argv();
}

/* --- addresses --- */

bool tp_dp_port_has_ip(const struct tp_dp_port *p, uint8_t family, const uint8_t *ip)
{
	/* Constant-size compares: inlined, where a length known only at run time calls memcmp. */
	for (unsigned i = 0; i < p->n_addr; i++) {
		const struct tp_addr *a = &p->addr[i].addr;

		if (a->family != family)
			continue;
		if (family == TP_AF_INET6 ? memcmp(a->ip, ip, 16) == 0 : memcmp(a->ip, ip, 4) == 0)
			return true;
	}
	return false;
}

unsigned tp_dp_port_of_addr(const struct tp_dpdkdp *dp, const struct tp_addr *a)
{
	for (unsigned i = 0; i < dp->n_ports; i++)
		if (tp_dp_port_has_ip(&dp->ports[i], a->family, a->ip))
			return i;
	return TP_DP_NO_PORT;
}

/* --- pools --- */

static struct rte_mempool *pool_for(struct tp_dpdkdp *dp, int socket, char *err, size_t errlen)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned n = dp->conf.mbufs ? dp->conf.mbufs : 16384;
	unsigned cache = n / 8 < RTE_MEMPOOL_CACHE_MAX_SIZE ? n / 8 : 256;
	struct rte_mempool *mp;

	/* One pool per NUMA socket, kept for the life of the process: stopped ports may still
	 * hold its mbufs in their RX rings until they are closed. */
	snprintf(name, sizeof(name), "tp_mbuf_s%d", socket);
	mp = rte_mempool_lookup(name);
	if (mp)
		return mp;
	mp = rte_pktmbuf_pool_create(name, n, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!mp)
		snprintf(err, errlen, "cannot create %u mbufs on NUMA socket %d: %s", n, socket,
			 rte_strerror(rte_errno));
	return mp;
}

/* --- rte_flow steering --- */

static void flows_destroy(struct tp_dp_port *p)
{
	struct rte_flow_error fe;

	for (unsigned i = 0; i < p->n_flows; i++)
		rte_flow_destroy(p->port_id, p->flows[i], &fe);
	p->n_flows = 0;
	p->flow = false;
}

/*
 * The rule for shard @s: UDP to @relay with destination port bits matching. Shard of a port is
 * ((port >> 1) - (port_min >> 1)) % n; with n a power of two and port_min aligned to the range
 * size (itself a power of two >= 2n), that is bits 1..log2(n) of the port, and the bits above
 * the range size are port_min's.
 */
static struct rte_flow *flow_rule(uint16_t pid, const struct tp_addr *relay, uint16_t spec,
				  uint16_t mask, uint16_t queue, bool validate_only, int *rc)
{
	struct rte_flow_attr attr = { .ingress = 1 };
	struct rte_flow_item_ipv4 ip4 = { 0 }, ip4m = { 0 };
	struct rte_flow_item_ipv6 ip6 = { 0 }, ip6m = { 0 };
	struct rte_flow_item_udp udp = { 0 }, udpm = { 0 };
	struct rte_flow_action_queue q = { .index = queue };
	struct rte_flow_item pattern[4];
	struct rte_flow_action actions[2];
	struct rte_flow_error fe;
	struct rte_flow *f;

	memset(pattern, 0, sizeof(pattern));
	memset(actions, 0, sizeof(actions));
	pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
	if (relay->family == TP_AF_INET) {
		memcpy(&ip4.hdr.dst_addr, relay->ip, 4);
		memset(&ip4m.hdr.dst_addr, 0xff, 4);
		pattern[1].type = RTE_FLOW_ITEM_TYPE_IPV4;
		pattern[1].spec = &ip4;
		pattern[1].mask = &ip4m;
	} else {
		memcpy(ip6.hdr.dst_addr, relay->ip, 16);
		memset(ip6m.hdr.dst_addr, 0xff, 16);
		pattern[1].type = RTE_FLOW_ITEM_TYPE_IPV6;
		pattern[1].spec = &ip6;
		pattern[1].mask = &ip6m;
	}
	udp.hdr.dst_port = rte_cpu_to_be_16(spec);
	udpm.hdr.dst_port = rte_cpu_to_be_16(mask);
	pattern[2].type = RTE_FLOW_ITEM_TYPE_UDP;
	pattern[2].spec = &udp;
	pattern[2].mask = &udpm;
	pattern[3].type = RTE_FLOW_ITEM_TYPE_END;
	actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
	actions[0].conf = &q;
	actions[1].type = RTE_FLOW_ACTION_TYPE_END;
	if (validate_only) {
		*rc = rte_flow_validate(pid, &attr, pattern, actions, &fe);
		return NULL;
	}
	f = rte_flow_create(pid, &attr, pattern, actions, &fe);
	*rc = f ? 0 : -rte_errno;
	return f;
}

/* Why rte_flow steering cannot work for this configuration, or NULL. */
static const char *flow_unsuitable(const struct tp_dpdkdp *dp)
{
	uint32_t range = (uint32_t)dp->conf.port_max - dp->conf.port_min + 1;
	unsigned n = dp->nworkers;

	if (dp->conf.flags & TP_DPDKDP_F_NO_FLOW)
		return "disabled";
	if (n < 2)
		return "one worker";
	if (n & (n - 1))
		return "the number of workers is not a power of two";
	if ((range & (range - 1)) || dp->conf.port_min % range || range < 2 * n)
		return "the relay port range is not an aligned power-of-two block";
	return NULL;
}

static void flows_install(struct tp_dpdkdp *dp, struct tp_dp_port *p)
{
	const struct tp_addr *relays[2] = { &dp->conf.relay4, &dp->conf.relay6 };
	uint32_t range = (uint32_t)dp->conf.port_max - dp->conf.port_min + 1;
	unsigned n = dp->nworkers;
	uint16_t mask = (uint16_t)((~(range - 1) & 0xffff) | ((n - 1) << 1));
	const char *why = flow_unsuitable(dp);
	bool any = false;
	int rc = 0;

	p->flow = false;
	if (why) {
		tp_log(TP_LOG_INFO, "port %s: relay ports steered by hand-off rings (rte_flow: %s)",
		       p->name, why);
		return;
	}
	for (unsigned r = 0; r < 2; r++) {
		if (!relays[r]->family || !tp_dp_port_has_ip(p, relays[r]->family, relays[r]->ip))
			continue;
		any = true;
		/* RIG §5: validate alone is not enough (net_tap validates, then fails to create).
		 */
		flow_rule(p->port_id, relays[r], dp->conf.port_min, mask, 0, true, &rc);
		if (rc < 0)
			goto unsupported;
		for (unsigned s = 0; s < n; s++) {
			struct rte_flow *f = flow_rule(p->port_id, relays[r],
						       (uint16_t)(dp->conf.port_min | (s << 1)),
						       mask, (uint16_t)s, false, &rc);
			if (!f)
				goto unsupported;
			p->flows[p->n_flows++] = f;
		}
	}
	if (any) {
		p->flow = true;
		tp_log(TP_LOG_INFO, "port %s: %u rte_flow rules steer relay ports to their workers",
		       p->name, p->n_flows);
	}
	return;
unsupported:
	flows_destroy(p);
	tp_log(TP_LOG_INFO, "port %s: relay ports steered by hand-off rings (rte_flow: %s)",
	       p->name, rte_strerror(-rc));
}

/* --- ports --- */

static void list_ports(char *buf, size_t cap)
{
	uint16_t pid;
	size_t n = 0;

	buf[0] = '\0';
	RTE_ETH_FOREACH_DEV(pid)
	{
		char name[RTE_ETH_NAME_MAX_LEN];

		if (rte_eth_dev_get_name_by_port(pid, name) == 0 && n < cap)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", name);
	}
}

static int port_start(struct tp_dpdkdp *dp, unsigned idx, char *err, size_t errlen)
{
	const struct tp_conf_dpdk_port *c = &dp->conf.ports[idx];
	struct tp_dp_port *p = &dp->ports[idx];
	struct rte_eth_conf pc;
	struct rte_eth_dev_info di;
	struct rte_eth_rxconf rxc;
	struct rte_eth_txconf txc;
	struct rte_eth_link link;
	struct rte_ether_addr mac;
	uint16_t nrxd = c->rx_desc ? c->rx_desc : 1024, ntxd = c->tx_desc ? c->tx_desc : 1024;
	unsigned want = c->queues > dp->nworkers ? c->queues : dp->nworkers;
	char link_text[RTE_ETH_LINK_MAX_STR_LEN];
	int rc;

	snprintf(p->name, sizeof(p->name), "%s", c->device);
	if (rte_eth_dev_get_port_by_name(c->device, &p->port_id) != 0) {
		char names[256];

		list_ports(names, sizeof(names));
		snprintf(err, errlen,
			 ".dataplane.dpdk.ports[%u].device: no DPDK port \"%s\" (the EAL has %s%s)",
			 idx, c->device, names[0] ? names : "no ports",
			 names[0] ? ""
				  : ": a failed --vdev probe or an unbound NIC still lets it "
				    "start");
		return -ENODEV;
	}
	if (dp->port_idx[p->port_id] != TP_DP_NO_PORT) {
		snprintf(err, errlen, ".dataplane.dpdk.ports[%u].device: \"%s\" is listed twice",
			 idx, c->device);
		return -EINVAL;
	}
	dp->port_idx[p->port_id] = (uint8_t)idx;
	if (c->n_addresses > TP_DP_MAX_ADDRS) {
		snprintf(err, errlen, ".dataplane.dpdk.ports[%u].addresses: at most %u", idx,
			 TP_DP_MAX_ADDRS);
		return -EINVAL;
	}
	memcpy(p->addr, c->addresses, c->n_addresses * sizeof(p->addr[0]));
	p->n_addr = (unsigned)c->n_addresses;
	p->gw4 = c->gateway4;
	p->gw6 = c->gateway6;
	p->mtu = c->mtu ? c->mtu : 1500;

	rc = rte_eth_dev_info_get(p->port_id, &di);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: cannot get device info: %s", p->name,
			 rte_strerror(-rc));
		return rc;
	}
	/* Every worker transmits on its own queue; RX queues beyond the workers are shared out. */
	if (want > di.max_rx_queues || want > di.max_tx_queues) {
		snprintf(err, errlen,
			 "port %s: %u queues needed (dataplane.workers %u, queues %u) but the "
			 "device has at most %u RX / %u TX",
			 p->name, want, dp->nworkers, c->queues, di.max_rx_queues,
			 di.max_tx_queues);
		return -EINVAL;
	}
	p->nb_q = (uint16_t)want;
	memset(&pc, 0, sizeof(pc));
	if (p->nb_q > 1) {
		/* RIG §1.6: ask only for hash functions the device offers. */
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & di.flow_type_rss_offloads;

		if (hf) {
			pc.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			pc.rx_adv_conf.rss_conf.rss_hf = hf;
		}
	}
	pc.rxmode.offloads =
		di.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	if (!dp->sw_cksum)
		pc.txmode.offloads = di.tx_offload_capa &
				     (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
	p->ol_ip4 = (pc.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	p->ol_udp = (pc.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
	rc = rte_eth_dev_configure(p->port_id, p->nb_q, p->nb_q, &pc);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: configure with %u queues: %s", p->name, p->nb_q,
			 rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrxd, &ntxd);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: descriptor counts: %s", p->name, rte_strerror(-rc));
		return rc;
	}
	p->socket = rte_eth_dev_socket_id(p->port_id);
	p->pool = pool_for(dp, p->socket >= 0 ? p->socket : (int)rte_socket_id(), err, errlen);
	if (!p->pool)
		return -ENOMEM;
	rxc = di.default_rxconf;
	rxc.offloads = pc.rxmode.offloads;
	txc = di.default_txconf;
	txc.offloads = pc.txmode.offloads;
	for (uint16_t q = 0; q < p->nb_q; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, nrxd, (unsigned)p->socket, &rxc,
					    p->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(p->port_id, q, ntxd, (unsigned)p->socket, &txc);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: queue %u setup: %s", p->name, q,
				 rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_set_mtu(p->port_id, p->mtu);
	if (rc != 0 && rc != -ENOTSUP)
		tp_log(TP_LOG_WARN, "port %s: cannot set MTU %u: %s", p->name, p->mtu,
		       rte_strerror(-rc));
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: start: %s", p->name, rte_strerror(-rc));
		return rc;
	}
	/* Neighbour solicitations go to solicited-node multicast MACs. */
	rte_eth_allmulticast_enable(p->port_id);
	rte_eth_macaddr_get(p->port_id, &mac);
	if (dp->conf.macs) {
		memcpy(mac.addr_bytes, dp->conf.macs[idx], TP_ETH_ALEN);
		rc = rte_eth_dev_default_mac_addr_set(p->port_id, &mac);
		if (rc != 0)
			tp_log(TP_LOG_DEBUG,
			       "port %s: cannot program its MAC address (%s): "
			       "sending from it all the same",
			       p->name, rte_strerror(-rc));
	}
	memcpy(p->mac, mac.addr_bytes, TP_ETH_ALEN);
	rte_eth_link_get_nowait(p->port_id, &link);
	rte_eth_link_to_str(link_text, sizeof(link_text), &link);
	tp_log(TP_LOG_INFO,
	       "port %s (id %u, NUMA socket %d): %02x:%02x:%02x:%02x:%02x:%02x, %u queue%s, "
	       "%u/%u descriptors, checksum offload ip4 %s udp %s, RSS %s, %s",
	       p->name, p->port_id, p->socket, p->mac[0], p->mac[1], p->mac[2], p->mac[3],
	       p->mac[4], p->mac[5], p->nb_q, p->nb_q == 1 ? "" : "s", nrxd, ntxd,
	       p->ol_ip4 ? "yes" : "no", p->ol_udp ? "yes" : "no",
	       pc.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? "on" : "off", link_text);
	flows_install(dp, p);
	return 0;
}

int tp_dp_ports_start(struct tp_dpdkdp *dp, char *err, size_t errlen)
{
	memset(dp->port_idx, TP_DP_NO_PORT, sizeof(dp->port_idx));
	if (dp->conf.n_ports == 0 || dp->conf.n_ports > TP_DP_MAX_PORTS) {
		snprintf(err, errlen, ".dataplane.dpdk.ports: 1 to %u ports", TP_DP_MAX_PORTS);
		return -EINVAL;
	}
	if (rte_eth_dev_count_avail() == 0) {
		snprintf(err, errlen,
			 "the DPDK EAL found no ports: check the --vdev arguments (a failed vdev "
			 "probe does not stop the EAL) or the NIC's binding (dpdk-devbind.py)");
		return -ENODEV;
	}
	for (unsigned i = 0; i < dp->conf.n_ports; i++) {
		int rc = port_start(dp, i, err, errlen);

		dp->n_ports = i + 1;
		if (rc < 0)
			return rc;
	}
	return 0;
}

void tp_dp_ports_stop(struct tp_dpdkdp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct tp_dp_port *p = &dp->ports[i];

		flows_destroy(p);
		if (dp->port_idx[p->port_id] == i)
			rte_eth_dev_stop(p->port_id);
	}
}
