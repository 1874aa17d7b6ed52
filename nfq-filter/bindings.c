/*
 * The binding table: a hash of (task, address) chains of entries, each
 * holding one name and its expiry. Sized for thousands of entries; the
 * rare full-table case scans once for the entry to replace.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"

#define BINDINGS_BUCKETS	1024

struct binding {
	char		 task[REG_ID_MAX + 1];
	struct ag_addr	 addr;
	char		 name[CANON_NAME_MAX + 1];
	uint64_t	 expires_ms;
	struct binding	*next;
};

struct bindings {
	pthread_mutex_t	 mu;
	struct binding	*bucket[BINDINGS_BUCKETS];
	size_t		 count, max;
};

static size_t
bind_hash(const char *task, const struct ag_addr *a)
{
	uint32_t h = 2166136261u;
	size_t i, n = addr_size(a);

	for (; *task != '\0'; task++)
		h = (h ^ (uint8_t)*task) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ a->u.bytes[i]) * 16777619u;
	return h % BINDINGS_BUCKETS;
}

struct bindings *
bindings_new(size_t max)
{
	struct bindings *b;

	if (max == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if (pthread_mutex_init(&b->mu, NULL) != 0) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	b->max = max;
	return b;
}

void
bindings_free(struct bindings *b)
{
	struct binding *e, *next;
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < BINDINGS_BUCKETS; i++)
		for (e = b->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	pthread_mutex_destroy(&b->mu);
	free(b);
}

/* Unlink and free the entry *pp points at. */
static void
bind_remove(struct bindings *b, struct binding **pp)
{
	struct binding *e = *pp;

	*pp = e->next;
	free(e);
	b->count--;
}

/* Make room for one entry: drop every expired one, else the one closest
 * to expiry. Called with the lock held and the table full. */
static void
bind_make_room(struct bindings *b, uint64_t now_ms)
{
	struct binding **pp, **victim = NULL;
	size_t i;

	for (i = 0; i < BINDINGS_BUCKETS; i++) {
		pp = &b->bucket[i];
		while (*pp != NULL) {
			if ((*pp)->expires_ms <= now_ms) {
				bind_remove(b, pp);
				continue;
			}
			if (victim == NULL ||
			    (*pp)->expires_ms < (*victim)->expires_ms)
				victim = pp;
			pp = &(*pp)->next;
		}
	}
	if (b->count >= b->max && victim != NULL)
		bind_remove(b, victim);
}

static int
bind_add_locked(struct bindings *b, const char *task_id, const char *name,
    const struct ag_addr *addr, uint32_t ttl, uint64_t now_ms)
{
	struct binding *e;
	size_t h = bind_hash(task_id, addr);
	uint64_t exp;

	if (ttl < BINDINGS_TTL_MIN)
		ttl = BINDINGS_TTL_MIN;
	if (ttl > BINDINGS_TTL_MAX)
		ttl = BINDINGS_TTL_MAX;
	exp = now_ms + (uint64_t)ttl * 1000;
	for (e = b->bucket[h]; e != NULL; e = e->next)
		if (strcmp(e->task, task_id) == 0 &&
		    addr_equal(&e->addr, addr) && strcmp(e->name, name) == 0) {
			if (exp > e->expires_ms)
				e->expires_ms = exp;
			return 0;
		}
	if (b->count >= b->max)
		bind_make_room(b, now_ms);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	snprintf(e->task, sizeof(e->task), "%s", task_id);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->addr = *addr;
	e->expires_ms = exp;
	e->next = b->bucket[h];
	b->bucket[h] = e;
	b->count++;
	return 0;
}

static bool
bind_args_ok(const char *task_id, const char *name)
{
	return task_id != NULL && strlen(task_id) <= REG_ID_MAX &&
	    name != NULL && name[0] != '\0' && strlen(name) <= CANON_NAME_MAX;
}

int
bindings_add(struct bindings *b, const char *task_id, const char *name,
    const struct ag_addr *addr, uint32_t ttl, uint64_t now_ms)
{
	int rc;

	if (!bind_args_ok(task_id, name)) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&b->mu);
	rc = bind_add_locked(b, task_id, name, addr, ttl, now_ms);
	pthread_mutex_unlock(&b->mu);
	return rc;
}

int
bindings_learn(struct bindings *b, const char *task_id,
    const struct dns_response *r, uint64_t now_ms)
{
	struct canon_out co;
	const struct dns_rr *rr;
	size_t i;
	int n = 0, rc = 0;

	if (!r->question.name.valid ||
	    canon_host(r->question.name.text, strlen(r->question.name.text),
	    &co) != CANON_NAME || !bind_args_ok(task_id, co.name))
		return 0;
	pthread_mutex_lock(&b->mu);
	for (i = 0; i < r->n_answers && i < DNS_MAX_ANSWERS; i++) {
		rr = &r->answers[i];
		if (!rr->in_chain || (rr->type != DNS_TYPE_A &&
		    rr->type != DNS_TYPE_AAAA))
			continue;
		if ((rc = bind_add_locked(b, task_id, co.name, &rr->addr,
		    rr->ttl, now_ms)) == -1)
			break;
		n++;
	}
	pthread_mutex_unlock(&b->mu);
	return rc == -1 ? -1 : n;
}

size_t
bindings_names(struct bindings *b, const char *task_id,
    const struct ag_addr *addr, uint64_t now_ms,
    char (*names)[CANON_NAME_MAX + 1], size_t max)
{
	struct binding **pp;
	size_t n = 0;

	pthread_mutex_lock(&b->mu);
	pp = &b->bucket[bind_hash(task_id, addr)];
	while (*pp != NULL) {
		if ((*pp)->expires_ms <= now_ms) {
			bind_remove(b, pp);
			continue;
		}
		if (strcmp((*pp)->task, task_id) == 0 &&
		    addr_equal(&(*pp)->addr, addr)) {
			if (n < max)
				memcpy(names[n], (*pp)->name,
				    sizeof(names[n]));
			n++;
		}
		pp = &(*pp)->next;
	}
	pthread_mutex_unlock(&b->mu);
	return n;
}

bool
bindings_has(struct bindings *b, const char *task_id, const char *name,
    const struct ag_addr *addr, uint64_t now_ms)
{
	struct binding *e;
	bool yes = false;

	pthread_mutex_lock(&b->mu);
	for (e = b->bucket[bind_hash(task_id, addr)]; e != NULL; e = e->next)
		if (e->expires_ms > now_ms && strcmp(e->task, task_id) == 0 &&
		    addr_equal(&e->addr, addr) && strcmp(e->name, name) == 0) {
			yes = true;
			break;
		}
	pthread_mutex_unlock(&b->mu);
	return yes;
}

size_t
bindings_forget(struct bindings *b, const char *task_id)
{
	struct binding **pp;
	size_t i, n = 0;

	pthread_mutex_lock(&b->mu);
	for (i = 0; i < BINDINGS_BUCKETS; i++) {
		pp = &b->bucket[i];
		while (*pp != NULL) {
			if (strcmp((*pp)->task, task_id) == 0) {
				bind_remove(b, pp);
				n++;
			} else
				pp = &(*pp)->next;
		}
	}
	pthread_mutex_unlock(&b->mu);
	return n;
}

size_t
bindings_count(struct bindings *b)
{
	size_t n;

	pthread_mutex_lock(&b->mu);
	n = b->count;
	pthread_mutex_unlock(&b->mu);
	return n;
}
