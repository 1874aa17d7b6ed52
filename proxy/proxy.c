/*
 * The proxy context: the task registry snapshot and its inotify watch, a
 * cache of compiled policies by name or file, the gateway's own addresses,
 * and the small judging helpers the TCP side and the DNS forwarder share.
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

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "telemetry.h"

struct proxy_policy {
	char			*key;		/* policy name, or absolute path */
	bool			 is_file;
	struct policy		*pol;		/* NULL: never loaded */
	uint64_t		 retry_ms;	/* no new load attempt before */
	struct proxy_policy	*next;
};

/* A policy that never loaded is tried again on a connection at most this
 * often, so a task with a missing file cannot flood the log and telemetry
 * with policy-rejected. SIGHUP retries at once. */
#define PROXY_POLICY_RETRY_MS	5000

/* What a failed load reports: the first problem goes into the event. */
struct proxy_load_err {
	const char	*key;
	char		 file[PATH_MAX];
	unsigned	 line;
	char		 msg[256];
	unsigned	 count;
};

static void
proxy_policy_err(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	struct proxy_load_err *e = arg;

	log_warnx("policy %s: %s:%u:%u: %s", e->key, file, line, col, msg);
	if (e->count++ == 0) {
		snprintf(e->file, sizeof(e->file), "%s", file);
		e->line = line;
		snprintf(e->msg, sizeof(e->msg), "%s", msg);
	}
}

/* (Re)load one cache entry. A failure keeps what was there. */
static int
proxy_policy_load(struct proxy *p, struct proxy_policy *pp)
{
	struct proxy_load_err e;
	struct ag_event ev;
	struct policy *pol;
	char path[PATH_MAX];

	memset(&e, 0, sizeof(e));
	e.key = pp->key;
	if (pp->is_file) {
		snprintf(path, sizeof(path), "%s", pp->key);
	} else if (policy_path(p->conf->policy_dir, pp->key, path,
	    sizeof(path)) == -1) {
		log_warn("policy %s", pp->key);
		return -1;
	}
	pol = policy_load_file(path, pp->is_file ? NULL : pp->key,
	    proxy_policy_err, &e);
	if (pol == NULL) {
		if (e.count == 0)
			log_warn("policy %s: %s", pp->key, path);
		event_init(&ev, EVENT_POLICY_REJECTED);
		ev.policy = pp->key;
		ev.rule_file = e.count > 0 ? e.file : path;
		if (e.count > 0)
			ev.rule_line = e.line;
		ev.reason = e.count > 0 ? e.msg : strerror(errno);
		proxy_emit(p, &ev);
		if (pp->pol != NULL)
			log_warnx("policy %s: keeping the policy loaded before",
			    pp->key);
		return -1;
	}
	if (pp->pol != NULL)
		policy_unref(pp->pol);
	pp->pol = pol;
	event_init(&ev, EVENT_POLICY_LOADED);
	ev.policy = policy_name(pol);
	ev.rule_file = path;
	proxy_emit(p, &ev);
	log_info("policy %s: %zu rules from %s", policy_name(pol),
	    policy_rule_count(pol), path);
	return 0;
}

/* The cache entry of a task's policy, created (and loaded) when missing. */
static struct proxy_policy *
proxy_policy_get(struct proxy *p, const struct reg_task *t)
{
	struct proxy_policy *pp;
	const char *key = t->policy_file != NULL ? t->policy_file : t->policy;
	bool is_file = t->policy_file != NULL;

	if (key == NULL)
		return NULL;
	for (pp = p->policies; pp != NULL; pp = pp->next)
		if (pp->is_file == is_file && strcmp(pp->key, key) == 0)
			return pp;
	if ((pp = calloc(1, sizeof(*pp))) == NULL)
		return NULL;
	if ((pp->key = strdup(key)) == NULL) {
		free(pp);
		return NULL;
	}
	pp->is_file = is_file;
	pp->next = p->policies;
	p->policies = pp;
	if (p->loop != NULL)
		pp->retry_ms = loop_now_ms(p->loop) + PROXY_POLICY_RETRY_MS;
	(void)proxy_policy_load(p, pp);
	return pp;
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

/* Swap in a new registry snapshot and load the policies new tasks name. */
static int
proxy_registry_load(struct proxy *p)
{
	struct registry *reg;
	char dir[PATH_MAX];
	size_t i;

	if (proxy_tasks_dir(p, dir, sizeof(dir)) == -1)
		return -1;
	if ((reg = registry_load(dir, proxy_registry_err, NULL)) == NULL) {
		log_warn("registry %s: keeping the previous snapshot", dir);
		return -1;
	}
	if (p->reg != NULL)
		registry_unref(p->reg);
	p->reg = reg;
	for (i = 0; i < registry_count(reg); i++)
		(void)proxy_policy_get(p, registry_task_at(reg, i));
	log_debug("registry: %zu tasks", registry_count(reg));
	return 0;
}

static void
proxy_watch_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct proxy *p = arg;
	int rc;

	(void)l;
	(void)events;
	if ((rc = registry_watch_drain(fd)) == -1)
		log_warn("registry watch");
	else if (rc == 1)
		(void)proxy_registry_load(p);
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

	memset(p, 0, sizeof(*p));
	p->conf = c;
	p->loop = l;
	p->resolver = res;
	p->telemetry = t;
	p->reg_watch = -1;
	proxy_self_load(p);
	if (proxy_tasks_dir(p, dir, sizeof(dir)) == -1)
		return -1;
	/* Watch first, so that a task added between load and watch is seen. */
	if ((p->reg_watch = registry_watch_open(dir)) == -1) {
		log_warn("registry watch %s", dir);
		return -1;
	}
	if (l != NULL && loop_add(l, p->reg_watch, EPOLLIN, proxy_watch_cb,
	    p) == -1) {
		log_warn("registry watch");
		return -1;
	}
	if (proxy_registry_load(p) == -1)
		return -1;
	return 0;
}

void
proxy_fini(struct proxy *p)
{
	struct proxy_policy *pp, *next;

	if (p->reg_watch != -1) {
		if (p->loop != NULL)
			(void)loop_del(p->loop, p->reg_watch);
		close(p->reg_watch);
		p->reg_watch = -1;
	}
	for (pp = p->policies; pp != NULL; pp = next) {
		next = pp->next;
		if (pp->pol != NULL)
			policy_unref(pp->pol);
		free(pp->key);
		free(pp);
	}
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
	struct proxy_policy *pp;

	*task = NULL;
	*pol = NULL;
	if (p->reg == NULL || (t = registry_lookup(p->reg, src)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	*task = t;
	pp = proxy_policy_get(p, t);
	if (pp != NULL && pp->pol == NULL && p->loop != NULL &&
	    loop_now_ms(p->loop) >= pp->retry_ms) {
		/* Perhaps fixed since. */
		pp->retry_ms = loop_now_ms(p->loop) + PROXY_POLICY_RETRY_MS;
		(void)proxy_policy_load(p, pp);
	}
	if (pp == NULL || pp->pol == NULL) {
		errno = EINVAL;
		return -1;
	}
	*pol = policy_ref(pp->pol);
	return 0;
}

void
proxy_reload(struct proxy *p)
{
	struct proxy_policy *pp;

	proxy_self_load(p);
	(void)proxy_registry_load(p);
	for (pp = p->policies; pp != NULL; pp = pp->next)
		(void)proxy_policy_load(p, pp);
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
