/*
 * canon_host(): every spelling of a host that a client or policy may write,
 * with the canonical form or error it must give. Expected A-labels were
 * computed with Python's punycode codec; addresses are compared as bytes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "canon.h"

struct canon_case {
	const char		*in;
	size_t			 len;
	enum canon_result	 want;
	const char		*name;	/* CANON_NAME: the name; CANON_ADDRESS: the address */
};

/* Length from sizeof, so inputs may hold a NUL. */
#define C(s, r, n)	{ s, sizeof(s) - 1, r, n }
#define NAME(s, n)	C(s, CANON_NAME, n)
#define ADDR(s, a)	C(s, CANON_ADDRESS, a)
#define ERR(s, r)	C(s, r, NULL)

static const struct canon_case cases[] = {
	/* case and trailing dots */
	NAME("example.com", "example.com"),
	NAME("Example.COM", "example.com"),
	NAME("EXAMPLE.COM.", "example.com"),
	NAME("localhost", "localhost"),
	NAME("a", "a"),
	NAME("a.", "a"),
	NAME("_dmarc.example.com", "_dmarc.example.com"),
	NAME("a-b.c--d.example", "a-b.c--d.example"),
	NAME("0xg.com", "0xg.com"),
	NAME("example.0xg", "example.0xg"),
	NAME("1a.example", "1a.example"),
	NAME("example.123a", "example.123a"),
	ERR("example.com..", CANON_ERR_LABEL_EMPTY),
	ERR("", CANON_ERR_EMPTY),
	ERR(".", CANON_ERR_EMPTY),
	ERR("..", CANON_ERR_LABEL_EMPTY),
	ERR(".example.com", CANON_ERR_LABEL_EMPTY),
	ERR("a..b", CANON_ERR_LABEL_EMPTY),
	ERR("example..com.", CANON_ERR_LABEL_EMPTY),

	/* IDNA: German, Cyrillic, Chinese, uppercase non-ASCII, UTS#46 dots */
	NAME("b\xc3\xbc" "cher.de", "xn--bcher-kva.de"),
	NAME("B\xc3\x9c" "CHER.de", "xn--bcher-kva.de"),
	NAME("b\xc3\xbc" "cher.de.", "xn--bcher-kva.de"),
	NAME("fa\xc3\x9f.de", "xn--fa-hia.de"),	/* non-transitional: ß kept */
	NAME("\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
	    "xn--e1afmkfd.xn--p1ai"),
	NAME("\xd0\x9f\xd0\xa0\xd0\x98\xd0\x9c\xd0\x95\xd0\xa0.\xd0\xa0\xd0\xa4",
	    "xn--e1afmkfd.xn--p1ai"),
	/* 例子。测试 with the ideographic full stop */
	NAME("\xe4\xbe\x8b\xe5\xad\x90\xe3\x80\x82\xe6\xb5\x8b\xe8\xaf\x95",
	    "xn--fsqu00a.xn--0zwm56d"),
	NAME("example\xe3\x80\x82" "com", "example.com"),	/* U+3002 */
	NAME("example\xef\xbc\x8e" "com", "example.com"),	/* U+FF0E */
	NAME("example\xef\xbd\xa1" "com", "example.com"),	/* U+FF61 */
	NAME("example.com\xe3\x80\x82", "example.com"),	/* as trailing dot */
	/* fullwidth ｅｘａｍｐｌｅ．ｃｏｍ */
	NAME("\xef\xbd\x85\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x90"
	    "\xef\xbd\x8c\xef\xbd\x85\xef\xbc\x8e\xef\xbd\x83\xef\xbd\x8f"
	    "\xef\xbd\x8d", "example.com"),
	ERR("b\xc3\xbc" "cher.de..", CANON_ERR_LABEL_EMPTY),
	ERR("a\xef\xbc\x85" "b.com", CANON_ERR_CHAR),	/* fullwidth % maps to % */
	ERR("\xc3(.com", CANON_ERR_IDNA),		/* broken UTF-8 */
	ERR("\xff.com", CANON_ERR_IDNA),
	ERR("\xc0\xae.com", CANON_ERR_IDNA),		/* overlong '.' */
	ERR("\xed\xa0\x80.com", CANON_ERR_IDNA),	/* surrogate */
	NAME("a\xc3\xbc", "xn--a-eha"),
	NAME("\xc3\xbc.example", "xn--tda.example"),

	/* A-labels: valid ones pass, broken or non-canonical ones do not */
	NAME("xn--bcher-kva.de", "xn--bcher-kva.de"),
	NAME("XN--BCHER-KVA.DE", "xn--bcher-kva.de"),
	NAME("Xn--e1afmkfd.xn--p1ai.", "xn--e1afmkfd.xn--p1ai"),
	ERR("xn--.com", CANON_ERR_HYPHEN),
	ERR("xn---.com", CANON_ERR_HYPHEN),
	ERR("xn--zz.com", CANON_ERR_IDNA),
	ERR("xn--bcher-2pa.de", CANON_ERR_IDNA),	/* encodes bÜcher */
	ERR("xn--u-ccb.com", CANON_ERR_IDNA),		/* encodes u + U+0308, not NFC */
	ERR("xn--abc-.com", CANON_ERR_HYPHEN),

	/* each forbidden byte on its own */
	ERR("a\0b.com", CANON_ERR_CHAR),
	ERR("example.com\0", CANON_ERR_CHAR),
	ERR("a%b.com", CANON_ERR_CHAR),
	ERR("a%2eb.com", CANON_ERR_CHAR),
	ERR("a/b.com", CANON_ERR_CHAR),
	ERR("a b.com", CANON_ERR_CHAR),
	ERR(" example.com", CANON_ERR_CHAR),
	ERR("a\tb.com", CANON_ERR_CHAR),
	ERR("a\rb.com", CANON_ERR_CHAR),
	ERR("a\nb.com", CANON_ERR_CHAR),
	ERR("a\x7f" "b.com", CANON_ERR_CHAR),
	ERR("a\x01" "b.com", CANON_ERR_CHAR),
	ERR("*.example.com", CANON_ERR_CHAR),
	ERR("user@example.com", CANON_ERR_CHAR),
	ERR("a\\b.com", CANON_ERR_CHAR),
	ERR("example.com:443", CANON_ERR_CHAR),
	ERR("a+b.com", CANON_ERR_CHAR),
	ERR("a,b.com", CANON_ERR_CHAR),
	ERR("a]b.com", CANON_ERR_CHAR),

	/* hyphens */
	ERR("-a.com", CANON_ERR_HYPHEN),
	ERR("a-.com", CANON_ERR_HYPHEN),
	ERR("a.-com", CANON_ERR_HYPHEN),
	ERR("a.com-", CANON_ERR_HYPHEN),
	ERR("-", CANON_ERR_HYPHEN),
	ERR("-\xc3\xbc.de", CANON_ERR_HYPHEN),

	/* IPv4 in every inet_aton spelling */
	ADDR("127.0.0.1", "127.0.0.1"),
	ADDR("2130706433", "127.0.0.1"),
	ADDR("0x7f000001", "127.0.0.1"),
	ADDR("0X7F000001", "127.0.0.1"),
	ADDR("017700000001", "127.0.0.1"),
	ADDR("0177.0.0.1", "127.0.0.1"),
	ADDR("0177.0.0.01", "127.0.0.1"),
	ADDR("127.1", "127.0.0.1"),
	ADDR("127.0.1", "127.0.0.1"),
	ADDR("127.0.0.1.", "127.0.0.1"),
	ADDR("127.1.", "127.0.0.1"),
	ADDR("0x7f.1", "127.0.0.1"),
	ADDR("0x7f.0x0.0x0.0x1", "127.0.0.1"),
	ADDR("0", "0.0.0.0"),
	ADDR("0x", "0.0.0.0"),
	ADDR("1.0x", "1.0.0.0"),
	ADDR("4294967295", "255.255.255.255"),
	ADDR("0xffffffff", "255.255.255.255"),
	ADDR("1.16777215", "1.255.255.255"),
	ADDR("1.2.65535", "1.2.255.255"),
	ADDR("169.254.169.254", "169.254.169.254"),
	ADDR("0251.0376.0251.0376", "169.254.169.254"),
	/* １２７.０.０.１: fullwidth digits map to an address, not a name */
	ADDR("\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.\xef\xbc\x90.\xef\xbc\x90."
	    "\xef\xbc\x91", "127.0.0.1"),
	ADDR("127\xe3\x80\x82" "0\xe3\x80\x82" "0\xe3\x80\x82" "1", "127.0.0.1"),
	ERR("4294967296", CANON_ERR_NUMERIC),
	ERR("0x100000000", CANON_ERR_NUMERIC),
	ERR("1.16777216", CANON_ERR_NUMERIC),
	ERR("1.2.65536", CANON_ERR_NUMERIC),
	ERR("256.1.1.1", CANON_ERR_NUMERIC),
	ERR("1.2.3.256", CANON_ERR_NUMERIC),
	ERR("1.2.3.4.5", CANON_ERR_NUMERIC),
	ERR("1.2.3.08", CANON_ERR_NUMERIC),
	ERR("09.1.1.1", CANON_ERR_NUMERIC),
	ERR("0x1g.1", CANON_ERR_NUMERIC),
	ERR("example.123", CANON_ERR_NUMERIC),
	ERR("example.0x1", CANON_ERR_NUMERIC),
	ERR("1..1", CANON_ERR_NUMERIC),
	ERR("99999999999999999999999", CANON_ERR_NUMERIC),
	ERR("127.0.0.1..", CANON_ERR_LABEL_EMPTY),

	/* IPv6, bracketed or not; mapped IPv4 comes back as IPv4 */
	ADDR("::1", "::1"),
	ADDR("[::1]", "::1"),
	ADDR("2001:DB8::1", "2001:db8::1"),
	ADDR("[2001:db8:0:0:0:0:0:1]", "2001:db8::1"),
	ADDR("::ffff:169.254.169.254", "169.254.169.254"),
	ADDR("[::ffff:a9fe:a9fe]", "169.254.169.254"),
	ADDR("::ffff:127.0.0.1", "127.0.0.1"),
	ERR("fe80::1%eth0", CANON_ERR_CHAR),
	ERR("[fe80::1%25eth0]", CANON_ERR_CHAR),
	ERR("[fe80::1%1]", CANON_ERR_CHAR),
	ERR("[127.0.0.1]", CANON_ERR_CHAR),
	ERR("[example.com]", CANON_ERR_CHAR),
	ERR("[::1", CANON_ERR_CHAR),
	ERR("::1]", CANON_ERR_CHAR),
	ERR("[::1]:443", CANON_ERR_CHAR),
	ERR("[]", CANON_ERR_CHAR),
	ERR("[", CANON_ERR_CHAR),
	ERR("[[::1]]", CANON_ERR_CHAR),
	ERR("1:2", CANON_ERR_CHAR),
	ERR(":::", CANON_ERR_CHAR),
};

