/*
 * Benchmark of the first-bytes parsers: time per call of tlshello_parse() on
 * real and stretched hellos, of a caller fed one byte at a time, and of
 * httphead_parse() on a short and a long head. Usage: bench/parsers [DATADIR]
 * where DATADIR holds the tests/data/tls files (default: $top_srcdir/...).
 * From a build folder: cc -O2 -I. -I../lib ../bench/parsers.c
 * lib/libagentgate.a -o bench/parsers && top_srcdir=.. bench/parsers
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httphead.h"
#include "tlshello.h"

/* Keeps the compiler from dropping calls whose results are unused. */
static volatile size_t bench_sink;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint8_t *
load(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	uint8_t *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (n <= 0 || (buf = malloc((size_t)n)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
bench_tls(const char *dir, const char *name, size_t iters)
{
	struct tls_hello h;
	size_t len, need, i;
	uint8_t *buf = load(dir, name, &len);
	double t0, ns;

	if (tlshello_parse(buf, len, &h, &need) != TLSHELLO_OK) {
		fprintf(stderr, "%s: not a hello\n", name);
		exit(1);
	}
	t0 = now_ns();
	for (i = 0; i < iters; i++)
		bench_sink += tlshello_parse(buf, len, &h, &need) + h.sni_len;
	ns = (now_ns() - t0) / (double)iters;
	printf("tls  %-24s %6zu B %4zu rec  %9.1f ns/parse  %8.1f MB/s\n", name,
	    len, h.records, ns, (double)len / ns * 1e3);
	free(buf);
}

/* Bytes arriving one at a time: a caller that parses on every byte, and
 * one that waits for need. */
static void
bench_trickle(const char *dir, const char *name, size_t iters)
{
	struct tls_hello h;
	size_t len, need, have, i, calls_each = 0, calls_need = 0;
	uint8_t *buf = load(dir, name, &len);
	double t0, each, follow;

	t0 = now_ns();
	for (i = 0; i < iters; i++)
		for (have = 1, calls_each = 0; have <= len; have++) {
			calls_each++;
			if (tlshello_parse(buf, have, &h, &need) != TLSHELLO_NEED_MORE)
				break;
		}
	each = (now_ns() - t0) / (double)iters;
	t0 = now_ns();
	for (i = 0; i < iters; i++)
		for (have = 1, calls_need = 0;;) {
			calls_need++;
			if (tlshello_parse(buf, have, &h, &need) != TLSHELLO_NEED_MORE)
				break;
			have = need;
		}
	follow = (now_ns() - t0) / (double)iters;
	printf("tls  %-24s byte by byte: every byte %zu calls %9.1f ns; "
	    "following need %zu calls %9.1f ns\n", name, calls_each, each,
	    calls_need, follow);
	free(buf);
}

static void
bench_http(const char *label, const char *head, size_t iters)
{
	struct http_head h;
	size_t len = strlen(head), i;
	double t0, ns;

	if (httphead_parse(head, len, &h) != HTTPHEAD_OK) {
		fprintf(stderr, "%s: %s\n", label, h.error);
		exit(1);
	}
	t0 = now_ns();
	for (i = 0; i < iters; i++)
		bench_sink += httphead_parse(head, len, &h) + h.head_len;
	ns = (now_ns() - t0) / (double)iters;
	printf("http %-24s %6zu B           %9.1f ns/parse  %8.1f MB/s\n", label,
	    len, ns, (double)len / ns * 1e3);
}

int
main(int argc, char *argv[])
{
	const char *top = getenv("top_srcdir");
	char dir[4096], *big;
	size_t n, i;

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/tests/data/tls", top ? top : "..");

	bench_tls(dir, "curl_default", 2000000);
	bench_tls(dir, "openssl_alpn", 2000000);
	bench_tls(dir, "good_split_in_sni", 2000000);
	bench_tls(dir, "good_padding_16k", 200000);
	bench_tls(dir, "good_byte_records", 200000);
	bench_trickle(dir, "curl_default", 2000);
	bench_trickle(dir, "good_byte_records", 200);

	bench_http("curl GET", "GET / HTTP/1.1\r\nHost: allowed.test\r\n"
	    "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", 2000000);
	bench_http("CONNECT", "CONNECT allowed.test:443 HTTP/1.1\r\n"
	    "Host: allowed.test:443\r\nUser-Agent: curl/7.88.1\r\n"
	    "Proxy-Connection: Keep-Alive\r\n\r\n", 2000000);
	/* A browser-sized head: 30 headers of about 100 bytes. */
	if ((big = malloc(8192)) == NULL)
		return 1;
	n = (size_t)sprintf(big, "GET http://allowed.test/some/path?q=1 HTTP/1.1\r\n"
	    "Host: allowed.test\r\n");
	for (i = 0; i < 30; i++)
		n += (size_t)sprintf(big + n, "X-Header-%02zu: %090zu\r\n", i, i);
	sprintf(big + n, "\r\n");
	bench_http("30 headers", big, 500000);
	free(big);
	return 0;
}
