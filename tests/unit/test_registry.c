/*
 * The task registry: the file format (good and bad JSON), atomic writes with
 * EEXIST / EADDRINUSE, snapshots and lookups, change notification, launcher
 * liveness, pruning, and concurrent writers racing for one address.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "json.h"
#include "policy.h"
#include "registry.h"

#define A	"\"addresses\":[\"198.18.1.2\"]"
#define S	"\"started\":\"2026-11-27T21:00:00Z\""
#define P	"\"policy\":\"ci\""

/* ---- names ---- */

static const struct {
	const char	*s;
	bool		 id, policy;
} name_cases[] = {
	{ "a", true, true },
	{ "task-1", true, true },
	{ "Z9_.-x", true, true },
	{ "a..b", true, false },	/* ".." only matters for policy file names */
	{ "", false, false },
	{ ".hidden", false, false },
	{ "-x", false, false },
	{ "_x", false, false },
	{ "a/b", false, false },
	{ "a b", false, false },
	{ "a:b", false, false },
	{ "é", false, false },
	{ "0123456789012345678901234567890123456789012345678901234567890123", true, true },
	{ "01234567890123456789012345678901234567890123456789012345678901234", false, false },
};

static void
test_names(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const char *s = name_cases[i].s;

		if (registry_id_valid(s) != name_cases[i].id)
			fail_msg("id '%s': wanted %d", s, name_cases[i].id);
		if (registry_policy_name_valid(s) != name_cases[i].policy)
			fail_msg("policy '%s': wanted %d", s, name_cases[i].policy);
		/* lib/ repeats the rule of rules/: both must agree. */
		if (registry_policy_name_valid(s) != policy_name_valid(s))
			fail_msg("policy '%s': registry and rules disagree", s);
	}
}

/* ---- parsing ---- */

static void
test_parse_full(void **state)
{
	static const char json[] =
	    "{\"id\":\"build-42\",\"addresses\":[\"198.18.1.2\",\"FD00:A9:1:0:0:0:0:2\","
	    "\"::ffff:198.18.7.9\"],\"policy_file\":\"/tmp/p.rules\","
	    "\"trace_id\":\"4bf92f35\",\"user\":\"ci\",\"argv\":[\"npm\",\"install\"],"
	    "\"cwd\":\"/src\",\"started\":\"2026-11-27T21:05:09.123Z\","
	    "\"launcher\":{\"pid\":4242,\"start_time\":987654321},"
	    "\"future\":{\"nested\":[1,2,{\"x\":null}]}}\n";
	char err[128] = "", text[AG_ADDR_STRLEN];
	struct reg_task t;

	(void)state;
	assert_int_equal(registry_task_parse(json, strlen(json), &t, err, sizeof(err)), 0);
	assert_string_equal(t.id, "build-42");
	assert_int_equal(t.naddrs, 3);
	assert_string_equal(addr_format(&t.addrs[0], text, sizeof(text)), "198.18.1.2");
	assert_string_equal(addr_format(&t.addrs[1], text, sizeof(text)), "fd00:a9:1::2");
	/* A mapped address is a v4 address. */
	assert_int_equal(t.addrs[2].family, AF_INET);
	assert_string_equal(addr_format(&t.addrs[2], text, sizeof(text)), "198.18.7.9");
	assert_null(t.policy);
	assert_string_equal(t.policy_file, "/tmp/p.rules");
	assert_string_equal(t.trace_id, "4bf92f35");
	assert_string_equal(t.user, "ci");
	assert_int_equal(t.argc, 2);
	assert_string_equal(t.argv[0], "npm");
	assert_string_equal(t.argv[1], "install");
	assert_string_equal(t.cwd, "/src");
	assert_int_equal(t.started, 1795813509);	/* date -u -d 2026-11-27T21:05:09Z +%s */
	assert_true(t.has_launcher);
	assert_int_equal(t.launcher_pid, 4242);
	assert_int_equal(t.launcher_start, 987654321);
	registry_task_free(&t);
}

static void
test_parse_minimal(void **state)
{
	static const char json[] = "{\"id\":\"t\"," A "," P "," S
	    ",\"trace_id\":null,\"launcher\":null}";
	struct reg_task t;
	char err[128];

	(void)state;
	assert_int_equal(registry_task_parse(json, strlen(json), &t, err, sizeof(err)), 0);
	assert_string_equal(t.policy, "ci");
	assert_null(t.policy_file);
	assert_null(t.trace_id);
	assert_null(t.argv);
	assert_false(t.has_launcher);
	assert_int_equal(t.started, 1795813200);
	registry_task_free(&t);
}