static void
expect_address(const struct ag_addr *got, const char *text)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, text, &v4) == 1) {
		assert_int_equal(got->family, AF_INET);
		assert_memory_equal(got->u.bytes, &v4, 4);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &v6), 1);
		assert_int_equal(got->family, AF_INET6);
		assert_memory_equal(got->u.bytes, &v6, 16);
	}
}

static void
check(const char *in, size_t len, enum canon_result want, const char *name)
{
	struct canon_out out;
	enum canon_result r;

	r = canon_host(in, len, &out);
	if (r != want)
		fail_msg("\"%.*s\" (%zu bytes): got %s, want %s", (int)len, in,
		    len, canon_strerror(r), canon_strerror(want));
	if (r == CANON_NAME) {
		assert_string_equal(out.name, name);
		assert_int_equal(out.len, strlen(name));
	} else if (r == CANON_ADDRESS) {
		expect_address(&out.addr, name);
	}
}

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(cases[i].in, cases[i].len, cases[i].want, cases[i].name);
}

/* The input is bytes plus length: nothing past len may be read. */
static void
test_not_nul_terminated(void **state)
{
	const char buf[] = "example.comXYZ";
	struct canon_out out;

	(void)state;
	assert_int_equal(canon_host(buf, 11, &out), CANON_NAME);
	assert_string_equal(out.name, "example.com");
	assert_int_equal(canon_host("127.0.0.1junk", 9, &out), CANON_ADDRESS);
	expect_address(&out.addr, "127.0.0.1");
}

