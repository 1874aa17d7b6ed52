/*
 * Unit tests of the policy parser and loader: exact file:line:col error
 * messages for every error class, rule references (file, line, text),
 * includes (relative, nested, cycles, missing, depth), named policies and
 * reference counting.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"

struct errs {
	char	buf[8192];
	size_t	len;
};

static void
collect(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	struct errs *e = arg;

	e->len += (size_t)snprintf(e->buf + e->len, sizeof(e->buf) - e->len,
	    "%s:%u:%u: %s\n", file, line, col, msg);
	assert_true(e->len < sizeof(e->buf));
}

static struct policy *
load_text(const char *text, size_t len, struct errs *e)
{
	memset(e, 0, sizeof(*e));
	return policy_load_buffer("t.rules", NULL, text, len, NULL, collect, e);
}

static const char *
srcdir(void)
{
	const char *top = getenv("top_srcdir");

	return top != NULL ? top : "..";
}

static char *
fixture(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/tests/data/policies/%s", srcdir(), name) > 0);
	return p;
}

struct error_case {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*want;		/* every message, in order */
};

static const struct error_case error_cases[] = {
	{ "alow a.com\n", 0, "t.rules:1:1: unknown action 'alow'\n" },
	{ "al a.com\nallo b.com\nAllow c.com\nallowx d.com\n  includ x\n", 0,
	    "t.rules:1:1: unknown action 'al'\n"
	    "t.rules:2:1: unknown action 'allo'\n"
	    "t.rules:3:1: unknown action 'Allow'\n"
	    "t.rules:4:1: unknown action 'allowx'\n"
	    "t.rules:5:3: unknown action 'includ'\n" },
	{ "port 443\n", 0, "t.rules:1:1: unknown action 'port'\n" },
	{ "allow\n", 0, "t.rules:1:1: missing target after 'allow'\n" },
	{ "  deny port 443\n", 0, "t.rules:1:3: missing target after 'deny'\n" },
	{ "ask # a.com\n", 0, "t.rules:1:1: missing target after 'ask'\n" },
	{ "allow a.com port 0\n", 0, "t.rules:1:18: port '0' out of range 1-65535\n" },
	{ "allow a.com port 65536\n", 0, "t.rules:1:18: port '65536' out of range 1-65535\n" },
	{ "allow a.com port 99999999999999999999\n", 0,
	    "t.rules:1:18: port '99999999999999999999' out of range 1-65535\n" },
	{ "allow a.com port 5-3\n", 0, "t.rules:1:18: invalid port range '5-3'\n" },
	{ "allow a.com port 0-3\n", 0, "t.rules:1:18: port '0-3' out of range 1-65535\n" },
	{ "allow a.com port abc\n", 0, "t.rules:1:18: invalid port 'abc'\n" },
	{ "allow a.com port -5\n", 0, "t.rules:1:18: invalid port '-5'\n" },
	{ "allow a.com port 5-\n", 0, "t.rules:1:18: invalid port '5-'\n" },
	{ "allow a.com port +5\n", 0, "t.rules:1:18: invalid port '+5'\n" },
	{ "allow a.com port 80,,90\n", 0, "t.rules:1:21: invalid port ''\n" },
	{ "allow a.com port 80,x,0\n", 0,
	    "t.rules:1:21: invalid port 'x'\n"
	    "t.rules:1:23: port '0' out of range 1-65535\n" },
	{ "allow a.com port any,80\n", 0,
	    "t.rules:1:18: 'any' cannot be combined with other ports\n" },
	{ "allow a.com port ANY\n", 0, "t.rules:1:18: invalid port 'ANY'\n" },
	{ "allow a.com proto bogus\n", 0, "t.rules:1:19: unknown protocol 'bogus'\n" },
	{ "allow a.com proto tcp,bogus\n", 0, "t.rules:1:23: unknown protocol 'bogus'\n" },
	{ "allow a.com proto TCP\n", 0, "t.rules:1:19: unknown protocol 'TCP'\n" },
	{ "allow a.com proto icmp port 7\n", 0,
	    "t.rules:1:24: 'port' does not apply to proto icmp\n" },
	{ "allow a.com port 7 proto icmp,icmp\n", 0,
	    "t.rules:1:13: 'port' does not apply to proto icmp\n" },
	{ "allow a.com port 80 port 443\n", 0, "t.rules:1:21: duplicate 'port' option\n" },
	{ "allow a.com proto tcp proto udp\n", 0, "t.rules:1:23: duplicate 'proto' option\n" },
	{ "allow a.com port\n", 0, "t.rules:1:13: missing value after 'port'\n" },
	{ "allow a.com proto   # udp\n", 0, "t.rules:1:13: missing value after 'proto'\n" },
	{ "allow a.com port 80 b.com\n", 0,
	    "t.rules:1:21: unexpected 'b.com' after port/proto options\n" },
	{ "allow tcp\n", 0, "t.rules:1:7: unexpected keyword 'tcp'\n" },
	{ "allow a.com any\n", 0, "t.rules:1:13: unexpected keyword 'any'\n" },
	{ "allow foo.*.com\n", 0, "t.rules:1:7: invalid wildcard 'foo.*.com': "
	    "'*' is allowed only as '*' or a leading '*.'\n" },
	{ "allow *foo.com\n", 0, "t.rules:1:7: invalid wildcard '*foo.com': "
	    "'*' is allowed only as '*' or a leading '*.'\n" },
	{ "allow **.x\n", 0, "t.rules:1:7: invalid wildcard '**.x': "
	    "'*' is allowed only as '*' or a leading '*.'\n" },
	{ "allow *.\n", 0, "t.rules:1:7: invalid wildcard '*.': "
	    "'*' is allowed only as '*' or a leading '*.'\n" },
	{ "allow *.a.*\n", 0, "t.rules:1:7: invalid wildcard '*.a.*': "
	    "'*' is allowed only as '*' or a leading '*.'\n" },
	{ "allow *.10.0.0.1\n", 0,
	    "t.rules:1:7: invalid wildcard '*.10.0.0.1': suffix is an address\n" },
	{ "allow *..com\n", 0, "t.rules:1:7: invalid name '*..com': empty label\n" },
	{ "allow a..b\n", 0, "t.rules:1:7: invalid name 'a..b': empty label\n" },
	{ "allow a%b.com\n", 0, "t.rules:1:7: invalid name 'a%b.com': forbidden character\n" },
	{ "allow -a.com\n", 0,
	    "t.rules:1:7: invalid name '-a.com': label starts or ends with a hyphen\n" },
	{ "allow a.com\rb\n", 0,
	    "t.rules:1:7: invalid name 'a.com\\x0db': forbidden character\n" },
	{ "allow 10.0.0.1/8\n", 0, "t.rules:1:7: invalid prefix '10.0.0.1/8': "
	    "host bits set or bad address/length\n" },
	{ "allow 10.0.0.0/33\n", 0, "t.rules:1:7: invalid prefix '10.0.0.0/33': "
	    "host bits set or bad address/length\n" },
	{ "allow fd00::1/8\n", 0, "t.rules:1:7: invalid prefix 'fd00::1/8': "
	    "host bits set or bad address/length\n" },
	{ "allow example.com/8\n", 0, "t.rules:1:7: invalid prefix 'example.com/8': "
	    "host bits set or bad address/length\n" },
	{ "allow \"a.com\"\n", 0, "t.rules:1:7: quoted string allowed only after include\n" },
	{ "\"allow\" a.com\n", 0, "t.rules:1:1: quoted string allowed only after include\n" },
	{ "include \"abc\n", 0, "t.rules:1:9: unterminated quoted string\n" },
	{ "include \"abc\"def\n", 0, "t.rules:1:14: unexpected text after closing quote\n" },
	{ "include\n", 0, "t.rules:1:1: missing file after 'include'\n" },
	{ "include \"\"\n", 0, "t.rules:1:9: missing file after 'include'\n" },
	{ "include a b\n", 0, "t.rules:1:11: unexpected 'b' after include file\n" },
	{ "include x.rules\n", 0,
	    "t.rules:1:1: include not allowed in a policy without a base folder\n" },
	{ "allow a\0b.com\n", 14, "t.rules:1:8: NUL byte\n" },
	{ "# a comment with a NUL \0 is still an error\n", 43, "t.rules:1:24: NUL byte\n" },
	{ "allow \xff.com\n", 0, "t.rules:1:7: invalid UTF-8\n" },
	{ "allow a.com # \xc0\xaf overlong\n", 0, "t.rules:1:15: invalid UTF-8\n" },
	{ "allow \xed\xa0\x80.com\n", 0, "t.rules:1:7: invalid UTF-8\n" },
	{ "allow \xf4\x90\x80\x80.com\n", 0, "t.rules:1:7: invalid UTF-8\n" },
	{ "allow a.com\nallow \xc3\n", 0, "t.rules:2:7: invalid UTF-8\n" },
	/* Several errors, in several lines and in one line, all reported. */
	{ "alow a\nallow a.com port 0\nallow ok.com\ndeny foo.*.x\n", 0,
	    "t.rules:1:1: unknown action 'alow'\n"
	    "t.rules:2:18: port '0' out of range 1-65535\n"
	    "t.rules:4:6: invalid wildcard 'foo.*.x': "
	    "'*' is allowed only as '*' or a leading '*.'\n" },
	{ "allow a..b c%d.com ok.com port 0 proto bogus\n", 0,
	    "t.rules:1:7: invalid name 'a..b': empty label\n"
	    "t.rules:1:12: invalid name 'c%d.com': forbidden character\n"
	    "t.rules:1:32: port '0' out of range 1-65535\n"
	    "t.rules:1:40: unknown protocol 'bogus'\n" },
	/* Long words are cut in messages. */
	{ "allow a%aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 0,
	    "t.rules:1:7: invalid name "
	    "'a%aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': "
	    "forbidden character\n" },
};

