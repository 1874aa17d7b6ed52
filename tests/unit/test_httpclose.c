/*
 * proxy/httpclose.c's request-head rewrite: keep-alive headers go, one
 * "Connection: close" comes before the blank line, nothing else changes.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "httpclose.h"
#include "httphead.h"

static void
test_close_head_table(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n",
		  "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n" },
		{ "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive\r\n"
		  "Accept: */*\r\n\r\n",
		  "GET / HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n"
		  "Connection: close\r\n\r\n" },
		/* Any case, all three names, repeated. */
		{ "GET / HTTP/1.1\r\nCONNECTION: Upgrade\r\nHost: a.test\r\n"
		  "keep-alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
		  "connection: x\r\n\r\n",
		  "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n" },
		/* Names that only start like them stay. */
		{ "GET / HTTP/1.1\r\nHost: a.test\r\nConnection-X: 1\r\n"
		  "X-Connection: 2\r\n\r\n",
		  "GET / HTTP/1.1\r\nHost: a.test\r\nConnection-X: 1\r\n"
		  "X-Connection: 2\r\nConnection: close\r\n\r\n" },
		/* Bare LF lines keep their form; the header is added in CRLF. */
		{ "GET / HTTP/1.0\nHost: a.test\n\n",
		  "GET / HTTP/1.0\nHost: a.test\nConnection: close\r\n\n" },
		/* A request line is never taken for a header. */
		{ "GET /connection:x HTTP/1.0\r\n\r\n",
		  "GET /connection:x HTTP/1.0\r\nConnection: close\r\n\r\n" },
	};
	char out[512];
	ssize_t n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = httpclose_head(cases[i].in, strlen(cases[i].in), out,
		    strlen(cases[i].in) + HTTPCLOSE_EXTRA);
		assert_int_equal(n, (ssize_t)strlen(cases[i].out));
		assert_memory_equal(out, cases[i].out, (size_t)n);
	}
}

static void
test_close_head_errors(void **state)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
	char out[512];

	(void)state;
	/* No blank line. */
	errno = 0;
	assert_int_equal(httpclose_head(head, strlen(head) - 2, out,
	    sizeof(out)), -1);
	assert_int_equal(errno, EINVAL);
	/* Too small for the added header. */
	errno = 0;
	assert_int_equal(httpclose_head(head, strlen(head), out,
	    strlen(head)), -1);
	assert_int_equal(errno, ENOSPC);
}

/*
 * Every request of the parser's fuzz corpus that parses: the rewritten head
 * parses again, names the same method, host and port, says no keep-alive,
 * and only grew by the header or shrank by dropped ones.
 */
static void
test_close_head_corpus(void **state)
{
	const char *top = getenv("top_srcdir");
	char dirpath[2048], path[2048 + 512];
	static char buf[HTTPHEAD_MAX + 1], out[HTTPHEAD_MAX + HTTPCLOSE_EXTRA];
	struct http_head a, b;
	struct dirent *de;
	DIR *d;
	FILE *f;
	size_t len;
	ssize_t n;
	int ok = 0;

	(void)state;
	snprintf(dirpath, sizeof(dirpath), "%s/fuzz/corpus/httphead",
	    top != NULL ? top : "..");
	if ((d = opendir(dirpath)) == NULL)
		skip();
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		assert_non_null(f = fopen(path, "rb"));
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		if (httphead_parse(buf, len, &a) != HTTPHEAD_OK)
			continue;
		n = httpclose_head(buf, a.head_len, out, sizeof(out));
		assert_true(n > 0);
		assert_true((size_t)n <= a.head_len + HTTPCLOSE_EXTRA);
		if (httphead_parse(out, (size_t)n, &b) != HTTPHEAD_OK)
			fail_msg("%s: the rewritten head does not parse", de->d_name);
		assert_int_equal(b.head_len, (size_t)n);
		assert_string_equal(b.method, a.method);
		assert_string_equal(b.host, a.host);
		assert_int_equal(b.port, a.port);
		assert_int_equal(b.content_length, a.content_length);
		assert_int_equal(b.chunked, a.chunked);
		assert_false(b.keep_alive);
		ok++;
	}
	closedir(d);
	/* The corpus has a dozen good requests; make sure they were seen. */
	assert_true(ok >= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_head_table),
		cmocka_unit_test(test_close_head_errors),
		cmocka_unit_test(test_close_head_corpus),
	};

	return cmocka_run_group_tests_name("httpclose", tests, NULL, NULL);
}
