/*
 * What the queue threads judge with: the task registry snapshot and the
 * compiled policies its tasks name, shared by every thread and replaced
 * whole on reload (inotify, SIGHUP). A reload bumps a generation number so
 * that each thread forgets the verdicts it cached under the old state.
 */
#ifndef AG_NFQ_STATE_H
#define AG_NFQ_STATE_H

#include <stdint.h>

#include "policy.h"
#include "registry.h"

struct ag_conf;
struct telemetry;
struct nfq_state;

/*
 * Load the registry from RUN_DIR/tasks and the policy of every task
 * (named ones from conf->policy_dir). policy-loaded / policy-rejected
 * events go to `t` (may be NULL). Returns NULL with errno.
 */
struct nfq_state *nfq_state_new(const struct ag_conf *conf,
    struct telemetry *t);
void nfq_state_free(struct nfq_state *st);

/* RUN_DIR/tasks. */
const char *nfq_state_tasks_dir(const struct nfq_state *st);

/*
 * The registry folder's inotify watch, owned by the state so that a lookup
 * that misses can drain it first: the descriptor to poll, and the drain
 * when it is readable (1: the registry and policies were reloaded and the
 * generation bumped; 0: nothing changed; -1 with errno). Thread-safe.
 */
int nfq_state_registry_fd(const struct nfq_state *st);
int nfq_state_registry_drain(struct nfq_state *st);

/* Re-read the registry and every cached policy (a broken file keeps the
 * policy loaded before and emits policy-rejected). Thread-safe. */
void nfq_state_reload(struct nfq_state *st);

/*
 * Policy files changed (rules/policycache.h, the same watch as the proxy's):
 * the inotify descriptor to poll, the drain when it is readable (1: call
 * settle in POLICY_CACHE_SETTLE_MS), and the settle (1: changes still
 * arriving, call again after the same delay; 0: what changed is reloaded
 * and the generation bumped). Thread-safe.
 */
int nfq_state_policy_fd(struct nfq_state *st);
int nfq_state_policy_drain(struct nfq_state *st);
int nfq_state_policy_settle(struct nfq_state *st);

/* Bumped by every reload. */
uint64_t nfq_state_generation(struct nfq_state *st);

/*
 * The task holding src and its policy. Returns 0 with *reg (one reference:
 * registry_unref when done; *task lives as long as it) and *pol (one
 * reference, or NULL when the task's policy cannot be loaded); or -1 with
 * errno ENOENT when no task holds src (*reg and *pol NULL).
 */
int nfq_state_lookup(struct nfq_state *st, const struct ag_addr *src,
    struct registry **reg, const struct reg_task **task, struct policy **pol);

#endif
