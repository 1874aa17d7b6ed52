/*
 * The compiled policies that registered tasks name, keyed by policy name or
 * policy file, shared by the daemons that judge tasks (agentgate-proxy,
 * agentgate-nfq), and an inotify watch on the folders their files live in.
 * Loads and failed loads are reported as policy-loaded / policy-rejected
 * events through the caller's emitter.
 */
#ifndef AG_POLICYCACHE_H
#define AG_POLICYCACHE_H

#include <stdint.h>

#include "event.h"
#include "policy.h"
#include "registry.h"

/* A policy that never loaded is tried again on use at most this often, so a
 * task with a broken or missing file cannot flood the log and telemetry;
 * policy_cache_reload() retries at once. */
#define POLICY_CACHE_RETRY_MS	5000

struct policy_cache;

typedef void (*policy_cache_emit_fn)(void *arg, const struct ag_event *ev);

/* Named policies are found as POLICY_DIR/NAME.rules. `emit` may be NULL.
 * Returns a cache, or NULL with errno ENOMEM. */
struct policy_cache *policy_cache_new(const char *policy_dir,
    policy_cache_emit_fn emit, void *arg);
void policy_cache_free(struct policy_cache *c);

/*
 * The policy task `t` names, with one reference for the caller; NULL with
 * errno EINVAL when it never loaded (the caller denies), ENOMEM, or EINVAL
 * for a task that names none. Loaded on first use; `now_ms` (monotonic)
 * paces retries of a policy that never loaded. Not locked: call it from one
 * thread or under the caller's lock.
 */
struct policy *policy_cache_get(struct policy_cache *c,
    const struct reg_task *t, uint64_t now_ms);

/*
 * Load, now, the policies of a snapshot's tasks that are not cached yet, and
 * drop the policies no task of the snapshot names any more (a launcher's
 * inline policy outlives its task only in the references still held).
 */
void policy_cache_prime(struct policy_cache *c, const struct registry *reg,
    uint64_t now_ms);

/* Reload every cached policy (SIGHUP); a failed load keeps the one before. */
void policy_cache_reload(struct policy_cache *c);

/*
 * Reload on file change. policy_cache_watch_open() makes an inotify
 * descriptor (non-blocking, close-on-exec, owned by the cache) on the policy
 * folder; every load then watches the folders of the policy's files: the
 * file a task names and every file a rule of it comes from (includes). Returns
 * the descriptor, or -1 with errno.
 *
 * policy_cache_watch_drain() reads every pending event and marks the cached
 * policies a changed file belongs to (write closed, moved in or out,
 * created, deleted, attributes; a lost queue or a folder gone marks all it
 * may concern). Returns 1 when it marked something, 0 when nothing pending
 * concerned a cached policy, -1 on a read error.
 *
 * Debounce: an editor's save is a burst of events (temp file, rename,
 * chmod). Marked policies are reloaded by policy_cache_watch_settle(), which
 * the caller runs POLICY_CACHE_SETTLE_MS after a drain that returned 1 (a
 * loop timer, the loop goes on serving): it returns 1 while drains marked
 * something since its last call (the burst goes on: call it again after
 * the same delay), else reloads every marked policy like SIGHUP would (a
 * broken file keeps the policy before) and returns 0.
 */
#define POLICY_CACHE_SETTLE_MS	20
int policy_cache_watch_open(struct policy_cache *c);
int policy_cache_watch_drain(struct policy_cache *c);
int policy_cache_watch_settle(struct policy_cache *c);

#endif
