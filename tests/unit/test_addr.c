/*
 * addr.c: strict parsing and formatting, CIDR parsing and matching at the
 * prefix edges of both families, and the address classification table.
 * Expected bytes come from inet_pton in the test, not from addr.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "addr.h"

/* The family and bytes `text` stands for, by inet_pton alone. */
static void
expect_addr(const struct ag_addr *got, int family, const char *text)
{
	uint8_t want[16];

	assert_int_equal(inet_pton(family, text, want), 1);
	assert_int_equal(got->family, family);
	assert_memory_equal(got->u.bytes, want, family == AF_INET ? 4 : 16);
}

static const struct {
	const char	*in;
	int		 family;	/* 0: must fail */
	const char	*canonical;	/* addr_format() of the result */
} parse_cases[] = {
	{ "1.2.3.4", AF_INET, "1.2.3.4" },
	{ "0.0.0.0", AF_INET, "0.0.0.0" },
	{ "255.255.255.255", AF_INET, "255.255.255.255" },
	{ "::", AF_INET6, "::" },
	{ "::1", AF_INET6, "::1" },
	{ "2001:DB8:0:0::1", AF_INET6, "2001:db8::1" },
	{ "fe80::a:b:c:d", AF_INET6, "fe80::a:b:c:d" },
	{ "::ffff:1.2.3.4", AF_INET, "1.2.3.4" },
	{ "::ffff:a9fe:a9fe", AF_INET, "169.254.169.254" },
	{ "64:ff9b::1.2.3.4", AF_INET6, "64:ff9b::102:304" },
	{ "", 0, NULL },
	{ "1.2.3", 0, NULL },
	{ "01.2.3.4", 0, NULL },
	{ "1.2.3.4.", 0, NULL },
	{ " 1.2.3.4", 0, NULL },
	{ "1.2.3.4 ", 0, NULL },
	{ "0x7f000001", 0, NULL },
	{ "2130706433", 0, NULL },
	{ "256.0.0.0", 0, NULL },
	{ "[::1]", 0, NULL },
	{ "fe80::1%1", 0, NULL },
	{ "fe80::1%eth0", 0, NULL },
	{ "1:2:3:4:5:6:7:8:9", 0, NULL },
	{ "example.com", 0, NULL },
};

static void
test_parse_format(void **state)
{
	char buf[AG_ADDR_STRLEN];
	struct ag_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const char *in = parse_cases[i].in;

		if (parse_cases[i].family == 0) {
			errno = 0;
			if (addr_parse(in, &a) != -1)
				fail_msg("\"%s\" parsed", in);
			assert_int_equal(errno, EINVAL);
			continue;
		}
		if (addr_parse(in, &a) != 0)
			fail_msg("\"%s\" did not parse", in);
		expect_addr(&a, parse_cases[i].family, parse_cases[i].canonical);
		assert_string_equal(addr_format(&a, buf, sizeof(buf)),
		    parse_cases[i].canonical);
		/* and the canonical text parses back to the same value */
		struct ag_addr b;

		assert_int_equal(addr_parse(buf, &b), 0);
		assert_true(addr_equal(&a, &b));
	}
}

static void
test_format_limits(void **state)
{
	char buf[AG_ADDR_STRLEN];
	char small[4] = "xxx";
	struct ag_addr a;

	(void)state;
	assert_int_equal(addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &a), 0);
	addr_format(&a, buf, sizeof(buf));
	assert_true(strlen(buf) < AG_ADDR_STRLEN);
	/* too small: still a terminated string */
	addr_format(&a, small, sizeof(small));
	assert_true(memchr(small, '\0', sizeof(small)) != NULL);
}

static void
test_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	struct ag_addr a;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "198.18.0.1", &sin.sin_addr), 1);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin, &a), 0);
	expect_addr(&a, AF_INET, "198.18.0.1");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:198.18.0.1", &sin6.sin6_addr), 1);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	expect_addr(&a, AF_INET, "198.18.0.1");

	assert_int_equal(inet_pton(AF_INET6, "fd00::1", &sin6.sin6_addr), 1);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	expect_addr(&a, AF_INET6, "fd00::1");
	assert_int_equal(addr_size(&a), 16);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	errno = 0;
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sun, &a), -1);
	assert_int_equal(errno, EAFNOSUPPORT);

	addr_from_v4(htonl(0x7f000001), &a);
	expect_addr(&a, AF_INET, "127.0.0.1");
	assert_int_equal(addr_size(&a), 4);
}

static void
test_equal(void **state)
{
	struct ag_addr a, b;

	(void)state;
	assert_int_equal(addr_parse("1.2.3.4", &a), 0);
	assert_int_equal(addr_parse("::ffff:1.2.3.4", &b), 0);
	assert_true(addr_equal(&a, &b));
	assert_int_equal(addr_parse("::102:304", &b), 0);	/* same bytes, other family */
	assert_false(addr_equal(&a, &b));
	assert_int_equal(addr_parse("1.2.3.5", &b), 0);
	assert_false(addr_equal(&a, &b));
}

