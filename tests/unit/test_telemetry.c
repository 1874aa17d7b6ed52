/*
 * Unit tests for the telemetry writer: chain across restarts, torn lines,
 * rotation by size (4 threads, hundreds of rotations, exactly N events) and
 * by age, logrotate reopen, fail-closed / fail-open with RLIMIT_FSIZE, the
 * backlog and its overflow count, fsync modes. No root needed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "chaincheck.h"
#include "log.h"
#include "telemetry.h"

struct fixture {
	char	dir[64];
	struct telemetry_config cfg;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ag-telemetry-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	telemetry_config_init(&f->cfg);
	f->cfg.dir = f->dir;
	f->cfg.service = "agentgate-test";
	f->cfg.hostname = "testhost";
	f->cfg.fsync = TELEMETRY_FSYNC_NEVER;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	chmod(f->dir, 0755);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static enum telemetry_result
emit_egress(struct telemetry *t, const char *trace)
{
	struct ag_event ev;

	event_init(&ev, EVENT_EGRESS);
	ev.outcome = OUTCOME_ALLOWED;
	ev.verdict = VERDICT_ALLOW;
	ev.task_id = "t-1";
	ev.dst_domain = "api.example.test";
	ev.dst_port = 443;
	ev.transport = TRANSPORT_TCP;
	ev.trace_id = trace;
	return telemetry_emit(t, &ev);
}

static void
load_ok(struct fixture *f, const char *stream, struct chain *c)
{
	if (chain_load(f->dir, stream, c) != 0)
		fail_msg("chain broken: %s", c->err);
	assert_int_equal(c->unterminated, 0);
}

static void
test_chain_across_restarts(void **state)
{
	struct fixture *f = *state;
	struct telemetry *t;
	struct telemetry_stats st;
	struct chain c;
	char from[256], to[256];

	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	assert_true(telemetry_ok(t));
	assert_int_equal(emit_egress(t, "a"), TELEMETRY_WRITTEN);
	assert_int_equal(emit_egress(t, "b"), TELEMETRY_WRITTEN);
	assert_int_equal(emit_egress(t, "c"), TELEMETRY_WRITTEN);
	telemetry_stats(t, &st);
	assert_int_equal(st.lines, 4);
	assert_int_equal(st.events, 3);
	assert_int_equal(st.seq, 4);
	telemetry_close(t);

	load_ok(f, "proxy", &c);
	assert_int_equal(c.nfiles, 1);
	assert_string_equal(c.files[0], "egress-proxy.jsonl");
	assert_int_equal(c.nlines, 4);
	assert_string_equal(chain_str(c.obj[0], "event.action"), "log-opened");
	assert_string_equal(chain_str(c.obj[0], "agentgate.log.reason"), "start");
	assert_null(chain_str(c.obj[0], "agentgate.log.previous_file"));
	assert_string_equal(chain_str(c.obj[1], "service.name"), "agentgate-test");
	assert_string_equal(chain_str(c.obj[1], "host.hostname"), "testhost");
	assert_string_equal(chain_str(c.obj[3], "trace.id"), "c");
	chain_free(&c);

	/* A restart continues the chain in the same file. */
	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	assert_int_equal(emit_egress(t, "d"), TELEMETRY_WRITTEN);
	telemetry_close(t);
	load_ok(f, "proxy", &c);
	assert_int_equal(c.nlines, 6);
	assert_string_equal(chain_str(c.obj[4], "event.action"), "log-opened");
	assert_int_equal(chain_int(c.obj[5], "agentgate.seq", 0), 6);
	chain_free(&c);

	/* Died between rotation's rename and the new open: the chain is
	 * found in the rotated file. */
	snprintf(from, sizeof(from), "%s/egress-proxy.jsonl", f->dir);
	snprintf(to, sizeof(to), "%s/egress-proxy.jsonl.20260101T000000Z", f->dir);
	assert_int_equal(rename(from, to), 0);
	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	assert_int_equal(emit_egress(t, "e"), TELEMETRY_WRITTEN);
	telemetry_close(t);
	load_ok(f, "proxy", &c);
	assert_int_equal(c.nfiles, 2);
	assert_int_equal(c.nlines, 8);
	assert_int_equal(chain_count(&c, "egress"), 5);
	chain_free(&c);

	/* Another stream in the same folder has its own chain. */
	assert_non_null(t = telemetry_open(&f->cfg, "nfq"));
	assert_int_equal(emit_egress(t, "n"), TELEMETRY_WRITTEN);
	telemetry_close(t);
	load_ok(f, "nfq", &c);
	assert_int_equal(c.nlines, 2);
	chain_free(&c);
}

