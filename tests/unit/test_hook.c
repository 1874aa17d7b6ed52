/*
 * Unit tests of the approval hook's output parser (proxy/hook.h): what a
 * hook may print and what each line means, as a table. Everything that is
 * not a well-formed allow or deny must come out as defer or garbage.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hook.h"

#define H	(3600ULL * 1000)

struct hook_case {
	const char		*out;
	size_t			 len;	/* 0: strlen(out) */
	enum hook_verdict	 verdict;
	enum approval_scope	 scope;
	uint64_t		 ms;
	const char		*reason;
};

static const struct hook_case cases[] = {
	/* the three answers */
	{ "allow once\n", 0, HOOK_ALLOW, APPROVAL_ONCE, 0, "" },
	{ "allow once", 0, HOOK_ALLOW, APPROVAL_ONCE, 0, "" },
	{ "allow task\n", 0, HOOK_ALLOW, APPROVAL_TASK, 0, "" },
	{ "allow forever\n", 0, HOOK_ALLOW, APPROVAL_FOREVER, 0, "" },
	{ "allow 8h\n", 0, HOOK_ALLOW, APPROVAL_DURATION, 8 * H, "" },
	{ "allow 90s\n", 0, HOOK_ALLOW, APPROVAL_DURATION, 90000, "" },
	{ "  allow\t 8h \t\n", 0, HOOK_ALLOW, APPROVAL_DURATION, 8 * H, "" },
	{ "deny once\n", 0, HOOK_DENY, APPROVAL_ONCE, 0, "" },
	{ "deny task not on the company list\n", 0, HOOK_DENY, APPROVAL_TASK, 0,
	    "not on the company list" },
	{ "deny 1d   typo-squat of  github.com  \n", 0, HOOK_DENY,
	    APPROVAL_DURATION, 24 * H, "typo-squat of  github.com" },
	{ "deny forever caf\xc3\xa9\n", 0, HOOK_DENY, APPROVAL_FOREVER, 0,
	    "caf\xc3\xa9" },
	{ "defer\n", 0, HOOK_DEFER, 0, 0, "" },
	{ "defer", 0, HOOK_DEFER, 0, 0, "" },
	{ " defer \n", 0, HOOK_DEFER, 0, 0, "" },
	/* garbage: never allow */
	{ "", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow sometimes\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow 0\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow 0s\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow -1h\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow once please\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "ALLOW once\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "Allow once\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allowed once\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allo once\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "yes\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow once\nallow once\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "defer\nallow once\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow once\n\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow once\r\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow once\0", 11, HOOK_GARBAGE, 0, 0, "" },
	{ "allow\0once", 10, HOOK_GARBAGE, 0, 0, "" },
	{ "deny once evil\x1b[2J\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "deny\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "deny nope because\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "defer now\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow once-ish\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow oncex\n", 0, HOOK_GARBAGE, 0, 0, "" },
	{ "allow onc\n", 0, HOOK_GARBAGE, 0, 0, "" },
};

static void
test_table(void **state)
{
	struct hook_answer a;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hook_case *c = &cases[i];
		enum hook_verdict v;

		len = c->len != 0 ? c->len : strlen(c->out);
		v = hook_parse(c->out, len, &a);
		if (v != c->verdict)
			fail_msg("case %zu \"%s\": verdict %d, want %d", i,
			    c->out, (int)v, (int)c->verdict);
		assert_int_equal(a.verdict, v);
		if (v == HOOK_GARBAGE) {
			assert_non_null(a.why);
			continue;
		}
		if (v == HOOK_DEFER)
			continue;
		assert_int_equal(a.scope, c->scope);
		if (c->scope == APPROVAL_DURATION)
			assert_int_equal(a.duration_ms, c->ms);
		assert_string_equal(a.reason, c->reason);
	}
}

/* Bounds: the reason and the whole output. */
static void
test_bounds(void **state)
{
	char buf[HOOK_OUTPUT_MAX + 16];
	struct hook_answer a;
	size_t n;

	(void)state;
	/* a reason of HOOK_REASON_MAX - 1 bytes fits, one more does not */
	n = (size_t)snprintf(buf, sizeof(buf), "deny once ");
	memset(buf + n, 'r', HOOK_REASON_MAX - 1);
	buf[n + HOOK_REASON_MAX - 1] = '\n';
	assert_int_equal(hook_parse(buf, n + HOOK_REASON_MAX, &a), HOOK_DENY);
	assert_int_equal(strlen(a.reason), HOOK_REASON_MAX - 1);
	memset(buf + n, 'r', HOOK_REASON_MAX);
	buf[n + HOOK_REASON_MAX] = '\n';
	assert_int_equal(hook_parse(buf, n + HOOK_REASON_MAX + 1, &a),
	    HOOK_GARBAGE);

	/* output past HOOK_OUTPUT_MAX is garbage even if it starts well */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "allow once", 10);
	buf[HOOK_OUTPUT_MAX] = '\n';
	assert_int_equal(hook_parse(buf, HOOK_OUTPUT_MAX + 1, &a), HOOK_GARBAGE);
	assert_int_equal(hook_parse(buf, HOOK_OUTPUT_MAX, &a), HOOK_ALLOW);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests_name("hook", tests, NULL, NULL);
}
