/*
 * splice(2) relay. Each direction moves bytes from the source socket into a
 * pipe and from the pipe into the destination, so the pipe is the only
 * buffer (kernel pages, not ours). The pipe comes from the loop's spares
 * when bytes arrive and goes back as soon as it is empty again: an idle
 * relay holds none. A direction that fills its pipe gets a bigger one
 * (RELAY_PIPE_BULK): bulk moves in fewer splices and wake-ups. One loop
 * registration per socket; its event mask is recomputed from what each
 * direction waits for, and changed only when it differs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "relay.h"

/*
 * RELAY_PIPE_BULK: pipe buffers are charged to the proxy's user
 * (fs.pipe-user-pages-soft, 16,384 pages by default): 64 pages each, so
 * the loop's spares (64) and the relays moving bulk at once stay well
 * under it; past it, or past fs.pipe-max-size, a pipe keeps its size.
 */

struct relay_dir {
	int		 src, dst;
	int		 pipe[2];	/* -1: none (nothing waits in it) */
	size_t		 cap;		/* the pipe's capacity */
	size_t		 pending;	/* bytes in the pipe */
	bool		 eof;		/* src sent FIN */
	bool		 shut;		/* FIN passed on to dst */
	bool		 nogrow;	/* the kernel refused a bigger pipe */
	uint64_t	 bytes;		/* delivered to dst */
};

