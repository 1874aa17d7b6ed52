/*
 * The approval hook: an executable the admin trusts, run once per new
 * approval request with the request in its environment, whose one line of
 * output allows, denies or defers to a human. Anything unexpected defers.
 */
#ifndef AG_HOOK_H
#define AG_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "approval.h"

struct ag_conf;
struct loop;

/* Bounds: bytes of output read, concurrent hooks, requests waiting for a
 * free slot (more than that are left to humans, with a log line). */
#define HOOK_OUTPUT_MAX		1024
#define HOOK_RUNNING_MAX	8
#define HOOK_QUEUE_MAX		64
#define HOOK_REASON_MAX		256

enum hook_verdict {
	HOOK_ALLOW = 0,		/* "allow SCOPE" */
	HOOK_DENY,		/* "deny SCOPE [REASON...]" */
	HOOK_DEFER,		/* "defer" */
	HOOK_GARBAGE,		/* anything else: treated as defer */
};

struct hook_answer {
	enum hook_verdict	 verdict;
	enum approval_scope	 scope;		/* allow and deny */
	uint64_t		 duration_ms;	/* APPROVAL_DURATION */
	char			 reason[HOOK_REASON_MAX]; /* deny; "" when none */
	const char		*why;		/* HOOK_GARBAGE: what was wrong */
};

/*
 * Parse a hook's whole standard output: exactly one line (a final "\n" is
 * optional), words separated by one or more spaces or tabs, keywords in
 * lower case. A reason is the rest of the line, printable bytes only (UTF-8
 * allowed), at most HOOK_REASON_MAX - 1 bytes. Returns the verdict also
 * stored in out->verdict; never reads anything but buf.
 */
enum hook_verdict hook_parse(const char *buf, size_t len, struct hook_answer *out);

struct hook;

/*
 * Run c->approval_hook (fork + execve, no shell) for every request the
 * store reports as new, at most HOOK_RUNNING_MAX at once, each killed with
 * its process group after approval-hook-timeout. Decisions go through
 * approvals_decide() with decider "hook PATH". Returns NULL with errno 0
 * when no hook is configured, or NULL with errno on failure.
 */
struct hook *hook_new(struct loop *l, const struct ag_conf *c,
    struct approvals *a);
/* Kill the hooks still running, reap them, stop observing the store. */
void hook_free(struct hook *h);

#endif