static void
test_torn_line_repaired(void **state)
{
	struct fixture *f = *state;
	struct telemetry *t;
	struct chain c;
	char path[256];
	int fd;

	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	emit_egress(t, "a");
	emit_egress(t, "b");
	telemetry_close(t);
	/* A crash in the middle of a line (say, a disk that lied). */
	snprintf(path, sizeof(path), "%s/egress-proxy.jsonl", f->dir);
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, "{\"@timestamp\":\"2026-", 20), 20);
	close(fd);

	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	emit_egress(t, "c");
	telemetry_close(t);
	load_ok(f, "proxy", &c);
	assert_int_equal(c.bad_lines, 1);	/* the torn line, now terminated */
	assert_int_equal(c.nlines, 5);
	assert_string_equal(chain_str(c.obj[3], "event.action"), "log-opened");
	assert_int_equal(chain_int(c.obj[3], "agentgate.seq", 0), 4);
	assert_non_null(strstr(json_object_to_json_string(c.obj[3]), "\"repaired\": true"));
	chain_free(&c);
}

#define THREADS		4
#define PER_THREAD	2500

struct worker {
	struct telemetry	*t;
	int			 id;
	int			 not_written;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	char trace[32];
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(trace, sizeof(trace), "%d-%d", w->id, i);
		if (emit_egress(w->t, trace) != TELEMETRY_WRITTEN)
			w->not_written++;
	}
	return NULL;
}

static void
test_rotation_threads_exactly_n(void **state)
{
	struct fixture *f = *state;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct telemetry_stats st;
	struct telemetry *t;
	struct chain c;
	regex_t re;
	unsigned char *seen;
	size_t i, k, egress = 0;

	f->cfg.rotate_size = 2048;	/* a handful of events per file */
	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ t, (int)i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].not_written, 0);
	}
	telemetry_stats(t, &st);
	telemetry_close(t);
	assert_true(st.rotations >= 300);

	load_ok(f, "proxy", &c);
	assert_int_equal(c.nfiles, st.rotations + 1);
	assert_int_equal(chain_count(&c, "egress"), THREADS * PER_THREAD);
	assert_int_equal(c.nlines, THREADS * PER_THREAD + c.nfiles);
	assert_int_equal(c.bad_lines, 0);
	assert_int_equal(regcomp(&re, "^egress-proxy\\.jsonl\\.[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$",
	    REG_EXTENDED | REG_NOSUB), 0);
	seen = calloc(THREADS * PER_THREAD, 1);
	for (i = 0; i < c.nlines; i++) {
		const char *action = chain_str(c.obj[i], "event.action");
		const char *trace = chain_str(c.obj[i], "trace.id");
		size_t fi = c.file_of[i];
		int tid, n;

		if (i == 0 || c.file_of[i - 1] != fi) {
			/* Every file starts with log-opened naming the one before. */
			assert_string_equal(action, "log-opened");
			if (fi == 0) {
				assert_string_equal(chain_str(c.obj[i],
				    "agentgate.log.reason"), "start");
			} else {
				assert_string_equal(chain_str(c.obj[i],
				    "agentgate.log.reason"), "rotate");
				assert_string_equal(chain_str(c.obj[i],
				    "agentgate.log.previous_file"), c.files[fi - 1]);
			}
			if (fi + 1 < c.nfiles)
				assert_int_equal(regexec(&re, c.files[fi], 0, NULL, 0), 0);
			else
				assert_string_equal(c.files[fi], "egress-proxy.jsonl");
			continue;
		}
		assert_string_equal(action, "egress");
		assert_int_equal(sscanf(trace, "%d-%d", &tid, &n), 2);
		k = (size_t)tid * PER_THREAD + (size_t)n;
		assert_int_equal(seen[k], 0);
		seen[k] = 1;
		egress++;
	}
	assert_int_equal(egress, THREADS * PER_THREAD);
	free(seen);
	regfree(&re);
	chain_free(&c);
}

