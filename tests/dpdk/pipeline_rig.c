/* SPDX-License-Identifier: BSD-3-Clause */
/* The rig of the DPDK pipeline tests (see pipeline_rig.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <turnpike/byteorder.h>
#include <turnpike/crypto.h>
#include <turnpike/log.h>
#include <turnpike/stun_build.h>

#include "pipeline_rig.h"

const uint8_t PMAC[6] = { 0x02, 0x70, 0x74, 0x00, 0x00, 0x02 };
const uint8_t CMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x50 };
const uint8_t GMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static char prefix[64];

/* --- addresses --- */

struct tp_addr addr(const char *s)
{
	struct tp_addr a;

	ck_assert_int_eq(tp_addr_parse(&a, s), 0);
	return a;
}

struct tp_cidr cidr(const char *s)
{
	struct tp_cidr c;
	struct tp_addr a;
	char ip[64];
	const char *slash = strchr(s, '/');

	/* keep the host bits: an interface address */
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
	ck_assert_int_eq(tp_addr_parse_ip(&a, ip), 0);
	c.addr = a;
	c.prefix = (uint8_t)atoi(slash + 1);
	return c;
}

/* --- the ring ports, shared by every case --- */

struct ringport P1, P2;
struct rte_mempool *test_pool;

static int ringport_create(struct ringport *rp, const char *name, unsigned nq)
{
	int id;

	rp->nq = nq;
	for (unsigned q = 0; q < nq; q++) {
		char rn[32];

		snprintf(rn, sizeof(rn), "%s_rx%u", name, q);
		rp->rx[q] = rte_ring_create(rn, 1024, (int)rte_socket_id(), 0);
		snprintf(rn, sizeof(rn), "%s_tx%u", name, q);
		rp->tx[q] = rte_ring_create(rn, 1024, (int)rte_socket_id(), 0);
		if (!rp->rx[q] || !rp->tx[q])
			return -1;
	}
	id = rte_eth_from_rings(name, rp->rx, nq, rp->tx, nq, rte_socket_id());
	if (id < 0)
		return -1;
	rp->id = (uint16_t)id;
	snprintf(rp->name, sizeof(rp->name), "net_ring_%s", name);
	return 0;
}

/* --- one case's plane --- */

struct rig R;

void rig_params(bool auth)
{
	struct tp_engine_params *p = &R.p;

	memset(p, 0, sizeof(*p));
	R.users[0].name = USER;
	R.users[0].password = PASSWORD;
	R.own[0] = addr("10.99.0.2");
	R.own[1] = addr("fd00:99::2");
	p->realm = REALM;
	p->relay4 = R.own[0];
	p->relay6 = R.own[1];
	p->port_min = PORT_MIN;
	p->port_max = PORT_MAX;
	p->users = R.users;
	p->n_users = 1;
	p->auth_required = auth;
	p->nonce_lifetime = 600;
	p->allocations_per_user = 10;
	p->allocations_total = 100;
	p->permissions_per_allocation = 16;
	p->channels_per_allocation = 16;
	p->default_lifetime = 600;
	p->max_lifetime = 3600;
	p->permission_lifetime = 300;
	p->channel_lifetime = 600;
	p->own = R.own;
	p->n_own = 2;
}

void rig_start_flags(unsigned workers, bool auth, unsigned flags)
{
	static const uint8_t secret[32] = { 1, 2, 3 };
	struct tp_dpdkdp_conf c;
	char err[256] = "";

	memset(&R, 0, sizeof(R));
	R.workers = workers;
	R.rp = workers == 2 ? &P2 : &P1;
	rig_params(auth);
	R.pol = tp_engine_policy_create(&R.p, err, sizeof(err));
	ck_assert_msg(R.pol != NULL, "policy: %s", err);
	R.sh = tp_engine_shared_create(workers, secret);
	ck_assert_ptr_nonnull(R.sh);
	R.addrs[0] = cidr("10.99.0.2/24");
	R.addrs[1] = cidr("fd00:99::2/64");
	R.port.device = R.rp->name;
	R.port.addresses = R.addrs;
	R.port.n_addresses = 2;
	R.port.gateway4 = addr("10.99.0.1");
	R.port.gateway6 = addr("fd00:99::1");
	R.port.mtu = 1500;
	R.port.queues = (uint16_t)workers;
	R.port.rx_desc = 256;
	R.port.tx_desc = 256;
	R.listen[0] = addr("10.99.0.2:3478");
	R.listen[1] = addr("[fd00:99::2]:3478");
	memset(&c, 0, sizeof(c));
	c.ports = &R.port;
	c.n_ports = 1;
	c.macs = &PMAC; /* net_ring's own is 00:00:00:00:00:00; the golden frames carry PMAC */
	c.listen = R.listen;
	c.n_listen = 2;
	c.relay4 = R.own[0];
	c.relay6 = R.own[1];
	c.port_min = PORT_MIN;
	c.port_max = PORT_MAX;
	c.workers = workers;
	c.max_allocations = 100;
	c.mbufs = 2048;
	c.burst = 32;
	c.flags = TP_DPDKDP_F_MANUAL | flags;
	R.dp = tp_dpdkdp_start(&c, R.sh, R.pol, err, sizeof(err));
	ck_assert_msg(R.dp != NULL, "start: %s", err);
	R.up = true;
}

