/*
 * Unit tests of the control protocol's pure parts (proxy/control.h): the
 * request lines the server accepts or refuses with which error, and the
 * JSON it writes for a request, compared with text written by hand.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control.h"

struct req_case {
	const char		*line;
	size_t			 len;	/* 0: strlen(line) */
	int			 rc;
	enum control_cmd	 cmd;
	const char		*id;
	enum approval_scope	 scope;
	uint64_t		 ms;
	const char		*reason;
	const char		*error;	/* rc -1 */
};

static const struct req_case cases[] = {
	{ "{\"cmd\":\"list\"}", 0, 0, CONTROL_LIST, "", APPROVAL_ONCE, 0, "", NULL },
	{ " { \"cmd\" : \"watch\" } \r", 0, 0, CONTROL_WATCH, "", APPROVAL_ONCE, 0, "", NULL },
	{ "{\"cmd\":\"approve\",\"id\":\"a1b2c3d4\"}", 0, 0, CONTROL_APPROVE,
	    "a1b2c3d4", APPROVAL_ONCE, 0, "", NULL },
	{ "{\"cmd\":\"approve\",\"id\":\"a1b2c3d4\",\"scope\":\"8h\"}", 0, 0,
	    CONTROL_APPROVE, "a1b2c3d4", APPROVAL_DURATION, 8 * 3600000ULL, "", NULL },
	{ "{\"id\":\"a1\",\"scope\":\"forever\",\"cmd\":\"approve\"}", 0, 0,
	    CONTROL_APPROVE, "a1", APPROVAL_FOREVER, 0, "", NULL },
	{ "{\"cmd\":\"deny\",\"id\":\"ff00\",\"scope\":\"task\",\"reason\":\"not needed\"}",
	    0, 0, CONTROL_DENY, "ff00", APPROVAL_TASK, 0, "not needed", NULL },
	{ "{\"cmd\":\"deny\",\"id\":\"ff00\",\"reason\":\"caf\\u00e9\"}", 0, 0,
	    CONTROL_DENY, "ff00", APPROVAL_ONCE, 0, "caf\xc3\xa9", NULL },
	/* refused */
	{ "", 0, -1, 0, NULL, 0, 0, NULL, "bad request: not a JSON object" },
	{ "list", 0, -1, 0, NULL, 0, 0, NULL, "bad request: not a JSON object" },
	{ "{\"cmd\":\"list\"", 0, -1, 0, NULL, 0, 0, NULL, "bad request: not a JSON object" },
	{ "[\"list\"]", 0, -1, 0, NULL, 0, 0, NULL, "bad request: not a JSON object" },
	{ "\"list\"", 0, -1, 0, NULL, 0, 0, NULL, "bad request: not a JSON object" },
	{ "{\"cmd\":\"list\"}{}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: not a JSON object" },
	{ "{\"cmd\":\"list\"} x", 0, -1, 0, NULL, 0, 0, NULL, "bad request: not a JSON object" },
	{ "{\"cmd\":\"list\"}\0junk", 19, -1, 0, NULL, 0, 0, NULL, "bad request: bytes after the object" },
	{ "{}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: no cmd" },
	{ "{\"cmd\":\"lis\"}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: unknown cmd" },
	{ "{\"cmd\":\"LIST\"}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: unknown cmd" },
	{ "{\"cmd\":1}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: unknown cmd" },
	{ "{\"cmd\":\"list\",\"id\":\"a1\"}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: unknown member" },
	{ "{\"cmd\":\"list\",\"x\":1}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: unknown member" },
	{ "{\"cmd\":\"approve\"}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: no id" },
	{ "{\"cmd\":\"approve\",\"id\":\"\"}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: bad id" },
	{ "{\"cmd\":\"approve\",\"id\":\"../x\"}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: bad id" },
	{ "{\"cmd\":\"approve\",\"id\":7}", 0, -1, 0, NULL, 0, 0, NULL, "bad request: bad id" },
	{ "{\"cmd\":\"approve\",\"id\":\"a1\",\"scope\":\"always\"}", 0, -1, 0, NULL, 0, 0, NULL, "bad scope" },
	{ "{\"cmd\":\"approve\",\"id\":\"a1\",\"scope\":\"0s\"}", 0, -1, 0, NULL, 0, 0, NULL, "bad scope" },
	{ "{\"cmd\":\"approve\",\"id\":\"a1\",\"scope\":8}", 0, -1, 0, NULL, 0, 0, NULL, "bad scope" },
	{ "{\"cmd\":\"deny\",\"id\":\"a1\",\"reason\":\"two\\nlines\"}", 0, -1, 0, NULL, 0, 0, NULL,
	    "bad request: bad reason (a string of printable characters, at most 511 bytes)" },
	{ "{\"cmd\":\"deny\",\"id\":\"a1\",\"reason\":\"nul\\u0000\"}", 0, -1, 0, NULL, 0, 0, NULL,
	    "bad request: bad reason (a string of printable characters, at most 511 bytes)" },
	{ "{\"cmd\":{\"cmd\":{\"cmd\":{\"cmd\":{\"cmd\":\"list\"}}}}}", 0, -1, 0, NULL, 0, 0, NULL,
	    "bad request: not a JSON object" },
};