static void
test_rotation_by_age(void **state)
{
	struct fixture *f = *state;
	struct timespec nap = { 0, 80 * 1000 * 1000 };
	struct telemetry *t;
	struct chain c;

	f->cfg.rotate_age_ms = 50;
	f->cfg.fsync = TELEMETRY_FSYNC_INTERVAL;	/* the syncer syncs the old file */
	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	emit_egress(t, "a");
	emit_egress(t, "b");
	nanosleep(&nap, NULL);
	emit_egress(t, "c");
	telemetry_close(t);
	load_ok(f, "proxy", &c);
	assert_int_equal(c.nfiles, 2);
	assert_int_equal(c.nlines, 5);
	assert_string_equal(chain_str(c.obj[3], "agentgate.log.reason"), "rotate");
	assert_string_equal(chain_str(c.obj[4], "trace.id"), "c");
	chain_free(&c);
}

static void
test_reopen_after_logrotate(void **state)
{
	struct fixture *f = *state;
	struct telemetry *t;
	struct chain c;
	char from[256], to[256];

	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	emit_egress(t, "a");
	/* Not renamed: nothing to do, no new log-opened. */
	assert_int_equal(telemetry_reopen(t), 0);
	snprintf(from, sizeof(from), "%s/egress-proxy.jsonl", f->dir);
	snprintf(to, sizeof(to), "%s/egress-proxy.jsonl.1", f->dir);
	assert_int_equal(rename(from, to), 0);
	emit_egress(t, "b");		/* still into the renamed file */
	assert_int_equal(telemetry_reopen(t), 0);
	emit_egress(t, "c");
	telemetry_close(t);

	load_ok(f, "proxy", &c);
	assert_int_equal(c.nfiles, 2);
	assert_string_equal(c.files[0], "egress-proxy.jsonl.1");
	assert_int_equal(c.nlines, 5);
	assert_string_equal(chain_str(c.obj[2], "trace.id"), "b");
	assert_int_equal(c.file_of[3], 1);
	assert_string_equal(chain_str(c.obj[3], "event.action"), "log-opened");
	assert_string_equal(chain_str(c.obj[3], "agentgate.log.reason"), "reopen");
	assert_string_equal(chain_str(c.obj[3], "agentgate.log.previous_file"),
	    "egress-proxy.jsonl.1");
	chain_free(&c);
}

/* In a child: file size limit so that writes fail with EFBIG (SIGXFSZ
 * ignored), without root and without filling a disk. */
#define CHILD_CHECK(cond) do { if (!(cond)) _exit(__LINE__ % 250 + 1); } while (0)

static void
limit_fsize(rlim_t soft)
{
	struct rlimit rl;

	CHILD_CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
	rl.rlim_cur = soft;
	CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
}

static off_t
active_size(struct fixture *f)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/egress-proxy.jsonl", f->dir);
	CHILD_CHECK(stat(path, &sb) == 0);
	return sb.st_size;
}

static void
run_child(void (*fn)(struct fixture *), struct fixture *f)
{
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		log_init("test_telemetry", LOG_LEVEL_INFO, 0);
		fn(f);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("child check failed (code %d)", WEXITSTATUS(status));
}

static void
child_fail_closed(struct fixture *f)
{
	struct telemetry_stats st;
	struct telemetry *t;
	int i;

	f->cfg.backlog = 5;
	CHILD_CHECK((t = telemetry_open(&f->cfg, "proxy")) != NULL);
	for (i = 0; i < 3; i++)
		CHILD_CHECK(emit_egress(t, "before") == TELEMETRY_WRITTEN);
	CHILD_CHECK(telemetry_ok(t));
	limit_fsize((rlim_t)active_size(f));	/* the next byte is refused */
	for (i = 0; i < 5; i++)
		CHILD_CHECK(emit_egress(t, "queued") == TELEMETRY_QUEUED);
	CHILD_CHECK(!telemetry_ok(t));
	for (i = 0; i < 15; i++) {
		errno = 0;
		CHILD_CHECK(emit_egress(t, "lost") == TELEMETRY_LOST);
		CHILD_CHECK(errno == ENOBUFS);
	}
	telemetry_stats(t, &st);
	CHILD_CHECK(st.backlog == 5 && st.lost == 15 && st.write_errors >= 20);
	limit_fsize(RLIM_INFINITY);
	CHILD_CHECK(emit_egress(t, "after") == TELEMETRY_WRITTEN);
	CHILD_CHECK(telemetry_ok(t));
	telemetry_stats(t, &st);
	CHILD_CHECK(st.backlog == 0 && st.events == 9);
	telemetry_close(t);
}