void rig_start(unsigned workers, bool auth)
{
	rig_start_flags(workers, auth, TP_DPDKDP_F_NO_FLOW);
}

static void drain_tx(void)
{
	void *m;

	for (unsigned q = 0; q < 2; q++)
		if (R.rp && R.rp->tx[q])
			while (rte_ring_dequeue(R.rp->tx[q], &m) == 0)
				rte_pktmbuf_free(m);
}

void rig_stop(void)
{
	void *m;

	if (!R.up)
		return;
	R.up = false;
	tp_dpdkdp_stop(R.dp);
	drain_tx();
	for (unsigned q = 0; q < R.rp->nq; q++)
		while (rte_ring_dequeue(R.rp->rx[q], &m) == 0)
			rte_pktmbuf_free(m);
	tp_engine_policy_destroy(R.pol);
	tp_engine_policy_destroy(R.old_pol);
	tp_engine_shared_destroy(R.sh);
}

/* --- frames in and out --- */

void inject(unsigned q, const uint8_t *b, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
	char *d;

	ck_assert_ptr_nonnull(m);
	d = rte_pktmbuf_append(m, (uint16_t)len);
	ck_assert_ptr_nonnull(d);
	memcpy(d, b, len);
	ck_assert_int_eq(rte_ring_enqueue(R.rp->rx[q], m), 0);
}

void poll_worker(unsigned w)
{
	tp_dpdkdp_poll_once(R.dp, w);
}

/* Every worker, twice: hand-offs and neighbour updates reach their worker. */
void poll_all(void)
{
	for (unsigned round = 0; round < 2; round++)
		for (unsigned w = 0; w < R.workers; w++)
			poll_worker(w);
}

bool take(unsigned q, struct out *o)
{
	struct rte_mbuf *m;

	if (rte_ring_dequeue(R.rp->tx[q], (void **)&m) != 0)
		return false;
	ck_assert_uint_eq(m->nb_segs, 1);
	ck_assert_uint_eq(m->pkt_len, m->data_len);
	ck_assert_uint_le(m->data_len, sizeof(o->b));
	o->len = m->data_len;
	memcpy(o->b, rte_pktmbuf_mtod(m, void *), o->len);
	o->ol_flags = m->ol_flags;
	o->l2_len = m->l2_len;
	o->l3_len = m->l3_len;
	rte_pktmbuf_free(m);
	return true;
}

void must_take(unsigned q, struct out *o)
{
	ck_assert_msg(take(q, o), "no frame on TX queue %u", q);
}

void expect_nothing(void)
{
	for (unsigned q = 0; q < R.rp->nq; q++)
		ck_assert_uint_eq(rte_ring_count(R.rp->tx[q]), 0);
}

struct tp_dpdkdp_counters counters(int w)
{
	struct tp_dpdkdp_counters c;

	tp_dpdkdp_counters(R.dp, w, &c);
	return c;
}

struct tp_stats engine_stats(void)
{
	struct tp_stats s;

	tp_dpdkdp_stats(R.dp, &s);
	return s;
}

void assert_frame_eq(const struct out *o, const uint8_t *exp, size_t len)
{
	if (o->len == len && memcmp(o->b, exp, len) == 0)
		return;
	for (size_t i = 0; i < len && i < o->len; i++)
		if (o->b[i] != exp[i]) {
			ck_abort_msg("frame differs at byte %zu: got %02x, want %02x (len %zu/%zu)",
				     i, o->b[i], exp[i], o->len, len);
		}
	ck_abort_msg("frame length %zu, want %zu", o->len, len);
}

/* Complete what a NIC would: the checksums the frame asked the port to fill in. */
void complete_offload(struct out *o)
{
	uint8_t *ip = o->b + o->l2_len;

	if (o->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

		ck_assert_uint_eq(h->hdr_checksum, 0);
		h->hdr_checksum = rte_ipv4_cksum(h);
	}
	if ((o->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM) {
		uint8_t *udp = ip + o->l3_len;
		size_t ulen = tp_get_be16(udp + 4);
		uint16_t ph, ck;

		/* The field holds the pseudo-header sum, as rte_ipv4/6_phdr_cksum() make it. */
		if (o->ol_flags & RTE_MBUF_F_TX_IPV4)
			ph = rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)ip, 0);
		else
			ph = rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)ip, 0);
		ck_assert(memcmp(udp + 6, &ph, 2) == 0);
		ck = (uint16_t)~rte_raw_cksum(udp, ulen);
		if (ck == 0)
			ck = 0xffff;
		memcpy(udp + 6, &ck, 2);
	}
}

