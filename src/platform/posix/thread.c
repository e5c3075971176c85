/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Threads over pthreads: start with a name, join with a result, pin to a CPU, count CPUs.
 */
#include "platform_int.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <sched.h>
#elif defined(__FreeBSD__) || defined(__OpenBSD__)
#include <pthread_np.h>
#endif

_Static_assert(sizeof(pthread_t) <= sizeof(((struct tp_thread *)0)->impl),
	       "pthread_t must fit in struct tp_thread");

static void thread_set_name(const char *name)
{
	if (!name[0])
		return;
#if defined(__linux__)
	pthread_setname_np(pthread_self(), name);
#elif defined(__APPLE__)
	pthread_setname_np(name); /* macOS can only name the calling thread */
#elif defined(__FreeBSD__) || defined(__OpenBSD__)
	pthread_set_name_np(pthread_self(), name);
#elif defined(__NetBSD__)
	pthread_setname_np(pthread_self(), "%s", (void *)(uintptr_t)name);
#endif
}

/* Runs in the new thread: name it (macOS allows nothing else), run, keep the result. */
static void *thread_main(void *p)
{
	struct tp_thread *t = p;

	thread_set_name(t->name);
	t->result = t->fn(t->arg);
	return NULL;
}

int tp_thread_start(struct tp_thread *t, void *(*fn)(void *), void *arg, const char *name)
{
	sigset_t block, old;
	pthread_t th;
	int err;

	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
	if (name) {
		strncpy(t->name, name, sizeof(t->name) - 1);
		t->name[sizeof(t->name) - 1] = '\0';
	}
	/* The new thread inherits this mask: stop/reload signals go to the main thread. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	err = pthread_sigmask(SIG_BLOCK, &block, &old);
	if (err)
		return -err;
	err = pthread_create(&th, NULL, thread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	memcpy(&t->impl, &th, sizeof(th));
	return 0;
}

int tp_thread_join(struct tp_thread *t, void **result)
{
	pthread_t th;
	int err;

	memcpy(&th, &t->impl, sizeof(th));
	err = pthread_join(th, NULL);
	if (err)
		return -err;
	if (result)
		*result = t->result;
	return 0;
}

int tp_thread_pin(unsigned cpu)
{
#if defined(__linux__)
	cpu_set_t set;
	int err;

	if (cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	return -err;
#else
	(void)cpu;
	return -ENOTSUP;
#endif
}

unsigned tp_cpu_count(void)
{
	long n;

#if defined(__linux__)
	cpu_set_t set;

	/* The affinity mask, so taskset/cgroup cpusets are honoured. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		n = CPU_COUNT(&set);
		if (n > 0)
			return (unsigned)n;
	}
#endif
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}
