/*
 * proxy/httpclose.c's request-head rewrite: keep-alive headers go, one
 * "Connection: close" comes before the blank line, nothing else changes.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "httpclose.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_head_table),
		cmocka_unit_test(test_close_head_errors),
	};

	return cmocka_run_group_tests_name("httpclose", tests, NULL, NULL);
}
