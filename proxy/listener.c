/*
 * The listening sockets: one per family so that IPv6 needs no mapped
 * addresses, accepting in batches so that one busy round cannot starve
 * the rest of the loop.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "loop.h"

#define LISTENER_BATCH		64	/* accepts per wake-up */
#define LISTENER_BACKLOG	1024
#define LISTENER_PAUSE_MS	100	/* out of descriptors: wait this long */

struct listener {
	struct loop	*loop;
	int		 fd[2];		/* AF_INET, AF_INET6; -1 when closed */
	listener_fn	 fn;
	void		*arg;
	struct loop_timer *pause;	/* set while paused for EMFILE */
	bool		 starved;	/* said so; quiet until an accept works */
};

static void
listener_resume(struct loop *l, void *arg)
{
	struct listener *ls = arg;
	int i;

	ls->pause = NULL;
	for (i = 0; i < 2; i++)
		if (ls->fd[i] != -1)
			(void)loop_mod(l, ls->fd[i], EPOLLIN);
}

/*
 * Out of descriptors: the pending connection stays in the backlog and the
 * level-triggered listener would fire again at once, spinning. Stop
 * watching both sockets for a moment; connections that end meanwhile
 * free descriptors.
 */
static void
listener_pause(struct listener *ls)
{
	int i;

	if (ls->pause != NULL)
		return;
	if (!ls->starved)
		log_warn("accept: pausing in steps of %d ms", LISTENER_PAUSE_MS);
	ls->starved = true;
	for (i = 0; i < 2; i++)
		if (ls->fd[i] != -1)
			(void)loop_mod(ls->loop, ls->fd[i], 0);
	ls->pause = loop_timer_add(ls->loop, LISTENER_PAUSE_MS, listener_resume,
	    ls);
	if (ls->pause == NULL)
		listener_resume(ls->loop, ls);
}

static void
listener_accept_cb(struct loop *l, int lfd, uint32_t events, void *arg)
{
	struct listener *ls = arg;
	int fd, i, family = lfd == ls->fd[1] ? AF_INET6 : AF_INET;

	(void)l;
	(void)events;
	for (i = 0; i < LISTENER_BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				listener_pause(ls);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (ls->starved) {
			log_warnx("accept: descriptors available again");
			ls->starved = false;
		}
		ls->fn(ls->arg, fd, family);
	}
}

static int
listener_socket(int family, uint16_t port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr *sa;
	socklen_t sl;
	int fd, one = 1, saved;

	if (family == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sa = (struct sockaddr *)&sin;
		sl = sizeof(sin);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		sa = (struct sockaddr *)&sin6;
		sl = sizeof(sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &one, sizeof(one)) == -1) ||
	    bind(fd, sa, sl) == -1 || listen(fd, LISTENER_BACKLOG) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct listener *
listener_open(struct loop *l, uint16_t port, listener_fn fn, void *arg)
{
	static const int families[2] = { AF_INET, AF_INET6 };
	struct listener *ls;
	int i, saved;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->loop = l;
	ls->fn = fn;
	ls->arg = arg;
	ls->fd[0] = ls->fd[1] = -1;
	for (i = 0; i < 2; i++) {
		if ((ls->fd[i] = listener_socket(families[i], port)) == -1) {
			log_warn("listen %s port %u",
			    i == 0 ? "0.0.0.0" : "[::]", port);
			goto fail;
		}
		if (loop_add(l, ls->fd[i], EPOLLIN, listener_accept_cb, ls) == -1)
			goto fail;
	}
	return ls;
fail:
	saved = errno;
	listener_close(ls);
	errno = saved;
	return NULL;
}

void
listener_close(struct listener *ls)
{
	int i;

	if (ls == NULL)
		return;
	if (ls->pause != NULL)
		loop_timer_cancel(ls->loop, ls->pause);
	for (i = 0; i < 2; i++) {
		if (ls->fd[i] != -1) {
			(void)loop_del(ls->loop, ls->fd[i]);
			close(ls->fd[i]);
		}
	}
	free(ls);
}
