/*
 * HTTP/1.x request-head parser. Complete lines are judged one at a time and
 * the limits only look at the first HTTPHEAD_MAX bytes, so a decision made
 * on a prefix is the decision the whole head gets (the fuzzer checks this).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "httphead.h"

/* A host[:port] found in a target or a Host value. */
struct authority {
	const char	*host;
	size_t		 host_len;
	int		 port;		/* -1 when none was written */
};

/* What the header lines said, judged together once the head is complete. */
struct head_ctx {
	struct http_head *out;
	int		 headers;
	int		 hosts;
	const char	*host_val;	/* the Host value, trimmed */
	size_t		 host_val_len;
	struct authority target;	/* absolute-form and CONNECT targets */
	bool		 te;		/* any Transfer-Encoding header */
	int		 te_codings;
	int		 te_chunked;
	bool		 te_chunked_last;
	bool		 conn_close;
	bool		 conn_keep_alive;
};

/* RFC 9110 5.6.2 token characters. */
static const bool tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static inline bool
is_tchar(unsigned char c)
{
	return tchar[c];
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool
word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

static enum httphead_result
refuse(struct http_head *out, int status, const char *error)
{
	out->status = status;
	out->error = error;
	return HTTPHEAD_INVALID;
}

/*
 * host[:port] or [v6][:port]. Hosts keep their raw bytes for canon_host(),
 * which judges them; here only what could change where the authority ends or
 * smuggle a second name is refused: userinfo, delimiters, whitespace.
 */
static const char *
authority_parse(const char *s, size_t n, bool port_required,
    struct authority *a)
{
	const char *close, *p;
	size_t i, hl;
	long port;

	a->port = -1;
	if (memchr(s, '@', n) != NULL)
		return "userinfo in authority";
	if (n > 0 && s[0] == '[') {
		if ((close = memchr(s, ']', n)) == NULL)
			return "unclosed IPv6 literal";
		hl = (size_t)(close - s) + 1;
		for (i = 1; i + 1 < hl; i++)
			if (strchr("0123456789abcdefABCDEF:.", s[i]) == NULL ||
			    s[i] == '\0')
				return "bad IPv6 literal";
		if (hl == 2)
			return "empty IPv6 literal";
	} else {
		p = memchr(s, ':', n);
		hl = p != NULL ? (size_t)(p - s) : n;
		for (i = 0; i < hl; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c <= ' ' || c == 0x7f || strchr("/?#[]\\", c) != NULL)
				return "bad byte in host";
		}
	}
	if (hl == 0)
		return "empty host";
	if (hl > HTTPHEAD_HOST_MAX)
		return "host too long";
	a->host = s;
	a->host_len = hl;
	if (hl == n)
		return port_required ? "port required" : NULL;
	if (s[hl] != ':' || n - hl < 2 || n - hl > 6)
		return "bad port";
	port = 0;
	for (i = hl + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return "bad port";
		port = port * 10 + (s[i] - '0');
	}
	if (port < 1 || port > 65535)
		return "bad port";
	a->port = (int)port;
	return NULL;
}