static void
test_errors(void **state)
{
	struct errs e;
	size_t i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct policy *p;

		errno = 0;
		p = load_text(c->text, len, &e);
		if (p != NULL)
			fail_msg("case %zu loaded: %s", i, c->text);
		assert_int_equal(errno, EINVAL);
		if (strcmp(e.buf, c->want) != 0)
			fail_msg("case %zu:\n got: %s want: %s", i, e.buf, c->want);
	}
}

static void
test_line_length(void **state)
{
	char *text = malloc(8192);
	struct policy *p;
	struct errs e;

	assert_non_null(text);
	/* 4096 bytes are fine, with LF or CRLF. */
	memset(text, 'x', 4096);
	text[0] = '#';
	memcpy(text + 4096, "\r\nallow a.com\n", 14);
	p = load_text(text, 4096 + 14, &e);
	assert_non_null(p);
	assert_int_equal(policy_rule_count(p), 1);
	assert_string_equal(e.buf, "");
	policy_unref(p);
	/* 4097 are not; the next line is still read. */
	memcpy(text, "allow ", 6);
	memset(text + 6, 'a', 4091);
	memcpy(text + 4097, "\nalow b.com\n", 12);
	p = load_text(text, 4097 + 12, &e);
	assert_null(p);
	assert_string_equal(e.buf,
	    "t.rules:1:0: line too long (over 4096 bytes)\n"
	    "t.rules:2:1: unknown action 'alow'\n");
	/* Also as the last line without a line end. */
	p = load_text(text, 4097, &e);
	assert_null(p);
	assert_string_equal(e.buf, "t.rules:1:0: line too long (over 4096 bytes)\n");
	free(text);
}