static void
test_fail_closed_backlog_and_lost(void **state)
{
	struct fixture *f = *state;
	struct chain c;
	size_t i;

	run_child(child_fail_closed, f);
	load_ok(f, "proxy", &c);
	assert_int_equal(c.nlines, 1 + 3 + 5 + 1);
	assert_int_equal(chain_count(&c, "egress"), 9);
	for (i = 4; i < 9; i++) {
		assert_string_equal(chain_str(c.obj[i], "trace.id"), "queued");
		assert_null(chain_str(c.obj[i], "agentgate.log"));
		assert_int_equal(chain_int(c.obj[i], "agentgate.log.lost", 0), 0);
	}
	/* The 15 dropped events are counted on the next line, not hidden. */
	assert_string_equal(chain_str(c.obj[9], "trace.id"), "after");
	assert_int_equal(chain_int(c.obj[9], "agentgate.log.lost", 0), 15);
	chain_free(&c);
}

/* A limit in the middle of a line: the short write must not leave a torn
 * line behind. */
static void
child_short_write(struct fixture *f)
{
	struct telemetry *t;
	off_t before;

	CHILD_CHECK((t = telemetry_open(&f->cfg, "proxy")) != NULL);
	CHILD_CHECK(emit_egress(t, "a") == TELEMETRY_WRITTEN);
	before = active_size(f);
	limit_fsize((rlim_t)before + 100);
	CHILD_CHECK(emit_egress(t, "b") == TELEMETRY_QUEUED);
	CHILD_CHECK(!telemetry_ok(t));
	CHILD_CHECK(active_size(f) == before);	/* the partial line was cut */
	limit_fsize(RLIM_INFINITY);
	CHILD_CHECK(emit_egress(t, "c") == TELEMETRY_WRITTEN);
	CHILD_CHECK(telemetry_ok(t));
	telemetry_close(t);
}

static void
test_short_write_cut(void **state)
{
	struct fixture *f = *state;
	struct chain c;

	run_child(child_short_write, f);
	load_ok(f, "proxy", &c);
	assert_int_equal(c.bad_lines, 0);
	assert_int_equal(c.nlines, 4);
	assert_string_equal(chain_str(c.obj[2], "trace.id"), "b");
	assert_string_equal(chain_str(c.obj[3], "trace.id"), "c");
	chain_free(&c);
}

/* Fail-open: telemetry_ok() stays true; the backlog still drains, and the
 * sync thread drains it without any new event. */
static void
child_fail_open(struct fixture *f)
{
	struct telemetry_stats st;
	struct telemetry *t;
	int i;

	f->cfg.failure = TELEMETRY_FAIL_OPEN;
	f->cfg.fsync_interval_ms = 20;
	CHILD_CHECK((t = telemetry_open(&f->cfg, "proxy")) != NULL);
	limit_fsize((rlim_t)active_size(f));
	for (i = 0; i < 4; i++)
		CHILD_CHECK(emit_egress(t, "queued") == TELEMETRY_QUEUED);
	CHILD_CHECK(telemetry_ok(t));
	limit_fsize(RLIM_INFINITY);
	for (i = 0; i < 100; i++) {
		struct timespec nap = { 0, 10 * 1000 * 1000 };

		telemetry_stats(t, &st);
		if (st.backlog == 0)
			break;
		nanosleep(&nap, NULL);
	}
	CHILD_CHECK(st.backlog == 0 && st.events == 4);
	telemetry_close(t);
}

static void
test_fail_open_and_sync_thread_retry(void **state)
{
	struct fixture *f = *state;
	struct chain c;

	run_child(child_fail_open, f);
	load_ok(f, "proxy", &c);
	assert_int_equal(chain_count(&c, "egress"), 4);
	chain_free(&c);
}

/* A folder that became read-only after logrotate moved the file away:
 * the new file cannot be created until it is writable again. Root ignores
 * the folder's mode, so as root the child runs as nobody. */
