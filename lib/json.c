/*
 * JSON writer. The escaping rules are the security boundary of the
 * telemetry stream: every string a sandboxed agent controls (SNI, Host,
 * DNS names, command lines) passes through json_str().
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void
json_init(struct json_buf *j, char *stack, size_t size)
{
	j->data = stack;
	j->cap = stack != NULL ? size : 0;
	j->len = 0;
	j->err = 0;
	j->heap = false;
}

void
json_reset(struct json_buf *j)
{
	j->len = 0;
	j->err = 0;
}

void
json_free(struct json_buf *j)
{
	if (j->heap)
		free(j->data);
	j->data = NULL;
	j->len = j->cap = 0;
	j->heap = false;
}

int
json_error(const struct json_buf *j)
{
	if (j->err == 0)
		return 0;
	errno = j->err;
	return -1;
}

static int
json_reserve(struct json_buf *j, size_t more)
{
	size_t ncap;
	char *p;

	if (j->err != 0) {
		errno = j->err;
		return -1;
	}
	if (j->cap - j->len >= more)
		return 0;
	if (more > SIZE_MAX / 2 - j->len) {
		j->err = ENOMEM;
		errno = ENOMEM;
		return -1;
	}
	ncap = j->cap < 256 ? 256 : j->cap;
	while (ncap - j->len < more)
		ncap *= 2;
	if (j->heap)
		p = realloc(j->data, ncap);
	else if ((p = malloc(ncap)) != NULL && j->len > 0)
		memcpy(p, j->data, j->len);
	if (p == NULL) {
		j->err = ENOMEM;
		return -1;
	}
	j->data = p;
	j->cap = ncap;
	j->heap = true;
	return 0;
}

int
json_raw(struct json_buf *j, const char *s, size_t len)
{
	if (json_reserve(j, len) == -1)
		return -1;
	memcpy(j->data + j->len, s, len);
	j->len += len;
	return 0;
}

/* A comma is due unless the value opens a container or follows a key:
 * the previous byte says which, so no nesting stack is needed. */
static int
json_sep(struct json_buf *j)
{
	char c;

	if (j->len == 0)
		return json_reserve(j, 0);
	c = j->data[j->len - 1];
	if (c == '{' || c == '[' || c == ':')
		return json_reserve(j, 0);
	return json_raw(j, ",", 1);
}

int
json_obj_begin(struct json_buf *j)
{
	if (json_sep(j) == -1)
		return -1;
	return json_raw(j, "{", 1);
}

int
json_obj_end(struct json_buf *j)
{
	return json_raw(j, "}", 1);
}

int
json_arr_begin(struct json_buf *j)
{
	if (json_sep(j) == -1)
		return -1;
	return json_raw(j, "[", 1);
}

int
json_arr_end(struct json_buf *j)
{
	return json_raw(j, "]", 1);
}

static char *
json_escape_u(char *o, unsigned int cp)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '\\';
	*o++ = 'u';
	*o++ = hex[(cp >> 12) & 0xf];
	*o++ = hex[(cp >> 8) & 0xf];
	*o++ = hex[(cp >> 4) & 0xf];
	*o++ = hex[cp & 0xf];
	return o;
}

/* Length of the well-formed UTF-8 sequence at s[0..len), or 0 when it is
 * not well-formed; *bad is then how many bytes make the maximal ill-formed
 * subpart that one U+FFFD replaces (Unicode 15, section 3.9). */
static size_t
json_utf8_seq(const unsigned char *s, size_t len, unsigned int *cp,
    size_t *bad)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xbf;
	size_t need, k;
	unsigned int v;

	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
		v = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		v = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (b == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		v = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;		/* overlong */
		else if (b == 0xf4)
			hi = 0x8f;		/* > U+10FFFF */
	} else {
		*bad = 1;
		return 0;
	}
	for (k = 1; k <= need; k++) {
		if (k >= len || s[k] < lo || s[k] > hi) {
			*bad = k;
			return 0;
		}
		v = (v << 6) | (s[k] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

int
json_str(struct json_buf *j, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, bad;
	unsigned int cp;
	char *o;

	/* Room for the worst case once (every byte a 6-byte \u escape), then
	 * write without further checks: this is the hot path of every line. */
	if (len > (SIZE_MAX / 2 - 2) / 6) {
		j->err = ENOMEM;
		errno = ENOMEM;
		return -1;
	}
	if (json_sep(j) == -1 || json_reserve(j, len * 6 + 2) == -1)
		return -1;
	o = j->data + j->len;
	*o++ = '"';
	while (i < len) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			*o++ = '\\';
			switch (c) {
			case '"':  *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			default:   o = json_escape_u(o - 1, c); break;
			}
			i++;
			continue;
		}
		n = json_utf8_seq(s + i, len - i, &cp, &bad);
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			o += 3;
			i += bad;
			continue;
		}
		/* C1 controls and the Unicode line/paragraph separators are
		 * valid JSON, but some line splitters break on them. */
		if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
			o = json_escape_u(o, cp);
		else {
			memcpy(o, str + i, n);
			o += n;
		}
		i += n;
	}
	*o++ = '"';
	j->len = (size_t)(o - j->data);
	return 0;
}

int
json_cstr(struct json_buf *j, const char *s)
{
	return json_str(j, s, strlen(s));
}

int
json_key(struct json_buf *j, const char *key)
{
	if (json_cstr(j, key) == -1)
		return -1;
	return json_raw(j, ":", 1);
}

/* Decimal digits of v, written backwards from end; returns the start. */
static char *
json_digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

int
json_int(struct json_buf *j, int64_t v)
{
	char num[24], *p;

	if (json_sep(j) == -1)
		return -1;
	/* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
	p = json_digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, num + sizeof(num));
	if (v < 0)
		*--p = '-';
	return json_raw(j, p, (size_t)(num + sizeof(num) - p));
}

int
json_uint(struct json_buf *j, uint64_t v)
{
	char num[24], *p;

	if (json_sep(j) == -1)
		return -1;
	p = json_digits(v, num + sizeof(num));
	return json_raw(j, p, (size_t)(num + sizeof(num) - p));
}

int
json_boolean(struct json_buf *j, bool v)
{
	if (json_sep(j) == -1)
		return -1;
	return v ? json_raw(j, "true", 4) : json_raw(j, "false", 5);
}
