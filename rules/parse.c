/*
 * The policy parser: splits text into lines and words, checks each line
 * (length, NUL, UTF-8), and turns rule lines into builder calls. It does
 * no I/O: an include line is handed to the loader through b->include.
 * Errors are reported with file:line:col and parsing goes on.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "policy_int.h"

#define WORD_SHOW_MAX	64	/* bytes of a word quoted in a message */

enum keyword {
	KW_NONE = -1,
	KW_ALLOW,
	KW_ANY,
	KW_ASK,
	KW_DENY,
	KW_ICMP,
	KW_INCLUDE,
	KW_PORT,
	KW_PROTO,
	KW_TCP,
	KW_UDP,
};

/* Sorted by word for bsearch; matched whole and case-sensitively. */
static const struct {
	const char	*word;
	enum keyword	 kw;
} keywords[] = {
	{ "allow",	KW_ALLOW },
	{ "any",	KW_ANY },
	{ "ask",	KW_ASK },
	{ "deny",	KW_DENY },
	{ "icmp",	KW_ICMP },
	{ "include",	KW_INCLUDE },
	{ "port",	KW_PORT },
	{ "proto",	KW_PROTO },
	{ "tcp",	KW_TCP },
	{ "udp",	KW_UDP },
};

struct word {
	const char	*s;
	size_t		 len;
	unsigned	 col;		/* 1-based byte column */
	bool		 quoted;	/* s/len exclude the quotes */
};

struct line {
	struct policy_build	*b;
	unsigned		 file, no;
	const char		*start;	/* first byte of the line */
	struct word		*w;
	size_t			 nw;
};

struct word_key {
	const char	*s;
	size_t		 len;
};

static int
keyword_cmp(const void *key, const void *elem)
{
	const struct word_key *k = key;
	const char *word = *(const char *const *)elem;
	size_t wlen = strlen(word);
	int r = memcmp(k->s, word, k->len < wlen ? k->len : wlen);

	if (r != 0)
		return r;
	return (k->len > wlen) - (k->len < wlen);
}

static enum keyword
keyword_find(const char *s, size_t len)
{
	struct word_key k = { s, len };
	const void *hit;

	hit = bsearch(&k, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), keyword_cmp);
	return hit == NULL ? KW_NONE :
	    ((const __typeof__(keywords[0]) *)hit)->kw;
}

static enum keyword
word_keyword(const struct word *w)
{
	return w->quoted ? KW_NONE : keyword_find(w->s, w->len);
}

/* A word as messages show it: control bytes escaped, long words cut. */
static const char *
word_show(const char *s, size_t len, char *buf, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < WORD_SHOW_MAX && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (i < len && o + 4 < size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

#define SHOW(w)	word_show((w)->s, (w)->len, show, sizeof(show))

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need, i;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

/* Check bytes; returns 0, or the 1-based column of the first bad byte and
 * what is wrong with it. */
static unsigned
line_check(const char *s, size_t n, const char **what)
{
	size_t i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0) {
			*what = "NUL byte";
			return (unsigned)i + 1;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq((const unsigned char *)s + i, n - i)) == 0) {
			*what = "invalid UTF-8";
			return (unsigned)i + 1;
		}
		i += k;
	}
	return 0;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Split into words. Returns 0, or -1 after reporting a quoting error. */
static int
line_split(struct line *l, size_t n, size_t *text_end)
{
	const char *s = l->start;
	size_t i = 0, j;

	l->nw = 0;
	*text_end = 0;
	while (i < n) {
		struct word *w = &l->w[l->nw];

		if (is_blank(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '#')
			break;
		w->col = (unsigned)i + 1;
		if (s[i] == '"') {
			for (j = i + 1; j < n && s[j] != '"'; j++)
				;
			if (j == n) {
				build_error(l->b, l->file, l->no, w->col,
				    "unterminated quoted string");
				return -1;
			}
			w->s = s + i + 1;
			w->len = j - i - 1;
			w->quoted = true;
			i = j + 1;
			if (i < n && !is_blank(s[i]) && s[i] != '#') {
				build_error(l->b, l->file, l->no, (unsigned)i + 1,
				    "unexpected text after closing quote");
				return -1;
			}
		} else {
			for (j = i; j < n && !is_blank(s[j]) && s[j] != '#'; j++)
				;
			w->s = s + i;
			w->len = j - i;
			w->quoted = false;
			i = j;
		}
		*text_end = i;
		l->nw++;
	}
	return 0;
}

static void
error_quoted(struct line *l, const struct word *w)
{
	build_error(l->b, l->file, l->no, w->col,
	    "quoted string allowed only after include");
}

/* A number 0..65535 made of digits only; -1 for anything else, -2 when
 * the digits are fine but the value too big. */
static long
port_number(const char *s, size_t len)
{
	long v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v <= 65535)
			v = v * 10 + (s[i] - '0');
	}
	return v > 65535 ? -2 : v;
}

