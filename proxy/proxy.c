/*
 * The proxy context: the task registry snapshot and its inotify watch, the
 * policies tasks name (rules/policycache.h) and their files' watch, the
 * pruning of dead launchers' tasks, the gateway's own addresses, and the
 * small judging helpers the TCP side and the DNS forwarder share.
 */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "approval.h"
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "resolve.h"
#include "telemetry.h"

/* The policy cache's events go out as the proxy's. */
static void
proxy_policy_event(void *arg, const struct ag_event *ev)
{
	proxy_emit(arg, ev);
}

static uint64_t
proxy_now_ms(const struct proxy *p)
{
	return p->loop != NULL ? loop_now_ms(p->loop) : 0;
}

static void
proxy_registry_err(void *arg, const char *file, const char *reason)
{
	(void)arg;
	log_warnx("registry: %s: skipped: %s", file, reason);
}

static int
proxy_tasks_dir(const struct proxy *p, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/tasks", p->conf->run_dir);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static bool
proxy_task_alive(void *arg, const char *task_id)
{
	const struct registry *reg = arg;
	size_t i, n = registry_count(reg);

	for (i = 0; i < n; i++) {
		if (strcmp(registry_task_at(reg, i)->id, task_id) == 0)
			return true;
	}
	return false;
}

/* Swap in a new registry snapshot and load the policies new tasks name. */
static int
proxy_registry_load(struct proxy *p)
{
	struct registry *reg;
	char dir[PATH_MAX];

	if (proxy_tasks_dir(p, dir, sizeof(dir)) == -1)
		return -1;
	if ((reg = registry_load(dir, proxy_registry_err, NULL)) == NULL) {
		log_warn("registry %s: keeping the previous snapshot", dir);
		return -1;
	}
	if (p->reg != NULL)
		registry_unref(p->reg);
	p->reg = reg;
	policy_cache_prime(p->policies, reg, proxy_now_ms(p));
	log_debug("registry: %zu tasks", registry_count(reg));
	/* Task-scoped approvals end with their task. */
	if (p->approvals != NULL)
		approvals_tasks_gone(p->approvals, proxy_task_alive, reg);
	return 0;
}

/* A task's launcher is gone: its file went under the writers' lock; its
 * inline policy (RUN_DIR/policies/ID.rules) goes with it. */
static void
proxy_pruned(void *arg, const struct reg_task *t)
{
	struct proxy *p = arg;
	char dir[PATH_MAX];

	log_info("registry: task %s removed: its launcher (pid %ld) is gone",
	    t->id, (long)t->launcher_pid);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/policies",
	    p->conf->run_dir) < sizeof(dir) &&
	    registry_inline_policy_remove(dir, t) == -1)
		log_warn("registry: task %s: remove %s", t->id, t->policy_file);
}

static void
proxy_prune(struct proxy *p)
{
	char dir[PATH_MAX];

	if (proxy_tasks_dir(p, dir, sizeof(dir)) == -1)
		return;
	if (registry_prune(dir, proxy_pruned, p) == -1) {
		/* Without write access to the folder (docs/registry.md):
		 * say it once, agentgatectl task prune still works. */
		if (errno != EACCES && errno != EPERM)
			log_warn("registry: prune %s", dir);
		else if (!p->prune_denied)
			log_warn("registry: cannot prune %s", dir);
		p->prune_denied = errno == EACCES || errno == EPERM;
	} else
		p->prune_denied = false;
	/* The unlinks come back through the watch as a reload. */
}

static void
proxy_prune_cb(struct loop *l, void *arg)
{
	struct proxy *p = arg;

	p->prune = NULL;
	proxy_prune(p);
	p->prune = loop_timer_add(l, PROXY_PRUNE_MS, proxy_prune_cb, p);
}

static void
proxy_watch_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct proxy *p = arg;
	int rc;

	(void)l;
	(void)fd;
	(void)events;
	if ((rc = registry_watch_drain(p->reg_watch)) == -1)
		log_warn("registry watch");
	else if (rc == 1) {
		(void)proxy_registry_load(p);
		proxy_prune(p);
	}
}

/* Policy files quiet for POLICY_CACHE_SETTLE_MS: reload what changed. */
static void
proxy_settle_cb(struct loop *l, void *arg)
{
	struct proxy *p = arg;

	p->settle = NULL;
	if (policy_cache_watch_settle(p->policies) == 1)
		p->settle = loop_timer_add(l, POLICY_CACHE_SETTLE_MS,
		    proxy_settle_cb, p);
}

static void
proxy_policy_watch_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct proxy *p = arg;
	int rc;

	(void)fd;
	(void)events;
	if ((rc = policy_cache_watch_drain(p->policies)) == -1)
		log_warn("policy watch");
	else if (rc == 1 && p->settle == NULL &&
	    (p->settle = loop_timer_add(l, POLICY_CACHE_SETTLE_MS,
	    proxy_settle_cb, p)) == NULL)
		log_warn("policy watch: no timer, reload with SIGHUP");
}

static void
proxy_self_load(struct proxy *p)
{
	struct ifaddrs *ifa, *i;
	struct ag_addr a;

	p->nself = 0;
	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		return;
	}
	for (i = ifa; i != NULL && p->nself < PROXY_SELF_MAX; i = i->ifa_next) {
		if (i->ifa_addr == NULL ||
		    (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6))
			continue;
		if (addr_from_sockaddr(i->ifa_addr, &a) == -1 ||
		    proxy_is_self(p, &a))
			continue;
		p->self[p->nself++] = a;
	}
	freeifaddrs(ifa);
}

