/*
 * Sandbox address pools: per-task /30 and /126 links carved at the right
 * offsets, the walk's start, wrap and exhaustion, written out by hand.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "pool.h"

static struct ag_cidr
cidr(const char *s)
{
	struct ag_cidr c;

	assert_int_equal(cidr_parse(s, &c), 0);
	return c;
}

static void
assert_addr(const struct ag_addr *a, const char *want)
{
	char buf[AG_ADDR_STRLEN];

	assert_string_equal(addr_format(a, buf, sizeof(buf)), want);
}

static void
test_slots(void **state)
{
	static const struct {
		const char	*pool;
		uint64_t	 slots;
	} cases[] = {
		{ "198.18.0.0/16", 16384 },	/* 2^(30-16) */
		{ "198.18.200.0/22", 256 },
		{ "198.18.200.0/30", 1 },
		{ "198.18.200.0/31", 0 },	/* smaller than one link */
		{ "198.18.200.1/32", 0 },
		{ "10.0.0.0/8", 4194304 },
		{ "fd00:a9:c8::/120", 64 },
		{ "fd00:a9:c8::/126", 1 },
		{ "fd00:a9:c8::/127", 0 },
		{ "fd00:a9:c8::/96", UINT64_C(1) << 30 },
		{ "fd00:a9:c8::/48", POOL_SLOTS_MAX },	/* capped */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ag_cidr c = cidr(cases[i].pool);

		assert_true(pool_slots(&c) == cases[i].slots);
	}
}

static void
test_links(void **state)
{
	static const struct {
		const char	*pool;
		uint64_t	 slot;
		const char	*gw, *sandbox;
		uint8_t		 len;
	} cases[] = {
		{ "198.18.200.0/22", 0, "198.18.200.1", "198.18.200.2", 30 },
		{ "198.18.200.0/22", 1, "198.18.200.5", "198.18.200.6", 30 },
		{ "198.18.200.0/22", 63, "198.18.200.253", "198.18.200.254", 30 },
		/* carry into the third byte */
		{ "198.18.200.0/22", 64, "198.18.201.1", "198.18.201.2", 30 },
		{ "198.18.200.0/22", 255, "198.18.203.253", "198.18.203.254", 30 },
		{ "198.18.0.0/16", 16383, "198.18.255.253", "198.18.255.254", 30 },
		{ "fd00:a9:c8::/48", 0, "fd00:a9:c8::1", "fd00:a9:c8::2", 126 },
		{ "fd00:a9:c8::/48", 10, "fd00:a9:c8::29", "fd00:a9:c8::2a", 126 },
		{ "fd00:a9:c8::/48", 0x4000, "fd00:a9:c8::1:1", "fd00:a9:c8::1:2", 126 },
		{ "fd00:a9:c8::/48", 0xffffffff, "fd00:a9:c8::3:ffff:fffd",
		    "fd00:a9:c8::3:ffff:fffe", 126 },
		{ "fd00:a9:c8:ff00::/120", 63, "fd00:a9:c8:ff00::fd",
		    "fd00:a9:c8:ff00::fe", 126 },
	};
	struct pool_link l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ag_cidr c = cidr(cases[i].pool);

		assert_int_equal(pool_link(&c, cases[i].slot, &l), 0);
		assert_addr(&l.gw, cases[i].gw);
		assert_addr(&l.sandbox, cases[i].sandbox);
		assert_int_equal(l.prefixlen, cases[i].len);
		assert_true(cidr_contains(&c, &l.gw));
		assert_true(cidr_contains(&c, &l.sandbox));
	}
}