static const struct {
	const char	*in;
	int		 family;	/* 0: must fail */
	const char	*addr;
	unsigned int	 len;
} cidr_cases[] = {
	{ "10.0.0.0/8", AF_INET, "10.0.0.0", 8 },
	{ "0.0.0.0/0", AF_INET, "0.0.0.0", 0 },
	{ "1.2.3.4/32", AF_INET, "1.2.3.4", 32 },
	{ "1.2.3.4", AF_INET, "1.2.3.4", 32 },
	{ "128.0.0.0/1", AF_INET, "128.0.0.0", 1 },
	{ "198.18.0.0/15", AF_INET, "198.18.0.0", 15 },
	{ "::/0", AF_INET6, "::", 0 },
	{ "::1/128", AF_INET6, "::1", 128 },
	{ "::1", AF_INET6, "::1", 128 },
	{ "2001:db8::/32", AF_INET6, "2001:db8::", 32 },
	{ "fd00::/8", AF_INET6, "fd00::", 8 },
	{ "fe80::/10", AF_INET6, "fe80::", 10 },
	{ "::ffff:10.0.0.0/104", AF_INET, "10.0.0.0", 8 },
	{ "::ffff:0:0/96", AF_INET, "0.0.0.0", 0 },
	{ "::ffff:1.2.3.4/128", AF_INET, "1.2.3.4", 32 },
	{ "1.2.3.4/33", 0, NULL, 0 },
	{ "::/129", 0, NULL, 0 },
	{ "10.0.0.1/8", 0, NULL, 0 },
	{ "1.2.3.5/31", 0, NULL, 0 },
	{ "1.2.3.4/31", AF_INET, "1.2.3.4", 31 },
	{ "2001:db8::1/64", 0, NULL, 0 },
	{ "::ffff:0:0/80", 0, NULL, 0 },
	{ "10.0.0.0/08", 0, NULL, 0 },
	{ "10.0.0.0/00", 0, NULL, 0 },
	{ "10.0.0.0/+8", 0, NULL, 0 },
	{ "10.0.0.0/-0", 0, NULL, 0 },
	{ "10.0.0.0/", 0, NULL, 0 },
	{ "10.0.0.0/8x", 0, NULL, 0 },
	{ "10.0.0.0/ 8", 0, NULL, 0 },
	{ "10.0.0.0//8", 0, NULL, 0 },
	{ "10.0.0.0/8/8", 0, NULL, 0 },
	{ "10.0.0.0/0008", 0, NULL, 0 },
	{ "10.0.0.0/4294967304", 0, NULL, 0 },
	{ "/8", 0, NULL, 0 },
	{ "", 0, NULL, 0 },
	{ "10/8", 0, NULL, 0 },
	{ "10.0.0.0 /8", 0, NULL, 0 },
	{ "[::1]/128", 0, NULL, 0 },
	{ "fe80::%1/64", 0, NULL, 0 },
};

static void
test_cidr_parse(void **state)
{
	struct ag_cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		const char *in = cidr_cases[i].in;

		if (cidr_cases[i].family == 0) {
			errno = 0;
			if (cidr_parse(in, &c) != -1)
				fail_msg("\"%s\" parsed", in);
			assert_int_equal(errno, EINVAL);
			continue;
		}
		if (cidr_parse(in, &c) != 0)
			fail_msg("\"%s\" did not parse", in);
		expect_addr(&c.addr, cidr_cases[i].family, cidr_cases[i].addr);
		assert_int_equal(c.len, cidr_cases[i].len);
	}
}

static const struct {
	const char	*cidr;
	const char	*addr;
	bool		 in;
} contains_cases[] = {
	{ "10.0.0.0/8", "10.0.0.0", true },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "128.0.0.0/9", "128.127.255.255", true },
	{ "128.0.0.0/9", "128.128.0.0", false },
	{ "198.18.0.0/15", "198.19.255.255", true },
	{ "198.18.0.0/15", "198.20.0.0", false },
	{ "198.18.0.0/15", "198.17.255.255", false },
	{ "1.2.3.4/32", "1.2.3.4", true },
	{ "1.2.3.4/32", "1.2.3.5", false },
	{ "1.2.3.4/31", "1.2.3.5", true },
	{ "1.2.3.4/31", "1.2.3.6", false },
	{ "1.2.3.5/31", "1.2.3.5", false },	/* not parsed: host bits */
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "::", false },
	{ "0.0.0.0/0", "::ffff:1.2.3.4", true },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "1.2.3.4", false },
	{ "::/0", "::ffff:1.2.3.4", false },
	{ "::1/128", "::1", true },
	{ "::1/128", "::2", false },
	{ "::/128", "::", true },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32", "2001:db9::", false },
	{ "2001:db8::/32", "2001:db7:ffff::", false },
	{ "2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", true },
	{ "2001:db8::/65", "2001:db8::8000:0:0:0", false },
	{ "fe80::/10", "febf:ffff::1", true },
	{ "fe80::/10", "fec0::", false },
	{ "::ffff:10.0.0.0/104", "10.1.2.3", true },
	{ "::ffff:10.0.0.0/104", "11.1.2.3", false },
};

