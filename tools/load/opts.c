/* SPDX-License-Identifier: BSD-3-Clause */
/* turnpike-load's command line: one table of options, a parser, and --help. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

static const char usage[] =
	"usage: turnpike-load --server ADDR:PORT (--user U --password P | --rest-secret S)\n"
	"                     [options] [-- EAL arguments]\n"
	"\n"
	"A TURN (RFC 8656) load generator. It creates N allocations on a TURN server over UDP,\n"
	"each from its own client address and port, installs a permission (and a channel) for a\n"
	"peer sink it runs itself, then relays timestamped datagrams client->peer, peer->client\n"
	"or both, and reports throughput, loss, reordering and one-way latency.\n"
	"\n"
	"Server and credentials:\n"
	"  --server ADDR:PORT      TURN server UDP address (IPv4, or [IPv6]:port); required\n"
	"  --user U --password P   long-term credentials (RFC 8489 §9.2)\n"
	"  --rest-secret S         TURN REST credentials: username \"expiry:NAME\", password\n"
	"                          base64(HMAC-SHA1(S, username))\n"
	"  --rest-user NAME        NAME part of the REST username (default load)\n"
	"  --rest-ttl SECS         REST username validity from now (default 86400)\n"
	"\n"
	"Allocations:\n"
	"  --allocations N         allocations, one client 5-tuple each (default 10)\n"
	"  --window N              setup/refresh transactions in flight (default 64)\n"
	"  --setup-timeout SECS    give up on setup after this long (default 30)\n"
	"  --refresh SECS          refresh allocations, permissions and channels every SECS\n"
	"                          (default 120; at most half the granted LIFETIME, at most 150\n"
	"                          so permissions never lapse)\n"
	"  --keep                  leave the allocations in place at the end instead of\n"
	"                          releasing them (the server expires them; a later run from\n"
	"                          the same addresses meets 437 and moves to new ports)\n"
	"\n"
	"Traffic:\n"
	"  --mode channel|send     ChannelData (default) or Send/Data indications\n"
	"  --direction c2p|p2c|both  client->peer, peer->client, or both (default both)\n"
	"  --rate PPS              packets/s offered in total, over all allocations and\n"
	"                          directions; 0 = as fast as possible (default 10000)\n"
	"  --payload BYTES         application payload per datagram, 24..1400 (default 100)\n"
	"  --duration SECS         measured traffic time (default 10)\n"
	"  --warmup SECS           traffic before the measurement, not counted (default 1)\n"
	"  --drain SECS            wait for stragglers after sending stops (default 0.5)\n"
	"  --steps F1,F2,...       after the first measurement, measure again at F1, F2, ...\n"
	"                          times its rate (with --rate 0: times the rate it relayed),\n"
	"                          on the same allocations; one summary line per measurement\n"
	"                          (\"step\": 0, 1, ...). E.g. --rate 0 --steps 0.5,0.8,1.0\n"
	"  --progress SECS         progress line to stderr every SECS; 0 = none (default 1)\n"
	"  --burst N               datagrams per send batch, 1..64 (default 32)\n"
	"  --flow-burst N          consecutive datagrams per allocation before moving to the\n"
	"                          next, 1..64 (default: sockets 16, dpdk 1)\n"
	"\n"
	"Addresses:\n"
	"  --peer ADDR:PORT        the peer sink (sockets: bound locally, default loopback of\n"
	"                          the server's family, ephemeral port; dpdk: required, an\n"
	"                          address on the --dpdk-ip subnet that the generator owns)\n"
	"  --client-ip IP          local address of the client sockets (default: loopback of\n"
	"                          the server's family); ports are ephemeral\n"
	"\n"
	"Back ends:\n"
	"  --backend sockets|dpdk  sockets (default): one kernel UDP socket per client, epoll +\n"
	"                          recvmmsg, sendmmsg; works against any TURN server.\n"
	"                          dpdk: DPDK port 0, busy-polled, with the generator's own\n"
	"                          ARP/IPv4/UDP; EAL arguments after \"--\"; IPv4 only.\n"
	"  --dpdk-ip CIDR          dpdk: the clients' address and subnet, e.g. 10.77.0.10/24\n"
	"  --dpdk-port-base PORT   dpdk: client i uses UDP port PORT+i (default 20000)\n"
	"\n"
	"  -h, --help              this text\n"
	"\n"
	"Payloads carry a magic, the allocation's flow id, a 64-bit sequence number and a 64-bit\n"
	"send time; the receiver checks them. Loss counts datagrams sent during the measurement\n"
	"that did not arrive by the end of the drain wait. Latency is one-way (the same clock\n"
	"stamps and reads), from a log-linear histogram (about 3% resolution).\n"
	"\n"
	"Output: a progress line per --progress interval on stderr; a human summary, then as the\n"
	"LAST line of stdout one JSON object with at least these keys:\n"
	"  backend server allocations payload mode direction target_pps duration_s setup_s\n"
	"  allocs_per_s sent received offered_pps relayed_pps loss_pct reordered duplicates\n"
	"  lat_p50_us lat_p99_us lat_p999_us errors\n"
	"(plus c2p_* and p2c_* per direction, tx_failed, bad_packets, ctl_errors, refreshes,\n"
	"retransmits, lat_max_us). sent/received count both directions.\n"
	"\n"
	"Exit status: 0 after a completed run (even with loss), 1 when setup fails (the message\n"
	"names the STUN error code and reason), 2 for a bad command line.\n"
	"\n"
	"Examples:\n"
	"  turnpike-load --server 127.0.0.1:3478 --user demo --password demo \\\n"
	"      --allocations 100 --rate 50000 --duration 5\n"
	"  taskset -c 0 turnpike-load --server 127.0.0.1:3478 --rest-secret s3cret \\\n"
	"      --allocations 1000 --rate 0 --mode send --direction c2p\n"
	"  turnpike-load --backend dpdk --server 10.77.0.1:3478 --user demo --password demo \\\n"
	"      --dpdk-ip 10.77.0.10/24 --peer 10.77.0.20:9000 --rate 0 -- \\\n"
	"      -l 0 --no-pci --no-huge -m 512 --no-shconf --file-prefix=gen \\\n"
	"      --vdev=net_memif0,role=client,socket=/tmp/x/memif.sock,socket-abstract=no\n"
	"\n"
	"Against turnpike, raise limits.allocations_per_user and limits.unauth_rate in its\n"
	"configuration to at least --allocations, and allow the peer (peers.allow or\n"
	"peers.allow_loopback). See docs/load.md.\n";

enum opt_id {
	O_SERVER,
	O_USER,
	O_PASSWORD,
	O_REST_SECRET,
	O_REST_USER,
	O_REST_TTL,
	O_ALLOCATIONS,
	O_WINDOW,
	O_SETUP_TIMEOUT,
	O_REFRESH,
	O_MODE,
	O_DIRECTION,
	O_RATE,
	O_PAYLOAD,
	O_DURATION,
	O_WARMUP,
	O_DRAIN,
	O_STEPS,
	O_PROGRESS,
	O_BURST,
	O_FLOW_BURST,
	O_PEER,
	O_CLIENT_IP,
	O_BACKEND,
	O_DPDK_IP,
	O_DPDK_PORT_BASE,
	O_KEEP,
	O_HELP,
};

/* Every option takes a value except --help. */
static const struct opt {
	const char *name;
	enum opt_id id;
} opts[] = {
	{ "--server", O_SERVER },
	{ "--user", O_USER },
	{ "--password", O_PASSWORD },
	{ "--rest-secret", O_REST_SECRET },
	{ "--rest-user", O_REST_USER },
	{ "--rest-ttl", O_REST_TTL },
	{ "--allocations", O_ALLOCATIONS },
	{ "--window", O_WINDOW },
	{ "--setup-timeout", O_SETUP_TIMEOUT },
	{ "--refresh", O_REFRESH },
	{ "--mode", O_MODE },
	{ "--direction", O_DIRECTION },
	{ "--rate", O_RATE },
	{ "--payload", O_PAYLOAD },
	{ "--duration", O_DURATION },
	{ "--warmup", O_WARMUP },
	{ "--drain", O_DRAIN },
	{ "--steps", O_STEPS },
	{ "--progress", O_PROGRESS },
	{ "--burst", O_BURST },
	{ "--flow-burst", O_FLOW_BURST },
	{ "--peer", O_PEER },
	{ "--client-ip", O_CLIENT_IP },
	{ "--backend", O_BACKEND },
	{ "--dpdk-ip", O_DPDK_IP },
	{ "--dpdk-port-base", O_DPDK_PORT_BASE },
	{ "--keep", O_KEEP },
	{ "--help", O_HELP },
	{ "-h", O_HELP },
};

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "turnpike-load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(turnpike-load --help lists the options)\n");
	return 2;
}

