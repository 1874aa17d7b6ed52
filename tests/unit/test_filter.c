/*
 * Unit tests for the `agentgatectl log` filters: time arguments, domain
 * patterns on a label boundary, CIDR and port, the raw-line pre-match,
 * and filter_match() on parsed records.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "filter.h"
#include "logread.h"

/* 2026-11-27T20:48:47Z, computed with `date -u -d ... +%s`. */
#define T_2026	1795812527LL

static void
test_rfc3339(void **state)
{
	static const struct {
		const char	*in;
		int		 ok;
		ag_usec		 want;
	} cases[] = {
		{ "2026-11-27T20:48:47Z", 1, T_2026 * 1000000 },
		{ "2026-11-27T20:48:47.123456Z", 1, T_2026 * 1000000 + 123456 },
		{ "2026-11-27T20:48:47.1Z", 1, T_2026 * 1000000 + 100000 },
		{ "2026-11-27T20:48:47.1234567Z", 1, T_2026 * 1000000 + 123456 },
		{ "2026-11-27t20:48:47z", 1, T_2026 * 1000000 },
		{ "2026-11-27 20:48:47Z", 1, T_2026 * 1000000 },
		{ "2026-11-27T21:48:47+01:00", 1, T_2026 * 1000000 },
		{ "2026-11-27T15:18:47-05:30", 1, T_2026 * 1000000 },
		{ "1970-01-01T00:00:00Z", 1, 0 },
		{ "2024-02-29T00:00:00Z", 1, 1709164800LL * 1000000 },
		{ "2025-02-29T00:00:00Z", 0, 0 },	/* not a leap year */
		{ "2026-13-01T00:00:00Z", 0, 0 },
		{ "2026-11-31T00:00:00Z", 0, 0 },
		{ "2026-11-27T24:00:00Z", 0, 0 },
		{ "2026-11-27T20:48:47", 0, 0 },	/* no zone */
		{ "2026-11-27T20:48:47.Z", 0, 0 },
		{ "2026-11-27T20:48:47+0100", 0, 0 },
		{ "2026-11-27T20:48:47Zjunk", 0, 0 },
		{ "", 0, 0 },
	};
	size_t i;
	ag_usec t;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = -1;
		int r = time_parse_rfc3339(cases[i].in, strlen(cases[i].in), &t);
		if (cases[i].ok) {
			assert_int_equal(r, 0);
			assert_int_equal(t, cases[i].want);
		} else {
			assert_int_equal(r, -1);
			assert_int_equal(errno, EINVAL);
		}
	}
}

static void
test_relative(void **state)
{
	static const struct {
		const char	*in;
		int		 ok;
		int64_t		 ago;	/* seconds */
	} cases[] = {
		{ "45s", 1, 45 }, { "90m", 1, 5400 }, { "2h", 1, 7200 },
		{ "3d", 1, 259200 }, { "1w", 1, 604800 }, { "0s", 1, 0 },
		{ "m", 0, 0 }, { "5", 0, 0 }, { "5y", 0, 0 }, { "-5m", 0, 0 },
		{ "5 m", 0, 0 }, { "1.5h", 0, 0 }, { "5mm", 0, 0 },
		{ "99999999999999999999s", 0, 0 },
	};
	ag_usec now = T_2026 * 1000000, t;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = time_parse_arg(cases[i].in, now, &t);
		if (cases[i].ok) {
			assert_int_equal(r, 0);
			assert_int_equal(t, now - cases[i].ago * 1000000);
		} else
			assert_int_equal(r, -1);
	}
	/* RFC 3339 is accepted too. */
	assert_int_equal(time_parse_arg("1970-01-01T00:01:00Z", now, &t), 0);
	assert_int_equal(t, 60000000);
}

static void
test_format(void **state)
{
	char buf[32];

	assert_string_equal(time_format_ms(T_2026 * 1000000 + 123456, buf,
	    sizeof(buf)), "2026-11-27T20:48:47.123Z");
	assert_string_equal(time_format_ms(0, buf, sizeof(buf)),
	    "1970-01-01T00:00:00.000Z");
	assert_string_equal(time_format_ms(951782400LL * 1000000, buf,
	    sizeof(buf)), "2000-02-29T00:00:00.000Z");
}

