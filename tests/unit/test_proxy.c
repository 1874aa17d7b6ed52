/*
 * proxy/proxy.c in a scratch folder: the task and policy of a source
 * address, a broken policy on reload keeping the old one, a task added
 * while running seen through inotify, and the rebinding rule.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"

struct fixture {
	char		 dir[64];
	char		 tasks[128];
	char		 rules[128];
	struct ag_conf	 conf;
	struct loop	*loop;
	struct proxy	 p;
};

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
add_task(struct fixture *f, const char *id, const char *addr,
    const char *policy)
{
	struct reg_task t;

	registry_task_init(&t);
	snprintf(t.id, sizeof(t.id), "%s", id);
	assert_int_equal(addr_parse(addr, &t.addrs[0]), 0);
	t.naddrs = 1;
	t.policy = strdup(policy);
	t.started = 1795813200;
	assert_int_equal(registry_task_write(f->tasks, &t), 0);
	registry_task_free(&t);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/ag-test-proxy.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->tasks, sizeof(f->tasks), "%s/tasks", f->dir);
	snprintf(f->rules, sizeof(f->rules), "%s/p1.rules", f->dir);
	write_file(f->rules,
	    "allow a.test\n"
	    "allow 10.0.0.0/8 127.0.0.0/8 port 443\n");
	assert_int_equal(conf_init(&f->conf), 0);
	assert_int_equal(conf_set_path(&f->conf.run_dir, f->dir), 0);
	assert_int_equal(conf_set_path(&f->conf.policy_dir, f->dir), 0);
	add_task(f, "t1", "198.18.1.2", "p1");
	add_task(f, "t2", "198.18.2.2", "missing");
	snprintf(path, sizeof(path), "%s/missing.rules", f->dir);
	(void)unlink(path);
	assert_non_null(f->loop = loop_new());
	assert_int_equal(proxy_init(&f->p, &f->conf, f->loop, NULL, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	proxy_fini(&f->p);
	loop_free(f->loop);
	conf_free(&f->conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The action p's task gives name:443, or -1 when there is no policy. */
static int
judge(struct fixture *f, const char *src, const char *name)
{
	const struct reg_task *t;
	struct policy *pol;
	struct ag_addr a;
	int action;

	assert_int_equal(addr_parse(src, &a), 0);
	if (proxy_task_for(&f->p, &a, &t, &pol) == -1)
		return -1;
	action = (int)policy_match_name(pol, name, POLICY_PROTO_TCP, 443).action;
	policy_unref(pol);
	return action;
}

static void
test_task_for(void **state)
{
	struct fixture *f = *state;
	const struct reg_task *t;
	struct policy *pol;
	struct ag_addr a;

	assert_int_equal(addr_parse("198.18.1.2", &a), 0);
	assert_int_equal(proxy_task_for(&f->p, &a, &t, &pol), 0);
	assert_string_equal(t->id, "t1");
	assert_string_equal(policy_name(pol), "p1");
	assert_int_equal(policy_match_name(pol, "a.test", POLICY_PROTO_TCP,
	    443).action, POLICY_ALLOW);
	assert_int_equal(policy_match_name(pol, "b.test", POLICY_PROTO_TCP,
	    443).action, POLICY_DENY);
	policy_unref(pol);

	/* No task. */
	assert_int_equal(addr_parse("198.18.9.9", &a), 0);
	errno = 0;
	assert_int_equal(proxy_task_for(&f->p, &a, &t, &pol), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(t);
	assert_null(pol);

	/* A task whose policy does not exist: the task, no policy. */
	assert_int_equal(addr_parse("198.18.2.2", &a), 0);
	errno = 0;
	assert_int_equal(proxy_task_for(&f->p, &a, &t, &pol), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(t);
	assert_string_equal(t->id, "t2");
	assert_null(pol);
}

static void
test_reload_keeps_old_policy(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(judge(f, "198.18.1.2", "a.test"), POLICY_ALLOW);
	/* Broken: the policy loaded before stays. */
	write_file(f->rules, "alow a.test\n");
	proxy_reload(&f->p);
	assert_int_equal(judge(f, "198.18.1.2", "a.test"), POLICY_ALLOW);
	/* Fixed: the new one is used. */
	write_file(f->rules, "deny a.test\nallow b.test\n");
	proxy_reload(&f->p);
	assert_int_equal(judge(f, "198.18.1.2", "a.test"), POLICY_DENY);
	assert_int_equal(judge(f, "198.18.1.2", "b.test"), POLICY_ALLOW);
}

static void
test_missing_policy_later(void **state)
{
	struct fixture *f = *state;
	char path[160];

	assert_int_equal(judge(f, "198.18.2.2", "a.test"), -1);
	snprintf(path, sizeof(path), "%s/missing.rules", f->dir);
	write_file(path, "allow a.test\n");
	/* Not tried again on every connection ... */
	assert_int_equal(judge(f, "198.18.2.2", "a.test"), -1);
	/* ... but at once on a reload. */
	proxy_reload(&f->p);
	assert_int_equal(judge(f, "198.18.2.2", "a.test"), POLICY_ALLOW);
}

static void
stop_cb(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static void
test_registry_watch(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(judge(f, "198.18.3.2", "a.test"), -1);
	add_task(f, "t3", "198.18.3.2", "p1");
	/* The inotify watch is on the loop: one short run sees the file. */
	assert_non_null(loop_timer_add(f->loop, 100, stop_cb, NULL));
	assert_int_equal(loop_run(f->loop), 0);
	assert_int_equal(judge(f, "198.18.3.2", "a.test"), POLICY_ALLOW);
}

static void
test_answer_usable(void **state)
{
	static const struct {
		const char	*addr;
		uint16_t	 port;
		bool		 usable;
	} cases[] = {
		{ "203.0.113.9",	443, true },	/* public (classified, never dialled) */
		{ "2001:db8::1",	443, true },
		{ "10.1.2.3",		443, true },	/* private, allowed by a rule */
		{ "10.1.2.3",		80,  false },	/* ... not for this port */
		{ "192.168.1.1",	443, false },	/* private, no rule */
		{ "169.254.169.254",	443, false },	/* metadata */
		{ "fd00:ec2::254",	443, false },
		{ "::1",		443, false },	/* loopback, no rule */
		/* Allowed by 127.0.0.0/8, but the gateway's own (lo). */
		{ "127.0.0.1",		443, false },
		{ "127.0.0.2",		443, true },
	};
	struct fixture *f = *state;
	const struct reg_task *t;
	struct policy *pol;
	struct ag_addr a;
	size_t i;

	assert_true(f->p.nself > 0);
	assert_int_equal(addr_parse("198.18.1.2", &a), 0);
	assert_int_equal(proxy_task_for(&f->p, &a, &t, &pol), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		if (proxy_answer_usable(&f->p, pol, &a, POLICY_PROTO_TCP,
		    cases[i].port) != cases[i].usable)
			fail_msg("%s port %u: want %s", cases[i].addr,
			    cases[i].port, cases[i].usable ? "usable" : "refused");
	}
	policy_unref(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_task_for, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_old_policy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_watch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_policy_later, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_answer_usable, setup,
		    teardown),
	};

	/* The loads report their problems; keep the TAP output readable. */
	log_init("test_proxy", LOG_LEVEL_WARN, 0);
	return cmocka_run_group_tests_name("proxy", tests, NULL, NULL);
}
