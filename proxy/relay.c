/*
 * splice(2) relay. Each direction owns a pipe: bytes are spliced from the
 * source socket into the pipe and from the pipe into the destination, so
 * the pipe is the only buffer (64 KiB by default, kernel pages, not ours).
 * One loop registration per socket; its event mask is recomputed from
 * what each direction is waiting for after every round.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "relay.h"

#define RELAY_CHUNK	(64 * 1024)

struct relay_dir {
	int		 src, dst;
	int		 pipe[2];
	size_t		 pending;	/* bytes in the pipe */
	bool		 eof;		/* src sent FIN */
	bool		 shut;		/* FIN passed on to dst */
	uint64_t	 bytes;		/* delivered to dst */
};

struct relay {
	struct loop		*loop;
	int			 cfd, sfd;
	struct relay_dir	 up;		/* client -> server */
	struct relay_dir	 down;		/* server -> client */
	uint8_t			*first;		/* still to write to the server */
	size_t			 first_len, first_off;
	uint64_t		 idle_ms;
	uint64_t		 last_ms;	/* last byte moved */
	struct loop_timer	*idle;
	struct loop_timer	*start;		/* first pump, after relay_new */
	relay_done_fn		 done;
	void			*arg;
	bool			 ended;
};

static void relay_pump(struct relay *);

static void
relay_end(struct relay *r, enum relay_end how, int error)
{
	struct relay_stats st;

	if (r->ended)
		return;
	r->ended = true;
	memset(&st, 0, sizeof(st));
	st.up = r->up.bytes + r->first_off;
	st.down = r->down.bytes;
	st.end = how;
	st.error = error;
	/* Last: the owner frees r from here. */
	r->done(r->arg, &st);
}

/* Move what can be moved in one direction. Returns 1 when bytes moved, 0
 * when it has to wait, -1 with errno on a socket error. */
static int
relay_dir_pump(struct relay *r, struct relay_dir *d, bool may_write)
{
	ssize_t n;
	int moved = 0;

	for (;;) {
		bool progress = false;

		if (!d->eof && d->pending < RELAY_CHUNK) {
			n = splice(d->src, NULL, d->pipe[1], NULL,
			    RELAY_CHUNK - d->pending,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->pending += (size_t)n;
				progress = true;
			} else if (n == 0) {
				d->eof = true;
				progress = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (may_write && d->pending > 0) {
			n = splice(d->pipe[0], NULL, d->dst, NULL, d->pending,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->pending -= (size_t)n;
				d->bytes += (uint64_t)n;
				progress = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (may_write && d->eof && d->pending == 0 && !d->shut) {
			/* Pass the half-close on: the other side may still
			 * answer (a request body ended, a reply still due). */
			(void)shutdown(d->dst, SHUT_WR);
			d->shut = true;
		}
		if (!progress)
			break;
		moved = 1;
	}
	return moved;
}

static uint32_t
relay_mask(const struct relay_dir *in, const struct relay_dir *out,
    bool out_blocked)
{
	uint32_t ev = 0;

	/* `in` reads from this socket, `out` writes to it. */
	if (!in->eof && in->pending < RELAY_CHUNK)
		ev |= EPOLLIN;
	if (out->pending > 0 || out_blocked)
		ev |= EPOLLOUT;
	return ev;
}

static void
relay_pump(struct relay *r)
{
	ssize_t n;
	bool moved = false;
	int rc;

	while (r->first_off < r->first_len) {
		n = write(r->sfd, r->first + r->first_off,
		    r->first_len - r->first_off);
		if (n > 0) {
			r->first_off += (size_t)n;
			moved = true;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			break;
		} else {
			relay_end(r, RELAY_END_ERROR, n < 0 ? errno : EIO);
			return;
		}
	}
	/* Nothing the client sent later may overtake the first bytes. */
	if ((rc = relay_dir_pump(r, &r->up, r->first_off == r->first_len)) == -1) {
		relay_end(r, RELAY_END_ERROR, errno);
		return;
	}
	if (rc == 1)
		moved = true;
	if ((rc = relay_dir_pump(r, &r->down, true)) == -1) {
		relay_end(r, RELAY_END_ERROR, errno);
		return;
	}
	if (rc == 1)
		moved = true;
	if (moved)
		r->last_ms = loop_now_ms(r->loop);
	if (r->up.shut && r->down.shut) {
		relay_end(r, RELAY_END_EOF, 0);
		return;
	}
	(void)loop_mod(r->loop, r->cfd, relay_mask(&r->up, &r->down, false));
	(void)loop_mod(r->loop, r->sfd, relay_mask(&r->down, &r->up,
	    r->first_off < r->first_len));
}

static void
relay_fd_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct relay *r = arg;
	int err = 0;
	socklen_t sl = sizeof(err);

	(void)l;
	if (events & EPOLLERR) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 ||
		    err == 0)
			err = EIO;
		relay_end(r, RELAY_END_ERROR, err);
		return;
	}
	relay_pump(r);
}

static void
relay_idle_cb(struct loop *l, void *arg)
{
	struct relay *r = arg;
	uint64_t now = loop_now_ms(l), quiet = now - r->last_ms;

	r->idle = NULL;
	if (quiet >= r->idle_ms) {
		relay_end(r, RELAY_END_IDLE, 0);
		return;
	}
	/* Bytes moved since: wait for the rest of the period. */
	r->idle = loop_timer_add(l, r->idle_ms - quiet, relay_idle_cb, r);
}

static void
relay_start_cb(struct loop *l, void *arg)
{
	struct relay *r = arg;

	(void)l;
	r->start = NULL;
	relay_pump(r);
}

static int
relay_dir_init(struct relay_dir *d, int src, int dst)
{
	d->src = src;
	d->dst = dst;
	return pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC);
}

