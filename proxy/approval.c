/*
 * The approval store (approval.h): pending requests with the connections
 * they hold, decisions, an expiry timer, observers; what a decision leaves
 * behind for its scope is approval_grant.c's. Lists are short (pending
 * requests are capped per task), so they are searched linearly.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "approval.h"
#include "approval_file.h"
#include "approval_int.h"
#include "approval_pool.h"
#include "canon.h"
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"
#include "units.h"

static void approvals_schedule(struct approvals *);

int
approval_scope_parse(const char *s, enum approval_scope *scope, uint64_t *ms)
{
	uint64_t v;

	*ms = 0;
	if (strcmp(s, "once") == 0)
		*scope = APPROVAL_ONCE;
	else if (strcmp(s, "task") == 0)
		*scope = APPROVAL_TASK;
	else if (strcmp(s, "forever") == 0)
		*scope = APPROVAL_FOREVER;
	else if (units_duration_ms(s, &v) == 0 && v > 0) {
		*scope = APPROVAL_DURATION;
		*ms = v;
	} else {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

const char *
approval_scope_name(enum approval_scope s)
{
	switch (s) {
	case APPROVAL_ONCE:	return "once";
	case APPROVAL_TASK:	return "task";
	case APPROVAL_DURATION:	return "duration";
	case APPROVAL_FOREVER:	return "forever";
	}
	return "unknown";
}

const char *
approval_state_name(enum approval_state s)
{
	switch (s) {
	case APPROVAL_PENDING:	return "pending";
	case APPROVAL_ALLOWED:	return "allowed";
	case APPROVAL_DENIED:	return "denied";
	case APPROVAL_EXPIRED:	return "expired";
	}
	return "unknown";
}

uint64_t
approvals_now(struct approvals *a)
{
	struct timespec ts;

	if (a->now_fn != NULL)
		return a->now_fn(a->now_arg);
	if (a->loop != NULL)
		return loop_now_ms(a->loop);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
approvals_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct approvals *
approvals_new(struct loop *l, const struct ag_conf *c)
{
	struct approvals *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->loop = l;
	a->timeout_ms = c->approval_timeout_ms;
	a->max_pending = c->approval_max_pending;
	if ((a->state_dir = strdup(c->state_dir)) == NULL ||
	    (a->pool = approval_pool_new(&c->approval_pool4, &c->approval_pool6,
	    c->approval_ttl_ms + APPROVAL_POOL_GRACE_MS)) == NULL) {
		int saved = errno;

		free(a->state_dir);
		free(a);
		errno = saved;
		return NULL;
	}
	return a;
}

void
approvals_set_clock(struct approvals *a, uint64_t (*now_ms)(void *), void *arg)
{
	a->now_fn = now_ms;
	a->now_arg = arg;
}

struct approval_pool *
approvals_pool(struct approvals *a)
{
	return a->pool;
}

static void
req_info(const struct approval_req *r, struct approval_info *i)
{
	memset(i, 0, sizeof(*i));
	i->id = r->id;
	i->task_id = r->task_id;
	i->policy = r->policy;
	i->trace_id = r->trace_id;
	i->name = r->name;
	i->proto = r->proto;
	i->port = r->port;
	i->state = r->state;
	i->created_ms = r->created_ms;
	i->nconns = r->nconns;
	if (r->state != APPROVAL_PENDING) {
		i->scope = r->scope;
		i->duration_ms = r->duration_ms;
		i->decider = r->decider;
		i->reason = r->reason;
		i->decided_ms = r->decided_ms;
	}
}

static void
approvals_notify(struct approvals *a, enum approval_event ev,
    const struct approval_req *r)
{
	struct approval_info info;
	size_t i, j;

	req_info(r, &info);
	a->notifying++;
	for (i = 0; i < a->nobs; i++) {
		if (a->obs[i].fn != NULL)
			a->obs[i].fn(a->obs[i].arg, ev, &info);
	}
	if (--a->notifying > 0)
		return;
	/* Compact what was removed while observers ran. */
	for (i = j = 0; i < a->nobs; i++) {
		if (a->obs[i].fn != NULL)
			a->obs[j++] = a->obs[i];
	}
	a->nobs = j;
}

int
approvals_observe(struct approvals *a, approval_observer_fn fn, void *arg)
{
	if (a->nobs == APPROVAL_OBSERVERS_MAX) {
		errno = ENOMEM;
		return -1;
	}
	a->obs[a->nobs].fn = fn;
	a->obs[a->nobs].arg = arg;
	a->nobs++;
	return 0;
}

