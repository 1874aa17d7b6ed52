/*
 * The proxy's connection set: the two listeners, accepting (source address,
 * original destination, the task and its policy, the global and per-task
 * limits), freeing, and stopping. Judging the first bytes is conn.c's.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "approval_pool.h"
#include "conf.h"
#include "conn_int.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "relay.h"
#include "telemetry.h"

static struct task_count *
conn_task_count(struct conn_set *s, const char *id)
{
	struct task_count *tc;

	for (tc = s->tasks; tc != NULL; tc = tc->next)
		if (strcmp(tc->id, id) == 0)
			return tc;
	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return NULL;
	snprintf(tc->id, sizeof(tc->id), "%s", id);
	tc->next = s->tasks;
	s->tasks = tc;
	return tc;
}

void
conn_free(struct conn *c)
{
	struct conn_set *s = c->set;
	struct loop *l = s->p->loop;
	struct task_count **tp;

	assert(c->state == CONN_DONE);
	if (c->hold != NULL) {
		approvals_release(s->p->approvals, c->hold);
		c->hold = NULL;
	}
	conn_timer_clear(c);
	conn_lookup_leave(c);
	if (c->relay != NULL)
		relay_free(c->relay);
	(void)loop_del(l, c->cfd);
	close(c->cfd);
	if (c->sfd != -1) {
		(void)loop_del(l, c->sfd);
		close(c->sfd);
	}
	if (c->pol != NULL)
		policy_unref(c->pol);
	if (c->tc != NULL && --c->tc->n == 0) {
		for (tp = &s->tasks; *tp != c->tc; tp = &(*tp)->next)
			;
		*tp = c->tc->next;
		free(c->tc);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->n--;
	s->p->nconns--;
	free(c->trace_id);
	free(c->buf);
	free(c);
}

static int
conn_original_dst(int fd, int family, struct ag_addr *a, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;

	memset(&ss, 0, sizeof(ss));
	if (getsockopt(fd, level, CONN_SO_ORIGINAL_DST, &ss, &sl) == -1)
		return -1;
	if (addr_from_sockaddr((struct sockaddr *)&ss, a) == -1)
		return -1;
	*port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static void
conn_start(struct conn_set *s, int fd, int family, bool explicit)
{
	struct proxy *p = s->p;
	struct conn *c;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const struct reg_task *task;
	const struct ag_conf *cf = p->conf;
	char reason[96];
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("conn");
		close(fd);
		return;
	}
	c->set = s;
	c->cfd = fd;
	c->sfd = -1;
	c->mismatch = -1;
	c->state = CONN_HELLO;
	c->explicit = explicit;
	clock_gettime(CLOCK_REALTIME, &c->start);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->n++;
	p->nconns++;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    addr_from_sockaddr((struct sockaddr *)&ss, &c->src) == 0)
		c->sport = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	/* An explicit client names its destination in the request. */
	if (!explicit &&
	    conn_original_dst(fd, family, &c->odst, &c->oport) == -1) {
		conn_deny(c, "no original destination (not redirected)", 0);
		return;
	}
	if (p->stopping) {
		conn_deny(c, "proxy stopping", 0);
		return;
	}
	if (s->n > cf->proxy_max_conns) {
		conn_deny(c, "proxy-max-conns reached", 0);
		return;
	}
	rc = proxy_task_for(p, &c->src, &task, &c->pol);
	if (task != NULL) {
		snprintf(c->task_id, sizeof(c->task_id), "%s", task->id);
		if (task->trace_id != NULL)
			c->trace_id = strdup(task->trace_id);
	}
	if (rc == -1) {
		conn_deny(c, errno == ENOENT ? "no task for the source address" :
		    "the task's policy cannot be loaded", 0);
		return;
	}
	if ((c->tc = conn_task_count(s, c->task_id)) == NULL) {
		conn_deny(c, "out of memory", 0);
		return;
	}
	if (++c->tc->n > cf->proxy_max_conns_task) {
		snprintf(reason, sizeof(reason),
		    "proxy-max-conns-per-task (%u) reached", cf->proxy_max_conns_task);
		conn_deny(c, reason, 0);
		return;
	}
	if (!telemetry_ok(p->telemetry)) {
		conn_deny(c, "telemetry unavailable", 0);
		return;
	}
	if (!explicit && p->approvals != NULL &&
	    approval_pool_contains(approvals_pool(p->approvals), &c->odst)) {
		conn_synthetic_start(c);
		return;
	}
	if (conn_hello_start(c) == -1)
		conn_deny(c, "out of resources", 0);
}

static void
conn_accept(void *arg, int fd, int family)
{
	conn_start(arg, fd, family, false);
}

static void
conn_accept_explicit(void *arg, int fd, int family)
{
	conn_start(arg, fd, family, true);
}

struct conn_set *
conn_set_open(struct proxy *p, uint16_t port, uint16_t explicit_port)
{
	struct conn_set *s;
	int saved;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->p = p;
	if ((s->listener = listener_open(p->loop, port, conn_accept, s)) == NULL)
		goto fail;
	if (explicit_port != 0 && (s->xlistener = listener_open(p->loop,
	    explicit_port, conn_accept_explicit, s)) == NULL)
		goto fail;
	return s;
fail:
	saved = errno;
	listener_close(s->listener);
	free(s);
	errno = saved;
	return NULL;
}

void
conn_set_stop(struct conn_set *s)
{
	listener_close(s->listener);
	s->listener = NULL;
	listener_close(s->xlistener);
	s->xlistener = NULL;
	while (s->conns != NULL) {
		if (s->conns->state == CONN_RELAYING)
			relay_stop(s->conns->relay);
		else
			conn_deny(s->conns, "proxy stopping", 0);
	}
}

void
conn_set_free(struct conn_set *s)
{
	if (s == NULL)
		return;
	conn_set_stop(s);
	free(s);
}

size_t
conn_set_count(const struct conn_set *s)
{
	return s->n;
}
