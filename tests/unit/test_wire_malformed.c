/* SPDX-License-Identifier: BSD-3-Clause */
#include "test_wire.h"

TCase *wire_malformed_tcase(void)
{
	return tcase_create("malformed");
}
