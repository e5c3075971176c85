/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK back end: port 0, one queue pair, busy-polled, with just enough of a host to talk to
 * a relay on the same Ethernet segment: it answers ARP (RFC 826) for its two addresses (the
 * clients' and the peer sink's), resolves the server's and relayed addresses' MACs itself, and
 * builds Ethernet/IPv4/UDP frames with software checksums. Client i is (--dpdk-ip, base + i).
 * IPv4 only; no IP options, fragments or gateway.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "load.h"

#define LD_DPDK_MBUFS	  16383
#define LD_DPDK_DESC	  1024
#define LD_ARP_SLOTS	  16
#define LD_ARP_RETRY_MS	  100
#define LD_ARP_TIMEOUT_MS 5000
#define LD_LINK_WAIT_MS	  5000
#define LD_HDRS \
	(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))

struct ld_arp {
	uint32_t ip; /* network order; 0 = free slot */
	bool valid;
	struct rte_ether_addr mac;
	uint64_t last_req; /* tsc of the last request we sent */
};

struct ld_dpdk {
	struct ld_backend base; /* first: the rest of the program sees only this */
	uint16_t port;
	struct rte_mempool *mp;
	struct rte_ether_addr mac;
	uint32_t client_ip, peer_ip; /* network order */
	uint16_t peer_port, port_base;
	uint32_t n;
	uint16_t *port_of_ep; /* client endpoint -> its UDP port */
	uint32_t *ep_of_port; /* UDP port -> client endpoint, UINT32_MAX: none */
	uint32_t next_port;   /* the next port rebind hands out */
	uint64_t tsc_hz, tsc0, arp_retry_tsc;
	struct ld_arp arp[LD_ARP_SLOTS];
	unsigned last_hit;
	struct rte_mbuf *held[LD_BATCH_MAX]; /* received, handed out until the next receive */
	unsigned n_held;
	bool port_up;
};

static struct ld_dpdk *dpdk_of(struct ld_backend *b)
{
	return (struct ld_dpdk *)(void *)b;
}

static uint32_t ip4(const struct tp_addr *a)
{
	uint32_t v;

	memcpy(&v, a->ip, 4);
	return v;
}

static uint64_t dpdk_now(struct ld_backend *b)
{
	struct ld_dpdk *d = dpdk_of(b);
	uint64_t t = rte_rdtsc() - d->tsc0;

	return t / d->tsc_hz * 1000000000ull + t % d->tsc_hz * 1000000000ull / d->tsc_hz;
}

static struct ld_arp *arp_find(struct ld_dpdk *d, uint32_t ip)
{
	unsigned i;

	if (d->arp[d->last_hit].ip == ip)
		return &d->arp[d->last_hit];
	for (i = 0; i < LD_ARP_SLOTS; i++)
		if (d->arp[i].ip == ip) {
			d->last_hit = i;
			return &d->arp[i];
		}
	return NULL;
}

static struct ld_arp *arp_slot(struct ld_dpdk *d, uint32_t ip)
{
	struct ld_arp *e = arp_find(d, ip);
	unsigned i;

	if (e)
		return e;
	for (i = 0; i < LD_ARP_SLOTS; i++)
		if (!d->arp[i].ip) {
			d->arp[i].ip = ip;
			return &d->arp[i];
		}
	return NULL;
}

static void tx_one(struct ld_dpdk *d, struct rte_mbuf *m)
{
	if (rte_eth_tx_burst(d->port, 0, &m, 1) != 1)
		rte_pktmbuf_free(m);
}

/* Ask who has @p ip (at most every LD_ARP_RETRY_MS). */
static void arp_request(struct ld_dpdk *d, struct ld_arp *e)
{
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	uint64_t now = rte_rdtsc();

	if (e->last_req && now - e->last_req < d->arp_retry_tsc)
		return;
	e->last_req = now;
	m = rte_pktmbuf_alloc(d->mp);
	if (!m)
		return;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(void *)(eth + 1);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	eth->src_addr = d->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = d->mac;
	arp->arp_data.arp_sip = d->client_ip;
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = e->ip;
	m->data_len = m->pkt_len = sizeof(*eth) + sizeof(*arp);
	tx_one(d, m);
}