static void
test_requests(void **state)
{
	struct control_request req;
	size_t i, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct req_case *c = &cases[i];

		len = c->len != 0 ? c->len : strlen(c->line);
		rc = control_request_parse(c->line, len, &req);
		if (rc != c->rc)
			fail_msg("case %zu '%s': rc %d (%s), want %d", i, c->line,
			    rc, rc == -1 ? req.error : "", c->rc);
		if (rc == -1) {
			assert_string_equal(req.error, c->error);
			continue;
		}
		assert_int_equal(req.cmd, c->cmd);
		assert_string_equal(req.id, c->id);
		assert_int_equal(req.scope, c->scope);
		if (c->scope == APPROVAL_DURATION)
			assert_int_equal(req.duration_ms, c->ms);
		assert_string_equal(req.reason, c->reason);
	}
}

static void
test_line_bounds(void **state)
{
	char line[CONTROL_LINE_MAX + 2];
	struct control_request req;
	size_t n;

	(void)state;
	/* a reason one byte past its bound is refused, the line stays valid */
	n = (size_t)snprintf(line, sizeof(line), "{\"cmd\":\"deny\",\"id\":\"a\",\"reason\":\"");
	memset(line + n, 'x', CONTROL_REASON_MAX);
	memcpy(line + n + CONTROL_REASON_MAX, "\"}", 2);
	assert_int_equal(control_request_parse(line, n + CONTROL_REASON_MAX + 2,
	    &req), -1);
	memcpy(line + n + CONTROL_REASON_MAX - 1, "\"}", 2);
	assert_int_equal(control_request_parse(line, n + CONTROL_REASON_MAX + 1,
	    &req), 0);
	assert_int_equal(strlen(req.reason), CONTROL_REASON_MAX - 1);

	memset(line, ' ', sizeof(line));
	memcpy(line, "{\"cmd\":\"list\"}", 14);
	assert_int_equal(control_request_parse(line, CONTROL_LINE_MAX, &req), 0);
	assert_int_equal(control_request_parse(line, CONTROL_LINE_MAX + 1, &req), -1);
	assert_string_equal(req.error, "bad request: line too long");
}

static void
test_format(void **state)
{
	struct approval_info info;
	struct json_buf j;

	(void)state;
	memset(&info, 0, sizeof(info));
	info.id = "a1b2c3d4";
	info.task_id = "t1";
	info.policy = "ci";
	info.trace_id = NULL;
	info.name = "ask.test";
	info.proto = "tcp";
	info.port = 443;
	info.state = APPROVAL_PENDING;
	info.created_ms = 1795830601123LL;	/* 2026-11-28T01:50:01.123Z */
	info.nconns = 3;
	json_init(&j, NULL, 0);
	control_format_info(&j, NULL, &info);
	assert_int_equal(json_error(&j), 0);
	assert_int_equal(j.len, strlen(
	    "{\"id\":\"a1b2c3d4\",\"task\":\"t1\",\"policy\":\"ci\",\"trace_id\":\"\","
	    "\"name\":\"ask.test\",\"port\":443,\"proto\":\"tcp\",\"state\":\"pending\","
	    "\"created\":\"2026-11-28T01:50:01.123Z\",\"connections\":3}"));
	assert_memory_equal(j.data,
	    "{\"id\":\"a1b2c3d4\",\"task\":\"t1\",\"policy\":\"ci\",\"trace_id\":\"\","
	    "\"name\":\"ask.test\",\"port\":443,\"proto\":\"tcp\",\"state\":\"pending\","
	    "\"created\":\"2026-11-28T01:50:01.123Z\",\"connections\":3}", j.len);

	json_reset(&j);
	info.state = APPROVAL_DENIED;
	info.scope = APPROVAL_DURATION;
	info.duration_ms = 7200000;
	info.decider = "alice (uid 1000)";
	info.reason = "no \"thanks\"";
	info.decided_ms = 1795830661000LL;
	info.nconns = 0;
	control_format_info(&j, "decided", &info);
	assert_int_equal(json_error(&j), 0);
#define DENIED "{\"event\":\"decided\",\"id\":\"a1b2c3d4\",\"task\":\"t1\"," \
	"\"policy\":\"ci\",\"trace_id\":\"\",\"name\":\"ask.test\",\"port\":443," \
	"\"proto\":\"tcp\",\"state\":\"denied\",\"created\":\"2026-11-28T01:50:01.123Z\"," \
	"\"connections\":0,\"scope\":\"duration\",\"duration_ms\":7200000," \
	"\"decider\":\"alice (uid 1000)\",\"reason\":\"no \\\"thanks\\\"\"," \
	"\"decided\":\"2026-11-28T01:51:01.000Z\"}"
	assert_int_equal(j.len, strlen(DENIED));
	assert_memory_equal(j.data, DENIED, j.len);

	json_reset(&j);
	control_format_reply(&j, NULL);
	assert_int_equal(j.len, strlen("{\"ok\":true}"));
	assert_memory_equal(j.data, "{\"ok\":true}", j.len);
	json_reset(&j);
	control_format_reply(&j, "already decided");
	assert_int_equal(j.len, strlen("{\"ok\":false,\"error\":\"already decided\"}"));
	assert_memory_equal(j.data, "{\"ok\":false,\"error\":\"already decided\"}", j.len);
	json_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_line_bounds),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
