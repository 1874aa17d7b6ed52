/*
 * agentgate-run: run one command in a throw-away network sandbox whose only
 * way out is the gateway, registered as a task under its policy, and remove
 * every trace when it ends. Usage and exit statuses: docs/launcher.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "caps.h"
#include "conf.h"
#include "env.h"
#include "files.h"
#include "gwcheck.h"
#include "link.h"
#include "log.h"
#include "policy.h"
#include "policytext.h"
#include "pool.h"
#include "registry.h"
#include "sandbox.h"
#include "taskcount.h"
#include "taskid.h"
#include "telemetry.h"
#include "units.h"

#define POLICY_TEXT_MAX	(64 * 1024)

/* Everything one run made, so that teardown removes exactly that. */
struct run {
	struct ag_conf		 conf;
	char			 id[REG_ID_MAX + 1];
	const char		*policy;	/* --policy NAME */
	char			 policy_file[PATH_MAX];	/* inline policy, or "" */
	char			 tasks_dir[PATH_MAX];
	char			 files_dir[PATH_MAX];	/* RUN_DIR/sandbox/ID */
	char			 resolv[PATH_MAX];
	char			 hosts[PATH_MAX];
	struct caps_user	 user;
	const char		*cwd;
	const char		*trace_id;
	char			**envp;		/* the command's environment */
	uint64_t		 timeout_ms;
	char *const		*argv;
	int			 argc;

	struct pool_link	 l4, l6;
	uint64_t		 slot;
	char			 ifname[IFNAMSIZ];
	bool			 registered;
	bool			 link_made;
	struct sandbox		 sb;
	bool			 sb_started;
	bool			 init_gone;	/* the sandbox's init is reaped */
	struct timespec		 started;	/* CLOCK_REALTIME, for event.start */
	struct timespec		 started_mono;	/* for event.duration */
	struct taskcount	 counts;	/* where the daemons' streams were */
	bool			 counting;	/* counts marked at the start */
	struct timespec		 t0;		/* AGENTGATE_RUN_TIMES: launch */
	bool			 times;
};

/* AGENTGATE_RUN_TIMES=1: the time since start of each step, on stderr, to
 * see where a launch spends its time (docs/performance.md, "Launcher"). */
static void
stamp(const struct run *r, const char *step)
{
	struct timespec now;

	if (!r->times)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	fprintf(stderr, "agentgate-run: %8.3f ms %s\n",
	    (double)(now.tv_sec - r->t0.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - r->t0.tv_nsec) / 1e6, step);
}

/*
 * OpenSSL's start-up (its providers' tables, about 1.5 ms) is the largest
 * single cost of the first telemetry line. It runs in a thread while the
 * launcher checks the gateway and registers the task; the thread is joined
 * before the clone, whose child must not inherit a lock held by it. The
 * launcher hashes with SHA-256 only (the telemetry chain), so OpenSSL's
 * configuration file, which only chooses providers, is not read.
 */
static void *
crypto_warm(void *arg)
{
	EVP_MD *md;

	(void)arg;
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	if ((md = EVP_MD_fetch(NULL, "SHA256", NULL)) != NULL)
		EVP_MD_free(md);
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: agentgate-run [--task ID] (--policy NAME | --allow TARGET[:PORT]...\n"
	    "           [--ask TARGET[:PORT]...]) [--user USER] [--cwd DIR]\n"
	    "           [--env K=V]... [--clear-env] [--trace-id ID]\n"
	    "           [--timeout DURATION] [--config PATH] -- COMMAND [ARG...]\n"
	    "Runs COMMAND in a network sandbox routed through the gateway.\n"
	    "Exit status: the command's (128+N when killed by signal N); 124 timed\n"
	    "out, 125 launcher error, 126 command cannot run, 127 command not found.\n");
}

static void
print_policy_error(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	(void)arg;
	if (col > 0)
		fprintf(stderr, "agentgate-run: %s:%u:%u: %s\n", file, line, col, msg);
	else
		fprintf(stderr, "agentgate-run: %s:%u: %s\n", file, line, msg);
}