/* An ARP frame: learn the sender if we asked for it, answer requests for our addresses. */
static void arp_input(struct ld_dpdk *d, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(void *)(eth + 1);
	struct ld_arp *e;
	uint32_t sip, tip;

	if (m->data_len < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		rte_pktmbuf_free(m);
		return;
	}
	sip = arp->arp_data.arp_sip;
	tip = arp->arp_data.arp_tip;
	e = arp_find(d, sip);
	if (e) {
		e->mac = arp->arp_data.arp_sha;
		e->valid = true;
	}
	if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    (tip != d->client_ip && tip != d->peer_ip)) {
		rte_pktmbuf_free(m);
		return;
	}
	/* The asker will talk to us next: remember it too (RFC 826 "merge"). */
	e = arp_slot(d, sip);
	if (e) {
		e->mac = arp->arp_data.arp_sha;
		e->valid = true;
	}
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = sip;
	arp->arp_data.arp_sha = d->mac;
	arp->arp_data.arp_sip = tip;
	eth->dst_addr = eth->src_addr;
	eth->src_addr = d->mac;
	tx_one(d, m);
}

static unsigned dpdk_send(struct ld_backend *b, const struct ld_pkt *p, unsigned n)
{
	struct ld_dpdk *d = dpdk_of(b);
	struct rte_mbuf *m[LD_BATCH_MAX];
	unsigned k, ok = 0, tx;

	if (n > LD_BATCH_MAX)
		n = LD_BATCH_MAX;
	if (rte_pktmbuf_alloc_bulk(d->mp, m, n) != 0)
		return 0;
	for (k = 0; k < n; k++) {
		uint32_t dst = ip4(&p[k].addr);
		struct ld_arp *e = arp_find(d, dst);
		struct rte_ether_hdr *eth;
		struct rte_ipv4_hdr *ip;
		struct rte_udp_hdr *udp;
		uint16_t len = (uint16_t)p[k].len;

		if (!e || !e->valid) {
			/* Unknown neighbour (a relayed address not yet resolved): ask, drop. */
			e = e ? e : arp_slot(d, dst);
			if (e)
				arp_request(d, e);
			d->base.tx_no_neighbor++;
			rte_pktmbuf_free(m[k]);
			continue;
		}
		eth = rte_pktmbuf_mtod(m[k], struct rte_ether_hdr *);
		ip = (struct rte_ipv4_hdr *)(void *)(eth + 1);
		udp = (struct rte_udp_hdr *)(void *)(ip + 1);
		eth->dst_addr = e->mac;
		eth->src_addr = d->mac;
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = 0;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + len));
		ip->packet_id = 0;
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->hdr_checksum = 0;
		if (p[k].ep == LD_EP_PEER) {
			ip->src_addr = d->peer_ip;
			udp->src_port = rte_cpu_to_be_16(d->peer_port);
		} else {
			ip->src_addr = d->client_ip;
			udp->src_port = rte_cpu_to_be_16(d->port_of_ep[p[k].ep]);
		}
		ip->dst_addr = dst;
		udp->dst_port = rte_cpu_to_be_16(p[k].addr.port);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + len));
		udp->dgram_cksum = 0;
		rte_memcpy(udp + 1, p[k].data, len);
		m[k]->data_len = m[k]->pkt_len = (uint32_t)(LD_HDRS + len);
		m[k]->ol_flags = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
		m[ok++] = m[k];
	}
	tx = ok ? rte_eth_tx_burst(d->port, 0, m, (uint16_t)ok) : 0;
	if (tx < ok)
		rte_pktmbuf_free_bulk(m + tx, ok - tx);
	return tx;
}