void
approvals_unobserve(struct approvals *a, approval_observer_fn fn, void *arg)
{
	size_t i;

	for (i = 0; i < a->nobs; i++) {
		if (a->obs[i].fn != fn || a->obs[i].arg != arg)
			continue;
		if (a->notifying > 0) {
			a->obs[i].fn = NULL;
		} else {
			memmove(&a->obs[i], &a->obs[i + 1], (a->nobs - i - 1) * sizeof(a->obs[0]));
			a->nobs--;
		}
		return;
	}
}

/* Tell observers of requests made since the last round (a decision made
 * before that announces its request first, so the order holds). */
static void
approvals_announce(struct approvals *a, struct approval_req *r)
{
	if (r->announced)
		return;
	r->announced = true;
	approvals_notify(a, APPROVAL_EV_REQUESTED, r);
}

static void
approvals_announce_cb(struct loop *l, void *arg)
{
	struct approvals *a = arg;
	struct approval_req *r;

	a->announce = NULL;
	/* An observer may decide, which unlinks r: restart after each. */
again:
	for (r = a->pending; r != NULL; r = r->next) {
		if (!r->announced) {
			approvals_announce(a, r);
			goto again;
		}
	}
}

static void
req_free(struct approval_req *r)
{
	free(r->task_id);
	free(r->policy);
	free(r->trace_id);
	free(r->name);
	free(r->decider);
	free(r->reason);
	free(r);
}


static struct approval_req *
approvals_find(struct approval_req *list, const char *id)
{
	for (; list != NULL; list = list->next) {
		if (strcmp(list->id, id) == 0)
			return list;
	}
	return NULL;
}

static void
pending_unlink(struct approvals *a, struct approval_req *r)
{
	struct approval_req **pp;

	for (pp = &a->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			r->next = NULL;
			return;
		}
	}
}

/* A request no longer pending goes to the front of the recent ones; the
 * oldest beyond APPROVAL_RECENT_MAX are forgotten. */
static void
recent_push(struct approvals *a, struct approval_req *r)
{
	struct approval_req **pp;
	size_t n = 0;

	r->next = a->recent;
	a->recent = r;
	a->nrecent++;
	if (a->nrecent <= APPROVAL_RECENT_MAX)
		return;
	for (pp = &a->recent; *pp != NULL && n < APPROVAL_RECENT_MAX; pp = &(*pp)->next)
		n++;
	while (*pp != NULL) {
		struct approval_req *old = *pp;

		*pp = old->next;
		req_free(old);
		a->nrecent--;
	}
}

/* Wake every held connection once; each hold is freed before its call,
 * so the callee may free its connection (and call back into the store). */
static void
req_wake(struct approval_req *r, enum approval_outcome out)
{
	char id[APPROVAL_ID_LEN + 1], reason[256];
	struct approval_hold *h;

	memcpy(id, r->id, sizeof(id));
	snprintf(reason, sizeof(reason), "%s", r->reason != NULL ? r->reason : "");
	while ((h = r->holds) != NULL) {
		approval_wake_fn fn = h->fn;
		void *arg = h->arg;

		r->holds = h->next;
		if (r->holds != NULL)
			r->holds->prev = NULL;
		r->nconns--;
		free(h);
		fn(arg, out, id, reason[0] != '\0' ? reason : NULL);
	}
}



