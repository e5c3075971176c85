/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The platform layer: time, sockets, a readiness poller, threads and signals.
 *
 * One header, one implementation per OS chosen by the build (src/platform/posix/ and
 * src/platform/win32/), the way nginx splits src/os/unix and src/os/win32. Nothing outside
 * src/platform includes an OS socket, thread or signal header or tests _WIN32; this header
 * includes none either.
 *
 * Conventions:
 * - Functions return 0 or a negative errno value (-EADDRINUSE, -EAGAIN, ...); burst functions
 *   return a count >= 0 or a negative errno. Windows maps its WSA codes onto the same errno
 *   names, so callers compare against <errno.h> constants on every OS.
 * - Addresses are struct tp_addr. Every IPv6 socket is IPV6_V6ONLY, so an IPv6 socket only ever
 *   sees IPv6 addresses and an IPv4 socket IPv4 ones: no IPv4-mapped forms come out of here.
 * - Sockets are close-on-exec and never raise SIGPIPE.
 * - Everything is thread-safe in the sense that different threads may use different sockets
 *   and pollers concurrently; one poller is used by one thread at a time.
 */
#ifndef TURNPIKE_PLATFORM_H
#define TURNPIKE_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turnpike/addr.h>

/* ---------------------------------------------------------------------------------------- */
/** @name Time */
/** @{ */

/** Milliseconds on a monotonic clock with an arbitrary origin; never goes back. */
uint64_t tp_time_mono_ms(void);

/** Nanoseconds on the same monotonic clock as tp_time_mono_ms(). */
uint64_t tp_time_mono_ns(void);

/** Seconds since 1970-01-01 UTC on the wall clock (may jump when the clock is set). */
uint64_t tp_time_unix_s(void);

/** Sleep for at least @p ms milliseconds (resumes after signal handlers). */
void tp_sleep_ms(unsigned ms);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Sockets */
/** @{ */

/**
 * A socket: a file descriptor on POSIX, a SOCKET (an unsigned pointer-sized handle) on Windows.
 * Windows' INVALID_SOCKET, ~0, reads as -1 here, the same as POSIX's invalid descriptor.
 */
typedef intptr_t tp_socket_t;

/** The value of a socket that is not open. */
#define TP_SOCKET_INVALID ((tp_socket_t)-1)

/** Flags for tp_udp_open() and tp_tcp_listen(). */
enum tp_sock_flag {
	/** Make the socket non-blocking (accepted TCP sockets are always non-blocking). */
	TP_SOCK_NONBLOCK = 1u << 0,
	/**
	 * Join a group of sockets bound to the same address and port over which the kernel
	 * spreads incoming datagrams/connections by a hash of the 4-tuple, so each worker can
	 * own one listener (DESIGN §4). That is SO_REUSEPORT on Linux and SO_REUSEPORT_LB on
	 * FreeBSD. Where only a non-balancing SO_REUSEPORT exists (macOS, OpenBSD: the last
	 * socket bound takes everything) and on Windows, opening fails with -ENOTSUP; the
	 * caller then runs one listener. SO_REUSEADDR is never used as a substitute for UDP:
	 * on Windows it lets another process take over the port.
	 */
	TP_SOCK_REUSEPORT = 1u << 1,
};

/**
 * Start the socket library: a no-op on POSIX, WSAStartup on Windows. Call once, before any
 * other socket function.
 *
 * @return 0 or a negative errno
 */
int tp_net_init(void);

/** Stop the socket library (WSACleanup on Windows); after the last socket is closed. */
void tp_net_fini(void);

/** True when TP_SOCK_REUSEPORT is supported, i.e. the kernel balances one port over sockets. */
bool tp_net_have_reuseport(void);

/**
 * Text for an error code such as the ones these functions return (either sign accepted).
 * The string is static or owned by the C library; call it from one thread at a time (startup
 * and control-thread logging), as per-packet errors are counted, not logged.
 */
const char *tp_strerror(int err);