struct relay *
relay_new(struct loop *l, int cfd, int sfd, const uint8_t *first, size_t len,
    uint64_t idle_ms, relay_done_fn done, void *arg)
{
	struct relay *r;
	int saved;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->loop = l;
	r->cfd = cfd;
	r->sfd = sfd;
	r->up.pipe[0] = r->up.pipe[1] = r->down.pipe[0] = r->down.pipe[1] = -1;
	r->idle_ms = idle_ms > 0 ? idle_ms : 1;
	r->last_ms = loop_now_ms(l);
	r->done = done;
	r->arg = arg;
	if (len > 0) {
		if ((r->first = malloc(len)) == NULL)
			goto fail;
		memcpy(r->first, first, len);
		r->first_len = len;
	}
	if (relay_dir_init(&r->up, cfd, sfd) == -1 ||
	    relay_dir_init(&r->down, sfd, cfd) == -1)
		goto fail;
	if (loop_add(l, cfd, EPOLLIN, relay_fd_cb, r) == -1)
		goto fail;
	if (loop_add(l, sfd, EPOLLIN | EPOLLOUT, relay_fd_cb, r) == -1) {
		(void)loop_del(l, cfd);
		goto fail;
	}
	/* The first pump runs from the loop, so done never runs in here. */
	if ((r->idle = loop_timer_add(l, r->idle_ms, relay_idle_cb, r)) == NULL ||
	    (r->start = loop_timer_add(l, 0, relay_start_cb, r)) == NULL) {
		(void)loop_del(l, cfd);
		(void)loop_del(l, sfd);
		goto fail;
	}
	return r;
fail:
	saved = errno;
	relay_free(r);
	errno = saved;
	return NULL;
}

void
relay_stop(struct relay *r)
{
	relay_end(r, RELAY_END_STOPPED, 0);
}

void
relay_free(struct relay *r)
{
	int i;

	if (r == NULL)
		return;
	if (r->idle != NULL)
		loop_timer_cancel(r->loop, r->idle);
	if (r->start != NULL)
		loop_timer_cancel(r->loop, r->start);
	(void)loop_del(r->loop, r->cfd);
	(void)loop_del(r->loop, r->sfd);
	for (i = 0; i < 2; i++) {
		if (r->up.pipe[i] != -1)
			close(r->up.pipe[i]);
		if (r->down.pipe[i] != -1)
			close(r->down.pipe[i]);
	}
	free(r->first);
	free(r);
}
