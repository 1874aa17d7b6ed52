/*
 * agentgate-run's attempt counts (sandbox-launcher/taskcount.c): which lines
 * count for which task, and marking and reading real files in a temporary
 * folder, across a rotation, a line still being written and a lost file.
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
#include <json-c/json.h>

#include "logread.h"
#include "taskcount.h"

#define H0 "0000000000000000000000000000000000000000000000000000000000000000"

/* One line as the writer lays it out (members in its order). */
static char *
line(char *buf, size_t size, uint64_t seq, const char *action,
    const char *outcome, const char *task)
{
	char o[64] = "", t[160] = "";

	if (outcome != NULL)
		snprintf(o, sizeof(o), "\"outcome\":\"%s\",", outcome);
	if (task != NULL)
		snprintf(t, sizeof(t), "\"task\":{\"id\":\"%s\"},", task);
	snprintf(buf, size, "{\"@timestamp\":\"2026-11-27T20:48:47.000000Z\","
	    "\"event\":{\"kind\":\"event\",\"action\":\"%s\"},"
	    "\"service\":{\"name\":\"agentgate-proxy\"},"
	    "\"agentgate\":{%s%s\"stream\":\"proxy\",\"seq\":%llu,"
	    "\"prev_hash\":\"" H0 "\"}}", action, o, t,
	    (unsigned long long)seq);
	return buf;
}

static void
test_line_table(void **state)
{
	static const struct {
		const char	*text;		/* NULL: built by line() */
		const char	*action, *outcome, *task;
		int		 counted;
		int64_t		 allowed, denied, pending;
	} cases[] = {
		{ NULL, "egress", "allowed", "t-42", 1, 1, 0, 0 },
		{ NULL, "egress", "denied", "t-42", 1, 0, 1, 0 },
		{ NULL, "egress", "pending", "t-42", 1, 0, 0, 1 },
		/* another task, and ids that only start or end like ours */
		{ NULL, "egress", "allowed", "t-43", 0, 0, 0, 0 },
		{ NULL, "egress", "allowed", "t-4", 0, 0, 0, 0 },
		{ NULL, "egress", "allowed", "t-421", 0, 0, 0, 0 },
		{ NULL, "egress", "allowed", "xt-42", 0, 0, 0, 0 },
		/* not attempts: the approval events of the same request */
		{ NULL, "approval-requested", "pending", "t-42", 0, 0, 0, 0 },
		{ NULL, "approval-decided", "allowed", "t-42", 0, 0, 0, 0 },
		{ NULL, "task-ended", NULL, "t-42", 0, 0, 0, 0 },
		/* no task, no outcome */
		{ NULL, "egress", "denied", NULL, 0, 0, 0, 0 },
		{ NULL, "egress", NULL, "t-42", 0, 0, 0, 0 },
		/* the id inside a name, escaped as JSON escapes it */
		{ "{\"@timestamp\":\"2026-11-27T20:48:47.000000Z\",\"event\":"
		  "{\"action\":\"egress\"},\"destination\":{\"domain\":"
		  "\"x\\\"task\\\":{\\\"id\\\":\\\"t-42\\\"}\"},\"agentgate\":"
		  "{\"outcome\":\"denied\",\"task\":{\"id\":\"t-9\"}}}",
		  NULL, NULL, NULL, 0, 0, 0, 0 },
		/* a torn line that holds the id */
		{ "{\"@timestamp\":\"2026-11-27T20:48:47.000000Z\",\"event\":"
		  "{\"action\":\"egress\"},\"agentgate\":{\"outcome\":\"allowed\","
		  "\"task\":{\"id\":\"t-42\"},\"seq\":1", NULL, NULL, NULL,
		  0, 0, 0, 0 },
		/* the id in the task object beside counts (task-ended) */
		{ "{\"@timestamp\":\"2026-11-27T20:48:47.000000Z\",\"event\":"
		  "{\"action\":\"egress\"},\"agentgate\":{\"outcome\":\"denied\","
		  "\"task\":{\"id\":\"t-42\",\"x\":1}}}", NULL, NULL, NULL,
		  1, 0, 1, 0 },
	};
	struct json_tokener *tok = lr_tokener_new();
	char buf[1024];
	size_t i;

	(void)state;
	assert_non_null(tok);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct taskcount_counts c = { 0, 0, 0 };
		const char *l = cases[i].text;

		if (l == NULL)
			l = line(buf, sizeof(buf), 7, cases[i].action,
			    cases[i].outcome, cases[i].task);
		assert_int_equal(taskcount_line(tok, l, strlen(l), "t-42", &c),
		    cases[i].counted);
		assert_int_equal(c.allowed, cases[i].allowed);
		assert_int_equal(c.denied, cases[i].denied);
		assert_int_equal(c.pending, cases[i].pending);
	}
	json_tokener_free(tok);
}

