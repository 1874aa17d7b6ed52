/*
 * Unit tests for the JSON writer: escaping of hostile strings (quotes,
 * control bytes, invalid UTF-8) and structure. Expected bytes are written
 * out by hand from RFC 8259 and Unicode 15 section 3.9.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "json.h"

struct esc_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*out;		/* with the quotes */
};

#define C(name, in, out) { name, in, sizeof(in) - 1, out }

static const struct esc_case esc_cases[] = {
	C("empty", "", "\"\""),
	C("plain", "example.com", "\"example.com\""),
	C("quote", "a\"b", "\"a\\\"b\""),
	C("backslash", "a\\b", "\"a\\\\b\""),
	C("newline", "a\nb", "\"a\\nb\""),
	C("cr tab bs ff", "\r\t\b\f", "\"\\r\\t\\b\\f\""),
	C("nul", "a\0b", "\"a\\u0000b\""),
	C("other controls", "\x01\x1b\x1f", "\"\\u0001\\u001b\\u001f\""),
	C("del", "\x7f", "\"\\u007f\""),
	C("forged field", "x\",\"event\":{\"action\":\"evil",
	    "\"x\\\",\\\"event\\\":{\\\"action\\\":\\\"evil\""),
	C("second event", "a\n{\"@timestamp\":1}\n",
	    "\"a\\n{\\\"@timestamp\\\":1}\\n\""),
	C("slash kept", "a/b", "\"a/b\""),
	C("2-byte utf8", "caf\xc3\xa9", "\"caf\xc3\xa9\""),
	C("3-byte utf8", "\xe2\x82\xac", "\"\xe2\x82\xac\""),
	C("4-byte utf8", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""),
	C("max code point", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""),
	C("C1 control U+0085", "\xc2\x85", "\"\\u0085\""),
	C("U+2028", "\xe2\x80\xa8", "\"\\u2028\""),
	C("U+2029", "\xe2\x80\xa9", "\"\\u2029\""),
	C("lone continuation", "\x80", "\"\xef\xbf\xbd\""),
	C("two continuations", "\x80\xbf", "\"\xef\xbf\xbd\xef\xbf\xbd\""),
	C("overlong slash c0 af", "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""),
	C("overlong e0 80 af", "\xe0\x80\xaf",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""),
	C("overlong f0 80 80 af", "\xf0\x80\x80\xaf",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""),
	C("surrogate d800", "\xed\xa0\x80",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""),
	C("above U+10FFFF", "\xf4\x90\x80\x80",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""),
	C("f5 lead", "\xf5\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\""),
	C("ff byte", "a\xff" "b", "\"a\xef\xbf\xbd" "b\""),
	/* A truncated sequence is one maximal subpart: one U+FFFD. */
	C("truncated 3-byte at end", "a\xe2\x82", "\"a\xef\xbf\xbd\""),
	C("truncated 4-byte at end", "\xf0\x9f\x98", "\"\xef\xbf\xbd\""),
	C("truncated before ascii", "\xe2\x82" "x", "\"\xef\xbf\xbd" "x\""),
	C("truncated before quote", "\xc3\"", "\"\xef\xbf\xbd\\\"\""),
	C("truncated before newline", "\xf0\x9f\n", "\"\xef\xbf\xbd\\n\""),
};

static void
test_escape_table(void **state)
{
	struct json_buf j;
	size_t i;

	for (i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		const struct esc_case *c = &esc_cases[i];

		json_init(&j, NULL, 0);
		assert_int_equal(json_str(&j, c->in, c->len), 0);
		if (j.len != strlen(c->out) || memcmp(j.data, c->out, j.len) != 0)
			fail_msg("case \"%s\": got %.*s want %s", c->name,
			    (int)j.len, j.data, c->out);
		json_free(&j);
	}
}

static void
test_structure(void **state)
{
	static const char want[] =
	    "{\"a\":1,\"b\":{\"c\":[\"x\",-2,true,false,{}],\"d\":[]},"
	    "\"e\":18446744073709551615,\"f\":-9223372036854775808}";
	char stack[8];		/* small: forces the move to the heap */
	struct json_buf j;

	json_init(&j, stack, sizeof(stack));
	json_obj_begin(&j);
	json_key(&j, "a");
	json_int(&j, 1);
	json_key(&j, "b");
	json_obj_begin(&j);
	json_key(&j, "c");
	json_arr_begin(&j);
	json_cstr(&j, "x");
	json_int(&j, -2);
	json_boolean(&j, true);
	json_boolean(&j, false);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	json_key(&j, "d");
	json_arr_begin(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	json_key(&j, "e");
	json_uint(&j, UINT64_MAX);
	json_key(&j, "f");
	json_int(&j, INT64_MIN);
	json_obj_end(&j);
	assert_int_equal(json_error(&j), 0);
	assert_int_equal(j.len, strlen(want));
	assert_memory_equal(j.data, want, j.len);
	assert_true(j.heap);
	json_reset(&j);
	assert_int_equal(j.len, 0);
	json_free(&j);
}

/* Whatever bytes go in, the result is one line that json-c parses back to
 * a string, and the printable ASCII survives unchanged. */
static void
test_random_bytes_roundtrip(void **state)
{
	unsigned char in[64];
	struct json_buf j;
	struct json_tokener *tok;
	json_object *o;
	unsigned int seed = 12345;
	size_t i, k;

	tok = json_tokener_new();
	for (i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(in));

		for (k = 0; k < len; k++)
			in[k] = (unsigned char)rand_r(&seed);
		json_init(&j, NULL, 0);
		assert_int_equal(json_str(&j, (char *)in, len), 0);
		assert_null(memchr(j.data, '\n', j.len));
		assert_null(memchr(j.data, '\0', j.len));
		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, j.data, (int)j.len);
		assert_non_null(o);
		assert_int_equal(json_object_get_type(o), json_type_string);
		/* Printable ASCII input comes back identical. */
		for (k = 0; k < len && in[k] >= 0x20 && in[k] < 0x7f; k++)
			;
		if (k == len) {
			assert_int_equal(json_object_get_string_len(o), len);
			assert_memory_equal(json_object_get_string(o), in, len);
		}
		json_object_put(o);
		json_free(&j);
	}
	json_tokener_free(tok);
}

