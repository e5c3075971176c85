/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Windows poller: WSAPoll over a dense WSAPOLLFD array.
 *
 * Registered sockets occupy pfd[0..n) with their data pointers in data[]. SOCKETs are handle
 * values, neither small nor dense, so a socket's slot is found through an open-addressing
 * hash table (linear probing, at most half full, backward-shift deletion): add, mod and del
 * stay O(1), and del moves the last slot into the hole as the POSIX poll backend does.
 */
#include "platform_int.h"

#include <stdlib.h>
#include <string.h>

struct slot_ref {
	SOCKET s;      /* the key; INVALID_SOCKET marks an empty bucket */
	unsigned slot; /* index into pfd and data */
};

struct tp_poller {
	WSAPOLLFD *pfd;	      /* registered sockets, dense */
	void **data;	      /* data[i] belongs to pfd[i] */
	unsigned n;	      /* slots used */
	unsigned cap;	      /* slots allocated in pfd and data */
	struct slot_ref *map; /* socket -> slot */
	unsigned mask;	      /* buckets in map - 1 (a power of two - 1), or 0 before the first */
	unsigned next;	      /* slot to scan first on the next wait, so no socket starves */
};

const char *tp_poller_name(void)
{
	return "wsapoll";
}

struct tp_poller *tp_poller_create(void)
{
	return calloc(1, sizeof(struct tp_poller));
}

void tp_poller_destroy(struct tp_poller *p)
{
	if (!p)
		return;
	free(p->pfd);
	free(p->data);
	free(p->map);
	free(p);
}

static unsigned bucket_of(const struct tp_poller *p, SOCKET s)
{
	/* Handles are multiples of 4; Fibonacci hashing spreads what is left. */
	uint64_t h = ((uint64_t)s >> 2) * 0x9e3779b97f4a7c15u;

	return (unsigned)(h >> 32) & p->mask;
}

/* The bucket holding @s, or -1. */
static long find(const struct tp_poller *p, SOCKET s)
{
	unsigned b;

	if (!p->map)
		return -1;
	for (b = bucket_of(p, s); p->map[b].s != INVALID_SOCKET; b = (b + 1) & p->mask)
		if (p->map[b].s == s)
			return (long)b;
	return -1;
}

static void map_put(struct tp_poller *p, SOCKET s, unsigned slot)
{
	unsigned b;

	for (b = bucket_of(p, s); p->map[b].s != INVALID_SOCKET; b = (b + 1) & p->mask)
		;
	p->map[b].s = s;
	p->map[b].slot = slot;
}

/* Remove bucket @b, shifting back later entries of the same probe run (no tombstones). */
static void map_remove(struct tp_poller *p, unsigned b)
{
	unsigned hole = b, i = b;

	for (;;) {
		unsigned home;

		i = (i + 1) & p->mask;
		if (p->map[i].s == INVALID_SOCKET)
			break;
		home = bucket_of(p, p->map[i].s);
		/* Move the entry when its home is not cyclically within (hole, i]. */
		if (((i - home) & p->mask) >= ((i - hole) & p->mask)) {
			p->map[hole] = p->map[i];
			hole = i;
		}
	}
	p->map[hole].s = INVALID_SOCKET;
}

static int grow(struct tp_poller *p)
{
	if (p->n == p->cap) {
		unsigned cap = p->cap ? p->cap * 2 : 16;
		WSAPOLLFD *pfd;
		void **data;

		pfd = realloc(p->pfd, cap * sizeof(*pfd));
		if (!pfd)
			return -ENOMEM;
		p->pfd = pfd;
		data = realloc(p->data, cap * sizeof(*data));
		if (!data)
			return -ENOMEM;
		p->data = data;
		p->cap = cap;
	}
	/* Keep the map at most half full: rebuild it from pfd when it would pass that. */
	if (!p->map || 2 * (p->n + 1) > p->mask + 1) {
		unsigned nb = p->map ? 2 * (p->mask + 1) : 64, i;
		struct slot_ref *map = malloc(nb * sizeof(*map));

		if (!map)
			return -ENOMEM;
		for (i = 0; i < nb; i++)
			map[i].s = INVALID_SOCKET;
		free(p->map);
		p->map = map;
		p->mask = nb - 1;
		for (i = 0; i < p->n; i++)
			map_put(p, p->pfd[i].fd, i);
	}
	return 0;
}