struct fx {
	char	dir[64];
	char	proxy[128], nfq[128];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_taskcount.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->proxy, sizeof(f->proxy), "%s/egress-proxy.jsonl", f->dir);
	snprintf(f->nfq, sizeof(f->nfq), "%s/egress-nfq.jsonl", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Append text to path. */
static void
append(const char *path, const char *text)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
append_line(const char *path, uint64_t seq, const char *action,
    const char *outcome, const char *task)
{
	char buf[1024];

	line(buf, sizeof(buf), seq, action, outcome, task);
	strcat(buf, "\n");
	append(path, buf);
}

static void
test_mark_read(void **state)
{
	struct fx *f = *state;
	struct taskcount tc;
	struct taskcount_counts c;
	char rotated[160];

	/* Before the task: its id already in the file (a task of the same
	 * name earlier) must not count. */
	append_line(f->proxy, 1, "log-opened", NULL, NULL);
	append_line(f->proxy, 2, "egress", "allowed", "t-1");
	append_line(f->proxy, 3, "egress", "denied", "t-other");
	assert_int_equal(taskcount_mark(&tc, f->dir, "t-1"), 0);
	assert_true(tc.marks[0].exists);
	assert_false(tc.marks[1].exists);	/* no nfq daemon yet */
	assert_false(taskcount_changed(&tc));
	assert_int_equal(taskcount_read(&tc, &c), 0);
	assert_int_equal(c.allowed + c.denied + c.pending, 0);

	/* While it runs: two of ours, one of another task. */
	append_line(f->proxy, 4, "egress", "allowed", "t-1");
	append_line(f->proxy, 5, "egress", "denied", "t-1");
	append_line(f->proxy, 6, "egress", "denied", "t-other");
	assert_true(taskcount_changed(&tc));
	assert_int_equal(taskcount_read(&tc, &c), 0);
	assert_int_equal(c.allowed, 1);
	assert_int_equal(c.denied, 1);
	assert_int_equal(c.pending, 0);

	/* A rotation: the marked file is renamed, a new one continues; an
	 * nfq stream starts; a line still being written is not counted. */
	snprintf(rotated, sizeof(rotated), "%s.20261127T204857Z", f->proxy);
	assert_int_equal(rename(f->proxy, rotated), 0);
	append_line(f->proxy, 7, "log-opened", NULL, NULL);
	append_line(f->proxy, 8, "egress", "pending", "t-1");
	append_line(f->proxy, 9, "egress", "allowed", "t-1");
	append_line(f->nfq, 1, "log-opened", NULL, NULL);
	append_line(f->nfq, 2, "egress", "denied", "t-1");
	append(f->nfq, "{\"@timestamp\":\"2026-11-27T20:48:47.000000Z\","
	    "\"event\":{\"action\":\"egress\"},\"agentgate\":{\"outcome\":"
	    "\"denied\",\"task\":{\"id\":\"t-1\"}");
	assert_true(taskcount_changed(&tc));
	assert_int_equal(taskcount_read(&tc, &c), 0);
	assert_int_equal(c.allowed, 2);
	assert_int_equal(c.denied, 2);
	assert_int_equal(c.pending, 1);

	/* The bound: more to read than allowed gives up. */
	tc.max_bytes = 100;
	assert_int_equal(taskcount_read(&tc, &c), -1);
	assert_int_equal(errno, EFBIG);
	tc.max_bytes = TASKCOUNT_MAX_BYTES;

	/* The marked file gone (deleted by a rotation policy): unknown. */
	assert_int_equal(unlink(rotated), 0);
	assert_int_equal(taskcount_read(&tc, &c), -1);
	assert_int_equal(errno, ESTALE);
}

static void
test_no_folder(void **state)
{
	struct fx *f = *state;
	struct taskcount tc;
	struct taskcount_counts c;
	char dir[128];

	/* No telemetry folder yet: nothing written, zero attempts. */
	snprintf(dir, sizeof(dir), "%s/none", f->dir);
	assert_int_equal(taskcount_mark(&tc, dir, "t-1"), 0);
	assert_false(taskcount_changed(&tc));
	assert_int_equal(taskcount_read(&tc, &c), 0);
	assert_int_equal(c.allowed + c.denied + c.pending, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_table),
		cmocka_unit_test_setup_teardown(test_mark_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_folder, setup, teardown),
	};

	return cmocka_run_group_tests_name("taskcount", tests, NULL, NULL);
}
