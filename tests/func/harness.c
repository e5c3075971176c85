/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The functional-test harness: config, certificate, ports, and the relay process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "harness.h"
#include "tclient.h"

#define START_TIMEOUT_MS 5000
#define DPDK_START_SCALE 3 /* EAL init, the port and its link, and the kernel shard */
#define STOP_TIMEOUT_MS	 10000
#define RELAY_PORTS	 200

const char *relay_bin;
struct harness_env harness = { .stop_signal = SIGTERM, .stop_name = "SIGTERM", .timeout_scale = 1 };

/* The relay of this process, killed at exit if a failed test left it running. */
static pid_t running_pid;

/* --- the environment --- */

/* A switch: unset, empty or "0" off, "1" on; -1 for anything else. */
static int env_switch(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v || strcmp(v, "0") == 0)
		return 0;
	return strcmp(v, "1") == 0 ? 1 : -1;
}

/* An IPv4 and an IPv6 address from the variable @name: "IP IP", or with @nets "NET/16 NET/64"
 * (networks: no host bits set). */
static int env_addrs(const char *name, struct tp_addr *a4, struct tp_addr *a6, bool nets, char *err,
		     size_t errlen)
{
	static const unsigned len4 = 16, len6 = 64;
	const char *v = getenv(name);
	char words[256], *save = NULL;

	memset(a4, 0, sizeof(*a4));
	memset(a6, 0, sizeof(*a6));
	if (!v || !*v || strlen(v) >= sizeof(words)) {
		snprintf(err, errlen, "TP_FUNC_DPDK needs %s (see tests/func/harness.h)", name);
		return -1;
	}
	snprintf(words, sizeof(words), "%s", v);
	for (char *w = strtok_r(words, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		char *slash = strchr(w, '/');
		struct tp_addr a;
		unsigned want;

		if ((slash != NULL) != nets)
			goto bad;
		if (slash)
			*slash = '\0';
		a = tcl_addr(w);
		if (!a.family || a.port)
			goto bad;
		want = a.family == TP_AF_INET ? len4 : len6;
		if (nets) {
			unsigned host = 0;

			for (unsigned i = want / 8; i < tp_addr_iplen(&a); i++)
				host |= a.ip[i];
			if (strtoul(slash + 1, NULL, 10) != want || host)
				goto bad;
		}
		*(a.family == TP_AF_INET ? a4 : a6) = a;
	}
	if (a4->family && a6->family)
		return 0;
bad:
	snprintf(err, errlen, "%s is \"%s\", not %s", name, v,
		 nets ? "an IPv4 /16 and an IPv6 /64 network (\"10.98.0.0/16 fd98::/64\")"
		      : "an IPv4 and an IPv6 address");
	return -1;
}

/* TP_FUNC_DPDK and its companions. */
static int dpdk_init(char *err, size_t errlen)
{
	const char *path = getenv("TP_FUNC_DPDK"), *v;
	FILE *f;
	long size;
	char *end;

	if (!path || !*path)
		return 0;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "TP_FUNC_DPDK: %s: %s", path, strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	harness.dpdk = size > 0 && size < 65536 ? calloc(1, (size_t)size + 1) : NULL;
	if (!harness.dpdk || fread(harness.dpdk, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		snprintf(err, errlen, "TP_FUNC_DPDK: cannot read %s", path);
		return -1;
	}
	fclose(f);
	/* The object's closing brace goes: the harness appends kernel_relay. */
	end = strrchr(harness.dpdk, '}');
	if (harness.dpdk[strspn(harness.dpdk, " \t\r\n")] != '{' || !end ||
	    end[1 + strspn(end + 1, " \t\r\n")] != '\0') {
		snprintf(err, errlen, "TP_FUNC_DPDK: %s does not hold one JSON object", path);
		return -1;
	}
	*end = '\0';
	harness.dpdk_workers = 1;
	v = getenv("TP_FUNC_DPDK_WORKERS");
	if (v && *v) {
		unsigned long n = strtoul(v, &end, 10);

		if (end == v || *end || n < 1 || n > 64) {
			snprintf(err, errlen, "TP_FUNC_DPDK_WORKERS is 1 to 64, not \"%s\"", v);
			return -1;
		}
		harness.dpdk_workers = (unsigned)n;
	}
	if (env_addrs("TP_FUNC_DPDK_RELAY", &harness.relay4, &harness.relay6, false, err, errlen) <
		    0 ||
	    env_addrs("TP_FUNC_DPDK_KERNEL", &harness.kernel4, &harness.kernel6, false, err,
		      errlen) < 0 ||
	    env_addrs("TP_FUNC_DPDK_CLIENTS", &harness.clients4, &harness.clients6, true, err,
		      errlen) < 0)
		return -1;
	return 0;
}

int harness_init(char *err, size_t errlen)
{
	static char words[1024];
	const char *v;
	char *end, *save = NULL;
	unsigned n = 0;
	int no_tls = env_switch("TP_FUNC_NO_TLS"), single = env_switch("TP_FUNC_SINGLE_WORKER");

	if (no_tls < 0 || single < 0) {
		snprintf(err, errlen, "TP_FUNC_NO_TLS and TP_FUNC_SINGLE_WORKER take 0 or 1");
		return -1;
	}
	harness.no_tls = no_tls;
	harness.single_worker = single;
	v = getenv("TP_FUNC_WRAPPER");
	if (v && *v) {
		if (strlen(v) >= sizeof(words)) {
			snprintf(err, errlen, "TP_FUNC_WRAPPER is too long");
			return -1;
		}
		snprintf(words, sizeof(words), "%s", v);
		for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
			if (n + 1 >= sizeof(harness.wrapper) / sizeof(harness.wrapper[0])) {
				snprintf(err, errlen, "TP_FUNC_WRAPPER has too many words");
				return -1;
			}
			harness.wrapper[n++] = w;
		}
	}
	harness.wrapper[n] = NULL;
	v = getenv("TP_FUNC_STOP_SIGNAL");
	if (v && *v) {
		if (strcmp(v, "TERM") == 0 || strcmp(v, "SIGTERM") == 0) {
			harness.stop_signal = SIGTERM;
			harness.stop_name = "SIGTERM";
		} else if (strcmp(v, "INT") == 0 || strcmp(v, "SIGINT") == 0) {
			harness.stop_signal = SIGINT;
			harness.stop_name = "SIGINT";
		} else {
			snprintf(err, errlen, "TP_FUNC_STOP_SIGNAL is TERM or INT, not \"%s\"", v);
			return -1;
		}
	}
	v = getenv("TP_FUNC_TIMEOUT_SCALE");
	if (v && *v) {
		double x = strtod(v, &end);

		if (end == v || *end || !(x >= 1 && x <= 100)) {
			snprintf(err, errlen,
				 "TP_FUNC_TIMEOUT_SCALE is a number from 1 to 100, not \"%s\"", v);
			return -1;
		}
		harness.timeout_scale = x;
	}
	if (dpdk_init(err, errlen) < 0)
		return -1;
	tcl_timeout_ms = (int)harness_ms((unsigned)tcl_timeout_ms);
	return 0;
}

const char *harness_ip(const char *ip)
{
	static const uint8_t loopback6[16] = { [15] = 1 };
	static char ring[8][INET6_ADDRSTRLEN];
	static unsigned next;
	struct tp_addr a = tcl_addr(ip), m;
	char *out;

	if (!harness.dpdk || a.port)
		return ip;
	if (a.family == TP_AF_INET && a.ip[0] == 127 && a.ip[1] == 0) {
		m = harness.clients4;
		m.ip[2] = a.ip[2];
		m.ip[3] = a.ip[3];
	} else if (a.family == TP_AF_INET6 && memcmp(a.ip, loopback6, 16) == 0) {
		m = harness.clients6;
		m.ip[15] = 1;
	} else {
		return ip;
	}
	out = ring[next++ % 8];
	inet_ntop(m.family == TP_AF_INET ? AF_INET : AF_INET6, m.ip, out, INET6_ADDRSTRLEN);
	return out;
}

unsigned harness_ms(unsigned ms)
{
	return (unsigned)(ms * harness.timeout_scale + 0.5);
}

/* --- ports --- */

/* Whether @port can be bound for @type on the loopback address of @family. */
static bool port_free(int family, int type, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin6.sin6_addr = in6addr_loopback;
	ok = family == AF_INET ? bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0
			       : bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

/* A port the kernel hands out, free for TCP (and UDP when @udp) on 127.0.0.1 and ::1. */
static uint16_t pick_listen_port(bool udp, uint16_t avoid)
{
	for (int tries = 0; tries < 100; tries++) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
		socklen_t len = sizeof(sin6);
		int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		uint16_t port = 0;

		sin6.sin6_addr = in6addr_loopback;
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&sin6, &len) == 0)
			port = ntohs(sin6.sin6_port);
		if (fd >= 0)
			close(fd);
		if (port == 0 || port == avoid)
			continue;
		if (port_free(AF_INET6, SOCK_STREAM, port) &&
		    port_free(AF_INET, SOCK_STREAM, port) &&
		    (!udp || (port_free(AF_INET6, SOCK_DGRAM, port) &&
			      port_free(AF_INET, SOCK_DGRAM, port))))
			return port;
	}
	ck_abort_msg("no free listening port");
	return 0;
}

