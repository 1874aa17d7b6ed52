/*
 * The approvals files: STATE_DIR/approvals/POLICY.rules, one rule per
 * `forever` decision in the policy language, each preceded by a comment
 * saying who decided, when, which request and why. Written atomically
 * (temp file, fsync, rename, fsync the folder) so a crash leaves the old
 * file or the new one; loaded like any policy, consulted only when the
 * policy's own verdict is ask (docs/approvals.md).
 */
#ifndef AG_APPROVAL_FILE_H
#define AG_APPROVAL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "approval.h"

struct approval_file;	/* one loaded file */

struct approval_file_entry {
	bool		 allow;
	const char	*name, *proto;		/* canonical name, "tcp" */
	uint16_t	 port;
	const char	*decider, *reason;	/* reason may be NULL */
	const char	*id;			/* the request */
	int64_t		 when_ms;		/* CLOCK_REALTIME ms */
};

/* STATE_DIR/approvals/POLICY.rules into buf. 0, or -1 with errno EINVAL
 * (not a valid policy name) or ENAMETOOLONG. */
int approval_file_path(const char *state_dir, const char *policy,
    char *buf, size_t size);

/* The provenance comment and rule for e, each ending in "\n", into buf
 * (what approval_file_append adds). Returns the length, or -1 with errno
 * ENAMETOOLONG (buf too small) or EINVAL. */
int approval_file_format(const struct approval_file_entry *e, char *buf,
    size_t size);

/* Add e to the policy's file, creating the folders and the file as
 * needed. 0, or -1 with errno (the old file is left as it was). */
int approval_file_append(const char *state_dir, const char *policy,
    const struct approval_file_entry *e);

/* Load the policy's file. NULL with errno ENOENT (no file: no approvals),
 * EINVAL (errors, each logged as file:line) or another errno. */
struct approval_file *approval_file_load(const char *state_dir,
    const char *policy);
void approval_file_free(struct approval_file *f);

/* The file's first rule for (name, port, proto): GRANTED (an allow rule)
 * or REFUSED (deny), with the rule and the request id of its comment in
 * out; ASK when no rule matches. */
enum approval_verdict approval_file_match(const struct approval_file *f,
    const char *name, uint16_t port, const char *proto,
    struct approval_check *out);
/* DNS: REFUSED when the first rule covering the name is a deny. */
enum approval_verdict approval_file_match_name(const struct approval_file *f,
    const char *name);

#endif
