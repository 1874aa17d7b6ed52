/*
 * The shared judging state of agentgate-nfq: registry snapshot plus a
 * cache of policies keyed by name or file, as agentgate-proxy keeps one
 * (proxy/proxy.c), behind one mutex since several queue threads read it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "event.h"
#include "log.h"
#include "state.h"
#include "telemetry.h"

struct nfq_policy {
	char			*key;		/* policy name, or absolute path */
	bool			 is_file;
	struct policy		*pol;		/* NULL: never loaded */
	uint64_t		 tried_ms;	/* last load attempt (monotonic) */
	struct nfq_policy	*next;
};

struct nfq_state {
	pthread_mutex_t		 mu;
	const struct ag_conf	*conf;
	struct telemetry	*tel;
	char			 tasks_dir[PATH_MAX];
	struct registry		*reg;
	struct nfq_policy	*policies;
	_Atomic uint64_t	 gen;
};

/* A task whose policy never loaded is denied; its load is tried again at
 * most this often on a packet (and at once on reload), as in the proxy. */
#define STATE_RETRY_MS	5000

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct load_err {
	const char	*key;
	char		 file[PATH_MAX];
	unsigned	 line;
	char		 msg[256];
	unsigned	 count;
};

static void
state_policy_err(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	struct load_err *e = arg;

	log_warnx("policy %s: %s:%u:%u: %s", e->key, file, line, col, msg);
	if (e->count++ == 0) {
		snprintf(e->file, sizeof(e->file), "%s", file);
		e->line = line;
		snprintf(e->msg, sizeof(e->msg), "%s", msg);
	}
}

static void
state_emit(struct nfq_state *st, const struct ag_event *ev)
{
	if (st->tel != NULL && telemetry_emit(st->tel, ev) == TELEMETRY_LOST)
		log_warn("telemetry: event lost");
}

/* (Re)load one entry; a failure keeps what was there. Lock held. */
static void
state_policy_load(struct nfq_state *st, struct nfq_policy *np)
{
	struct load_err e;
	struct ag_event ev;
	struct policy *pol;
	char path[PATH_MAX];

	memset(&e, 0, sizeof(e));
	e.key = np->key;
	np->tried_ms = mono_ms();
	if (np->is_file)
		snprintf(path, sizeof(path), "%s", np->key);
	else if (policy_path(st->conf->policy_dir, np->key, path,
	    sizeof(path)) == -1) {
		log_warn("policy %s", np->key);
		return;
	}
	pol = policy_load_file(path, np->is_file ? NULL : np->key,
	    state_policy_err, &e);
	if (pol == NULL) {
		if (e.count == 0)
			log_warn("policy %s: %s", np->key, path);
		event_init(&ev, EVENT_POLICY_REJECTED);
		ev.policy = np->key;
		ev.rule_file = e.count > 0 ? e.file : path;
		if (e.count > 0)
			ev.rule_line = e.line;
		ev.reason = e.count > 0 ? e.msg : strerror(errno);
		state_emit(st, &ev);
		return;
	}
	if (np->pol != NULL)
		policy_unref(np->pol);
	np->pol = pol;
	event_init(&ev, EVENT_POLICY_LOADED);
	ev.policy = policy_name(pol);
	ev.rule_file = path;
	state_emit(st, &ev);
	log_info("policy %s: %zu rules from %s", policy_name(pol),
	    policy_rule_count(pol), path);
}

/* The entry for a task's policy, made and loaded when missing. Lock held. */
static struct nfq_policy *
state_policy_get(struct nfq_state *st, const struct reg_task *t)
{
	struct nfq_policy *np;
	const char *key = t->policy_file != NULL ? t->policy_file : t->policy;
	bool is_file = t->policy_file != NULL;

	if (key == NULL)
		return NULL;
	for (np = st->policies; np != NULL; np = np->next)
		if (np->is_file == is_file && strcmp(np->key, key) == 0)
			return np;
	if ((np = calloc(1, sizeof(*np))) == NULL)
		return NULL;
	if ((np->key = strdup(key)) == NULL) {
		free(np);
		return NULL;
	}
	np->is_file = is_file;
	np->next = st->policies;
	st->policies = np;
	state_policy_load(st, np);
	return np;
}