static void
test_link_range(void **state)
{
	struct ag_cidr c4 = cidr("198.18.200.0/22"), c6 = cidr("fd00:a9:c8::/120");
	struct ag_cidr small = cidr("198.18.200.0/31");
	struct pool_link l;

	(void)state;
	errno = 0;
	assert_int_equal(pool_link(&c4, 256, &l), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(pool_link(&c6, 64, &l), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(pool_link(&small, 0, &l), -1);
	assert_int_equal(errno, ERANGE);
}

/* A fake registry: addresses taken, and the sandbox addresses tried. */
struct fake {
	const char	*taken[8];	/* sandbox IPv4 or IPv6 addresses in use */
	char		 tried4[32][AG_ADDR_STRLEN];
	char		 tried6[32][AG_ADDR_STRLEN];
	size_t		 ntried;
	int		 fail_errno;	/* non-zero: every try fails with it */
};

static int
fake_try(void *arg, const struct pool_link *l4, const struct pool_link *l6)
{
	struct fake *f = arg;
	char a4[AG_ADDR_STRLEN], a6[AG_ADDR_STRLEN];
	size_t i;

	addr_format(&l4->sandbox, a4, sizeof(a4));
	addr_format(&l6->sandbox, a6, sizeof(a6));
	if (f->ntried < 32) {
		strcpy(f->tried4[f->ntried], a4);
		strcpy(f->tried6[f->ntried], a6);
	}
	f->ntried++;
	if (f->fail_errno != 0) {
		errno = f->fail_errno;
		return -1;
	}
	for (i = 0; i < 8 && f->taken[i] != NULL; i++)
		if (strcmp(f->taken[i], a4) == 0 || strcmp(f->taken[i], a6) == 0) {
			errno = EADDRINUSE;
			return -1;
		}
	return 0;
}

static void
test_allocate_first_free(void **state)
{
	struct ag_cidr c4 = cidr("198.18.200.0/28"), c6 = cidr("fd00:a9:c8::/48");
	struct fake f = { .taken = { "198.18.200.6", "fd00:a9:c8::a" } };
	uint64_t slot = 99;

	(void)state;
	/* Slots 1 and 2 are taken (one by its IPv4, one by its IPv6). */
	assert_int_equal(pool_allocate(&c4, &c6, 1, fake_try, &f, &slot), 0);
	assert_int_equal(slot, 3);
	assert_int_equal(f.ntried, 3);
	assert_string_equal(f.tried4[0], "198.18.200.6");
	assert_string_equal(f.tried4[1], "198.18.200.10");
	assert_string_equal(f.tried6[1], "fd00:a9:c8::a");
	assert_string_equal(f.tried4[2], "198.18.200.14");
	assert_string_equal(f.tried6[2], "fd00:a9:c8::e");
}

static void
test_allocate_wrap(void **state)
{
	/* 4 slots; start 6 is slot 2; 2 and 3 taken: wraps to 0. */
	struct ag_cidr c4 = cidr("198.18.200.0/28"), c6 = cidr("fd00:a9:c8::/48");
	struct fake f = { .taken = { "198.18.200.10", "198.18.200.14" } };
	uint64_t slot = 99;

	(void)state;
	assert_int_equal(pool_allocate(&c4, &c6, 6, fake_try, &f, &slot), 0);
	assert_int_equal(slot, 0);
	assert_int_equal(f.ntried, 3);
	assert_string_equal(f.tried4[2], "198.18.200.2");
	assert_string_equal(f.tried6[2], "fd00:a9:c8::2");
}

static void
test_allocate_v6_smaller(void **state)
{
	/* 4 IPv4 slots, 2 IPv6 slots: IPv4 slot 3 pairs with IPv6 slot 1. */
	struct ag_cidr c4 = cidr("198.18.200.0/28"), c6 = cidr("fd00:a9:c8::/125");
	struct fake f = { .taken = { "198.18.200.2" } };
	uint64_t slot = 99;

	(void)state;
	assert_int_equal(pool_allocate(&c4, &c6, 3, fake_try, &f, &slot), 0);
	assert_int_equal(slot, 3);
	assert_string_equal(f.tried6[0], "fd00:a9:c8::6");
}

static void
test_allocate_exhausted(void **state)
{
	struct ag_cidr c4 = cidr("198.18.200.0/29"), c6 = cidr("fd00:a9:c8::/48");
	struct ag_cidr tiny = cidr("198.18.200.0/31");
	struct fake f = { .taken = { "198.18.200.2", "198.18.200.6" } };
	struct fake none = { .taken = { NULL } };
	uint64_t slot = 99;

	(void)state;
	errno = 0;
	assert_int_equal(pool_allocate(&c4, &c6, 0, fake_try, &f, &slot), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(f.ntried, 2);	/* each slot once */
	assert_int_equal(slot, 99);
	/* A pool too small for one link: nothing is tried. */
	assert_int_equal(pool_allocate(&tiny, &c6, 0, fake_try, &none, &slot), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(none.ntried, 0);
}

static void
test_allocate_error_stops(void **state)
{
	struct ag_cidr c4 = cidr("198.18.200.0/22"), c6 = cidr("fd00:a9:c8::/48");
	struct fake f = { .fail_errno = EEXIST };
	uint64_t slot;

	(void)state;
	assert_int_equal(pool_allocate(&c4, &c6, 0, fake_try, &f, &slot), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(f.ntried, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_link_range),
		cmocka_unit_test(test_allocate_first_free),
		cmocka_unit_test(test_allocate_wrap),
		cmocka_unit_test(test_allocate_v6_smaller),
		cmocka_unit_test(test_allocate_exhausted),
		cmocka_unit_test(test_allocate_error_stops),
	};

	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
