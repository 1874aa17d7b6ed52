/*
 * agentgate-run's text: the inline policy rules made from --allow / --ask
 * targets (and the ones refused), and the format of generated task ids.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "policytext.h"
#include "registry.h"
#include "taskid.h"

static void
test_rules(void **state)
{
	static const struct {
		const char	*action, *target, *rule;
	} cases[] = {
		{ "allow", "allowed.test", "allow allowed.test\n" },
		{ "allow", "allowed.test:8443", "allow allowed.test port 8443\n" },
		{ "ask", "*.github.com", "ask *.github.com\n" },
		{ "ask", "*.github.com:443", "ask *.github.com port 443\n" },
		{ "allow", "198.19.0.2:7", "allow 198.19.0.2 port 7\n" },
		{ "allow", "198.19.0.0/24", "allow 198.19.0.0/24\n" },
		{ "allow", "fd00:a9:ff::2", "allow fd00:a9:ff::2\n" },
		{ "allow", "[fd00:a9:ff::2]:443", "allow [fd00:a9:ff::2] port 443\n" },
		{ "allow", "[fd00:a9:ff::2]", "allow [fd00:a9:ff::2]\n" },
		{ "allow", "x.test:65535", "allow x.test port 65535\n" },
	};
	char buf[256];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = 0;
		buf[0] = '\0';
		assert_int_equal(policytext_add(buf, sizeof(buf), &len,
		    cases[i].action, cases[i].target), 0);
		assert_string_equal(buf, cases[i].rule);
		assert_int_equal(len, strlen(cases[i].rule));
	}
}

static void
test_refused(void **state)
{
	static const char *bad[] = {
		"", ":443", "a.test:", "a.test:0", "a.test:65536", "a.test:08",
		"a.test:44x", "a.test:-1", "a.test port 22", "a.test\tx",
		"a.test#x", "\"a.test\"", "a.test\n", "[fd00::1", "[fd00::1]x",
		"[fd00::1]:", "[]:80", "a.\x7ftest",
	};
	char buf[64];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = 0;
		buf[0] = '\0';
		errno = 0;
		assert_int_equal(policytext_add(buf, sizeof(buf), &len, "allow",
		    bad[i]), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(len, 0);
		assert_string_equal(buf, "");
	}
}

static void
test_appends_and_full(void **state)
{
	char buf[48];
	size_t len = 0;
	const char *want = "allow a.test\nask b.test port 443\n";

	(void)state;
	buf[0] = '\0';
	assert_int_equal(policytext_add(buf, sizeof(buf), &len, "allow", "a.test"), 0);
	assert_int_equal(policytext_add(buf, sizeof(buf), &len, "ask", "b.test:443"), 0);
	assert_string_equal(buf, want);
	/* 34 bytes used; this rule needs 22 more: refused, buffer unchanged. */
	assert_int_equal(policytext_add(buf, sizeof(buf), &len, "allow",
	    "ccccccccccccccc"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
}

/* What the rules mean: the parser reads them as intended. */
static void
test_rules_parse(void **state)
{
	char buf[256];
	size_t len = 0;
	struct policy *p;
	struct policy_verdict v;

	(void)state;
	buf[0] = '\0';
	assert_int_equal(policytext_add(buf, sizeof(buf), &len, "allow", "allowed.test"), 0);
	assert_int_equal(policytext_add(buf, sizeof(buf), &len, "ask", "*.wild.test:8443"), 0);
	p = policy_load_buffer("inline", "t", buf, len, NULL, NULL, NULL);
	assert_non_null(p);
	assert_int_equal(policy_rule_count(p), 2);
	v = policy_match_name(p, "allowed.test", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_ALLOW);
	v = policy_match_name(p, "allowed.test", POLICY_PROTO_TCP, 22);
	assert_int_equal(v.action, POLICY_DENY);
	v = policy_match_name(p, "a.wild.test", POLICY_PROTO_TCP, 8443);
	assert_int_equal(v.action, POLICY_ASK);
	v = policy_match_name(p, "a.wild.test", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_DENY);
	policy_unref(p);
}

static void
test_taskid(void **state)
{
	static const struct {
		uint8_t		 rnd[TASKID_RANDOM];
		const char	*id;
	} cases[] = {
		{ { 0, 0, 0, 0, 0, 0 }, "run-000000000000" },
		{ { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab }, "run-0123456789ab" },
		{ { 0xff, 0xfe, 0x10, 0x0f, 0xa0, 0x5c }, "run-fffe100fa05c" },
	};
	char buf[TASKID_LEN + 1], other[TASKID_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		taskid_format(cases[i].rnd, buf);
		assert_string_equal(buf, cases[i].id);
		assert_true(registry_id_valid(buf));
	}
	assert_int_equal(taskid_generate(buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 16);
	assert_memory_equal(buf, "run-", 4);
	assert_int_equal(strspn(buf + 4, "0123456789abcdef"), 12);
	assert_int_equal(taskid_generate(other, sizeof(other)), 0);
	assert_string_not_equal(buf, other);
	assert_int_equal(taskid_generate(buf, TASKID_LEN), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_appends_and_full),
		cmocka_unit_test(test_rules_parse),
		cmocka_unit_test(test_taskid),
	};

	return cmocka_run_group_tests_name("launchtext", tests, NULL, NULL);
}
