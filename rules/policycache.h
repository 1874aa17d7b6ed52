/*
 * The compiled policies that registered tasks name, keyed by policy name or
 * policy file, shared by the daemons that judge tasks (agentgate-proxy,
 * agentgate-nfq). Loads and failed loads are reported as policy-loaded /
 * policy-rejected events through the caller's emitter.
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

/* Load, now, the policies of a snapshot's tasks that are not cached yet. */
void policy_cache_prime(struct policy_cache *c, const struct registry *reg,
    uint64_t now_ms);

/* Reload every cached policy (SIGHUP); a failed load keeps the one before. */
void policy_cache_reload(struct policy_cache *c);

#endif
