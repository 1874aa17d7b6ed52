/*
 * rules/policycache.c: policies by name and by file, the events each load
 * makes, a broken policy denied and retried no more often than the pace,
 * and a reload that keeps the last good policy.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policycache.h"

struct seen {
	int	loaded, rejected;
	char	last_policy[64];
};

static void
on_event(void *arg, const struct ag_event *ev)
{
	struct seen *s = arg;

	if (ev->kind == EVENT_POLICY_LOADED)
		s->loaded++;
	else if (ev->kind == EVENT_POLICY_REJECTED)
		s->rejected++;
	snprintf(s->last_policy, sizeof(s->last_policy), "%s", ev->policy ? ev->policy : "");
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *
make_dir(void)
{
	char *d = strdup("/tmp/agentgate-pcache-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
test_by_name_and_file(void **state)
{
	char *dir = make_dir(), path[512], file[512];
	struct seen s = { 0 };
	struct policy_cache *c;
	struct reg_task t1, t2;
	struct policy *p, *q;

	snprintf(path, sizeof(path), "%s/ci.rules", dir);
	write_file(path, "allow github.com\n");
	snprintf(file, sizeof(file), "%s/inline.rules", dir);
	write_file(file, "allow pypi.org\n");
	registry_task_init(&t1);
	registry_task_init(&t2);
	t1.policy = strdup("ci");
	t2.policy_file = strdup(file);

	assert_non_null(c = policy_cache_new(dir, on_event, &s));
	assert_non_null(p = policy_cache_get(c, &t1, 0));
	assert_string_equal(policy_name(p), "ci");
	assert_int_equal(policy_match_name(p, "github.com", POLICY_PROTO_TCP, 443).action, POLICY_ALLOW);
	assert_non_null(q = policy_cache_get(c, &t1, 0));
	assert_ptr_equal(p, q);		/* cached: one load */
	assert_int_equal(s.loaded, 1);
	policy_unref(q);
	assert_non_null(q = policy_cache_get(c, &t2, 0));
	assert_int_equal(policy_match_name(q, "pypi.org", POLICY_PROTO_TCP, 443).action, POLICY_ALLOW);
	assert_int_equal(s.loaded, 2);
	policy_unref(q);

	/* A reload that finds the file broken keeps the policy before. */
	write_file(path, "alow github.com\n");
	policy_cache_reload(c);
	assert_int_equal(s.rejected, 1);
	assert_non_null(q = policy_cache_get(c, &t1, 0));
	assert_ptr_equal(p, q);
	policy_unref(q);
	/* Fixed: the next reload swaps in the new one; the old lives on. */
	write_file(path, "deny github.com\n");
	policy_cache_reload(c);
	assert_non_null(q = policy_cache_get(c, &t1, 0));
	assert_ptr_not_equal(p, q);
	assert_int_equal(policy_match_name(q, "github.com", POLICY_PROTO_TCP, 443).action, POLICY_DENY);
	assert_int_equal(policy_match_name(p, "github.com", POLICY_PROTO_TCP, 443).action, POLICY_ALLOW);
	policy_unref(q);
	policy_unref(p);

	policy_cache_free(c);
	registry_task_free(&t1);
	registry_task_free(&t2);
	unlink(path);
	unlink(file);
	rmdir(dir);
	free(dir);
}