/* The first port of the kernel's ephemeral range: relay ports stay below it, so the ports the
 * tests' own sockets get can never collide with them. */
static unsigned ephemeral_low(void)
{
	unsigned lo = 32768, hi;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	return lo;
}

/* @n consecutive ports free for UDP on both loopback addresses. */
static uint16_t pick_relay_range(unsigned n)
{
	unsigned lo = 20000, hi = ephemeral_low();
	uint32_t rnd;

	ck_assert_uint_gt(hi, lo + n + 1);
	for (int tries = 0; tries < 200; tries++) {
		unsigned base, i;

		tp_random_bytes(&rnd, sizeof(rnd));
		base = lo + rnd % (hi - lo - n);
		for (i = 0; i < n; i++)
			if (!port_free(AF_INET, SOCK_DGRAM, (uint16_t)(base + i)) ||
			    !port_free(AF_INET6, SOCK_DGRAM, (uint16_t)(base + i)))
				break;
		if (i == n)
			return (uint16_t)base;
	}
	ck_abort_msg("no %u free relay ports", n);
	return 0;
}

/* --- files --- */

/* A self-signed P-256 certificate for "localhost" and its key, in PEM. */
static void make_cert(const char *cert_path, const char *key_path)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	FILE *f;

	ck_assert_ptr_nonnull(pkey);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	ck_assert_int_eq(X509_set_pubkey(x, pkey), 1);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	ck_assert_int_eq(X509_set_issuer_name(x, name), 1);
	ck_assert_int_gt(X509_sign(x, pkey, EVP_sha256()), 0);
	f = fopen(cert_path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
	f = fopen(key_path, "w");
	ck_assert_ptr_nonnull(f);
	fchmod(fileno(f), 0600);
	ck_assert_int_eq(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

/* @a's IP as text, into @buf (INET6_ADDRSTRLEN bytes). */
static const char *ip_str(const struct tp_addr *a, char *buf)
{
	inet_ntop(a->family == TP_AF_INET ? AF_INET : AF_INET6, a->ip, buf, INET6_ADDRSTRLEN);
	return buf;
}

/* The listeners and the relay: on loopback, or (TP_FUNC_DPDK) UDP and the relayed addresses on
 * the DPDK port, TCP and TLS on the namespace's kernel addresses. */
static void write_listen(FILE *f, const struct relay *r, const struct relay_conf *c)
{
	static const char *const kinds[] = { "udp", "tcp", "tls" };
	/* transport, IPv6: the order the listeners have always been written in */
	static const int order[6][2] = { { TCL_UDP, 0 }, { TCL_TCP, 0 }, { TCL_UDP, 1 },
					 { TCL_TCP, 1 }, { TCL_TLS, 0 }, { TCL_TLS, 1 } };
	struct tp_addr lo4 = tcl_addr("127.0.0.1"), lo6 = tcl_addr("::1");
	char a[INET6_ADDRSTRLEN];

	fprintf(f, "  \"listen\": [\n");
	for (int i = 0; i < 6; i++) {
		int t = order[i][0], v6 = order[i][1];
		struct tp_addr ip = relay_listen(r, t, v6 ? TP_AF_INET6 : TP_AF_INET);

		if (t == TCL_TLS && !r->tls_port)
			continue;
		fprintf(f, "%s    { \"transport\": \"%s\", \"address\": \"%s\", \"port\": %u",
			i ? ",\n" : "", kinds[t], ip_str(&ip, a), ip.port);
		if (t == TCL_TLS)
			fprintf(f, ",\n      \"cert\": \"%s/cert.pem\", \"key\": \"%s/key.pem\"",
				r->dir, r->dir);
		fprintf(f, " }");
	}
	fprintf(f, "\n  ],\n  \"relay\": { \"address\": \"%s\", ",
		ip_str(harness.dpdk ? &harness.relay4 : &lo4, a));
	if (!c->no_relay6)
		fprintf(f, "\"address6\": \"%s\", ",
			ip_str(harness.dpdk ? &harness.relay6 : &lo6, a));
	fprintf(f, "\"port_min\": %u, \"port_max\": %u },\n", r->port_min, r->port_max);
}

/* The peer ACL; under TP_FUNC_DPDK the clients' networks are allowed too (peers live there). */
static void write_peers(FILE *f, const struct relay_conf *c)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *open, *close;

	fprintf(f, "  \"peers\": { \"allow_loopback\": %s", c->no_loopback ? "false" : "true");
	if (!harness.dpdk) {
		if (c->peers_allow)
			fprintf(f, ", \"allow\": %s", c->peers_allow);
		fprintf(f, " },\n");
		return;
	}
	fprintf(f, ", \"allow\": [ \"%s/16\", \"%s/64\"", ip_str(&harness.clients4, a),
		ip_str(&harness.clients6, b));
	if (c->peers_allow) {
		open = strchr(c->peers_allow, '[');
		close = strrchr(c->peers_allow, ']');
		ck_assert_msg(open && close && close > open, "peers_allow is not a JSON array");
		fprintf(f, ", %.*s", (int)(close - open - 1), open + 1);
	}
	fprintf(f, " ] },\n");
}

static void write_dataplane(FILE *f, const struct relay_conf *c)
{
	char a[INET6_ADDRSTRLEN];

	if (!harness.dpdk) {
		fprintf(f, "  \"dataplane\": { \"kind\": \"sockets\", \"workers\": %u },\n",
			c->workers ? c->workers : 1);
		return;
	}
	/* TP_FUNC_DPDK's object, completed with the kernel shard's relayed addresses. */
	fprintf(f,
		"  \"dataplane\": {\n    \"kind\": \"dpdk\", \"workers\": %u,\n    \"dpdk\": %s,\n",
		harness.dpdk_workers, harness.dpdk);
	fprintf(f, "      \"kernel_relay\": { \"address\": \"%s\"", ip_str(&harness.kernel4, a));
	if (!c->no_relay6)
		fprintf(f, ", \"address6\": \"%s\"", ip_str(&harness.kernel6, a));
	fprintf(f, " }\n    }\n  },\n");
}

static void write_config(const struct relay *r, const struct relay_conf *c)
{
	FILE *f = fopen(r->conf, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\n  \"realm\": \"%s\",\n", H_REALM);
	write_listen(f, r, c);
	fprintf(f,
		"  \"auth\": {\n    \"users\": [\n"
		"      { \"name\": \"%s\", \"password\": \"%s\" },\n"
		"      { \"name\": \"%s\", \"password\": \"%s\" },\n"
		"      { \"name\": \"%s\", \"password\": \"%s\" }\n    ],\n"
		"    \"secret\": \"%s\"",
		H_USER, H_PASS, H_ALICE, H_ALICE_PASS, H_BOB, H_BOB_PASS, H_SECRET);
	if (c->nonce_lifetime)
		fprintf(f, ",\n    \"nonce_lifetime\": %u", c->nonce_lifetime);
	if (c->pwalgs)
		fprintf(f, ",\n    \"password_algorithms\": %s", c->pwalgs);
	fprintf(f, "\n  },\n  \"limits\": { \"unauth_rate\": %u%s%s },\n",
		c->unauth_rate ? c->unauth_rate : 1000, c->limits ? ", " : "",
		c->limits ? c->limits : "");
	write_peers(f, c);
	write_dataplane(f, c);
	fprintf(f, "  \"metrics\": { \"listen\": \"127.0.0.1:%u\" },\n", r->metrics_port);
	fprintf(f, "  \"log\": { \"level\": \"info\" }\n}\n");
	ck_assert_int_eq(fclose(f), 0);
}

/* The end of the log, for failure messages. */
static const char *log_tail(const struct relay *r)
{
	static char tail[2048];
	FILE *f = fopen(r->log, "r");
	long size;
	size_t n = 0;

	tail[0] = '\0';
	if (!f)
		return tail;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)sizeof(tail) - 1 ? size - (long)sizeof(tail) + 1 : 0, SEEK_SET);
	n = fread(tail, 1, sizeof(tail) - 1, f);
	tail[n] = '\0';
	fclose(f);
	return tail;
}

