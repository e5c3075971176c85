/* SPDX-License-Identifier: BSD-3-Clause */
#include "test_wire.h"

TCase *wire_build_tcase(void)
{
	return tcase_create("build");
}
