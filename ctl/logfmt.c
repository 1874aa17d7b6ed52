/*
 * Escapers for showing hostile log strings on a terminal, in CSV and in
 * HTML, and the two-key counter that summaries and reports use.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logfmt.h"

void
sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void
sbuf_need(struct sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->len + n + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		fatal("sbuf");
	b->p = p;
	b->cap = cap;
}

void
sbuf_add(struct sbuf *b, const char *s, size_t len)
{
	sbuf_need(b, len);
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
sbuf_addc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

const char *
sbuf_str(const struct sbuf *b)
{
	return b->p != NULL ? b->p : "";
}

void
sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sbuf_need(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/*
 * Length of the valid UTF-8 sequence at s (2..4), with its code point in
 * *cp; 0 when the bytes are not one (stray continuation, overlong form,
 * surrogate, beyond U+10FFFF, cut short).
 */
static size_t
utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
	size_t n, i;
	unsigned c, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Code points that move, hide or reorder text: C1 controls and the bidi
 * embeddings, overrides and isolates. */
static bool
dangerous_cp(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
fmt_text(struct sbuf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, run = 0, n;
	unsigned cp;

	for (i = 0; i < len; i++) {
		if (u[i] >= 0x20 && u[i] < 0x7f && u[i] != '\\')
			continue;
		n = u[i] >= 0x80 ? utf8_seq(u + i, len - i, &cp) : 0;
		if (n > 0 && !dangerous_cp(cp)) {
			i += n - 1;
			continue;
		}
		sbuf_add(b, s + run, i - run);
		if (n > 0) {
			sbuf_addf(b, "\\u%04x", cp);
			i += n - 1;
		} else if (u[i] == '\\')
			sbuf_add(b, "\\\\", 2);
		else if (u[i] == '\n')
			sbuf_add(b, "\\n", 2);
		else if (u[i] == '\t')
			sbuf_add(b, "\\t", 2);
		else if (u[i] == '\r')
			sbuf_add(b, "\\r", 2);
		else
			sbuf_addf(b, "\\x%02x", u[i]);
		run = i + 1;
	}
	sbuf_add(b, s + run, len - run);
}

void
fmt_csv(struct sbuf *b, const char *s, size_t len)
{
	struct sbuf t = { NULL, 0, 0 };
	size_t i;

	fmt_text(&t, s, len);
	if (t.len > 0 && (strpbrk(t.p, ",\"") != NULL || t.p[0] == ' ' ||
	    t.p[t.len - 1] == ' ')) {
		sbuf_addc(b, '"');
		for (i = 0; i < t.len; i++) {
			if (t.p[i] == '"')
				sbuf_addc(b, '"');
			sbuf_addc(b, t.p[i]);
		}
		sbuf_addc(b, '"');
	} else if (t.len > 0)
		sbuf_add(b, t.p, t.len);
	sbuf_free(&t);
}

void
fmt_html(struct sbuf *b, const char *s, size_t len)
{
	struct sbuf t = { NULL, 0, 0 };
	size_t i;

	fmt_text(&t, s, len);
	for (i = 0; i < t.len; i++) {
		switch (t.p[i]) {
		case '&':	sbuf_add(b, "&amp;", 5); break;
		case '<':	sbuf_add(b, "&lt;", 4); break;
		case '>':	sbuf_add(b, "&gt;", 4); break;
		case '"':	sbuf_add(b, "&quot;", 6); break;
		case '\'':	sbuf_add(b, "&#39;", 5); break;
		default:	sbuf_addc(b, t.p[i]); break;
		}
	}
	sbuf_free(&t);
}

void
fmt_md(struct sbuf *b, const char *s, size_t len)
{
	struct sbuf t = { NULL, 0, 0 }, h = { NULL, 0, 0 };
	size_t i;

	fmt_text(&t, s, len);
	for (i = 0; i < t.len; i++) {
		if (strchr("\\`*_[]|#", t.p[i]) != NULL) {
			sbuf_addc(b, '\\');
			sbuf_addc(b, t.p[i]);
		} else if (strchr("&<>\"'", t.p[i]) != NULL) {
			sbuf_reset(&h);
			fmt_html(&h, t.p + i, 1);
			sbuf_add(b, h.p, h.len);
		} else
			sbuf_addc(b, t.p[i]);
	}
	sbuf_free(&t);
	sbuf_free(&h);
}

void
fmt_addr_port(struct sbuf *b, const char *ip, int64_t port)
{
	if (ip == NULL && port < 0) {
		sbuf_addc(b, '-');
		return;
	}
	if (ip != NULL && strchr(ip, ':') != NULL && port >= 0)
		sbuf_addc(b, '[');
	if (ip != NULL)
		fmt_text(b, ip, strlen(ip));
	if (ip != NULL && strchr(ip, ':') != NULL && port >= 0)
		sbuf_addc(b, ']');
	if (port >= 0)
		sbuf_addf(b, ":%lld", (long long)port);
}

void
tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
}

void
tally_free(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->ents[i].k1);
		free(t->ents[i].k2);
		free(t->ents[i].note);
	}
	free(t->ents);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static uint64_t
tally_hash(const char *k1, const char *k2)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *k1 != '\0'; k1++)
		h = (h ^ (unsigned char)*k1) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (; *k2 != '\0'; k2++)
		h = (h ^ (unsigned char)*k2) * 1099511628211ULL;
	return h;
}

static void
tally_rehash(struct tally *t)
{
	size_t i, j, n = t->nslots ? t->nslots * 2 : 64;

	free(t->slots);
	if ((t->slots = calloc(n, sizeof(*t->slots))) == NULL)
		fatal("tally");
	t->nslots = n;
	for (i = 0; i < t->n; i++) {
		j = tally_hash(t->ents[i].k1, t->ents[i].k2) & (n - 1);
		while (t->slots[j] != 0)
			j = (j + 1) & (n - 1);
		t->slots[j] = i + 1;
	}
}

struct tally_ent *
tally_get(struct tally *t, const char *k1, const char *k2)
{
	struct tally_ent *e, *ne;
	size_t j;

	if (2 * (t->n + 1) > t->nslots)
		tally_rehash(t);
	j = tally_hash(k1, k2) & (t->nslots - 1);
	for (; t->slots[j] != 0; j = (j + 1) & (t->nslots - 1)) {
		e = &t->ents[t->slots[j] - 1];
		if (strcmp(e->k1, k1) == 0 && strcmp(e->k2, k2) == 0)
			return e;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		if ((ne = reallocarray(t->ents, t->cap, sizeof(*ne))) == NULL)
			fatal("tally");
		t->ents = ne;
	}
	e = &t->ents[t->n];
	memset(e, 0, sizeof(*e));
	if ((e->k1 = strdup(k1)) == NULL || (e->k2 = strdup(k2)) == NULL)
		fatal("tally");
	t->slots[j] = ++t->n;
	return e;
}

static int
tally_cmp(const void *a, const void *b)
{
	const struct tally_ent *x = a, *y = b;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if ((c = strcmp(x->k1, y->k1)) != 0)
		return c;
	return strcmp(x->k2, y->k2);
}

void
tally_sort(struct tally *t)
{
	if (t->n > 0)
		qsort(t->ents, t->n, sizeof(*t->ents), tally_cmp);
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}