/* Parse PORTS into a set id. Returns 0, or -1 after reporting. */
static int
parse_ports(struct line *l, const struct word *w, uint32_t *id)
{
	struct port_range r[POLICY_LINE_MAX / 2 + 1];
	char show[WORD_SHOW_MAX * 4 + 8];
	size_t n = 0, i = 0, j;
	int bad = 0;

	if (keyword_find(w->s, w->len) == KW_ANY) {
		*id = PORTSET_ANY;
		return 0;
	}
	while (i <= w->len) {
		const char *e = w->s + i, *dash;
		unsigned col = w->col + (unsigned)i;
		long lo, hi;
		size_t len;

		for (j = i; j < w->len && w->s[j] != ','; j++)
			;
		len = j - i;
		i = j + 1;
		if (keyword_find(e, len) == KW_ANY) {
			build_error(l->b, l->file, l->no, col,
			    "'any' cannot be combined with other ports");
			bad = 1;
			continue;
		}
		dash = memchr(e, '-', len);
		if (dash == NULL) {
			lo = hi = port_number(e, len);
		} else {
			lo = port_number(e, (size_t)(dash - e));
			hi = port_number(dash + 1, len - (size_t)(dash - e) - 1);
		}
		if (lo == -1 || hi == -1) {
			build_error(l->b, l->file, l->no, col, "invalid port '%s'",
			    word_show(e, len, show, sizeof(show)));
			bad = 1;
		} else if (lo < 1 || hi < 1) {
			build_error(l->b, l->file, l->no, col,
			    "port '%s' out of range 1-65535",
			    word_show(e, len, show, sizeof(show)));
			bad = 1;
		} else if (lo > hi) {
			build_error(l->b, l->file, l->no, col,
			    "invalid port range '%s'",
			    word_show(e, len, show, sizeof(show)));
			bad = 1;
		} else {
			r[n].lo = (uint16_t)lo;
			r[n].hi = (uint16_t)hi;
			n++;
		}
	}
	if (bad)
		return -1;
	if (portset_table_add(&l->b->p->ports, r, n, id) == -1) {
		l->b->fail = ENOMEM;
		return -1;
	}
	return 0;
}

/* Parse PROTOS into enum policy_proto bits. Returns 0, or -1 after reporting. */
static int
parse_protos(struct line *l, const struct word *w, unsigned *protos)
{
	char show[WORD_SHOW_MAX * 4 + 8];
	size_t i = 0, j;
	int bad = 0;

	*protos = 0;
	while (i <= w->len) {
		for (j = i; j < w->len && w->s[j] != ','; j++)
			;
		switch (keyword_find(w->s + i, j - i)) {
		case KW_TCP:
			*protos |= POLICY_PROTO_TCP;
			break;
		case KW_UDP:
			*protos |= POLICY_PROTO_UDP;
			break;
		case KW_ICMP:
			*protos |= POLICY_PROTO_ICMP;
			break;
		default:
			build_error(l->b, l->file, l->no, w->col + (unsigned)i,
			    "unknown protocol '%s'",
			    word_show(w->s + i, j - i, show, sizeof(show)));
			bad = 1;
		}
		i = j + 1;
	}
	return bad ? -1 : 0;
}

/* Unmap ::ffff:a.b.c.d/96+ so that it matches the IPv4 addresses it names. */
static void
cidr_unmap(struct ag_cidr *c)
{
	if (c->addr.family == AF_INET6 && c->len >= 96 &&
	    IN6_IS_ADDR_V4MAPPED(&c->addr.u.v6)) {
		uint8_t v4[4];

		memcpy(v4, c->addr.u.bytes + 12, 4);
		memset(&c->addr.u, 0, sizeof(c->addr.u));
		memcpy(c->addr.u.bytes, v4, 4);
		c->addr.family = AF_INET;
		c->len -= 96;
	}
}

