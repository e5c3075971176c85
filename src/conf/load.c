/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tp_config_load_file / _string / _destroy: read the text, hand it to cJSON, walk the result
 * against the key tables, and keep what the config points to in memory it owns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* A config file larger than this is a mistake (a log file, a disk image), not a config. */
#define CONF_FILE_MAX (16u << 20)

/* The public struct first, so a struct tp_config pointer is a pointer to the block. */
struct conf_block {
	struct tp_config cfg;
	struct conf_chunk *chunks;
};

static unsigned line_of(const char *text, const char *at)
{
	unsigned line = 1;

	for (const char *p = text; at && p < at && *p; p++)
		line += *p == '\n';
	return line;
}

struct tp_config *tp_config_load_string(const char *json, const char *name, char *err,
					size_t errlen)
{
	struct tp_config *cfg = NULL;
	struct conf_block *b = NULL;
	struct conf_ctx ctx;
	const char *end = NULL;
	cJSON *root = NULL;
	char *copy;
	char got[32];

	memset(&ctx, 0, sizeof(ctx));
	ctx.name = name ? name : "config";
	ctx.err = err;
	ctx.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	if (!json) {
		conf_error(&ctx, "no JSON text");
		goto out;
	}
	if (strncmp(json, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 BOM, as Windows editors write */
		json += 3;

	/* The parse-end pointer is what cJSON_GetErrorPtr() would return, without its global. */
	root = cJSON_ParseWithOpts(json, &end, 1);
	if (!root) {
		conf_error(&ctx, "line %u: JSON syntax error", line_of(json, end));
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(got, sizeof(got), "%s", conf_json_type(root));
		conf_fail(&ctx, NULL, "must be an object, got %s", got);
		goto out;
	}

	b = calloc(1, sizeof(*b));
	if (!b) {
		conf_error(&ctx, "out of memory");
		goto out;
	}
	copy = conf_alloc(&ctx, strlen(ctx.name) + 1);
	if (!copy)
		goto out;
	memcpy(copy, ctx.name, strlen(ctx.name) + 1);
	b->cfg.name = copy;
	if (conf_parse_object(&ctx, &conf_root_schema, root, &b->cfg) < 0)
		goto out;
	b->chunks = ctx.chunks;
	ctx.chunks = NULL;
	cfg = &b->cfg;
	b = NULL;
out:
	cJSON_Delete(root);
	conf_free_chunks(ctx.chunks);
	free(b);
	return cfg;
}

struct tp_config *tp_config_load_file(const char *path, char *err, size_t errlen)
{
	struct tp_config *cfg = NULL;
	struct conf_ctx ctx;
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *nul;
	FILE *f = NULL;
	int e;

	memset(&ctx, 0, sizeof(ctx));
	ctx.name = path ? path : "(null)";
	ctx.err = err;
	ctx.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	if (!path) {
		conf_error(&ctx, "no file name");
		goto out;
	}
	f = fopen(path, "rb");
	if (!f) {
		conf_error(&ctx, "cannot open: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		if (cap - len < 2) {
			char *grown;

			if (cap >= CONF_FILE_MAX) {
				conf_error(&ctx, "larger than %u MiB", CONF_FILE_MAX >> 20);
				goto out;
			}
			cap = cap ? 2 * cap : 4096;
			grown = realloc(buf, cap);
			if (!grown) {
				conf_error(&ctx, "out of memory");
				goto out;
			}
			buf = grown;
		}
		errno = 0;
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		e = errno;
		conf_error(&ctx, "cannot read: %s", e ? strerror(e) : "I/O error");
		goto out;
	}
	buf[len] = '\0';
	/* cJSON stops at a NUL; what follows would be silently ignored. */
	nul = memchr(buf, '\0', len);
	if (nul) {
		conf_error(&ctx, "line %u: JSON syntax error", line_of(buf, nul));
		goto out;
	}
	cfg = tp_config_load_string(buf, path, err, errlen);
out:
	if (f)
		fclose(f);
	free(buf);
	return cfg;
}

void tp_config_destroy(struct tp_config *cfg)
{
	struct conf_block *b = (struct conf_block *)cfg;

	if (!b)
		return;
	conf_free_chunks(b->chunks);
	free(b);
}
