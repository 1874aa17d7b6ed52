/*
 * Unit tests for the telemetry chain check: chains are built here with
 * OpenSSL's SHA-256 exactly as docs/telemetry.md defines them, then
 * tampered with (edit, delete, insert, swap, missing file, torn and
 * non-JSON lines); each must be caught at the right file:line.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "verify.h"

#define MAXL	64

struct tline {
	char	text[512];
	size_t	file;
	bool	newline;
};

struct chain {
	struct tline	l[MAXL];
	size_t		n;
};

static void
sha_hex(const char *s, char out[65])
{
	unsigned char h[32];
	unsigned int len;
	int i;

	EVP_Digest(s, strlen(s), h, &len, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* n lines of stream "s", a new file every `per` lines (each file begins
 * with log-opened); seq from `seq0` with prev_hash zero for seq 1. */
static void
chain_make(struct chain *c, size_t n, size_t per, int seq0)
{
	char prev[65];
	size_t i;

	memset(prev, '0', 64);
	prev[64] = '\0';
	c->n = n;
	for (i = 0; i < n; i++) {
		bool first = i % per == 0;

		snprintf(c->l[i].text, sizeof(c->l[i].text),
		    "{\"@timestamp\":\"2026-11-27T10:00:00.%06zuZ\",\"event\":"
		    "{\"action\":\"%s\"},\"agentgate\":{\"stream\":\"s\","
		    "\"seq\":%zu,\"prev_hash\":\"%s\"%s}}", i,
		    first ? "log-opened" : "egress", (size_t)seq0 + i, prev,
		    first && i > 0 ? ",\"log\":{\"previous_file\":\"f\"}" : "");
		c->l[i].file = i / per;
		c->l[i].newline = true;
		sha_hex(c->l[i].text, prev);
	}
}

static void
chain_delete(struct chain *c, size_t i)
{
	memmove(&c->l[i], &c->l[i + 1], (c->n - i - 1) * sizeof(c->l[0]));
	c->n--;
}

static void
chain_insert(struct chain *c, size_t i, const char *text, size_t file)
{
	memmove(&c->l[i + 1], &c->l[i], (c->n - i) * sizeof(c->l[0]));
	snprintf(c->l[i].text, sizeof(c->l[i].text), "%s", text);
	c->l[i].file = file;
	c->l[i].newline = true;
	c->n++;
}

static void
chain_replace(struct chain *c, size_t i, const char *from, const char *to)
{
	char buf[512], *p = strstr(c->l[i].text, from);

	assert_non_null(p);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - c->l[i].text),
	    c->l[i].text, to, p + strlen(from));
	memcpy(c->l[i].text, buf, sizeof(buf));
}

struct result {
	enum verify_state st;
	size_t		  file;
	uint64_t	  line;
	char		  what[VERIFY_WHAT_MAX];
	char		  note[VERIFY_WHAT_MAX];
	uint64_t	  lines;
};

static void
chain_check(const struct chain *c, struct result *r)
{
	static const char *const names[] = { "f0", "f1", "f2", "f3", "f4",
	    "f5", "f6", "f7" };
	struct json_tokener *tok = json_tokener_new();
	struct verify v;
	struct vline vl;
	uint64_t lineno = 0;
	size_t i;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	memset(r, 0, sizeof(*r));
	verify_init(&v, names, 8);
	for (i = 0; i < c->n; i++) {
		lineno = i > 0 && c->l[i].file == c->l[i - 1].file ?
		    lineno + 1 : 1;
		verify_line(tok, "s", c->l[i].text, strlen(c->l[i].text),
		    c->l[i].newline, c->l[i].file, lineno, &vl);
		if (verify_feed(&v, &vl) == VERIFY_BROKEN)
			break;
		if (v.note[0] != '\0')
			snprintf(r->note, sizeof(r->note), "%s", v.note);
	}
	r->st = verify_end(&v);
	r->file = v.where_file;
	r->line = v.where_line;
	r->lines = v.lines;
	snprintf(r->what, sizeof(r->what), "%s", v.what);
	json_tokener_free(tok);
}

#define assert_broken(r, f, l, text) do {				\
	assert_int_equal((r)->st, VERIFY_BROKEN);			\
	assert_int_equal((r)->file, (f));				\
	assert_int_equal((r)->line, (l));				\
	if (strstr((r)->what, (text)) == NULL)				\
		fail_msg("'%s' does not say '%s'", (r)->what, (text));	\
} while (0)