static const struct {
	const char	*json;
	const char	*reason;	/* a part of the reason given */
} bad_cases[] = {
	{ "", "not JSON" },
	{ "{\"id\":\"t\"," A, "truncated" },
	{ "[1]", "not a JSON object" },
	{ "{\"id\":\"t\"," A "," P "," S "} {}", "after the object" },
	{ "{'id':'t'}", "not JSON" },
	{ "{\"id\":\"t\"," A "," P "," S ",}", "not JSON" },
	{ "{\"id\":\"t\xff\"," A "," P "," S "}", "not JSON" },
	/* id */
	{ "{" A "," P "," S "}", "no id" },
	{ "{\"id\":7," A "," P "," S "}", "id: not a string" },
	{ "{\"id\":\"a/b\"," A "," P "," S "}", "invalid task id" },
	{ "{\"id\":\".t\"," A "," P "," S "}", "invalid task id" },
	{ "{\"id\":\"t\\u0000x\"," A "," P "," S "}", "NUL" },
	/* addresses */
	{ "{\"id\":\"t\"," P "," S "}", "no addresses" },
	{ "{\"id\":\"t\",\"addresses\":\"198.18.1.2\"," P "," S "}", "not an array" },
	{ "{\"id\":\"t\",\"addresses\":[]," P "," S "}", "0 given" },
	{ "{\"id\":\"t\",\"addresses\":[\"198.18.1.1\",\"198.18.1.2\",\"198.18.1.3\","
	  "\"198.18.1.4\",\"198.18.1.5\"]," P "," S "}", "5 given" },
	{ "{\"id\":\"t\",\"addresses\":[3323068673]," P "," S "}", "addresses[0]: not a string" },
	{ "{\"id\":\"t\",\"addresses\":[\"198.18.1.0/24\"]," P "," S "}", "not an IP address" },
	{ "{\"id\":\"t\",\"addresses\":[\"example.com\"]," P "," S "}", "not an IP address" },
	{ "{\"id\":\"t\",\"addresses\":[\"[fd00::1]\"]," P "," S "}", "not an IP address" },
	{ "{\"id\":\"t\",\"addresses\":[\"198.18.1.2\",\"::ffff:198.18.1.2\"]," P "," S "}", "twice" },
	{ "{\"id\":\"t\",\"addresses\":[\"0.0.0.0\"]," P "," S "}", "not a source address" },
	{ "{\"id\":\"t\",\"addresses\":[\"ff02::1\"]," P "," S "}", "not a source address" },
	/* policy */
	{ "{\"id\":\"t\"," A "," S "}", "exactly one of policy" },
	{ "{\"id\":\"t\"," A "," P ",\"policy_file\":\"/p.rules\"," S "}", "exactly one of policy" },
	{ "{\"id\":\"t\"," A ",\"policy\":[\"ci\"]," S "}", "policy: not a string" },
	{ "{\"id\":\"t\"," A ",\"policy\":\"../etc/x\"," S "}", "invalid policy name" },
	{ "{\"id\":\"t\"," A ",\"policy\":\"a..b\"," S "}", "invalid policy name" },
	{ "{\"id\":\"t\"," A ",\"policy_file\":\"p.rules\"," S "}", "absolute" },
	{ "{\"id\":\"t\"," A ",\"policy_file\":true," S "}", "policy_file: not a string" },
	/* optional strings and argv */
	{ "{\"id\":\"t\"," A "," P "," S ",\"trace_id\":1}", "trace_id: not a string" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"user\":{}}", "user: not a string" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"cwd\":false}", "cwd: not a string" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"argv\":\"ls -l\"}", "argv: not an array" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"argv\":[\"ls\",1]}", "argv[]: not a string" },
	/* started */
	{ "{\"id\":\"t\"," A "," P "}", "no started" },
	{ "{\"id\":\"t\"," A "," P ",\"started\":1795813200}", "started: not a string" },
	{ "{\"id\":\"t\"," A "," P ",\"started\":\"2026-11-27T21:00:00+02:00\"}", "RFC 3339" },
	{ "{\"id\":\"t\"," A "," P ",\"started\":\"2026-11-27 21:00:00Z\"}", "RFC 3339" },
	{ "{\"id\":\"t\"," A "," P ",\"started\":\"2026-02-29T21:00:00Z\"}", "RFC 3339" },
	{ "{\"id\":\"t\"," A "," P ",\"started\":\"2026-13-01T21:00:00Z\"}", "RFC 3339" },
	{ "{\"id\":\"t\"," A "," P ",\"started\":\"2026-11-27T24:00:00Z\"}", "RFC 3339" },
	{ "{\"id\":\"t\"," A "," P ",\"started\":\"2026-11-27T21:00:00.Z\"}", "RFC 3339" },
	{ "{\"id\":\"t\"," A "," P ",\"started\":\"yesterday\"}", "RFC 3339" },
	/* launcher */
	{ "{\"id\":\"t\"," A "," P "," S ",\"launcher\":4242}", "launcher: not an object" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"launcher\":{\"pid\":4242}}", "needs pid and start_time" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"launcher\":{\"pid\":\"4242\",\"start_time\":1}}",
	  "launcher.pid: not an integer" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"launcher\":{\"pid\":0,\"start_time\":1}}",
	  "launcher.pid: out of range" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"launcher\":{\"pid\":4294967297,\"start_time\":1}}",
	  "launcher.pid: out of range" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"launcher\":{\"pid\":1.5,\"start_time\":1}}",
	  "launcher.pid: not an integer" },
	{ "{\"id\":\"t\"," A "," P "," S ",\"launcher\":{\"pid\":1,\"start_time\":-1}}",
	  "launcher.start_time: out of range" },
};

