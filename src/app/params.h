/* SPDX-License-Identifier: BSD-3-Clause */
/* From the operator's configuration to what the engine and the socket plane need. */
#ifndef TP_APP_PARAMS_H
#define TP_APP_PARAMS_H

#include <turnpike/conf.h>
#include <turnpike/dpdkdp.h>
#include <turnpike/engine.h>
#include <turnpike/sockdp.h>

/* Engine parameters that point into @cfg, plus the arrays built for them. */
struct tp_app_params {
	struct tp_engine_params p;
	struct tp_engine_user *users;
	struct tp_addr *own;
};

/* Fill @ap from @cfg. 0, or -ENOMEM. Free with tp_app_params_fini(). */
int tp_app_params_init(struct tp_app_params *ap, const struct tp_config *cfg);
void tp_app_params_fini(struct tp_app_params *ap);

/* A policy for @cfg, or NULL with a message in @err. */
struct tp_engine_policy *tp_app_policy(const struct tp_config *cfg, char *err, size_t errlen);

/*
 * The policy of the socket shards that serve TCP and TLS clients with dataplane.kind "dpdk":
 * tp_app_policy()'s, with the relay addresses of dataplane.dpdk.kernel_relay.
 */
struct tp_engine_policy *tp_app_kernel_policy(const struct tp_config *cfg, char *err,
					      size_t errlen);

/*
 * Socket-plane settings for the TCP and TLS listeners of a "dpdk" @cfg (DESIGN §6): one worker
 * thread, relaying from dataplane.dpdk.kernel_relay over the relay port range. @ls receives
 * them (cfg->n_listen entries at most). @return how many there are.
 */
unsigned tp_app_kernel_conf(const struct tp_config *cfg, struct tp_sockdp_listener *ls,
			    struct tp_sockdp_conf *out);

/* Socket-plane settings for @cfg; @ls receives cfg->n_listen entries. */
void tp_app_sockdp_conf(const struct tp_config *cfg, struct tp_sockdp_listener *ls,
			struct tp_sockdp_conf *out);

/*
 * DPDK-plane settings for @cfg; @udp receives the UDP listeners (cfg->n_listen entries at most).
 * TCP and TLS listeners are not the DPDK plane's (see tp_app_kernel_conf()): @n_stream receives
 * how many were left out.
 */
void tp_app_dpdkdp_conf(const struct tp_config *cfg, struct tp_addr *udp,
			struct tp_dpdkdp_conf *out, unsigned *n_stream);

/*
 * Run the DPDK data plane for @cfg until SIGINT/SIGTERM, reloading @path on SIGHUP: EAL
 * arguments from dataplane.dpdk.eal, then @extra (the command line after "--"). *@cfg may be
 * replaced by a reloaded configuration; the caller still owns and frees it.
 * @return EXIT_SUCCESS or EXIT_FAILURE.
 */
int tp_app_run_dpdk(const char *path, struct tp_config **cfg, char *const *extra, int n_extra);

#endif /* TP_APP_PARAMS_H */
