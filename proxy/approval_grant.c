/*
 * Decisions that outlive their request (approval_int.h): task-scoped and
 * duration-scoped ones in memory, newest first so that a later decision
 * wins; forever ones are the approvals files, loaded the first time a
 * policy asks and again after a write or SIGHUP (approvals_reload).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "approval_file.h"
#include "approval_int.h"
#include "log.h"
#include "policy.h"

static void
grant_free(struct approval_grant *g)
{
	free(g->task_id);
	free(g->policy);
	free(g->name);
	free(g);
}

/* An approvals file, loaded the first time its policy asks. */
struct approval_pfile *
approvals_file(struct approvals *a, const char *policy, bool reload)
{
	struct approval_pfile *pf;

	for (pf = a->files; pf != NULL; pf = pf->next) {
		if (strcmp(pf->policy, policy) == 0)
			break;
	}
	if (pf == NULL) {
		if ((pf = calloc(1, sizeof(*pf))) == NULL ||
		    (pf->policy = strdup(policy)) == NULL) {
			free(pf);
			return NULL;
		}
		pf->next = a->files;
		a->files = pf;
		reload = true;
	}
	if (reload) {
		approval_file_free(pf->f);
		pf->f = NULL;
		if (policy_name_valid(policy) &&
		    (pf->f = approval_file_load(a->state_dir, policy)) == NULL &&
		    errno != ENOENT)
			log_warnx("approvals for policy %s not loaded; none apply", policy);
	}
	return pf;
}

int
grant_add(struct approvals *a, const struct approval_req *r)
{
	struct approval_grant *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	g->allow = r->state == APPROVAL_ALLOWED;
	g->scope = r->scope;
	memcpy(g->proto, r->proto, sizeof(g->proto));
	memcpy(g->id, r->id, sizeof(g->id));
	g->port = r->port;
	if ((g->name = strdup(r->name)) == NULL)
		goto fail;
	if (r->scope == APPROVAL_TASK && (g->task_id = strdup(r->task_id)) == NULL)
		goto fail;
	if (r->scope == APPROVAL_DURATION) {
		if ((g->policy = strdup(r->policy)) == NULL)
			goto fail;
		g->until = approvals_now(a) + r->duration_ms;
	}
	g->next = a->grants;
	a->grants = g;
	return 0;
fail:
	grant_free(g);
	return -1;
}

static bool
grant_matches(const struct approval_grant *g, const char *task_id,
    const char *policy, uint64_t now)
{
	if (g->scope == APPROVAL_TASK)
		return strcmp(g->task_id, task_id) == 0;
	return strcmp(g->policy, policy) == 0 && g->until > now;
}

void
approvals_check(struct approvals *a, const char *task_id, const char *policy,
    const char *name, uint16_t port, const char *proto, struct approval_check *out)
{
	const struct approval_grant *g;
	struct approval_pfile *pf;
	uint64_t now = approvals_now(a);
	int pass;

	memset(out, 0, sizeof(*out));
	out->verdict = APPROVAL_ASK;
	/* Task decisions first, then durations: the narrower scope wins. */
	for (pass = 0; pass < 2; pass++) {
		for (g = a->grants; g != NULL; g = g->next) {
			if ((g->scope == APPROVAL_TASK) != (pass == 0) ||
			    g->port != port || strcmp(g->proto, proto) != 0 ||
			    strcmp(g->name, name) != 0 ||
			    !grant_matches(g, task_id, policy, now))
				continue;
			out->verdict = g->allow ? APPROVAL_GRANTED : APPROVAL_REFUSED;
			memcpy(out->id, g->id, sizeof(out->id));
			return;
		}
	}
	if ((pf = approvals_file(a, policy, false)) != NULL && pf->f != NULL)
		approval_file_match(pf->f, name, port, proto, out);
}

enum approval_verdict
approvals_check_name(struct approvals *a, const char *task_id,
    const char *policy, const char *name)
{
	const struct approval_grant *g;
	struct approval_pfile *pf;
	uint64_t now = approvals_now(a);

	for (g = a->grants; g != NULL; g = g->next) {
		if (!g->allow && strcmp(g->name, name) == 0 &&
		    grant_matches(g, task_id, policy, now))
			return APPROVAL_REFUSED;
	}
	if ((pf = approvals_file(a, policy, false)) != NULL && pf->f != NULL)
		return approval_file_match_name(pf->f, name);
	return APPROVAL_ASK;
}

void
approvals_tasks_gone(struct approvals *a,
    bool (*alive)(void *arg, const char *task_id), void *arg)
{
	struct approval_grant **gp;

	for (gp = &a->grants; *gp != NULL;) {
		struct approval_grant *g = *gp;

		if (g->scope == APPROVAL_TASK && !alive(arg, g->task_id)) {
			*gp = g->next;
			grant_free(g);
		} else {
			gp = &g->next;
		}
	}
}

void
approvals_grants_expire(struct approvals *a, uint64_t now)
{
	struct approval_grant **gp;

	for (gp = &a->grants; *gp != NULL;) {
		struct approval_grant *g = *gp;

		if (g->scope == APPROVAL_DURATION && g->until <= now) {
			*gp = g->next;
			grant_free(g);
		} else {
			gp = &g->next;
		}
	}
}

void
approvals_reload(struct approvals *a)
{
	struct approval_pfile *pf;

	for (pf = a->files; pf != NULL; pf = pf->next)
		(void)approvals_file(a, pf->policy, true);
}

void
approvals_grants_free(struct approvals *a)
{
	struct approval_grant *g;
	struct approval_pfile *pf;

	while ((g = a->grants) != NULL) {
		a->grants = g->next;
		grant_free(g);
	}
	while ((pf = a->files) != NULL) {
		a->files = pf->next;
		approval_file_free(pf->f);
		free(pf->policy);
		free(pf);
	}
}
