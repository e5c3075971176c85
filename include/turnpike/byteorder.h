/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Big-endian loads and stores on byte pointers.
 *
 * Every multi-byte field on the wire is read and written through these helpers: they work on
 * any alignment (no casts of packet pointers to wider types, which fault on strict-alignment
 * CPUs), and compilers turn them into single load/bswap instructions where that is safe.
 */
#ifndef TURNPIKE_BYTEORDER_H
#define TURNPIKE_BYTEORDER_H

#include <stdint.h>

/** Read a big-endian 16-bit value from @p p. */
static inline uint16_t tp_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | (unsigned)p[1]);
}

/** Read a big-endian 32-bit value from @p p. */
static inline uint32_t tp_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/** Read a big-endian 64-bit value from @p p. */
static inline uint64_t tp_get_be64(const uint8_t *p)
{
	return (uint64_t)tp_get_be32(p) << 32 | tp_get_be32(p + 4);
}

/** Write @p v big-endian at @p p. */
static inline void tp_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/** Write @p v big-endian at @p p. */
static inline void tp_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/** Write @p v big-endian at @p p. */
static inline void tp_put_be64(uint8_t *p, uint64_t v)
{
	tp_put_be32(p, (uint32_t)(v >> 32));
	tp_put_be32(p + 4, (uint32_t)v);
}

#endif /* TURNPIKE_BYTEORDER_H */
