/*
 * The approval store (the broker of `ask` rules): one pending request per
 * (task, name, port, proto) holding the connections that wait for it, the
 * decisions and how long each lasts (once, task, duration, forever), and
 * the observers (control socket, hook) told of every change. One per proxy,
 * used from the loop's thread only. The contract with the control socket
 * and the hook is the first half of this header: it does not change
 * without saying so here and in the commit message.
 */
#ifndef AG_APPROVAL_H
#define AG_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_conf;
struct loop;

struct approvals;	/* the store, one per proxy */

enum approval_state {
	APPROVAL_PENDING = 0,
	APPROVAL_ALLOWED,
	APPROVAL_DENIED,
	APPROVAL_EXPIRED,
};

enum approval_scope {
	APPROVAL_ONCE = 0,	/* the held connections only */
	APPROVAL_TASK,		/* until the task leaves the registry */
	APPROVAL_DURATION,	/* that policy, across tasks, for duration_ms */
	APPROVAL_FOREVER,	/* the policy's approvals file */
};

struct approval_decision {
	bool			 allow;
	enum approval_scope	 scope;
	uint64_t		 duration_ms;	/* APPROVAL_DURATION */
	const char		*decider;	/* "alice (uid 1000)", "hook /path/to/hook" */
	const char		*reason;	/* may be NULL */
};

struct approval_info {			/* valid only during the call */
	const char	*id, *task_id, *policy, *trace_id, *name, *proto; /* proto "tcp" */
	uint16_t	 port;
	enum approval_state state;
	int64_t		 created_ms;	/* CLOCK_REALTIME ms */
	unsigned	 nconns;	/* held connections now */
	/* decided only: */
	enum approval_scope scope; uint64_t duration_ms;
	const char	*decider, *reason; int64_t decided_ms;
};

/* "once" | "task" | "forever" | a duration ("90s", "8h", lib/units). 0 or -1 EINVAL. */
int approval_scope_parse(const char *s, enum approval_scope *scope, uint64_t *ms);
const char *approval_scope_name(enum approval_scope s);   /* "once", ... "duration" */
const char *approval_state_name(enum approval_state s);   /* "pending", ... */

/* The first decision wins. 0, or -1 with errno ENOENT (no such id) or
 * EALREADY (already decided or expired); EINVAL for a decision without a
 * decider or a duration scope of 0 ms; EIO when a forever decision could
 * not be written to its file (the decision still stands for the held
 * connections, as once). */
int approvals_decide(struct approvals *a, const char *id, const struct approval_decision *d);

/* Every request still known (pending first, then recent decided ones). */
void approvals_foreach(struct approvals *a,
    void (*fn)(void *arg, const struct approval_info *), void *arg);

enum approval_event { APPROVAL_EV_REQUESTED, APPROVAL_EV_DECIDED, APPROVAL_EV_EXPIRED };
typedef void (*approval_observer_fn)(void *arg, enum approval_event ev,
    const struct approval_info *info);

/* Observers (the control socket's watchers, the hook runner) are called
 * from the loop after the store changed: REQUESTED from the next loop
 * round (never from inside approvals_hold(); without a loop, at once),
 * DECIDED and EXPIRED synchronously once the store is consistent again.
 * An observer may call approvals_decide(). At most 64; 0 or -1 ENOMEM. */
int approvals_observe(struct approvals *a, approval_observer_fn fn, void *arg);
void approvals_unobserve(struct approvals *a, approval_observer_fn fn, void *arg);

/* ---- The proxy's side (not part of the contract with S8). ---- */

#define APPROVAL_ID_LEN		8	/* hex digits of a request id */

/*
 * Make the store. Settings come from c (approval-timeout,
 * approval-max-pending, state-dir for the approvals files); l carries the
 * expiry timer and the clock (loop_now_ms). l may be NULL (unit tests):
 * then nothing expires until approvals_tick() is called, and the clock is
 * the one approvals_set_clock() gives. The approvals files of the policies
 * are loaded lazily, the first time a policy is judged. NULL with errno.
 */