/**
 * Open a UDP socket bound to @p local.
 *
 * Port 0 picks an ephemeral port (read it back with tp_sock_local_addr()). IPv6 sockets are
 * IPV6_V6ONLY. The socket reports each datagram's local destination address
 * (IP_PKTINFO / IPV6_RECVPKTINFO), which tp_udp_recv_batch() puts in tp_dgram::dst: a
 * listener bound to a wildcard address then knows which of the host's addresses a client used,
 * and can answer from that same address (tp_dgram_out::src).
 *
 * Windows: every UDP socket is non-blocking whatever @p flags say (Winsock has no
 * MSG_DONTWAIT), is bound with SO_EXCLUSIVEADDRUSE so no other socket can take its port, and
 * has SIO_UDP_CONNRESET off, so an ICMP port unreachable does not fail the next receive.
 *
 * @param local  address and port to bind; family TP_AF_INET or TP_AF_INET6
 * @param flags  enum tp_sock_flag bits
 * @param out    receives the socket; untouched on failure
 * @return 0; -EADDRINUSE when the port is taken (the engine then tries another relay port),
 *         -EADDRNOTAVAIL when the address is not local, -ENOTSUP for TP_SOCK_REUSEPORT where
 *         it is unsupported, -EINVAL for unknown flags, -EAFNOSUPPORT for a bad family, or
 *         another negative errno
 */
int tp_udp_open(const struct tp_addr *local, unsigned flags, tp_socket_t *out);

/** Most datagrams tp_udp_recv_batch() and tp_udp_send_batch() handle in one call. */
#define TP_UDP_BATCH_MAX 64

/** tp_dgram::flags bits. */
enum tp_dgram_flag {
	/** The datagram was longer than tp_dgram::cap; its tail was discarded. */
	TP_DGRAM_TRUNC = 1u << 0,
};

/** One received datagram: the caller provides the buffer, tp_udp_recv_batch() the rest. */
struct tp_dgram {
	uint8_t *buf;	    /**< in: where the payload goes */
	uint32_t cap;	    /**< in: bytes available at @c buf */
	uint32_t len;	    /**< out: payload bytes stored (at most @c cap) */
	uint32_t flags;	    /**< out: enum tp_dgram_flag bits */
	struct tp_addr src; /**< out: the sender's address and port */
	/**
	 * out: the local address the datagram was sent to (from PKTINFO) with the port of the
	 * @p local argument of tp_udp_recv_batch(); family 0 only when neither is known
	 */
	struct tp_addr dst;
};

/**
 * Receive up to @p n datagrams without blocking (recvmmsg where the OS has it, else a
 * recvmsg loop), whatever the socket's blocking mode.
 *
 * @param s      a socket from tp_udp_open()
 * @param local  the socket's bound address (from tp_sock_local_addr(), done once at open) or
 *               NULL: it supplies tp_dgram::dst's port, and its IP when the OS gives no
 *               PKTINFO; with NULL, dst's port is 0
 * @param d      @p n descriptors with @c buf and @c cap set
 * @param n      how many; at most TP_UDP_BATCH_MAX are used
 * @return the number of descriptors filled, 0 when nothing was pending (or on EINTR), or a
 *         negative errno when the first receive failed
 */
int tp_udp_recv_batch(tp_socket_t s, const struct tp_addr *local, struct tp_dgram *d, unsigned n);

/** A piece of an outgoing datagram or stream write. Windows' WSABUF has another layout. */
struct tp_iov {
	const void *base; /**< first byte */
	size_t len;	  /**< byte count */
};

/** Most pieces one outgoing datagram has: a prepended header, the payload, a trailer. */
#define TP_DGRAM_IOV_MAX 3

/** One datagram to send: the concatenation of its pieces, to @c dst. */
struct tp_dgram_out {
	struct tp_iov iov[TP_DGRAM_IOV_MAX]; /**< the pieces, in order */
	unsigned iovcnt;		     /**< pieces used: 1..TP_DGRAM_IOV_MAX */
	struct tp_addr dst;		     /**< destination, same family as the socket */
	/**
	 * local source address: family 0 lets the kernel pick; otherwise the datagram leaves
	 * from this IP (IP_PKTINFO / IPV6_PKTINFO), which must be one of the host's addresses.
	 * The port is ignored: it is always the socket's. (Wine's WSASendMsg ignores it, so under
	 * Wine the stack picks the source; Windows itself honours it.)
	 */
	struct tp_addr src;
};

