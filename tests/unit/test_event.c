/*
 * Unit tests for event serialisation: ECS mapping per kind, absent fields,
 * every field's path, hostile wire strings, and the examples of
 * docs/telemetry.md, which must be exactly what the code writes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "event.h"
#include "json.h"

static const struct event_stamp test_stamp = {
	"agentgate-proxy", "gw1", "proxy", 7,
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0
};

static void
set_addr(struct ag_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1)
		a->family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, s, &a->u.v6), 1);
		a->family = AF_INET6;
	}
}

/* Serialise ev with stamp and return the parsed object (and the text). */
static json_object *
line_of(const struct ag_event *ev, const struct event_stamp *stamp,
    struct json_buf *j)
{
	json_object *o;

	json_init(j, NULL, 0);
	assert_int_equal(event_serialize(ev, stamp, j), 0);
	assert_int_equal(event_finish(stamp, j), 0);
	json_raw(j, "", 1);
	o = json_tokener_parse(j->data);
	if (o == NULL)
		fail_msg("not JSON: %s", j->data);
	j->len--;
	return o;
}

/* The value at a dotted path, as JSON text ("\"x\"", "3", ...), or NULL. */
static const char *
path_text(json_object *o, const char *path)
{
	char buf[128], *p, *dot;
	json_object *cur = o;

	snprintf(buf, sizeof(buf), "%s", path);
	/* "@timestamp" has no dots; ECS paths are nested objects. */
	for (p = buf; p != NULL; p = dot) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot++ = '\0';
		if (!json_object_object_get_ex(cur, p, &cur))
			return NULL;
	}
	return json_object_to_json_string_ext(cur, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void
assert_path(json_object *o, const char *path, const char *want)
{
	const char *got = path_text(o, path);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s: want absent, got %s", path, got);
		return;
	}
	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: want %s, got %s", path, want, got ? got : "(absent)");
}

struct map_case {
	enum event_kind		kind;
	enum event_outcome	outcome;
	int64_t			exit_code;
	const char		*action, *category, *type, *ecs;
};

static const struct map_case map_cases[] = {
	{ EVENT_EGRESS, OUTCOME_ALLOWED, -1, "\"egress\"", "[\"network\"]",
	    "[\"connection\",\"allowed\"]", "\"success\"" },
	{ EVENT_EGRESS, OUTCOME_DENIED, -1, "\"egress\"", "[\"network\"]",
	    "[\"connection\",\"denied\"]", "\"failure\"" },
	{ EVENT_EGRESS, OUTCOME_PENDING, -1, "\"egress\"", "[\"network\"]",
	    "[\"connection\"]", "\"unknown\"" },
	{ EVENT_APPROVAL_REQUESTED, OUTCOME_PENDING, -1, "\"approval-requested\"",
	    "[\"network\"]", "[\"info\"]", "\"unknown\"" },
	{ EVENT_APPROVAL_DECIDED, OUTCOME_ALLOWED, -1, "\"approval-decided\"",
	    "[\"network\"]", "[\"allowed\"]", "\"success\"" },
	{ EVENT_APPROVAL_DECIDED, OUTCOME_DENIED, -1, "\"approval-decided\"",
	    "[\"network\"]", "[\"denied\"]", "\"failure\"" },
	{ EVENT_TASK_STARTED, OUTCOME_NONE, -1, "\"task-started\"",
	    "[\"process\"]", "[\"start\"]", "\"success\"" },
	{ EVENT_TASK_ENDED, OUTCOME_NONE, 0, "\"task-ended\"", "[\"process\"]",
	    "[\"end\"]", "\"success\"" },
	{ EVENT_TASK_ENDED, OUTCOME_NONE, 3, "\"task-ended\"", "[\"process\"]",
	    "[\"end\"]", "\"failure\"" },
	{ EVENT_TASK_ENDED, OUTCOME_NONE, -1, "\"task-ended\"", "[\"process\"]",
	    "[\"end\"]", "\"unknown\"" },
	{ EVENT_POLICY_LOADED, OUTCOME_NONE, -1, "\"policy-loaded\"",
	    "[\"configuration\"]", "[\"change\"]", "\"success\"" },
	{ EVENT_POLICY_REJECTED, OUTCOME_NONE, -1, "\"policy-rejected\"",
	    "[\"configuration\"]", "[\"change\"]", "\"failure\"" },
	{ EVENT_DAEMON_STARTED, OUTCOME_NONE, -1, "\"daemon-started\"",
	    "[\"process\"]", "[\"start\"]", "\"success\"" },
	{ EVENT_DAEMON_STOPPED, OUTCOME_NONE, -1, "\"daemon-stopped\"",
	    "[\"process\"]", "[\"end\"]", "\"success\"" },
	{ EVENT_LOG_OPENED, OUTCOME_NONE, -1, "\"log-opened\"", "[\"file\"]",
	    "[\"info\"]", "\"success\"" },
};

