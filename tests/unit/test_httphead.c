/*
 * httphead_parse(): request heads a proxy must accept, and the ones it must
 * refuse with the status it must send, smuggling and host confusion first;
 * every prefix of each must wait or give the same verdict.
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

#include "httphead.h"

struct http_case {
	const char		*in;
	size_t			 len;
	enum httphead_result	 want;
	int			 status;	/* INVALID */
	const char		*error;		/* INVALID */
	const char		*method;	/* OK, and below */
	enum http_target	 kind;
	const char		*host;
	uint16_t		 port;
	bool			 keep_alive;
	int64_t			 content_length;
	bool			 chunked;
	size_t			 tail;		/* bytes after the head */
};

/* Lengths from sizeof, so inputs may hold a NUL. */
#define OK(s, m, k, h, p, ka, cl, ch, tail) \
	{ s, sizeof(s) - 1, HTTPHEAD_OK, 0, NULL, m, HTTP_TARGET_##k, h, p, ka, cl, ch, tail }
#define BAD(s, st, err) \
	{ s, sizeof(s) - 1, HTTPHEAD_INVALID, st, err, NULL, 0, NULL, 0, false, 0, false, 0 }
#define NOTHTTP(s) \
	{ s, sizeof(s) - 1, HTTPHEAD_NOT_HTTP, 0, NULL, NULL, 0, NULL, 0, false, 0, false, 0 }
#define MORE(s) \
	{ s, sizeof(s) - 1, HTTPHEAD_NEED_MORE, 0, NULL, NULL, 0, NULL, 0, false, 0, false, 0 }

#define RL	"GET / HTTP/1.1\r\n"
#define HOST	"Host: a.test\r\n"

static const struct http_case cases[] = {
	/* origin-form */
	OK(RL "Host: allowed.test\r\n\r\n", "GET", ORIGIN, "allowed.test", 0, true, -1, false, 0),
	OK("GET /x?y=1 HTTP/1.1\r\nHost: Allowed.Test:8080\r\nConnection: close\r\n\r\n",
	    "GET", ORIGIN, "Allowed.Test", 8080, false, -1, false, 0),
	OK("GET / HTTP/1.0\r\n\r\n", "GET", ORIGIN, "", 0, false, -1, false, 0),
	OK("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: a.test\r\n\r\n",
	    "GET", ORIGIN, "a.test", 0, true, -1, false, 0),
	OK("GET / HTTP/1.1\nHost: a.test\n\n", "GET", ORIGIN, "a.test", 0, true, -1, false, 0),
	OK("GET / HTTP/1.1\r\nHost: a.test\n\r\n", "GET", ORIGIN, "a.test", 0, true, -1, false, 0),
	OK(RL "hOsT:   a.test  \r\n\r\n", "GET", ORIGIN, "a.test", 0, true, -1, false, 0),
	OK(RL "Host:a.test\r\nX-Obs: \x80\xff\tb\r\n\r\n", "GET", ORIGIN, "a.test", 0, true, -1, false, 0),
	OK("BREW /pot HTTP/1.1\r\n" HOST "\r\n", "BREW", ORIGIN, "a.test", 0, true, -1, false, 0),
	OK(RL "Host: 198.18.0.1:8080\r\n\r\n", "GET", ORIGIN, "198.18.0.1", 8080, true, -1, false, 0),
	OK(RL "Host: [fd00::1]\r\n\r\n", "GET", ORIGIN, "[fd00::1]", 0, true, -1, false, 0),
	OK(RL "Host: b\xc3\xbc" "cher.de\r\n\r\n", "GET", ORIGIN, "b\xc3\xbc" "cher.de", 0, true, -1, false, 0),
	OK(RL HOST "Connection: keep-alive, close\r\n\r\n", "GET", ORIGIN, "a.test", 0, false, -1, false, 0),
	OK(RL HOST "\r\nGET /next HTTP/1.1\r\n", "GET", ORIGIN, "a.test", 0, true, -1, false, 20),
	/* bodies */
	OK("POST /u HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\nhello",
	    "POST", ORIGIN, "a.test", 0, true, 5, false, 5),
	OK("POST /u HTTP/1.1\r\n" HOST "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
	    "POST", ORIGIN, "a.test", 0, true, 5, false, 0),
	OK("POST /u HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n",
	    "POST", ORIGIN, "a.test", 0, true, 0, false, 0),
	OK("POST /u HTTP/1.1\r\n" HOST "Transfer-Encoding: Chunked\r\n\r\n5\r\n",
	    "POST", ORIGIN, "a.test", 0, true, -1, true, 3),
	OK("POST /u HTTP/1.1\r\n" HOST "Transfer-Encoding:  chunked \r\n\r\n",
	    "POST", ORIGIN, "a.test", 0, true, -1, true, 0),
	/* absolute-form: the explicit proxy */
	OK("GET http://allowed.test/p?q HTTP/1.1\r\nHost: allowed.test\r\n\r\n",
	    "GET", ABSOLUTE, "allowed.test", 0, true, -1, false, 0),
	OK("GET HTTP://Allowed.test:80/ HTTP/1.1\r\nHost: allowed.TEST\r\n\r\n",
	    "GET", ABSOLUTE, "Allowed.test", 80, true, -1, false, 0),
	OK("GET http://a.test HTTP/1.1\r\nHost: a.test:80\r\n\r\n",
	    "GET", ABSOLUTE, "a.test", 0, true, -1, false, 0),
	OK("GET https://a.test/ HTTP/1.1\r\nHost: a.test:443\r\n\r\n",
	    "GET", ABSOLUTE, "a.test", 0, true, -1, false, 0),
	OK("GET http://[fd00::2]:8080/ HTTP/1.1\r\nHost: [FD00::2]:8080\r\n\r\n",
	    "GET", ABSOLUTE, "[fd00::2]", 8080, true, -1, false, 0),
	OK("GET http://a.test/ HTTP/1.0\r\n\r\n", "GET", ABSOLUTE, "a.test", 0, false, -1, false, 0),
	OK("OPTIONS http://a.test/ HTTP/1.1\r\n" HOST "\r\n", "OPTIONS", ABSOLUTE, "a.test", 0, true, -1, false, 0),
	/* authority-form and asterisk-form */
	OK("CONNECT allowed.test:443 HTTP/1.1\r\nHost: allowed.test:443\r\n\r\n",
	    "CONNECT", AUTHORITY, "allowed.test", 443, true, -1, false, 0),
	OK("CONNECT [fd00::1]:443 HTTP/1.1\r\nHost: [fd00::1]:443\r\n\r\n",
	    "CONNECT", AUTHORITY, "[fd00::1]", 443, true, -1, false, 0),
	OK("CONNECT a.test:8443 HTTP/1.1\r\nHost: a.test\r\n\r\n",
	    "CONNECT", AUTHORITY, "a.test", 8443, true, -1, false, 0),
	OK("CONNECT a.test:443 HTTP/1.0\r\n\r\n", "CONNECT", AUTHORITY, "a.test", 443, false, -1, false, 0),
	OK("OPTIONS * HTTP/1.1\r\n" HOST "\r\n", "OPTIONS", ASTERISK, "a.test", 0, true, -1, false, 0),

	/* smuggling */
	BAD("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	    400, "Content-Length with Transfer-Encoding"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	    400, "Content-Length with Transfer-Encoding"),
	BAD("POST / HTTP/1.1\r\n" HOST "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
	    400, "differing Content-Length"),
	BAD("POST / HTTP/1.1\r\n" HOST "Content-Length: 5, 5\r\n\r\n", 400, "bad Content-Length"),
	BAD("POST / HTTP/1.1\r\n" HOST "Content-Length: 5a\r\n\r\n", 400, "bad Content-Length"),
	BAD("POST / HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\n", 400, "bad Content-Length"),
	BAD("POST / HTTP/1.1\r\n" HOST "Content-Length: +5\r\n\r\n", 400, "bad Content-Length"),
	BAD("POST / HTTP/1.1\r\n" HOST "Content-Length:\r\n\r\n", 400, "bad Content-Length"),
	BAD("POST / HTTP/1.1\r\n" HOST "Content-Length: 1234567890123456789\r\n\r\n",
	    400, "bad Content-Length"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: identity\r\n\r\n",
	    400, "final transfer coding is not chunked"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked, gzip\r\n\r\n",
	    400, "final transfer coding is not chunked"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
	    400, "final transfer coding is not chunked"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: xchunked\r\n\r\n",
	    400, "final transfer coding is not chunked"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked, chunked\r\n\r\n",
	    400, "final transfer coding is not chunked"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked,\r\n\r\n",
	    400, "empty transfer coding"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip, chunked\r\n\r\n",
	    501, "transfer coding not implemented"),
	BAD("POST / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	    501, "transfer coding not implemented"),
	BAD("POST / HTTP/1.0\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n",
	    400, "Transfer-Encoding in HTTP/1.0"),

	/* which host */
	BAD("GET http://allowed.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n",
	    400, "Host does not match target"),
	BAD("GET http://a.test:8080/ HTTP/1.1\r\nHost: a.test\r\n\r\n",
	    400, "Host port does not match target"),
	BAD("GET http://a.test/ HTTP/1.1\r\nHost: a.test:8080\r\n\r\n",
	    400, "Host port does not match target"),
	BAD("GET https://a.test/ HTTP/1.1\r\nHost: a.test:80\r\n\r\n",
	    400, "Host port does not match target"),
	BAD("GET http://a.test/ HTTP/1.1\r\n\r\n", 400, "missing Host"),
	BAD(RL "\r\n", 400, "missing Host"),
	BAD(RL HOST "Host: a.test\r\n\r\n", 400, "two Host headers"),
	BAD(RL HOST "HOST: evil.test\r\n\r\n", 400, "two Host headers"),
	BAD(RL "Host: user@a.test\r\n\r\n", 400, "userinfo in authority"),
	BAD("GET http://user:pw@a.test/ HTTP/1.1\r\n" HOST "\r\n", 400, "userinfo in authority"),
	BAD("GET http://a.test@evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n", 400, "userinfo in authority"),
	BAD(RL "Host:\r\n\r\n", 400, "empty host"),
	BAD(RL "Host: :80\r\n\r\n", 400, "empty host"),
	BAD(RL "Host: a.test/evil\r\n\r\n", 400, "bad byte in host"),
	BAD(RL "Host: a.test evil.test\r\n\r\n", 400, "bad byte in host"),
	BAD(RL "Host: a.test:99999\r\n\r\n", 400, "bad port"),
	BAD(RL "Host: a.test:0\r\n\r\n", 400, "bad port"),
	BAD(RL "Host: a.test:\r\n\r\n", 400, "bad port"),
	BAD(RL "Host: a.test:8x\r\n\r\n", 400, "bad port"),
	BAD(RL "Host: [::1\r\n\r\n", 400, "unclosed IPv6 literal"),
	BAD(RL "Host: [::g]\r\n\r\n", 400, "bad IPv6 literal"),
	BAD("GET http:///x HTTP/1.1\r\n" HOST "\r\n", 400, "empty host"),

	/* forms the method does not allow */
	BAD("CONNECT / HTTP/1.1\r\n" HOST "\r\n", 400, "CONNECT needs host:port"),
	BAD("CONNECT * HTTP/1.1\r\n" HOST "\r\n", 400, "CONNECT needs host:port"),
	BAD("CONNECT http://a.test:443/ HTTP/1.1\r\n" HOST "\r\n", 400, "CONNECT needs host:port"),
	BAD("CONNECT a.test HTTP/1.1\r\n" HOST "\r\n", 400, "port required"),
	BAD("CONNECT a.test:0 HTTP/1.1\r\n" HOST "\r\n", 400, "bad port"),
	BAD("CONNECT a.test:65536 HTTP/1.1\r\n" HOST "\r\n", 400, "bad port"),
	BAD("CONNECT fd00::1:443 HTTP/1.1\r\n" HOST "\r\n", 400, "bad port"),
	BAD("CONNECT user@a.test:443 HTTP/1.1\r\n" HOST "\r\n", 400, "userinfo in authority"),
	BAD("CONNECT a.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n", 400, "Host does not match target"),
	BAD("CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:8443\r\n\r\n", 400, "Host port does not match target"),
	BAD("CONNECT a.test:443 HTTP/1.1\r\n\r\n", 400, "missing Host"),
	BAD("GET a.test:443 HTTP/1.1\r\n" HOST "\r\n", 400, "request target form not allowed"),
	BAD("GET a.test HTTP/1.1\r\n" HOST "\r\n", 400, "request target form not allowed"),
	BAD("GET * HTTP/1.1\r\n" HOST "\r\n", 400, "asterisk-form without OPTIONS"),
	BAD("GET ftp://a.test/ HTTP/1.1\r\n" HOST "\r\n", 400, "unsupported URI scheme"),

	/* malformed lines */
	BAD(RL HOST " X-Folded: y\r\n\r\n", 400, "obs-fold line"),
	BAD(RL "X-A: 1\r\n\tcontinued\r\n" HOST "\r\n", 400, "obs-fold line"),
	BAD(RL " Host: a.test\r\n\r\n", 400, "obs-fold line"),
	BAD(RL "Host : a.test\r\n\r\n", 400, "whitespace before colon"),
	BAD(RL "Host\t: a.test\r\n\r\n", 400, "whitespace before colon"),
	BAD(RL HOST "X-A: a\0b\r\n\r\n", 400, "NUL byte"),
	BAD(RL HOST "X-A: a\x01" "b\r\n\r\n", 400, "control byte in header value"),
	BAD(RL HOST "X-A: a\x7f\r\n\r\n", 400, "control byte in header value"),
	BAD(RL "Host: a\rb.test\r\n\r\n", 400, "bare CR"),
	BAD("GET / HTTP/1.1\rHost: a.test\r\n\r\n", 400, "bare CR"),
	BAD("GET /\r HTTP/1.1\r\n" HOST "\r\n", 400, "bare CR"),
	BAD(RL HOST "\r\r\n", 400, "bare CR"),
	BAD(RL HOST "X-No-Colon\r\n\r\n", 400, "header without colon"),
	BAD(RL HOST ": empty\r\n\r\n", 400, "empty header name"),
	BAD(RL HOST "X(A): 1\r\n\r\n", 400, "bad byte in header name"),
	BAD(RL HOST "X\x80: 1\r\n\r\n", 400, "bad byte in header name"),
	BAD("GET / HTTP/2.0\r\n" HOST "\r\n", 505, "HTTP version not supported"),
	BAD("GET / HTTP/1.2\r\n" HOST "\r\n", 505, "HTTP version not supported"),
	BAD("GET / HTTP/0.9\r\n\r\n", 505, "HTTP version not supported"),
	BAD("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP version not supported"),
	BAD("GET / http/1.1\r\n" HOST "\r\n", 400, "malformed HTTP version"),
	BAD("GET / HTTP/1.1 \r\n" HOST "\r\n", 400, "malformed HTTP version"),
	BAD("GET / HTTP/11\r\n" HOST "\r\n", 400, "malformed HTTP version"),
	BAD("GET /\r\n" HOST "\r\n", 400, "request line without version"),
	BAD("GET  / HTTP/1.1\r\n" HOST "\r\n", 400, "empty request target"),
	BAD("GET /\x80 HTTP/1.1\r\n" HOST "\r\n", 400, "bad byte in request target"),
	BAD("GET /\x01 HTTP/1.1\r\n" HOST "\r\n", 400, "bad byte in request target"),

	/* some other protocol */
	NOTHTTP("\x16\x03\x01\x02\x00"),
	NOTHTTP(" GET / HTTP/1.1\r\n"),
	NOTHTTP("\r\nGET / HTTP/1.1\r\n"),
	NOTHTTP("GET\t/ HTTP/1.1\r\n"),
	NOTHTTP("SSH-2.0-OpenSSH_9.2\r\n"),
	NOTHTTP("{\"json\": 1}"),
	NOTHTTP("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1\r\n"),
	NOTHTTP("GET\r\n"),

	/* not yet */
	MORE(""),
	MORE("G"),
	MORE("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF"),
	MORE(RL HOST),
	MORE(RL HOST "\r"),
	MORE(RL "Host: a\rb"),	/* a bare CR is judged when its line ends */
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

/* A heap copy of exactly n bytes, so ASan sees a read past the end. */
static char *
dup_exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

static void
check_case(const struct http_case *tc)
{
	struct http_head h;
	enum httphead_result r;
	char *in = dup_exact(tc->in, tc->len);

	r = httphead_parse(in, tc->len, &h);
	if (r != tc->want)
		fail_msg("\"%.*s\": got %s (%d %s), want %s", (int)tc->len, tc->in,
		    httphead_result_str(r), h.status, h.error ? h.error : "",
		    httphead_result_str(tc->want));
	free(in);
	if (r == HTTPHEAD_INVALID) {
		if (h.status != tc->status || strcmp(h.error, tc->error) != 0)
			fail_msg("\"%.*s\": got %d %s, want %d %s", (int)tc->len,
			    tc->in, h.status, h.error, tc->status, tc->error);
		return;
	}
	if (r != HTTPHEAD_OK)
		return;
	assert_string_equal(h.method, tc->method);
	assert_int_equal(h.target_kind, tc->kind);
	assert_int_equal(h.host_len, strlen(tc->host));
	assert_string_equal(h.host, tc->host);
	assert_int_equal(h.port, tc->port);
	assert_int_equal(h.is_connect, strcmp(tc->method, "CONNECT") == 0);
	assert_int_equal(h.keep_alive, tc->keep_alive);
	assert_int_equal(h.content_length, tc->content_length);
	assert_int_equal(h.chunked, tc->chunked);
	assert_int_equal(h.head_len, tc->len - tc->tail);
	assert_int_equal(h.status, 0);
	assert_null(h.error);
}

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCASES; i++)
		check_case(&cases[i]);
}

/* A prefix waits or gets the whole head's verdict; a good head's prefixes wait. */
static void
test_prefixes(void **state)
{
	struct http_head h;
	enum httphead_result r;
	size_t i, k, end;
	char *in;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		end = cases[i].want == HTTPHEAD_OK ? cases[i].len - cases[i].tail :
		    cases[i].len;
		for (k = 0; k < end; k++) {
			in = dup_exact(cases[i].in, k);
			r = httphead_parse(in, k, &h);
			free(in);
			if (r == HTTPHEAD_NEED_MORE)
				continue;
			if (r != cases[i].want || cases[i].want == HTTPHEAD_OK)
				fail_msg("\"%.*s\" prefix %zu: %s (%s)",
				    (int)cases[i].len, cases[i].in, k,
				    httphead_result_str(r), h.error ? h.error : "");
			if (r == HTTPHEAD_INVALID)
				assert_string_equal(h.error, cases[i].error);
		}
	}
}

/* Where the request-target and the path begin, for forwarding. */
static void
test_target_offsets(void **state)
{
	static const char abs[] = "GET http://a.test:81/p?q HTTP/1.1\r\nHost: a.test:81\r\n\r\n";
	static const char org[] = "POST /up HTTP/1.1\r\nHost: a.test\r\n\r\n";
	static const char bare[] = "GET http://a.test HTTP/1.1\r\nHost: a.test\r\n\r\n";
	struct http_head h;

	(void)state;
	assert_int_equal(httphead_parse(abs, sizeof(abs) - 1, &h), HTTPHEAD_OK);
	assert_int_equal(h.target_off, 4);
	assert_int_equal(h.target_len, strlen("http://a.test:81/p?q"));
	assert_int_equal(h.path_off, strlen("GET http://a.test:81"));
	assert_int_equal(h.path_len, 4);
	assert_false(h.https);
	assert_int_equal(h.version, 11);
	assert_int_equal(httphead_parse(org, sizeof(org) - 1, &h), HTTPHEAD_OK);
	assert_int_equal(h.target_off, 5);
	assert_int_equal(h.target_len, 3);
	assert_int_equal(httphead_parse(bare, sizeof(bare) - 1, &h), HTTPHEAD_OK);
	assert_int_equal(h.path_len, 0);
}

/* Builds "GET /<target> HTTP/1.1\r\nHost: a.test\r\n" + nheaders lines of
 * hlen bytes each + CRLF. */
static char *
make_head(size_t target, size_t nheaders, size_t hlen, size_t *len)
{
	size_t cap = target + nheaders * (hlen + 2) + 64, n = 0, i;
	char *s = malloc(cap);

	assert_non_null(s);
	n += (size_t)sprintf(s + n, "GET /");
	memset(s + n, 'a', target - 1);
	n += target - 1;
	n += (size_t)sprintf(s + n, " HTTP/1.1\r\nHost: a.test\r\n");
	for (i = 0; i < nheaders; i++) {
		assert_true(hlen >= 8);
		n += (size_t)sprintf(s + n, "X%05zu: ", i % 100000);
		memset(s + n, 'v', hlen - 8);
		n += hlen - 8;
		s[n++] = '\r';
		s[n++] = '\n';
	}
	s[n++] = '\r';
	s[n++] = '\n';
	*len = n;
	return s;
}

static void
test_limits(void **state)
{
	struct http_head h;
	size_t len, base;
	char *s;

	(void)state;
	/* A target of exactly 8192 bytes is fine; one more is 414, seen
	 * before the request line ends. */
	s = make_head(HTTPHEAD_TARGET_MAX, 0, 8, &len);
	assert_int_equal(httphead_parse(s, len, &h), HTTPHEAD_OK);
	assert_int_equal(h.target_len, HTTPHEAD_TARGET_MAX);
	free(s);
	s = make_head(HTTPHEAD_TARGET_MAX + 1, 0, 8, &len);
	assert_int_equal(httphead_parse(s, len, &h), HTTPHEAD_INVALID);
	assert_int_equal(h.status, 414);
	assert_int_equal(httphead_parse(s, 4 + HTTPHEAD_TARGET_MAX + 1, &h),
	    HTTPHEAD_INVALID);
	assert_int_equal(h.status, 414);
	assert_int_equal(httphead_parse(s, 4 + HTTPHEAD_TARGET_MAX, &h),
	    HTTPHEAD_NEED_MORE);
	free(s);

	/* 100 header lines (Host is one) are fine, 101 are 431. */
	s = make_head(1, 99, 10, &len);
	assert_int_equal(httphead_parse(s, len, &h), HTTPHEAD_OK);
	free(s);
	s = make_head(1, 100, 10, &len);
	assert_int_equal(httphead_parse(s, len, &h), HTTPHEAD_INVALID);
	assert_int_equal(h.status, 431);
	assert_string_equal(h.error, "too many header lines");
	free(s);

	/* A head of exactly 32768 bytes is fine; one byte more is 431, and
	 * so is any 32768-byte prefix that has not ended. */
	s = make_head(1, 1, 8, &len);
	base = len - 10;	/* without the one 10-byte header line */
	free(s);
	s = make_head(1, 1, HTTPHEAD_MAX - base - 2, &len);
	assert_int_equal(len, HTTPHEAD_MAX);
	assert_int_equal(httphead_parse(s, len, &h), HTTPHEAD_OK);
	assert_int_equal(h.head_len, HTTPHEAD_MAX);
	free(s);
	s = make_head(1, 1, HTTPHEAD_MAX - base - 1, &len);
	assert_int_equal(httphead_parse(s, len, &h), HTTPHEAD_INVALID);
	assert_int_equal(h.status, 431);
	assert_string_equal(h.error, "request head too large");
	assert_int_equal(httphead_parse(s, HTTPHEAD_MAX, &h), HTTPHEAD_INVALID);
	assert_int_equal(h.status, 431);
	assert_int_equal(httphead_parse(s, HTTPHEAD_MAX - 1, &h), HTTPHEAD_NEED_MORE);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_target_offsets),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests_name("httphead", tests, NULL, NULL);
}