static void
state_registry_err(void *arg, const char *file, const char *reason)
{
	(void)arg;
	log_warnx("registry: %s: skipped: %s", file, reason);
}

/* Swap in a fresh snapshot; load the policies of new tasks. Lock held. */
static void
state_registry_load(struct nfq_state *st)
{
	struct registry *reg;
	size_t i;

	if ((reg = registry_load(st->tasks_dir, state_registry_err,
	    NULL)) == NULL) {
		log_warn("registry %s: keeping the snapshot before",
		    st->tasks_dir);
		return;
	}
	if (st->reg != NULL)
		registry_unref(st->reg);
	st->reg = reg;
	for (i = 0; i < registry_count(reg); i++)
		(void)state_policy_get(st, registry_task_at(reg, i));
	log_info("registry: %zu tasks", registry_count(reg));
}

struct nfq_state *
nfq_state_new(const struct ag_conf *conf, struct telemetry *t)
{
	struct nfq_state *st;
	int n;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	n = snprintf(st->tasks_dir, sizeof(st->tasks_dir), "%s/tasks",
	    conf->run_dir);
	if (n < 0 || (size_t)n >= sizeof(st->tasks_dir) ||
	    pthread_mutex_init(&st->mu, NULL) != 0) {
		free(st);
		errno = ENAMETOOLONG;
		return NULL;
	}
	st->conf = conf;
	st->tel = t;
	pthread_mutex_lock(&st->mu);
	state_registry_load(st);
	pthread_mutex_unlock(&st->mu);
	if (st->reg == NULL) {
		nfq_state_free(st);
		errno = EIO;
		return NULL;
	}
	return st;
}

void
nfq_state_free(struct nfq_state *st)
{
	struct nfq_policy *np, *next;

	if (st == NULL)
		return;
	for (np = st->policies; np != NULL; np = next) {
		next = np->next;
		if (np->pol != NULL)
			policy_unref(np->pol);
		free(np->key);
		free(np);
	}
	if (st->reg != NULL)
		registry_unref(st->reg);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

const char *
nfq_state_tasks_dir(const struct nfq_state *st)
{
	return st->tasks_dir;
}

void
nfq_state_reload(struct nfq_state *st)
{
	struct nfq_policy *np;

	pthread_mutex_lock(&st->mu);
	state_registry_load(st);
	for (np = st->policies; np != NULL; np = np->next)
		state_policy_load(st, np);
	atomic_fetch_add(&st->gen, 1);
	pthread_mutex_unlock(&st->mu);
}

uint64_t
nfq_state_generation(struct nfq_state *st)
{
	return atomic_load(&st->gen);
}

int
nfq_state_lookup(struct nfq_state *st, const struct ag_addr *src,
    struct registry **reg, const struct reg_task **task, struct policy **pol)
{
	struct nfq_policy *np;
	const struct reg_task *t;

	*reg = NULL;
	*task = NULL;
	*pol = NULL;
	pthread_mutex_lock(&st->mu);
	if ((t = registry_lookup(st->reg, src)) == NULL) {
		pthread_mutex_unlock(&st->mu);
		errno = ENOENT;
		return -1;
	}
	*reg = registry_ref(st->reg);
	*task = t;
	if ((np = state_policy_get(st, t)) != NULL && np->pol == NULL &&
	    mono_ms() - np->tried_ms >= STATE_RETRY_MS)
		state_policy_load(st, np);	/* perhaps fixed since */
	if (np != NULL && np->pol != NULL)
		*pol = policy_ref(np->pol);
	pthread_mutex_unlock(&st->mu);
	return 0;
}