static void
test_domain(void **state)
{
	static const struct {
		const char	*pattern;
		const char	*name;
		bool		 match;
	} cases[] = {
		{ "*.example.test", "a.example.test", true },
		{ "*.example.test", "a.b.example.test", true },
		{ "*.example.test", "example.test", false },
		{ "*.example.test", "notexample.test", false },
		{ "*.example.test", "a.notexample.test", false },
		{ "*.example.test", "A.EXAMPLE.TEST.", true },
		{ "*.EXAMPLE.test", "x.example.test", true },
		{ "*.example.test", "example.test.evil", false },
		{ "example.test", "example.test", true },
		{ "example.test", "Example.Test.", true },
		{ "example.test", "a.example.test", false },
		{ "example.test", "example.tes", false },
		{ "bücher.example", "xn--bcher-kva.example", true },
		{ "*.example.test", "bad name.example.test", false },
		{ "*.example.test", "", false },
	};
	struct log_filter f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		filter_init(&f);
		assert_int_equal(filter_set_domain(&f, cases[i].pattern), 0);
		assert_int_equal(filter_domain_match(&f, cases[i].name,
		    strlen(cases[i].name)), cases[i].match);
	}
	filter_init(&f);
	assert_int_equal(filter_set_domain(&f, "*."), -1);
	assert_int_equal(filter_set_domain(&f, "a..b"), -1);
	assert_int_equal(filter_set_domain(&f, "a b"), -1);
	assert_int_equal(filter_set_domain(&f, "192.0.2.1"), -1);
	assert_false(filter_domain_match(&f, NULL, 0));
}

static void
test_setters(void **state)
{
	struct log_filter f;

	filter_init(&f);
	assert_int_equal(filter_set_outcome(&f, "denied"), 0);
	assert_int_equal(filter_set_outcome(&f, "deny"), -1);
	assert_int_equal(filter_set_event(&f, "approval-decided"), 0);
	assert_int_equal(filter_set_event(&f, "egres"), -1);
	assert_int_equal(filter_set_port(&f, "443"), 0);
	assert_int_equal(f.port, 443);
	assert_int_equal(filter_set_port(&f, "65536"), -1);
	assert_int_equal(filter_set_port(&f, "-1"), -1);
	assert_int_equal(filter_set_port(&f, "44x"), -1);
	assert_int_equal(filter_set_port(&f, ""), -1);
	assert_int_equal(filter_set_dst(&f, "198.18.0.0/15"), 0);
	assert_int_equal(filter_set_dst(&f, "198.18.0.1/15"), -1);
	assert_int_equal(filter_set_dst(&f, "fd00::/8"), 0);
	assert_int_equal(filter_set_dst(&f, "example.test"), -1);
	assert_int_equal(filter_set_task(&f, ""), -1);
	assert_int_equal(filter_set_since(&f, "yesterday", 0), -1);
}

/* A record as the writer lays it out. */
static const char line_a[] =
    "{\"@timestamp\":\"2026-11-27T20:48:47.000001Z\",\"event\":{\"kind\":"
    "\"event\",\"action\":\"egress\",\"reason\":\"no rule\"},\"agentgate\":"
    "{\"stream\":\"proxy\",\"seq\":7,\"prev_hash\":\"00\",\"outcome\":"
    "\"denied\",\"task\":{\"id\":\"t-1\"}},\"destination\":{\"ip\":"
    "\"198.18.0.66\",\"port\":443,\"domain\":\"evil.example.test\"}}";
static const char line_b[] =
    "{\"@timestamp\":\"2026-11-27T20:50:00Z\",\"event\":{\"action\":"
    "\"egress\"},\"agentgate\":{\"outcome\":\"allowed\",\"task\":{\"id\":"
    "\"t/2\"},\"rule\":{\"file\":\"dev.rules\",\"line\":3}},\"destination\":"
    "{\"ip\":\"fd00::5\",\"port\":53},\"dns\":{\"question\":{\"name\":"
    "\"Pypi.Org.\"}}}";

