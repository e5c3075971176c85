/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The walker that reads a JSON object against a table of keys (conf_int.h), plus what it needs:
 * the JSON path and error messages, and the memory the finished config owns.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turnpike/addr.h>

#include "conf_int.h"

/* ---- memory: a chain of chunks that the config owns and frees at once ---- */

#define CHUNK_SIZE 8192

struct conf_chunk {
	struct conf_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *conf_alloc(struct conf_ctx *ctx, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct conf_chunk *c = ctx->chunks;
	void *p;

	if (size > SIZE_MAX / 2) {
		conf_error(ctx, "out of memory");
		return NULL;
	}
	size = (size + align - 1) / align * align;
	if (!c || c->cap - c->used < size) {
		size_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;

		c = calloc(1, sizeof(*c) + cap);
		if (!c) {
			conf_error(ctx, "out of memory");
			return NULL;
		}
		c->cap = cap;
		c->next = ctx->chunks;
		ctx->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

void conf_free_chunks(struct conf_chunk *c)
{
	while (c) {
		struct conf_chunk *next = c->next;

		free(c);
		c = next;
	}
}

/* ---- messages ---- */

int conf_error(struct conf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ctx->failed)
		return -1; /* the first error is the one the operator needs */
	ctx->failed = true;
	if (!ctx->err || !ctx->errlen)
		return -1;
	n = snprintf(ctx->err, ctx->errlen, "%s: ", ctx->name);
	if (n < 0 || (size_t)n >= ctx->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

int conf_fail(struct conf_ctx *ctx, const char *sub, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!sub)
		sub = "";
	/* jq's convention: the document itself is "." */
	return conf_error(ctx, "%s%s: %s", ctx->pathlen || *sub ? ctx->path : ".", sub, msg);
}

size_t conf_path_push(struct conf_ctx *ctx, const char *fmt, ...)
{
	size_t old = ctx->pathlen, room = sizeof(ctx->path) - old;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ctx->path + old, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		ctx->pathlen += (size_t)n < room ? (size_t)n : room - 1;
	return old;
}

void conf_path_pop(struct conf_ctx *ctx, size_t len)
{
	ctx->pathlen = len;
	ctx->path[len] = '\0';
}

void conf_quote(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	if (cap < 16) {
		if (cap)
			out[0] = '\0';
		return;
	}
	out[n++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		/* Stop at a character boundary once long enough; always before overflowing. */
		if (((c & 0xc0) != 0x80 && n > 40) || n + 12 > cap)
			break;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	if (*s) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n++] = '"';
	out[n] = '\0';
}

/* A number as the operator wrote it, near enough: integers exactly, the rest with %g. */
static void describe_number(char *out, size_t cap, double v)
{
	if (v > -9.0e18 && v < 9.0e18 && (double)(long long)v == v)
		snprintf(out, cap, "%lld", (long long)v);
	else
		snprintf(out, cap, "%g", v);
}

/* The value of @p item for "got ...": strings quoted, numbers and literals as such. */
static void describe(char *out, size_t cap, const cJSON *item)
{
	if (cJSON_IsString(item))
		conf_quote(out, cap, item->valuestring);
	else if (cJSON_IsNumber(item))
		describe_number(out, cap, item->valuedouble);
	else if (cJSON_IsTrue(item))
		snprintf(out, cap, "true");
	else if (cJSON_IsFalse(item))
		snprintf(out, cap, "false");
	else
		snprintf(out, cap, "%s", conf_json_type(item));
}

const char *conf_json_type(const cJSON *item)
{
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsNull(item))
		return "null";
	if (cJSON_IsArray(item))
		return "an array";
	if (cJSON_IsObject(item))
		return "an object";
	return "an invalid value";
}

/* RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned c = *s++, need;
		uint32_t cp, min;

		if (c < 0x80)
			continue;
		if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		while (need--) {
			if ((*s & 0xc0) != 0x80) /* also stops at the NUL */
				return false;
			cp = cp << 6 | (*s++ & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

bool conf_addr_unspecified(const struct tp_addr *a)
{
	static const uint8_t zero[16];

	return a->family && memcmp(a->ip, zero, tp_addr_iplen(a)) == 0;
}

/* ---- one value of each kind ---- */

static void store_uint(void *field, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(field, &u8, 1);
		break;
	case 2:
		memcpy(field, &u16, 2);
		break;
	case 4:
		memcpy(field, &u32, 4);
		break;
	default:
		memcpy(field, &v, sizeof(v));
		break;
	}
}

static int parse_int(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item, void *field)
{
	bool pow2 = o->flags & CONF_POW2;
	char got[80];
	double v;

	describe(got, sizeof(got), item);
	if (!cJSON_IsNumber(item))
		return conf_fail(ctx, NULL, "must be an integer, got %s", got);
	v = item->valuedouble;
	if (v > -9.0e18 && v < 9.0e18 && (double)(long long)v != v)
		return conf_fail(ctx, NULL, "must be an integer, got %s", got);
	if (!(v >= (double)o->min && v <= (double)o->max) ||
	    (pow2 && ((uint64_t)v & ((uint64_t)v - 1)) != 0))
		return conf_fail(ctx, NULL, "must be %s%lld..%lld, got %s",
				 pow2 ? "a power of two in " : "", (long long)o->min,
				 (long long)o->max, got);
	store_uint(field, o->size, (uint64_t)v);
	return 0;
}

static int parse_bool(struct conf_ctx *ctx, const cJSON *item, void *field)
{
	char got[80];
	bool b;

	if (!cJSON_IsBool(item)) {
		describe(got, sizeof(got), item);
		return conf_fail(ctx, NULL, "must be true or false, got %s", got);
	}
	b = cJSON_IsTrue(item);
	memcpy(field, &b, sizeof(b));
	return 0;
}

static int parse_str(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item, void *field)
{
	char got[80];
	char *copy;
	size_t len;

	if (!cJSON_IsString(item)) {
		describe(got, sizeof(got), item);
		return conf_fail(ctx, NULL, "must be a string, got %s", got);
	}
	len = strlen(item->valuestring);
	if ((int64_t)len < o->min || (int64_t)len > o->max)
		return conf_fail(ctx, NULL, "must be %lld..%lld bytes long, got %lu",
				 (long long)o->min, (long long)o->max, (unsigned long)len);
	if (!utf8_valid(item->valuestring))
		return conf_fail(ctx, NULL, "must be valid UTF-8");
	copy = conf_alloc(ctx, len + 1);
	if (!copy)
		return -1;
	memcpy(copy, item->valuestring, len + 1);
	memcpy(field, &copy, sizeof(copy));
	return 0;
}

static int parse_enum(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item,
		      void *field)
{
	char list[128], got[80];
	size_t n = 0;

	for (size_t i = 0; cJSON_IsString(item) && o->names[i]; i++) {
		if (strcmp(item->valuestring, o->names[i]) == 0) {
			store_uint(field, o->size, o->values ? o->values[i] : i);
			return 0;
		}
	}
	list[0] = '\0';
	for (size_t i = 0; o->names[i] && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "",
				      o->names[i]);
	describe(got, sizeof(got), item);
	return conf_fail(ctx, NULL, "must be one of %s, got %s", list, got);
}

static int parse_addr(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item,
		      void *field)
{
	const char *what = o->flags & CONF_IPV4	  ? "an IPv4 address"
			   : o->flags & CONF_IPV6 ? "an IPv6 address"
						  : "an IP address";
	struct tp_addr a, old;
	char got[80];

	describe(got, sizeof(got), item);
	if (!cJSON_IsString(item) || tp_addr_parse_ip(&a, item->valuestring) < 0 ||
	    (o->flags & CONF_IPV4 && a.family != TP_AF_INET) ||
	    (o->flags & CONF_IPV6 && a.family != TP_AF_INET6))
		return conf_fail(ctx, NULL, "must be %s, got %s", what, got);
	if (o->flags & CONF_SPECIFIC && conf_addr_unspecified(&a))
		return conf_fail(ctx, NULL, "must be a specific address, got %s", got);
	memcpy(&old, field, sizeof(old));
	a.port = old.port; /* a listener's port is a key of its own */
	memcpy(field, &a, sizeof(a));
	return 0;
}

/* An address with a port: the socket a TCP service (the metrics endpoint) listens on. */
static int parse_endpoint(struct conf_ctx *ctx, const cJSON *item, void *field)
{
	struct tp_addr a;
	char got[80];

	describe(got, sizeof(got), item);
	if (!cJSON_IsString(item) || tp_addr_parse(&a, item->valuestring) < 0 || !a.port)
		return conf_fail(ctx, NULL, "must be an address with a port, got %s", got);
	memcpy(field, &a, sizeof(a));
	return 0;
}

static int parse_cidr(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item,
		      void *field)
{
	bool host = o->flags & CONF_HOSTBITS;
	struct tp_cidr c;
	char got[80], ip[64];
	size_t len;

	describe(got, sizeof(got), item);
	if (!cJSON_IsString(item) || tp_cidr_parse(&c, item->valuestring) < 0)
		goto bad;
	if (host) {
		/* An interface address keeps its host part: "10.99.0.2/24" is 10.99.0.2 on a /24.
		 */
		len = strcspn(item->valuestring, "/");
		if (len >= sizeof(ip))
			goto bad;
		memcpy(ip, item->valuestring, len);
		ip[len] = '\0';
		if (tp_addr_parse_ip(&c.addr, ip) < 0)
			goto bad;
	}
	if (o->flags & CONF_SPECIFIC && conf_addr_unspecified(&c.addr))
		return conf_fail(ctx, NULL, "must be a specific address, got %s", got);
	memcpy(field, &c, sizeof(c));
	return 0;
bad:
	return conf_fail(ctx, NULL, "must be %s, got %s",
			 host ? "an address with a prefix length like \"192.0.2.10/24\""
			      : "a CIDR prefix like \"10.0.0.0/8\" or \"fc00::/7\"",
			 got);
}

static int parse_value(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item,
		       void *base);

static int parse_array(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item,
		       void *base)
{
	const struct conf_opt *e = o->elem;
	const cJSON *child;
	char got[80];
	char *elems = NULL;
	size_t count, i = 0;
	int n;

	if (!cJSON_IsArray(item)) {
		describe(got, sizeof(got), item);
		return conf_fail(ctx, NULL, "must be an array, got %s", got);
	}
	n = cJSON_GetArraySize(item);
	if (n < o->min)
		return conf_fail(ctx, NULL, "must have at least %lld entr%s, got %d",
				 (long long)o->min, o->min == 1 ? "y" : "ies", n);
	if (n > o->max)
		return conf_fail(ctx, NULL, "must have at most %lld entries, got %d",
				 (long long)o->max, n);
	count = (size_t)n;
	if (count) {
		elems = conf_alloc(ctx, count * e->size); /* count <= max, so no overflow */
		if (!elems)
			return -1;
	}
	cJSON_ArrayForEach(child, item)
	{
		size_t mark = conf_path_push(ctx, "[%lu]", (unsigned long)i);
		int r = parse_value(ctx, e, child, elems + i * e->size);

		conf_path_pop(ctx, mark);
		if (r < 0)
			return -1;
		i++;
	}
	memcpy((char *)base + o->off, &elems, sizeof(elems));
	memcpy((char *)base + o->count_off, &count, sizeof(count));
	return 0;
}

static int parse_value(struct conf_ctx *ctx, const struct conf_opt *o, const cJSON *item,
		       void *base)
{
	void *field = (char *)base + o->off;
	char got[80];

	switch (o->kind) {
	case CONF_INT:
		return parse_int(ctx, o, item, field);
	case CONF_BOOL:
		return parse_bool(ctx, item, field);
	case CONF_STR:
		return parse_str(ctx, o, item, field);
	case CONF_ENUM:
		return parse_enum(ctx, o, item, field);
	case CONF_ADDR:
		return parse_addr(ctx, o, item, field);
	case CONF_ENDPOINT:
		return parse_endpoint(ctx, item, field);
	case CONF_CIDR:
		return parse_cidr(ctx, o, item, field);
	case CONF_OBJ:
		if (!cJSON_IsObject(item)) {
			describe(got, sizeof(got), item);
			return conf_fail(ctx, NULL, "must be an object, got %s", got);
		}
		return conf_parse_object(ctx, o->sub, item, field);
	case CONF_ARRAY:
		return parse_array(ctx, o, item, base);
	case CONF_CUSTOM:
		return o->fn(ctx, o, item, base);
	}
	return conf_fail(ctx, NULL, "internal error: unknown option kind");
}

/* An absent key: its default, or for a nested object, the defaults of all its keys. */
static int apply_default(struct conf_ctx *ctx, const struct conf_opt *o, void *base)
{
	void *field = (char *)base + o->off;
	bool b = o->def != 0;

	switch (o->kind) {
	case CONF_INT:
		store_uint(field, o->size, (uint64_t)o->def);
		break;
	case CONF_ENUM:
		store_uint(field, o->size, o->values ? o->values[o->def] : (uint64_t)o->def);
		break;
	case CONF_BOOL:
		memcpy(field, &b, sizeof(b));
		break;
	case CONF_STR:
		memcpy(field, &o->sdef, sizeof(o->sdef));
		break;
	case CONF_OBJ:
		if (o->flags & CONF_OPTIONAL)
			break; /* the feature is off: its struct stays zeroed */
		return conf_parse_object(ctx, o->sub, NULL, field);
	default:
		break; /* addresses and arrays stay zero: absent */
	}
	return 0;
}

int conf_parse_object(struct conf_ctx *ctx, const struct conf_schema *schema, const cJSON *obj,
		      void *base)
{
	uint64_t seen = 0;
	char q[80];

	if (schema->n_opts > 64) /* the seen mask below has 64 bits */
		return conf_fail(ctx, NULL, "internal error: table too large");
	/* Every key must be known, and known once: cJSON keeps duplicates, a config must not. */
	for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
		size_t i = 0;

		while (i < schema->n_opts && strcmp(schema->opts[i].key, c->string) != 0)
			i++;
		conf_quote(q, sizeof(q), c->string);
		if (i == schema->n_opts)
			return conf_fail(ctx, NULL, "unknown key %s", q);
		if (seen >> i & 1)
			return conf_fail(ctx, NULL, "duplicate key %s", q);
		seen |= (uint64_t)1 << i;
	}

	for (size_t i = 0; i < schema->n_opts; i++) {
		const struct conf_opt *o = &schema->opts[i];
		const cJSON *item = NULL;
		size_t mark;
		int r;

		if (seen >> i & 1) {
			item = obj->child;
			while (strcmp(item->string, o->key) != 0)
				item = item->next;
		} else if (o->flags & CONF_REQUIRED) {
			return conf_fail(ctx, NULL, "missing key \"%s\"", o->key);
		}
		mark = conf_path_push(ctx, ".%s", o->key);
		r = item ? parse_value(ctx, o, item, base) : apply_default(ctx, o, base);
		conf_path_pop(ctx, mark);
		if (r < 0)
			return -1;
	}
	return schema->check ? schema->check(ctx, base) : 0;
}