static SHORT to_poll(unsigned events)
{
	SHORT e = 0;

	/* POLLPRI and POLLRDBAND are not for TCP/UDP here: WSAPoll may refuse them. */
	if (events & TP_POLL_IN)
		e |= POLLRDNORM;
	if (events & TP_POLL_OUT)
		e |= POLLWRNORM;
	return e;
}

static unsigned from_poll(SHORT e, SHORT asked)
{
	unsigned r = 0;

	if (e & (POLLRDNORM | POLLRDBAND))
		r |= TP_POLL_IN;
	if (e & POLLWRNORM)
		r |= TP_POLL_OUT;
	/* POLLNVAL: closed while registered, a caller bug; report it as an error. */
	if (e & (POLLERR | POLLNVAL))
		r |= TP_POLL_ERR;
	if (e & POLLHUP) {
		r |= TP_POLL_HUP;
		/* WSAPoll may give HUP alone after the peer's FIN; recv then returns 0 at once. */
		if (asked & POLLRDNORM)
			r |= TP_POLL_IN;
	}
	return r;
}

int tp_poller_add(struct tp_poller *p, tp_socket_t s, unsigned events, void *data)
{
	SOCKET fd = tp_sock(s);
	int err;

	if (s == TP_SOCKET_INVALID)
		return -EBADF;
	if (events & ~(unsigned)(TP_POLL_IN | TP_POLL_OUT))
		return -EINVAL;
	if (find(p, fd) >= 0)
		return -EEXIST;
	if ((err = grow(p)) < 0)
		return err;
	p->pfd[p->n].fd = fd;
	p->pfd[p->n].events = to_poll(events);
	p->pfd[p->n].revents = 0;
	p->data[p->n] = data;
	map_put(p, fd, p->n);
	p->n++;
	return 0;
}

int tp_poller_mod(struct tp_poller *p, tp_socket_t s, unsigned events, void *data)
{
	long b;

	if (s == TP_SOCKET_INVALID)
		return -EBADF;
	if (events & ~(unsigned)(TP_POLL_IN | TP_POLL_OUT))
		return -EINVAL;
	if ((b = find(p, tp_sock(s))) < 0)
		return -ENOENT;
	p->pfd[p->map[b].slot].events = to_poll(events);
	p->data[p->map[b].slot] = data;
	return 0;
}

int tp_poller_del(struct tp_poller *p, tp_socket_t s)
{
	unsigned i, last;
	long b;

	if (s == TP_SOCKET_INVALID)
		return -EBADF;
	if ((b = find(p, tp_sock(s))) < 0)
		return -ENOENT;
	i = p->map[b].slot;
	map_remove(p, (unsigned)b);
	last = p->n - 1;
	if (i != last) {
		p->pfd[i] = p->pfd[last];
		p->data[i] = p->data[last];
		p->map[find(p, p->pfd[i].fd)].slot = i;
	}
	p->n = last;
	return 0;
}

int tp_poller_wait(struct tp_poller *p, struct tp_poll_event *ev, unsigned max, int timeout_ms)
{
	unsigned i, k, got = 0;
	int r;

	if (max == 0)
		return -EINVAL;
	if (p->n == 0) {
		/* WSAPoll refuses an empty set: just wait. */
		if (timeout_ms != 0)
			tp_sleep_ms(timeout_ms < 0 ? INFINITE : (unsigned)timeout_ms);
		return 0;
	}
	r = WSAPoll(p->pfd, p->n, timeout_ms < 0 ? -1 : timeout_ms);
	if (r == SOCKET_ERROR) {
		r = tp_neg_wsa();
		return r == -EINTR ? 0 : r;
	}
	if (r == 0)
		return 0;
	/* Start where the last full harvest stopped, so a short @max cannot starve a socket. */
	if (p->next >= p->n)
		p->next = 0;
	for (k = 0, i = p->next; k < p->n && got < max; k++, i = i + 1 == p->n ? 0 : i + 1) {
		if (!p->pfd[i].revents)
			continue;
		ev[got].data = p->data[i];
		ev[got].events = from_poll(p->pfd[i].revents, p->pfd[i].events);
		got++;
		p->next = i + 1;
	}
	return (int)got;
}
