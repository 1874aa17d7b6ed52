/*
 * The dialling half of a proxy connection: an allowed name is resolved by
 * the gateway, only answers the rebinding rule accepts are tried, one
 * non-blocking connect at a time, and the relay that follows writes the
 * connection's one event when it ends.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <ares.h>

#include "approval.h"
#include "conf.h"
#include "conn_int.h"
#include "httpclose.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "relay.h"
#include "resolve.h"
#include "telemetry.h"

static void conn_try_next(struct conn *);

static void
conn_relay_done(void *arg, const struct relay_stats *st)
{
	struct conn *c = arg;
	struct ag_event ev;
	const char *why = NULL;
	char buf[128];

	conn_event_fill(c, &ev);
	ev.dst_ip = c->dialled;
	ev.src_bytes = (int64_t)st->up;
	ev.dst_bytes = (int64_t)st->down;
	ev.destination_mismatch = c->mismatch == 1;
	switch (st->end) {
	case RELAY_END_EOF:
		break;
	case RELAY_END_IDLE:
		why = "idle timeout";
		break;
	case RELAY_END_STOPPED:
		why = "proxy stopping";
		break;
	case RELAY_END_ERROR:
		snprintf(buf, sizeof(buf), "relay: %s", strerror(st->error));
		why = buf;
		break;
	}
	ev.reason = why;
	proxy_emit(c->set->p, &ev);
	conn_set_state(c, CONN_DONE);
	conn_free(c);
}

/* Hand both sockets and the bytes already read (first, len) to a relay. */
void
conn_relay_start(struct conn *c, const uint8_t *first, size_t len)
{
	c->relay = relay_new(c->set->p->loop, c->cfd, c->sfd, first, len,
	    c->set->p->conf->proxy_idle_ms, conn_relay_done, c);
	if (c->relay == NULL) {
		conn_deny(c, "cannot start the relay", 502);
		return;
	}
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	conn_set_state(c, CONN_RELAYING);
}

static void
conn_connected(struct conn *c)
{
	char *head = NULL;
	ssize_t hl;

	conn_timer_clear(c);
	if (c->connect || c->synthetic) {
		(void)loop_del(c->set->p->loop, c->sfd);
		conn_tunnel_open(c);
		return;
	}
	/* sfd stays watched (its connect callback) until the relay takes
	 * it over: one epoll_ctl instead of a del and an add. */
	if (c->proto != PROTOCOL_HTTP) {
		conn_relay_start(c, c->buf, c->len);
		return;
	}
	/* The first request's head with Connection: close, then the rest of
	 * what the client already sent, unchanged. */
	if ((head = malloc(c->len + HTTPCLOSE_EXTRA)) == NULL) {
		conn_deny(c, "out of memory", 502);
		return;
	}
	hl = httpclose_head((const char *)c->buf, c->head_len,
	    head, c->head_len + HTTPCLOSE_EXTRA);
	if (hl < 0) {
		free(head);
		conn_deny(c, "cannot rewrite the request head", 502);
		return;
	}
	memcpy(head + hl, c->buf + c->head_len, c->len - c->head_len);
	conn_relay_start(c, (const uint8_t *)head,
	    (size_t)hl + c->len - c->head_len);
	free(head);
}

static void
conn_connect_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	int err = 0;
	socklen_t sl = sizeof(err);

	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		err = errno;
	if (err == 0) {
		conn_connected(c);
		return;
	}
	c->connect_err = err;
	conn_timer_clear(c);
	(void)loop_del(l, fd);
	close(fd);
	c->sfd = -1;
	conn_try_next(c);
}

static void
conn_connect_timeout(struct loop *l, void *arg)
{
	struct conn *c = arg;

	c->timer = NULL;
	c->connect_err = ETIMEDOUT;
	(void)loop_del(l, c->sfd);
	close(c->sfd);
	c->sfd = -1;
	conn_try_next(c);
}