/* METHOD SP target SP version, without its line end. */
static enum httphead_result
request_line(const char *buf, size_t n, struct head_ctx *ctx)
{
	struct http_head *out = ctx->out;
	const char *t, *sp, *v, *err;
	size_t m, tn, vn, i, skip;

	m = (size_t)((const char *)memchr(buf, ' ', n) - buf);
	memcpy(out->method, buf, m);
	out->method[m] = '\0';
	out->is_connect = strcmp(out->method, "CONNECT") == 0;
	t = buf + m + 1;
	if ((sp = memchr(t, ' ', n - m - 1)) == NULL)
		return refuse(out, 400, "request line without version");
	tn = (size_t)(sp - t);
	if (tn == 0)
		return refuse(out, 400, "empty request target");
	for (i = 0; i < tn; i++)
		if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 0x7f)
			return refuse(out, 400, "bad byte in request target");
	out->target_off = m + 1;
	out->target_len = tn;
	v = sp + 1;
	vn = n - (size_t)(v - buf);
	if (vn == 8 && memcmp(v, "HTTP/1.", 7) == 0 && (v[7] == '0' || v[7] == '1'))
		out->version = v[7] == '0' ? 10 : 11;
	else if (vn == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' &&
	    v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9')
		return refuse(out, 505, "HTTP version not supported");
	else
		return refuse(out, 400, "malformed HTTP version");

	if (out->is_connect) {
		if (t[0] == '/' || t[0] == '*' || memchr(t, '/', tn) != NULL)
			return refuse(out, 400, "CONNECT needs host:port");
		out->target_kind = HTTP_TARGET_AUTHORITY;
		if ((err = authority_parse(t, tn, true, &ctx->target)) != NULL)
			return refuse(out, 400, err);
		return HTTPHEAD_NEED_MORE;
	}
	if (tn == 1 && t[0] == '*') {
		if (strcmp(out->method, "OPTIONS") != 0)
			return refuse(out, 400, "asterisk-form without OPTIONS");
		out->target_kind = HTTP_TARGET_ASTERISK;
		return HTTPHEAD_NEED_MORE;
	}
	if (t[0] == '/') {
		out->target_kind = HTTP_TARGET_ORIGIN;
		return HTTPHEAD_NEED_MORE;
	}
	if (tn >= 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else if (tn >= 8 && strncasecmp(t, "https://", 8) == 0) {
		skip = 8;
		out->https = true;
	} else if (memchr(t, ':', tn) != NULL && memchr(t, '/', tn) != NULL)
		return refuse(out, 400, "unsupported URI scheme");
	else
		return refuse(out, 400, "request target form not allowed");
	out->target_kind = HTTP_TARGET_ABSOLUTE;
	for (i = skip; i < tn && strchr("/?#", t[i]) == NULL; i++)
		;
	if ((err = authority_parse(t + skip, i - skip, false, &ctx->target)) != NULL)
		return refuse(out, 400, err);
	out->path_off = out->target_off + i;
	out->path_len = tn - i;
	return HTTPHEAD_NEED_MORE;
}

/* A comma-separated list element at a time, OWS trimmed; -1 when done. */
static int
list_next(const char **s, const char *end, const char **e, size_t *en)
{
	const char *p, *q;

	if (*s > end)
		return -1;
	p = *s;
	q = memchr(p, ',', (size_t)(end - p));
	if (q == NULL)
		q = end;
	*s = q + 1;
	while (p < q && is_ows(*p))
		p++;
	while (q > p && is_ows(q[-1]))
		q--;
	*e = p;
	*en = (size_t)(q - p);
	return 0;
}

static enum httphead_result
header_line(const char *line, size_t n, struct head_ctx *ctx)
{
	struct http_head *out = ctx->out;
	const char *colon, *v, *ve, *s, *e;
	size_t name_len, i, en;
	int64_t cl;

	if (is_ows(line[0]))
		return refuse(out, 400, "obs-fold line");
	if (++ctx->headers > HTTPHEAD_HEADERS_MAX)
		return refuse(out, 431, "too many header lines");
	if ((colon = memchr(line, ':', n)) == NULL)
		return refuse(out, 400, "header without colon");
	name_len = (size_t)(colon - line);
	if (name_len == 0)
		return refuse(out, 400, "empty header name");
	if (is_ows(colon[-1]))
		return refuse(out, 400, "whitespace before colon");
	for (i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)line[i]))
			return refuse(out, 400, "bad byte in header name");
	v = colon + 1;
	ve = line + n;
	for (s = v; s < ve; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < ' ' && c != '\t') || c == 0x7f)
			return refuse(out, 400, "control byte in header value");
	}
	while (v < ve && is_ows(*v))
		v++;
	while (ve > v && is_ows(ve[-1]))
		ve--;

	if (word_is(line, name_len, "host")) {
		if (++ctx->hosts > 1)
			return refuse(out, 400, "two Host headers");
		ctx->host_val = v;
		ctx->host_val_len = (size_t)(ve - v);
	} else if (word_is(line, name_len, "content-length")) {
		if (v == ve || ve - v > 18)
			return refuse(out, 400, "bad Content-Length");
		cl = 0;
		for (s = v; s < ve; s++) {
			if (*s < '0' || *s > '9')
				return refuse(out, 400, "bad Content-Length");
			cl = cl * 10 + (*s - '0');
		}
		if (out->content_length != -1 && out->content_length != cl)
			return refuse(out, 400, "differing Content-Length");
		out->content_length = cl;
	} else if (word_is(line, name_len, "transfer-encoding")) {
		ctx->te = true;
		s = v;
		while (list_next(&s, ve, &e, &en) == 0) {
			if (en == 0)
				return refuse(out, 400, "empty transfer coding");
			ctx->te_codings++;
			ctx->te_chunked_last = word_is(e, en, "chunked");
			if (ctx->te_chunked_last)
				ctx->te_chunked++;
		}
	} else if (word_is(line, name_len, "connection")) {
		s = v;
		while (list_next(&s, ve, &e, &en) == 0) {
			if (word_is(e, en, "close"))
				ctx->conn_close = true;
			else if (word_is(e, en, "keep-alive"))
				ctx->conn_keep_alive = true;
		}
	}
	return HTTPHEAD_NEED_MORE;
}

static bool
host_equal(const struct authority *a, const struct authority *b)
{
	return a->host_len == b->host_len &&
	    strncasecmp(a->host, b->host, a->host_len) == 0;
}

