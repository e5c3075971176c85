/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stop and reload requests as two flags, as on POSIX. Windows delivers the console's Ctrl-C,
 * Ctrl-Break and close (and log-off and shut-down for a console process) to a handler that
 * runs in a thread of its own; the CRT's signal() covers raise(SIGINT/SIGTERM/SIGBREAK).
 * There is no SIGHUP: a reload comes through tp_signal_request_reload() (the admin interface).
 */
#include "platform_int.h"

#include <signal.h>
#include <stdatomic.h>

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "signal flags need lock-free atomic int");

static atomic_int stop_flag;
static atomic_int reload_flag;

static void on_stop(int sig)
{
	/* The CRT resets a handler to SIG_DFL before calling it: install it again. */
	signal(sig, on_stop);
	atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

static BOOL WINAPI on_console(DWORD ev)
{
	switch (ev) {
	case CTRL_C_EVENT:
	case CTRL_BREAK_EVENT:
		atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
		return TRUE;
	case CTRL_CLOSE_EVENT:
	case CTRL_LOGOFF_EVENT:
	case CTRL_SHUTDOWN_EVENT:
		/*
		 * Windows ends the process as soon as this returns (and after about 5 s in any
		 * case): give the main loop (100 ms per turn) the time to stop the workers and
		 * close the sockets; its exit ends this thread too.
		 */
		atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
		Sleep(4000);
		return TRUE;
	default:
		return FALSE;
	}
}

int tp_signals_init(void)
{
	if (signal(SIGINT, on_stop) == SIG_ERR || signal(SIGTERM, on_stop) == SIG_ERR ||
	    signal(SIGBREAK, on_stop) == SIG_ERR)
		return -EINVAL;
	/* Registered after the CRT's own (which signal(SIGINT) installs), so it runs first. */
	if (!SetConsoleCtrlHandler(on_console, TRUE))
		return -EINVAL;
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