/* --allow / --ask into RUN_DIR/policies/ID.rules, checked by the parser. */
static int
inline_policy_write(struct run *r, const char *text)
{
	char dir[PATH_MAX];
	struct policy *p;

	if (files_join(dir, sizeof(dir), r->conf.run_dir, "policies", "") == -1 ||
	    files_mkdirs(dir) == -1 ||
	    snprintf(r->policy_file, sizeof(r->policy_file), "%s/%s.rules", dir,
	    r->id) >= (int)sizeof(r->policy_file)) {
		fprintf(stderr, "agentgate-run: %s: %s\n", dir, strerror(errno));
		r->policy_file[0] = '\0';
		return -1;
	}
	if (files_write(r->policy_file, text) == -1) {
		fprintf(stderr, "agentgate-run: %s: %s\n", r->policy_file,
		    strerror(errno));
		r->policy_file[0] = '\0';
		return -1;
	}
	p = policy_load_file(r->policy_file, r->id, print_policy_error, NULL);
	if (p == NULL) {
		fprintf(stderr, "agentgate-run: the inline policy is invalid\n");
		return -1;
	}
	policy_unref(p);
	return 0;
}

static int
named_policy_check(struct run *r)
{
	char path[PATH_MAX];
	struct policy *p;

	if (policy_path(r->conf.policy_dir, r->policy, path, sizeof(path)) == -1) {
		fprintf(stderr, "agentgate-run: bad policy name '%s'\n", r->policy);
		return -1;
	}
	p = policy_load_file(path, r->policy, print_policy_error, NULL);
	if (p == NULL) {
		fprintf(stderr, "agentgate-run: policy %s: %s\n", path,
		    errno == EINVAL ? "invalid" : strerror(errno));
		return -1;
	}
	policy_unref(p);
	return 0;
}

/* Fail closed: without the gateway's rules a sandbox's traffic would be
 * routed out unfiltered. */
static int
gateway_check(void)
{
	const char *what;

	if (gwcheck_rules(&what) == 0)
		return 0;
	if (errno == ENOENT)
		fprintf(stderr, "agentgate-run: the gateway is not up (%s is "
		    "missing; run agentgatectl gateway up)\n", what);
	else if (errno == ENOEXEC)
		fprintf(stderr, "agentgate-run: cannot run %s to check the "
		    "gateway's rules\n", what);
	else
		fprintf(stderr, "agentgate-run: checking the gateway's rules: "
		    "%s\n", strerror(errno));
	return -1;
}

/* pool_allocate's step: register the task with this pair of addresses. */
static int
try_register(void *arg, const struct pool_link *l4, const struct pool_link *l6)
{
	struct run *r = arg;
	struct reg_task t;
	char state;
	int ret;

	registry_task_init(&t);
	memcpy(t.id, r->id, strlen(r->id) + 1);
	t.addrs[0] = l4->sandbox;
	t.addrs[1] = l6->sandbox;
	t.naddrs = 2;
	/* Borrowed strings: the task is not freed with registry_task_free. */
	t.policy = (char *)r->policy;
	t.policy_file = r->policy_file[0] != '\0' ? r->policy_file : NULL;
	t.user = r->user.set && r->user.name[0] != '\0' ? r->user.name : NULL;
	t.argv = (char **)r->argv;
	t.argc = (size_t)r->argc;
	t.cwd = (char *)r->cwd;
	t.trace_id = (char *)r->trace_id;
	t.started = time(NULL);
	t.has_launcher = true;
	t.launcher_pid = getpid();
	if (registry_proc_start_time(t.launcher_pid, &t.launcher_start,
	    &state) == -1)
		return -1;
	ret = registry_task_write(r->tasks_dir, &t);
	if (ret == 0) {
		r->l4 = *l4;
		r->l6 = *l6;
	}
	return ret;
}