static void
child_readonly(struct fixture *f)
{
	struct telemetry *t;
	char from[256], to[256];

	if (geteuid() == 0) {
		CHILD_CHECK(chown(f->dir, 65534, 65534) == 0);
		CHILD_CHECK(setgid(65534) == 0 && setuid(65534) == 0);
	}
	CHILD_CHECK((t = telemetry_open(&f->cfg, "proxy")) != NULL);
	CHILD_CHECK(emit_egress(t, "a") == TELEMETRY_WRITTEN);
	snprintf(from, sizeof(from), "%s/egress-proxy.jsonl", f->dir);
	snprintf(to, sizeof(to), "%s/egress-proxy.jsonl.old", f->dir);
	CHILD_CHECK(rename(from, to) == 0);
	CHILD_CHECK(chmod(f->dir, 0555) == 0);
	CHILD_CHECK(telemetry_reopen(t) == -1 && errno == EACCES);
	CHILD_CHECK(!telemetry_ok(t));
	CHILD_CHECK(emit_egress(t, "b") == TELEMETRY_QUEUED);
	CHILD_CHECK(chmod(f->dir, 0755) == 0);
	CHILD_CHECK(emit_egress(t, "c") == TELEMETRY_WRITTEN);
	CHILD_CHECK(telemetry_ok(t));
	telemetry_close(t);
}

static void
test_readonly_folder(void **state)
{
	struct fixture *f = *state;
	struct chain c;

	run_child(child_readonly, f);
	load_ok(f, "proxy", &c);
	assert_int_equal(c.nfiles, 2);
	assert_string_equal(c.files[0], "egress-proxy.jsonl.old");
	assert_string_equal(chain_str(c.obj[2], "agentgate.log.reason"), "reopen");
	assert_string_equal(chain_str(c.obj[2], "agentgate.log.previous_file"),
	    "egress-proxy.jsonl.old");
	assert_string_equal(chain_str(c.obj[3], "trace.id"), "b");
	assert_string_equal(chain_str(c.obj[4], "trace.id"), "c");
	assert_int_equal(chain_count(&c, "egress"), 3);
	chain_free(&c);
}

static void
test_fsync_modes(void **state)
{
	struct fixture *f = *state;
	struct timespec nap = { 0, 150 * 1000 * 1000 };
	struct telemetry_stats st;
	struct telemetry *t;
	int i;

	f->cfg.fsync = TELEMETRY_FSYNC_ALWAYS;
	assert_non_null(t = telemetry_open(&f->cfg, "always"));
	for (i = 0; i < 5; i++)
		emit_egress(t, "x");
	telemetry_stats(t, &st);
	assert_int_equal(st.fsyncs, 6);		/* log-opened + 5 */
	telemetry_close(t);

	f->cfg.fsync = TELEMETRY_FSYNC_NEVER;
	f->cfg.fsync_interval_ms = 20;
	assert_non_null(t = telemetry_open(&f->cfg, "never"));
	emit_egress(t, "x");
	nanosleep(&nap, NULL);
	telemetry_stats(t, &st);
	assert_int_equal(st.fsyncs, 0);
	telemetry_close(t);

	f->cfg.fsync = TELEMETRY_FSYNC_INTERVAL;
	assert_non_null(t = telemetry_open(&f->cfg, "interval"));
	for (i = 0; i < 50; i++)
		emit_egress(t, "x");
	nanosleep(&nap, NULL);
	telemetry_stats(t, &st);
	/* Synced in the background, once per dirty interval, not per line. */
	assert_true(st.fsyncs >= 1 && st.fsyncs <= 10);
	telemetry_close(t);
}

static void
test_bad_input(void **state)
{
	struct fixture *f = *state;
	struct telemetry *t, *t2;
	struct ag_event ev;

	errno = 0;
	assert_null(telemetry_open(&f->cfg, "a/b"));
	assert_int_equal(errno, EINVAL);
	assert_null(telemetry_open(&f->cfg, ""));
	assert_non_null(t = telemetry_open(&f->cfg, "proxy"));
	/* One writer per stream: a second one would fork the chain. */
	errno = 0;
	assert_null(t2 = telemetry_open(&f->cfg, "proxy"));
	assert_int_equal(errno, EBUSY);
	/* agentgate.log is the writer's. */
	event_init(&ev, EVENT_LOG_OPENED);
	assert_int_equal(telemetry_emit(t, &ev), TELEMETRY_LOST);
	assert_int_equal(errno, EINVAL);
	event_init(&ev, EVENT_EGRESS);
	ev.log_lost = 3;
	assert_int_equal(telemetry_emit(t, &ev), TELEMETRY_LOST);
	telemetry_close(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_across_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_line_repaired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_threads_exactly_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_by_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_logrotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_closed_backlog_and_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_open_and_sync_thread_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	};

	log_init("test_telemetry", LOG_LEVEL_WARN, 0);
	return cmocka_run_group_tests_name("telemetry", tests, NULL, NULL);
}
