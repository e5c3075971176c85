/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Threads over the CRT's _beginthreadex (which sets up the CRT's per-thread state, unlike a
 * bare CreateThread): start with a name, join with a result, pin to a CPU, count CPUs.
 */
#include "platform_int.h"

#include <process.h>
#include <string.h>

_Static_assert(sizeof(HANDLE) <= sizeof(((struct tp_thread *)0)->impl),
	       "a HANDLE must fit in struct tp_thread");

typedef HRESULT(WINAPI *set_description_fn)(HANDLE, PCWSTR);

/* Name the calling thread for debuggers (SetThreadDescription: Windows 10 1607 and later). */
static void thread_set_name(const char *name)
{
	HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
	set_description_fn fn;
	WCHAR w[sizeof(((struct tp_thread *)0)->name)];
	FARPROC f;

	if (!name[0] || !k32)
		return;
	f = GetProcAddress(k32, "SetThreadDescription");
	if (!f)
		return;
	if (!MultiByteToWideChar(CP_UTF8, 0, name, -1, w, (int)(sizeof(w) / sizeof(w[0]))))
		return;
	/* The cast from FARPROC is how every Windows program reaches an optional API. */
	memcpy(&fn, &f, sizeof(fn));
	fn(GetCurrentThread(), w);
}

/* Runs in the new thread: name it, run, keep the result. */
static unsigned __stdcall thread_main(void *p)
{
	struct tp_thread *t = p;

	thread_set_name(t->name);
	t->result = t->fn(t->arg);
	return 0;
}

int tp_thread_start(struct tp_thread *t, void *(*fn)(void *), void *arg, const char *name)
{
	uintptr_t h;

	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
	if (name) {
		strncpy(t->name, name, sizeof(t->name) - 1);
		t->name[sizeof(t->name) - 1] = '\0';
	}
	h = _beginthreadex(NULL, 0, thread_main, t, 0, NULL);
	if (!h)
		return errno ? -errno : -EAGAIN; /* the CRT sets EAGAIN when out of threads */
	t->impl.ptr[0] = (void *)h;
	return 0;
}

int tp_thread_join(struct tp_thread *t, void **result)
{
	HANDLE h = t->impl.ptr[0];

	if (!h)
		return -EINVAL;
	if (WaitForSingleObject(h, INFINITE) != WAIT_OBJECT_0)
		return -EINVAL;
	CloseHandle(h);
	t->impl.ptr[0] = NULL;
	if (result)
		*result = t->result;
	return 0;
}

int tp_thread_pin(unsigned cpu)
{
	DWORD_PTR proc, sys;

	/* One processor group: CPUs 0..63 of the group the process runs in. */
	if (cpu >= sizeof(DWORD_PTR) * 8)
		return -EINVAL;
	if (!GetProcessAffinityMask(GetCurrentProcess(), &proc, &sys))
		return -EINVAL;
	if (!(proc & ((DWORD_PTR)1 << cpu)))
		return -EINVAL;
	if (!SetThreadAffinityMask(GetCurrentThread(), (DWORD_PTR)1 << cpu))
		return -EINVAL;
	return 0;
}

unsigned tp_cpu_count(void)
{
	DWORD_PTR proc, sys;
	SYSTEM_INFO si;
	unsigned n = 0;

	/* The affinity mask, so a process started with `start /affinity` is honoured. */
	if (GetProcessAffinityMask(GetCurrentProcess(), &proc, &sys))
		for (; proc; proc &= proc - 1)
			n++;
	if (n)
		return n;
	GetSystemInfo(&si);
	return si.dwNumberOfProcessors ? (unsigned)si.dwNumberOfProcessors : 1;
}
