/*
 * tlshello_parse(): ClientHellos captured from openssl s_client and curl,
 * and variants built by tests/data/tls/make_variants.py that each break or
 * stretch one rule, with what the parser must say about every prefix.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tlshello.h"

struct tls_case {
	const char		*file;		/* tests/data/tls/<file>.bin */
	enum tlshello_result	 want;
	const char		*sni;		/* NULL: no server_name extension */
	size_t			 sni_len;
	const char		*alpn;		/* protocols joined by ',', NULL: none */
	bool			 ech;
	bool			 tls13;
	size_t			 records;
	size_t			 tail;		/* bytes after the hello's records */
	const char		*error;		/* when INVALID */
};

#define GOOD(f, sni, alpn, ech, t13, recs, tail) \
	{ f, TLSHELLO_OK, sni, sizeof(sni) - 1, alpn, ech, t13, recs, tail, NULL }
#define NOSNI(f, alpn, t13) \
	{ f, TLSHELLO_OK, NULL, 0, alpn, false, t13, 1, 0, NULL }
#define BAD(f, err)	{ f, TLSHELLO_INVALID, NULL, 0, NULL, false, false, 0, 0, err }
#define NOTTLS(f)	{ f, TLSHELLO_NOT_TLS, NULL, 0, NULL, false, false, 0, 0, NULL }