/* Parse a UDP frame and verify both checksums with DPDK's verifiers. */
void parse_udp(const struct out *o, struct tp_frame *f)
{
	ck_assert_int_eq(tp_frame_parse(f, o->b, o->len), TP_FRAME_UDP); /* IPv4 header sum too */
	ck_assert_uint_ne(f->udp_cksum, 0);
	if (f->family == TP_AF_INET)
		ck_assert_int_eq(
			rte_ipv4_udptcp_cksum_verify(
				(const struct rte_ipv4_hdr *)(o->b + f->l3_off), o->b + f->l4_off),
			0);
	else
		ck_assert_int_eq(
			rte_ipv6_udptcp_cksum_verify(
				(const struct rte_ipv6_hdr *)(o->b + f->l3_off), o->b + f->l4_off),
			0);
	ck_assert_uint_eq(f->ttl, 64);
}

/* An Ethernet/IP/UDP frame around @pay; checksum computed unless @zero_cksum (IPv4). */
size_t mk_udp(uint8_t *b, const uint8_t *smac, const struct tp_addr *src, const struct tp_addr *dst,
	      const void *pay, size_t len, bool zero_cksum)
{
	struct tp_l2 l2;
	size_t h;

	memcpy(l2.dst, PMAC, 6);
	memcpy(l2.src, smac, 6);
	l2.tagged = false;
	l2.tci = 0;
	h = tp_udp_hdr_write(b, &l2, src, dst, len, false, 0x4242);
	memcpy(b + h, pay, len);
	if (!zero_cksum)
		tp_put_be16(b + h - 2, tp_udp_cksum(src, dst, b + h - 8, len + 8));
	return h + len;
}

/* --- neighbours: the gateway and the client announce themselves --- */

void prime_neighbours(void)
{
	static const char *const v4[] = { "10.99.0.1", "10.99.0.50" };
	static const char *const v6[] = { "fd00:99::1", "fd00:99::50" };
	const uint8_t *macs[] = { GMAC, CMAC };
	struct tp_addr us6 = addr("fd00:99::2");
	uint8_t b[128];
	struct out o;

	for (unsigned i = 0; i < 2; i++) {
		struct tp_l2 l2;
		struct tp_addr a4 = addr(v4[i]), a6 = addr(v6[i]);
		uint8_t us4[4] = { 10, 99, 0, 2 };
		size_t n;

		memset(&l2, 0, sizeof(l2));
		memcpy(l2.src, macs[i], 6);
		n = tp_arp_request(b, sizeof(b), &l2, a4.ip, us4);
		inject(0, b, n);
		n = tp_ndp_ns(b, sizeof(b), &l2, a6.ip, us6.ip);
		inject(0, b, n);
	}
	poll_all();
	for (unsigned i = 0; i < 4; i++)
		must_take(0, &o); /* two ARP replies, two advertisements */
	expect_nothing();
}

/* --- a small TURN client --- */

