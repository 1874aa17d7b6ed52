/*
 * The shared judging state of agentgate-nfq: registry snapshot plus the
 * policies tasks name (rules/policycache.h, the same cache and file watch
 * agentgate-proxy uses), behind one mutex since several queue threads read
 * them.
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
#include "policycache.h"
#include "state.h"
#include "telemetry.h"

struct nfq_state {
	pthread_mutex_t		 mu;
	const struct ag_conf	*conf;
	struct telemetry	*tel;
	char			 tasks_dir[PATH_MAX];
	struct registry		*reg;
	struct registry_watch	*watch;		/* RUN_DIR/tasks */
	struct policy_cache	*policies;	/* the policies tasks name */
	_Atomic uint64_t	 gen;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The policy cache's events go to the nfq stream. */
static void
state_emit(void *arg, const struct ag_event *ev)
{
	struct nfq_state *st = arg;

	if (st->tel != NULL && telemetry_emit(st->tel, ev) == TELEMETRY_LOST)
		log_warn("telemetry: event lost");
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

	if ((reg = registry_load(st->tasks_dir, state_registry_err,
	    NULL)) == NULL) {
		log_warn("registry %s: keeping the snapshot before",
		    st->tasks_dir);
		return;
	}
	if (st->reg != NULL)
		registry_unref(st->reg);
	st->reg = reg;
	policy_cache_prime(st->policies, reg, mono_ms());
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
	if ((st->policies = policy_cache_new(conf->policy_dir, state_emit,
	    st)) == NULL) {
		pthread_mutex_destroy(&st->mu);
		free(st);
		return NULL;
	}
	/* Before the first load, so that its files are watched. */
	if (policy_cache_watch_open(st->policies) == -1) {
		nfq_state_free(st);
		return NULL;
	}
	/* Watch before the first load, so no change falls in between. */
	if ((st->watch = registry_watch_open(st->tasks_dir)) == NULL) {
		nfq_state_free(st);
		return NULL;
	}
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
	if (st == NULL)
		return;
	policy_cache_free(st->policies);
	if (st->watch != NULL)
		registry_watch_close(st->watch);
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

int
nfq_state_registry_fd(const struct nfq_state *st)
{
	return registry_watch_fd(st->watch);
}

int
nfq_state_registry_drain(struct nfq_state *st)
{
	int rc;

	pthread_mutex_lock(&st->mu);
	if ((rc = registry_watch_drain(st->watch)) == 1) {
		state_registry_load(st);
		policy_cache_reload(st->policies);
		atomic_fetch_add(&st->gen, 1);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

void
nfq_state_reload(struct nfq_state *st)
{
	pthread_mutex_lock(&st->mu);
	state_registry_load(st);
	policy_cache_reload(st->policies);
	atomic_fetch_add(&st->gen, 1);
	pthread_mutex_unlock(&st->mu);
}

int
nfq_state_policy_fd(struct nfq_state *st)
{
	int fd;

	pthread_mutex_lock(&st->mu);
	fd = policy_cache_watch_open(st->policies);
	pthread_mutex_unlock(&st->mu);
	return fd;
}

int
nfq_state_policy_drain(struct nfq_state *st)
{
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = policy_cache_watch_drain(st->policies);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int
nfq_state_policy_settle(struct nfq_state *st)
{
	int rc;

	pthread_mutex_lock(&st->mu);
	if ((rc = policy_cache_watch_settle(st->policies)) == 0)
		atomic_fetch_add(&st->gen, 1);
	pthread_mutex_unlock(&st->mu);
	return rc;
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
	const struct reg_task *t;

	*reg = NULL;
	*task = NULL;
	*pol = NULL;
	pthread_mutex_lock(&st->mu);
	t = registry_lookup(st->reg, src);
	/* A launcher registers its task before the command starts, so the
	 * inotify event is queued before the task's first packet; the main
	 * thread may not have read it yet: drain it here before dropping. */
	if (t == NULL && registry_watch_drain(st->watch) == 1) {
		state_registry_load(st);
		atomic_fetch_add(&st->gen, 1);
		t = registry_lookup(st->reg, src);
	}
	if (t == NULL) {
		pthread_mutex_unlock(&st->mu);
		errno = ENOENT;
		return -1;
	}
	*reg = registry_ref(st->reg);
	*task = t;
	*pol = policy_cache_get(st->policies, t, mono_ms());
	pthread_mutex_unlock(&st->mu);
	return 0;
}