static const struct tls_case cases[] = {
	/* Real clients. */
	GOOD("openssl_tls13_sni", "allowed.test", NULL, false, true, 1, 0),
	GOOD("openssl_alpn", "allowed.test", "h2,http/1.1", false, true, 1, 0),
	GOOD("openssl_tls12_only", "allowed.test", NULL, false, false, 1, 0),
	GOOD("openssl_tls13_only", "other.test", NULL, false, true, 1, 0),
	GOOD("openssl_no_tls13", "allowed.test", NULL, false, false, 1, 0),
	NOSNI("openssl_no_sni", NULL, true),
	GOOD("curl_default", "x.allowed.test", "h2,http/1.1", false, true, 1, 0),
	GOOD("curl_http11", "allowed.test", "http/1.1", false, true, 1, 0),

	/* Built: split, stretched, unusual but valid. */
	GOOD("good_one_record", "allowed.test", "h2,http/1.1", false, true, 1, 0),
	GOOD("good_two_records", "allowed.test", "h2,http/1.1", false, true, 2, 0),
	GOOD("good_split_in_sni", "allowed.test", "h2,http/1.1", false, true, 2, 0),
	GOOD("good_split_in_hs_header", "allowed.test", "h2,http/1.1", false, true, 4, 0),
	GOOD("good_byte_records", "allowed.test", "h2,http/1.1", false, true, 133, 0),
	GOOD("good_padding_16k", "allowed.test", "h2,http/1.1", false, true, 2, 0),
	GOOD("good_ech", "public.test", NULL, true, true, 1, 0),
	NOSNI("good_no_extensions", NULL, false),
	NOSNI("good_empty_extensions", NULL, false),
	NOSNI("good_no_sni", "http/1.1", false),
	GOOD("good_sni_255", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    NULL, false, false, 1, 0),
	GOOD("good_sni_raw_nul", "a\0b.test", NULL, false, false, 1, 0),
	NOSNI("good_alpn_many", "p0,p1,p2,p3,p4,p5,p6,p7", false),
	GOOD("good_unknown_exts", "allowed.test", NULL, false, false, 1, 0),
	GOOD("good_empty_session", "allowed.test", "h2,http/1.1", false, true, 1, 0),
	GOOD("good_tail_in_record", "allowed.test", "h2,http/1.1", false, true, 1, 0),
	GOOD("good_then_appdata", "allowed.test", "h2,http/1.1", false, true, 1, 15),
	GOOD("good_tls12_record_version", "allowed.test", "h2,http/1.1", false, true, 1, 0),

	/* Refused, each for one reason. */
	BAD("bad_two_host_names", "two host names"),
	BAD("bad_duplicate_sni_ext", "duplicate extension"),
	BAD("bad_duplicate_alpn_ext", "duplicate extension"),
	BAD("bad_zero_length_name", "empty host name"),
	BAD("bad_sni_256", "host name too long"),
	BAD("bad_sni_list_mismatch", "server_name list length mismatch"),
	BAD("bad_sni_other_type", "server_name type other than host_name"),
	BAD("bad_sni_empty_list", "server_name list empty"),
	BAD("bad_sni_empty_ext", "server_name list length mismatch"),
	BAD("bad_ext_overrun", "extension overruns the hello"),
	BAD("bad_junk_after_extensions", "extensions length mismatch"),
	BAD("bad_ext_len_overrun", "extensions length mismatch"),
	BAD("bad_stray_byte_after_compression", "extensions length mismatch"),
	BAD("bad_session_id_33", "session_id too long"),
	BAD("bad_odd_cipher_suites", "cipher_suites length malformed"),
	BAD("bad_no_cipher_suites", "cipher_suites length malformed"),
	BAD("bad_no_compression", "compression_methods empty"),
	BAD("bad_cut_in_suites", "cipher_suites overrun the hello"),
	BAD("bad_server_hello", "first handshake message is not a ClientHello"),
	BAD("bad_hello_too_short", "hello too short"),
	BAD("bad_hello_too_long", "hello longer than TLSHELLO_MAX"),
	BAD("bad_alpn_empty_proto", "empty ALPN protocol"),
	BAD("bad_alpn_list_mismatch", "ALPN list length mismatch"),
	BAD("bad_versions_odd", "supported_versions list malformed"),
	BAD("bad_ccs_between", "non-handshake record before the hello ends"),
	BAD("bad_appdata_between", "non-handshake record before the hello ends"),
	BAD("bad_alert_between", "non-handshake record before the hello ends"),
	BAD("bad_record_major_2", "record version major is not 3"),
	BAD("bad_zero_length_record", "empty record"),
	BAD("bad_zero_length_record_middle", "empty record"),
	BAD("bad_record_16385", "record longer than 16384"),
	BAD("bad_too_many_records", "hello spans too many records"),

	NOTTLS("nottls_alert_first"),
	NOTTLS("nottls_ccs_first"),
	NOTTLS("nottls_sslv2"),
	NOTTLS("nottls_http"),
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static uint8_t *
load(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	uint8_t *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/tls/%s.bin",
	    top != NULL ? top : "..", name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (set top_srcdir)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	/* Exactly n bytes, so ASan sees a read past the end. */
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
alpn_join(const struct tls_hello *h, char *s, size_t size)
{
	size_t i;

	s[0] = '\0';
	for (i = 0; i < h->alpn_count; i++) {
		if (i > 0)
			strncat(s, ",", size - strlen(s) - 1);
		strncat(s, h->alpn[i], size - strlen(s) - 1);
	}
}

static void
check_case(const struct tls_case *tc, const uint8_t *buf, size_t len)
{
	struct tls_hello h;
	enum tlshello_result r;
	char alpn[512];
	size_t need = 99;

	r = tlshello_parse(buf, len, &h, &need);
	if (r != tc->want)
		fail_msg("%s: got %s (%s), want %s", tc->file,
		    tlshello_result_str(r), h.error ? h.error : "",
		    tlshello_result_str(tc->want));
	assert_int_equal(need, 0);
	if (r == TLSHELLO_INVALID) {
		assert_non_null(h.error);
		assert_string_equal(h.error, tc->error);
		return;
	}
	assert_null(h.error);
	if (r != TLSHELLO_OK)
		return;
	if (tc->sni == NULL) {
		assert_false(h.has_sni);
		assert_int_equal(h.sni_len, 0);
	} else {
		assert_true(h.has_sni);
		assert_int_equal(h.sni_len, tc->sni_len);
		assert_memory_equal(h.sni, tc->sni, tc->sni_len);
		assert_int_equal(h.sni[h.sni_len], '\0');
	}
	alpn_join(&h, alpn, sizeof(alpn));
	if (tc->alpn == NULL)
		assert_false(h.has_alpn);
	else {
		assert_true(h.has_alpn);
		assert_string_equal(alpn, tc->alpn);
	}
	assert_int_equal(h.ech, tc->ech);
	assert_int_equal(h.tls13, tc->tls13);
	assert_int_equal(h.records, tc->records);
	assert_int_equal(h.hello_len, len - tc->tail);
	assert_int_equal(h.legacy_version, 0x0303);
}

static void
test_files(void **state)
{
	size_t i, len;
	uint8_t *buf;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		buf = load(cases[i].file, &len);
		check_case(&cases[i], buf, len);
		free(buf);
	}
}

/*
 * Every prefix of a hello is NEED_MORE with a need that neither stalls nor
 * overshoots the hello; every prefix of a refused input is NEED_MORE or the
 * same refusal, so a split never changes a verdict.
 */
static void
test_prefixes(void **state)
{
	struct tls_hello h;
	enum tlshello_result r;
	size_t i, k, len, need, end;
	uint8_t *buf, *pre;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		buf = load(cases[i].file, &len);
		end = len - cases[i].tail;
		for (k = 0; k < end; k++) {
			pre = malloc(k ? k : 1);
			assert_non_null(pre);
			memcpy(pre, buf, k);
			r = tlshello_parse(pre, k, &h, &need);
			free(pre);
			if (cases[i].want == TLSHELLO_OK) {
				if (r != TLSHELLO_NEED_MORE)
					fail_msg("%s: prefix %zu: %s (%s)", cases[i].file,
					    k, tlshello_result_str(r), h.error);
				assert_true(need > k);
				assert_true(need <= end);
			} else if (r == TLSHELLO_NEED_MORE) {
				assert_true(need > k);
			} else {
				assert_int_equal(r, cases[i].want);
				if (r == TLSHELLO_INVALID)
					assert_string_equal(h.error, cases[i].error);
			}
		}
		free(buf);
	}
}

