/*
 * `agentgatectl task`: add, remove, list and prune entries of the task
 * registry (lib/registry.h, docs/registry.md) for launchers other than
 * agentgate-run, and let an admin see which address belongs to which task.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "json.h"
#include "policy.h"
#include "registry.h"

static void
task_usage(FILE *out)
{
	fprintf(out,
	    "usage: agentgatectl task add --id ID --addr ADDR [--addr ADDR]...\n"
	    "           (--policy NAME | --policy-file PATH) [--trace-id T] [--pid PID] [--force]\n"
	    "       agentgatectl task del ID...\n"
	    "       agentgatectl task list [--json]\n"
	    "       agentgatectl task prune\n"
	    "\n"
	    "add    register a task: its source addresses (1 to %d, IPv4 or IPv6) are\n"
	    "       judged by the policy NAME (NAME.rules in --policy-dir) or by the\n"
	    "       policy file PATH (made absolute). The policy must exist and be valid\n"
	    "       unless --force is given. ID is [A-Za-z0-9][A-Za-z0-9_.-]{0,63}.\n"
	    "       --pid names the launcher: when it exits the task is stale and\n"
	    "       `task prune` (or a daemon) removes it.\n"
	    "del    remove tasks.\n"
	    "list   one line per task: id, addresses, policy, start time, launcher pid,\n"
	    "       and alive or stale; --json prints one JSON object per line.\n"
	    "prune  remove the tasks whose launcher is gone and print each.\n"
	    "\n"
	    "The registry is RUN_DIR/tasks (--run-dir). Exit 0 on success, 1 when the\n"
	    "registry refuses (duplicate id, address in use, bad id or address, missing\n"
	    "or invalid policy), 2 on a usage error.\n",
	    REG_ADDR_MAX);
}

static int
tasks_dir(const struct ctl_env *env, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/tasks", env->run_dir);

	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "agentgatectl task: run folder name too long\n");
		return -1;
	}
	return 0;
}

static void
print_policy_error(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	(void)arg;
	if (col > 0)
		fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
	else
		fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

/* Fail closed: a task whose policy is missing or broken would have all its
 * traffic denied without anyone being told why. */
static int
policy_usable(const char *path, const char *what)
{
	struct policy *p;
	struct stat st;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "agentgatectl task: %s not found: %s "
		    "(--force adds the task anyway)\n", what, path);
		return -1;
	}
	if ((p = policy_load_file(path, NULL, print_policy_error, NULL)) == NULL) {
		fprintf(stderr, "agentgatectl task: %s is invalid: %s "
		    "(--force adds the task anyway)\n", what, path);
		return -1;
	}
	policy_unref(p);
	return 0;
}

/* PATH relative to the current folder, made absolute without resolving
 * links: the task names the file the admin named. */
static char *
absolute_path(const char *path)
{
	char cwd[PATH_MAX], *out;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (asprintf(&out, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) == -1)
		return NULL;
	return out;
}

/* Which task holds addr, for the error message only. */
static void
print_holder(const char *dir, const struct reg_task *t)
{
	char text[AG_ADDR_STRLEN];
	const struct reg_task *h;
	struct registry *reg;
	size_t i;

	if ((reg = registry_load(dir, NULL, NULL)) != NULL) {
		for (i = 0; i < t->naddrs; i++)
			if ((h = registry_lookup(reg, &t->addrs[i])) != NULL) {
				fprintf(stderr, "agentgatectl task: address %s is already "
				    "used by task '%s'\n",
				    addr_format(&t->addrs[i], text, sizeof(text)), h->id);
				registry_unref(reg);
				return;
			}
		registry_unref(reg);
	}
	fprintf(stderr, "agentgatectl task: an address is already used by another task\n");
}