static void
fill_label(char *p, size_t n, char c)
{
	memset(p, c, n);
}

static void
test_label_length(void **state)
{
	char buf[128], want[128];

	(void)state;
	fill_label(buf, 63, 'a');
	memcpy(buf + 63, ".com", 5);
	memcpy(want, buf, sizeof(buf));
	check(buf, strlen(buf), CANON_NAME, want);

	fill_label(buf, 64, 'a');
	memcpy(buf + 64, ".com", 5);
	check(buf, strlen(buf), CANON_ERR_LABEL_LONG, NULL);

	/* 64 after lowercasing is still 64 */
	fill_label(buf, 64, 'A');
	memcpy(buf + 64, ".com", 5);
	check(buf, strlen(buf), CANON_ERR_LABEL_LONG, NULL);

	/* over-long label after IDNA: ü plus 58 a's is xn-- + 58 a's + "-xka" */
	memcpy(buf, "\xc3\xbc", 2);
	fill_label(buf + 2, 58, 'a');
	memcpy(buf + 60, ".de", 4);
	check(buf, strlen(buf), CANON_ERR_LABEL_LONG, NULL);
}

/* Four labels 63+1+63+1+63+1+n: n = 61 gives 253 octets. */
static void
make_name(char *buf, size_t last, char c)
{
	size_t i, off = 0;

	for (i = 0; i < 3; i++) {
		fill_label(buf + off, 63, c);
		off += 63;
		buf[off++] = '.';
	}
	fill_label(buf + off, last, c);
	off += last;
	buf[off] = '\0';
}

