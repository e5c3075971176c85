/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The table-driven reader behind tp_config_load_*().
 *
 * Every key is one struct conf_opt row: its JSON name, its kind, where it lands in the C struct,
 * its range and its default (the Knot DNS way of declaring options). conf_parse_object() walks a
 * JSON object against a table: it refuses unknown and duplicate keys, applies defaults for
 * absent ones, converts and range-checks present ones, recurses into nested objects and arrays,
 * and finally runs the table's cross-key check. keys.c holds the tables; schema.c the walker.
 */
#ifndef TP_CONF_INT_H
#define TP_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <turnpike/conf.h>

#if defined(__GNUC__) || defined(__clang__)
#define CONF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CONF_PRINTF(f, a)
#endif

/** What a key holds, and so how the walker converts it. */
enum conf_kind {
	CONF_INT,      /* integer in [min, max] -> unsigned field of `size` bytes */
	CONF_BOOL,     /* true/false -> bool */
	CONF_STR,      /* UTF-8 string of min..max bytes -> const char * */
	CONF_ENUM,     /* one of names[] -> unsigned field: values[i], or i without values */
	CONF_ADDR,     /* bare IP address -> struct tp_addr (family and ip; the port is kept) */
	CONF_ENDPOINT, /* "192.0.2.1:9641", "[2001:db8::1]:9641" -> struct tp_addr, port required */
	CONF_CIDR,     /* "addr/prefix" -> struct tp_cidr */
	CONF_OBJ,      /* nested object -> struct described by sub */
	CONF_ARRAY,    /* JSON array -> pointer to elements described by elem, and a size_t count */
	CONF_CUSTOM,   /* anything else: fn does the work */
};

/* Flags. */
#define CONF_REQUIRED (1u << 0) /* absent is an error */
#define CONF_POW2     (1u << 1) /* CONF_INT: a power of two */
#define CONF_IPV4     (1u << 2) /* CONF_ADDR, CONF_CIDR: IPv4 only */
#define CONF_IPV6     (1u << 3) /* CONF_ADDR, CONF_CIDR: IPv6 only */
#define CONF_SPECIFIC (1u << 4) /* CONF_ADDR, CONF_CIDR: not 0.0.0.0 or :: */
#define CONF_HOSTBITS (1u << 5) /* CONF_CIDR: an interface address; keep the host bits */
/* CONF_OBJ: an optional feature. Absent, its struct stays zeroed (no defaults, no required
 * keys, no check), so the check can mark it enabled when the object is present. */
#define CONF_OPTIONAL (1u << 6)

struct conf_ctx;
struct conf_opt;

/** Parses @p item into the field of @p o in @p base; 0 or -1 (after conf_fail). */
typedef int conf_fn(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item, void *base);

/** Cross-key rules for one object, run after all its keys; 0 or -1 (after conf_fail). */
typedef int conf_check_fn(struct conf_ctx *ctx, void *base);

/** A table of keys for one JSON object and the C struct it fills. */
struct conf_schema {
	const struct conf_opt *opts;
	size_t n_opts;	      /* at most 64 */
	size_t size;	      /* sizeof the struct */
	conf_check_fn *check; /* or NULL */
};

/** One key. */
struct conf_opt {
	const char *key; /* NULL for an array element */
	enum conf_kind kind;
	unsigned flags;
	size_t off;		       /* of the field in the struct */
	size_t size;		       /* of the field (for CONF_ARRAY: of the pointer) */
	size_t count_off;	       /* CONF_ARRAY: of the size_t count */
	int64_t min, max;	       /* CONF_INT: value; CONF_STR: bytes; CONF_ARRAY: entries */
	int64_t def;		       /* CONF_INT, CONF_BOOL, CONF_ENUM (an index into names) */
	const char *sdef;	       /* CONF_STR default, or NULL */
	const char *const *names;      /* CONF_ENUM: NULL-terminated */
	const uint16_t *values;	       /* CONF_ENUM: stored values, or NULL for the index */
	const struct conf_schema *sub; /* CONF_OBJ */
	const struct conf_opt *elem;   /* CONF_ARRAY: one element (key NULL, off 0) */
	conf_fn *fn;		       /* CONF_CUSTOM */
};

#define CONF_SCHEMA(opts_, type_, check_)                                        \
	{                                                                        \
		opts_, sizeof(opts_) / sizeof((opts_)[0]), sizeof(type_), check_ \
	}

/* Field placement: offset and size of T's member f (f may be nested, e.g. addr.port). */
#define CONF_AT(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)
/* Array placement: pointer member p and its size_t count member n. */
#define CONF_ARR_AT(T, p, n) CONF_AT(T, p), .count_off = offsetof(T, n)

/** The state of one load. */
struct conf_chunk;
struct conf_ctx {
	const char *name;	   /* file name for messages */
	char *err;		   /* caller's buffer, may be NULL */
	size_t errlen;		   /* its size */
	char path[256];		   /* JSON path of the value being read: ".listen[1].port" */
	size_t pathlen;		   /* strlen(path) */
	struct conf_chunk *chunks; /* everything the config points to */
	bool failed;		   /* a message has been written */
};

/** Write "name: <message>" into the error buffer (first error only). Returns -1. */
int conf_error(struct conf_ctx *ctx, const char *fmt, ...) CONF_PRINTF(2, 3);

/**
 * Write "name: path<sub>: <message>": @p sub is appended to the current path verbatim
 * (".port_max", "[2]", or NULL for the path itself); the root path prints as ".". Returns -1.
 */
int conf_fail(struct conf_ctx *ctx, const char *sub, const char *fmt, ...) CONF_PRINTF(3, 4);

/** Append to the path; returns the old length for conf_path_pop(). */
size_t conf_path_push(struct conf_ctx *ctx, const char *fmt, ...) CONF_PRINTF(2, 3);
void conf_path_pop(struct conf_ctx *ctx, size_t len);

/** Zeroed memory owned by the config being built; NULL (with a message) when out of memory. */
void *conf_alloc(struct conf_ctx *ctx, size_t size);
void conf_free_chunks(struct conf_chunk *c);

/** @p s as a quoted, escaped, length-limited string for messages: "sctp". */
void conf_quote(char *out, size_t cap, const char *s);

/** "a string", "a number", ... for "got ..." in messages. */
const char *conf_json_type(const cJSON *item);

/** Walk @p obj (NULL: the object is absent) against @p schema into @p base. 0 or -1. */
int conf_parse_object(struct conf_ctx *ctx, const struct conf_schema *schema, const cJSON *obj,
		      void *base);

/** The root table, in keys.c. */
extern const struct conf_schema conf_root_schema;

/** True when @p a is 0.0.0.0 or ::. */
bool conf_addr_unspecified(const struct tp_addr *a);

#endif /* TP_CONF_INT_H */