static void
test_match(void **state)
{
	static const struct {
		const char	*opt[2];	/* option, value */
		bool		 a, b;		/* matches line_a, line_b */
	} cases[] = {
		{ { "task", "t-1" }, true, false },
		{ { "task", "t/2" }, false, true },
		{ { "outcome", "allowed" }, false, true },
		{ { "event", "egress" }, true, true },
		{ { "event", "task-started" }, false, false },
		{ { "port", "53" }, false, true },
		{ { "dst", "198.18.0.0/24" }, true, false },
		{ { "dst", "fd00::/8" }, false, true },
		{ { "dst", "198.18.0.66" }, true, false },
		{ { "domain", "*.example.test" }, true, false },
		{ { "domain", "pypi.org" }, false, true },
		{ { "since", "2026-11-27T20:48:47.000001Z" }, true, true },
		{ { "since", "2026-11-27T20:48:47.000002Z" }, false, true },
		{ { "until", "2026-11-27T20:50:00Z" }, true, false },
	};
	struct json_tokener *tok = lr_tokener_new();
	struct log_rec ra, rb;
	struct log_filter f;
	size_t i;

	assert_non_null(tok);
	assert_int_equal(logrec_parse(tok, line_a, strlen(line_a), &ra), 0);
	assert_int_equal(logrec_parse(tok, line_b, strlen(line_b), &rb), 0);
	assert_int_equal(ra.seq, 7);
	assert_string_equal(ra.stream, "proxy");
	assert_int_equal(ra.ts, T_2026 * 1000000 + 1);
	assert_string_equal(rb.name, "Pypi.Org.");
	assert_string_equal(rb.rule_file, "dev.rules");
	assert_int_equal(rb.rule_line, 3);
	assert_null(rb.reason);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *o = cases[i].opt[0], *v = cases[i].opt[1];
		int r = -1;

		filter_init(&f);
		if (strcmp(o, "task") == 0)
			r = filter_set_task(&f, v);
		else if (strcmp(o, "outcome") == 0)
			r = filter_set_outcome(&f, v);
		else if (strcmp(o, "event") == 0)
			r = filter_set_event(&f, v);
		else if (strcmp(o, "port") == 0)
			r = filter_set_port(&f, v);
		else if (strcmp(o, "dst") == 0)
			r = filter_set_dst(&f, v);
		else if (strcmp(o, "domain") == 0)
			r = filter_set_domain(&f, v);
		else if (strcmp(o, "since") == 0)
			r = filter_set_since(&f, v, 0);
		else if (strcmp(o, "until") == 0)
			r = filter_set_until(&f, v, 0);
		assert_int_equal(r, 0);
		assert_int_equal(filter_match(&f, &ra), cases[i].a);
		assert_int_equal(filter_match(&f, &rb), cases[i].b);
		/* The pre-match may pass more, never fewer. */
		if (cases[i].a)
			assert_true(filter_prematch(&f, line_a, strlen(line_a)));
		if (cases[i].b)
			assert_true(filter_prematch(&f, line_b, strlen(line_b)));
	}
	/* Combined: AND. */
	filter_init(&f);
	assert_int_equal(filter_set_task(&f, "t-1"), 0);
	assert_int_equal(filter_set_outcome(&f, "allowed"), 0);
	assert_false(filter_match(&f, &ra));
	assert_false(filter_prematch(&f, line_a, strlen(line_a)));
	logrec_clear(&ra);
	logrec_clear(&rb);
	json_tokener_free(tok);
}

static void
test_bad_lines(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"{\"event\":{}}",				/* no @timestamp */
		"{\"@timestamp\":\"yesterday\"}",
		"{\"@timestamp\":\"2026-11-27T20:48:47Z\"} trailing",
		"{\"@timestamp\":\"2026-11-27T20:48:47Z\",}",	/* strict */
		"{\"@timestamp\":\"2026-11-27T20:48:47Z\"",
		"[1,2]",
		"{'@timestamp':'2026-11-27T20:48:47Z'}",
	};
	static const char nul[] = "{\"@timestamp\":\"2026-11-27T20:48:47Z\","
	    "\"a\":\"x\0y\"}";
	struct json_tokener *tok = lr_tokener_new();
	struct log_rec r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(logrec_parse(tok, bad[i], strlen(bad[i]), &r),
		    -1);
		assert_null(r.obj);
	}
	/* An embedded NUL is no line the writer makes. */
	assert_int_equal(logrec_parse(tok, nul, sizeof(nul) - 1, &r), -1);
	json_tokener_free(tok);
}

/* A denial has no destination.ip (nothing was dialled): the requested
 * address stands in, so --dst finds the attempt; a dialled one wins. */
static void
test_requested_stands_in(void **state)
{
	static const char denied[] =
	    "{\"@timestamp\":\"2026-11-27T20:48:47Z\",\"event\":{\"action\":"
	    "\"egress\"},\"destination\":{\"port\":443,\"domain\":\"evil.test\"},"
	    "\"agentgate\":{\"outcome\":\"denied\",\"requested\":{\"ip\":"
	    "\"198.19.0.66\",\"port\":443},\"stream\":\"proxy\",\"seq\":2}}";
	static const char spoofed[] =
	    "{\"@timestamp\":\"2026-11-27T20:48:48Z\",\"event\":{\"action\":"
	    "\"egress\"},\"destination\":{\"ip\":\"198.19.0.2\",\"port\":443},"
	    "\"agentgate\":{\"outcome\":\"allowed\",\"requested\":{\"ip\":"
	    "\"198.19.0.66\",\"port\":443},\"stream\":\"proxy\",\"seq\":3}}";
	struct json_tokener *tok = lr_tokener_new();
	struct log_rec a, b;
	struct log_filter f;

	assert_non_null(tok);
	assert_int_equal(logrec_parse(tok, denied, strlen(denied), &a), 0);
	assert_int_equal(logrec_parse(tok, spoofed, strlen(spoofed), &b), 0);
	assert_string_equal(a.dst_ip, "198.19.0.66");
	assert_string_equal(b.dst_ip, "198.19.0.2");
	filter_init(&f);
	assert_int_equal(filter_set_dst(&f, "198.19.0.66"), 0);
	assert_true(filter_match(&f, &a));
	assert_false(filter_match(&f, &b));
	logrec_clear(&a);
	logrec_clear(&b);
	json_tokener_free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_setters),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_requested_stands_in),
		cmocka_unit_test(test_bad_lines),
	};

	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