static int
conn_sockaddr(const struct ag_addr *a, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *sl)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		*sl = sizeof(*sin);
		return 0;
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->u.v6;
		*sl = sizeof(*sin6);
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

/* Dial the next usable address, in turn; none left: the attempt fails. */
static void
conn_try_next(struct conn *c)
{
	struct proxy *p = c->set->p;
	struct sockaddr_storage ss;
	socklen_t sl;
	char reason[128];
	const struct ag_addr *a;

	while (c->next_cand < c->ncand) {
		a = &c->cand[c->next_cand++];
		conn_set_state(c, CONN_CONNECTING);
		c->dialled = *a;
		if (conn_sockaddr(a, c->oport, &ss, &sl) == -1)
			continue;
		c->sfd = socket(a->family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->sfd == -1) {
			c->connect_err = errno;
			continue;
		}
		if (connect(c->sfd, (struct sockaddr *)&ss, sl) == -1 &&
		    errno != EINPROGRESS) {
			c->connect_err = errno;
			close(c->sfd);
			c->sfd = -1;
			continue;
		}
		if (loop_add(p->loop, c->sfd, EPOLLOUT, conn_connect_cb, c) == -1 ||
		    (c->timer = loop_timer_add(p->loop, p->conf->proxy_handshake_ms,
		    conn_connect_timeout, c)) == NULL) {
			c->connect_err = errno;
			(void)loop_del(p->loop, c->sfd);
			close(c->sfd);
			c->sfd = -1;
			continue;
		}
		return;
	}
	snprintf(reason, sizeof(reason), "upstream unreachable: %s",
	    strerror(c->connect_err != 0 ? c->connect_err : EHOSTUNREACH));
	conn_deny(c, reason, 502);
}

static void
conn_resolved(struct conn *c, int status, const struct resolve_answer *ans,
    size_t n)
{
	struct proxy *p = c->set->p;
	char reason[160];
	size_t i, pass;
	bool seen_odst = false;

	if (status != ARES_SUCCESS) {
		snprintf(reason, sizeof(reason), "cannot resolve: %s",
		    ares_strerror(status));
		conn_deny(c, reason, 502);
		return;
	}
	/* The original destination's family first, so that a client that
	 * asked for IPv6 is served over IPv6 when the name has it. */
	c->ncand = 0;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if ((ans[i].addr.family == c->odst.family) != (pass == 0))
				continue;
			if (addr_equal(&ans[i].addr, &c->odst))
				seen_odst = true;
			/* The rebinding rule and the gateway's own addresses. */
			if (!proxy_answer_usable(p, c->pol, &ans[i].addr,
			    POLICY_PROTO_TCP, c->oport))
				continue;
			c->cand[c->ncand++] = ans[i].addr;
		}
	}
	/* A synthetic destination is never among the answers. */
	if (!c->explicit && !c->synthetic)
		c->mismatch = seen_odst ? 0 : 1;
	if (c->ncand == 0) {
		conn_deny(c, "no usable address: answers point at private, "
		    "loopback, link-local, metadata or gateway addresses", 403);
		return;
	}
	c->next_cand = 0;
	conn_try_next(c);
}

static void
conn_lookup_unlink(struct conn_lookup *lk)
{
	struct conn_lookup **pp;

	for (pp = &lk->set->lookups; *pp != lk; pp = &(*pp)->next)
		;
	*pp = lk->next;
}

/* Every waiter gets the same answers; each judges them for itself (its
 * original destination, its policy's rebinding rule). */
static void
conn_lookup_done(void *arg, int status, const struct resolve_answer *ans,
    size_t n)
{
	struct conn_lookup *lk = arg;
	struct conn *c;

	lk->req = NULL;
	conn_lookup_unlink(lk);
	while ((c = lk->waiters) != NULL) {
		lk->waiters = c->lk_next;
		c->lk_next = NULL;
		c->lookup = NULL;
		conn_resolved(c, status, ans, n);
	}
	free(lk);
}

