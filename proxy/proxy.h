/*
 * The agentgate-proxy context: settings, loop, resolver, telemetry writer,
 * the task registry snapshot and the policies tasks name. One per process,
 * made by main.c and passed to every part (TCP side, DNS forwarder); the
 * judging helpers here are what both sides decide with.
 */
#ifndef AG_PROXY_H
#define AG_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "event.h"
#include "policy.h"
#include "policycache.h"
#include "registry.h"

struct ag_conf;
struct approvals;
struct loop;
struct resolver;
struct telemetry;
struct geoip;
struct loop_timer;

#define PROXY_SERVICE	"agentgate-proxy"
#define PROXY_STREAM	"proxy"
/* Addresses of the gateway's own interfaces kept for the rebinding rule. */
#define PROXY_SELF_MAX	64

/*
 * Fields are read by the parts of the daemon; only proxy.c and main.c
 * write them. `reg` is replaced whole on reload (the old snapshot lives on
 * while anything holds a reference).
 */
struct proxy {
	const struct ag_conf	*conf;
	struct loop		*loop;
	struct resolver		*resolver;
	struct telemetry	*telemetry;
	struct geoip		*geoip;		/* NULL: no enrichment */
	struct registry		*reg;		/* current snapshot, one reference */
	struct registry_watch	*reg_watch;	/* NULL if none */
	struct policy_cache	*policies;	/* the policies tasks name */
	struct loop_timer	*settle;	/* policy files changed: reload */
	struct loop_timer	*prune;		/* next prune of dead launchers */
	bool			 prune_denied;	/* EACCES said once */
	struct ag_addr		 self[PROXY_SELF_MAX];	/* gateway's addresses */
	size_t			 nself;
	uint32_t		 nconns;	/* TCP connections open */
	bool			 stopping;	/* SIGTERM: no new connections */
	void			*tcp;		/* struct conn_set (conn.c) */
	void			*dns;		/* struct dnsfwd, when K's part is in */
	struct approvals	*approvals;	/* NULL: ask is denied */
};

/*
 * Make the context: registry snapshot from RUN_DIR/tasks, its inotify watch
 * and the policy files' watch (on p->loop), the policies of every
 * registered task, the gateway's own addresses (getifaddrs), and the timer
 * that prunes tasks whose launcher is gone (PROXY_PRUNE_MS, and after every
 * registry change). conf, loop, resolver and telemetry are the caller's and
 * set before. Returns 0, or -1 with errno.
 */
#define PROXY_PRUNE_MS	5000
int proxy_init(struct proxy *p, const struct ag_conf *c, struct loop *l,
    struct resolver *res, struct telemetry *t);
/* Release the snapshot, policies and watch (not conf/loop/resolver/telemetry). */
void proxy_fini(struct proxy *p);

/*
 * The task and policy for a source address. Returns 0 with *task (valid
 * until control returns to the loop, since a reload may replace the
 * snapshot: copy what you keep, e.g. the id) and *pol holding one
 * reference (policy_unref when done); or -1 with errno ENOENT (no task
 * has this address) or EINVAL (the task's policy cannot be loaded; *task
 * is still set so the event can name it, *pol is NULL).
 */
int proxy_task_for(struct proxy *p, const struct ag_addr *src,
    const struct reg_task **task, struct policy **pol);

/* Re-read the registry snapshot and reload every cached policy (a broken
 * file keeps the old policy, logs file:line errors and emits a
 * policy-rejected event). SIGHUP and registry changes call this. */
void proxy_reload(struct proxy *p);

/* Whether a is one of the gateway's own addresses. */
bool proxy_is_self(const struct proxy *p, const struct ag_addr *a);

/*
 * The rebinding rule for one resolved address of an allowed name: usable
 * when public, or when an address rule of pol allows it for proto/port;
 * never when it is one of the gateway's own addresses.
 */
bool proxy_answer_usable(const struct proxy *p, const struct policy *pol,
    const struct ag_addr *a, enum policy_proto proto, uint16_t port);

/*
 * Fill the judging fields of an event from a verdict: agentgate.verdict,
 * outcome (allow -> allowed, else denied), policy name, rule file/line/text
 * (absent for the default deny), task id and trace id. Strings are
 * borrowed from task and pol.
 */
void proxy_event_verdict(struct ag_event *ev, const struct reg_task *task,
    const struct policy *pol, const struct policy_verdict *v);

/* Emit an event on the proxy's stream; a lost event is logged. */
void proxy_emit(struct proxy *p, const struct ag_event *ev);

#endif