/**
 * Send up to @p n datagrams (sendmmsg where the OS has it, else a sendmsg loop). Blocks only
 * if the socket is blocking.
 *
 * On Linux (UDP_SEGMENT, kernel >= 4.18), consecutive datagrams to the same destination from
 * the same source choice, all of one length except possibly a shorter last, leave as one UDP
 * GSO send (up to 64 datagrams, 65000 bytes); the receiver still sees separate datagrams. Such
 * a run is sent or refused whole, so its error is reported for its first datagram. When the
 * kernel or device refuses GSO itself, the datagrams go one by one instead (and, if GSO never
 * worked in this process, GSO is not tried again).
 *
 * The kernel stops at the first datagram it refuses, so the result may be short: calling again
 * from d + result then reports that datagram's error (-EAGAIN when the send buffer is full,
 * -EMSGSIZE over the path MTU with DF set, -EHOSTUNREACH, ...). A caller that drops what
 * fails simply skips one descriptor on a negative result and continues.
 *
 * @param n  how many; at most TP_UDP_BATCH_MAX are used
 * @return the number sent (>= 1 when @p n >= 1), 0 when @p n is 0, or a negative errno for
 *         @p d[0]
 */
int tp_udp_send_batch(tp_socket_t s, const struct tp_dgram_out *d, unsigned n);

/**
 * Send one datagram.
 *
 * @return bytes sent (the whole datagram), or a negative errno as for tp_udp_send_batch()
 */
long tp_udp_sendv(tp_socket_t s, const struct tp_dgram_out *d);

/**
 * Open a TCP listening socket bound to @p local, with SO_REUSEADDR on POSIX (so a restart does
 * not wait for TIME_WAIT; Windows uses SO_EXCLUSIVEADDRUSE instead) and IPV6_V6ONLY on IPv6.
 *
 * @param flags    enum tp_sock_flag bits; with TP_SOCK_NONBLOCK tp_tcp_accept() never blocks
 * @param backlog  listen(2) backlog; <= 0 for the system maximum
 * @return 0 or a negative errno as for tp_udp_open()
 */
int tp_tcp_listen(const struct tp_addr *local, unsigned flags, int backlog, tp_socket_t *out);

/**
 * Accept one connection. The new socket is non-blocking, close-on-exec and has TCP_NODELAY.
 *
 * @param l      a socket from tp_tcp_listen()
 * @param out    receives the connection
 * @param peer   receives the client's address, or NULL
 * @param local  receives the local address the client connected to (costs a getsockname), or
 *               NULL
 * @return 0; -EAGAIN when no connection is pending on a non-blocking listener; -ECONNABORTED
 *         and the like for a connection that died while queued (accept again); -EMFILE or
 *         -ENFILE when out of descriptors (back off: the connection stays queued and the
 *         listener stays readable); or another negative errno
 */
int tp_tcp_accept(tp_socket_t l, tp_socket_t *out, struct tp_addr *peer, struct tp_addr *local);

/**
 * Connect to @p dst, blocking until connected, then make the socket non-blocking with
 * TCP_NODELAY. For test clients and tools, not for the relay's data path.
 *
 * @return 0 or a negative errno (-ECONNREFUSED, ...)
 */
int tp_tcp_connect(const struct tp_addr *dst, tp_socket_t *out);

/**
 * Receive up to @p len bytes from a connected stream socket.
 *
 * @return bytes received (> 0), 0 when the peer closed its side (orderly EOF), -EAGAIN when
 *         nothing is available on a non-blocking socket, or another negative errno
 *         (-ECONNRESET, ...)
 */
long tp_sock_recv(tp_socket_t s, void *buf, size_t len);

/**
 * Send up to @p len bytes on a connected stream socket, without ever raising SIGPIPE.
 *
 * @return bytes accepted by the kernel (may be fewer than @p len), -EAGAIN when the send
 *         buffer is full, or a negative errno (-EPIPE, -ECONNRESET once the peer is gone)
 */