static unsigned log_count(const struct relay *r, const char *needle)
{
	FILE *f = fopen(r->log, "r");
	char line[4096];
	unsigned n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		for (const char *p = line; (p = strstr(p, needle)) != NULL; p++)
			n++;
	fclose(f);
	return n;
}

/*
 * The DPDK workers' allocation events reach the log through the control thread, up to a poll
 * interval later; the socket plane logs them as they happen. So in DPDK mode, wait (bounded)
 * until the log has a line for every event the metrics counted.
 */
static void log_settle(const struct relay *r)
{
	static const char *const events[][2] = {
		{ "allocation created", "turnpike_events_total{event=\"alloc_created\"}" },
		{ "allocation deleted", "turnpike_events_total{event=\"alloc_deleted\"}" },
		{ "allocation expired", "turnpike_events_total{event=\"alloc_expired\"}" },
	};
	unsigned timeout_ms = harness_ms(3000);
	uint64_t deadline = tcl_now_ms() + timeout_ms;

	if (!harness.dpdk || r->pid <= 0)
		return;
	for (;;) {
		unsigned i;

		for (i = 0; i < 3; i++)
			if (log_count(r, events[i][0]) < relay_metric(r, events[i][1]))
				break;
		if (i == 3)
			return;
		ck_assert_msg(tcl_now_ms() < deadline,
			      "the log has fewer \"%s\" lines than the metrics count after %u ms",
			      events[i][0], timeout_ms);
		usleep(10 * 1000);
	}
}