static int
task_add(int argc, char **argv, const struct ctl_env *env)
{
	enum { OPT_ID = 256, OPT_ADDR, OPT_POLICY, OPT_POLICY_FILE, OPT_TRACE,
	    OPT_PID, OPT_FORCE };
	static const struct option opts[] = {
		{ "id",		 required_argument, NULL, OPT_ID },
		{ "addr",	 required_argument, NULL, OPT_ADDR },
		{ "policy",	 required_argument, NULL, OPT_POLICY },
		{ "policy-file", required_argument, NULL, OPT_POLICY_FILE },
		{ "trace-id",	 required_argument, NULL, OPT_TRACE },
		{ "pid",	 required_argument, NULL, OPT_PID },
		{ "force",	 no_argument,	    NULL, OPT_FORCE },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *id = NULL, *policy = NULL, *policy_file = NULL, *trace = NULL;
	const char *addrs[REG_ADDR_MAX + 1];
	char dir[PATH_MAX], path[PATH_MAX], err[160], *end;
	size_t naddrs = 0, i;
	long pid = 0;
	bool force = false;
	struct reg_task t;
	int c, status = CTL_EXIT_FAIL;

	registry_task_init(&t);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ID:		id = optarg; break;
		case OPT_POLICY:	policy = optarg; break;
		case OPT_POLICY_FILE:	policy_file = optarg; break;
		case OPT_TRACE:		trace = optarg; break;
		case OPT_FORCE:		force = true; break;
		case OPT_ADDR:
			if (naddrs == REG_ADDR_MAX) {
				fprintf(stderr, "agentgatectl task: at most %d addresses\n",
				    REG_ADDR_MAX);
				return CTL_EXIT_FAIL;
			}
			addrs[naddrs++] = optarg;
			break;
		case OPT_PID:
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || pid <= 0 ||
			    pid > INT_MAX) {
				fprintf(stderr, "agentgatectl task: bad pid '%s'\n", optarg);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'h':
			task_usage(stdout);
			return CTL_EXIT_OK;
		default:
			task_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc || id == NULL || naddrs == 0 ||
	    (policy == NULL) == (policy_file == NULL)) {
		fprintf(stderr, "agentgatectl task add: needs --id, --addr and one of "
		    "--policy or --policy-file\n");
		task_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (tasks_dir(env, dir, sizeof(dir)) == -1)
		return CTL_EXIT_FAIL;

	if (!registry_id_valid(id)) {
		fprintf(stderr, "agentgatectl task: bad task id '%s' (wanted "
		    "[A-Za-z0-9][A-Za-z0-9_.-]{0,63})\n", id);
		goto out;
	}
	memcpy(t.id, id, strlen(id) + 1);
	for (i = 0; i < naddrs; i++)
		if (addr_parse(addrs[i], &t.addrs[t.naddrs++]) == -1) {
			fprintf(stderr, "agentgatectl task: bad address '%s' (one IPv4 or "
			    "IPv6 address, no prefix)\n", addrs[i]);
			goto out;
		}
	if (policy != NULL) {
		if (!registry_policy_name_valid(policy) ||
		    policy_path(env->policy_dir, policy, path, sizeof(path)) == -1) {
			fprintf(stderr, "agentgatectl task: bad policy name '%s'\n", policy);
			goto out;
		}
		if (!force && policy_usable(path, "policy") == -1)
			goto out;
		if ((t.policy = strdup(policy)) == NULL)
			goto oom;
	} else {
		if ((t.policy_file = absolute_path(policy_file)) == NULL)
			goto oom;
		if (!force && policy_usable(t.policy_file, "policy file") == -1)
			goto out;
	}
	if (trace != NULL && (t.trace_id = strdup(trace)) == NULL)
		goto oom;
	if (pid != 0) {
		t.has_launcher = true;
		t.launcher_pid = (pid_t)pid;
		if (registry_proc_start_time(t.launcher_pid, &t.launcher_start, NULL) == -1) {
			fprintf(stderr, "agentgatectl task: launcher pid %ld: %s\n", pid,
			    errno == ENOENT ? "no such process" : strerror(errno));
			goto out;
		}
	}
	t.started = time(NULL);
	if (registry_task_check(&t, err, sizeof(err)) == -1) {
		fprintf(stderr, "agentgatectl task: %s\n", err);
		goto out;
	}
	if (registry_task_write(dir, &t) == -1) {
		if (errno == EEXIST)
			fprintf(stderr, "agentgatectl task: task '%s' already exists\n", id);
		else if (errno == EADDRINUSE)
			print_holder(dir, &t);
		else
			fprintf(stderr, "agentgatectl task: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	printf("added task %s\n", id);
	status = CTL_EXIT_OK;
	goto out;
oom:
	fprintf(stderr, "agentgatectl task: out of memory\n");
out:
	registry_task_free(&t);
	return status;
}

static int
task_del(int argc, char **argv, const struct ctl_env *env)
{
	char dir[PATH_MAX];
	int i, status = CTL_EXIT_OK;

	if (argc < 2) {
		task_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (tasks_dir(env, dir, sizeof(dir)) == -1)
		return CTL_EXIT_FAIL;
	for (i = 1; i < argc; i++) {
		if (registry_task_remove(dir, argv[i]) == 0) {
			printf("removed task %s\n", argv[i]);
			continue;
		}
		status = CTL_EXIT_FAIL;
		if (errno == ENOENT)
			fprintf(stderr, "agentgatectl task: no task '%s'\n", argv[i]);
		else if (errno == EINVAL)
			fprintf(stderr, "agentgatectl task: bad task id '%s'\n", argv[i]);
		else
			fprintf(stderr, "agentgatectl task: %s: %s\n", argv[i], strerror(errno));
	}
	return status;
}

static void
print_skipped(void *arg, const char *file, const char *reason)
{
	fprintf(stderr, "agentgatectl task: %s/%s: skipped: %s\n",
	    (const char *)arg, file, reason);
}

static void
join_addrs(const struct reg_task *t, char *buf, size_t size)
{
	char text[AG_ADDR_STRLEN];
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < t->naddrs && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "",
		    addr_format(&t->addrs[i], text, sizeof(text)));
}

static int
list_json(const struct registry *reg)
{
	const struct reg_task *t;
	struct json_buf j;
	size_t i;
	int rc = 0;

	json_init(&j, NULL, 0);
	for (i = 0; (t = registry_task_at(reg, i)) != NULL; i++) {
		json_reset(&j);
		json_obj_begin(&j);
		registry_task_format_members(t, &j);
		json_key(&j, "alive");
		json_boolean(&j, registry_task_alive(t));
		json_obj_end(&j);
		if (json_error(&j) == -1) {
			rc = -1;
			break;
		}
		printf("%.*s\n", (int)j.len, j.data);
	}
	json_free(&j);
	return rc;
}

static void
list_table(const struct registry *reg)
{
	char addrs[REG_ADDR_MAX * (AG_ADDR_STRLEN + 1)], when[32], pid[16];
	const struct reg_task *t;
	int wid = 2, waddr = 9, wpol = 6;
	struct tm tm;
	size_t i;

	for (i = 0; (t = registry_task_at(reg, i)) != NULL; i++) {
		const char *pol = t->policy ? t->policy : t->policy_file;

		join_addrs(t, addrs, sizeof(addrs));
		if ((int)strlen(t->id) > wid)
			wid = (int)strlen(t->id);
		if ((int)strlen(addrs) > waddr)
			waddr = (int)strlen(addrs);
		if ((int)strlen(pol) > wpol)
			wpol = (int)strlen(pol);
	}
	printf("%-*s  %-*s  %-*s  %-20s  %7s  %s\n", wid, "ID", waddr, "ADDRESSES",
	    wpol, "POLICY", "STARTED", "PID", "STATE");
	for (i = 0; (t = registry_task_at(reg, i)) != NULL; i++) {
		join_addrs(t, addrs, sizeof(addrs));
		if (gmtime_r(&t->started, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(when, sizeof(when), "?");
		if (t->has_launcher)
			snprintf(pid, sizeof(pid), "%ld", (long)t->launcher_pid);
		else
			snprintf(pid, sizeof(pid), "-");
		printf("%-*s  %-*s  %-*s  %-20s  %7s  %s\n", wid, t->id, waddr, addrs,
		    wpol, t->policy ? t->policy : t->policy_file, when, pid,
		    registry_task_alive(t) ? "alive" : "stale");
	}
}

static int
task_list(int argc, char **argv, const struct ctl_env *env)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct registry *reg;
	char dir[PATH_MAX];
	bool json = false;
	int c, status = CTL_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			task_usage(stdout);
			return CTL_EXIT_OK;
		default:
			task_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		task_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (tasks_dir(env, dir, sizeof(dir)) == -1)
		return CTL_EXIT_FAIL;
	if ((reg = registry_load(dir, print_skipped, dir)) == NULL) {
		fprintf(stderr, "agentgatectl task: %s: %s\n", dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (json) {
		if (list_json(reg) == -1) {
			fprintf(stderr, "agentgatectl task: out of memory\n");
			status = CTL_EXIT_FAIL;
		}
	} else
		list_table(reg);
	registry_unref(reg);
	return status;
}

/* A pruned task's inline policy (RUN_DIR/policies/ID.rules, written by
 * agentgate-run for --allow/--ask) goes with it, as when the proxy prunes. */
static void
print_pruned(void *arg, const struct reg_task *t)
{
	const struct ctl_env *env = arg;
	char dir[PATH_MAX];
	int n;

	printf("removed task %s (launcher pid %ld is gone)\n", t->id,
	    (long)t->launcher_pid);
	n = snprintf(dir, sizeof(dir), "%s/policies", env->run_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return;
	switch (registry_inline_policy_remove(dir, t)) {
	case 1:
		printf("removed its inline policy %s\n", t->policy_file);
		break;
	case -1:
		fprintf(stderr, "agentgatectl task: %s: %s\n", t->policy_file,
		    strerror(errno));
		break;
	}
}

static int
task_prune(int argc, const struct ctl_env *env)
{
	char dir[PATH_MAX];

	if (argc != 1) {
		task_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (tasks_dir(env, dir, sizeof(dir)) == -1)
		return CTL_EXIT_FAIL;
	if (registry_prune(dir, print_pruned, (void *)env) == -1) {
		fprintf(stderr, "agentgatectl task: %s: %s\n", dir, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

int
cmd_task(int argc, char **argv, const struct ctl_env *env)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL) {
		task_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	/* The subcommand is argv[0] of its own option parsing. */
	argc--;
	argv++;
	optind = 0;
	if (strcmp(sub, "add") == 0)
		return task_add(argc, argv, env);
	if (strcmp(sub, "del") == 0)
		return task_del(argc, argv, env);
	if (strcmp(sub, "list") == 0)
		return task_list(argc, argv, env);
	if (strcmp(sub, "prune") == 0)
		return task_prune(argc, env);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "help") == 0) {
		task_usage(stdout);
		return CTL_EXIT_OK;
	}
	fprintf(stderr, "agentgatectl task: unknown subcommand '%s'\n", sub);
	task_usage(stderr);
	return CTL_EXIT_USAGE;
}