long tp_sock_send(tp_socket_t s, const void *buf, size_t len);

/**
 * Send the concatenation of @p cnt pieces on a connected stream socket (one writev-like call,
 * so a frame header and its payload need no copy). Same results as tp_sock_send().
 *
 * @param cnt  at most TP_DGRAM_IOV_MAX
 */
long tp_sock_sendv(tp_socket_t s, const struct tp_iov *iov, unsigned cnt);

/**
 * The address and port a socket is bound to.
 *
 * @return 0 or a negative errno
 */
int tp_sock_local_addr(tp_socket_t s, struct tp_addr *a);

/**
 * Set or clear Don't Fragment on a UDP socket's outgoing datagrams (for RFC 8656's
 * DONT-FRAGMENT attribute). On: IP_MTU_DISCOVER = IP_PMTUDISC_DO / IPV6_DONTFRAG on Linux,
 * IP_DONTFRAGMENT / IPV6_DONTFRAG on Windows, IP_DONTFRAG elsewhere, and sends over the path
 * MTU fail with -EMSGSIZE. Off: the kernel may fragment (IP_PMTUDISC_DONT on Linux).
 *
 * @param family  the socket's family, TP_AF_INET or TP_AF_INET6
 * @return 0, -ENOTSUP where the OS cannot do it, -EAFNOSUPPORT for a bad family, or a negative
 *         errno
 */
int tp_sock_set_df(tp_socket_t s, int family, bool on);

/**
 * Ask for kernel receive and send buffers of the given sizes in bytes (0 leaves one as it is).
 * The kernel may cap (Linux: net.core.rmem_max / wmem_max) or round the value.
 *
 * @return 0 or a negative errno
 */
int tp_sock_set_buffers(tp_socket_t s, int rcvbuf, int sndbuf);

/** Close a socket; TP_SOCKET_INVALID is ignored. Remove it from its poller first. */
void tp_sock_close(tp_socket_t s);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Poller */
/** @{ */

/** Readiness bits in tp_poller_add()/tp_poller_mod() masks and in tp_poll_event::events. */
enum tp_poll_flag {
	TP_POLL_IN = 1u << 0,  /**< readable, or a listener has a connection to accept */
	TP_POLL_OUT = 1u << 1, /**< writable */
	TP_POLL_ERR = 1u << 2, /**< error pending; reported even when not asked for */
	/**
	 * the peer closed: with TP_POLL_IN asked for, reported once the peer's side is shut
	 * (a FIN) where the OS tells (Linux, FreeBSD, Windows; elsewhere the next recv returns
	 * 0); reported always, even when not asked for, once both directions are gone
	 */
	TP_POLL_HUP = 1u << 3,
};

/** One ready socket, as returned by tp_poller_wait(). */
struct tp_poll_event {
	void *data;	 /**< the pointer given to tp_poller_add() / tp_poller_mod() */
	unsigned events; /**< enum tp_poll_flag bits */
};

/**
 * A readiness poller owned by one thread: epoll on Linux, poll() as the portable backend,
 * WSAPoll on Windows. Level-triggered: a socket is reported on every wait while it is ready.
 */
struct tp_poller;

/** Name of the backend compiled in: "epoll", "poll" or "wsapoll" (for the startup log). */
const char *tp_poller_name(void);

/** Create a poller; NULL when out of memory or descriptors. */
struct tp_poller *tp_poller_create(void);

/** Destroy a poller (NULL is ignored). Sockets registered in it stay open. */
void tp_poller_destroy(struct tp_poller *p);

/**
 * Watch @p s for @p events.
 *
 * @param events  TP_POLL_IN and/or TP_POLL_OUT; 0 watches only for errors and hang-ups
 * @param data    returned in tp_poll_event::data
 * @return 0, -EEXIST when @p s is already registered, -EBADF, -ENOMEM, or a negative errno
 */
int tp_poller_add(struct tp_poller *p, tp_socket_t s, unsigned events, void *data);

/**
 * Change what @p s is watched for, and its data pointer.
 *
 * @return 0, -ENOENT when @p s is not registered, or a negative errno
 */
int tp_poller_mod(struct tp_poller *p, tp_socket_t s, unsigned events, void *data);