static void
test_intact(void **state)
{
	struct chain c;
	struct result r;

	chain_make(&c, 20, 5, 1);
	chain_check(&c, &r);
	assert_int_equal(r.st, VERIFY_OK);
	assert_int_equal(r.lines, 20);
	assert_string_equal(r.note, "");
}

static void
test_edit(void **state)
{
	struct chain c;
	struct result r;
	char *p;

	/* Content of line 3 of f1 (index 7): the break is its hash. */
	chain_make(&c, 20, 5, 1);
	chain_replace(&c, 7, "egress", "egresz");
	chain_check(&c, &r);
	assert_broken(&r, 1, 3, "line edited");
	/* Its prev_hash: it no longer chains to line 2 nor line 4 to it. */
	chain_make(&c, 20, 5, 1);
	chain_replace(&c, 7, "\"prev_hash\":\"", "\"prev_hash\":\"0");
	p = strstr(c.l[7].text, "\"}}");
	memmove(p - 1, p, 4);	/* keep 64 digits: drop the last one */
	chain_check(&c, &r);
	assert_broken(&r, 1, 3, "line edited");
	assert_non_null(strstr(r.what, "its prev_hash"));
	/* The last line of a file: seen at the first line of the next. */
	chain_make(&c, 20, 5, 1);
	chain_replace(&c, 9, "egress", "egresz");
	chain_check(&c, &r);
	assert_broken(&r, 1, 5, "line edited");
	assert_non_null(strstr(r.what, "f2:1"));
}

static void
test_delete(void **state)
{
	struct chain c;
	struct result r;

	chain_make(&c, 20, 5, 1);
	chain_delete(&c, 7);		/* f1 line 3 (seq 8) */
	chain_check(&c, &r);
	assert_broken(&r, 1, 3, "1 line(s) deleted");
	assert_non_null(strstr(r.what, "from 7 to 9"));
	chain_make(&c, 20, 10, 1);
	chain_delete(&c, 3);
	chain_delete(&c, 3);
	chain_delete(&c, 3);
	chain_check(&c, &r);
	assert_broken(&r, 0, 4, "3 line(s) deleted");
	/* The first line (log-opened) of a file. */
	chain_make(&c, 20, 5, 1);
	chain_delete(&c, 10);
	chain_check(&c, &r);
	assert_broken(&r, 2, 1, "deleted at the start of this file");
}

static void
test_insert(void **state)
{
	struct chain c;
	struct result r;
	char forged[512], h[65];

	/* A forged line that chains from its predecessor: caught because
	 * the real next line chains from the predecessor too. */
	chain_make(&c, 20, 5, 1);
	sha_hex(c.l[6].text, h);
	snprintf(forged, sizeof(forged), "{\"@timestamp\":\"2026-11-27T10:00:"
	    "00.000006Z\",\"event\":{\"action\":\"egress\"},\"agentgate\":{"
	    "\"stream\":\"s\",\"seq\":8,\"prev_hash\":\"%s\"}}", h);
	chain_insert(&c, 7, forged, 1);
	chain_check(&c, &r);
	assert_broken(&r, 1, 3, "inserted line");
	/* A copy of an earlier line. */
	chain_make(&c, 20, 5, 1);
	chain_insert(&c, 7, c.l[2].text, 1);
	chain_check(&c, &r);
	assert_broken(&r, 1, 3, "inserted line");
	/* A line repeated right after itself. */
	chain_make(&c, 20, 5, 1);
	chain_insert(&c, 7, c.l[6].text, 1);
	chain_check(&c, &r);
	assert_int_equal(r.st, VERIFY_BROKEN);
	assert_int_equal(r.file, 1);
	assert_true(r.line == 2 || r.line == 3);
	assert_non_null(strstr(r.what, "inserted"));
}

static void
test_reorder(void **state)
{
	struct chain c;
	struct result r;
	struct tline t;

	chain_make(&c, 20, 5, 1);
	t = c.l[6];
	c.l[6] = c.l[7];
	c.l[7] = t;
	chain_check(&c, &r);
	assert_broken(&r, 1, 2, "lines reordered");
	/* A line moved far back. */
	chain_make(&c, 20, 5, 1);
	t = c.l[8];
	chain_delete(&c, 8);
	chain_insert(&c, 6, t.text, 1);
	chain_check(&c, &r);
	assert_int_equal(r.st, VERIFY_BROKEN);
	assert_int_equal(r.file, 1);
	assert_int_equal(r.line, 2);
}

