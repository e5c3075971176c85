/* SPDX-License-Identifier: BSD-3-Clause */
/* A build without DPDK: --backend dpdk is refused by the option parser. */
#include <stdio.h>

#include "load.h"

bool ld_dpdk_available(void)
{
	return false;
}

struct ld_backend *ld_dpdk_create(const struct ld_conf *c, char *err, size_t errlen)
{
	(void)c;
	snprintf(err, errlen, "not built with DPDK");
	return NULL;
}
