/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The configuration: one JSON file, read strictly into an immutable struct tp_config.
 *
 * tp_config_load_file() parses, checks every key against its type and range, applies defaults
 * and runs the cross-key rules, then returns a struct that nothing modifies afterwards: the
 * control thread publishes it to the shards by pointer (DESIGN.md §5) and frees it with
 * tp_config_destroy() once no shard can still see it. Everything the struct points to lives
 * in memory owned by it; there is nothing to free separately.
 *
 * Any error yields NULL and exactly one message naming the file, the JSON path and the rule:
 *
 *     dev.json: .relay.port_min: must be 1024..65535, got 70000
 *     dev.json: .listen[1].transport: must be one of "udp", "tcp", "tls", got "sctp"
 *     dev.json: .auth.users[0]: unknown key "passwd"
 *     dev.json: line 7: JSON syntax error
 *
 * docs/config.md lists every key with its type, range, default and meaning.
 */
#ifndef TURNPIKE_CONF_H
#define TURNPIKE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>

/** Transport of a listener (`listen[].transport`). */
enum tp_conf_transport {
	TP_CONF_UDP = 0, /**< "udp" */
	TP_CONF_TCP,	 /**< "tcp" */
	TP_CONF_TLS,	 /**< "tls": TCP with TLS (OpenSSL) */
};

/** Log verbosity (`log.level`); each level includes the ones before it. */
enum tp_conf_log_level {
	TP_CONF_LOG_ERROR = 0, /**< "error" */
	TP_CONF_LOG_WARN,      /**< "warn" */
	TP_CONF_LOG_INFO,      /**< "info" */
	TP_CONF_LOG_DEBUG,     /**< "debug" */
};

/** Which data plane relays the packets (`dataplane.kind`). */
enum tp_conf_dataplane_kind {
	TP_CONF_SOCKETS = 0, /**< "sockets": the kernel-socket fallback */
	TP_CONF_DPDK,	     /**< "dpdk": the DPDK data plane */
};

/** One listening socket (`listen[]`). */
struct tp_conf_listener {
	enum tp_conf_transport transport; /**< "transport" */
	struct tp_addr addr;		  /**< "address" and "port" (default 3478, 5349 for TLS) */
	const char *cert; /**< "cert": PEM certificate chain path; TLS only, else NULL */
	const char *key;  /**< "key": PEM private key path; TLS only, else NULL */
};

/** Relayed transport addresses (`relay`). At least one of the two addresses is set. */
struct tp_conf_relay {
	struct tp_addr address;	 /**< "address": IPv4 relay address; family 0 when absent */
	struct tp_addr address6; /**< "address6": IPv6 relay address; family 0 when absent */
	uint16_t port_min;	 /**< "port_min": first relay port (default 49152) */
	uint16_t port_max;	 /**< "port_max": last relay port, >= port_min (default 65535) */
};

/** A static long-term-credential user (`auth.users[]`). */
struct tp_conf_user {
	const char *name;     /**< "name": 1..508 bytes (RFC 8489 §14.3) */
	const char *password; /**< "password" */
};

/** Authentication (`auth`). */
struct tp_conf_auth {
	bool required; /**< "required" (default true); false only for closed test networks */
	const struct tp_conf_user *users; /**< "users", names unique */
	size_t n_users;
	const char *secret;	 /**< "secret": TURN REST API shared secret; NULL when absent */
	uint32_t nonce_lifetime; /**< "nonce_lifetime": seconds a nonce stays fresh (600) */
	/** "password_algorithms": enum tp_stun_pwalg values in order of preference (SHA-256, MD5)
	 */
	const uint16_t *password_algorithms;
	size_t n_password_algorithms;
};

/** Quotas and lifetimes (`limits`). */
struct tp_conf_limits {
	uint32_t allocations_per_user;	     /**< 486 beyond this (default 10) */
	uint32_t allocations_total;	     /**< 508 beyond this (default 100000) */
	uint32_t permissions_per_allocation; /**< default 1024 */
	uint32_t channels_per_allocation;    /**< default 1024 */
	uint32_t max_lifetime;		     /**< seconds; the cap on LIFETIME (default 3600) */
	uint32_t default_lifetime;	     /**< seconds; <= max_lifetime (default 600) */
	uint64_t bandwidth_bps;		     /**< per allocation, bits/s; 0 = unlimited (default) */
	uint32_t unauth_rate; /**< 401 responses per second per source (default 10) */
};

/** Peer access control on top of the built-in deny list (`peers`). */
struct tp_conf_peers {
	const struct tp_cidr *allow; /**< "allow": prefixes let through the built-in list */
	size_t n_allow;
	const struct tp_cidr *deny; /**< "deny": prefixes refused in addition; win over allow */
	size_t n_deny;
	bool allow_loopback; /**< "allow_loopback": relay to 127/8 and ::1 (tests only) */
};

