/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clocks and sleeping: QueryPerformanceCounter for intervals and timers (monotonic, and
 * invariant across cores since Windows Vista), the system time only for timestamps that leave
 * the process (REST usernames, nonces).
 */
#include "platform_int.h"

#include <stdatomic.h>

/* 100 ns intervals between 1601-01-01 (the FILETIME epoch) and 1970-01-01. */
#define FILETIME_UNIX_EPOCH 116444736000000000ull

uint64_t tp_time_mono_ns(void)
{
	/* Constant from boot: racing first callers store the same value. */
	static _Atomic uint64_t freq;
	LARGE_INTEGER c, f;
	uint64_t hz = atomic_load_explicit(&freq, memory_order_relaxed), t;

	if (!hz) {
		/* Never fails on Windows XP and later. */
		QueryPerformanceFrequency(&f);
		hz = (uint64_t)f.QuadPart;
		atomic_store_explicit(&freq, hz, memory_order_relaxed);
	}
	QueryPerformanceCounter(&c);
	t = (uint64_t)c.QuadPart;
	/* Split so counter * 1e9 cannot overflow: the remainder is below hz (about 10 MHz). */
	return t / hz * 1000000000u + t % hz * 1000000000u / hz;
}

uint64_t tp_time_mono_ms(void)
{
	return tp_time_mono_ns() / 1000000u;
}

uint64_t tp_time_unix_s(void)
{
	FILETIME ft;
	uint64_t t;

	GetSystemTimeAsFileTime(&ft);
	t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
	return t > FILETIME_UNIX_EPOCH ? (t - FILETIME_UNIX_EPOCH) / 10000000u : 0;
}

void tp_sleep_ms(unsigned ms)
{
	uint64_t end = tp_time_mono_ns() + (uint64_t)ms * 1000000u, now;

	/* Sleep() follows the scheduler tick and can come back a little early: top up. */
	Sleep(ms);
	while ((now = tp_time_mono_ns()) < end)
		Sleep((DWORD)((end - now + 999999u) / 1000000u));
}