unsigned relay_log_count(const struct relay *r, const char *needle)
{
	log_settle(r);
	return log_count(r, needle);
}

/* --- metrics --- */

#define METRICS_MAX	   (256 * 1024)
#define METRICS_TIMEOUT_MS 2000

/* The whole HTTP response to GET /metrics, NUL-terminated, in a malloc'd buffer. */
static char *scrape(const struct relay *r)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(r->metrics_port) };
	unsigned timeout_ms = harness_ms(METRICS_TIMEOUT_MS);
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000 };
	uint64_t deadline = tcl_now_ms() + timeout_ms;
	char *buf = malloc(METRICS_MAX + 1);
	size_t len = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
		      "metrics endpoint 127.0.0.1:%u: %s", r->metrics_port, strerror(errno));
	ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
	/* Connection: close ends every response. */
	while (len < METRICS_MAX && tcl_now_ms() < deadline) {
		ssize_t n = recv(fd, buf + len, METRICS_MAX - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

uint64_t relay_metric(const struct relay *r, const char *series)
{
	char *resp = scrape(r), *body = strstr(resp, "\r\n\r\n"), *line;
	size_t n = strlen(series);
	unsigned long long v = 0;
	bool found = false;

	ck_assert_msg(strncmp(resp, "HTTP/1.1 200 ", 13) == 0 ||
			      strncmp(resp, "HTTP/1.0 200 ", 13) == 0,
		      "metrics endpoint: %.80s", resp);
	ck_assert_ptr_nonnull(body);
	for (line = body + 4; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, series, n) == 0 && line[n] == ' ') {
			v = strtoull(line + n + 1, NULL, 10);
			found = true;
			break;
		}
	}
	free(resp);
	ck_assert_msg(found, "no series %s in the metrics", series);
	return v;
}

