/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Linux poller: level-triggered epoll. The kernel keeps the interest list; the data
 * pointer rides in epoll_event.data.
 */
#include "platform_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>

struct tp_poller {
	int epfd;
	unsigned cap;		    /* entries in ev */
	struct epoll_event *ev;	    /* epoll_wait's output, grown to the largest max asked */
	struct epoll_event ev0[64]; /* the first 64, without an allocation */
};

const char *tp_poller_name(void)
{
	return "epoll";
}

struct tp_poller *tp_poller_create(void)
{
	struct tp_poller *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		free(p);
		return NULL;
	}
	p->ev = p->ev0;
	p->cap = sizeof(p->ev0) / sizeof(p->ev0[0]);
	return p;
}

void tp_poller_destroy(struct tp_poller *p)
{
	if (!p)
		return;
	close(p->epfd);
	if (p->ev != p->ev0)
		free(p->ev);
	free(p);
}

static uint32_t to_epoll(unsigned events)
{
	uint32_t e = 0;

	/* RDHUP only with IN: a paused reader must not spin on a half-closed connection. */
	if (events & TP_POLL_IN)
		e |= EPOLLIN | EPOLLRDHUP;
	if (events & TP_POLL_OUT)
		e |= EPOLLOUT;
	return e;
}

static unsigned from_epoll(uint32_t e)
{
	unsigned r = 0;

	if (e & (EPOLLIN | EPOLLPRI))
		r |= TP_POLL_IN;
	if (e & EPOLLOUT)
		r |= TP_POLL_OUT;
	if (e & EPOLLERR)
		r |= TP_POLL_ERR;
	if (e & (EPOLLHUP | EPOLLRDHUP))
		r |= TP_POLL_HUP;
	return r;
}

static int ctl(struct tp_poller *p, int op, tp_socket_t s, unsigned events, void *data)
{
	struct epoll_event ev;
	int fd = tp_fd(s);

	if (fd < 0)
		return -EBADF;
	if (events & ~(unsigned)(TP_POLL_IN | TP_POLL_OUT))
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));
	ev.events = to_epoll(events);
	ev.data.ptr = data;
	if (epoll_ctl(p->epfd, op, fd, &ev) < 0)
		return tp_neg_errno();
	return 0;
}

int tp_poller_add(struct tp_poller *p, tp_socket_t s, unsigned events, void *data)
{
	return ctl(p, EPOLL_CTL_ADD, s, events, data);
}

int tp_poller_mod(struct tp_poller *p, tp_socket_t s, unsigned events, void *data)
{
	return ctl(p, EPOLL_CTL_MOD, s, events, data);
}

int tp_poller_del(struct tp_poller *p, tp_socket_t s)
{
	return ctl(p, EPOLL_CTL_DEL, s, 0, NULL);
}

int tp_poller_wait(struct tp_poller *p, struct tp_poll_event *ev, unsigned max, int timeout_ms)
{
	int n, i;

	if (max == 0)
		return -EINVAL;
	if (max > (unsigned)INT32_MAX / sizeof(*p->ev))
		max = (unsigned)INT32_MAX / sizeof(*p->ev);
	if (max > p->cap) {
		struct epoll_event *grown = malloc(max * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		if (p->ev != p->ev0)
			free(p->ev);
		p->ev = grown;
		p->cap = max;
	}
	n = epoll_wait(p->epfd, p->ev, (int)max, timeout_ms < 0 ? -1 : timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : tp_neg_errno();
	for (i = 0; i < n; i++) {
		ev[i].data = p->ev[i].data.ptr;
		ev[i].events = from_epoll(p->ev[i].events);
	}
	return n;
}
