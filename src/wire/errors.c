/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>

#include <turnpike/wire.h>

static const char *const descs[TP_WIRE_ERR_COUNT] = { [TP_WIRE_OK] = "success",
#define TP_WIRE_X(name, desc) [TP_WIRE_E##name] = desc,
						      TP_WIRE_ERRORS(TP_WIRE_X)
#undef TP_WIRE_X
};

static const char *const names[TP_WIRE_ERR_COUNT] = { [TP_WIRE_OK] = "ok",
#define TP_WIRE_X(name, desc) [TP_WIRE_E##name] = #name,
						      TP_WIRE_ERRORS(TP_WIRE_X)
#undef TP_WIRE_X
};

static int index_of(int err)
{
	if (err < 0)
		err = -err;
	return err < TP_WIRE_ERR_COUNT ? err : -1;
}

const char *tp_wire_strerror(int err)
{
	int i = index_of(err);

	return i < 0 ? "unknown codec error" : descs[i];
}

const char *tp_wire_errname(int err)
{
	int i = index_of(err);

	return i < 0 ? "UNKNOWN" : names[i];
}