/* --- the process --- */

static void kill_leftover(void)
{
	if (running_pid > 0) {
		kill(running_pid, SIGKILL);
		waitpid(running_pid, NULL, 0);
		running_pid = 0;
	}
}

static pid_t spawn(const struct relay *r)
{
	pid_t parent = getpid(), pid;
	int logfd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(logfd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[sizeof(harness.wrapper) / sizeof(harness.wrapper[0]) + 4];
		int nul = open("/dev/null", O_RDONLY);
		unsigned n = 0;

		/* [WRAPPER...] BINARY --config FILE */
		while (harness.wrapper[n]) {
			argv[n] = harness.wrapper[n];
			n++;
		}
		argv[n++] = (char *)relay_bin;
		argv[n++] = (char *)"--config";
		argv[n++] = (char *)r->conf;
		argv[n] = NULL;

#ifdef __linux__
		/* If the test process dies (a failed assertion _exits in fork mode, a timeout
		 * kills it), the relay goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL); /* the relay must cope with SIGPIPE itself */
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(127);
		if (harness.wrapper[0])
			execvp(argv[0], argv);
		else
			execv(relay_bin, argv);
		dprintf(2, "test_func: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	return pid;
}

bool relay_alive(struct relay *r)
{
	int st;

	return r->pid > 0 && waitpid(r->pid, &st, WNOHANG) == 0;
}

struct tp_addr relay_listen(const struct relay *r, int transport, int family)
{
	struct tp_addr a = tcl_addr(family == TP_AF_INET6 ? "::1" : "127.0.0.1");

	if (harness.dpdk && transport == TCL_UDP)
		a = family == TP_AF_INET6 ? harness.relay6 : harness.relay4;
	else if (harness.dpdk)
		a = family == TP_AF_INET6 ? harness.kernel6 : harness.kernel4;
	a.port = transport == TCL_TLS ? r->tls_port : r->port;
	return a;
}

struct tp_addr relay_relayed_ip(int transport, int family)
{
	struct tp_addr a = tcl_addr(family == TP_AF_INET6 ? "::1" : "127.0.0.1");

	if (harness.dpdk && transport == TCL_UDP)
		a = family == TP_AF_INET6 ? harness.relay6 : harness.relay4;
	else if (harness.dpdk)
		a = family == TP_AF_INET6 ? harness.kernel6 : harness.kernel4;
	a.port = 0;
	return a;
}

/*
 * Poll with Binding requests until the relay answers: true. False when it exited because a
 * port was taken meanwhile (another program got it between our check and its bind); any other
 * exit, or silence past START_TIMEOUT_MS (times the scale), fails the test.
 */
static bool wait_ready(struct relay *r)
{
	struct tp_addr server = relay_listen(r, TCL_UDP, TP_AF_INET);
	unsigned timeout_ms = harness_ms(START_TIMEOUT_MS * (harness.dpdk ? DPDK_START_SCALE : 1));
	uint64_t deadline = tcl_now_ms() + timeout_ms;
	struct tcl c;
	int st;

	while (tcl_now_ms() < deadline) {
		pid_t done = waitpid(r->pid, &st, WNOHANG);
		int rc = -1;

		if (done == r->pid) {
			r->pid = 0;
			running_pid = 0;
			if (log_count(r, "Address already in use"))
				return false;
			ck_abort_msg("relay exited at start (status 0x%x):\n%s", st, log_tail(r));
		}
		if (tcl_open(&c, TCL_UDP, &server, NULL) == 0) {
			struct tcl_req rq = { .method = TP_STUN_BINDING, .noauth = true };

			if (tcl_build(&c, &rq) == 0)
				rc = tcl_transact(&c, 150);
		}
		tcl_close(&c);
		/* DPDK mode: the kernel shard's listeners are up once the log says "running". */
		if (rc == 0 && (!harness.dpdk || log_count(r, " running (realm ")))
			return true;
		usleep(20 * 1000);
	}
	ck_abort_msg("relay did not answer a Binding within %u ms:\n%s", timeout_ms, log_tail(r));
	return false;
}

/* Directory, ports, certificate and config for one attempt at starting. */
static void prepare(struct relay *r, const struct relay_conf *conf)
{
	const char *tmp = getenv("TMPDIR");
	unsigned nports = conf->relay_ports ? conf->relay_ports : RELAY_PORTS;
	char cert[PATH_MAX + 32], key[PATH_MAX + 32];

	snprintf(r->dir, sizeof(r->dir), "%s/turnpike-func-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_msg(mkdtemp(r->dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(r->conf, sizeof(r->conf), "%s/config.json", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/relay.log", r->dir);
	r->port = pick_listen_port(true, 0);
	r->tls_port = harness.no_tls ? 0 : pick_listen_port(false, r->port);
	do
		r->metrics_port = pick_listen_port(false, r->port);
	while (r->metrics_port == r->tls_port);
	r->port_min = pick_relay_range(nports);
	r->port_max = (uint16_t)(r->port_min + nports - 1);
	if (r->tls_port) {
		snprintf(cert, sizeof(cert), "%s/cert.pem", r->dir);
		snprintf(key, sizeof(key), "%s/key.pem", r->dir);
		make_cert(cert, key);
	}
	write_config(r, conf);
}

void relay_start(struct relay *r, const struct relay_conf *conf)
{
	static const struct relay_conf defaults;
	static bool registered;

	ck_assert_msg(relay_bin != NULL, "no turnpike binary (TP_BIN or the first argument)");
	ck_assert_int_eq(r->pid, 0);
	if (!registered) {
		atexit(kill_leftover);
		registered = true;
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		prepare(r, conf ? conf : &defaults);
		r->pid = spawn(r);
		running_pid = r->pid;
		if (wait_ready(r))
			return;
		relay_cleanup(r);
	}
	ck_abort_msg("relay could not bind its ports in 3 attempts");
}

void relay_stop(struct relay *r)
{
	unsigned timeout_ms = harness_ms(STOP_TIMEOUT_MS);
	uint64_t deadline = tcl_now_ms() + timeout_ms;
	pid_t pid = r->pid;
	int st = 0;

	if (pid <= 0)
		return;
	kill(pid, harness.stop_signal);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (tcl_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			r->pid = 0;
			running_pid = 0;
			ck_abort_msg("relay did not stop within %u ms of %s (%s):\n%s", timeout_ms,
				     harness.stop_name, r->log, log_tail(r));
		}
		usleep(10 * 1000);
	}
	r->pid = 0;
	running_pid = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "relay ended with %s %d after %s, not exit 0 (%s):\n%s",
		      WIFEXITED(st) ? "exit status" : "signal",
		      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), harness.stop_name, r->log,
		      log_tail(r));
	/* UBSan only prints unless told to halt; ASan and LSan reports fail the exit status. */
	ck_assert_msg(relay_log_count(r, "runtime error:") == 0 &&
			      relay_log_count(r, "Sanitizer") == 0,
		      "sanitizer report in the relay's log (%s):\n%s", r->log, log_tail(r));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void relay_cleanup(struct relay *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
		running_pid = 0;
	}
	if (r->dir[0] && !getenv("TP_FUNC_KEEP"))
		nftw(r->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	r->dir[0] = '\0';
}
