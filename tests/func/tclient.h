/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small blocking TURN client for the functional tests, built on the wire codec (src/wire)
 * with POSIX sockets and OpenSSL's libssl: UDP, TCP and TLS to an IPv4 or IPv6 server, requests
 * with bounded waits (retransmitted over UDP), the long-term credential flow with
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 (PASSWORD-ALGORITHMS) and USERHASH, TURN REST
 * usernames, and the TURN methods and data paths. It checks every response it receives like a
 * careful client: transaction ID, method, class, integrity, FINGERPRINT, no reason phrase.
 *
 * Functions return 0 for a success response, the error code (300..699) of an error response,
 * or a negative enum tcl_err; on a negative value c->err says what went wrong. The library
 * knows nothing of Check: the tests assert.
 */
#ifndef TP_FUNC_TCLIENT_H
#define TP_FUNC_TCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/channel.h>
#include <turnpike/crypto.h>
#include <turnpike/stun.h>

/** Client transports. */
enum tcl_transport {
	TCL_UDP = 0,
	TCL_TCP = 1,
	TCL_TLS = 2,
};

/** Failures other than an error response. */
enum tcl_err {
	TCL_ETIMEOUT = -1, /**< no answer within the time allowed */
	TCL_EPROTO = -2,   /**< an answer that breaks the protocol; see c->err */
	TCL_EIO = -3,	   /**< a socket or TLS error, or the server closed the stream */
};

/**
 * How long a request waits for its response, and relayed data for its arrival: 3000 ms, times
 * TP_FUNC_TIMEOUT_SCALE (the harness sets it before the tests run).
 */
extern int tcl_timeout_ms;
#define TCL_TIMEOUT_MS tcl_timeout_ms
#define TCL_MSG_MAX    1500	   /**< largest request the client builds */
#define TCL_FRAME_MAX  (65535 + 8) /**< largest frame or datagram received */
#define TCL_QUEUE      64	   /**< data frames kept while a response is awaited */
#define TCL_MAX_PEERS  16	   /**< XOR-PEER-ADDRESS attributes in one request */
#define TCL_DATA_MAX   2048	   /**< largest payload kept by tcl_recv_data() */

/** A request to build. Zero fields mean "absent". */
struct tcl_req {
	uint16_t method;
	uint16_t cls;	   /**< TP_STUN_REQUEST (0) or TP_STUN_INDICATION */
	uint8_t transport; /**< REQUESTED-TRANSPORT protocol (tcl_allocate: 0 means UDP) */
	bool has_lifetime;
	uint32_t lifetime;
	uint8_t family;	    /**< REQUESTED-ADDRESS-FAMILY */
	uint8_t add_family; /**< ADDITIONAL-ADDRESS-FAMILY */
	bool even_port, reserve;
	bool has_token;
	uint64_t token;
	bool dont_fragment;
	bool has_channel;
	uint16_t channel;
	struct tp_addr peers[TCL_MAX_PEERS]; /**< XOR-PEER-ADDRESS, in order */
	unsigned n_peers;
	bool has_data;
	const void *data;
	size_t data_len;
	uint16_t extra_type; /**< one more attribute of this type (0: none) */
	const void *extra;
	size_t extra_len;
	bool noauth; /**< no credentials even when the client has a nonce */
};

/** Relayed data as the client received it. */
struct tcl_data {
	bool channel;	     /**< ChannelData (else a Data indication) */
	uint16_t number;     /**< channel number */
	struct tp_addr peer; /**< XOR-PEER-ADDRESS of a Data indication */
	size_t len;
	uint8_t buf[TCL_DATA_MAX];
	size_t frame_len; /**< the whole frame, padding included */
	bool pad_zero;	  /**< every padding byte was zero */
};

/** One client connection. */
struct tcl {
	int fd;
	int transport; /**< enum tcl_transport */
	void *ssl_ctx, *ssl;
	struct tp_addr server, local;
	uint8_t *rbuf;	     /**< the stream framer's buffer (TCL_FRAME_MAX bytes) */
	struct tp_framer fr; /**< splits a TCP or TLS stream into frames */
	/* frames received while a response was awaited, for tcl_recv_data() */
	uint8_t *queue[TCL_QUEUE];
	size_t queue_len[TCL_QUEUE];
	unsigned qhead, qlen;
	unsigned stray; /**< responses to nothing outstanding (late retransmissions) */
	/* credentials */
	char user[TP_STUN_USERNAME_MAX + 1];
	char pass[256];
	bool has_user;
	bool userhash; /**< send USERHASH instead of USERNAME */
	uint16_t alg; /**< 0: MD5 key, MESSAGE-INTEGRITY, no PASSWORD-ALGORITHM(S); else that one */
	bool fingerprint;
	/* learned from the last 401 or 438 */
	char realm[TP_STUN_REALM_MAX + 1];
	char nonce[TP_STUN_NONCE_MAX + 1];
	size_t realm_len, nonce_len;
	uint16_t pwalgs[8];
	size_t n_pwalgs;
	uint8_t key[TP_DIGEST_MAX];
	size_t key_len;
	/* the last exchange */
	uint8_t req[TCL_MSG_MAX];
	size_t req_len;
	bool req_authed; /**< the request carried credentials */
	uint8_t resp[TCL_FRAME_MAX];
	size_t resp_len;
	struct tp_stun_msg m; /**< the parsed response */
	int integrity;	      /**< of the response: 0 none, 1 MESSAGE-INTEGRITY, 256 -SHA256 */
	/* from the last successful Allocate */
	struct tp_addr relay[2];
	unsigned n_relay;
	uint32_t lifetime;
	struct tp_addr mapped;
	bool has_token;
	uint64_t token;
	bool has_addr_err;
	uint8_t addr_err_family;
	int addr_err_code;
	char err[256]; /**< why the last call failed */
};

