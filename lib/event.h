/*
 * One telemetry event as a typed struct that daemons fill field by field,
 * and its serialisation to the nested ECS JSON object documented in
 * docs/telemetry.md. Every field starts "absent" and absent fields are left
 * out of the line (never null).
 */
#ifndef AG_EVENT_H
#define AG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "json.h"

/* Integer fields hold this when absent. */
#define EVENT_ABSENT	(-1)

/* event.action */
enum event_kind {
	EVENT_EGRESS = 0,		/* one per DNS query, TCP connection, non-TCP flow */
	EVENT_APPROVAL_REQUESTED,
	EVENT_APPROVAL_DECIDED,
	EVENT_TASK_STARTED,
	EVENT_TASK_ENDED,
	EVENT_POLICY_LOADED,
	EVENT_POLICY_REJECTED,
	EVENT_DAEMON_STARTED,
	EVENT_DAEMON_STOPPED,
	EVENT_LOG_OPENED,		/* written by the telemetry writer itself */
	EVENT_KIND_COUNT
};

/* agentgate.outcome: what happened to the attempt. */
enum event_outcome {
	OUTCOME_NONE = 0,		/* absent */
	OUTCOME_ALLOWED,
	OUTCOME_DENIED,
	OUTCOME_PENDING,
};

/* agentgate.verdict: what the policy said. */
enum event_verdict {
	VERDICT_NONE = 0,		/* absent */
	VERDICT_ALLOW,
	VERDICT_DENY,
	VERDICT_ASK,
};

/* event.outcome (ECS). AUTO derives it from the kind and agentgate.outcome
 * (allowed -> success, denied -> failure, pending -> unknown, ...). */
enum event_ecs_outcome {
	ECS_OUTCOME_AUTO = 0,
	ECS_OUTCOME_SUCCESS,
	ECS_OUTCOME_FAILURE,
	ECS_OUTCOME_UNKNOWN,
};

enum event_transport { TRANSPORT_NONE = 0, TRANSPORT_TCP, TRANSPORT_UDP, TRANSPORT_ICMP };
enum event_protocol { PROTOCOL_NONE = 0, PROTOCOL_TLS, PROTOCOL_HTTP, PROTOCOL_DNS };

/* agentgate.log.reason, for log-opened. */
enum event_log_reason { LOG_REASON_NONE = 0, LOG_REASON_START, LOG_REASON_ROTATE, LOG_REASON_REOPEN };

/* One element of dns.answers. */
struct event_dns_answer {
	const char	*data;		/* address or name, as text */
	const char	*type;		/* "A", "AAAA", "CNAME", ... */
	int64_t		 ttl;		/* EVENT_ABSENT or seconds */
};

/*
 * Strings are borrowed: they must live until telemetry_emit() returns (the
 * writer copies what it keeps). NULL means absent. Strings that come off
 * the wire have a length beside them so that they may hold any byte,
 * NUL included; a length of 0 means "use strlen".
 */
struct ag_event {
	enum event_kind		 kind;
	struct timespec		 ts;		/* @timestamp; zero = when emitted */

	/* event.* */
	enum event_ecs_outcome	 ecs_outcome;
	const char		*reason;	/* event.reason */
	int64_t			 duration_ns;	/* event.duration */
	struct timespec		 start, end;	/* event.start/end; zero = absent */

	/* agentgate.* */
	enum event_outcome	 outcome;
	enum event_verdict	 verdict;
	const char		*task_id;	/* agentgate.task.id */
	const char		*policy;	/* agentgate.policy */
	const char		*rule_file;	/* agentgate.rule.file/line/text */
	int64_t			 rule_line;
	const char		*rule_text;
	const char		*approval_id;	/* agentgate.approval.* */
	const char		*approval_scope;
	const char		*approval_decider;
	struct ag_addr		 requested_ip;	/* agentgate.requested.ip; family 0 = absent */
	int32_t			 requested_port;
	int			 destination_mismatch;	/* -1 absent, 0, 1 */
	const char		*log_previous_file;	/* agentgate.log.* */
	enum event_log_reason	 log_reason;
	bool			 log_repaired;	/* written only when true */
	uint64_t		 log_lost;	/* written only when > 0 */

	/* source.* / destination.* */
	struct ag_addr		 src_ip;	/* family 0 = absent */
	int32_t			 src_port;
	int64_t			 src_bytes;
	struct ag_addr		 dst_ip;
	int32_t			 dst_port;
	const char		*dst_domain;
	size_t			 dst_domain_len;
	int64_t			 dst_bytes;
	const char		*dst_country;	/* destination.geo.country_iso_code */
	int64_t			 dst_as_number;	/* destination.as.number */
	const char		*dst_as_org;	/* destination.as.organization.name */

	/* network.* (network.direction is "egress" on every egress event) */
	enum event_transport	 transport;
	enum event_protocol	 protocol;

	const char		*tls_server_name;	/* tls.client.server_name */
	size_t			 tls_server_name_len;
	const char		*dns_question_name;
	size_t			 dns_question_name_len;
	const char		*dns_question_type;	/* "A", "AAAA", ... */
	const struct event_dns_answer *dns_answers;
	size_t			 dns_answers_count;
	const char		*http_request_method;
	const char		*url_domain;		/* from the HTTP Host */
	size_t			 url_domain_len;

	int64_t			 process_pid;
	const char		*process_name;
	const char		*process_command_line;
	size_t			 process_command_line_len;
	int64_t			 process_exit_code;

	/* task-ended: the task's egress events by agentgate.outcome
	 * (agentgate.attempts.*); EVENT_ABSENT = not known */
	int64_t			 attempts_allowed;
	int64_t			 attempts_denied;
	int64_t			 attempts_pending;

	const char		*trace_id;
};

/* What the writer adds to every line. */
struct event_stamp {
	const char	*service;	/* service.name, e.g. "agentgate-proxy" */
	const char	*hostname;	/* host.hostname */
	const char	*stream;	/* agentgate.stream */
	uint64_t	 seq;		/* agentgate.seq */
	const char	*prev_hash;	/* 64 lowercase hex */
	uint64_t	 lost;		/* agentgate.log.lost when > 0 */
};

/* Every field absent, kind set. */
void	event_init(struct ag_event *ev, enum event_kind kind);

/* "egress", "approval-requested", ...; NULL for an unknown kind. */
const char *event_kind_name(enum event_kind kind);

/*
 * The line is built in two steps so that the writer can keep a body while
 * the disk is failing and chain it only when it is really written:
 * event_serialize() appends everything except the chain fields and leaves
 * the "agentgate" object open (it is the last member); event_finish()
 * appends agentgate.log.lost (when stamp->lost > 0, which the caller must
 * not combine with an event that has its own agentgate.log fields: put it
 * in ev->log_lost instead), agentgate.stream/seq/prev_hash and closes the
 * line (no '\n'). stamp->ts of zero in ev uses now.
 * Both return 0, or -1 with errno (ENOMEM, or EINVAL for an unknown kind).
 */
int	event_serialize(const struct ag_event *ev, const struct event_stamp *stamp,
	    struct json_buf *out);
int	event_finish(const struct event_stamp *stamp, struct json_buf *out);

/* RFC 3339 UTC with microseconds ("2026-11-27T20:48:47.123456Z") into buf
 * of at least EVENT_TIME_LEN bytes. Returns buf. */
#define EVENT_TIME_LEN	28
const char *event_format_time(const struct timespec *ts, char *buf);

#endif