struct approvals *approvals_new(struct loop *l, const struct ag_conf *c);
/* SIGTERM: every pending request becomes expired (observers told) and its
 * held connections are woken with APPROVAL_OUT_EXPIRED, so they close. */
void approvals_shutdown(struct approvals *a);
/* Free the store; holds still registered are dropped without waking. */
void approvals_free(struct approvals *a);

/* Monotonic milliseconds for tests; replaces loop_now_ms(). */
void approvals_set_clock(struct approvals *a, uint64_t (*now_ms)(void *), void *arg);
/* Expire what is due by the store's clock: pending requests past
 * approval-timeout, durations that elapsed. The store's own timer calls it. */
void approvals_tick(struct approvals *a);

/* What an ask verdict becomes after the decisions in scope. */
enum approval_verdict {
	APPROVAL_ASK = 0,	/* no decision in scope: hold and ask */
	APPROVAL_GRANTED,	/* allowed by an approval */
	APPROVAL_REFUSED,	/* denied by an approval */
};

struct approval_check {
	enum approval_verdict	 verdict;
	char			 id[APPROVAL_ID_LEN + 1];	/* deciding request; "" unknown */
	/* A forever decision: the approvals file's rule (valid until the
	 * next call into the store); NULL otherwise. */
	const char		*rule_file;
	unsigned		 rule_line;
	const char		*rule_text;
};

/*
 * The decisions in scope for (task, policy, name, port, proto), checked in
 * the order task, duration, forever. Call it only when the policy's own
 * verdict is ask: an approval never overrides a deny rule.
 */
void approvals_check(struct approvals *a, const char *task_id,
    const char *policy, const char *name, uint16_t port, const char *proto,
    struct approval_check *out);

/* For DNS, which knows no port: REFUSED when a denial for the name is in
 * scope (any port), else ASK (answer from the synthetic pools). */
enum approval_verdict approvals_check_name(struct approvals *a,
    const char *task_id, const char *policy, const char *name);

/* What a held connection is told once, through its wake function. */
enum approval_outcome {
	APPROVAL_OUT_ALLOW = 0,
	APPROVAL_OUT_DENY,
	APPROVAL_OUT_EXPIRED,	/* timeout, or the store shutting down */
};

struct approval_hold;	/* one held connection's place in a request */
/* Called once; the hold is gone when it is called. id is the request's. */
typedef void (*approval_wake_fn)(void *arg, enum approval_outcome out,
    const char *id, const char *reason);

struct approval_request_key {
	const char	*task_id, *policy, *trace_id, *name, *proto;
	uint16_t	 port;
};

/*
 * Hold a connection for (task, name, port, proto): join the pending
 * request or create one (*created true, and the observers have been told).
 * Returns the hold; or NULL with errno EDQUOT (the task has
 * approval-max-pending requests already: deny and log), EINVAL (a field is
 * missing or too long) or ENOMEM.
 */
struct approval_hold *approvals_hold(struct approvals *a,
    const struct approval_request_key *k, approval_wake_fn fn, void *arg,
    bool *created);
/* The held connection ended first; the request stays pending. */
void approvals_release(struct approvals *a, struct approval_hold *h);
/* The request id of a hold ("a1b2c3d4"). */
const char *approval_hold_id(const struct approval_hold *h);

/* The task left the registry: its task-scoped decisions end. The proxy
 * calls it for each task id that vanished on a reload; `alive` says
 * whether a task id is still registered. */
void approvals_tasks_gone(struct approvals *a,
    bool (*alive)(void *arg, const char *task_id), void *arg);

/* SIGHUP: read the approvals files again (an admin may have removed a
 * rule to revoke it). */
void approvals_reload(struct approvals *a);

/* The synthetic-address map the DNS side answers from. */
struct approval_pool *approvals_pool(struct approvals *a);

#endif