/* Every valid UTF-8 input round-trips to the same bytes. */
static void
test_valid_utf8_roundtrip(void **state)
{
	static const char in[] = "\xce\xb1\xce\xb2 \xe4\xb8\xad\xe6\x96\x87 "
	    "\xf0\x9f\x94\x92 q\"uo\\te \x01 ok";
	struct json_buf j;
	json_object *o;

	json_init(&j, NULL, 0);
	json_str(&j, in, sizeof(in) - 1);
	json_raw(&j, "", 1);	/* NUL-terminate for json-c */
	o = json_tokener_parse(j.data);
	assert_non_null(o);
	assert_int_equal(json_object_get_string_len(o), sizeof(in) - 1);
	assert_memory_equal(json_object_get_string(o), in, sizeof(in) - 1);
	json_object_put(o);
	json_free(&j);
}

static void
test_comma_after_raw(void **state)
{
	struct json_buf j;

	json_init(&j, NULL, 0);
	json_raw(&j, "{\"a\":\"b\"", 8);
	json_key(&j, "c");
	json_cstr(&j, "d");
	json_obj_end(&j);
	assert_int_equal(j.len, 17);
	assert_memory_equal(j.data, "{\"a\":\"b\",\"c\":\"d\"}", 17);
	json_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_random_bytes_roundtrip),
		cmocka_unit_test(test_valid_utf8_roundtrip),
		cmocka_unit_test(test_comma_after_raw),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
