/*
 * Fuzz target for httphead_parse(): results stay in the enum and in bounds,
 * an accepted head parses the same on its own, and cutting the input
 * anywhere never gives another verdict than the whole input. abort() marks
 * a violation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httphead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_one(const struct http_head *h, enum httphead_result r, size_t len)
{
	switch (r) {
	case HTTPHEAD_OK:
		if (h->error != NULL || h->status != 0)
			abort();
		if (h->host_len > HTTPHEAD_HOST_MAX || h->host[h->host_len] != '\0')
			abort();
		if (h->head_len > len || h->head_len > HTTPHEAD_MAX ||
		    h->head_len < strlen("A / HTTP/1.0\n\n"))
			abort();
		if (h->method[0] == '\0' || strlen(h->method) > HTTPHEAD_METHOD_MAX)
			abort();
		if (h->target_off + h->target_len > h->head_len ||
		    h->target_len == 0 || h->target_len > HTTPHEAD_TARGET_MAX)
			abort();
		if (h->version != 10 && h->version != 11)
			abort();
		if (h->chunked && h->content_length != -1)
			abort();
		if (h->is_connect != (h->target_kind == HTTP_TARGET_AUTHORITY))
			abort();
		if (h->is_connect && (h->port == 0 || h->host_len == 0))
			abort();
		break;
	case HTTPHEAD_NEED_MORE:
	case HTTPHEAD_NOT_HTTP:
		break;
	case HTTPHEAD_INVALID:
		if (h->error == NULL)
			abort();
		if (h->status != 400 && h->status != 414 && h->status != 431 &&
		    h->status != 501 && h->status != 505)
			abort();
		break;
	default:
		abort();
	}
}

static void
check_same(const struct http_head *a, enum httphead_result ra,
    const struct http_head *b, enum httphead_result rb)
{
	if (ra != rb)
		abort();
	if (ra == HTTPHEAD_INVALID && (a->status != b->status ||
	    strcmp(a->error, b->error) != 0))
		abort();
	if (ra == HTTPHEAD_OK && (a->head_len != b->head_len ||
	    a->host_len != b->host_len || strcmp(a->host, b->host) != 0 ||
	    a->port != b->port || a->content_length != b->content_length ||
	    a->chunked != b->chunked || a->keep_alive != b->keep_alive))
		abort();
}

static enum httphead_result
parse_copy(const uint8_t *data, size_t k, struct http_head *h)
{
	enum httphead_result r;
	char *copy;

	/* A buffer of exactly k bytes, so a read past the cut is caught. */
	if ((copy = malloc(k ? k : 1)) == NULL)
		abort();
	memcpy(copy, data, k);
	r = httphead_parse(copy, k, h);
	free(copy);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head full, part;
	enum httphead_result rf, rp;
	uint32_t seed = 2166136261u;
	size_t i, k;

	rf = httphead_parse((const char *)data, size, &full);
	check_one(&full, rf, size);
	if (rf == HTTPHEAD_OK) {
		rp = parse_copy(data, full.head_len, &part);
		check_same(&part, rp, &full, rf);
		if (parse_copy(data, full.head_len - 1, &part) != HTTPHEAD_NEED_MORE)
			abort();
	}
	for (i = 0; i < size && i < 64; i++)
		seed = (seed ^ data[i]) * 16777619u;
	for (i = 0; i < 4 && size > 0; i++) {
		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % size;
		rp = parse_copy(data, k, &part);
		check_one(&part, rp, k);
		if (rp != HTTPHEAD_NEED_MORE)
			check_same(&part, rp, &full, rf);
	}
	return 0;
}
