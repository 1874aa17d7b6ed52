/*
 * The control socket: a Unix stream socket where agentgatectl (root or the
 * control group, known from SO_PEERCRED) lists, watches and decides
 * approval requests, one JSON object per line each way (docs/approvals.md).
 */
#ifndef AG_CONTROL_H
#define AG_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "approval.h"
#include "json.h"

struct ag_conf;
struct loop;

/* Bounds: one request line, clients at once, watchers among them, bytes
 * queued for one slow client before it is dropped. */
#define CONTROL_LINE_MAX	4096
#define CONTROL_CLIENTS_MAX	32
#define CONTROL_WATCHERS_MAX	16
#define CONTROL_OUTQ_MAX	(1024 * 1024)

enum control_cmd {
	CONTROL_LIST = 0,
	CONTROL_WATCH,
	CONTROL_APPROVE,
	CONTROL_DENY,
};

#define CONTROL_ID_MAX		64
#define CONTROL_SCOPE_MAX	32
#define CONTROL_REASON_MAX	512

struct control_request {
	enum control_cmd	cmd;
	char			id[CONTROL_ID_MAX];		/* approve, deny */
	enum approval_scope	scope;				/* default once */
	uint64_t		duration_ms;
	char			reason[CONTROL_REASON_MAX];	/* deny; "" none */
	const char		*error;	/* after -1: the answer's error text */
};

/*
 * Parse one request line (without its "\n"): a JSON object with "cmd" and
 * the members that command takes; unknown members are refused. Returns 0,
 * or -1 with req->error set to what the client is answered ("bad scope",
 * "bad request: ...").
 */
int control_request_parse(const char *line, size_t len,
    struct control_request *req);

/* Append one request as a JSON object (no newline): the list's item, with
 * "event" first when event is not NULL (watch). */
void control_format_info(struct json_buf *j, const char *event,
    const struct approval_info *info);
/* Append {"ok":true} or {"ok":false,"error":ERROR}, no newline. */
void control_format_reply(struct json_buf *j, const char *error);

struct control;

/*
 * Bind c->control_socket (mode 0660, group c->control_group; 0600 when the
 * group does not exist) before privileges drop, and serve it on l. Returns
 * NULL with errno on failure.
 */
struct control *control_new(struct loop *l, const struct ag_conf *c,
    struct approvals *a);
/* Close every client and the socket, remove its path (when still allowed). */
void control_free(struct control *ctl);

#endif