/** Parse "ip", "ip:port" or "[ip]:port"; family 0 when it is none of those. */
struct tp_addr tcl_addr(const char *text);

/** @p a as text with its port, into a static buffer (for messages). */
const char *tcl_addr_str(const struct tp_addr *a);

/**
 * Connect to @p server over @p transport, from @p local_ip (NULL: the kernel's choice). TLS
 * does not verify the server's certificate. @return 0 or a negative enum tcl_err.
 */
int tcl_open(struct tcl *c, int transport, const struct tp_addr *server, const char *local_ip);

/** Close the connection and free its buffers (a closed or zeroed client is fine). */
void tcl_close(struct tcl *c);

/** Credentials for the requests that follow; forget any nonce learned. */
void tcl_set_user(struct tcl *c, const char *user, const char *pass);

/** A TURN REST username "expiry:user" and its password base64(HMAC-SHA1(secret, name)). */
void tcl_rest_credentials(const char *secret, uint64_t expiry, const char *user, char *name,
			  size_t name_cap, char *pass, size_t pass_cap);

/** Bytes as they are, e.g. a malformed message. @return 0 or a negative enum tcl_err. */
int tcl_send_raw(struct tcl *c, const void *p, size_t n);

/**
 * The next datagram or stream frame, from the queue first. @return its length (copied to
 * @p buf, cut at @p cap), or a negative enum tcl_err.
 */
long tcl_recv_frame(struct tcl *c, uint8_t *buf, size_t cap, int timeout_ms);

/** Build @p rq into c->req, with credentials when a nonce is known (and not rq->noauth). */
int tcl_build(struct tcl *c, const struct tcl_req *rq);

/** Send c->req and wait for its response (retransmitting over UDP), checking it. */
int tcl_transact(struct tcl *c, int timeout_ms);

/** Take REALM, NONCE and PASSWORD-ALGORITHMS from the last response (a 401 or 438). */
int tcl_learn(struct tcl *c);

/** Build, send and wait; after a 401 or 438 learn the realm and nonce and retry (twice). */
int tcl_request(struct tcl *c, const struct tcl_req *rq);

/** Binding; @p mapped (may be NULL) receives XOR-MAPPED-ADDRESS. */
int tcl_binding(struct tcl *c, struct tp_addr *mapped);

/** Allocate with the options in @p opt (NULL: a plain UDP allocation); fills c->relay etc. */
int tcl_allocate(struct tcl *c, const struct tcl_req *opt);

/** Refresh with LIFETIME @p lifetime, or none when negative; c->lifetime gets the answer. */
int tcl_refresh(struct tcl *c, long lifetime);

/** CreatePermission for @p n peers in one request. */
int tcl_permit(struct tcl *c, const struct tp_addr *peers, unsigned n);

/** ChannelBind @p channel to @p peer. */
int tcl_bind(struct tcl *c, uint16_t channel, const struct tp_addr *peer);

/** A Send indication to @p peer (with DONT-FRAGMENT when @p df). @return 0 or an error. */
int tcl_send(struct tcl *c, const struct tp_addr *peer, const void *data, size_t len, bool df);

/** ChannelData on @p channel, padded to 4 bytes over a stream. @return 0 or an error. */
int tcl_chandata(struct tcl *c, uint16_t channel, const void *data, size_t len);

/**
 * Wait for relayed data: a Data indication or ChannelData (responses that arrive meanwhile are
 * counted in c->stray and skipped). @return 1, or a negative enum tcl_err.
 */
int tcl_recv_data(struct tcl *c, struct tcl_data *d, int timeout_ms);

/** The ERROR-CODE of the last response, 0 when it was a success. */
int tcl_code(const struct tcl *c);

/** A UDP peer on a loopback address. */
struct tcl_peer {
	int fd;
	struct tp_addr addr; /**< where it is bound */
};

/** Open a peer on @p ip ("127.0.0.1", "::1") and a free port. @return 0 or TCL_EIO. */
int tcl_peer_open(struct tcl_peer *p, const char *ip);
void tcl_peer_close(struct tcl_peer *p);
/** Send a datagram to @p to. @return 0 or TCL_EIO. */
int tcl_peer_send(struct tcl_peer *p, const struct tp_addr *to, const void *data, size_t len);
/** Receive a datagram. @return its length, or TCL_ETIMEOUT / TCL_EIO. */
long tcl_peer_recv(struct tcl_peer *p, void *buf, size_t cap, struct tp_addr *from, int timeout_ms);

/* Used by both halves of the library (tclient.c and tclient_net.c). */
uint64_t tcl_now_ms(void);
/** Fill c->err from a format; @return @p rc. */
int tcl_fail(struct tcl *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** One datagram or frame from the socket, without looking at the queue. */
long tcl_net_recv(struct tcl *c, uint8_t *buf, size_t cap, int timeout_ms);

#endif /* TP_FUNC_TCLIENT_H */
