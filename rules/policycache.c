/*
 * A list of (key, policy) entries: tasks name few distinct policies, so a
 * list is enough. A failed load never replaces a loaded policy. Each entry
 * knows the (watched folder, file name) pairs it was loaded from, so that an
 * inotify event finds the policies it concerns.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"
#include "inotify_drain.h"
#include "policycache.h"

#define WATCH_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
			 IN_DELETE | IN_CREATE | IN_ATTRIB | IN_DELETE_SELF | \
			 IN_MOVE_SELF | IN_ONLYDIR)

/* One file a policy was loaded from: its folder's watch and its name. */
struct policy_dep {
	int		 wd;
	char		*file;		/* as loaded; name points into it */
	const char	*name;
};

struct policy_entry {
	char			*key;		/* policy name, or absolute path */
	bool			 is_file;
	struct policy		*pol;		/* NULL: never loaded */
	uint64_t		 retry_ms;	/* no new load attempt before */
	struct policy_dep	*deps;		/* empty while nothing is watched */
	size_t			 ndeps;
	bool			 marked;	/* a file changed: reload on settle */
	bool			 used;		/* named by the snapshot (prime) */
	struct policy_entry	*next;
};

struct policy_cache {
	char			*dir;
	policy_cache_emit_fn	 emit;
	void			*arg;
	struct policy_entry	*entries;
	int			 watch;		/* inotify fd, -1 until opened */
	bool			 fresh;		/* marked since the last settle */
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

static void
deps_clear(struct policy_entry *pe)
{
	size_t i;

	for (i = 0; i < pe->ndeps; i++)
		free(pe->deps[i].file);
	free(pe->deps);
	pe->deps = NULL;
	pe->ndeps = 0;
}

/* Watch the folder of `file` for pe. Best effort: a folder that cannot be
 * watched (missing) is found again by the next reload or SIGHUP. */
static void
deps_add(struct policy_cache *c, struct policy_entry *pe, const char *file)
{
	char dir[PATH_MAX];
	const char *slash;
	struct policy_dep *grown, *d;
	size_t i;
	int wd;

	if (c->watch == -1)
		return;
	for (i = 0; i < pe->ndeps; i++)
		if (strcmp(pe->deps[i].file, file) == 0)
			return;
	if ((slash = strrchr(file, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - file) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	else
		return;
	if (slash != NULL && slash[1] == '\0')
		return;
	if ((wd = inotify_add_watch(c->watch, dir, WATCH_MASK)) == -1) {
		log_debug("policy %s: cannot watch %s: %s", pe->key, dir,
		    strerror(errno));
		return;
	}
	if ((grown = realloc(pe->deps, (pe->ndeps + 1) * sizeof(*grown))) == NULL)
		return;
	pe->deps = grown;
	d = &pe->deps[pe->ndeps];
	if ((d->file = strdup(file)) == NULL)
		return;
	d->wd = wd;
	d->name = slash == NULL ? d->file : d->file + (slash - file) + 1;
	pe->ndeps++;
}

/* What pe depends on now: the file its key names, the files of the policy
 * in force (includes), and the file a failed load stumbled on. */
static void
deps_build(struct policy_cache *c, struct policy_entry *pe, const char *path,
    const char *errfile)
{
	const struct policy_rule *r;
	const char *file, *last = NULL;
	size_t i;

	deps_clear(pe);
	if (c->watch == -1)
		return;
	deps_add(c, pe, path);
	for (i = 0; pe->pol != NULL && (r = policy_rule_at(pe->pol, i)) != NULL;
	    i++) {
		file = policy_rule_file(r);
		/* Rules of one file are consecutive: one lookup per run. */
		if (file == NULL || (last != NULL && strcmp(file, last) == 0))
			continue;
		deps_add(c, pe, file);
		last = file;
	}
	if (errfile != NULL && errfile[0] != '\0')
		deps_add(c, pe, errfile);
}

static int
entry_path(const struct policy_cache *c, const struct policy_entry *pe,
    char *path, size_t size)
{
	if (pe->is_file) {
		if ((size_t)snprintf(path, size, "%s", pe->key) >= size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	return policy_path(c->dir, pe->key, path, size);
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
	pe->marked = false;
	if (entry_path(c, pe, path, sizeof(path)) == -1) {
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
		deps_build(c, pe, path, e.count > 0 ? e.file : NULL);
		return;
	}
	if (pe->pol != NULL)
		policy_unref(pe->pol);
	pe->pol = pol;
	deps_build(c, pe, path, NULL);
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
	c->watch = -1;
	return c;
}

static void
entry_free(struct policy_entry *pe)
{
	if (pe->pol != NULL)
		policy_unref(pe->pol);
	deps_clear(pe);
	free(pe->key);
	free(pe);
}

void
policy_cache_free(struct policy_cache *c)
{
	struct policy_entry *pe, *next;

	if (c == NULL)
		return;
	for (pe = c->entries; pe != NULL; pe = next) {
		next = pe->next;
		entry_free(pe);
	}
	if (c->watch != -1)
		close(c->watch);
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
	struct policy_entry *pe, **pp;
	size_t i;

	for (pe = c->entries; pe != NULL; pe = pe->next)
		pe->used = false;
	for (i = 0; i < registry_count(reg); i++)
		if ((pe = cache_entry(c, registry_task_at(reg, i), now_ms)) != NULL)
			pe->used = true;
	for (pp = &c->entries; (pe = *pp) != NULL;) {
		if (pe->used) {
			pp = &pe->next;
			continue;
		}
		log_debug("policy %s: no task names it any more", pe->key);
		*pp = pe->next;
		entry_free(pe);
	}
}

void
policy_cache_reload(struct policy_cache *c)
{
	struct policy_entry *pe;

	for (pe = c->entries; pe != NULL; pe = pe->next)
		cache_load(c, pe);
}

int
policy_cache_watch_open(struct policy_cache *c)
{
	struct policy_entry *pe;
	char path[PATH_MAX];

	if (c->watch != -1)
		return c->watch;
	if ((c->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	/* Entries loaded before the watch existed. */
	for (pe = c->entries; pe != NULL; pe = pe->next)
		if (entry_path(c, pe, path, sizeof(path)) == 0)
			deps_build(c, pe, path, NULL);
	return c->watch;
}

/* Mark the entries one event concerns; whether any was. */
static bool
watch_mark(void *arg, const struct inotify_event *ev)
{
	struct policy_cache *c = arg;
	struct policy_entry *pe;
	bool any = false, folder;
	size_t i;

	/* A folder gone (or moved away): its watch ends; the reload of the
	 * policies in it fails and keeps them, and watches again what exists. */
	folder = (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0;
	if ((ev->mask & IN_MOVE_SELF) != 0)
		(void)inotify_rm_watch(c->watch, ev->wd);
	for (pe = c->entries; pe != NULL; pe = pe->next) {
		for (i = 0; i < pe->ndeps; i++) {
			const struct policy_dep *d = &pe->deps[i];

			if ((ev->mask & IN_Q_OVERFLOW) != 0 ||
			    (d->wd == ev->wd && (folder ||
			    (ev->len > 0 && strcmp(d->name, ev->name) == 0))))
				break;
		}
		if (i < pe->ndeps) {
			pe->marked = true;
			any = true;
		}
	}
	return any;
}

int
policy_cache_watch_drain(struct policy_cache *c)
{
	int marked;

	if (c->watch == -1)
		return 0;
	if ((marked = inotify_drain(c->watch, watch_mark, c)) == -1)
		return -1;
	if (marked)
		c->fresh = true;
	return marked;
}

int
policy_cache_watch_settle(struct policy_cache *c)
{
	struct policy_entry *pe;

	if (c->fresh) {
		c->fresh = false;
		return 1;
	}
	for (pe = c->entries; pe != NULL; pe = pe->next) {
		if (!pe->marked)
			continue;
		pe->marked = false;
		log_info("policy %s: its files changed, reloading", pe->key);
		cache_load(c, pe);
	}
	return 0;
}