static void
test_missing_file(void **state)
{
	struct chain c;
	struct result r;
	size_t i;

	chain_make(&c, 20, 5, 1);
	for (i = 0; i < 5; i++)
		chain_delete(&c, 5);	/* all of f1 */
	for (i = 5; i < c.n; i++)
		c.l[i].file--;		/* f2 is now the second file */
	chain_check(&c, &r);
	assert_broken(&r, 1, 1, "a file is missing");
	assert_non_null(strstr(r.what, "f0 ends at seq 5"));
	/* Lines cut from the end of a file: the same break. */
	chain_make(&c, 20, 5, 1);
	chain_delete(&c, 9);
	chain_delete(&c, 8);
	chain_check(&c, &r);
	assert_broken(&r, 2, 1, "cut from the end of f1");
}

static void
test_torn(void **state)
{
	struct chain c;
	struct result r;
	char h[65], buf[512];

	/* Truncated inside the last line of a middle file. */
	chain_make(&c, 20, 5, 1);
	c.l[9].text[40] = '\0';
	c.l[9].newline = false;
	chain_check(&c, &r);
	assert_broken(&r, 1, 5, "torn line");
	/* The last line of the stream, without its newline. */
	chain_make(&c, 20, 5, 1);
	c.l[19].newline = false;
	chain_check(&c, &r);
	assert_broken(&r, 3, 5, "torn line");
	/* Completed by the writer, which continued from the line before and
	 * said so: a warning, and the rest is still checked. */
	chain_make(&c, 12, 5, 1);
	c.l[7].text[30] = '\0';		/* torn, then given its '\n' */
	sha_hex(c.l[6].text, h);
	snprintf(buf, sizeof(buf), "{\"@timestamp\":\"2026-11-27T10:00:01Z\","
	    "\"event\":{\"action\":\"log-opened\"},\"agentgate\":{\"stream\":"
	    "\"s\",\"seq\":8,\"prev_hash\":\"%s\",\"log\":{\"reason\":"
	    "\"start\",\"repaired\":true}}}", h);
	c.n = 8;
	chain_insert(&c, 8, buf, 1);
	chain_check(&c, &r);
	assert_int_equal(r.st, VERIFY_OK);
	assert_non_null(strstr(r.note, "f1:3: torn line, completed"));
	assert_int_equal(r.lines, 9);
	/* Without the writer's word it is a broken line. */
	chain_replace(&c, 8, ",\"repaired\":true", "");
	chain_check(&c, &r);
	assert_broken(&r, 1, 3, "not a JSON object");
}

static void
test_bad_lines(void **state)
{
	struct chain c;
	struct result r;

	chain_make(&c, 10, 5, 1);
	snprintf(c.l[3].text, sizeof(c.l[3].text), "garbage");
	chain_check(&c, &r);
	assert_broken(&r, 0, 4, "not a JSON object");
	chain_make(&c, 10, 5, 1);
	chain_replace(&c, 3, "\"stream\":\"s\"", "\"stream\":\"t\"");
	chain_check(&c, &r);
	assert_broken(&r, 0, 4, "agentgate.stream");
	chain_make(&c, 10, 5, 1);
	chain_replace(&c, 3, "\"seq\":4", "\"seq\":\"4\"");
	chain_check(&c, &r);
	assert_broken(&r, 0, 4, "agentgate.seq");
	/* A first line that claims a new stream but has a history. */
	chain_make(&c, 10, 5, 1);
	chain_replace(&c, 0, "\"prev_hash\":\"0", "\"prev_hash\":\"1");
	chain_check(&c, &r);
	assert_broken(&r, 0, 1, "prev_hash is not zero");
	/* Upper-case hex is not what the writer writes. */
	chain_make(&c, 10, 5, 1);
	chain_replace(&c, 0, "\"prev_hash\":\"0", "\"prev_hash\":\"A");
	chain_check(&c, &r);
	assert_broken(&r, 0, 1, "64 lowercase hex");
}

static void
test_retention(void **state)
{
	struct chain c;
	struct result r;

	/* Old files removed by retention: intact, with a note. */
	chain_make(&c, 10, 5, 41);
	chain_check(&c, &r);
	assert_int_equal(r.st, VERIFY_OK);
	assert_non_null(strstr(r.note, "starts at seq 41"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_torn),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_retention),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
