/*
 * Connections that wait for an approval: those to a synthetic address
 * (the name comes from the pool's map, so any TCP protocol works, server
 * first or client first) and those whose SNI, Host or CONNECT names an
 * ask name. Nothing goes upstream while held; what the client sends is
 * kept (bounded) and, for a synthetic address, its SNI or Host must be
 * the mapped name. The store wakes the connection once: allowed, it is
 * dialled as if a rule had allowed it; denied or expired, it is refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "approval.h"
#include "approval_pool.h"
#include "canon.h"
#include "conf.h"
#include "conn_int.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "tlshello.h"

void
conn_synthetic_start(struct conn *c)
{
	struct proxy *p = c->set->p;
	const char *name;

	c->synthetic = true;
	name = approval_pool_name(approvals_pool(p->approvals), &c->odst,
	    loop_now_ms(p->loop));
	if (name == NULL) {
		/* Never handed out, or recycled since the client's lookup. */
		conn_deny(c, "unknown synthetic address", 0);
		return;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->verdict = policy_match_name(c->pol, c->name, POLICY_PROTO_TCP, c->oport);
	conn_decide(c, NULL);
}

/* approval-requested: the first connection's addresses and the rule. */
static void
conn_hold_event(struct conn *c)
{
	struct ag_event ev;

	event_init(&ev, EVENT_APPROVAL_REQUESTED);
	ev.transport = TRANSPORT_TCP;
	ev.protocol = c->proto;
	ev.src_ip = c->src;
	ev.src_port = c->sport;
	if (!c->explicit)
		ev.dst_ip = c->odst;
	ev.dst_port = c->oport;
	ev.dst_domain = c->name;
	proxy_event_verdict(&ev, NULL, c->pol, &c->verdict);
	ev.outcome = OUTCOME_PENDING;
	ev.task_id = c->task_id;
	ev.trace_id = c->trace_id;
	ev.approval_id = c->approval_id;
	proxy_emit(c->set->p, &ev);
}

/*
 * What a held client sent so far, through a synthetic address: a
 * complete ClientHello must name the mapped name, an HTTP head's Host
 * likewise. Refused at once when not (returns false, c freed), since
 * waiting for a human to approve a mismatch is pointless.
 */
static bool
conn_hold_check(struct conn *c)
{
	struct tls_hello h;
	struct canon_out co;
	size_t need = 0;

	if (!c->synthetic || c->len == 0)
		return true;
	switch (tlshello_parse(c->buf, c->len, &h, &need)) {
	case TLSHELLO_OK:
		c->proto = PROTOCOL_TLS;
		if (h.has_sni && (canon_host(h.sni, h.sni_len, &co) != CANON_NAME ||
		    strcmp(co.name, c->name) != 0)) {
			c->has_sni = true;
			memcpy(c->sni, h.sni, h.sni_len);
			c->sni[h.sni_len] = '\0';
			c->sni_len = h.sni_len;
			conn_deny(c, "SNI does not match the synthetic address's name", 0);
			return false;
		}
		return true;
	case TLSHELLO_INVALID:
		c->proto = PROTOCOL_TLS;
		conn_deny(c, h.error != NULL ? h.error : "invalid ClientHello", 0);
		return false;
	case TLSHELLO_NEED_MORE:
		c->proto = PROTOCOL_TLS;
		return true;
	case TLSHELLO_NOT_TLS:
		break;
	}
	return conn_host_check(c) != -1;
}

static void
conn_held_read_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	for (;;) {
		if (conn_buf_grow(c) == -1) {
			if (errno != ENOBUFS) {
				conn_deny(c, "out of memory", 0);
				return;
			}
			/* Full: stop reading; a hang-up still shows. */
			(void)loop_mod(l, fd, EPOLLRDHUP);
			if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				conn_deny(c, "closed while waiting for approval", 0);
			return;
		}
		n = read(fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			if (!conn_hold_check(c))
				return;
			continue;
		}
		if (n == 0) {
			conn_deny(c, "closed while waiting for approval", 0);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_deny(c, "read error while waiting for approval", 0);
		return;
	}
}

