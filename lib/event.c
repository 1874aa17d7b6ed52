/*
 * Typed telemetry event -> one nested ECS JSON object. The member order is
 * fixed so that a given event always gives the same bytes: the examples in
 * docs/telemetry.md are checked against this code byte for byte.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "event.h"

static const char *const kind_names[EVENT_KIND_COUNT] = {
	[EVENT_EGRESS] = "egress",
	[EVENT_APPROVAL_REQUESTED] = "approval-requested",
	[EVENT_APPROVAL_DECIDED] = "approval-decided",
	[EVENT_TASK_STARTED] = "task-started",
	[EVENT_TASK_ENDED] = "task-ended",
	[EVENT_POLICY_LOADED] = "policy-loaded",
	[EVENT_POLICY_REJECTED] = "policy-rejected",
	[EVENT_DAEMON_STARTED] = "daemon-started",
	[EVENT_DAEMON_STOPPED] = "daemon-stopped",
	[EVENT_LOG_OPENED] = "log-opened",
};

/* ECS event.category per kind (one category each). */
static const char *const kind_category[EVENT_KIND_COUNT] = {
	[EVENT_EGRESS] = "network",
	[EVENT_APPROVAL_REQUESTED] = "network",
	[EVENT_APPROVAL_DECIDED] = "network",
	[EVENT_TASK_STARTED] = "process",
	[EVENT_TASK_ENDED] = "process",
	[EVENT_POLICY_LOADED] = "configuration",
	[EVENT_POLICY_REJECTED] = "configuration",
	[EVENT_DAEMON_STARTED] = "process",
	[EVENT_DAEMON_STOPPED] = "process",
	[EVENT_LOG_OPENED] = "file",
};

void
event_init(struct ag_event *ev, enum event_kind kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->duration_ns = EVENT_ABSENT;
	ev->rule_line = EVENT_ABSENT;
	ev->requested_port = EVENT_ABSENT;
	ev->destination_mismatch = EVENT_ABSENT;
	ev->src_port = EVENT_ABSENT;
	ev->src_bytes = EVENT_ABSENT;
	ev->dst_port = EVENT_ABSENT;
	ev->dst_bytes = EVENT_ABSENT;
	ev->dst_as_number = EVENT_ABSENT;
	ev->process_pid = EVENT_ABSENT;
	ev->process_exit_code = EVENT_ABSENT;
	ev->attempts_allowed = EVENT_ABSENT;
	ev->attempts_denied = EVENT_ABSENT;
	ev->attempts_pending = EVENT_ABSENT;
}

