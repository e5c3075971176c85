/* SPDX-License-Identifier: BSD-3-Clause */
/* The test cases of the wire suite that live in their own files. */
#ifndef TP_TEST_WIRE_H
#define TP_TEST_WIRE_H

#include <check.h>

TCase *wire_malformed_tcase(void);
TCase *wire_build_tcase(void);

#endif