static void
test_ecs_mapping(void **state)
{
	struct ag_event ev;
	struct json_buf j;
	json_object *o;
	size_t i;

	for (i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
		const struct map_case *c = &map_cases[i];

		event_init(&ev, c->kind);
		ev.outcome = c->outcome;
		ev.process_exit_code = c->exit_code;
		o = line_of(&ev, &test_stamp, &j);
		assert_path(o, "event.kind", "\"event\"");
		assert_path(o, "event.action", c->action);
		assert_path(o, "event.category", c->category);
		assert_path(o, "event.type", c->type);
		assert_path(o, "event.outcome", c->ecs);
		json_object_put(o);
		json_free(&j);
	}
	/* An explicit ECS outcome wins over the derived one. */
	event_init(&ev, EVENT_EGRESS);
	ev.outcome = OUTCOME_ALLOWED;
	ev.ecs_outcome = ECS_OUTCOME_FAILURE;
	o = line_of(&ev, &test_stamp, &j);
	assert_path(o, "event.outcome", "\"failure\"");
	json_object_put(o);
	json_free(&j);
}

/* Nothing set: only the fields that are always present. */
static void
test_minimal_line(void **state)
{
	static const char want[] =
	    "{\"@timestamp\":\"2026-11-27T20:48:47.000001Z\","
	    "\"event\":{\"kind\":\"event\",\"action\":\"daemon-started\","
	    "\"category\":[\"process\"],\"type\":[\"start\"],\"outcome\":\"success\"},"
	    "\"service\":{\"name\":\"agentgate-proxy\"},\"host\":{\"hostname\":\"gw1\"},"
	    "\"agentgate\":{\"stream\":\"proxy\",\"seq\":7,\"prev_hash\":"
	    "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}}";
	struct ag_event ev;
	struct json_buf j;

	event_init(&ev, EVENT_DAEMON_STARTED);
	ev.ts.tv_sec = 1795812527;	/* 2026-11-27T20:48:47Z */
	ev.ts.tv_nsec = 1999;		/* truncated to microseconds */
	json_init(&j, NULL, 0);
	assert_int_equal(event_serialize(&ev, &test_stamp, &j), 0);
	assert_int_equal(event_finish(&test_stamp, &j), 0);
	if (j.len != strlen(want) || memcmp(j.data, want, j.len) != 0)
		fail_msg("got  %.*s\nwant %s", (int)j.len, j.data, want);
	json_free(&j);
}

