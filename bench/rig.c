/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <turnpike/byteorder.h>
#include <turnpike/log.h>

#include "bench_common.h"
#include "pkt.h"
#include "rig.h"

struct brig B;
const uint8_t BR_PMAC[6] = { 0x02, 0x70, 0x74, 0x00, 0x00, 0x02 };
const uint8_t BR_GMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static char prefix[64];
static struct tp_engine_user user = { BC_USER, BC_PASSWORD };
static struct tp_conf_dpdk_port port;
static struct tp_cidr port_addr;

static void remove_runtime_dir(void)
{
	char path[128];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/var/run/dpdk/%s", prefix);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char f[512];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		unlink(f);
	}
	closedir(d);
	rmdir(path);
}

int brig_eal_init(void)
{
	char prefix_arg[96], core[16], err[256];
	const char *eal[] = {
		"-l",  core,	      "--no-pci",	"--no-huge", "-m",
		"256", "--no-shconf", "--no-telemetry", prefix_arg,  "--log-level=lib.eal:error"
	};
	cpu_set_t set;
	int cpu = 0, id;

	/* The EAL pins the main thread to -l: keep the CPU taskset gave us. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;
	snprintf(core, sizeof(core), "%d", cpu < CPU_SETSIZE ? cpu : 0);
	tp_log_set_level(TP_LOG_WARN);
	snprintf(prefix, sizeof(prefix), "tpbench%ld", (long)getpid());
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", prefix);
	atexit(remove_runtime_dir);
	if (tp_dpdkdp_eal_init(eal, BC_N(eal), err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	B.tsc_hz = rte_get_tsc_hz();
	B.pool = rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	B.rx = rte_ring_create("bench_rx", 1024, (int)rte_socket_id(), 0);
	B.tx = rte_ring_create("bench_tx", 1024, (int)rte_socket_id(), 0);
	if (!B.pool || !B.rx || !B.tx)
		goto fail;
	id = rte_eth_from_rings("bench0", &B.rx, 1, &B.tx, 1, rte_socket_id());
	if (id < 0)
		goto fail;
	B.port_id = (uint16_t)id;
	return 0;
fail:
	fprintf(stderr, "cannot create the mbuf pool or the ring port\n");
	tp_dpdkdp_eal_fini();
	return -1;
}

void brig_eal_fini(void)
{
	tp_dpdkdp_eal_fini();
	remove_runtime_dir();
}

int brig_start(uint32_t max_allocs)
{
	static const uint8_t secret[32] = { 9, 8, 7 };
	struct tp_engine_params p;
	struct tp_dpdkdp_conf c;
	char err[256] = "";

	tp_addr_parse(&B.srv, "10.99.0.2:3478");
	tp_addr_parse_ip(&B.relay, "10.99.0.2");
	bc_params(&p, &B.relay, &user, true);
	B.pol = tp_engine_policy_create(&p, err, sizeof(err));
	B.sh = tp_engine_shared_create(1, secret);
	if (!B.pol || !B.sh) {
		fprintf(stderr, "policy: %s\n", err);
		return -1;
	}
	port_addr.addr = B.relay;
	port_addr.prefix = 24;
	memset(&port, 0, sizeof(port));
	port.device = "net_ring_bench0";
	port.addresses = &port_addr;
	port.n_addresses = 1;
	tp_addr_parse_ip(&port.gateway4, "10.99.0.1");
	port.mtu = 1500;
	port.queues = 1;
	port.rx_desc = 1024;
	port.tx_desc = 1024;
	memset(&c, 0, sizeof(c));
	c.ports = &port;
	c.n_ports = 1;
	c.macs = &BR_PMAC;
	c.listen = &B.srv;
	c.n_listen = 1;
	c.relay4 = B.relay;
	c.port_min = BC_PORT_MIN;
	c.port_max = BC_PORT_MAX;
	c.workers = 1;
	c.max_allocations = max_allocs;
	c.mbufs = 4096;
	c.burst = 32;
	c.flags = TP_DPDKDP_F_MANUAL | TP_DPDKDP_F_NO_FLOW;
	B.dp = tp_dpdkdp_start(&c, B.sh, B.pol, err, sizeof(err));
	if (!B.dp) {
		fprintf(stderr, "start: %s\n", err);
		return -1;
	}
	return 0;
}

void brig_stop(void)
{
	struct rte_mbuf *m[64];
	unsigned n;

	tp_dpdkdp_stop(B.dp);
	while ((n = brig_take(m, 64)) > 0)
		brig_free(m, n);
	while ((n = rte_ring_dequeue_burst(B.rx, (void **)m, 64, NULL)) > 0)
		brig_free(m, n);
	tp_engine_policy_destroy(B.pol);
	tp_engine_shared_destroy(B.sh);
}

size_t brig_frame(uint8_t *b, const struct tp_addr *src, const struct tp_addr *dst, const void *pay,
		  size_t len)
{
	struct tp_l2 l2;
	size_t h;

	memcpy(l2.dst, BR_PMAC, 6);
	memcpy(l2.src, BR_GMAC, 6);
	l2.tagged = false;
	l2.tci = 0;
	h = tp_udp_hdr_write(b, &l2, src, dst, len, false, 0x4242);
	memcpy(b + h, pay, len);
	tp_put_be16(b + h - 2, tp_udp_cksum(src, dst, b + h - 8, len + 8));
	return h + len;
}

struct rte_mbuf *brig_mbuf(const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(B.pool);
	char *d;

	if (!m || !(d = rte_pktmbuf_append(m, (uint16_t)len))) {
		fprintf(stderr, "out of mbufs\n");
		exit(1);
	}
	memcpy(d, frame, len);
	return m;
}

void brig_inject(struct rte_mbuf **m, unsigned n)
{
	if (rte_ring_enqueue_bulk(B.rx, (void **)m, n, NULL) != n) {
		fprintf(stderr, "RX ring full\n");
		exit(1);
	}
}

unsigned brig_take(struct rte_mbuf **m, unsigned cap)
{
	return rte_ring_dequeue_burst(B.tx, (void **)m, cap, NULL);
}

void brig_free(struct rte_mbuf **m, unsigned n)
{
	rte_pktmbuf_free_bulk(m, n);
}

const uint8_t *brig_udp_payload(struct rte_mbuf *m, size_t *len, struct tp_addr *dst)
{
	struct tp_frame f;
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);

	if (tp_frame_parse(&f, b, m->data_len) != TP_FRAME_UDP)
		return NULL;
	*len = f.pay_len;
	*dst = f.dst;
	return b + f.pay_off;
}

void brig_prime(void)
{
	struct tp_l2 l2;
	uint8_t b[128];
	uint8_t gw[4] = { 10, 99, 0, 1 }, us[4] = { 10, 99, 0, 2 };
	struct rte_mbuf *m;
	size_t n;

	memset(&l2, 0, sizeof(l2));
	memcpy(l2.src, BR_GMAC, 6);
	n = tp_arp_request(b, sizeof(b), &l2, gw, us);
	m = brig_mbuf(b, n);
	brig_inject(&m, 1);
	tp_dpdkdp_poll_once(B.dp, 0);
	tp_dpdkdp_poll_once(B.dp, 0);
	while (brig_take(&m, 1))
		brig_free(&m, 1); /* the ARP reply */
}