/* Lines and words: CRLF, comments anywhere, tabs, text without a final LF. */
static void
test_lexing_and_rule_text(void **state)
{
	static const char text[] =
	    "# header\r\n"
	    "\r\n"
	    "  allow   a.com\tb.com   port 443,8443 # trailing comment  \r\n"
	    "\tdeny c.com#glued comment\n"
	    "ask *.d.com proto udp port 53";
	const struct policy_rule *r;
	struct policy_verdict v;
	struct policy *p;
	struct errs e;

	p = load_text(text, sizeof(text) - 1, &e);
	assert_non_null(p);
	assert_string_equal(e.buf, "");
	assert_int_equal(policy_rule_count(p), 3);
	r = policy_rule_at(p, 0);
	assert_string_equal(policy_rule_text(r), "allow   a.com\tb.com   port 443,8443");
	assert_int_equal(policy_rule_line(r), 3);
	assert_string_equal(policy_rule_file(r), "t.rules");
	assert_int_equal(policy_rule_action(r), POLICY_ALLOW);
	assert_int_equal(policy_rule_index(r), 0);
	assert_int_equal(policy_rule_protos(r), POLICY_PROTO_TCP);
	assert_true(policy_rule_has_port(r, 8443));
	assert_false(policy_rule_has_port(r, 80));
	r = policy_rule_at(p, 1);
	assert_string_equal(policy_rule_text(r), "deny c.com");
	assert_int_equal(policy_rule_line(r), 4);
	r = policy_rule_at(p, 2);
	assert_string_equal(policy_rule_text(r), "ask *.d.com proto udp port 53");
	assert_int_equal(policy_rule_line(r), 5);
	assert_null(policy_rule_at(p, 3));

	v = policy_match_name(p, "b.com", POLICY_PROTO_TCP, 8443);
	assert_ptr_equal(v.rule, policy_rule_at(p, 0));
	v = policy_match_name(p, "c.com", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_DENY);
	assert_ptr_equal(v.rule, policy_rule_at(p, 1));
	v = policy_match_name(p, "x.d.com", POLICY_PROTO_UDP, 53);
	assert_int_equal(v.action, POLICY_ASK);
	assert_string_equal(policy_rule_text(v.rule), "ask *.d.com proto udp port 53");
	policy_unref(p);
}