/** One DPDK port (`dataplane.dpdk.ports[]`). */
struct tp_conf_dpdk_port {
	const char *device; /**< "device": EAL name, e.g. "0000:3b:00.0" or "net_tap0" */
	/** "addresses": the port's own addresses; addr keeps its host bits, prefix is on-link */
	const struct tp_cidr *addresses;
	size_t n_addresses;
	struct tp_addr gateway4; /**< IPv4 "gateway"; family 0 when absent */
	struct tp_addr gateway6; /**< IPv6 "gateway"; family 0 when absent */
	uint16_t mtu;		 /**< "mtu" (default 1500) */
	uint16_t queues;	 /**< "queues": RX/TX queue pairs (default 1) */
	uint16_t rx_desc;	 /**< "rx_desc": descriptors per RX queue, power of two (1024) */
	uint16_t tx_desc;	 /**< "tx_desc": descriptors per TX queue, power of two (1024) */
};

/**
 * Relay addresses on the host's kernel interfaces (`dataplane.dpdk.kernel_relay`). With kind
 * "dpdk", TCP and TLS clients are served by socket workers on kernel interfaces, and the UDP
 * they relay leaves from kernel sockets bound to these addresses; they must not be addresses of
 * a DPDK port, which the kernel does not see.
 *
 * When the object is absent and TCP or TLS listeners exist with kind "dpdk", the loader fills in
 * the first specific IPv4 and the first specific IPv6 address among those listeners (derived is
 * then true); it refuses the file when there is none.
 */
struct tp_conf_kernel_relay {
	struct tp_addr address;	 /**< "address": IPv4; family 0 when absent */
	struct tp_addr address6; /**< "address6": IPv6; family 0 when absent */
	bool configured;	 /**< the object is present in the file */
	bool derived;		 /**< filled in from the TCP/TLS listeners' addresses */
};

/** The DPDK data plane (`dataplane.dpdk`); checked even when kind is "sockets", used only with
 * "dpdk". */
struct tp_conf_dpdk {
	const char *const *eal; /**< "eal": EAL arguments, without a program name */
	size_t n_eal;
	const struct tp_conf_dpdk_port *ports; /**< "ports"; at least one with kind "dpdk" */
	size_t n_ports;
	uint32_t mbufs; /**< "mbufs": mbufs per pool (default 16384) */
	uint16_t burst; /**< "burst": packets per rx/tx burst (default 32) */
	struct tp_conf_kernel_relay kernel_relay; /**< "kernel_relay" (TCP and TLS clients) */
};

/** The data plane (`dataplane`). */
struct tp_conf_dataplane {
	enum tp_conf_dataplane_kind kind; /**< "kind" (default "sockets") */
	uint16_t workers;		  /**< "workers": shards, one thread or lcore each (1) */
	struct tp_conf_dpdk dpdk;	  /**< "dpdk" */
};

/** Logging (`log`). */
struct tp_conf_log {
	enum tp_conf_log_level level; /**< "level" (default "info") */
};

/** The Prometheus metrics endpoint (`metrics`, docs/metrics.md). */
struct tp_conf_metrics {
	bool enabled;	       /**< true when the "metrics" object is present */
	struct tp_addr listen; /**< "listen": TCP address and port of the HTTP endpoint */
};

/** A loaded, validated configuration. Read-only for everyone. */
struct tp_config {
	const char *name;     /**< the file name (or name given to the string loader) */
	const char *realm;    /**< "realm": 1..763 bytes (default "turnpike") */
	const char *software; /**< "software": SOFTWARE attribute text; NULL (default) sends none */
	const struct tp_conf_listener *listen; /**< "listen": at least one */
	size_t n_listen;
	struct tp_conf_relay relay;	    /**< "relay" */
	struct tp_conf_auth auth;	    /**< "auth" */
	struct tp_conf_limits limits;	    /**< "limits" */
	struct tp_conf_peers peers;	    /**< "peers" */
	struct tp_conf_dataplane dataplane; /**< "dataplane" */
	struct tp_conf_log log;		    /**< "log" */
	struct tp_conf_metrics metrics;	    /**< "metrics"; absent: disabled */
};

/**
 * Load and validate the JSON config in @p path.
 *
 * @param err     receives one NUL-terminated message on failure ("" on success); may be NULL
 * @param errlen  size of @p err; messages are cut to fit
 * @return the configuration, or NULL on any error (unreadable file, syntax, unknown key, wrong
 *         type, out-of-range value, violated cross-key rule, out of memory)
 */
struct tp_config *tp_config_load_file(const char *path, char *err, size_t errlen);

/**
 * Load and validate a config held in memory, as tp_config_load_file() does for a file.
 *
 * @param json  NUL-terminated JSON text; a leading UTF-8 byte order mark is skipped
 * @param name  how messages name the source, e.g. "dev.json"; "config" when NULL
 */
struct tp_config *tp_config_load_string(const char *json, const char *name, char *err,
					size_t errlen);

/** Free @p cfg and everything it points to. NULL is a no-op. */
void tp_config_destroy(struct tp_config *cfg);

#endif /* TURNPIKE_CONF_H */