const char *
event_kind_name(enum event_kind kind)
{
	if ((unsigned int)kind >= EVENT_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

const char *
event_format_time(const struct timespec *ts, char *buf)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	unsigned int us = (unsigned int)((ts->tv_nsec / 1000) % 1000000);
	size_t n;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	/* Years past 9999 do not fit: they come out as an empty date. */
	n = strftime(buf, EVENT_TIME_LEN - 8, "%Y-%m-%dT%H:%M:%S", &tm);
	buf[n++] = '.';
	for (int i = 5; i >= 0; i--, us /= 10)
		buf[n + (size_t)i] = (char)('0' + us % 10);
	n += 6;
	buf[n++] = 'Z';
	buf[n] = '\0';
	return buf;
}

/* ECS event.type: up to two values. */
static void
event_types(const struct ag_event *ev, const char *type[2])
{
	type[0] = type[1] = NULL;
	switch (ev->kind) {
	case EVENT_EGRESS:
		type[0] = "connection";
		if (ev->outcome == OUTCOME_ALLOWED)
			type[1] = "allowed";
		else if (ev->outcome == OUTCOME_DENIED)
			type[1] = "denied";
		break;
	case EVENT_APPROVAL_DECIDED:
		if (ev->outcome == OUTCOME_ALLOWED)
			type[0] = "allowed";
		else if (ev->outcome == OUTCOME_DENIED)
			type[0] = "denied";
		else
			type[0] = "info";
		break;
	case EVENT_TASK_STARTED:
	case EVENT_DAEMON_STARTED:
		type[0] = "start";
		break;
	case EVENT_TASK_ENDED:
	case EVENT_DAEMON_STOPPED:
		type[0] = "end";
		break;
	case EVENT_POLICY_LOADED:
	case EVENT_POLICY_REJECTED:
		type[0] = "change";
		break;
	case EVENT_APPROVAL_REQUESTED:
	case EVENT_LOG_OPENED:
	default:
		type[0] = "info";
		break;
	}
}

static const char *
event_ecs_outcome(const struct ag_event *ev)
{
	switch (ev->ecs_outcome) {
	case ECS_OUTCOME_SUCCESS:
		return "success";
	case ECS_OUTCOME_FAILURE:
		return "failure";
	case ECS_OUTCOME_UNKNOWN:
		return "unknown";
	case ECS_OUTCOME_AUTO:
	default:
		break;
	}
	switch (ev->kind) {
	case EVENT_EGRESS:
	case EVENT_APPROVAL_REQUESTED:
	case EVENT_APPROVAL_DECIDED:
		if (ev->outcome == OUTCOME_ALLOWED)
			return "success";
		if (ev->outcome == OUTCOME_DENIED)
			return "failure";
		return "unknown";
	case EVENT_TASK_ENDED:
		if (ev->process_exit_code == EVENT_ABSENT)
			return "unknown";
		return ev->process_exit_code == 0 ? "success" : "failure";
	case EVENT_POLICY_REJECTED:
		return "failure";
	default:
		return "success";
	}
}

static const char *
event_outcome_name(enum event_outcome o)
{
	switch (o) {
	case OUTCOME_ALLOWED: return "allowed";
	case OUTCOME_DENIED: return "denied";
	case OUTCOME_PENDING: return "pending";
	default: return NULL;
	}
}

static const char *
event_verdict_name(enum event_verdict v)
{
	switch (v) {
	case VERDICT_ALLOW: return "allow";
	case VERDICT_DENY: return "deny";
	case VERDICT_ASK: return "ask";
	default: return NULL;
	}
}

static const char *
event_transport_name(enum event_transport t)
{
	switch (t) {
	case TRANSPORT_TCP: return "tcp";
	case TRANSPORT_UDP: return "udp";
	case TRANSPORT_ICMP: return "icmp";
	default: return NULL;
	}
}

static const char *
event_protocol_name(enum event_protocol p)
{
	switch (p) {
	case PROTOCOL_TLS: return "tls";
	case PROTOCOL_HTTP: return "http";
	case PROTOCOL_DNS: return "dns";
	default: return NULL;
	}
}

static const char *
event_log_reason_name(enum event_log_reason r)
{
	switch (r) {
	case LOG_REASON_START: return "start";
	case LOG_REASON_ROTATE: return "rotate";
	case LOG_REASON_REOPEN: return "reopen";
	default: return NULL;
	}
}

/*
 * Small helpers. Errors in json_buf are sticky, so they return nothing and
 * event_serialize() checks json_error() once at the end.
 */

/* Open object `key` the first time a member of it is written. */
static void
lazy_open(struct json_buf *j, bool *opened, const char *key)
{
	if (*opened)
		return;
	*opened = true;
	json_key(j, key);
	json_obj_begin(j);
}

static void
lazy_close(struct json_buf *j, bool opened)
{
	if (opened)
		json_obj_end(j);
}

static void
put_str(struct json_buf *j, bool *opened, const char *obj, const char *key,
    const char *s, size_t len)
{
	if (s == NULL)
		return;
	if (obj != NULL)
		lazy_open(j, opened, obj);
	json_key(j, key);
	json_str(j, s, len != 0 ? len : strlen(s));
}

static void
put_int(struct json_buf *j, bool *opened, const char *obj, const char *key,
    int64_t v)
{
	if (v == EVENT_ABSENT)
		return;
	if (obj != NULL)
		lazy_open(j, opened, obj);
	json_key(j, key);
	json_int(j, v);
}

static void
put_addr(struct json_buf *j, bool *opened, const char *obj, const char *key,
    const struct ag_addr *a)
{
	char buf[AG_ADDR_STRLEN];

	if (a->family != AF_INET && a->family != AF_INET6)
		return;
	put_str(j, opened, obj, key, addr_format(a, buf, sizeof(buf)), 0);
}

static bool
ts_set(const struct timespec *ts)
{
	return ts->tv_sec != 0 || ts->tv_nsec != 0;
}

static void
put_time(struct json_buf *j, const char *key, const struct timespec *ts)
{
	char buf[EVENT_TIME_LEN];

	if (!ts_set(ts))
		return;
	json_key(j, key);
	json_cstr(j, event_format_time(ts, buf));
}

static void
serialize_event(const struct ag_event *ev, struct json_buf *j)
{
	const char *type[2];

	event_types(ev, type);
	json_key(j, "event");
	json_obj_begin(j);
	json_key(j, "kind");
	json_cstr(j, "event");
	json_key(j, "action");
	json_cstr(j, kind_names[ev->kind]);
	json_key(j, "category");
	json_arr_begin(j);
	json_cstr(j, kind_category[ev->kind]);
	json_arr_end(j);
	json_key(j, "type");
	json_arr_begin(j);
	json_cstr(j, type[0]);
	if (type[1] != NULL)
		json_cstr(j, type[1]);
	json_arr_end(j);
	json_key(j, "outcome");
	json_cstr(j, event_ecs_outcome(ev));
	put_str(j, NULL, NULL, "reason", ev->reason, 0);
	put_int(j, NULL, NULL, "duration", ev->duration_ns);
	put_time(j, "start", &ev->start);
	put_time(j, "end", &ev->end);
	json_obj_end(j);
}

static void
serialize_endpoints(const struct ag_event *ev, struct json_buf *j)
{
	bool src = false, dst = false, sub = false, org = false;

	put_addr(j, &src, "source", "ip", &ev->src_ip);
	put_int(j, &src, "source", "port", ev->src_port);
	put_int(j, &src, "source", "bytes", ev->src_bytes);
	lazy_close(j, src);

	put_addr(j, &dst, "destination", "ip", &ev->dst_ip);
	put_int(j, &dst, "destination", "port", ev->dst_port);
	put_str(j, &dst, "destination", "domain", ev->dst_domain,
	    ev->dst_domain_len);
	put_int(j, &dst, "destination", "bytes", ev->dst_bytes);
	if (ev->dst_country != NULL) {
		lazy_open(j, &dst, "destination");
		put_str(j, &sub, "geo", "country_iso_code", ev->dst_country, 0);
		lazy_close(j, sub);
	}
	if (ev->dst_as_number != EVENT_ABSENT || ev->dst_as_org != NULL) {
		lazy_open(j, &dst, "destination");
		sub = false;
		put_int(j, &sub, "as", "number", ev->dst_as_number);
		if (ev->dst_as_org != NULL) {
			lazy_open(j, &sub, "as");
			put_str(j, &org, "organization", "name", ev->dst_as_org, 0);
			lazy_close(j, org);
		}
		lazy_close(j, sub);
	}
	lazy_close(j, dst);
}

static void
serialize_network(const struct ag_event *ev, struct json_buf *j)
{
	bool net = false, o = false, sub = false;
	size_t i;

	put_str(j, &net, "network", "transport",
	    event_transport_name(ev->transport), 0);
	put_str(j, &net, "network", "protocol",
	    event_protocol_name(ev->protocol), 0);
	if (ev->kind == EVENT_EGRESS)
		put_str(j, &net, "network", "direction", "egress", 0);
	lazy_close(j, net);

	if (ev->tls_server_name != NULL) {
		lazy_open(j, &o, "tls");
		put_str(j, &sub, "client", "server_name", ev->tls_server_name,
		    ev->tls_server_name_len);
		lazy_close(j, sub);
		lazy_close(j, o);
	}

	o = sub = false;
	if (ev->dns_question_name != NULL || ev->dns_question_type != NULL) {
		lazy_open(j, &o, "dns");
		put_str(j, &sub, "question", "name", ev->dns_question_name,
		    ev->dns_question_name_len);
		put_str(j, &sub, "question", "type", ev->dns_question_type, 0);
		lazy_close(j, sub);
	}
	if (ev->dns_answers != NULL && ev->dns_answers_count > 0) {
		lazy_open(j, &o, "dns");
		json_key(j, "answers");
		json_arr_begin(j);
		for (i = 0; i < ev->dns_answers_count; i++) {
			const struct event_dns_answer *a = &ev->dns_answers[i];

			json_obj_begin(j);
			put_str(j, NULL, NULL, "data", a->data, 0);
			put_str(j, NULL, NULL, "type", a->type, 0);
			put_int(j, NULL, NULL, "ttl", a->ttl);
			json_obj_end(j);
		}
		json_arr_end(j);
	}
	lazy_close(j, o);

	o = sub = false;
	if (ev->http_request_method != NULL) {
		lazy_open(j, &o, "http");
		put_str(j, &sub, "request", "method", ev->http_request_method, 0);
		lazy_close(j, sub);
		lazy_close(j, o);
	}
	o = false;
	put_str(j, &o, "url", "domain", ev->url_domain, ev->url_domain_len);
	lazy_close(j, o);
}

static void
serialize_process(const struct ag_event *ev, struct json_buf *j)
{
	bool o = false;

	put_int(j, &o, "process", "pid", ev->process_pid);
	put_str(j, &o, "process", "name", ev->process_name, 0);
	put_str(j, &o, "process", "command_line", ev->process_command_line,
	    ev->process_command_line_len);
	put_int(j, &o, "process", "exit_code", ev->process_exit_code);
	lazy_close(j, o);

	o = false;
	put_str(j, &o, "trace", "id", ev->trace_id, 0);
	lazy_close(j, o);
}

/* The "agentgate" object, left open for event_finish(). */
static void
serialize_agentgate(const struct ag_event *ev, struct json_buf *j)
{
	bool o = false;

	json_key(j, "agentgate");
	json_obj_begin(j);
	put_str(j, NULL, NULL, "outcome", event_outcome_name(ev->outcome), 0);
	put_str(j, NULL, NULL, "verdict", event_verdict_name(ev->verdict), 0);
	put_str(j, &o, "task", "id", ev->task_id, 0);
	lazy_close(j, o);
	o = false;
	put_int(j, &o, "attempts", "allowed", ev->attempts_allowed);
	put_int(j, &o, "attempts", "denied", ev->attempts_denied);
	put_int(j, &o, "attempts", "pending", ev->attempts_pending);
	lazy_close(j, o);
	put_str(j, NULL, NULL, "policy", ev->policy, 0);
	o = false;
	put_str(j, &o, "rule", "file", ev->rule_file, 0);
	put_int(j, &o, "rule", "line", ev->rule_line);
	put_str(j, &o, "rule", "text", ev->rule_text, 0);
	lazy_close(j, o);
	o = false;
	put_str(j, &o, "approval", "id", ev->approval_id, 0);
	put_str(j, &o, "approval", "scope", ev->approval_scope, 0);
	put_str(j, &o, "approval", "decider", ev->approval_decider, 0);
	lazy_close(j, o);
	o = false;
	put_addr(j, &o, "requested", "ip", &ev->requested_ip);
	put_int(j, &o, "requested", "port", ev->requested_port);
	lazy_close(j, o);
	if (ev->destination_mismatch != EVENT_ABSENT) {
		json_key(j, "destination_mismatch");
		json_boolean(j, ev->destination_mismatch != 0);
	}
	o = false;
	put_str(j, &o, "log", "previous_file", ev->log_previous_file, 0);
	put_str(j, &o, "log", "reason", event_log_reason_name(ev->log_reason), 0);
	if (ev->log_repaired) {
		lazy_open(j, &o, "log");
		json_key(j, "repaired");
		json_boolean(j, true);
	}
	if (ev->log_lost > 0) {
		lazy_open(j, &o, "log");
		json_key(j, "lost");
		json_uint(j, ev->log_lost);
	}
	lazy_close(j, o);
}

int
event_serialize(const struct ag_event *ev, const struct event_stamp *stamp,
    struct json_buf *j)
{
	struct timespec now;
	bool o = false;

	if ((unsigned int)ev->kind >= EVENT_KIND_COUNT) {
		errno = EINVAL;
		return -1;
	}
	json_obj_begin(j);
	if (ts_set(&ev->ts))
		put_time(j, "@timestamp", &ev->ts);
	else {
		clock_gettime(CLOCK_REALTIME, &now);
		put_time(j, "@timestamp", &now);
	}
	serialize_event(ev, j);
	put_str(j, &o, "service", "name", stamp->service, 0);
	lazy_close(j, o);
	o = false;
	put_str(j, &o, "host", "hostname", stamp->hostname, 0);
	lazy_close(j, o);
	serialize_endpoints(ev, j);
	serialize_network(ev, j);
	serialize_process(ev, j);
	serialize_agentgate(ev, j);
	return json_error(j);
}

int
event_finish(const struct event_stamp *stamp, struct json_buf *j)
{
	if (stamp->lost > 0) {
		json_key(j, "log");
		json_obj_begin(j);
		json_key(j, "lost");
		json_uint(j, stamp->lost);
		json_obj_end(j);
	}
	json_key(j, "stream");
	json_cstr(j, stamp->stream);
	json_key(j, "seq");
	json_uint(j, stamp->seq);
	json_key(j, "prev_hash");
	json_cstr(j, stamp->prev_hash);
	json_obj_end(j);	/* agentgate */
	json_obj_end(j);	/* the line */
	return json_error(j);
}