static int get_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		(void)opt;
		return -1;
	}
	*out = v;
	return 0;
}

static int get_secs(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	if ((s[0] < '0' || s[0] > '9') && s[0] != '.')
		return -1;
	v = strtod(s, &end);
	if (errno || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static void defaults(struct ld_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->backend = LD_BACKEND_SOCKETS;
	c->allocations = 10;
	c->rest_user = "load";
	c->rest_ttl = 86400;
	c->mode = LD_MODE_CHANNEL;
	c->dirs = LD_DIR_BIT(LD_C2P) | LD_DIR_BIT(LD_P2C);
	c->rate = 10000;
	c->payload = 100;
	c->duration = 10;
	c->warmup = 1;
	c->drain = 0.5;
	c->progress = 1;
	c->refresh = 120;
	c->setup_timeout = 30;
	c->window = 64;
	c->burst = 32;
	c->dpdk_port_base = 20000;
}

/* Apply one option with value @p v; returns 0 or 2 (message printed). */
static int apply(struct ld_conf *c, const char *name, enum opt_id id, const char *v)
{
	char ip[64];
	uint64_t u;

	switch (id) {
	case O_SERVER:
		if (tp_addr_parse(&c->server, v) < 0 || c->server.port == 0)
			return bad("%s: \"%s\" is not ADDR:PORT", name, v);
		return 0;
	case O_PEER:
		if (tp_addr_parse(&c->peer, v) < 0 || c->peer.port == 0)
			return bad("%s: \"%s\" is not ADDR:PORT", name, v);
		c->have_peer = true;
		return 0;
	case O_CLIENT_IP:
		if (tp_addr_parse_ip(&c->client_ip, v) < 0)
			return bad("%s: \"%s\" is not an IP address", name, v);
		c->have_client_ip = true;
		return 0;
	case O_DPDK_IP:
		if (tp_cidr_parse(&c->dpdk_net, v) < 0 || !strchr(v, '/'))
			return bad("%s: \"%s\" is not ADDRESS/PREFIX", name, v);
		if (c->dpdk_net.addr.family != TP_AF_INET)
			return bad("%s: \"%s\": the DPDK back end is IPv4 only", name, v);
		snprintf(ip, sizeof(ip), "%.*s", (int)(strchr(v, '/') - v), v);
		if (tp_addr_parse_ip(&c->dpdk_ip, ip) < 0)
			return bad("%s: \"%s\" is not ADDRESS/PREFIX", name, v);
		c->have_dpdk_ip = true;
		return 0;
	case O_USER:
		c->user = v;
		return 0;
	case O_PASSWORD:
		c->password = v;
		return 0;
	case O_REST_SECRET:
		c->rest_secret = v;
		return 0;
	case O_REST_USER:
		c->rest_user = v;
		return 0;
	case O_REST_TTL:
		if (get_u64(name, v, 1, 10u * 365 * 86400, &u) < 0)
			return bad("%s: \"%s\" is not a number of seconds", name, v);
		c->rest_ttl = (uint32_t)u;
		return 0;
	case O_ALLOCATIONS:
		if (get_u64(name, v, 1, 1000000, &u) < 0)
			return bad("%s: \"%s\" is not 1..1000000", name, v);
		c->allocations = (uint32_t)u;
		return 0;
	case O_WINDOW:
		if (get_u64(name, v, 1, 65536, &u) < 0)
			return bad("%s: \"%s\" is not 1..65536", name, v);
		c->window = (uint32_t)u;
		return 0;
	case O_RATE:
		if (get_u64(name, v, 0, 1000000000, &u) < 0)
			return bad("%s: \"%s\" is not a packet rate (0 = flat out)", name, v);
		c->rate = u;
		return 0;
	case O_PAYLOAD:
		if (get_u64(name, v, LD_PAYLOAD_MIN, LD_PAYLOAD_MAX, &u) < 0)
			return bad("%s: \"%s\" is not 24..1400 bytes", name, v);
		c->payload = (uint32_t)u;
		return 0;
	case O_BURST:
		if (get_u64(name, v, 1, LD_BATCH_MAX, &u) < 0)
			return bad("%s: \"%s\" is not 1..64", name, v);
		c->burst = (unsigned)u;
		return 0;
	case O_FLOW_BURST:
		if (get_u64(name, v, 1, LD_BATCH_MAX, &u) < 0)
			return bad("%s: \"%s\" is not 1..64", name, v);
		c->flow_burst = (unsigned)u;
		return 0;
	case O_DPDK_PORT_BASE:
		if (get_u64(name, v, 1, 65535, &u) < 0)
			return bad("%s: \"%s\" is not a port", name, v);
		c->dpdk_port_base = (uint16_t)u;
		return 0;
	case O_SETUP_TIMEOUT:
		return get_secs(v, 0.1, 86400, &c->setup_timeout) < 0
			       ? bad("%s: \"%s\" is not 0.1..86400 seconds", name, v)
			       : 0;
	case O_REFRESH:
		return get_secs(v, 1, 86400, &c->refresh) < 0
			       ? bad("%s: \"%s\" is not 1..86400 seconds", name, v)
			       : 0;
	case O_DURATION:
		return get_secs(v, 0.001, 31 * 86400, &c->duration) < 0
			       ? bad("%s: \"%s\" is not a positive number of seconds", name, v)
			       : 0;
	case O_WARMUP:
		return get_secs(v, 0, 86400, &c->warmup) < 0
			       ? bad("%s: \"%s\" is not a number of seconds", name, v)
			       : 0;
	case O_STEPS: {
		const char *q = v;

		c->n_steps = 0;
		while (*q) {
			char *end;
			double f = strtod(q, &end);

			if (end == q || !(f > 0 && f <= 100) || (*end && *end != ',') ||
			    c->n_steps == LD_STEPS_MAX)
				return bad("%s: \"%s\" is not a list of at most %d fractions in "
					   "(0, 100], e.g. 0.5,0.8,1.0",
					   name, v, LD_STEPS_MAX);
			c->steps[c->n_steps++] = f;
			q = *end ? end + 1 : end;
		}
		return c->n_steps ? 0 : bad("%s: empty list", name);
	}
	case O_DRAIN:
		return get_secs(v, 0, 60, &c->drain) < 0
			       ? bad("%s: \"%s\" is not 0..60 seconds", name, v)
			       : 0;
	case O_PROGRESS:
		return get_secs(v, 0, 86400, &c->progress) < 0
			       ? bad("%s: \"%s\" is not a number of seconds", name, v)
			       : 0;
	case O_MODE:
		if (strcmp(v, "channel") == 0)
			c->mode = LD_MODE_CHANNEL;
		else if (strcmp(v, "send") == 0)
			c->mode = LD_MODE_SEND;
		else
			return bad("%s: \"%s\": use channel or send", name, v);
		return 0;
	case O_DIRECTION:
		if (strcmp(v, "c2p") == 0)
			c->dirs = LD_DIR_BIT(LD_C2P);
		else if (strcmp(v, "p2c") == 0)
			c->dirs = LD_DIR_BIT(LD_P2C);
		else if (strcmp(v, "both") == 0)
			c->dirs = LD_DIR_BIT(LD_C2P) | LD_DIR_BIT(LD_P2C);
		else
			return bad("%s: \"%s\": use c2p, p2c or both", name, v);
		return 0;
	case O_BACKEND:
		if (strcmp(v, "sockets") == 0) {
			c->backend = LD_BACKEND_SOCKETS;
		} else if (strcmp(v, "dpdk") == 0) {
			if (!ld_dpdk_available())
				return bad("%s %s: this turnpike-load was not built with DPDK",
					   name, v);
			c->backend = LD_BACKEND_DPDK;
		} else {
			return bad("%s: \"%s\": use sockets or dpdk", name, v);
		}
		return 0;
	case O_HELP:
	case O_KEEP:
		break;
	}
	return 0;
}

/* Cross-option rules, after everything is read. */
static int check(struct ld_conf *c)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	char a[TP_ADDR_STRLEN], b[TP_ADDR_STRLEN];

	if (!c->server.family)
		return bad("--server ADDR:PORT is required");
	if (c->rest_secret && (c->user || c->password))
		return bad("give either --user/--password or --rest-secret, not both");
	if (!c->rest_secret && (!c->user || !c->password))
		return bad("credentials: give --user and --password, or --rest-secret");
	if (c->backend == LD_BACKEND_DPDK) {
		if (!c->have_dpdk_ip)
			return bad("--backend dpdk needs --dpdk-ip ADDRESS/PREFIX");
		if (!c->have_peer)
			return bad("--backend dpdk needs --peer ADDR:PORT on the --dpdk-ip subnet");
		if (c->server.family != TP_AF_INET || !tp_cidr_match(&c->dpdk_net, &c->server))
			return bad("--server %s is not on the --dpdk-ip subnet %s",
				   ld_addr_str(&c->server, a), ld_addr_str(&c->dpdk_net.addr, b));
		if (!tp_cidr_match(&c->dpdk_net, &c->peer) || tp_addr_ip_eq(&c->peer, &c->dpdk_ip))
			return bad("--peer %s must be another address on the --dpdk-ip subnet (%s)",
				   ld_addr_str(&c->peer, a), ld_addr_str(&c->dpdk_net.addr, b));
		if ((uint32_t)c->dpdk_port_base + c->allocations - 1 > 65535)
			return bad("--dpdk-port-base + --allocations runs past port 65535");
		if (c->have_client_ip)
			return bad("--client-ip is for the sockets back end; dpdk uses --dpdk-ip");
	} else {
		if (c->eal_argc > 1)
			return bad("EAL arguments after \"--\" need --backend dpdk");
		if (!c->have_client_ip) {
			if (c->server.family == TP_AF_INET)
				tp_addr_set4(&c->client_ip, lo4, 0);
			else
				tp_addr_set6(&c->client_ip, lo6, 0);
		}
		if (!c->have_peer) {
			if (c->server.family == TP_AF_INET)
				tp_addr_set4(&c->peer, lo4, 0);
			else
				tp_addr_set6(&c->peer, lo6, 0);
		}
		if (c->client_ip.family != c->server.family)
			return bad("--client-ip %s and --server %s are of different families",
				   ld_addr_str(&c->client_ip, a), ld_addr_str(&c->server, b));
	}
	return 0;
}

int ld_opts_parse(struct ld_conf *c, int argc, char **argv)
{
	int i, rc;

	defaults(c);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		size_t nlen, k;
		const struct opt *o = NULL;

		if (strcmp(arg, "--") == 0) {
			/* EAL arguments follow; argv[i] becomes the EAL's program name. */
			argv[i] = argv[0];
			c->eal_argc = argc - i;
			c->eal_argv = argv + i;
			break;
		}
		eq = strchr(arg, '=');
		nlen = eq && strncmp(arg, "--", 2) == 0 ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, arg, nlen) == 0)
				o = &opts[k];
		if (!o)
			return bad("unknown option \"%s\"", arg);
		if (o->id == O_HELP) {
			fputs(usage, stdout);
			return 1;
		}
		if (o->id == O_KEEP) {
			c->keep = true;
			continue;
		}
		if (eq && nlen < strlen(arg))
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return bad("%s needs a value", o->name);
		rc = apply(c, o->name, o->id, val);
		if (rc)
			return rc;
	}
	return check(c);
}