static void
test_parse_bad(void **state)
{
	struct reg_task t;
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const char *json = bad_cases[i].json;

		err[0] = '\0';
		errno = 0;
		if (registry_task_parse(json, strlen(json), &t, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", json);
		if (errno != EINVAL)
			fail_msg("errno %d for: %s", errno, json);
		if (strstr(err, bad_cases[i].reason) == NULL)
			fail_msg("reason '%s' lacks '%s' for: %s", err, bad_cases[i].reason, json);
		/* Nothing is left to free after an error. */
		assert_null(t.policy);
		assert_null(t.argv);
	}
}

static void
test_parse_limits(void **state)
{
	static const char head[] = "{\"id\":\"t\"," A "," P "," S ",\"x\":\"";
	char *big, err[128];
	struct reg_task t;
	size_t len;

	(void)state;
	/* An embedded NUL: the bytes after it would be unseen by a C reader. */
	assert_int_equal(registry_task_parse("{\"id\":\"t\"}\0{}", 13, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));

	/* 64 KiB exactly parses; one byte more does not. */
	big = malloc(REG_FILE_MAX + 2);
	assert_non_null(big);
	len = REG_FILE_MAX;
	memset(big, 'a', len);
	memcpy(big, head, strlen(head));
	memcpy(big + len - 2, "\"}", 2);
	assert_int_equal(registry_task_parse(big, len, &t, err, sizeof(err)), 0);
	registry_task_free(&t);
	memmove(big + len - 1, big + len - 2, 2);
	big[len - 2] = 'a';
	assert_int_equal(registry_task_parse(big, len + 1, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over 65536"));
	free(big);
}

/* ---- formatting ---- */

static void
fill_task(struct reg_task *t, const char *id, const char *addr1, const char *addr2)
{
	registry_task_init(t);
	snprintf(t->id, sizeof(t->id), "%s", id);
	assert_int_equal(addr_parse(addr1, &t->addrs[0]), 0);
	t->naddrs = 1;
	if (addr2 != NULL) {
		assert_int_equal(addr_parse(addr2, &t->addrs[1]), 0);
		t->naddrs = 2;
	}
	t->policy = strdup("ci");
	t->started = 1795813200;
}

static void
test_format(void **state)
{
	static const char want[] =
	    "{\"id\":\"t1\",\"addresses\":[\"198.18.1.2\",\"fd00:a9:1::2\"],"
	    "\"policy\":\"ci\",\"trace_id\":\"q\\\"x\",\"argv\":[\"sh\",\"-c\",\"a\\nb\"],"
	    "\"started\":\"2026-11-27T21:00:00Z\","
	    "\"launcher\":{\"pid\":77,\"start_time\":18446744073709551}}";
	struct reg_task t, back;
	struct json_buf j;
	char err[128];

	(void)state;
	fill_task(&t, "t1", "198.18.1.2", "fd00:a9:1:0::2");
	t.trace_id = strdup("q\"x");
	t.argv = calloc(3, sizeof(char *));
	t.argv[0] = strdup("sh");
	t.argv[1] = strdup("-c");
	t.argv[2] = strdup("a\nb");
	t.argc = 3;
	t.has_launcher = true;
	t.launcher_pid = 77;
	t.launcher_start = 18446744073709551ULL;
	json_init(&j, NULL, 0);
	assert_int_equal(registry_task_format(&t, &j), 0);
	assert_int_equal(j.len, strlen(want));
	assert_memory_equal(j.data, want, j.len);

	/* Round trip. */
	assert_int_equal(registry_task_parse(j.data, j.len, &back, err, sizeof(err)), 0);
	assert_string_equal(back.id, "t1");
	assert_int_equal(back.naddrs, 2);
	assert_true(addr_equal(&back.addrs[1], &t.addrs[1]));
	assert_string_equal(back.trace_id, "q\"x");
	assert_string_equal(back.argv[2], "a\nb");
	assert_int_equal(back.started, t.started);
	assert_int_equal(back.launcher_start, t.launcher_start);
	registry_task_free(&back);
	json_free(&j);
	registry_task_free(&t);
}

/* ---- the folder ---- */

struct tmpdir {
	char	root[64];
	char	dir[96];	/* root/run/tasks: two levels that do not exist yet */
};

static int
tmp_setup(void **state)
{
	struct tmpdir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	snprintf(d->root, sizeof(d->root), "/tmp/test_registry.XXXXXX");
	if (mkdtemp(d->root) == NULL)
		return -1;
	snprintf(d->dir, sizeof(d->dir), "%s/run/tasks", d->root);
	*state = d;
	return 0;
}

static int
tmp_teardown(void **state)
{
	struct tmpdir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->root);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static void
write_raw(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int
count_entries(const char *dir)
{
	char cmd[256], buf[32];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	if ((p = popen(cmd, "r")) != NULL && fgets(buf, sizeof(buf), p) != NULL)
		n = atoi(buf);
	if (p != NULL)
		pclose(p);
	return n;
}

static void
test_write_read(void **state)
{
	struct tmpdir *d = *state;
	struct reg_task t, u, back;
	char path[160], err[128];
	struct stat st;

	fill_task(&t, "job.1", "198.18.1.2", "fd00:a9:1::2");
	assert_int_equal(registry_task_write(d->dir, &t), 0);
	snprintf(path, sizeof(path), "%s/job.1.json", d->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/run", d->root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* job.1.json and .lock; no temp file left. */
	assert_int_equal(count_entries(d->dir), 2);

	assert_int_equal(registry_task_read(d->dir, "job.1", &back, err, sizeof(err)), 0);
	assert_string_equal(back.id, "job.1");
	assert_int_equal(back.naddrs, 2);
	assert_true(addr_equal(&back.addrs[0], &t.addrs[0]));
	assert_true(addr_equal(&back.addrs[1], &t.addrs[1]));
	assert_string_equal(back.policy, "ci");
	assert_int_equal(back.started, t.started);
	registry_task_free(&back);

	/* Same id: EEXIST, even with other addresses. */
	fill_task(&u, "job.1", "198.18.9.9", NULL);
	errno = 0;
	assert_int_equal(registry_task_write(d->dir, &u), -1);
	assert_int_equal(errno, EEXIST);
	registry_task_free(&u);

	/* Another id with an address in use, spelt as mapped IPv6 text. */
	fill_task(&u, "job.2", "198.18.9.9", "::ffff:198.18.1.2");
	errno = 0;
	assert_int_equal(registry_task_write(d->dir, &u), -1);
	assert_int_equal(errno, EADDRINUSE);
	registry_task_free(&u);
	fill_task(&u, "job.2", "FD00:A9:1::2", NULL);
	errno = 0;
	assert_int_equal(registry_task_write(d->dir, &u), -1);
	assert_int_equal(errno, EADDRINUSE);
	registry_task_free(&u);

	/* An invalid task is refused before anything is written. */
	fill_task(&u, "job/3", "198.18.9.9", NULL);
	errno = 0;
	assert_int_equal(registry_task_write(d->dir, &u), -1);
	assert_int_equal(errno, EINVAL);
	registry_task_free(&u);
	assert_int_equal(count_entries(d->dir), 2);

	/* A leftover temp file of a crash does not block a write. */
	write_raw(d->dir, ".job.4.json.tmp", "{garbage");
	fill_task(&u, "job.4", "198.18.9.9", NULL);
	assert_int_equal(registry_task_write(d->dir, &u), 0);
	registry_task_free(&u);
	assert_int_equal(count_entries(d->dir), 3);

	/* A file whose id is not its name is not read as that task. */
	write_raw(d->dir, "job.5.json", "{\"id\":\"job.6\"," A "," P "," S "}");
	errno = 0;
	assert_int_equal(registry_task_read(d->dir, "job.5", &back, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "does not match"));

	assert_int_equal(registry_task_remove(d->dir, "job.1"), 0);
	errno = 0;
	assert_int_equal(registry_task_remove(d->dir, "job.1"), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(registry_task_read(d->dir, "job.1", &back, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(registry_task_remove(d->dir, "../x"), -1);
	assert_int_equal(errno, EINVAL);
	/* Removed, the address is free again. */
	fill_task(&u, "job.2", "198.18.1.2", NULL);
	assert_int_equal(registry_task_write(d->dir, &u), 0);
	registry_task_free(&u);
	registry_task_free(&t);
}

struct reasons {
	char	files[8][80];
	char	text[8][160];
	int	n;
};

static void
collect(void *arg, const char *file, const char *reason)
{
	struct reasons *r = arg;

	if (r->n < 8) {
		snprintf(r->files[r->n], sizeof(r->files[0]), "%s", file);
		snprintf(r->text[r->n], sizeof(r->text[0]), "%s", reason);
	}
	r->n++;
}

static const char *
reason_for(const struct reasons *r, const char *file)
{
	int i;

	for (i = 0; i < r->n && i < 8; i++)
		if (strcmp(r->files[i], file) == 0)
			return r->text[i];
	return NULL;
}

static void
test_snapshot(void **state)
{
	struct tmpdir *d = *state;
	struct reasons r = { .n = 0 };
	const struct reg_task *t;
	struct registry *reg;
	struct reg_task w;
	struct ag_addr a;
	const char *why;

	fill_task(&w, "bravo", "198.18.1.2", NULL);
	assert_int_equal(registry_task_write(d->dir, &w), 0);
	registry_task_free(&w);
	fill_task(&w, "alpha", "fd00:a9:1::2", NULL);
	assert_int_equal(registry_task_write(d->dir, &w), 0);
	registry_task_free(&w);
	fill_task(&w, "charlie", "198.18.3.3", "fd00:a9:3::3");
	assert_int_equal(registry_task_write(d->dir, &w), 0);
	registry_task_free(&w);

	/* Written by hand, bypassing the lock: takes bravo's address. */
	write_raw(d->dir, "zulu.json", "{\"id\":\"zulu\",\"addresses\":[\"198.18.4.4\","
	    "\"198.18.1.2\"]," P "," S "}");
	write_raw(d->dir, "broken.json", "{\"id\":\"broken\"");
	write_raw(d->dir, "wrongid.json", "{\"id\":\"other\",\"addresses\":[\"198.18.5.5\"],"
	    P "," S "}");
	write_raw(d->dir, "bad name.json", "{}");
	/* Skipped silently: temp files, other files. */
	write_raw(d->dir, ".delta.json.tmp", "{\"id\":\"delta\",\"addresses\":[\"198.18.6.6\"],"
	    P "," S "}");
	write_raw(d->dir, "README", "not a task");
	{
		char path[160];

		snprintf(path, sizeof(path), "%s/link.json", d->dir);
		assert_int_equal(symlink("bravo.json", path), 0);
	}

	reg = registry_load(d->dir, collect, &r);
	assert_non_null(reg);
	assert_int_equal(registry_count(reg), 3);
	assert_string_equal(registry_task_at(reg, 0)->id, "alpha");
	assert_string_equal(registry_task_at(reg, 1)->id, "bravo");
	assert_string_equal(registry_task_at(reg, 2)->id, "charlie");
	assert_null(registry_task_at(reg, 3));

	assert_int_equal(r.n, 5);
	assert_non_null(why = reason_for(&r, "zulu.json"));
	assert_non_null(strstr(why, "198.18.1.2 already held by task bravo"));
	assert_non_null(why = reason_for(&r, "broken.json"));
	assert_non_null(strstr(why, "truncated"));
	assert_non_null(why = reason_for(&r, "wrongid.json"));
	assert_non_null(strstr(why, "does not match"));
	assert_non_null(reason_for(&r, "bad name.json"));
	assert_non_null(reason_for(&r, "link.json"));

	addr_parse("198.18.1.2", &a);
	assert_non_null(t = registry_lookup(reg, &a));
	assert_string_equal(t->id, "bravo");
	addr_parse("fd00:a9:1::2", &a);
	assert_non_null(t = registry_lookup(reg, &a));
	assert_string_equal(t->id, "alpha");
	addr_parse("fd00:a9:3::3", &a);
	assert_non_null(t = registry_lookup(reg, &a));
	assert_string_equal(t->id, "charlie");
	/* A mapped address as a socket would give it, before unmapping. */
	{
		static const uint8_t m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
		    198, 18, 3, 3 };

		a.family = AF_INET6;
		memcpy(a.u.bytes, m, 16);
		assert_non_null(t = registry_lookup(reg, &a));
		assert_string_equal(t->id, "charlie");
	}
	/* Misses: an unknown address, zulu's own address, the temp file's. */
	addr_parse("198.18.1.3", &a);
	assert_null(registry_lookup(reg, &a));
	addr_parse("198.18.4.4", &a);
	assert_null(registry_lookup(reg, &a));
	addr_parse("198.18.6.6", &a);
	assert_null(registry_lookup(reg, &a));
	addr_parse("fd00:a9:1::3", &a);
	assert_null(registry_lookup(reg, &a));

	/* References: the snapshot outlives the first unref (ASan checks). */
	assert_ptr_equal(registry_ref(reg), reg);
	addr_parse("198.18.1.2", &a);
	t = registry_lookup(reg, &a);
	registry_unref(reg);
	assert_string_equal(t->id, "bravo");
	assert_string_equal(t->policy, "ci");
	registry_unref(reg);
}

static void
test_snapshot_many(void **state)
{
	struct tmpdir *d = *state;
	struct registry *reg;
	struct reg_task w;
	struct ag_addr a;
	char id[16], v4[32], v6[48];
	int i;

	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "t%03d", i);
		snprintf(v4, sizeof(v4), "198.18.%d.%d", i / 200, i % 200 + 1);
		snprintf(v6, sizeof(v6), "fd00:a9:%x::2", i);
		fill_task(&w, id, v4, v6);
		assert_int_equal(registry_task_write(d->dir, &w), 0);
		registry_task_free(&w);
	}
	assert_non_null(reg = registry_load(d->dir, NULL, NULL));
	assert_int_equal(registry_count(reg), 300);
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "t%03d", i);
		snprintf(v4, sizeof(v4), "198.18.%d.%d", i / 200, i % 200 + 1);
		snprintf(v6, sizeof(v6), "fd00:a9:%x::2", i);
		addr_parse(v4, &a);
		assert_string_equal(registry_lookup(reg, &a)->id, id);
		addr_parse(v6, &a);
		assert_string_equal(registry_lookup(reg, &a)->id, id);
		snprintf(v6, sizeof(v6), "fd00:a9:%x::3", i);
		addr_parse(v6, &a);
		assert_null(registry_lookup(reg, &a));
	}
	registry_unref(reg);
}

static void
test_snapshot_missing_dir(void **state)
{
	struct tmpdir *d = *state;
	struct registry *reg;
	struct ag_addr a;

	assert_non_null(reg = registry_load(d->dir, NULL, NULL));
	assert_int_equal(registry_count(reg), 0);
	addr_parse("198.18.1.2", &a);
	assert_null(registry_lookup(reg, &a));
	assert_null(registry_task_at(reg, 0));
	registry_unref(reg);
}

/* ---- liveness ---- */

static const struct {
	const char	*line;
	int		 ok;
	uint64_t	 start;
	char		 state;
} stat_cases[] = {
	{ "4242 (bash) S 1 4242 4242 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 123456 0 0\n",
	  1, 123456, 'S' },
	/* comm holds ") R (" and spaces: only the last ')' ends it. */
	{ "7 (a) R (b c) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0\n", 1, 99, 'Z' },
	{ "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551615\n",
	  1, UINT64_MAX, 'S' },
	{ "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551616\n", 0, 0, 0 },
	{ "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n", 0, 0, 0 },
	{ "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x 0\n", 0, 0, 0 },
	{ "7 (x) SS 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12 0\n", 0, 0, 0 },
	{ "7 x S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12 0\n", 0, 0, 0 },
	{ "", 0, 0, 0 },
};

static void
test_stat_parse(void **state)
{
	uint64_t start;
	char st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(stat_cases) / sizeof(stat_cases[0]); i++) {
		const char *l = stat_cases[i].line;
		int rc = registry_stat_parse(l, strlen(l), &start, &st);

		if (stat_cases[i].ok) {
			if (rc != 0)
				fail_msg("refused: %s", l);
			assert_true(start == stat_cases[i].start);
			assert_int_equal(st, stat_cases[i].state);
		} else if (rc != -1) {
			fail_msg("accepted: %s", l);
		}
	}
}

/* Field 22 of /proc/PID/stat, read independently with sscanf. */
static uint64_t
start_of(pid_t pid)
{
	char path[64], buf[4096], *p;
	unsigned long long v = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(p = strrchr(buf, ')'));
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%*u %*u %*d %*d %*d %*d %*d %*d %llu", &v), 1);
	return v;
}

static void
test_alive(void **state)
{
	struct reg_task t;
	uint64_t start;
	pid_t child;
	char st;

	(void)state;
	fill_task(&t, "a", "198.18.1.2", NULL);
	assert_true(registry_task_alive(&t));	/* no launcher: never stale */

	t.has_launcher = true;
	t.launcher_pid = getpid();
	t.launcher_start = start_of(getpid());
	assert_int_equal(registry_proc_start_time(getpid(), &start, &st), 0);
	assert_true(start == t.launcher_start);
	assert_true(registry_task_alive(&t));
	t.launcher_start++;	/* a pid reused by another process */
	assert_false(registry_task_alive(&t));

	/* A zombie has ended although its pid still exists. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	t.launcher_pid = child;
	t.launcher_start = start_of(child);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(registry_proc_start_time(child, &start, &st), 0);
		if (st == 'Z')
			break;
		usleep(5000);
	}
	assert_int_equal(st, 'Z');
	assert_false(registry_task_alive(&t));
	/* Reaped: gone. */
	assert_int_equal(waitpid(child, NULL, 0), child);
	errno = 0;
	assert_int_equal(registry_proc_start_time(child, &start, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(registry_task_alive(&t));
	registry_task_free(&t);
}

static void
pruned(void *arg, const struct reg_task *t)
{
	char *ids = arg;

	strcat(ids, t->id);
	strcat(ids, ";");
}

static void
test_prune(void **state)
{
	struct tmpdir *d = *state;
	struct reg_task t;
	char ids[128] = "", err[128];
	pid_t child;

	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	fill_task(&t, "dead", "198.18.1.2", NULL);
	t.has_launcher = true;
	t.launcher_pid = child;
	t.launcher_start = start_of(child);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(registry_task_write(d->dir, &t), 0);
	registry_task_free(&t);

	fill_task(&t, "live", "198.18.1.3", NULL);
	t.has_launcher = true;
	t.launcher_pid = getpid();
	t.launcher_start = start_of(getpid());
	assert_int_equal(registry_task_write(d->dir, &t), 0);
	registry_task_free(&t);
	fill_task(&t, "nolauncher", "198.18.1.4", NULL);
	assert_int_equal(registry_task_write(d->dir, &t), 0);
	registry_task_free(&t);

	assert_int_equal(registry_prune(d->dir, pruned, ids), 1);
	assert_string_equal(ids, "dead;");
	assert_int_equal(registry_task_read(d->dir, "dead", &t, err, sizeof(err)), -1);
	assert_int_equal(registry_task_read(d->dir, "live", &t, err, sizeof(err)), 0);
	registry_task_free(&t);
	assert_int_equal(registry_prune(d->dir, NULL, NULL), 0);
}

/* ---- watching ---- */

static void
test_watch(void **state)
{
	struct tmpdir *d = *state;
	struct registry_watch *w;
	struct reg_task t;

	assert_non_null(w = registry_watch_open(d->dir));	/* creates DIR */
	assert_true(registry_watch_fd(w) >= 0);
	assert_int_equal(registry_watch_drain(w), 0);
	fill_task(&t, "w", "198.18.1.2", NULL);
	assert_int_equal(registry_task_write(d->dir, &t), 0);
	registry_task_free(&t);
	assert_int_equal(registry_watch_drain(w), 1);
	assert_int_equal(registry_watch_drain(w), 0);	/* drained */
	/* Temp files and other names are not task files. */
	write_raw(d->dir, ".x.json.tmp", "{}");
	write_raw(d->dir, "notes.txt", "x");
	assert_int_equal(registry_watch_drain(w), 0);
	assert_int_equal(registry_task_remove(d->dir, "w"), 0);
	assert_int_equal(registry_watch_drain(w), 1);
	registry_watch_close(w);
}

/* The folder removed, then made again by a writer: watched again, and a
 * task written after that is seen; meanwhile the snapshot is empty. */
static void
test_watch_rearm(void **state)
{
	struct tmpdir *d = *state;
	struct registry_watch *w;
	struct registry *reg;
	struct reg_task t;
	char cmd[160], moved[128];

	assert_non_null(w = registry_watch_open(d->dir));
	fill_task(&t, "a", "198.18.1.2", NULL);
	assert_int_equal(registry_task_write(d->dir, &t), 0);
	registry_task_free(&t);
	assert_int_equal(registry_watch_drain(w), 1);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(registry_watch_drain(w), 1);	/* gone */
	assert_false(registry_watch_armed(w));
	assert_non_null(reg = registry_load(d->dir, NULL, NULL));
	assert_int_equal(registry_count(reg), 0);	/* fail closed */
	registry_unref(reg);
	assert_int_equal(registry_watch_drain(w), 0);

	fill_task(&t, "b", "198.18.1.3", NULL);
	assert_int_equal(registry_task_write(d->dir, &t), 0);	/* makes DIR */
	registry_task_free(&t);
	assert_int_equal(registry_watch_drain(w), 1);
	assert_true(registry_watch_armed(w));
	/* Later changes come through the new watch. */
	assert_int_equal(registry_task_remove(d->dir, "b"), 0);
	assert_int_equal(registry_watch_drain(w), 1);
	assert_int_equal(registry_watch_drain(w), 0);

	/* Moved away: the watch does not follow it; moved back: armed. */
	snprintf(moved, sizeof(moved), "%s.old", d->dir);
	assert_int_equal(rename(d->dir, moved), 0);
	assert_int_equal(registry_watch_drain(w), 1);
	assert_false(registry_watch_armed(w));
	write_raw(moved, "x.json", "{}");
	assert_int_equal(registry_watch_drain(w), 0);
	assert_int_equal(rename(moved, d->dir), 0);
	assert_int_equal(registry_watch_drain(w), 1);
	assert_true(registry_watch_armed(w));
	registry_watch_close(w);
}

/* Only RUN_DIR/policies/ID.rules of the task itself is removed. */
static void
test_inline_policy_remove(void **state)
{
	struct tmpdir *d = *state;
	char pol[128], path[192], other[192];
	struct reg_task t;

	snprintf(pol, sizeof(pol), "%s/policies", d->root);
	assert_int_equal(mkdir(pol, 0755), 0);
	snprintf(path, sizeof(path), "%s//job.rules", pol);	/* as the launcher spells it */
	write_raw(pol, "job.rules", "allow a.test\n");
	snprintf(other, sizeof(other), "%s/ci.rules", d->root);
	write_raw(d->root, "ci.rules", "allow a.test\n");

	fill_task(&t, "job", "198.18.1.2", NULL);
	assert_int_equal(registry_inline_policy_remove(pol, &t), 0);	/* named */
	free(t.policy);
	t.policy = NULL;
	t.policy_file = strdup(other);		/* not under POLICIES_DIR */
	assert_int_equal(registry_inline_policy_remove(pol, &t), 0);
	assert_int_equal(access(other, F_OK), 0);
	free(t.policy_file);
	snprintf(other, sizeof(other), "%s/other.rules", pol);	/* not ID.rules */
	write_raw(pol, "other.rules", "allow a.test\n");
	t.policy_file = strdup(other);
	assert_int_equal(registry_inline_policy_remove(pol, &t), 0);
	assert_int_equal(access(other, F_OK), 0);
	free(t.policy_file);
	t.policy_file = strdup(path);
	assert_int_equal(registry_inline_policy_remove(pol, &t), 1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(registry_inline_policy_remove(pol, &t), 0);	/* gone */
	registry_task_free(&t);
}

/* ---- concurrency ---- */

static void
test_concurrent_writers(void **state)
{
	struct tmpdir *d = *state;
	struct registry *reg;
	pid_t pids[8];
	int gate[2], i, status, won = 0, refused = 0;

	assert_int_equal(pipe(gate), 0);
	for (i = 0; i < 8; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct reg_task t;
			char id[16], c;
			int rc;

			close(gate[1]);
			/* Every child starts when the parent closes the gate. */
			if (read(gate[0], &c, 1) != 0)
				_exit(3);
			snprintf(id, sizeof(id), "racer%d", i);
			registry_task_init(&t);
			snprintf(t.id, sizeof(t.id), "%s", id);
			addr_parse("fd00:a9:7::7", &t.addrs[0]);
			t.naddrs = 1;
			t.policy = strdup("ci");
			t.started = 1795813200;
			rc = registry_task_write(d->dir, &t);
			_exit(rc == 0 ? 0 : errno == EADDRINUSE ? 1 : 2);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			won++;
		else if (WEXITSTATUS(status) == 1)
			refused++;
	}
	assert_int_equal(won, 1);
	assert_int_equal(refused, 7);
	assert_non_null(reg = registry_load(d->dir, NULL, NULL));
	assert_int_equal(registry_count(reg), 1);
	registry_unref(reg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_minimal),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_stat_parse),
		cmocka_unit_test(test_alive),
		cmocka_unit_test_setup_teardown(test_write_read, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_many, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_missing_dir, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_prune, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_watch, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_watch_rearm, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_inline_policy_remove, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