/**
 * Stop watching @p s. Do this before tp_sock_close(): the poll backend cannot notice a closed
 * descriptor, and a reused descriptor number would inherit the old registration.
 *
 * @return 0, -ENOENT when @p s is not registered, or a negative errno
 */
int tp_poller_del(struct tp_poller *p, tp_socket_t s);

/**
 * Wait until at least one registered socket is ready or @p timeout_ms passes.
 *
 * The events are copied into @p ev, so sockets may be added, changed and removed while
 * handling them; but when handling one event closes another socket whose event comes later in
 * the same array, the caller must skip that one (its data pointer may be stale).
 *
 * @param ev          receives up to @p max events
 * @param timeout_ms  0 returns at once, -1 waits without limit
 * @return the number of events (> 0), 0 on timeout or when a signal interrupted the wait
 *         (check tp_signal_stop_requested()), or a negative errno
 */
int tp_poller_wait(struct tp_poller *p, struct tp_poll_event *ev, unsigned max, int timeout_ms);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Threads */
/** @{ */

/**
 * A thread. The members are private; the struct is public only so that callers can embed it
 * (no allocation). It must stay at the same address from tp_thread_start() to
 * tp_thread_join(): the new thread writes its result into it.
 */
struct tp_thread {
	void *(*fn)(void *); /**< private: the thread function */
	void *arg;	     /**< private: its argument */
	void *result;	     /**< private: what it returned */
	char name[16];	     /**< private: the name, truncated to 15 characters */
	union {
		uint64_t u64[2];
		void *ptr[2];
	} impl; /**< private: the OS handle (pthread_t, HANDLE) */
};

/**
 * Start a thread running @p fn(@p arg). The thread is named @p name (truncated to 15
 * characters) where the OS allows, so `top -H` and debuggers show "tp-worker-3". On POSIX the
 * new thread blocks SIGINT, SIGTERM and SIGHUP, so those reach the main thread.
 *
 * @param name  or NULL
 * @return 0 or a negative errno (-EAGAIN when out of threads)
 */
int tp_thread_start(struct tp_thread *t, void *(*fn)(void *), void *arg, const char *name);

/**
 * Wait for a thread to finish.
 *
 * @param result  receives what the thread function returned, or NULL
 * @return 0 or a negative errno
 */
int tp_thread_join(struct tp_thread *t, void **result);

/**
 * Pin the calling thread to CPU number @p cpu (0-based, as the OS numbers them; on Windows
 * within the process's processor group, so 0..63).
 *
 * @return 0, -EINVAL for a CPU that does not exist or is not allowed, -ENOTSUP where the OS
 *         has no thread affinity (macOS), or a negative errno
 */
int tp_thread_pin(unsigned cpu);

/** Number of CPUs this process may run on (its affinity mask where known); at least 1. */
unsigned tp_cpu_count(void);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Signals and console control */
/** @{ */

/**
 * Install the process's handlers: SIGINT and SIGTERM request a stop, SIGHUP a config reload,
 * SIGPIPE is ignored. The handlers only set atomic flags, which the control thread polls. Call
 * once from the main thread before starting others.
 *
 * Windows: a console control handler turns Ctrl-C, Ctrl-Break, closing the console window,
 * log-off and shut-down into a stop (for the last three it holds Windows off for about 4 s so
 * the main loop can close down), and the CRT's signal() does the same for raised SIGINT,
 * SIGTERM and SIGBREAK. Windows has no SIGHUP: reloads come from tp_signal_request_reload().
 *
 * @return 0 or a negative errno
 */
int tp_signals_init(void);

/** True once a stop was requested (a signal or tp_signal_request_stop()); it stays true. */
bool tp_signal_stop_requested(void);

/** Request a stop, as SIGTERM does (for tests and the admin interface). */
void tp_signal_request_stop(void);

/** True when a reload was requested since the last call; clears the request. */
bool tp_signal_take_reload(void);

/** Request a reload, as SIGHUP does (for the admin interface). */
void tp_signal_request_reload(void);

/** @} */

#endif /* TURNPIKE_PLATFORM_H */