int
proxy_init(struct proxy *p, const struct ag_conf *c, struct loop *l,
    struct resolver *res, struct telemetry *t)
{
	char dir[PATH_MAX];
	int fd;

	memset(p, 0, sizeof(*p));
	p->conf = c;
	p->loop = l;
	p->resolver = res;
	p->telemetry = t;
	if ((p->policies = policy_cache_new(c->policy_dir, proxy_policy_event,
	    p)) == NULL)
		return -1;
	proxy_self_load(p);
	if (proxy_tasks_dir(p, dir, sizeof(dir)) == -1)
		return -1;
	/* Watch first, so that a task added between load and watch is seen. */
	if ((p->reg_watch = registry_watch_open(dir)) == NULL) {
		log_warn("registry watch %s", dir);
		return -1;
	}
	if ((fd = policy_cache_watch_open(p->policies)) == -1) {
		log_warn("policy watch");
		return -1;
	}
	if (l != NULL && (loop_add(l, registry_watch_fd(p->reg_watch), EPOLLIN,
	    proxy_watch_cb, p) == -1 || loop_add(l, fd, EPOLLIN,
	    proxy_policy_watch_cb, p) == -1)) {
		log_warn("registry watch");
		return -1;
	}
	if (proxy_registry_load(p) == -1)
		return -1;
	if (l != NULL && (p->prune = loop_timer_add(l, PROXY_PRUNE_MS,
	    proxy_prune_cb, p)) == NULL)
		return -1;
	return 0;
}

void
proxy_fini(struct proxy *p)
{
	if (p->loop != NULL) {
		if (p->settle != NULL)
			loop_timer_cancel(p->loop, p->settle);
		if (p->prune != NULL)
			loop_timer_cancel(p->loop, p->prune);
		if (p->reg_watch != NULL)
			(void)loop_del(p->loop, registry_watch_fd(p->reg_watch));
		if (p->policies != NULL)
			(void)loop_del(p->loop,
			    policy_cache_watch_open(p->policies));
	}
	p->settle = p->prune = NULL;
	registry_watch_close(p->reg_watch);
	p->reg_watch = NULL;
	policy_cache_free(p->policies);
	p->policies = NULL;
	if (p->reg != NULL)
		registry_unref(p->reg);
	p->reg = NULL;
}

int
proxy_task_for(struct proxy *p, const struct ag_addr *src,
    const struct reg_task **task, struct policy **pol)
{
	const struct reg_task *t;

	*task = NULL;
	*pol = NULL;
	t = p->reg != NULL ? registry_lookup(p->reg, src) : NULL;
	/* A launcher registers its task before the command starts, so the
	 * inotify event is already queued when the first packet arrives, but
	 * the loop may not have read it yet: drain it now before refusing. */
	if (t == NULL && p->reg_watch != NULL &&
	    registry_watch_drain(p->reg_watch) == 1 &&
	    proxy_registry_load(p) == 0)
		t = registry_lookup(p->reg, src);
	if (t == NULL) {
		errno = ENOENT;
		return -1;
	}
	*task = t;
	if ((*pol = policy_cache_get(p->policies, t, proxy_now_ms(p))) == NULL) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void
proxy_reload(struct proxy *p)
{
	proxy_self_load(p);
	(void)proxy_registry_load(p);
	policy_cache_reload(p->policies);
	proxy_prune(p);
	/* A reload is also how an operator says "the names changed". */
	if (p->resolver != NULL)
		resolver_flush(p->resolver);
}

bool
proxy_is_self(const struct proxy *p, const struct ag_addr *a)
{
	size_t i;

	for (i = 0; i < p->nself; i++)
		if (addr_equal(&p->self[i], a))
			return true;
	return false;
}

bool
proxy_answer_usable(const struct proxy *p, const struct policy *pol,
    const struct ag_addr *a, enum policy_proto proto, uint16_t port)
{
	struct policy_verdict v;

	if (proxy_is_self(p, a))
		return false;
	if (addr_classify(a) == ADDR_PUBLIC)
		return true;
	v = policy_match_addr(pol, a, proto, port);
	return v.action == POLICY_ALLOW;
}

void
proxy_event_verdict(struct ag_event *ev, const struct reg_task *task,
    const struct policy *pol, const struct policy_verdict *v)
{
	switch (v->action) {
	case POLICY_ALLOW:
		ev->verdict = VERDICT_ALLOW;
		ev->outcome = OUTCOME_ALLOWED;
		break;
	case POLICY_ASK:
		ev->verdict = VERDICT_ASK;
		ev->outcome = OUTCOME_DENIED;
		break;
	case POLICY_DENY:
	default:
		ev->verdict = VERDICT_DENY;
		ev->outcome = OUTCOME_DENIED;
		break;
	}
	if (pol != NULL)
		ev->policy = policy_name(pol);
	if (v->rule != NULL) {
		ev->rule_file = policy_rule_file(v->rule);
		ev->rule_line = policy_rule_line(v->rule);
		ev->rule_text = policy_rule_text(v->rule);
	}
	if (task != NULL) {
		ev->task_id = task->id;
		ev->trace_id = task->trace_id;
	}
}

void
proxy_emit(struct proxy *p, const struct ag_event *ev)
{
	if (p->telemetry == NULL)
		return;
	if (telemetry_emit(p->telemetry, ev) == TELEMETRY_LOST)
		log_warn("telemetry: %s event lost", event_kind_name(ev->kind));
}