static void
test_every_field(void **state)
{
	static const struct event_dns_answer answers[] = {
		{ "198.19.0.10", "A", 300 },
		{ "cdn.example.test", "CNAME", EVENT_ABSENT },
	};
	struct event_stamp stamp = test_stamp;
	struct ag_event ev;
	struct json_buf j;
	json_object *o;

	event_init(&ev, EVENT_EGRESS);
	ev.ts.tv_sec = 1795812527;
	ev.reason = "r";
	ev.duration_ns = 1500000000;
	ev.start.tv_sec = 1795812526;
	ev.end.tv_sec = 1795812527;
	ev.end.tv_nsec = 500000000;
	ev.outcome = OUTCOME_DENIED;
	ev.verdict = VERDICT_DENY;
	ev.task_id = "t1";
	ev.policy = "p";
	ev.rule_file = "/etc/p.rules";
	ev.rule_line = 12;
	ev.rule_text = "deny *.x";
	ev.approval_id = "a1";
	ev.approval_scope = "task";
	ev.approval_decider = "alice";
	set_addr(&ev.requested_ip, "fd00::1");
	ev.requested_port = 8443;
	ev.destination_mismatch = 1;
	set_addr(&ev.src_ip, "198.18.0.2");
	ev.src_port = 40000;
	ev.src_bytes = 10;
	set_addr(&ev.dst_ip, "198.19.0.10");
	ev.dst_port = 443;
	ev.dst_domain = "api.example.test";
	ev.dst_bytes = 20;
	ev.dst_country = "ZZ";
	ev.dst_as_number = 64500;
	ev.dst_as_org = "Org";
	ev.transport = TRANSPORT_TCP;
	ev.protocol = PROTOCOL_TLS;
	ev.tls_server_name = "sni.example.test";
	ev.dns_question_name = "q.example.test";
	ev.dns_question_type = "AAAA";
	ev.dns_answers = answers;
	ev.dns_answers_count = 2;
	ev.http_request_method = "GET";
	ev.url_domain = "host.example.test";
	ev.process_pid = 4242;
	ev.process_name = "curl";
	ev.process_command_line = "curl https://x";
	ev.process_exit_code = 0;
	ev.trace_id = "tr";
	stamp.lost = 5;
	o = line_of(&ev, &stamp, &j);

	assert_path(o, "@timestamp", "\"2026-11-27T20:48:47.000000Z\"");
	assert_path(o, "event.reason", "\"r\"");
	assert_path(o, "event.duration", "1500000000");
	assert_path(o, "event.start", "\"2026-11-27T20:48:46.000000Z\"");
	assert_path(o, "event.end", "\"2026-11-27T20:48:47.500000Z\"");
	assert_path(o, "service.name", "\"agentgate-proxy\"");
	assert_path(o, "host.hostname", "\"gw1\"");
	assert_path(o, "source.ip", "\"198.18.0.2\"");
	assert_path(o, "source.port", "40000");
	assert_path(o, "source.bytes", "10");
	assert_path(o, "destination.ip", "\"198.19.0.10\"");
	assert_path(o, "destination.port", "443");
	assert_path(o, "destination.domain", "\"api.example.test\"");
	assert_path(o, "destination.bytes", "20");
	assert_path(o, "destination.geo.country_iso_code", "\"ZZ\"");
	assert_path(o, "destination.as.number", "64500");
	assert_path(o, "destination.as.organization.name", "\"Org\"");
	assert_path(o, "network.transport", "\"tcp\"");
	assert_path(o, "network.protocol", "\"tls\"");
	assert_path(o, "network.direction", "\"egress\"");
	assert_path(o, "tls.client.server_name", "\"sni.example.test\"");
	assert_path(o, "dns.question.name", "\"q.example.test\"");
	assert_path(o, "dns.question.type", "\"AAAA\"");
	assert_path(o, "dns.answers", "[{\"data\":\"198.19.0.10\",\"type\":\"A\","
	    "\"ttl\":300},{\"data\":\"cdn.example.test\",\"type\":\"CNAME\"}]");
	assert_path(o, "http.request.method", "\"GET\"");
	assert_path(o, "url.domain", "\"host.example.test\"");
	assert_path(o, "process.pid", "4242");
	assert_path(o, "process.name", "\"curl\"");
	assert_path(o, "process.command_line", "\"curl https://x\"");
	assert_path(o, "process.exit_code", "0");
	assert_path(o, "trace.id", "\"tr\"");
	assert_path(o, "agentgate.outcome", "\"denied\"");
	assert_path(o, "agentgate.verdict", "\"deny\"");
	assert_path(o, "agentgate.task.id", "\"t1\"");
	assert_path(o, "agentgate.policy", "\"p\"");
	assert_path(o, "agentgate.rule.file", "\"/etc/p.rules\"");
	assert_path(o, "agentgate.rule.line", "12");
	assert_path(o, "agentgate.rule.text", "\"deny *.x\"");
	assert_path(o, "agentgate.approval.id", "\"a1\"");
	assert_path(o, "agentgate.approval.scope", "\"task\"");
	assert_path(o, "agentgate.approval.decider", "\"alice\"");
	assert_path(o, "agentgate.requested.ip", "\"fd00::1\"");
	assert_path(o, "agentgate.requested.port", "8443");
	assert_path(o, "agentgate.destination_mismatch", "true");
	assert_path(o, "agentgate.log.lost", "5");
	assert_path(o, "agentgate.stream", "\"proxy\"");
	assert_path(o, "agentgate.seq", "7");
	assert_path(o, "agentgate.prev_hash", "\"00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff\"");
	json_object_put(o);
	json_free(&j);
}