void
conn_lookup_leave(struct conn *c)
{
	struct conn_lookup *lk = c->lookup;
	struct conn **pp;

	if (lk == NULL)
		return;
	for (pp = &lk->waiters; *pp != c; pp = &(*pp)->lk_next)
		;
	*pp = c->lk_next;
	c->lookup = NULL;
	c->lk_next = NULL;
	if (lk->waiters == NULL) {
		resolver_cancel(lk->req);
		conn_lookup_unlink(lk);
		free(lk);
	}
}

/* Wait for the name's lookup in flight, or start one. 0, or -1 ENOMEM. */
static int
conn_lookup_join(struct conn *c)
{
	struct conn_set *s = c->set;
	struct conn_lookup *lk;

	for (lk = s->lookups; lk != NULL; lk = lk->next) {
		if (strcmp(lk->name, c->name) == 0)
			break;
	}
	if (lk == NULL) {
		if ((lk = calloc(1, sizeof(*lk))) == NULL)
			return -1;
		lk->set = s;
		snprintf(lk->name, sizeof(lk->name), "%s", c->name);
		if ((lk->req = resolver_lookup(s->p->resolver, c->name,
		    conn_lookup_done, lk)) == NULL) {
			free(lk);
			return -1;
		}
		lk->next = s->lookups;
		s->lookups = lk;
	}
	c->lk_next = lk->waiters;
	lk->waiters = c;
	c->lookup = lk;
	return 0;
}

/* A verdict was reached on the first bytes: go on or refuse. */
void
conn_decide(struct conn *c, const struct ag_addr *literal)
{
	struct proxy *p = c->set->p;
	struct approval_check ac;

	conn_timer_clear(c);
	(void)loop_del(p->loop, c->cfd);
	c->judged = true;
	if (c->verdict.action == POLICY_ASK) {
		/* Approvals are by name: an address rule's ask has none. */
		if (p->approvals == NULL || literal != NULL) {
			conn_deny(c, "approval not available", 403);
			return;
		}
		approvals_check(p->approvals, c->task_id, policy_name(c->pol),
		    c->name, c->oport, "tcp", &ac);
		switch (ac.verdict) {
		case APPROVAL_ASK:
			conn_hold(c);
			return;
		case APPROVAL_REFUSED:
			snprintf(c->approval_id, sizeof(c->approval_id), "%s", ac.id);
			conn_deny(c, "denied by approval", 403);
			return;
		case APPROVAL_GRANTED:
			snprintf(c->approval_id, sizeof(c->approval_id), "%s", ac.id);
			break;
		}
	} else if (c->verdict.action != POLICY_ALLOW) {
		conn_deny(c, c->verdict.rule != NULL ? "denied by rule" :
		    "default deny", 403);
		return;
	}
	conn_proceed(c, literal);
}

/* Allowed (by a rule or an approval): dial the literal, or resolve. */
void
conn_proceed(struct conn *c, const struct ag_addr *literal)
{
	struct proxy *p = c->set->p;

	if (!telemetry_ok(p->telemetry)) {
		conn_deny(c, "telemetry unavailable", 403);
		return;
	}
	if (literal != NULL) {
		/* Judged by address: that address is the only target. An
		 * explicit client named it itself: nothing to mismatch. */
		if (!c->explicit)
			c->mismatch = addr_equal(literal, &c->odst) ? 0 : 1;
		if (!proxy_answer_usable(p, c->pol, literal, POLICY_PROTO_TCP,
		    c->oport)) {
			conn_deny(c, "destination is the gateway", 403);
			return;
		}
		c->cand[0] = *literal;
		c->ncand = 1;
		c->next_cand = 0;
		conn_try_next(c);
		return;
	}
	conn_set_state(c, CONN_RESOLVING);
	if (conn_lookup_join(c) == -1)
		conn_deny(c, "cannot resolve: out of memory", 502);
}
