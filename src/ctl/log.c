/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <turnpike/log.h>
#include <turnpike/platform.h>

static _Atomic int current = TP_LOG_INFO;

void tp_log_set_level(enum tp_log_level level)
{
	atomic_store(&current, (int)level);
}

enum tp_log_level tp_log_get_level(void)
{
	return (enum tp_log_level)atomic_load(&current);
}

int tp_log_enabled(enum tp_log_level level)
{
	return (int)level <= atomic_load_explicit(&current, memory_order_relaxed);
}

/* UTC calendar date of a UNIX day number (Howard Hinnant's days_from_civil, inverted). */
static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void tp_vlog(enum tp_log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	uint64_t now = tp_time_unix_s();
	unsigned mon, day, sec = (unsigned)(now % 86400);
	char line[1024];
	size_t n = 0;
	int year, k;

	if (!tp_log_enabled(level))
		return;
	civil((int64_t)(now / 86400), &year, &mon, &day);
	k = snprintf(line, sizeof(line), "%04d-%02u-%02uT%02u:%02u:%02uZ %-5s ", year, mon, day,
		     sec / 3600, sec / 60 % 60, sec % 60, names[(unsigned)level & 3]);
	if (k > 0)
		n = (size_t)k;
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (k > 0)
		n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
	fflush(stderr);
}

void tp_log(enum tp_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tp_vlog(level, fmt, ap);
	va_end(ap);
}
