/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The kernel-socket data plane (the fallback build): worker threads, each owning one engine
 * shard, its listeners, its client connections and the relay sockets of its allocations.
 *
 * Client datagrams reach the right worker through SO_REUSEPORT's 4-tuple hash; each worker
 * polls the relay sockets it opened, so peer data needs no hand-off either. Where the platform
 * has no load-balancing SO_REUSEPORT the plane runs a single worker and says so in the log.
 */
#ifndef TURNPIKE_SOCKDP_H
#define TURNPIKE_SOCKDP_H

#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>
#include <turnpike/engine.h>
#include <turnpike/stats.h>

/** A listening address. */
struct tp_sockdp_listener {
	uint8_t transport;   /**< enum tp_transport */
	struct tp_addr addr; /**< address and port */
	const char *cert;    /**< TLS: PEM certificate chain file */
	const char *key;     /**< TLS: PEM private key file */
};

/** What the socket plane needs to know; copied by tp_sockdp_start(). */
struct tp_sockdp_conf {
	const struct tp_sockdp_listener *listeners;
	unsigned n_listeners;
	struct tp_addr relay4;	     /**< IPv4 relay address (family 0 if none) */
	struct tp_addr relay6;	     /**< IPv6 relay address (family 0 if none) */
	uint16_t port_min, port_max; /**< relay ports */
	unsigned workers;	     /**< worker threads wanted */
	uint32_t max_allocations;    /**< in all; each shard is sized for its share of ports */
};

struct tp_sockdp;

/**
 * Open every listener, then start the workers. Fails (NULL, message in @p err) when a listener
 * cannot be bound or TLS material cannot be loaded.
 */
struct tp_sockdp *tp_sockdp_start(const struct tp_sockdp_conf *conf, struct tp_engine_shared *sh,
				  const struct tp_engine_policy *pol, char *err, size_t errlen);

/** Number of workers actually running. */
unsigned tp_sockdp_workers(const struct tp_sockdp *dp);

/**
 * Hand @p pol to every worker and wait until each has switched (its quiescent point); the
 * caller may then free the previous policy.
 */
void tp_sockdp_set_policy(struct tp_sockdp *dp, const struct tp_engine_policy *pol);

/** Add up the workers' counters into @p sum (zeroed first). */
void tp_sockdp_stats(const struct tp_sockdp *dp, struct tp_stats *sum);

/** Stop the workers, close every socket and free the plane. */
void tp_sockdp_stop(struct tp_sockdp *dp);

#endif /* TURNPIKE_SOCKDP_H */