static void
test_cidr_contains(void **state)
{
	struct ag_cidr c;
	struct ag_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(contains_cases) / sizeof(contains_cases[0]); i++) {
		if (cidr_parse(contains_cases[i].cidr, &c) == -1) {
			/* Only the host-bits case is meant to be unparseable. */
			assert_false(contains_cases[i].in);
			continue;
		}
		assert_int_equal(addr_parse(contains_cases[i].addr, &a), 0);
		if (cidr_contains(&c, &a) != contains_cases[i].in)
			fail_msg("%s contains %s: want %d", contains_cases[i].cidr,
			    contains_cases[i].addr, contains_cases[i].in);
	}
}

static const struct {
	const char	*addr;
	enum addr_class	 want;
} class_cases[] = {
	{ "0.0.0.0", ADDR_UNSPECIFIED },
	{ "0.255.255.255", ADDR_UNSPECIFIED },
	{ "127.0.0.1", ADDR_LOOPBACK },
	{ "127.255.255.254", ADDR_LOOPBACK },
	{ "169.254.169.254", ADDR_METADATA },
	{ "169.254.169.253", ADDR_LINKLOCAL },
	{ "169.254.0.1", ADDR_LINKLOCAL },
	{ "169.255.0.1", ADDR_PUBLIC },
	{ "10.0.0.1", ADDR_PRIVATE },
	{ "172.16.0.1", ADDR_PRIVATE },
	{ "172.31.255.255", ADDR_PRIVATE },
	{ "172.15.255.255", ADDR_PUBLIC },
	{ "172.32.0.0", ADDR_PUBLIC },
	{ "192.168.1.1", ADDR_PRIVATE },
	{ "192.169.0.0", ADDR_PUBLIC },
	{ "100.64.0.1", ADDR_PRIVATE },
	{ "100.127.255.255", ADDR_PRIVATE },
	{ "100.63.255.255", ADDR_PUBLIC },
	{ "100.128.0.0", ADDR_PUBLIC },
	{ "198.18.0.1", ADDR_PRIVATE },
	{ "198.19.255.255", ADDR_PRIVATE },
	{ "198.17.255.255", ADDR_PUBLIC },
	{ "198.20.0.0", ADDR_PUBLIC },
	{ "224.0.0.1", ADDR_MULTICAST },
	{ "239.255.255.255", ADDR_MULTICAST },
	{ "240.0.0.1", ADDR_RESERVED },
	{ "255.255.255.255", ADDR_RESERVED },
	{ "1.1.1.1", ADDR_PUBLIC },
	{ "8.8.8.8", ADDR_PUBLIC },
	{ "223.255.255.255", ADDR_PUBLIC },
	{ "::", ADDR_UNSPECIFIED },
	{ "::1", ADDR_LOOPBACK },
	{ "::2", ADDR_RESERVED },
	{ "::127.0.0.1", ADDR_LOOPBACK },
	{ "::169.254.169.254", ADDR_METADATA },
	{ "::ffff:127.0.0.1", ADDR_LOOPBACK },
	{ "::ffff:169.254.169.254", ADDR_METADATA },
	{ "64:ff9b::127.0.0.1", ADDR_LOOPBACK },
	{ "64:ff9b::8.8.8.8", ADDR_PUBLIC },
	{ "fe80::1", ADDR_LINKLOCAL },
	{ "febf:ffff::1", ADDR_LINKLOCAL },
	{ "fec0::1", ADDR_PRIVATE },
	{ "::0.0.0.2", ADDR_RESERVED },
	{ "::8.8.8.8", ADDR_RESERVED },
	{ "fd00:ec2::254", ADDR_METADATA },
	{ "fd00:ec2::253", ADDR_PRIVATE },
	{ "fd00::1", ADDR_PRIVATE },
	{ "fc00::1", ADDR_PRIVATE },
	{ "fbff::1", ADDR_PUBLIC },
	{ "ff02::1", ADDR_MULTICAST },
	{ "ff0e::1", ADDR_MULTICAST },
	{ "2001:4860:4860::8888", ADDR_PUBLIC },
};

static void
test_classify(void **state)
{
	struct ag_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(class_cases) / sizeof(class_cases[0]); i++) {
		enum addr_class got;

		assert_int_equal(addr_parse(class_cases[i].addr, &a), 0);
		got = addr_classify(&a);
		if (got != class_cases[i].want)
			fail_msg("%s: got %s, want %s", class_cases[i].addr,
			    addr_class_name(got), addr_class_name(class_cases[i].want));
	}

	/* a hand-built mapped value is judged by its IPv4 part too */
	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.1.1", a.u.bytes), 1);
	assert_int_equal(addr_classify(&a), ADDR_PRIVATE);
}

static void
test_class_names(void **state)
{
	(void)state;
	assert_string_equal(addr_class_name(ADDR_PUBLIC), "public");
	assert_string_equal(addr_class_name(ADDR_METADATA), "metadata");
	assert_string_equal(addr_class_name(ADDR_LINKLOCAL), "link-local");
	assert_string_equal(addr_class_name(ADDR_RESERVED), "reserved");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_format_limits),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_class_names),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