/* One target of a rule. `text_off` is the arena offset of the rule text,
 * whose first byte is at column `text_col`. */
static void
parse_target(struct line *l, const struct word *w, uint32_t rule,
    uint32_t text_off, unsigned text_col)
{
	char show[WORD_SHOW_MAX * 4 + 8], buf[POLICY_LINE_MAX + 1];
	struct canon_out out;
	enum canon_result cr;
	struct ag_cidr c;
	const char *star;
	uint32_t off;
	size_t skip;

	if (w->len == 1 && w->s[0] == '*') {
		build_star(l->b, rule);
		return;
	}
	star = memchr(w->s, '*', w->len);
	if (star != NULL) {
		if (w->len < 3 || w->s[0] != '*' || w->s[1] != '.' ||
		    memchr(w->s + 1, '*', w->len - 1) != NULL) {
			build_error(l->b, l->file, l->no, w->col,
			    "invalid wildcard '%s': '*' is allowed only as '*' "
			    "or a leading '*.'", SHOW(w));
			return;
		}
		skip = 2;
	} else if (memchr(w->s, '/', w->len) != NULL) {
		memcpy(buf, w->s, w->len);
		buf[w->len] = '\0';
		if (cidr_parse(buf, &c) == -1) {
			build_error(l->b, l->file, l->no, w->col,
			    "invalid prefix '%s': host bits set or bad "
			    "address/length", SHOW(w));
			return;
		}
		cidr_unmap(&c);
		build_addr(l->b, rule, &c);
		return;
	} else
		skip = 0;

	cr = canon_host(w->s + skip, w->len - skip, &out);
	if (cr == CANON_ADDRESS && skip == 0) {
		c.addr = out.addr;
		c.len = out.addr.family == AF_INET ? 32 : 128;
		cidr_unmap(&c);
		build_addr(l->b, rule, &c);
	} else if (cr == CANON_ADDRESS) {
		build_error(l->b, l->file, l->no, w->col,
		    "invalid wildcard '%s': suffix is an address", SHOW(w));
	} else if (cr != CANON_NAME) {
		build_error(l->b, l->file, l->no, w->col,
		    "invalid name '%s': %s", SHOW(w), canon_strerror(cr));
	} else {
		/* Share the bytes of the rule text when they are canonical. */
		off = UINT32_MAX;
		if (text_off != UINT32_MAX && out.len == w->len - skip &&
		    memcmp(out.name, w->s + skip, out.len) == 0)
			off = text_off + (w->col - text_col) + (uint32_t)skip;
		build_name(l->b, rule, out.name, out.len, skip != 0, off);
	}
}

static void
parse_rule(struct line *l, enum policy_action action, size_t text_end)
{
	char show[WORD_SHOW_MAX * 4 + 8];
	struct policy_build *b = l->b;
	const struct word *port_w = NULL, *proto_w = NULL, *w;
	size_t i, ntargets = 0, nmark = b->nnkeys, amark = b->nakeys;
	unsigned protos = POLICY_PROTO_TCP, text_col = l->w[0].col;
	uint32_t ports = PORTSET_DEFAULT, rule, text_off;
	int bad = 0;
	enum keyword kw;

	rule = build_rule(b, action, l->file, l->no, l->start + text_col - 1,
	    text_end - (text_col - 1));
	if (rule == UINT32_MAX)
		return;
	text_off = b->p->rules[rule].text;

	for (i = 1; i < l->nw; i++) {
		w = &l->w[i];
		kw = word_keyword(w);
		if (kw == KW_PORT || kw == KW_PROTO)
			break;
		ntargets++;
		if (w->quoted)
			error_quoted(l, w);
		else if (kw != KW_NONE)
			build_error(b, l->file, l->no, w->col,
			    "unexpected keyword '%s'", SHOW(w));
		else
			parse_target(l, w, rule, text_off, text_col);
	}
	if (ntargets == 0)
		build_error(b, l->file, l->no, l->w[0].col,
		    "missing target after '%s'", policy_action_name(action));

	for (; i < l->nw; i++) {
		w = &l->w[i];
		kw = word_keyword(w);
		if (kw != KW_PORT && kw != KW_PROTO) {
			build_error(b, l->file, l->no, w->col,
			    "unexpected '%s' after port/proto options", SHOW(w));
			continue;
		}
		if ((kw == KW_PORT ? port_w : proto_w) != NULL) {
			build_error(b, l->file, l->no, w->col,
			    "duplicate '%s' option", kw == KW_PORT ? "port" : "proto");
			bad = 1;
		}
		if (i + 1 == l->nw) {
			build_error(b, l->file, l->no, w->col,
			    "missing value after '%s'", kw == KW_PORT ? "port" : "proto");
			break;
		}
		if (kw == KW_PORT)
			port_w = w;
		else
			proto_w = w;
		w = &l->w[++i];
		if (w->quoted) {
			error_quoted(l, w);
			bad = 1;
		} else if (kw == KW_PORT && parse_ports(l, w, &ports) == -1)
			bad = 1;
		else if (kw == KW_PROTO && parse_protos(l, w, &protos) == -1)
			bad = 1;
	}
	if (!bad && port_w != NULL && protos == POLICY_PROTO_ICMP)
		build_error(b, l->file, l->no, port_w->col,
		    "'port' does not apply to proto icmp");
	if (!bad)
		build_rule_options(b, rule, nmark, amark, protos, ports);
}