/* A caller that calls again only once `need` bytes have arrived. */
static void
test_follow_need(void **state)
{
	struct tls_hello h;
	enum tlshello_result r;
	size_t i, len, have, need, calls;
	uint8_t *buf;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		if (cases[i].want != TLSHELLO_OK)
			continue;
		buf = load(cases[i].file, &len);
		have = 0;
		calls = 0;
		for (;;) {
			calls++;
			r = tlshello_parse(buf, have, &h, &need);
			if (r != TLSHELLO_NEED_MORE)
				break;
			assert_true(need > have && need <= len);
			have = need;
		}
		assert_int_equal(r, TLSHELLO_OK);
		assert_int_equal(have, len - cases[i].tail);
		if (calls > cases[i].records * 2 + 2)
			fail_msg("%s: %zu calls for %zu records", cases[i].file,
			    calls, cases[i].records);
		free(buf);
	}
}

/* The need hints for a hello in two records, worked out by hand. */
static void
test_need_values(void **state)
{
	struct tls_hello h;
	size_t len, need;
	uint8_t *buf;

	(void)state;
	/* good_two_records: record of 100 bytes, then one of 33 (133 total). */
	buf = load("good_two_records", &len);
	assert_int_equal(len, 143);
	assert_int_equal(tlshello_parse(buf, 0, &h, &need), TLSHELLO_NEED_MORE);
	assert_int_equal(need, 5);
	assert_int_equal(tlshello_parse(buf, 4, &h, &need), TLSHELLO_NEED_MORE);
	assert_int_equal(need, 5);
	assert_int_equal(tlshello_parse(buf, 5, &h, &need), TLSHELLO_NEED_MORE);
	assert_int_equal(need, 105);
	assert_int_equal(h.records, 1);
	assert_int_equal(tlshello_parse(buf, 104, &h, &need), TLSHELLO_NEED_MORE);
	assert_int_equal(need, 105);
	assert_int_equal(tlshello_parse(buf, 105, &h, &need), TLSHELLO_NEED_MORE);
	assert_int_equal(need, 110);
	assert_int_equal(tlshello_parse(buf, 110, &h, &need), TLSHELLO_NEED_MORE);
	assert_int_equal(need, 143);
	assert_int_equal(tlshello_parse(buf, 143, &h, NULL), TLSHELLO_OK);
	free(buf);
}