static void
test_names(void **state)
{
	char buf[256], *path;
	struct policy *p;
	struct errs e;

	p = policy_load_buffer("/etc/agentgate/policies/ci.rules", NULL, "", 0,
	    NULL, collect, &e);
	assert_non_null(p);
	assert_string_equal(policy_name(p), "ci");
	assert_int_equal(policy_rule_count(p), 0);
	policy_unref(p);
	p = policy_load_buffer("inline", "task-7", "allow a.com", 11, NULL,
	    collect, &e);
	assert_string_equal(policy_name(p), "task-7");
	policy_unref(p);
	p = policy_load_buffer(NULL, NULL, "allow a.com", 11, NULL, collect, &e);
	assert_string_equal(policy_rule_file(policy_rule_at(p, 0)), "<inline>");
	policy_unref(p);

	path = fixture("leaf.rules");
	p = policy_load_file(path, NULL, collect, &e);
	assert_non_null(p);
	assert_string_equal(policy_name(p), "leaf");
	policy_unref(p);
	p = policy_load_file(path, "other", collect, &e);
	assert_string_equal(policy_name(p), "other");
	policy_unref(p);
	free(path);

	assert_int_equal(policy_path("/etc/p", "ci", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/p/ci.rules");
	assert_int_equal(policy_path("/etc/p", "a.b_c-D9", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/p/a.b_c-D9.rules");
	assert_int_equal(policy_path("d",
	    "a123456789012345678901234567890123456789012345678901234567890123",
	    buf, sizeof(buf)), 0);
	assert_int_equal(policy_path("d", "ci", buf, 10), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	{
		static const char *bad[] = { "", ".hidden", "-x", "_x", "a/b",
		    "..", "a..b", "a b", "a\\b", "caf\xc3\xa9", "x:y",
		    "a1234567890123456789012345678901234567890123456789012345678901234" };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			errno = 0;
			if (policy_path("/etc/p", bad[i], buf, sizeof(buf)) != -1)
				fail_msg("name '%s' accepted", bad[i]);
			assert_int_equal(errno, EINVAL);
			assert_false(policy_name_valid(bad[i]));
		}
	}
	assert_string_equal(policy_action_name(POLICY_ASK), "ask");
	assert_string_equal(policy_proto_name(POLICY_PROTO_ICMP), "icmp");
}

static void
test_file_unreadable(void **state)
{
	struct policy *p;
	struct errs e;

	memset(&e, 0, sizeof(e));
	errno = 0;
	p = policy_load_file("/nonexistent-agentgate/x.rules", NULL, collect, &e);
	assert_null(p);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(e.buf, "/nonexistent-agentgate/x.rules:0:0: "
	    "cannot read policy: No such file or directory\n");
	p = policy_load_file(srcdir(), NULL, collect, &e);
	assert_null(p);
	assert_int_equal(errno, EISDIR);
}

static void
test_include_nested(void **state)
{
	char *path = fixture("main.rules"), *d = fixture(""), want[4096];
	const struct policy_rule *r;
	struct policy_verdict v;
	struct policy *p;
	struct errs e;

	memset(&e, 0, sizeof(e));
	p = policy_load_file(path, NULL, collect, &e);
	assert_string_equal(e.buf, "");
	assert_non_null(p);
	assert_string_equal(policy_name(p), "main");
	assert_int_equal(policy_rule_count(p), 5);

	v = policy_match_name(p, "blocked.example", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_DENY);
	assert_string_equal(policy_rule_file(v.rule), path);
	assert_int_equal(policy_rule_line(v.rule), 2);

	v = policy_match_name(p, "inner.example", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_ALLOW);
	snprintf(want, sizeof(want), "%ssub/inner.rules", d);
	assert_string_equal(policy_rule_file(v.rule), want);
	assert_int_equal(policy_rule_line(v.rule), 2);
	assert_int_equal(policy_rule_index(v.rule), 1);

	/* Nested: sub/inner.rules includes ../leaf.rules. */
	v = policy_match_name(p, "leaf.example", POLICY_PROTO_TCP, 22);
	assert_int_equal(v.action, POLICY_ASK);
	snprintf(want, sizeof(want), "%ssub/../leaf.rules", d);
	assert_string_equal(policy_rule_file(v.rule), want);
	assert_int_equal(policy_rule_line(v.rule), 1);
	assert_string_equal(policy_rule_text(v.rule), "ask leaf.example port 22");

	/* The quoted name with a space. */
	v = policy_match_name(p, "spaced.example", POLICY_PROTO_TCP, 80);
	assert_int_equal(v.action, POLICY_ALLOW);
	snprintf(want, sizeof(want), "%swith space.rules", d);
	assert_string_equal(policy_rule_file(v.rule), want);

	/* Included rules keep their place: the last rule comes after them. */
	v = policy_match_name(p, "leaf.example", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_string_equal(policy_rule_file(v.rule), path);
	assert_int_equal(policy_rule_line(v.rule), 5);
	assert_string_equal(policy_rule_text(v.rule), "allow *.example");
	r = policy_rule_at(p, 4);
	assert_ptr_equal(r, v.rule);
	policy_unref(p);
	free(path);
	free(d);
}

static void
test_include_buffer(void **state)
{
	char *d = fixture(""), want[4096];
	struct policy_verdict v;
	struct policy *p;
	struct errs e;

	memset(&e, 0, sizeof(e));
	p = policy_load_buffer("inline", NULL, "include leaf.rules\n", 19, d,
	    collect, &e);
	assert_string_equal(e.buf, "");
	assert_non_null(p);
	v = policy_match_name(p, "leaf.example", POLICY_PROTO_TCP, 22);
	assert_int_equal(v.action, POLICY_ASK);
	/* The folder given ends in '/'; the label has one. */
	snprintf(want, sizeof(want), "%sleaf.rules", d);
	assert_string_equal(policy_rule_file(v.rule), want);
	policy_unref(p);
	free(d);
}

static void
expect_file_errors(const char *name, const char *fmt)
{
	char *path = fixture(name), *d = fixture(""), want[8192];
	struct policy *p;
	struct errs e;

	size_t o = 0;

	/* Each '@' in fmt stands for the fixture folder, with its '/'. */
	for (; *fmt != '\0'; fmt++) {
		if (*fmt == '@')
			o += (size_t)snprintf(want + o, sizeof(want) - o, "%s", d);
		else
			want[o++] = *fmt;
		assert_true(o < sizeof(want) - 1);
	}
	want[o] = '\0';
	memset(&e, 0, sizeof(e));
	errno = 0;
	p = policy_load_file(path, NULL, collect, &e);
	assert_null(p);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(e.buf, want);
	free(path);
	free(d);
}

static void
test_include_errors(void **state)
{
	expect_file_errors("cycle2a.rules",
	    "@cycle2b.rules:1:9: include cycle: @cycle2a.rules -> "
	    "@cycle2b.rules -> @cycle2a.rules\n");
	expect_file_errors("cycle3a.rules",
	    "@cycle3c.rules:2:9: include cycle: @cycle3a.rules -> "
	    "@cycle3b.rules -> @cycle3c.rules -> @cycle3a.rules\n");
	expect_file_errors("missing.rules",
	    "@missing.rules:2:9: cannot include 'nonexistent.rules': "
	    "No such file or directory\n");
	/* Errors in an included file name it, and the including file goes on. */
	expect_file_errors("badinc.rules",
	    "@bad.rules:2:1: unknown action 'alow'\n"
	    "@bad.rules:3:22: port '0' out of range 1-65535\n"
	    "@badinc.rules:3:1: unknown action 'alow'\n");
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A chain of `n` includes: d0 includes d1 ... dn, which holds one rule. */
static struct policy *
include_chain(const char *dir, unsigned n, struct errs *e)
{
	char path[512], text[64];
	unsigned i;

	for (i = 0; i <= n; i++) {
		snprintf(path, sizeof(path), "%s/d%u.rules", dir, i);
		if (i < n)
			snprintf(text, sizeof(text), "include d%u.rules\n", i + 1);
		else
			snprintf(text, sizeof(text), "allow deep.example\n");
		write_file(path, text);
	}
	snprintf(path, sizeof(path), "%s/d0.rules", dir);
	memset(e, 0, sizeof(*e));
	return policy_load_file(path, NULL, collect, e);
}

static void
test_include_depth(void **state)
{
	char dir[] = "/tmp/agentgate-policy-XXXXXX", want[1024], path[512];
	struct policy_verdict v;
	struct policy *p;
	struct errs e;
	unsigned i;

	assert_non_null(mkdtemp(dir));
	p = include_chain(dir, 16, &e);
	assert_string_equal(e.buf, "");
	assert_non_null(p);
	v = policy_match_name(p, "deep.example", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_ALLOW);
	snprintf(want, sizeof(want), "%s/d16.rules", dir);
	assert_string_equal(policy_rule_file(v.rule), want);
	policy_unref(p);

	p = include_chain(dir, 17, &e);
	assert_null(p);
	snprintf(want, sizeof(want), "%s/d16.rules:1:9: include depth over 16\n", dir);
	assert_string_equal(e.buf, want);

	for (i = 0; i <= 17; i++) {
		snprintf(path, sizeof(path), "%s/d%u.rules", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

/* A policy outlives a reload while a reader still holds it. */
static void
test_refcount(void **state)
{
	struct policy *live, *held, *next;
	struct policy_verdict v;
	struct errs e;

	live = load_text("allow old.example\n", 18, &e);
	assert_non_null(live);
	held = policy_ref(live);		/* a connection in flight */
	assert_ptr_equal(held, live);
	next = load_text("deny old.example\n", 17, &e);
	assert_non_null(next);
	policy_unref(live);			/* the reload swaps the pointer */
	live = next;

	v = policy_match_name(held, "old.example", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_string_equal(policy_rule_text(v.rule), "allow old.example");
	v = policy_match_name(live, "old.example", POLICY_PROTO_TCP, 443);
	assert_int_equal(v.action, POLICY_DENY);
	policy_unref(held);			/* the connection ends: freed */
	policy_unref(live);
	policy_ref(NULL);
	policy_unref(NULL);
}

struct reader_arg {
	struct policy	*p;
	unsigned	 allowed;
};

static void *
reader(void *arg)
{
	struct reader_arg *ra = arg;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		struct policy_verdict v = policy_match_name(ra->p,
		    i % 2 ? "a.example" : "b.example", POLICY_PROTO_TCP, 443);

		ra->allowed += v.action == POLICY_ALLOW;
	}
	policy_unref(ra->p);
	return NULL;
}

/* Readers on several threads, each with its own reference; the loader's
 * reference is dropped while they run. */
static void
test_concurrent_readers(void **state)
{
	struct reader_arg ra[4];
	pthread_t th[4];
	struct policy *p;
	struct errs e;
	int i;

	p = load_text("allow *.example port 443\n", 25, &e);
	assert_non_null(p);
	for (i = 0; i < 4; i++) {
		ra[i].p = policy_ref(p);
		ra[i].allowed = 0;
		assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
	}
	policy_unref(p);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(ra[i].allowed, 20000);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_lexing_and_rule_text),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_file_unreadable),
		cmocka_unit_test(test_include_nested),
		cmocka_unit_test(test_include_buffer),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_include_depth),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_concurrent_readers),
	};

	return cmocka_run_group_tests_name("policy_parse", tests, NULL, NULL);
}