/* The head is complete: judge what the lines said together. */
static enum httphead_result
head_finish(struct head_ctx *ctx)
{
	struct http_head *out = ctx->out;
	struct authority h, *use;
	const char *err;
	int dflt;

	if (ctx->hosts == 0 && out->version == 11)
		return refuse(out, 400, "missing Host");
	if (ctx->te) {
		if (out->content_length != -1)
			return refuse(out, 400, "Content-Length with Transfer-Encoding");
		if (out->version == 10)
			return refuse(out, 400, "Transfer-Encoding in HTTP/1.0");
		if (!ctx->te_chunked_last || ctx->te_chunked > 1)
			return refuse(out, 400, "final transfer coding is not chunked");
		if (ctx->te_codings > 1)
			return refuse(out, 501, "transfer coding not implemented");
		out->chunked = true;
	}
	use = NULL;
	if (ctx->hosts == 1) {
		if ((err = authority_parse(ctx->host_val, ctx->host_val_len,
		    false, &h)) != NULL)
			return refuse(out, 400, err);
		use = &h;
	}
	if (out->target_kind == HTTP_TARGET_ABSOLUTE ||
	    out->target_kind == HTTP_TARGET_AUTHORITY) {
		if (use != NULL) {
			if (!host_equal(&ctx->target, &h))
				return refuse(out, 400, "Host does not match target");
			if (out->target_kind == HTTP_TARGET_ABSOLUTE) {
				dflt = out->https ? 443 : 80;
				if ((ctx->target.port == -1 ? dflt : ctx->target.port) !=
				    (h.port == -1 ? dflt : h.port))
					return refuse(out, 400, "Host port does not match target");
			} else if (h.port != -1 && h.port != ctx->target.port)
				return refuse(out, 400, "Host port does not match target");
		}
		use = &ctx->target;
	}
	if (use != NULL) {
		memcpy(out->host, use->host, use->host_len);
		out->host[use->host_len] = '\0';
		out->host_len = use->host_len;
		out->port = use->port == -1 ? 0 : (uint16_t)use->port;
	}
	if (out->version == 11)
		out->keep_alive = !ctx->conn_close;
	else
		out->keep_alive = ctx->conn_keep_alive && !ctx->conn_close;
	return HTTPHEAD_OK;
}

enum httphead_result
httphead_parse(const char *buf, size_t len, struct http_head *out)
{
	struct head_ctx ctx;
	const char *lf;
	size_t i, t0, pos, lim, end;
	enum httphead_result r;

	memset(out, 0, sizeof(*out));
	memset(&ctx, 0, sizeof(ctx));
	out->content_length = -1;
	ctx.out = out;

	for (i = 0; i < len && buf[i] != ' '; i++)
		if (!is_tchar((unsigned char)buf[i]) || i == HTTPHEAD_METHOD_MAX)
			return HTTPHEAD_NOT_HTTP;
	if (i == 0 && len > 0)
		return HTTPHEAD_NOT_HTTP;
	if (i == len)
		return HTTPHEAD_NEED_MORE;
	/* The target's extent is judged before its line ends, the same way
	 * for every prefix, so that an endless target is 414 early. */
	t0 = i + 1;
	for (i = t0; i < len && i - t0 <= HTTPHEAD_TARGET_MAX; i++)
		if (buf[i] == ' ' || buf[i] == '\r' || buf[i] == '\n')
			break;
	if (i - t0 > HTTPHEAD_TARGET_MAX)
		return refuse(out, 414, "request target too long");

	lim = len < HTTPHEAD_MAX ? len : HTTPHEAD_MAX;
	for (pos = 0;;) {
		if ((lf = memchr(buf + pos, '\n', lim - pos)) == NULL) {
			if (len >= HTTPHEAD_MAX)
				return refuse(out, 431, "request head too large");
			return HTTPHEAD_NEED_MORE;
		}
		end = (size_t)(lf - buf);
		if (end > pos && buf[end - 1] == '\r')
			end--;
		if (memchr(buf + pos, '\r', end - pos) != NULL)
			return refuse(out, 400, "bare CR");
		if (memchr(buf + pos, '\0', end - pos) != NULL)
			return refuse(out, 400, "NUL byte");
		if (pos == 0)
			r = request_line(buf, end, &ctx);
		else if (end == pos) {
			out->head_len = (size_t)(lf - buf) + 1;
			return head_finish(&ctx);
		} else
			r = header_line(buf + pos, end - pos, &ctx);
		if (r != HTTPHEAD_NEED_MORE)
			return r;
		pos = (size_t)(lf - buf) + 1;
	}
}

const char *
httphead_result_str(enum httphead_result r)
{
	switch (r) {
	case HTTPHEAD_OK:
		return "ok";
	case HTTPHEAD_NEED_MORE:
		return "need more";
	case HTTPHEAD_NOT_HTTP:
		return "not http";
	case HTTPHEAD_INVALID:
		return "invalid";
	}
	return "unknown";
}