static unsigned dpdk_recv(struct ld_backend *b, struct ld_pkt *p, unsigned n, uint64_t timeout)
{
	struct ld_dpdk *d = dpdk_of(b);
	struct rte_mbuf *m[LD_BATCH_MAX];
	unsigned nb, k, got = 0;

	(void)timeout; /* busy-poll */
	if (d->n_held) {
		rte_pktmbuf_free_bulk(d->held, d->n_held);
		d->n_held = 0;
	}
	if (n > LD_BATCH_MAX)
		n = LD_BATCH_MAX;
	nb = rte_eth_rx_burst(d->port, 0, m, (uint16_t)n);
	for (k = 0; k < nb; k++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m[k], struct rte_ether_hdr *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(void *)(eth + 1);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(void *)(ip + 1);
		uint16_t dport, ulen;
		uint32_t ep;

		if (k + 1 < nb)
			rte_prefetch0(rte_pktmbuf_mtod(m[k + 1], void *));
		if (m[k]->data_len < sizeof(*eth))
			goto foreign;
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
			arp_input(d, m[k]);
			continue;
		}
		if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
		    m[k]->data_len < LD_HDRS || ip->version_ihl != RTE_IPV4_VHL_DEF ||
		    ip->next_proto_id != IPPROTO_UDP ||
		    (ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
			goto foreign;
		ulen = rte_be_to_cpu_16(udp->dgram_len);
		if (ulen < sizeof(*udp) || sizeof(*eth) + sizeof(*ip) + ulen > m[k]->data_len ||
		    rte_be_to_cpu_16(ip->total_length) != sizeof(*ip) + ulen)
			goto foreign;
		dport = rte_be_to_cpu_16(udp->dst_port);
		if (ip->dst_addr == d->peer_ip && dport == d->peer_port)
			ep = LD_EP_PEER;
		else if (ip->dst_addr == d->client_ip && d->ep_of_port[dport] != UINT32_MAX)
			ep = d->ep_of_port[dport];
		else
			goto foreign;
		p[got].data = (uint8_t *)(udp + 1);
		p[got].len = ulen - (uint32_t)sizeof(*udp);
		p[got].ep = ep;
		memset(&p[got].addr, 0, sizeof(p[got].addr));
		p[got].addr.family = TP_AF_INET;
		p[got].addr.port = rte_be_to_cpu_16(udp->src_port);
		memcpy(p[got].addr.ip, &ip->src_addr, 4);
		got++;
		d->held[d->n_held++] = m[k];
		continue;
	foreign:
		d->base.rx_foreign++;
		rte_pktmbuf_free(m[k]);
	}
	return got;
}

static void dpdk_destroy(struct ld_backend *b)
{
	struct ld_dpdk *d = dpdk_of(b);

	if (d->n_held)
		rte_pktmbuf_free_bulk(d->held, d->n_held);
	if (d->port_up) {
		/*
		 * Leave only once the other side has gone quiet for 100 ms (at most 2 s): a memif
		 * peer that is still transmitting when the connection drops can fault inside the
		 * memif driver (DPDK 22.11) as it tears the shared rings down.
		 */
		uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc(), quiet = start;

		while (rte_rdtsc() - quiet < hz / 10 && rte_rdtsc() - start < 2 * hz) {
			struct rte_mbuf *m[LD_BATCH_MAX];
			uint16_t n = rte_eth_rx_burst(d->port, 0, m, LD_BATCH_MAX);

			if (n) {
				rte_pktmbuf_free_bulk(m, n);
				quiet = rte_rdtsc();
			}
		}
		rte_eth_dev_stop(d->port);
		rte_eth_dev_close(d->port);
	}
	rte_mempool_free(d->mp);
	rte_free(d->port_of_ep);
	rte_free(d->ep_of_port);
	/* d lives in EAL memory: free it before the EAL goes away. */
	rte_free(d);
	rte_eal_cleanup();
}

/* A new port for client @p ep: the next one after every port handed out so far. */
static int dpdk_rebind(struct ld_backend *b, uint32_t ep)
{
	struct ld_dpdk *d = dpdk_of(b);

	if (ep >= d->n || d->next_port > UINT16_MAX)
		return -1;
	d->ep_of_port[d->port_of_ep[ep]] = UINT32_MAX;
	d->port_of_ep[ep] = (uint16_t)d->next_port;
	d->ep_of_port[d->next_port++] = ep;
	return 0;
}

static const struct ld_backend_ops dpdk_ops = {
	.name = "dpdk",
	.send = dpdk_send,
	.recv = dpdk_recv,
	.now = dpdk_now,
	.rebind = dpdk_rebind,
	.destroy = dpdk_destroy,
};

bool ld_dpdk_available(void)
{
	return true;
}

static int port_init(struct ld_dpdk *d, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	uint16_t nrx = LD_DPDK_DESC, ntx = LD_DPDK_DESC;
	int rc, socket = rte_eth_dev_socket_id(d->port), waited;

	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_info_get(d->port, &info);
	if (rc < 0) {
		snprintf(err, errlen, "port 0: rte_eth_dev_info_get: %s", rte_strerror(-rc));
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	/* RSS must match what the device offers (memif: nothing): RIG.md §1.6. */
	conf.rx_adv_conf.rss_conf.rss_hf = 0 & info.flow_type_rss_offloads;
	rc = rte_eth_dev_configure(d->port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &nrx, &ntx);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(d->port, 0, nrx, (unsigned)socket, NULL, d->mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(d->port, 0, ntx, (unsigned)socket, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "port 0: configuration failed: %s", rte_strerror(-rc));
		return -1;
	}
	rc = rte_eth_dev_start(d->port);
	if (rc < 0) {
		snprintf(err, errlen,
			 "port 0: start failed: %s (memif client: is the server's socket there?)",
			 rte_strerror(-rc));
		return -1;
	}
	d->port_up = true;
	rte_eth_macaddr_get(d->port, &d->mac);
	for (waited = 0; waited < LD_LINK_WAIT_MS; waited += 10) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(d->port, &link) == 0 && link.link_status)
			return 0;
		rte_delay_ms(10);
	}
	snprintf(err, errlen, "port 0: link still down after %d ms (memif: is the relay running?)",
		 LD_LINK_WAIT_MS);
	return -1;
}