static void
conn_hold_wake(void *arg, enum approval_outcome out, const char *id,
    const char *reason)
{
	struct conn *c = arg;
	char why[320];

	c->hold = NULL;
	(void)loop_del(c->set->p->loop, c->cfd);
	switch (out) {
	case APPROVAL_OUT_ALLOW:
		conn_proceed(c, NULL);
		return;
	case APPROVAL_OUT_DENY:
		snprintf(why, sizeof(why), "denied by approval%s%s",
		    reason != NULL ? ": " : "", reason != NULL ? reason : "");
		conn_deny(c, why, 403);
		return;
	case APPROVAL_OUT_EXPIRED:
		conn_deny(c, c->set->p->stopping ? "proxy stopping: approval expired" :
		    "approval expired undecided", 403);
		return;
	}
}

void
conn_hold(struct conn *c)
{
	struct proxy *p = c->set->p;
	struct approval_request_key k = {
		.task_id = c->task_id, .policy = policy_name(c->pol),
		.trace_id = c->trace_id, .name = c->name, .proto = "tcp",
		.port = c->oport,
	};
	char reason[96];
	bool created;

	if (!telemetry_ok(p->telemetry)) {
		conn_deny(c, "telemetry unavailable", 403);
		return;
	}
	if ((c->hold = approvals_hold(p->approvals, &k, conn_hold_wake, c,
	    &created)) == NULL) {
		if (errno == EDQUOT) {
			snprintf(reason, sizeof(reason),
			    "approval-max-pending (%u) reached", p->conf->approval_max_pending);
			log_warnx("task %s: %s; %s port %u denied", c->task_id,
			    reason, c->name, c->oport);
		} else {
			snprintf(reason, sizeof(reason), "cannot hold for approval: %s",
			    strerror(errno));
		}
		conn_deny(c, reason, 403);
		return;
	}
	snprintf(c->approval_id, sizeof(c->approval_id), "%s",
	    approval_hold_id(c->hold));
	conn_set_state(c, CONN_HELD);
	if (created) {
		log_info("approval %s requested: task %s, %s port %u", c->approval_id,
		    c->task_id, c->name, c->oport);
		conn_hold_event(c);
	}
	if (loop_add(p->loop, c->cfd, EPOLLIN | EPOLLRDHUP, conn_held_read_cb, c) == -1) {
		conn_deny(c, "out of resources", 0);
		return;
	}
	/* Bytes already read (a synthetic connection's are none yet). */
	(void)conn_hold_check(c);
}

void
conn_approval_observer(void *arg, enum approval_event evk,
    const struct approval_info *i)
{
	struct proxy *p = arg;
	struct ag_event ev;
	char reason[320];

	if (evk == APPROVAL_EV_REQUESTED)
		return;		/* emitted by the connection that asked */
	event_init(&ev, EVENT_APPROVAL_DECIDED);
	ev.transport = TRANSPORT_TCP;
	ev.dst_domain = i->name;
	ev.dst_port = i->port;
	ev.task_id = i->task_id;
	ev.policy = i->policy;
	ev.trace_id = i->trace_id[0] != '\0' ? i->trace_id : NULL;
	ev.approval_id = i->id;
	ev.verdict = VERDICT_ASK;
	if (evk == APPROVAL_EV_EXPIRED) {
		ev.outcome = OUTCOME_DENIED;
		snprintf(reason, sizeof(reason), "expired: %s",
		    p->stopping ? "the proxy stopped" : "no decision in time");
		ev.reason = reason;
	} else {
		ev.outcome = i->state == APPROVAL_ALLOWED ? OUTCOME_ALLOWED : OUTCOME_DENIED;
		ev.approval_scope = approval_scope_name(i->scope);
		ev.approval_decider = i->decider;
		ev.reason = i->reason;
	}
	if (i->decided_ms >= i->created_ms)
		ev.duration_ns = (i->decided_ms - i->created_ms) * 1000000;
	proxy_emit(p, &ev);
}