/* Absent means absent: no key, no null, no empty object. */
static void
test_absent_fields(void **state)
{
	static const char *const absent[] = {
		"event.reason", "event.duration", "event.start", "source",
		"destination", "network", "tls", "dns", "http", "url", "process",
		"trace", "agentgate.outcome", "agentgate.verdict", "agentgate.task",
		"agentgate.rule", "agentgate.approval", "agentgate.requested",
		"agentgate.destination_mismatch", "agentgate.log",
	};
	struct ag_event ev;
	struct json_buf j;
	json_object *o;
	size_t i;

	event_init(&ev, EVENT_POLICY_LOADED);
	o = line_of(&ev, &test_stamp, &j);
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		assert_path(o, absent[i], NULL);
	assert_null(strstr(j.data, "null"));
	json_object_put(o);
	json_free(&j);

	/* destination_mismatch false is a value, not absence. */
	event_init(&ev, EVENT_EGRESS);
	ev.destination_mismatch = 0;
	o = line_of(&ev, &test_stamp, &j);
	assert_path(o, "agentgate.destination_mismatch", "false");
	assert_path(o, "network.direction", "\"egress\"");
	json_object_put(o);
	json_free(&j);

	event_init(&ev, 99);
	json_init(&j, NULL, 0);
	assert_int_equal(event_serialize(&ev, &test_stamp, &j), -1);
	assert_int_equal(errno, EINVAL);
	json_free(&j);
}

/* Wire strings with NUL, quotes, newlines, invalid UTF-8: one line, and
 * the fields parse back to exactly the escaped-and-replaced text. */
static void
test_hostile_wire_strings(void **state)
{
	static const char sni[] = "a\0b\"c\n{\"event\":1}\xff";
	static const char want_sni[] = "a\0b\"c\n{\"event\":1}\xef\xbf\xbd";
	struct ag_event ev;
	struct json_buf j;
	json_object *o, *v;

	event_init(&ev, EVENT_EGRESS);
	ev.tls_server_name = sni;
	ev.tls_server_name_len = sizeof(sni) - 1;
	ev.dst_domain = "x\r\ny";
	ev.process_command_line = "sh\0-c\0evil";
	ev.process_command_line_len = 10;
	o = line_of(&ev, &test_stamp, &j);
	assert_null(memchr(j.data, '\n', j.len));
	assert_true(json_object_object_get_ex(o, "tls", &v));
	assert_true(json_object_object_get_ex(v, "client", &v));
	assert_true(json_object_object_get_ex(v, "server_name", &v));
	assert_int_equal(json_object_get_string_len(v), sizeof(want_sni) - 1);
	assert_memory_equal(json_object_get_string(v), want_sni, sizeof(want_sni) - 1);
	assert_path(o, "destination.domain", "\"x\\r\\ny\"");
	assert_path(o, "process.command_line", "\"sh\\u0000-c\\u0000evil\"");
	/* One "event" key at the top, the real one. */
	assert_path(o, "event.action", "\"egress\"");
	json_object_put(o);
	json_free(&j);
}

static void
test_time_format(void **state)
{
	char buf[EVENT_TIME_LEN];
	struct timespec ts = { 0, 999999999 };

	assert_string_equal(event_format_time(&ts, buf), "1970-01-01T00:00:00.999999Z");
	ts.tv_sec = 951782400;	/* leap day 2000 */
	ts.tv_nsec = 123456789;
	assert_string_equal(event_format_time(&ts, buf), "2000-02-29T00:00:00.123456Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecs_mapping),
		cmocka_unit_test(test_minimal_line),
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_absent_fields),
		cmocka_unit_test(test_hostile_wire_strings),
		cmocka_unit_test(test_time_format),
	};

	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
