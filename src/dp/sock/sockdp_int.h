/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of the socket data plane, shared by its files. */
#ifndef TP_SOCKDP_INT_H
#define TP_SOCKDP_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <turnpike/channel.h>
#include <turnpike/engine.h>
#include <turnpike/platform.h>
#include <turnpike/sockdp.h>

#define RX_BURST     32
#define RX_BUF	     65536  /* a whole UDP datagram */
#define REPLY_CAP    2048   /* STUN responses are far smaller */
#define CONN_RBUF    16384  /* largest stream frame accepted from a client */
#define CONN_OBUF    262144 /* queued output per connection before it counts as stuck */
#define POLL_EVENTS  64
#define POLL_TIMEOUT 50 /* ms: timers and policy switches are looked at this often */

enum ev_kind {
	EV_UDP_LISTEN = 1,
	EV_TCP_LISTEN,
	EV_RELAY,
	EV_CONN,
};

/* What a poller event points at. */
struct ev_tag {
	uint8_t kind;	/* enum ev_kind */
	uint8_t family; /* EV_RELAY: TP_AF_INET or TP_AF_INET6 */
	uint16_t port;	/* EV_RELAY */
	uint32_t idx;	/* listener or connection index */
};

struct lsock {
	tp_socket_t s;
	struct tp_addr addr;
	uint8_t transport;
	void *tls; /* SSL_CTX for TLS listeners */
	struct ev_tag tag;
};

struct relay_slot {
	tp_socket_t s[2]; /* [0] IPv4, [1] IPv6 */
	bool df[2];
	struct ev_tag tag[2];
};

struct conn {
	tp_socket_t s;
	uint32_t id;
	uint8_t transport;
	bool handshaking;
	bool closing;
	struct tp_addr peer, local;
	void *ssl; /* SSL for TLS */
	struct tp_framer fr;
	uint8_t *obuf;
	size_t olen;
	struct ev_tag tag;
	uint8_t rbuf[CONN_RBUF];
};

/* An outgoing datagram waiting for its batch. */
struct out {
	tp_socket_t s;
	struct tp_dgram_out d;
};

struct worker {
	struct tp_sockdp *dp;
	unsigned id;
	struct tp_thread th;
	struct tp_engine *eng;
	struct tp_poller *poller;
	struct lsock *ls;
	unsigned nls;
	struct relay_slot *relays; /* by port - port_min */
	struct conn **conns;	   /* by connection id - 1 */
	uint32_t nconns;
	uint32_t conn_cap;
	uint32_t live_conns;
	_Atomic(const struct tp_engine_policy *) want;
	_Atomic(const struct tp_engine_policy *) seen;
	_Atomic uint64_t tx_failed; /* datagrams the kernel refused */
	struct tp_clock clock;
	struct tp_pkt pkts[RX_BURST];
	struct tp_verdict v[RX_BURST];
	struct tp_dgram rx[RX_BURST];
	struct out out[RX_BURST];
	unsigned nout;
	uint8_t *rxbuf;	   /* RX_BURST * RX_BUF */
	uint8_t *replybuf; /* RX_BURST * REPLY_CAP */
};

struct tp_sockdp {
	struct tp_sockdp_conf conf;
	struct tp_sockdp_listener *listeners;
	struct tp_engine_shared *sh;
	unsigned nworkers;
	struct worker *workers;
	void **tls_ctx; /* per listener, NULL when not TLS */
	_Atomic bool stop;
};

/* worker.c */
int tp_worker_init(struct worker *w, struct tp_sockdp *dp, unsigned id,
		   const struct tp_engine_policy *pol, char *err, size_t errlen);
int tp_worker_start(struct worker *w);
void tp_worker_join(struct worker *w);
void tp_worker_fini(struct worker *w);

/* tls.c: OpenSSL for TLS listeners and connections. */
void *tp_tls_ctx_create(const char *cert, const char *key, char *err, size_t errlen);
void tp_tls_ctx_destroy(void *ctx);
void *tp_tls_new(void *ctx, tp_socket_t s);
void tp_tls_free(void *ssl);
/* 1 done, 0 in progress (wait for the socket), negative: failed. */
int tp_tls_handshake(void *ssl);
/* Bytes read, 0 on EOF, -EAGAIN when nothing is ready, other negative errors. */
long tp_tls_read(void *ssl, void *buf, size_t len);
/* Bytes written, -EAGAIN when the socket is full, other negative errors. */
long tp_tls_write(void *ssl, const void *buf, size_t len);

#endif /* TP_SOCKDP_INT_H */
