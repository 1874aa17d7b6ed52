/*
 * epoll plus a binary heap of timers. Handlers live in a table indexed by
 * fd, each with a generation number, so that an event collected for an fd
 * that was deleted (and perhaps reused) in the same round is skipped. Also
 * a few spare empty pipes for the relays of this loop's thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_EVENTS	256

struct loop_handler {
	loop_fd_fn	 fn;
	void		*arg;
	uint32_t	 gen;		/* bumped on add and del */
	bool		 used;
};

struct loop_timer {
	uint64_t	 deadline;
	uint64_t	 order;		/* ties run in the order they were added */
	size_t		 index;		/* position in the heap */
	loop_timer_fn	 fn;
	void		*arg;
};

struct loop {
	int			 epfd;
	bool			 stop;
	uint64_t		 now;
	struct loop_handler	*h;
	size_t			 nh;
	struct loop_timer	**heap;
	size_t			 nheap, capheap;
	uint64_t		 timer_order;
	struct {
		int	 fd[2];
		size_t	 cap;
	}			 spare[LOOP_SPARE_PIPES];
	size_t			 nspare;
};

static uint64_t
loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *
loop_new(void)
{
	struct loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(l);
		return NULL;
	}
	l->now = loop_clock_ms();
	return l;
}

void
loop_free(struct loop *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nheap; i++)
		free(l->heap[i]);
	for (i = 0; i < l->nspare; i++) {
		close(l->spare[i].fd[0]);
		close(l->spare[i].fd[1]);
	}
	free(l->heap);
	free(l->h);
	close(l->epfd);
	free(l);
}

static int
loop_grow(struct loop *l, int fd)
{
	size_t n = l->nh ? l->nh : 64;
	struct loop_handler *h;

	while (n <= (size_t)fd)
		n *= 2;
	if (n == l->nh)
		return 0;
	if ((h = realloc(l->h, n * sizeof(*h))) == NULL)
		return -1;
	memset(h + l->nh, 0, (n - l->nh) * sizeof(*h));
	l->h = h;
	l->nh = n;
	return 0;
}

int
loop_add(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	struct epoll_event ev;

	if (fd < 0 || fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (loop_grow(l, fd) == -1)
		return -1;
	if (l->h[fd].used) {
		errno = EEXIST;
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)(l->h[fd].gen + 1) << 32;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	l->h[fd].gen++;
	l->h[fd].fn = fn;
	l->h[fd].arg = arg;
	l->h[fd].used = true;
	return 0;
}

int
loop_mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev;

	if (fd < 0 || (size_t)fd >= l->nh || !l->h[fd].used) {
		errno = ENOENT;
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)l->h[fd].gen << 32;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

int
loop_set(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	struct epoll_event ev;

	if (fd < 0 || fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)fd >= l->nh || !l->h[fd].used)
		return loop_add(l, fd, events, fn, arg);
	/* A new generation, as a del and add would give: an event collected
	 * for the old owner in this round is not handed to the new one. */
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)(l->h[fd].gen + 1) << 32;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		return -1;
	l->h[fd].gen++;
	l->h[fd].fn = fn;
	l->h[fd].arg = arg;
	return 0;
}

int
loop_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nh || !l->h[fd].used) {
		errno = ENOENT;
		return -1;
	}
	l->h[fd].used = false;
	l->h[fd].gen++;
	return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static bool
timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->deadline < b->deadline ||
	    (a->deadline == b->deadline && a->order < b->order);
}

static void
heap_swap(struct loop *l, size_t i, size_t j)
{
	struct loop_timer *t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->heap[i]->index = i;
	l->heap[j]->index = j;
}

static void
heap_up(struct loop *l, size_t i)
{
	while (i > 0 && timer_before(l->heap[i], l->heap[(i - 1) / 2])) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;

		if (c < l->nheap && timer_before(l->heap[c], l->heap[m]))
			m = c;
		if (c + 1 < l->nheap && timer_before(l->heap[c + 1], l->heap[m]))
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

/* Take timer at heap position i out of the heap (not freed). */
static void
heap_remove(struct loop *l, size_t i)
{
	l->nheap--;
	if (i != l->nheap) {
		heap_swap(l, i, l->nheap);
		heap_down(l, i);
		heap_up(l, i);
	}
}

struct loop_timer *
loop_timer_add(struct loop *l, uint64_t ms, loop_timer_fn fn, void *arg)
{
	struct loop_timer *t;

	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 64;
		struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));

		if (h == NULL)
			return NULL;
		l->heap = h;
		l->capheap = cap;
	}
	if ((t = malloc(sizeof(*t))) == NULL)
		return NULL;
	t->deadline = loop_clock_ms() + ms;
	t->order = l->timer_order++;
	t->fn = fn;
	t->arg = arg;
	t->index = l->nheap;
	l->heap[l->nheap++] = t;
	heap_up(l, t->index);
	return t;
}

void
loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (t == NULL)
		return;
	heap_remove(l, t->index);
	free(t);
}

int
loop_pipe_get(struct loop *l, int fd[2], size_t *cap)
{
	int sz;

	if (l->nspare > 0) {
		l->nspare--;
		fd[0] = l->spare[l->nspare].fd[0];
		fd[1] = l->spare[l->nspare].fd[1];
		*cap = l->spare[l->nspare].cap;
		return 0;
	}
	if (pipe2(fd, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	/* Usually 64 KiB; one page or two once the user has more pipe
	 * buffers than fs.pipe-user-pages-soft allows. */
	sz = fcntl(fd[0], F_GETPIPE_SZ);
	*cap = sz > 0 ? (size_t)sz : 4096;
	return 0;
}

void
loop_pipe_put(struct loop *l, const int fd[2], size_t cap)
{
	if (l->nspare == LOOP_SPARE_PIPES) {
		close(fd[0]);
		close(fd[1]);
		return;
	}
	l->spare[l->nspare].fd[0] = fd[0];
	l->spare[l->nspare].fd[1] = fd[1];
	l->spare[l->nspare].cap = cap;
	l->nspare++;
}

uint64_t
loop_now_ms(const struct loop *l)
{
	return l->now;
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}

/* Run every timer whose deadline has passed; timers they add for "now"
 * wait for the next round so a zero-delay timer cannot starve the fds. */
static void
loop_run_timers(struct loop *l)
{
	uint64_t limit = l->timer_order;

	while (l->nheap > 0 && l->heap[0]->deadline <= l->now &&
	    l->heap[0]->order < limit) {
		struct loop_timer *t = l->heap[0];
		loop_timer_fn fn = t->fn;
		void *arg = t->arg;

		heap_remove(l, 0);
		free(t);
		fn(l, arg);
	}
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_EVENTS];
	int i, n, timeout;

	l->stop = false;
	while (!l->stop) {
		l->now = loop_clock_ms();
		timeout = -1;
		if (l->nheap > 0) {
			uint64_t d = l->heap[0]->deadline;

			timeout = d <= l->now ? 0 : (int)(d - l->now > 60000 ? 60000 : d - l->now);
		}
		n = epoll_wait(l->epfd, evs, LOOP_EVENTS, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		l->now = loop_clock_ms();
		for (i = 0; i < n && !l->stop; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);

			/* Deleted (or deleted and re-added) during this round. */
			if ((size_t)fd >= l->nh || !l->h[fd].used || l->h[fd].gen != gen)
				continue;
			l->h[fd].fn(l, fd, evs[i].events, l->h[fd].arg);
		}
		if (!l->stop)
			loop_run_timers(l);
	}
	return 0;
}