/*
 * sniproxy-style inline arrays, written out by hand, so that the parser is
 * checked against bytes no script of ours produced.
 */
static const uint8_t good_minimal[] = {
	0x16, 0x03, 0x01, 0x00, 0x3c,			/* record, 60 bytes */
	0x01, 0x00, 0x00, 0x38,				/* ClientHello, 56 */
	0x03, 0x03,					/* legacy_version */
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	0x00,						/* session_id */
	0x00, 0x02, 0x13, 0x01,				/* one suite */
	0x01, 0x00,					/* null compression */
	0x00, 0x0d,					/* extensions, 13 */
	0x00, 0x00, 0x00, 0x09,				/* server_name, 9 */
	0x00, 0x07, 0x00, 0x00, 0x04, 'a', '.', 'b', 'c',
};

static const uint8_t bad_sni_overrun[] = {
	0x16, 0x03, 0x01, 0x00, 0x3c,
	0x01, 0x00, 0x00, 0x38,
	0x03, 0x03,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	0x00,
	0x00, 0x02, 0x13, 0x01,
	0x01, 0x00,
	0x00, 0x0d,
	0x00, 0x00, 0x00, 0x09,
	0x00, 0x07, 0x00, 0x00, 0x05, 'a', '.', 'b', 'c',	/* name says 5 */
};

static void
test_inline(void **state)
{
	struct tls_hello h;
	size_t need, len;
	uint8_t *buf;

	(void)state;
	assert_int_equal(tlshello_parse(good_minimal, sizeof(good_minimal), &h,
	    &need), TLSHELLO_OK);
	assert_true(h.has_sni);
	assert_int_equal(h.sni_len, 4);
	assert_string_equal(h.sni, "a.bc");
	assert_int_equal(h.hello_len, sizeof(good_minimal));
	assert_false(h.tls13);

	assert_int_equal(tlshello_parse(bad_sni_overrun, sizeof(bad_sni_overrun),
	    &h, &need), TLSHELLO_INVALID);
	assert_string_equal(h.error, "host name overruns its list");
	assert_false(h.has_sni);

	/* A first byte of 22 and nothing else: wait for the record header. */
	assert_int_equal(tlshello_parse(good_minimal, 1, &h, &need),
	    TLSHELLO_NEED_MORE);
	assert_int_equal(need, 5);
	assert_int_equal(tlshello_parse((const uint8_t *)"\x16\x02", 2, &h,
	    &need), TLSHELLO_INVALID);
	assert_int_equal(tlshello_parse((const uint8_t *)"\x80", 1, &h, &need),
	    TLSHELLO_NOT_TLS);
	assert_int_equal(need, 0);

	/* Nine short protocols and a 40-byte one: eight kept, the rest noted. */
	buf = load("good_alpn_many", &len);
	assert_int_equal(tlshello_parse(buf, len, &h, NULL), TLSHELLO_OK);
	assert_int_equal(h.alpn_count, TLSHELLO_ALPN_MAX);
	assert_true(h.alpn_truncated);
	assert_int_equal(h.alpn_len[7], 2);
	free(buf);
	buf = load("curl_default", &len);
	assert_int_equal(tlshello_parse(buf, len, &h, NULL), TLSHELLO_OK);
	assert_false(h.alpn_truncated);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_follow_need),
		cmocka_unit_test(test_need_values),
		cmocka_unit_test(test_inline),
	};

	return cmocka_run_group_tests_name("tlshello", tests, NULL, NULL);
}
