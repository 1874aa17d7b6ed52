/*
 * The task registry: one JSON file per task under RUN_DIR/tasks/ saying which
 * source addresses belong to which task (and so to which policy). The folder
 * is the truth; daemons keep immutable snapshots of it. Format: docs/registry.md.
 */
#ifndef AG_REGISTRY_H
#define AG_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "addr.h"

struct json_buf;

#define REG_ID_MAX		64		/* bytes of a task id */
#define REG_ADDR_MAX		4		/* addresses per task */
#define REG_FILE_MAX		(64 * 1024)	/* bytes of a task file */
#define REG_POLICY_NAME_MAX	64		/* as POLICY_NAME_MAX in rules/policy.h */

/*
 * One task. Strings are heap copies the task owns (NULL when absent);
 * registry_task_free() releases them. Exactly one of policy and policy_file
 * is set in a valid task.
 */
struct reg_task {
	char		 id[REG_ID_MAX + 1];
	struct ag_addr	 addrs[REG_ADDR_MAX];	/* canonical: mapped IPv6 is IPv4 */
	size_t		 naddrs;		/* 1..REG_ADDR_MAX */
	char		*policy;		/* a named policy */
	char		*policy_file;		/* an absolute path */
	char		*trace_id;
	char		*user;
	char		**argv;			/* argc strings */
	size_t		 argc;
	char		*cwd;
	time_t		 started;		/* UTC seconds */
	bool		 has_launcher;
	pid_t		 launcher_pid;
	uint64_t	 launcher_start;	/* field 22 of /proc/PID/stat */
};

/* Names: a task id is [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. A policy name follows
 * the same rule and never contains "..": the rule of policy_name_valid() in
 * rules/policy.h, which lib/ cannot link. */
bool registry_id_valid(const char *id);
bool registry_policy_name_valid(const char *name);

void registry_task_init(struct reg_task *t);
void registry_task_free(struct reg_task *t);

/*
 * Parse one task file's bytes (no I/O). Unknown keys are ignored, a known
 * key of the wrong type is an error. Returns 0, or -1 with errno EINVAL and
 * a one-line reason in err (or ENOMEM). On error `t` holds nothing to free.
 */
int registry_task_parse(const char *json, size_t len, struct reg_task *t,
    char *err, size_t errlen);

/* Check a task built in memory against the same rules as the parser.
 * Returns 0, or -1 with errno EINVAL and a reason in err. */
int registry_task_check(const struct reg_task *t, char *err, size_t errlen);

/* The task as a JSON object, or only its members (to add fields around
 * them). Returns 0, or -1 with errno ENOMEM. */
int registry_task_format(const struct reg_task *t, struct json_buf *j);
int registry_task_format_members(const struct reg_task *t, struct json_buf *j);

/*
 * Register a task: DIR (and missing parents, 0755) is created, the file is
 * written to DIR/.ID.json.tmp, synced and renamed to DIR/ID.json, then DIR
 * is synced. Under an exclusive flock on DIR/.lock, so that two writers
 * cannot both take one address. Returns 0, or -1 with errno:
 *   EINVAL      the task is invalid (registry_task_check)
 *   EEXIST      DIR/ID.json exists
 *   EADDRINUSE  another valid task file holds one of the addresses
 *   other       the I/O error
 */
int registry_task_write(const char *dir, const struct reg_task *t);

/* Remove DIR/ID.json. Returns 0, or -1 with errno ENOENT (absent), EINVAL
 * (bad id) or the I/O error. */
int registry_task_remove(const char *dir, const char *id);

/* Read and parse DIR/ID.json; the id inside must be ID. Returns 0, or -1
 * with errno ENOENT, EFBIG (over REG_FILE_MAX), EINVAL (reason in err),
 * or the I/O error. */
int registry_task_read(const char *dir, const char *id, struct reg_task *t,
    char *err, size_t errlen);