/* Resolve the server's MAC before anything else: the whole run depends on it. */
static int resolve_server(struct ld_dpdk *d, const struct tp_addr *server, char *err, size_t errlen)
{
	struct ld_arp *e = arp_slot(d, ip4(server));
	struct ld_pkt p[LD_BATCH_MAX];
	uint64_t end = rte_rdtsc() + d->tsc_hz / 1000 * LD_ARP_TIMEOUT_MS;
	char a[TP_ADDR_STRLEN];
	struct tp_addr ip = *server;

	while (e && !e->valid && rte_rdtsc() < end && !ld_stop) {
		arp_request(d, e);
		dpdk_recv(&d->base, p, LD_BATCH_MAX, 0);
	}
	if (e && e->valid)
		return 0;
	ip.port = 0;
	snprintf(err, errlen, "no ARP reply from the server %s within %d ms", ld_addr_str(&ip, a),
		 LD_ARP_TIMEOUT_MS);
	return -1;
}

struct ld_backend *ld_dpdk_create(const struct ld_conf *c, char *err, size_t errlen)
{
	static char *noargs[] = { (char *)"turnpike-load", NULL };
	struct ld_dpdk *d;
	int rc;

	rc = c->eal_argc ? rte_eal_init(c->eal_argc, c->eal_argv) : rte_eal_init(1, noargs);
	if (rc < 0) {
		snprintf(err, errlen, "EAL initialisation failed: %s", rte_strerror(rte_errno));
		return NULL;
	}
	/* A failed --vdev probe does not fail rte_eal_init() (RIG.md §1.2). */
	if (rte_eth_dev_count_avail() == 0) {
		snprintf(err, errlen,
			 "no DPDK port: the --vdev probe failed or none was given (memif: start "
			 "the relay first; check socket= and that no stale socket file is left)");
		rte_eal_cleanup();
		return NULL;
	}
	d = rte_zmalloc("turnpike-load", sizeof(*d), RTE_CACHE_LINE_SIZE);
	if (!d) {
		snprintf(err, errlen, "out of DPDK memory");
		rte_eal_cleanup();
		return NULL;
	}
	d->base.ops = &dpdk_ops;
	d->base.flow_burst = 1;
	d->base.peer = c->peer;
	d->port = 0;
	d->n = c->allocations;
	d->client_ip = ip4(&c->dpdk_ip);
	d->peer_ip = ip4(&c->peer);
	d->peer_port = c->peer.port;
	d->port_base = c->dpdk_port_base;
	d->port_of_ep = rte_malloc("ld_ports", d->n * sizeof(*d->port_of_ep), 0);
	d->ep_of_port = rte_malloc("ld_eps", 65536 * sizeof(*d->ep_of_port), 0);
	if (!d->port_of_ep || !d->ep_of_port || (uint32_t)d->port_base + d->n > 65536) {
		snprintf(err, errlen, "client ports %u..%u: out of memory or past 65535",
			 d->port_base, d->port_base + d->n - 1);
		goto fail;
	}
	for (uint32_t i = 0; i < 65536; i++)
		d->ep_of_port[i] = UINT32_MAX;
	for (uint32_t i = 0; i < d->n; i++) {
		d->port_of_ep[i] = (uint16_t)(d->port_base + i);
		d->ep_of_port[d->port_base + i] = i;
	}
	d->next_port = (uint32_t)d->port_base + d->n;
	d->tsc_hz = rte_get_tsc_hz();
	d->tsc0 = rte_rdtsc();
	d->arp_retry_tsc = d->tsc_hz / 1000 * LD_ARP_RETRY_MS;
	d->mp = rte_pktmbuf_pool_create("ld_mbufs", LD_DPDK_MBUFS, 256, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!d->mp) {
		snprintf(err, errlen, "mbuf pool: %s (give the EAL more memory: -m)",
			 rte_strerror(rte_errno));
		goto fail;
	}
	if (port_init(d, err, errlen) < 0 || resolve_server(d, &c->server, err, errlen) < 0)
		goto fail;
	return &d->base;
fail:
	dpdk_destroy(&d->base);
	return NULL;
}