static void
parse_include(struct line *l)
{
	char show[WORD_SHOW_MAX * 4 + 8];
	struct policy_build *b = l->b;
	const struct word *w;

	if (l->nw < 2) {
		build_error(b, l->file, l->no, l->w[0].col,
		    "missing file after 'include'");
		return;
	}
	if (l->nw > 2) {
		w = &l->w[2];
		build_error(b, l->file, l->no, w->col,
		    "unexpected '%s' after include file", SHOW(w));
		return;
	}
	w = &l->w[1];
	if (w->len == 0) {
		build_error(b, l->file, l->no, w->col,
		    "missing file after 'include'");
		return;
	}
	if (b->include == NULL) {
		build_error(b, l->file, l->no, l->w[0].col,
		    "include not allowed in a policy without a base folder");
		return;
	}
	b->include(b, l->file, l->no, w->col, w->s, w->len);
}

static void
parse_line(struct line *l, size_t n)
{
	char show[WORD_SHOW_MAX * 4 + 8];
	const struct word *w;
	size_t text_end;

	if (line_split(l, n, &text_end) == -1 || l->nw == 0)
		return;
	w = &l->w[0];
	if (w->quoted) {
		error_quoted(l, w);
		return;
	}
	switch (keyword_find(w->s, w->len)) {
	case KW_ALLOW:
		parse_rule(l, POLICY_ALLOW, text_end);
		break;
	case KW_ASK:
		parse_rule(l, POLICY_ASK, text_end);
		break;
	case KW_DENY:
		parse_rule(l, POLICY_DENY, text_end);
		break;
	case KW_INCLUDE:
		parse_include(l);
		break;
	default:
		build_error(l->b, l->file, l->no, w->col,
		    "unknown action '%s'", SHOW(w));
		break;
	}
}

void
parse_text(struct policy_build *b, unsigned file, const char *text, size_t len)
{
	struct line l;
	size_t pos = 0, n, next;
	const char *nl, *what;
	unsigned col;

	memset(&l, 0, sizeof(l));
	l.b = b;
	l.file = file;
	/* At most one word per two bytes of a line. */
	if ((l.w = calloc(POLICY_LINE_MAX / 2 + 1, sizeof(*l.w))) == NULL) {
		b->fail = ENOMEM;
		return;
	}
	while (pos < len && b->fail == 0) {
		l.no++;
		l.start = text + pos;
		nl = memchr(l.start, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - l.start) : len - pos;
		next = pos + n + 1;
		if (n > 0 && l.start[n - 1] == '\r')
			n--;
		pos = next;
		if (n > POLICY_LINE_MAX) {
			build_error(b, file, l.no, 0,
			    "line too long (over %d bytes)", POLICY_LINE_MAX);
			continue;
		}
		if ((col = line_check(l.start, n, &what)) != 0) {
			build_error(b, file, l.no, col, "%s", what);
			continue;
		}
		parse_line(&l, n);
	}
	free(l.w);
}