int
approvals_decide(struct approvals *a, const char *id, const struct approval_decision *d)
{
	struct approval_file_entry e;
	struct approval_req *r;
	int rc = 0, saved = 0;

	if ((r = approvals_find(a->pending, id)) == NULL) {
		errno = approvals_find(a->recent, id) != NULL ? EALREADY : ENOENT;
		return -1;
	}
	if (d->decider == NULL || d->decider[0] == '\0' ||
	    (d->scope == APPROVAL_DURATION && d->duration_ms == 0) ||
	    d->scope > APPROVAL_FOREVER) {
		errno = EINVAL;
		return -1;
	}
	free(r->decider);
	free(r->reason);
	r->decider = strdup(d->decider);
	r->reason = d->reason != NULL ? strdup(d->reason) : NULL;
	r->state = d->allow ? APPROVAL_ALLOWED : APPROVAL_DENIED;
	r->scope = d->scope;
	r->duration_ms = d->scope == APPROVAL_DURATION ? d->duration_ms : 0;
	r->decided_ms = approvals_realtime();
	if (r->decider == NULL || (d->reason != NULL && r->reason == NULL)) {
		log_warnx("approval %s: out of memory keeping who decided", r->id);
		free(r->decider);
		r->decider = NULL;
	}
	switch (d->scope) {
	case APPROVAL_ONCE:
		break;
	case APPROVAL_TASK:
	case APPROVAL_DURATION:
		if (grant_add(a, r) == -1) {
			log_warn("approval %s: %s scope not kept", r->id, approval_scope_name(d->scope));
			rc = -1;
			saved = ENOMEM;
		}
		break;
	case APPROVAL_FOREVER:
		e = (struct approval_file_entry){
			.allow = d->allow, .name = r->name, .proto = r->proto,
			.port = r->port, .decider = d->decider, .reason = d->reason,
			.id = r->id, .when_ms = r->decided_ms,
		};
		if (approval_file_append(a->state_dir, r->policy, &e) == -1) {
			log_warn("approval %s: approvals file of policy %s not written",
			    r->id, r->policy);
			rc = -1;
			saved = EIO;
		} else {
			(void)approvals_file(a, r->policy, true);
		}
		break;
	}
	pending_unlink(a, r);
	recent_push(a, r);
	approvals_announce(a, r);
	approvals_notify(a, APPROVAL_EV_DECIDED, r);
	req_wake(r, d->allow ? APPROVAL_OUT_ALLOW : APPROVAL_OUT_DENY);
	approvals_schedule(a);
	/* Observers and woken connections may have touched errno. */
	if (rc == -1)
		errno = saved;
	return rc;
}

static void
req_expire(struct approvals *a, struct approval_req *r)
{
	r->state = APPROVAL_EXPIRED;
	r->decided_ms = approvals_realtime();
	pending_unlink(a, r);
	recent_push(a, r);
	approvals_announce(a, r);
	approvals_notify(a, APPROVAL_EV_EXPIRED, r);
	req_wake(r, APPROVAL_OUT_EXPIRED);
}

void
approvals_tick(struct approvals *a)
{
	struct approval_req *r;
	uint64_t now = approvals_now(a);

again:
	for (r = a->pending; r != NULL; r = r->next) {
		if (r->deadline <= now) {
			log_info("approval %s (%s port %u, task %s) expired undecided",
			    r->id, r->name, r->port, r->task_id);
			req_expire(a, r);
			goto again;
		}
	}
	approvals_grants_expire(a, now);
	approvals_schedule(a);
}

static void
approvals_timer_cb(struct loop *l, void *arg)
{
	struct approvals *a = arg;

	a->timer = NULL;
	approvals_tick(a);
}

/* One timer, at the earliest deadline of a pending request or a duration. */
static void
approvals_schedule(struct approvals *a)
{
	const struct approval_grant *g;
	const struct approval_req *r;
	uint64_t at = UINT64_MAX, now;

	if (a->loop == NULL)
		return;
	for (r = a->pending; r != NULL; r = r->next)
		at = r->deadline < at ? r->deadline : at;
	for (g = a->grants; g != NULL; g = g->next) {
		if (g->scope == APPROVAL_DURATION && g->until < at)
			at = g->until;
	}
	if (a->timer != NULL && a->timer_at == at)
		return;
	if (a->timer != NULL) {
		loop_timer_cancel(a->loop, a->timer);
		a->timer = NULL;
	}
	if (at == UINT64_MAX)
		return;
	now = approvals_now(a);
	if ((a->timer = loop_timer_add(a->loop, at > now ? at - now : 0,
	    approvals_timer_cb, a)) == NULL)
		log_warn("approvals: expiry timer");
	a->timer_at = at;
}




static int
approvals_new_id(struct approvals *a, char *id)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[APPROVAL_ID_LEN / 2];
	int tries;
	size_t i;

	for (tries = 0; tries < 16; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		for (i = 0; i < sizeof(rnd); i++) {
			id[2 * i] = hex[rnd[i] >> 4];
			id[2 * i + 1] = hex[rnd[i] & 15];
		}
		id[APPROVAL_ID_LEN] = '\0';
		if (approvals_find(a->pending, id) == NULL &&
		    approvals_find(a->recent, id) == NULL)
			return 0;
	}
	errno = EAGAIN;
	return -1;
}