/*
 * Snapshots for daemons: every DIR/ID.json (names starting with '.' are
 * skipped silently) parsed into an immutable, reference-counted table
 * indexed by address. A file that cannot be used is skipped and reported
 * through errfn(arg, file name, reason); when two files claim an address,
 * the one whose id sorts first keeps it and the other is skipped whole.
 * A missing DIR is an empty registry. Returns a snapshot holding one
 * reference, or NULL with errno (ENOMEM, or opening DIR failed).
 */
typedef void (*registry_error_fn)(void *arg, const char *file,
    const char *reason);
struct registry;

struct registry *registry_load(const char *dir, registry_error_fn errfn,
    void *arg);
/* Atomic: any thread may take and drop references. */
struct registry *registry_ref(struct registry *reg);
void registry_unref(struct registry *reg);

/* The task holding `addr` (mapped IPv6 is looked up as IPv4), or NULL.
 * The task lives as long as the caller's reference to the snapshot. */
const struct reg_task *registry_lookup(const struct registry *reg,
    const struct ag_addr *addr);
/* Tasks in id order: index 0 .. registry_count() - 1; NULL past the end. */
size_t registry_count(const struct registry *reg);
const struct reg_task *registry_task_at(const struct registry *reg, size_t i);

/*
 * Change notification: an inotify watch (non-blocking, close-on-exec) on
 * DIR, created if missing, and on its parent, so that DIR removed and made
 * again (or moved away and back) is watched again. registry_watch_drain()
 * reads every pending event and returns 1 when a task file may have changed
 * (or the queue overflowed, or DIR went away or came back), 0 when nothing
 * relevant happened (temp files, the lock), -1 on a read error. On 1 a
 * daemon reloads the snapshot and swaps its pointer: while DIR is missing
 * that is the empty registry, so every source is "no task" (fail closed).
 * registry_watch_open() returns NULL with errno; the parent must exist.
 */
struct registry_watch;
struct registry_watch *registry_watch_open(const char *dir);
int registry_watch_fd(const struct registry_watch *w);
int registry_watch_drain(struct registry_watch *w);
/* Whether DIR itself is watched now (false between its removal and its
 * re-creation). */
bool registry_watch_armed(const struct registry_watch *w);
void registry_watch_close(struct registry_watch *w);

/*
 * Whether the task's launcher still runs: its pid exists, is no zombie, and
 * its start time matches, so a reused pid does not count. Tasks without
 * launcher information are alive. A pid that exists but whose /proc entry
 * cannot be read (hidepid) counts as alive: never removed on a guess.
 */
bool registry_task_alive(const struct reg_task *t);

/* Start time (field 22, clock ticks after boot) and state (field 3) from
 * the text of /proc/PID/stat; no I/O. Returns 0, or -1 with errno EINVAL. */
int registry_stat_parse(const char *buf, size_t len, uint64_t *start_time,
    char *state);
/* The same read from /proc/PID/stat. Returns 0, or -1 with errno (ENOENT
 * or ESRCH: no such process). */
int registry_proc_start_time(pid_t pid, uint64_t *start_time, char *state);

/*
 * Remove every task whose launcher is gone, under the writers' lock so a
 * new task that reuses an id is never the one removed. cb (may be NULL) is
 * called with each removed task. Returns the number removed, or -1 with
 * errno.
 */
int registry_prune(const char *dir,
    void (*cb)(void *arg, const struct reg_task *t), void *arg);

/*
 * A launcher's inline policy is POLICIES_DIR/ID.rules (agentgate-run writes
 * --allow/--ask there: RUN_DIR/policies). Remove it when t->policy_file is
 * that file (its folder is POLICIES_DIR by device and inode, its name
 * ID.rules); a policy file a task merely names is never touched. Returns 1
 * when removed, 0 when t has no inline policy or it is gone already, -1
 * with errno.
 */
int registry_inline_policy_remove(const char *policies_dir,
    const struct reg_task *t);

#endif