static void
test_name_length(void **state)
{
	char buf[300], want[300];

	(void)state;
	make_name(buf, 61, 'b');
	assert_int_equal(strlen(buf), 253);
	memcpy(want, buf, sizeof(buf));
	check(buf, 253, CANON_NAME, want);

	/* a trailing dot does not count */
	buf[253] = '.';
	buf[254] = '\0';
	check(buf, 254, CANON_NAME, want);

	make_name(buf, 62, 'b');
	assert_int_equal(strlen(buf), 254);
	check(buf, 254, CANON_ERR_NAME_LONG, NULL);

	/* whatever its length, an input with a NUL is refused for the NUL */
	make_name(buf, 62, 'b');
	buf[10] = '\0';
	check(buf, 254, CANON_ERR_CHAR, NULL);
}

static void
test_huge_input(void **state)
{
	static char buf[5000];
	struct canon_out out;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(canon_host(buf, sizeof(buf), &out), CANON_ERR_NAME_LONG);
	/* soft hyphens (U+00AD) map to nothing, but not past the input cap */
	for (size_t i = 0; i + 1 < sizeof(buf); i += 2)
		memcpy(buf + i, "\xc2\xad", 2);
	assert_int_equal(canon_host(buf, sizeof(buf), &out), CANON_ERR_NAME_LONG);
	/* a few of them inside a label just vanish (UTS#46 mapping) */
	check("ex\xc2\xad" "ample.com", 13, CANON_NAME, "example.com");
}

static void
test_strerror(void **state)
{
	int r;

	(void)state;
	for (r = CANON_NAME; r <= CANON_ERR_HYPHEN; r++) {
		const char *s = canon_strerror((enum canon_result)r);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		for (const char *p = s; *p; p++)
			assert_false(*p >= 'A' && *p <= 'Z');
	}
	assert_string_equal(canon_strerror(CANON_ERR_LABEL_EMPTY), "empty label");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_label_length),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_huge_input),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("canon", tests, NULL, NULL);
}
