/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The portable poller: poll(2) over a dense pollfd array.
 *
 * Registered sockets occupy pfd[0..n) with their data pointers in data[]. pos[fd] holds each
 * descriptor's slot + 1 (0 = not registered), so add, mod and del are O(1): del moves the last
 * slot into the hole (swap-with-last) and fixes that descriptor's pos entry. POSIX hands out
 * the lowest free descriptor number, so an fd-indexed table stays as small as the fd table.
 */
#include "platform_int.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct tp_poller {
	struct pollfd *pfd; /* registered sockets, dense */
	void **data;	    /* data[i] belongs to pfd[i] */
	unsigned n;	    /* slots used */
	unsigned cap;	    /* slots allocated in pfd and data */
	unsigned *pos;	    /* pos[fd] = slot + 1, or 0 */
	unsigned npos;	    /* entries in pos */
	unsigned next;	    /* slot to scan first on the next wait, so no socket starves */
};

const char *tp_poller_name(void)
{
	return "poll";
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
	free(p->pos);
	free(p);
}

static short to_poll(unsigned events)
{
	short e = 0;

	if (events & TP_POLL_IN) {
		e |= POLLIN;
#ifdef POLLRDHUP
		/* Linux and FreeBSD report the peer's FIN; elsewhere recv() returning 0 does. */
		e |= POLLRDHUP;
#endif
	}
	if (events & TP_POLL_OUT)
		e |= POLLOUT;
	return e;
}

static unsigned from_poll(short e)
{
	unsigned r = 0;

	if (e & (POLLIN | POLLPRI))
		r |= TP_POLL_IN;
	if (e & POLLOUT)
		r |= TP_POLL_OUT;
	/* POLLNVAL: closed while registered, a caller bug; report it as an error. */
	if (e & (POLLERR | POLLNVAL))
		r |= TP_POLL_ERR;
	if (e & POLLHUP)
		r |= TP_POLL_HUP;
#ifdef POLLRDHUP
	if (e & POLLRDHUP)
		r |= TP_POLL_HUP;
#endif
	return r;
}

/* The slot of @fd, or -1. */
static long slot_of(const struct tp_poller *p, int fd)
{
	if ((unsigned)fd >= p->npos || !p->pos[fd])
		return -1;
	return (long)p->pos[fd] - 1;
}

static int grow(struct tp_poller *p, int fd)
{
	if ((unsigned)fd >= p->npos) {
		unsigned npos = p->npos ? p->npos : 64;
		unsigned *pos;

		while (npos <= (unsigned)fd)
			npos *= 2;
		pos = realloc(p->pos, npos * sizeof(*pos));
		if (!pos)
			return -ENOMEM;
		memset(pos + p->npos, 0, (npos - p->npos) * sizeof(*pos));
		p->pos = pos;
		p->npos = npos;
	}
	if (p->n == p->cap) {
		unsigned cap = p->cap ? p->cap * 2 : 16;
		struct pollfd *pfd;
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
	return 0;
}

int tp_poller_add(struct tp_poller *p, tp_socket_t s, unsigned events, void *data)
{
	int fd = tp_fd(s);
	int err;

	if (fd < 0)
		return -EBADF;
	if (events & ~(unsigned)(TP_POLL_IN | TP_POLL_OUT))
		return -EINVAL;
	if (slot_of(p, fd) >= 0)
		return -EEXIST;
	if ((err = grow(p, fd)) < 0)
		return err;
	p->pfd[p->n].fd = fd;
	p->pfd[p->n].events = to_poll(events);
	p->pfd[p->n].revents = 0;
	p->data[p->n] = data;
	p->n++;
	p->pos[fd] = p->n;
	return 0;
}

int tp_poller_mod(struct tp_poller *p, tp_socket_t s, unsigned events, void *data)
{
	int fd = tp_fd(s);
	long i;

	if (fd < 0)
		return -EBADF;
	if (events & ~(unsigned)(TP_POLL_IN | TP_POLL_OUT))
		return -EINVAL;
	if ((i = slot_of(p, fd)) < 0)
		return -ENOENT;
	p->pfd[i].events = to_poll(events);
	p->data[i] = data;
	return 0;
}

int tp_poller_del(struct tp_poller *p, tp_socket_t s)
{
	int fd = tp_fd(s);
	unsigned last;
	long i;

	if (fd < 0)
		return -EBADF;
	if ((i = slot_of(p, fd)) < 0)
		return -ENOENT;
	last = p->n - 1;
	if ((unsigned)i != last) {
		p->pfd[i] = p->pfd[last];
		p->data[i] = p->data[last];
		p->pos[p->pfd[i].fd] = (unsigned)i + 1;
	}
	p->pos[fd] = 0;
	p->n = last;
	return 0;
}

int tp_poller_wait(struct tp_poller *p, struct tp_poll_event *ev, unsigned max, int timeout_ms)
{
	unsigned i, k, got = 0;
	int r;

	if (max == 0)
		return -EINVAL;
	r = poll(p->pfd, p->n, timeout_ms < 0 ? -1 : timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : tp_neg_errno();
	if (r == 0 || p->n == 0)
		return 0;
	/* Start where the last full harvest stopped, so a short @max cannot starve a socket. */
	if (p->next >= p->n)
		p->next = 0;
	for (k = 0, i = p->next; k < p->n && got < max; k++, i = i + 1 == p->n ? 0 : i + 1) {
		if (!p->pfd[i].revents)
			continue;
		ev[got].data = p->data[i];
		ev[got].events = from_poll(p->pfd[i].revents);
		got++;
		p->next = i + 1;
	}
	return (int)got;
}
