/* SPDX-License-Identifier: BSD-3-Clause */
/* From the operator's configuration to what the engine and the socket plane need. */
#ifndef TP_APP_PARAMS_H
#define TP_APP_PARAMS_H

#include <turnpike/conf.h>
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

/* Socket-plane settings for @cfg; @ls receives cfg->n_listen entries. */
void tp_app_sockdp_conf(const struct tp_config *cfg, struct tp_sockdp_listener *ls,
			struct tp_sockdp_conf *out);

#endif /* TP_APP_PARAMS_H */