size_t build_req(uint8_t *buf, size_t cap, const struct req *rq)
{
	struct tp_stun_builder b;
	uint8_t tid[TP_STUN_TID_LEN] = { 0x74, 0x70 };
	int n;

	R.tid++;
	tp_put_be32(tid + 8, R.tid);
	tp_stun_build_init(&b, buf, cap, rq->method, rq->cls, tid);
	if (rq->transport)
		tp_stun_add_transport(&b, TP_STUN_TRANSPORT_UDP);
	if (rq->family)
		tp_stun_add_family(&b, TP_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, rq->family);
	if (rq->dont_fragment)
		tp_stun_add(&b, TP_STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	if (rq->peer) {
		struct tp_addr pa = addr(rq->peer);

		tp_stun_add_addr(&b, TP_STUN_ATTR_XOR_PEER_ADDRESS, &pa);
	}
	if (rq->channel)
		tp_stun_add_channel(&b, rq->channel);
	if (rq->data)
		tp_stun_add(&b, TP_STUN_ATTR_DATA, rq->data, rq->data_len);
	if (rq->auth) {
		uint8_t key[TP_DIGEST_MAX];
		struct tp_hmac_key k;
		int kl = tp_stun_long_term_key(TP_STUN_PWALG_MD5, USER, strlen(USER), REALM,
					       strlen(REALM), PASSWORD, strlen(PASSWORD), key);

		ck_assert_int_gt(kl, 0);
		tp_stun_add_string(&b, TP_STUN_ATTR_USERNAME, USER, strlen(USER));
		tp_stun_add_string(&b, TP_STUN_ATTR_REALM, REALM, strlen(REALM));
		tp_stun_add_string(&b, TP_STUN_ATTR_NONCE, rq->nonce, strlen(rq->nonce));
		tp_hmac_key_init(&k, TP_DIGEST_SHA1, key, (size_t)kl);
		tp_stun_add_integrity(&b, &k);
	}
	n = tp_stun_build_finish(&b);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

/* What a STUN response frame carried. */

/* Send @rq from @cli to @srv on RX queue @q; the response is expected on TX queue @q. */
void transact(unsigned q, const char *cli, const char *srv, const struct req *rq, struct resp *r)
{
	uint8_t msg[1500], frame[1600];
	struct tp_addr c = addr(cli), s = addr(srv);
	size_t n = build_req(msg, sizeof(msg), rq);

	inject(q, frame, mk_udp(frame, CMAC, &c, &s, msg, n, false));
	poll_all();
	must_take(q, &r->o);
	parse_udp(&r->o, &r->f);
	/* back to the client, from the address it asked */
	ck_assert(memcmp(r->o.b, CMAC, 6) == 0);
	ck_assert(memcmp(r->o.b + 6, PMAC, 6) == 0);
	ck_assert(tp_addr_eq(&r->f.src, &s));
	ck_assert(tp_addr_eq(&r->f.dst, &c));
	ck_assert_uint_le(r->f.pay_len, sizeof(r->stun));
	memcpy(r->stun, r->o.b + r->f.pay_off, r->f.pay_len);
	ck_assert_int_eq(tp_stun_parse(&r->m, r->stun, r->f.pay_len), 0);
	ck_assert_uint_eq(r->m.method, rq->method);
}

void expect_success(const struct resp *r)
{
	int code = 0;

	if (r->m.cls == TP_STUN_ERROR)
		tp_stun_get_error(&r->m, &code, NULL, NULL);
	ck_assert_msg(r->m.cls == TP_STUN_SUCCESS, "error response %d", code);
}

/* Allocate from @cli (no credentials); returns the relayed address. */
struct tp_addr allocate(unsigned q, const char *cli, const char *srv, uint8_t family)
{
	struct req rq = { .method = TP_STUN_ALLOCATE, .transport = true, .family = family };
	struct resp r;
	struct tp_addr relay;
	uint32_t lifetime;

	transact(q, cli, srv, &rq, &r);
	expect_success(&r);
	ck_assert_int_eq(tp_stun_get_addr(&r.m, TP_STUN_ATTR_XOR_RELAYED_ADDRESS, &relay), 0);
	ck_assert_int_eq(tp_stun_get_u32(&r.m, TP_STUN_ATTR_LIFETIME, &lifetime), 0);
	ck_assert_uint_eq(lifetime, 600);
	ck_assert_uint_ge(relay.port, PORT_MIN);
	return relay;
}

void permit(unsigned q, const char *cli, const char *srv, const char *peer)
{
	struct req rq = { .method = TP_STUN_CREATE_PERMISSION, .peer = peer };
	struct resp r;

	transact(q, cli, srv, &rq, &r);
	expect_success(&r);
}

void bind_channel(unsigned q, const char *cli, const char *srv, const char *peer)
{
	struct req rq = { .method = TP_STUN_CHANNEL_BIND, .peer = peer, .channel = CHANNEL };
	struct resp r;

	transact(q, cli, srv, &rq, &r);
	expect_success(&r);
}

void rig_teardown(void)
{
	rig_stop();
}

/* --- process set-up --- */

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

int rig_eal_init(void)
{
	char prefix_arg[96], err[256];
	const char *eal[] = {
		"-l",  "0",	      "--no-pci",	"--no-huge", "-m",
		"256", "--no-shconf", "--no-telemetry", prefix_arg,  "--log-level=lib.eal:error"
	};

	tp_log_set_level(TP_LOG_WARN); /* start-up and allocation lines for every case: no */
	snprintf(prefix, sizeof(prefix), "tpgold%ld", (long)getpid());
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", prefix);
	atexit(remove_runtime_dir); /* also when Check exits early */
	if (tp_dpdkdp_eal_init(eal, N(eal), err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	test_pool = rte_pktmbuf_pool_create("tpg_pool", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    (int)rte_socket_id());
	if (!test_pool || ringport_create(&P1, "g1", 1) != 0 ||
	    ringport_create(&P2, "g2", 2) != 0) {
		fprintf(stderr, "cannot create the ring ports\n");
		tp_dpdkdp_eal_fini();
		return -1;
	}
	return 0;
}

void rig_eal_fini(void)
{
	tp_dpdkdp_eal_fini();
	remove_runtime_dir();
}