struct relay {
	struct loop		*loop;
	int			 cfd, sfd;
	uint32_t		 cmask, smask;	/* as registered with the loop */
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

static void
relay_dir_release(struct relay *r, struct relay_dir *d)
{
	if (d->pipe[0] == -1)
		return;
	if (d->pending == 0) {
		loop_pipe_put(r->loop, d->pipe, d->cap);
	} else {
		/* Bytes still inside: no one else may get them. */
		close(d->pipe[0]);
		close(d->pipe[1]);
	}
	d->pipe[0] = d->pipe[1] = -1;
}

/* The pipe filled: bulk is flowing, so move it in bigger steps. */
static void
relay_dir_grow(struct relay_dir *d)
{
	int sz;

	if (d->cap >= RELAY_PIPE_BULK || d->nogrow)
		return;
	if ((sz = fcntl(d->pipe[1], F_SETPIPE_SZ, RELAY_PIPE_BULK)) > 0 &&
	    (size_t)sz > d->cap)
		d->cap = (size_t)sz;
	else
		d->nogrow = true;
}

/*
 * Move what can be moved in one direction. Returns 1 when bytes moved, 0
 * when it has to wait, -1 with errno on a socket error or when no pipe
 * can be had. A splice that moved less than asked emptied its source (or
 * filled its destination): it is not tried again in this call, since the
 * level-triggered watch reports the socket again when there is more;
 * unless `fin` (the peer's FIN came), when one more read finds the end
 * now rather than one wake-up later.
 */
static int
relay_dir_pump(struct relay *r, struct relay_dir *d, bool may_write, bool fin)
{
	ssize_t n;
	size_t want;
	bool drained = false, full = false;
	int moved = 0;

	for (;;) {
		bool progress = false;

		if (!d->eof && !drained &&
		    (d->pipe[0] == -1 || d->pending < d->cap)) {
			if (d->pipe[0] == -1 &&
			    loop_pipe_get(r->loop, d->pipe, &d->cap) == -1)
				return -1;
			want = d->cap - d->pending;
			n = splice(d->src, NULL, d->pipe[1], NULL, want,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->pending += (size_t)n;
				progress = true;
				if ((size_t)n < want && !fin)
					drained = true;
				if (d->pending == d->cap)
					relay_dir_grow(d);
			} else if (n == 0) {
				d->eof = true;
				progress = true;
			} else if (errno == EAGAIN) {
				drained = true;
			} else if (errno != EINTR) {
				return -1;
			}
		}
		if (may_write && !full && d->pending > 0) {
			n = splice(d->pipe[0], NULL, d->dst, NULL, d->pending,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->pending -= (size_t)n;
				d->bytes += (uint64_t)n;
				progress = true;
				if (d->pending > 0)
					full = true;
			} else if (n < 0 && errno == EAGAIN) {
				full = true;
			} else if (n < 0 && errno != EINTR) {
				return -1;
			}
		}
		if (d->pending == 0)
			relay_dir_release(r, d);
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
	if (!in->eof && (in->pipe[0] == -1 || in->pending < in->cap))
		ev |= EPOLLIN | EPOLLRDHUP;
	if (out->pending > 0 || out_blocked)
		ev |= EPOLLOUT;
	return ev;
}

static void
relay_watch(struct relay *r, int fd, uint32_t *have, uint32_t want)
{
	if (*have == want)
		return;
	if (loop_mod(r->loop, fd, want) == 0)
		*have = want;
}

/*
 * One round after fd reported events (fd -1: try everything). A direction
 * is pumped when its source may be read or its destination written; the
 * other one has nothing to do until its own event, since the masks are
 * level-triggered.
 */
static void
relay_pump(struct relay *r, int fd, uint32_t events)
{
	const uint32_t rd = EPOLLIN | EPOLLHUP | EPOLLRDHUP;
	bool up_go, down_go, moved = false;
	ssize_t n;
	int rc;

	up_go = fd == -1 || (events & EPOLLHUP) ||
	    (fd == r->cfd && (events & rd)) ||
	    (fd == r->sfd && (events & EPOLLOUT));
	down_go = fd == -1 || (events & EPOLLHUP) ||
	    (fd == r->sfd && (events & rd)) ||
	    (fd == r->cfd && (events & EPOLLOUT));
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
	if (r->first != NULL && r->first_off == r->first_len) {
		/* Sent: counted with the rest, and not kept for the life
		 * of the relay. */
		r->up.bytes += r->first_len;
		free(r->first);
		r->first = NULL;
		r->first_len = r->first_off = 0;
	}
	/* Nothing the client sent later may overtake the first bytes. */
	if (up_go) {
		rc = relay_dir_pump(r, &r->up, r->first == NULL,
		    fd == -1 || (fd == r->cfd && (events & (EPOLLRDHUP | EPOLLHUP))));
		if (rc == -1) {
			relay_end(r, RELAY_END_ERROR, errno);
			return;
		}
		if (rc == 1)
			moved = true;
	}
	if (down_go) {
		if ((rc = relay_dir_pump(r, &r->down, true, fd == -1 ||
		    (fd == r->sfd && (events & (EPOLLRDHUP | EPOLLHUP))))) == -1) {
			relay_end(r, RELAY_END_ERROR, errno);
			return;
		}
		if (rc == 1)
			moved = true;
	}
	if (moved)
		r->last_ms = loop_now_ms(r->loop);
	if (r->up.shut && r->down.shut) {
		relay_end(r, RELAY_END_EOF, 0);
		return;
	}
	relay_watch(r, r->cfd, &r->cmask, relay_mask(&r->up, &r->down, false));
	relay_watch(r, r->sfd, &r->smask, relay_mask(&r->down, &r->up,
	    r->first != NULL));
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
	relay_pump(r, fd, events);
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
	relay_pump(r, -1, 0);
}

static void
relay_dir_init(struct relay_dir *d, int src, int dst)
{
	d->src = src;
	d->dst = dst;
	d->pipe[0] = d->pipe[1] = -1;
}

struct relay *
relay_new(struct loop *l, int cfd, int sfd, const uint8_t *first, size_t len,
    uint64_t idle_ms, relay_done_fn done, void *arg)
{
	struct relay *r;
	ssize_t n;
	int saved, one = 1;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	/* Bytes go on as they arrive. With Nagle, a small segment behind one
	 * not yet acknowledged (a TLS Finished, then the request after it)
	 * waits for the peer's delayed ACK: 40 ms added to every such
	 * request. Not a TCP socket (a test's socketpair): nothing to do. */
	(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r->loop = l;
	r->cfd = cfd;
	r->sfd = sfd;
	relay_dir_init(&r->up, cfd, sfd);
	relay_dir_init(&r->down, sfd, cfd);
	r->idle_ms = idle_ms > 0 ? idle_ms : 1;
	r->last_ms = loop_now_ms(l);
	r->done = done;
	r->arg = arg;
	/* A fresh connection's send buffer nearly always takes the first
	 * bytes at once, so the server side starts out watched for reading
	 * only. Errors are left to the first pump, which ends the relay. */
	n = len > 0 ? write(sfd, first, len) : 0;
	if (n < 0)
		n = 0;
	r->up.bytes = (uint64_t)n;
	if ((size_t)n < len) {
		if ((r->first = malloc(len - (size_t)n)) == NULL)
			goto fail;
		memcpy(r->first, first + n, len - (size_t)n);
		r->first_len = len - (size_t)n;
	}
	r->cmask = EPOLLIN | EPOLLRDHUP;
	r->smask = r->first != NULL ? EPOLLIN | EPOLLRDHUP | EPOLLOUT :
	    EPOLLIN | EPOLLRDHUP;
	/* Taken over from whoever watched them (the dial): one epoll_ctl
	 * each. On failure relay_free unregisters both. */
	if (loop_set(l, cfd, r->cmask, relay_fd_cb, r) == -1 ||
	    loop_set(l, sfd, r->smask, relay_fd_cb, r) == -1)
		goto fail;
	/* The first pump runs from the loop, so done never runs in here. */
	if ((r->idle = loop_timer_add(l, r->idle_ms, relay_idle_cb, r)) == NULL ||
	    (r->start = loop_timer_add(l, 0, relay_start_cb, r)) == NULL)
		goto fail;
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
	if (r == NULL)
		return;
	if (r->idle != NULL)
		loop_timer_cancel(r->loop, r->idle);
	if (r->start != NULL)
		loop_timer_cancel(r->loop, r->start);
	(void)loop_del(r->loop, r->cfd);
	(void)loop_del(r->loop, r->sfd);
	relay_dir_release(r, &r->up);
	relay_dir_release(r, &r->down);
	free(r->first);
	free(r);
}