static struct approval_req *
req_new(struct approvals *a, const struct approval_request_key *k)
{
	struct approval_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if (approvals_new_id(a, r->id) == -1 ||
	    (r->task_id = strdup(k->task_id)) == NULL ||
	    (r->policy = strdup(k->policy)) == NULL ||
	    (r->trace_id = strdup(k->trace_id != NULL ? k->trace_id : "")) == NULL ||
	    (r->name = strdup(k->name)) == NULL) {
		int saved = errno;

		req_free(r);
		errno = saved;
		return NULL;
	}
	memcpy(r->proto, k->proto, strlen(k->proto) + 1);
	r->port = k->port;
	r->state = APPROVAL_PENDING;
	r->created_ms = approvals_realtime();
	r->deadline = approvals_now(a) + a->timeout_ms;
	return r;
}

struct approval_hold *
approvals_hold(struct approvals *a, const struct approval_request_key *k,
    approval_wake_fn fn, void *arg, bool *created)
{
	struct approval_req *r, **tail;
	struct approval_hold *h;
	uint32_t ntask = 0;

	*created = false;
	if (k->task_id == NULL || k->task_id[0] == '\0' || strlen(k->task_id) > REG_ID_MAX ||
	    k->policy == NULL || k->policy[0] == '\0' || k->name == NULL ||
	    k->name[0] == '\0' || strlen(k->name) > CANON_NAME_MAX || k->proto == NULL ||
	    k->proto[0] == '\0' || strlen(k->proto) > APPROVAL_PROTO_MAX || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
	for (tail = &a->pending; (r = *tail) != NULL; tail = &r->next) {
		if (strcmp(r->task_id, k->task_id) != 0)
			continue;
		if (r->port == k->port && strcmp(r->name, k->name) == 0 &&
		    strcmp(r->proto, k->proto) == 0)
			break;
		ntask++;
	}
	if (r == NULL && ntask >= a->max_pending) {
		errno = EDQUOT;
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if (r == NULL) {
		if ((r = req_new(a, k)) == NULL) {
			free(h);
			return NULL;
		}
		/* tail is the end of the list once the loop found nothing. */
		for (tail = &a->pending; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = r;
		*created = true;
	}
	h->req = r;
	h->fn = fn;
	h->arg = arg;
	h->next = r->holds;
	if (r->holds != NULL)
		r->holds->prev = h;
	r->holds = h;
	r->nconns++;
	if (*created) {
		/* Observers hear of it from the loop, never from inside this
		 * call, so one that decides at once cannot wake a hold its
		 * caller has not stored yet. Without a loop (unit tests), now. */
		if (a->loop == NULL)
			approvals_announce(a, r);
		else if (a->announce == NULL &&
		    (a->announce = loop_timer_add(a->loop, 0, approvals_announce_cb, a)) == NULL)
			log_warn("approvals: announce timer");
		approvals_schedule(a);
	}
	return h;
}

void
approvals_release(struct approvals *a, struct approval_hold *h)
{
	struct approval_req *r = h->req;

	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		r->holds = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	r->nconns--;
	free(h);
}

const char *
approval_hold_id(const struct approval_hold *h)
{
	return h->req->id;
}

void
approvals_foreach(struct approvals *a,
    void (*fn)(void *arg, const struct approval_info *), void *arg)
{
	struct approval_info info;
	struct approval_req *r;

	for (r = a->pending; r != NULL; r = r->next) {
		req_info(r, &info);
		fn(arg, &info);
	}
	for (r = a->recent; r != NULL; r = r->next) {
		req_info(r, &info);
		fn(arg, &info);
	}
}


void
approvals_shutdown(struct approvals *a)
{
	while (a->pending != NULL)
		req_expire(a, a->pending);
	approvals_schedule(a);
}

void
approvals_free(struct approvals *a)
{
	struct approval_req *r;
	struct approval_hold *h;

	if (a == NULL)
		return;
	if (a->loop != NULL && a->timer != NULL)
		loop_timer_cancel(a->loop, a->timer);
	if (a->loop != NULL && a->announce != NULL)
		loop_timer_cancel(a->loop, a->announce);
	while ((r = a->pending) != NULL) {
		a->pending = r->next;
		while ((h = r->holds) != NULL) {
			r->holds = h->next;
			free(h);
		}
		req_free(r);
	}
	while ((r = a->recent) != NULL) {
		a->recent = r->next;
		req_free(r);
	}
	approvals_grants_free(a);
	approval_pool_free(a->pool);
	free(a->state_dir);
	free(a);
}