static int
task_register(struct run *r)
{
	uint64_t start;

	if (files_join(r->tasks_dir, sizeof(r->tasks_dir), r->conf.run_dir,
	    "tasks", "") == -1)
		return -1;
	/* A random first slot keeps concurrent launchers off one another's
	 * first choice; the registry's lock settles the rest. */
	if (getrandom(&start, sizeof(start), 0) != (ssize_t)sizeof(start))
		start = (uint64_t)getpid();
	if (pool_allocate(&r->conf.sandbox_pool4, &r->conf.sandbox_pool6, start,
	    try_register, r, &r->slot) == -1) {
		if (errno == ENOSPC)
			fprintf(stderr, "agentgate-run: the sandbox pools are "
			    "exhausted (sandbox-pool4, sandbox-pool6)\n");
		else
			fprintf(stderr, "agentgate-run: cannot register task %s "
			    "in %s: %s\n", r->id, r->tasks_dir, strerror(errno));
		return -1;
	}
	r->registered = true;
	return 0;
}

static int
sandbox_files(struct run *r)
{
	char text[512], gw[AG_ADDR_STRLEN], sb4[AG_ADDR_STRLEN], sb6[AG_ADDR_STRLEN];

	if (files_join(r->files_dir, sizeof(r->files_dir), r->conf.run_dir,
	    "sandbox/", r->id) == -1 ||
	    files_join(r->resolv, sizeof(r->resolv), r->files_dir,
	    "resolv.conf", "") == -1 ||
	    files_join(r->hosts, sizeof(r->hosts), r->files_dir, "hosts", "") == -1)
		goto fail;
	if (files_mkdirs(r->files_dir) == -1)
		goto fail;
	addr_format(&r->l4.gw, gw, sizeof(gw));
	snprintf(text, sizeof(text), "nameserver %s\n", gw);
	if (files_write(r->resolv, text) == -1)
		goto fail;
	addr_format(&r->l4.sandbox, sb4, sizeof(sb4));
	addr_format(&r->l6.sandbox, sb6, sizeof(sb6));
	snprintf(text, sizeof(text),
	    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	    "%s\t%s\n%s\t%s\n", sb4, r->id, sb6, r->id);
	if (files_write(r->hosts, text) == -1)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "agentgate-run: sandbox files in %s: %s\n",
	    r->files_dir, strerror(errno));
	return -1;
}

