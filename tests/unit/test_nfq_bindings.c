/*
 * nfq bindings: answers built with dns_build_answer() for a hand-written
 * query, learned per task under the canonical question name, found by
 * (task, address) until the clamped TTL runs out, and bounded in size.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bindings.h"

/* Query id 0x1234, RD, one question "Example.COM." type A class IN. */
static const uint8_t query_a[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'C', 'O', 'M', 0,
	0, 1, 0, 1,
};

static struct dns_response resp;

static struct ag_addr
A(const char *s)
{
	struct ag_addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void
answer(uint32_t ttl, const char *a1, const char *a2)
{
	struct ag_addr addrs[2];
	uint8_t out[512];
	ssize_t n;

	addrs[0] = A(a1);
	addrs[1] = A(a2);
	n = dns_build_answer(query_a, sizeof(query_a), addrs, 2, ttl, out,
	    sizeof(out));
	assert_true(n > 0);
	assert_int_equal(dns_parse_response(out, (size_t)n, &resp), DNS_OK);
}

static void
test_learn_and_expire(void **state)
{
	struct bindings *b;
	char names[4][CANON_NAME_MAX + 1];
	struct ag_addr a = A("198.19.0.2"), other = A("198.19.0.66");

	(void)state;
	assert_non_null(b = bindings_new(100));
	answer(60, "198.19.0.2", "198.19.0.3");
	assert_int_equal(bindings_learn(b, "t1", &resp, 1000), 2);
	assert_int_equal(bindings_count(b), 2);

	assert_int_equal(bindings_names(b, "t1", &a, 1000, names, 4), 1);
	assert_string_equal(names[0], "example.com");
	a = A("198.19.0.3");
	assert_int_equal(bindings_names(b, "t1", &a, 1000, names, 4), 1);
	/* Not for another task, not for another address. */
	assert_int_equal(bindings_names(b, "t2", &a, 1000, names, 4), 0);
	assert_int_equal(bindings_names(b, "t1", &other, 1000, names, 4), 0);
	/* 60 s after 1000 ms: gone at 61000, there at 60999. */
	assert_int_equal(bindings_names(b, "t1", &a, 60999, names, 4), 1);
	assert_int_equal(bindings_names(b, "t1", &a, 61000, names, 4), 0);
	bindings_free(b);
}

static void
test_ttl_clamp(void **state)
{
	struct bindings *b;
	char names[1][CANON_NAME_MAX + 1];
	struct ag_addr a = A("198.19.0.2");

	(void)state;
	assert_non_null(b = bindings_new(100));
	answer(0, "198.19.0.2", "198.19.0.3");
	assert_int_equal(bindings_learn(b, "t1", &resp, 0), 2);
	assert_int_equal(bindings_names(b, "t1", &a,
	    BINDINGS_TTL_MIN * 1000 - 1, names, 1), 1);
	assert_int_equal(bindings_names(b, "t1", &a,
	    BINDINGS_TTL_MIN * 1000, names, 1), 0);

	answer(7 * 86400, "198.19.0.2", "198.19.0.3");
	assert_int_equal(bindings_learn(b, "t1", &resp, 0), 2);
	assert_int_equal(bindings_names(b, "t1", &a,
	    BINDINGS_TTL_MAX * 1000 - 1, names, 1), 1);
	assert_int_equal(bindings_names(b, "t1", &a,
	    BINDINGS_TTL_MAX * 1000, names, 1), 0);
	bindings_free(b);
}

static void
test_several_names(void **state)
{
	struct bindings *b;
	char names[1][CANON_NAME_MAX + 1];
	struct ag_addr a = A("fd00:1::2");

	(void)state;
	assert_non_null(b = bindings_new(100));
	assert_int_equal(bindings_add(b, "t1", "a.example", &a, 60, 0), 0);
	assert_int_equal(bindings_add(b, "t1", "b.example", &a, 60, 0), 0);
	/* The same again refreshes, does not add. */
	assert_int_equal(bindings_add(b, "t1", "b.example", &a, 120, 0), 0);
	assert_int_equal(bindings_count(b), 2);
	/* Two names, one slot: both counted, one copied. */
	assert_int_equal(bindings_names(b, "t1", &a, 1, names, 1), 2);
	assert_int_equal(bindings_names(b, "t1", &a, 60000, names, 1), 1);
	assert_string_equal(names[0], "b.example");
	assert_int_equal(bindings_forget(b, "t1"), 1);
	assert_int_equal(bindings_count(b), 0);
	errno = 0;
	assert_int_equal(bindings_add(b, "t1", "", &a, 60, 0), -1);
	assert_int_equal(errno, EINVAL);
	bindings_free(b);
}

static void
test_cap(void **state)
{
	struct bindings *b;
	char names[1][CANON_NAME_MAX + 1];
	struct ag_addr a[4];

	(void)state;
	a[0] = A("198.19.0.1");
	a[1] = A("198.19.0.2");
	a[2] = A("198.19.0.3");
	a[3] = A("198.19.0.4");
	assert_non_null(b = bindings_new(3));
	assert_int_equal(bindings_add(b, "t", "n.example", &a[0], 100, 0), 0);
	assert_int_equal(bindings_add(b, "t", "n.example", &a[1], 50, 0), 0);
	assert_int_equal(bindings_add(b, "t", "n.example", &a[2], 200, 0), 0);
	/* Full, none expired: the one closest to expiry (a[1]) goes. */
	assert_int_equal(bindings_add(b, "t", "n.example", &a[3], 300, 0), 0);
	assert_int_equal(bindings_count(b), 3);
	assert_int_equal(bindings_names(b, "t", &a[1], 1, names, 1), 0);
	assert_int_equal(bindings_names(b, "t", &a[0], 1, names, 1), 1);
	assert_int_equal(bindings_names(b, "t", &a[3], 1, names, 1), 1);
	bindings_free(b);
	assert_null(bindings_new(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_and_expire),
		cmocka_unit_test(test_ttl_clamp),
		cmocka_unit_test(test_several_names),
		cmocka_unit_test(test_cap),
	};

	return cmocka_run_group_tests_name("nfq_bindings", tests, NULL, NULL);
}
