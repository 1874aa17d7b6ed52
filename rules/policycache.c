/*
 * A list of (key, policy) entries: tasks name few distinct policies, so a
 * list is enough. A failed load never replaces a loaded policy.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policycache.h"

struct policy_entry {
	char			*key;		/* policy name, or absolute path */
	bool			 is_file;
	struct policy		*pol;		/* NULL: never loaded */
	uint64_t		 retry_ms;	/* no new load attempt before */
	struct policy_entry	*next;
};

struct policy_cache {
	char			*dir;
	policy_cache_emit_fn	 emit;
	void			*arg;
	struct policy_entry	*entries;
};

/* What a failed load reports: the first problem goes into the event. */
struct load_err {
	const char	*key;
	char		 file[PATH_MAX];
	unsigned	 line;
	char		 msg[256];
	unsigned	 count;
};

static void
cache_load_err(void *arg, const char *file, unsigned line, unsigned col,
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
cache_emit(struct policy_cache *c, const struct ag_event *ev)
{
	if (c->emit != NULL)
		c->emit(c->arg, ev);
}

/* (Re)load one entry. A failure keeps what was there. */
static void
cache_load(struct policy_cache *c, struct policy_entry *pe)
{
	struct load_err e;
	struct ag_event ev;
	struct policy *pol;
	char path[PATH_MAX];

	memset(&e, 0, sizeof(e));
	e.key = pe->key;
	if (pe->is_file) {
		snprintf(path, sizeof(path), "%s", pe->key);
	} else if (policy_path(c->dir, pe->key, path, sizeof(path)) == -1) {
		log_warn("policy %s", pe->key);
		return;
	}
	pol = policy_load_file(path, pe->is_file ? NULL : pe->key,
	    cache_load_err, &e);
	if (pol == NULL) {
		if (e.count == 0)
			log_warn("policy %s: %s", pe->key, path);
		event_init(&ev, EVENT_POLICY_REJECTED);
		ev.policy = pe->key;
		ev.rule_file = e.count > 0 ? e.file : path;
		if (e.count > 0)
			ev.rule_line = e.line;
		ev.reason = e.count > 0 ? e.msg : strerror(errno);
		cache_emit(c, &ev);
		if (pe->pol != NULL)
			log_warnx("policy %s: keeping the policy loaded before",
			    pe->key);
		return;
	}
	if (pe->pol != NULL)
		policy_unref(pe->pol);
	pe->pol = pol;
	event_init(&ev, EVENT_POLICY_LOADED);
	ev.policy = policy_name(pol);
	ev.rule_file = path;
	cache_emit(c, &ev);
	log_info("policy %s: %zu rules from %s", policy_name(pol),
	    policy_rule_count(pol), path);
}

/* The entry of a task's policy, made (and loaded) when missing. */
static struct policy_entry *
cache_entry(struct policy_cache *c, const struct reg_task *t, uint64_t now_ms)
{
	struct policy_entry *pe;
	const char *key = t->policy_file != NULL ? t->policy_file : t->policy;
	bool is_file = t->policy_file != NULL;

	if (key == NULL) {
		errno = EINVAL;
		return NULL;
	}
	for (pe = c->entries; pe != NULL; pe = pe->next)
		if (pe->is_file == is_file && strcmp(pe->key, key) == 0)
			return pe;
	if ((pe = calloc(1, sizeof(*pe))) == NULL)
		return NULL;
	if ((pe->key = strdup(key)) == NULL) {
		free(pe);
		return NULL;
	}
	pe->is_file = is_file;
	pe->retry_ms = now_ms + POLICY_CACHE_RETRY_MS;
	pe->next = c->entries;
	c->entries = pe;
	cache_load(c, pe);
	return pe;
}

struct policy_cache *
policy_cache_new(const char *policy_dir, policy_cache_emit_fn emit, void *arg)
{
	struct policy_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->dir = strdup(policy_dir)) == NULL) {
		free(c);
		return NULL;
	}
	c->emit = emit;
	c->arg = arg;
	return c;
}

void
policy_cache_free(struct policy_cache *c)
{
	struct policy_entry *pe, *next;

	if (c == NULL)
		return;
	for (pe = c->entries; pe != NULL; pe = next) {
		next = pe->next;
		if (pe->pol != NULL)
			policy_unref(pe->pol);
		free(pe->key);
		free(pe);
	}
	free(c->dir);
	free(c);
}

struct policy *
policy_cache_get(struct policy_cache *c, const struct reg_task *t,
    uint64_t now_ms)
{
	struct policy_entry *pe;

	if ((pe = cache_entry(c, t, now_ms)) == NULL)
		return NULL;
	if (pe->pol == NULL && now_ms >= pe->retry_ms) {
		/* Perhaps fixed since. */
		pe->retry_ms = now_ms + POLICY_CACHE_RETRY_MS;
		cache_load(c, pe);
	}
	if (pe->pol == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return policy_ref(pe->pol);
}

void
policy_cache_prime(struct policy_cache *c, const struct registry *reg,
    uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < registry_count(reg); i++)
		(void)cache_entry(c, registry_task_at(reg, i), now_ms);
}

void
policy_cache_reload(struct policy_cache *c)
{
	struct policy_entry *pe;

	for (pe = c->entries; pe != NULL; pe = pe->next)
		cache_load(c, pe);
}