static void
test_broken_is_denied_and_paced(void **state)
{
	char *dir = make_dir(), path[512];
	struct seen s = { 0 };
	struct policy_cache *c;
	struct reg_task t;
	struct registry *reg;

	snprintf(path, sizeof(path), "%s/dev.rules", dir);
	write_file(path, "allow github.com port 0\n");
	registry_task_init(&t);
	t.policy = strdup("dev");
	assert_non_null(c = policy_cache_new(dir, on_event, &s));

	errno = 0;
	assert_null(policy_cache_get(c, &t, 1000));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(s.rejected, 1);
	assert_string_equal(s.last_policy, "dev");
	write_file(path, "allow github.com\n");
	/* Within the pace: not tried again, still denied. */
	assert_null(policy_cache_get(c, &t, 1000 + POLICY_CACHE_RETRY_MS - 1));
	assert_int_equal(s.rejected + s.loaded, 1);
	/* After it: tried and loaded. */
	struct policy *p = policy_cache_get(c, &t, 1000 + POLICY_CACHE_RETRY_MS);
	assert_non_null(p);
	assert_int_equal(s.loaded, 1);
	policy_unref(p);

	/* A task naming no policy, and an invalid name, are denied. */
	struct reg_task none;
	registry_task_init(&none);
	assert_null(policy_cache_get(c, &none, 0));
	free(t.policy);
	t.policy = strdup("../etc");
	assert_null(policy_cache_get(c, &t, 0));

	/* prime on an empty snapshot does nothing. */
	reg = registry_load("/nonexistent/agentgate-tasks", NULL, NULL);
	assert_non_null(reg);
	policy_cache_prime(c, reg, 0);
	registry_unref(reg);

	policy_cache_free(c);
	registry_task_free(&t);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* Write PATH whole under a temp name and rename it in, as editors save. */
static void
save_atomic(const char *path, const char *text)
{
	char tmp[600];

	snprintf(tmp, sizeof(tmp), "%s.swp", path);
	write_file(tmp, text);
	assert_int_equal(rename(tmp, path), 0);
}

/* Drain, then settle until quiet; returns how many settle calls said 1. */
static int
settle_all(struct policy_cache *c)
{
	int busy = 0;

	while (policy_cache_watch_settle(c) == 1)
		busy++;
	return busy;
}

static bool
allows(struct policy_cache *c, const struct reg_task *t, const char *name)
{
	struct policy *p = policy_cache_get(c, t, 0);
	bool yes;

	assert_non_null(p);
	yes = policy_match_name(p, name, POLICY_PROTO_TCP, 443).action ==
	    POLICY_ALLOW;
	policy_unref(p);
	return yes;
}

static void
test_watch_reload(void **state)
{
	char *dir = make_dir(), ci[512], dev[512], shared[512], common[512];
	char notes[512], fresh[512], tasks[512], cmd[600];
	struct seen s = { 0 };
	struct policy_cache *c;
	struct reg_task t1, t2, t3;
	struct registry *reg;
	struct policy *before, *p;

	snprintf(ci, sizeof(ci), "%s/ci.rules", dir);
	snprintf(dev, sizeof(dev), "%s/dev.rules", dir);
	snprintf(shared, sizeof(shared), "%s/shared", dir);
	snprintf(common, sizeof(common), "%s/shared/common.rules", dir);
	snprintf(notes, sizeof(notes), "%s/notes.txt", dir);
	snprintf(fresh, sizeof(fresh), "%s/fresh.rules", dir);
	snprintf(tasks, sizeof(tasks), "%s/tasks", dir);
	assert_int_equal(mkdir(shared, 0755), 0);
	write_file(common, "allow a.test\n");
	write_file(ci, "include shared/common.rules\nallow ci.test\n");
	write_file(dev, "allow dev.test\n");
	registry_task_init(&t1);
	registry_task_init(&t2);
	registry_task_init(&t3);
	t1.policy = strdup("ci");
	t2.policy = strdup("dev");
	t3.policy = strdup("fresh");

	assert_non_null(c = policy_cache_new(dir, on_event, &s));
	assert_true(policy_cache_watch_open(c) >= 0);
	assert_true(allows(c, &t1, "a.test"));
	assert_true(allows(c, &t2, "dev.test"));
	assert_null(policy_cache_get(c, &t3, 0));	/* no file yet */
	assert_int_equal(s.loaded, 2);
	assert_int_equal(s.rejected, 1);
	assert_int_equal(policy_cache_watch_drain(c), 0);
	assert_int_equal(policy_cache_watch_settle(c), 0);
	assert_int_equal(s.loaded, 2);

	/* An included file in another folder changes: only ci reloads, and
	 * only once the burst has settled. */
	before = policy_cache_get(c, &t2, 0);
	write_file(common, "allow b.test\n");
	write_file(common, "allow c.test\n");
	assert_int_equal(policy_cache_watch_drain(c), 1);
	assert_true(allows(c, &t1, "a.test"));		/* not yet */
	assert_int_equal(policy_cache_watch_settle(c), 1);	/* fresh */
	assert_int_equal(policy_cache_watch_settle(c), 0);
	assert_int_equal(s.loaded, 3);
	assert_string_equal(s.last_policy, "ci");
	assert_false(allows(c, &t1, "a.test"));
	assert_true(allows(c, &t1, "c.test"));
	p = policy_cache_get(c, &t2, 0);
	assert_ptr_equal(p, before);			/* dev untouched */
	policy_unref(p);

	/* A drain between two settles keeps the reload back. */
	save_atomic(dev, "allow dev2.test\n");
	assert_int_equal(policy_cache_watch_drain(c), 1);
	assert_int_equal(policy_cache_watch_settle(c), 1);
	write_file(dev, "allow dev3.test\n");
	assert_int_equal(policy_cache_watch_drain(c), 1);
	assert_int_equal(policy_cache_watch_settle(c), 1);
	assert_int_equal(s.loaded, 3);
	assert_int_equal(policy_cache_watch_settle(c), 0);
	assert_int_equal(s.loaded, 4);			/* one load for the burst */
	assert_true(allows(c, &t2, "dev3.test"));
	policy_unref(before);

	/* A broken save keeps the policy before and says so. */
	write_file(ci, "include shared/common.rules\nalow ci.test\n");
	assert_int_equal(policy_cache_watch_drain(c), 1);
	assert_int_equal(settle_all(c), 1);
	assert_int_equal(s.rejected, 2);
	assert_string_equal(s.last_policy, "ci");
	assert_true(allows(c, &t1, "ci.test"));

	/* Other files in the folders are no reason to reload. */
	write_file(notes, "x\n");
	assert_int_equal(policy_cache_watch_drain(c), 0);

	/* A policy that never loaded is loaded when its file appears, with
	 * no wait for the retry pace. */
	write_file(fresh, "allow fresh.test\n");
	assert_int_equal(policy_cache_watch_drain(c), 1);
	assert_int_equal(settle_all(c), 1);
	assert_true(allows(c, &t3, "fresh.test"));

	/* Deleting a policy file keeps the policy (and is reported). */
	assert_int_equal(unlink(fresh), 0);
	assert_int_equal(policy_cache_watch_drain(c), 1);
	assert_int_equal(settle_all(c), 1);
	assert_int_equal(s.rejected, 3);
	assert_true(allows(c, &t3, "fresh.test"));

	/* prime drops what no task names: dev's file is no concern now. */
	snprintf(t1.id, sizeof(t1.id), "one");
	assert_int_equal(addr_parse("198.18.1.2", &t1.addrs[0]), 0);
	t1.naddrs = 1;
	t1.started = 1795813200;
	assert_int_equal(registry_task_write(tasks, &t1), 0);
	assert_non_null(reg = registry_load(tasks, NULL, NULL));
	policy_cache_prime(c, reg, 0);
	registry_unref(reg);
	write_file(dev, "allow dev4.test\n");
	assert_int_equal(policy_cache_watch_drain(c), 0);
	write_file(ci, "include shared/common.rules\nallow ci2.test\n");
	assert_int_equal(policy_cache_watch_drain(c), 1);
	assert_int_equal(settle_all(c), 1);
	assert_true(allows(c, &t1, "ci2.test"));

	policy_cache_free(c);
	registry_task_free(&t1);
	registry_task_free(&t2);
	registry_task_free(&t3);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_name_and_file),
		cmocka_unit_test(test_broken_is_denied_and_paced),
		cmocka_unit_test(test_watch_reload),
	};

	return cmocka_run_group_tests_name("policycache", tests, NULL, NULL);
}