/* The veth pair, the gateway's side here and the sandbox's side inside. */
static int
net_setup(struct run *r)
{
	const char *what;

	snprintf(r->ifname, sizeof(r->ifname), "agr%llx",
	    (unsigned long long)r->slot);
	if (link_setup(r->ifname, r->sb.netns, &r->l4, &r->l6, &r->link_made,
	    &what) == -1) {
		fprintf(stderr, "agentgate-run: cannot %s (%s): %s\n", what,
		    r->ifname, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The task's attempts for task-ended, from what the daemons appended to
 * their streams since the task started. Absent (EVENT_ABSENT) when they
 * cannot be counted; the reason goes to stderr.
 */
static void
attempts_count(struct run *r, struct ag_event *ev)
{
	struct timespec settle = { TASKCOUNT_SETTLE_MS / 1000,
	    (TASKCOUNT_SETTLE_MS % 1000) * 1000000L };
	struct taskcount_counts c;

	if (!r->counting)
		return;
	/* Nothing written since: no attempt, no reading, no wait. */
	if (taskcount_changed(&r->counts)) {
		if (taskcount_read(&r->counts, &c) == -1)
			goto fail;
		if (c.allowed + c.denied + c.pending > 0) {
			while (nanosleep(&settle, &settle) == -1 && errno == EINTR)
				;
			if (taskcount_read(&r->counts, &c) == -1)
				goto fail;
		}
	} else
		memset(&c, 0, sizeof(c));
	ev->attempts_allowed = c.allowed;
	ev->attempts_denied = c.denied;
	ev->attempts_pending = c.pending;
	return;
fail:
	fprintf(stderr, "agentgate-run: task %s: cannot count its attempts in "
	    "%s: %s\n", r->id, r->conf.log_dir, errno == ESTALE ?
	    "the telemetry file of the task's start is gone" : strerror(errno));
}

/*
 * One task-started or task-ended line on the "run" stream. Launchers share
 * the stream, and its writer holds the file's lock while open, so each
 * launcher opens it for one line. The writer reads the end of the chain
 * before it takes that lock, so launchers also take RUN_DIR/telemetry-run.lock
 * around the whole open-emit-close: without it two of them can continue the
 * chain from the same line. Returns 0, or -1 with errno.
 */
static int
run_event(struct run *r, enum event_kind kind, int code)
{
	static const struct timespec nap = { 0, 10 * 1000000L };
	struct telemetry_config cfg = r->conf.telemetry;
	struct telemetry *t = NULL;
	struct ag_event ev;
	struct timespec now;
	char cmdline[4096], lockpath[PATH_MAX];
	size_t len = 0;
	int i, n, tries, saved, lock;
	enum telemetry_result res;

	cfg.dir = r->conf.log_dir;
	cfg.service = "agentgate-run";
	/* One line and close: a backlog could never be written later, and its
	 * 10,000 entries cost more than the line. A line that cannot be
	 * written is reported (and fails the launch when failing closed). */
	cfg.backlog = 0;
	/* Before the lock: counting may read and wait. */
	event_init(&ev, kind);
	if (kind == EVENT_TASK_ENDED)
		attempts_count(r, &ev);
	if (files_join(lockpath, sizeof(lockpath), r->conf.run_dir,
	    "telemetry-run.lock", "") == -1)
		return -1;
	lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock == -1)
		return -1;
	while (flock(lock, LOCK_EX) == -1)
		if (errno != EINTR)
			goto fail;
	for (tries = 0; tries < 200; tries++) {
		t = telemetry_open(&cfg, "run");
		if (t != NULL || errno != EBUSY)
			break;
		nanosleep(&nap, NULL);
	}
	if (t == NULL)
		goto fail;
	cmdline[0] = '\0';
	for (i = 0; i < r->argc && len < sizeof(cmdline); i++) {
		n = snprintf(cmdline + len, sizeof(cmdline) - len, "%s%s",
		    i > 0 ? " " : "", r->argv[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	ev.task_id = r->id;
	ev.policy = r->policy != NULL ? r->policy : r->policy_file;
	ev.src_ip = r->l4.sandbox;
	ev.process_pid = getpid();
	ev.process_name = "agentgate-run";
	ev.process_command_line = cmdline;
	ev.start = r->started;
	ev.trace_id = r->trace_id;
	if (kind == EVENT_TASK_ENDED) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ev.duration_ns = (int64_t)(now.tv_sec - r->started_mono.tv_sec) *
		    1000000000 + (now.tv_nsec - r->started_mono.tv_nsec);
		clock_gettime(CLOCK_REALTIME, &ev.end);
		ev.process_exit_code = code;
	}
	res = telemetry_emit(t, &ev);
	saved = errno;
	telemetry_close(t);
	close(lock);
	errno = saved;
	return res == TELEMETRY_WRITTEN ? 0 : -1;
fail:
	saved = errno;
	close(lock);
	errno = saved;
	return -1;
}

/* task-started, just before the command runs. Fails closed: -1 when the
 * event cannot be written and telemetry is set to fail closed. */
static int
task_started(struct run *r)
{
	clock_gettime(CLOCK_REALTIME, &r->started);
	clock_gettime(CLOCK_MONOTONIC, &r->started_mono);
	if (run_event(r, EVENT_TASK_STARTED, 0) == 0)
		return 0;
	fprintf(stderr, "agentgate-run: cannot write telemetry to %s: %s\n",
	    r->conf.log_dir, strerror(errno));
	return r->conf.telemetry.failure == TELEMETRY_FAIL_CLOSED ? -1 : 0;
}

/* Undo what this run made, in reverse. Never fails: each step reports. */
static void
teardown(struct run *r)
{
	if (r->sb_started)
		sandbox_close(&r->sb);
	/*
	 * With its init gone and our handle closed, nothing holds the
	 * sandbox's network namespace: the kernel frees it, and the veth
	 * pair with it, in the background. Deleting the link here would make
	 * the launcher wait out the kernel's RCU grace periods (about 20 ms).
	 */
	if (r->link_made && !r->init_gone && link_remove(r->ifname) == -1)
		log_warn("delete link %s", r->ifname);
	if (r->registered && registry_task_remove(r->tasks_dir, r->id) == -1)
		log_warn("unregister task %s", r->id);
	if (r->resolv[0] != '\0')
		unlink(r->resolv);
	if (r->hosts[0] != '\0')
		unlink(r->hosts);
	if (r->files_dir[0] != '\0')
		rmdir(r->files_dir);
	if (r->policy_file[0] != '\0' && unlink(r->policy_file) == -1 &&
	    errno != ENOENT)
		log_warn("remove %s", r->policy_file);
}

/* Wait for the sandbox's init, forwarding signals; the init's status is
 * the command's. */
static int
sandbox_wait(struct run *r, const sigset_t *set)
{
	struct timespec deadline, now, left;
	siginfo_t si;
	int sig, status;
	bool timed = r->timeout_ms > 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(r->timeout_ms / 1000);
	deadline.tv_nsec += (long)(r->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		if (waitpid(r->sb.pid, &status, WNOHANG) == r->sb.pid) {
			r->init_gone = true;
			break;
		}
		if (timed) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left.tv_sec = deadline.tv_sec - now.tv_sec;
			left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
			if (left.tv_nsec < 0) {
				left.tv_sec--;
				left.tv_nsec += 1000000000L;
			}
			if (left.tv_sec < 0) {
				fprintf(stderr, "agentgate-run: task %s timed out "
				    "after %llu ms\n", r->id,
				    (unsigned long long)r->timeout_ms);
				kill(r->sb.pid, SIGKILL);
				if (waitpid(r->sb.pid, &status, 0) == r->sb.pid)
					r->init_gone = true;
				return SANDBOX_EXIT_TIMEOUT;
			}
			sig = sigtimedwait(set, &si, &left);
		} else
			sig = sigwaitinfo(set, &si);
		if (sig == -1 || sig == SIGCHLD)
			continue;
		/* A terminal's ^C, ^\ or hangup (sent by the kernel) reaches
		 * the terminal's foreground process group, the command too:
		 * passing it on would deliver it twice. */
		if (si.si_code == SI_KERNEL)
			continue;
		kill(r->sb.pid, sig);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return SANDBOX_EXIT_ERROR;
}

static bool
trace_id_valid(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 128 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.:-") == len;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "task", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "allow", required_argument, NULL, 'a' },
		{ "ask", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "cwd", required_argument, NULL, 'C' },
		{ "env", required_argument, NULL, 'e' },
		{ "clear-env", no_argument, NULL, 'E' },
		{ "trace-id", required_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r;
	const char *config = AG_SYSCONFDIR "/agentgate.conf", *task = NULL;
	const char *user = NULL;
	char *text = NULL, **sets = NULL;
	size_t textlen = 0, nsets = 0;
	bool config_given = false, conf_ready = false, clear_env = false;
	bool warming = false, started = false;
	pthread_t warm;
	sigset_t set;
	int ch, status = SANDBOX_EXIT_ERROR;

	log_init("agentgate-run", LOG_LEVEL_WARN, 0);
	memset(&r, 0, sizeof(r));
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	r.times = getenv("AGENTGATE_RUN_TIMES") != NULL;
	text = calloc(1, POLICY_TEXT_MAX);
	sets = calloc((size_t)argc, sizeof(*sets));
	if (text == NULL || sets == NULL)
		fatal("memory");
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			task = optarg;
			break;
		case 'p':
			r.policy = optarg;
			break;
		case 'a':
		case 'k':
			if (policytext_add(text, POLICY_TEXT_MAX, &textlen,
			    ch == 'a' ? "allow" : "ask", optarg) == -1) {
				fprintf(stderr, "agentgate-run: bad target '%s'\n",
				    optarg);
				goto out;
			}
			break;
		case 'u':
			user = optarg;
			break;
		case 'C':
			r.cwd = optarg;
			break;
		case 'e':
			if (optarg[0] == '=' || strchr(optarg, '=') == NULL) {
				fprintf(stderr, "agentgate-run: --env wants K=V, "
				    "not '%s'\n", optarg);
				goto out;
			}
			sets[nsets++] = optarg;
			break;
		case 'E':
			clear_env = true;
			break;
		case 'I':
			if (!trace_id_valid(optarg)) {
				fprintf(stderr, "agentgate-run: bad trace id '%s'\n",
				    optarg);
				goto out;
			}
			r.trace_id = optarg;
			break;
		case 'T':
			if (units_duration_ms(optarg, &r.timeout_ms) == -1) {
				fprintf(stderr, "agentgate-run: bad duration '%s'\n",
				    optarg);
				goto out;
			}
			break;
		case 'c':
			config = optarg;
			config_given = true;
			break;
		case 'h':
			usage(stdout);
			status = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	r.argv = argv + optind;
	r.argc = argc - optind;
	if (r.argc == 0 || (r.policy != NULL) == (textlen > 0)) {
		usage(stderr);
		goto out;
	}
	if (r.policy != NULL && !policy_name_valid(r.policy)) {
		fprintf(stderr, "agentgate-run: bad policy name '%s'\n", r.policy);
		goto out;
	}
	if ((r.envp = env_build(sets, nsets, clear_env)) == NULL)
		fatal("memory");
	if (user != NULL && caps_user_lookup(user, &r.user) == -1) {
		fprintf(stderr, "agentgate-run: no such user '%s'\n", user);
		goto out;
	}

	if (conf_init(&r.conf) == -1)
		fatal("settings");
	conf_ready = true;
	if (conf_read(&r.conf, config, config_given) == -1)
		goto out;

	if (task != NULL) {
		if (!registry_id_valid(task)) {
			fprintf(stderr, "agentgate-run: bad task id '%s'\n", task);
			goto out;
		}
		snprintf(r.id, sizeof(r.id), "%s", task);
	} else {
		if (taskid_generate(r.id, sizeof(r.id)) == -1)
			fatal("task id");
		fprintf(stderr, "agentgate-run: task %s\n", r.id);
	}

	/* From here on a signal waits until the sandbox runs (and is then
	 * passed to it), so that teardown always happens. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	stamp(&r, "settings read");
	warming = pthread_create(&warm, NULL, crypto_warm, NULL) == 0;
	if (gateway_check() == -1)
		goto out;
	stamp(&r, "gateway checked");
	if (r.policy != NULL ? named_policy_check(&r) == -1 :
	    inline_policy_write(&r, text) == -1)
		goto out;
	stamp(&r, "policy checked");
	if (task_register(&r) == -1 || sandbox_files(&r) == -1)
		goto out;
	stamp(&r, "task registered");
	if (warming) {
		pthread_join(warm, NULL);
		warming = false;
	}

	r.sb.id = r.id;
	r.sb.argv = r.argv;
	r.sb.envp = r.envp;
	r.sb.cwd = r.cwd;
	r.sb.resolv_conf = r.resolv;
	r.sb.hosts = r.hosts;
	r.sb.user = &r.user;
	if (sandbox_start(&r.sb) == -1) {
		fprintf(stderr, "agentgate-run: cannot create the sandbox: %s\n",
		    strerror(errno));
		goto out;
	}
	r.sb_started = true;
	stamp(&r, "sandbox cloned");
	if (net_setup(&r) == -1)
		goto kill;
	stamp(&r, "network set up");
	/* Before the command can make an attempt. */
	r.counting = taskcount_mark(&r.counts, r.conf.log_dir, r.id) == 0;
	if (task_started(&r) == -1)
		goto kill;
	stamp(&r, "task-started written");
	started = true;
	if (sandbox_go(&r.sb) == -1) {
kill:
		kill(r.sb.pid, SIGKILL);
		if (waitpid(r.sb.pid, NULL, 0) == r.sb.pid)
			r.init_gone = true;
		/* The init's mounts failed (it said which): a task-started
		 * has its task-ended. */
		if (started && run_event(&r, EVENT_TASK_ENDED, status) == -1)
			log_warn("task-ended event for %s", r.id);
		goto out;
	}
	status = sandbox_wait(&r, &set);
	stamp(&r, "command ended");
	if (run_event(&r, EVENT_TASK_ENDED, status) == -1)
		log_warn("task-ended event for %s", r.id);
	stamp(&r, "task-ended written");
out:
	if (warming)
		pthread_join(warm, NULL);
	if (conf_ready) {
		teardown(&r);
		conf_free(&r.conf);
		stamp(&r, "torn down");
	}
	free(text);
	free(sets);
	free(r.envp);
	return status;
}
