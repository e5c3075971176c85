/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Process signals as two flags: SIGINT/SIGTERM latch "stop", SIGHUP raises "reload" until the
 * control thread takes it. The handlers do nothing but an atomic store, which is
 * async-signal-safe for lock-free atomics (C11 7.14.1.1).
 */
#include "platform_int.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "signal flags need lock-free atomic int");

static atomic_int stop_flag;
static atomic_int reload_flag;

static void on_stop(int sig)
{
	(void)sig;
	atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

static void on_reload(int sig)
{
	(void)sig;
	atomic_store_explicit(&reload_flag, 1, memory_order_relaxed);
}

static int set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	/* Restart slow calls (file reads during a reload); waits in the poller still see EINTR. */
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, NULL) < 0)
		return tp_neg_errno();
	return 0;
}

int tp_signals_init(void)
{
	int err;

	if ((err = set_handler(SIGPIPE, SIG_IGN)) < 0 || (err = set_handler(SIGINT, on_stop)) < 0 ||
	    (err = set_handler(SIGTERM, on_stop)) < 0 || (err = set_handler(SIGHUP, on_reload)) < 0)
		return err;
	return 0;
}

bool tp_signal_stop_requested(void)
{
	return atomic_load_explicit(&stop_flag, memory_order_relaxed) != 0;
}

void tp_signal_request_stop(void)
{
	atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

bool tp_signal_take_reload(void)
{
	return atomic_exchange_explicit(&reload_flag, 0, memory_order_relaxed) != 0;
}

void tp_signal_request_reload(void)
{
	atomic_store_explicit(&reload_flag, 1, memory_order_relaxed);
}
