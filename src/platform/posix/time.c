/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clocks and sleeping: CLOCK_MONOTONIC for intervals and timers, CLOCK_REALTIME only for
 * timestamps that leave the process (REST usernames, nonces).
 */
#include "platform_int.h"

#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these clock ids and a valid pointer. */
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t tp_time_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t tp_time_mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000u;
}

uint64_t tp_time_unix_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec > 0 ? (uint64_t)ts.tv_sec : 0;
}

void tp_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	/* nanosleep leaves the remaining time in ts when a signal handler interrupts it. */
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
