/*
 * HTTP/1.x request-head parser for the proxy and the packet-only filter: it
 * takes the first bytes of a request and returns the name it is for, how its
 * body is framed, or the status to refuse it with. No I/O, no state.
 */
#ifndef AG_HTTPHEAD_H
#define AG_HTTPHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPHEAD_MAX		32768	/* head bytes, blank line included (431) */
#define HTTPHEAD_HEADERS_MAX	100	/* header lines (431) */
#define HTTPHEAD_TARGET_MAX	8192	/* request-target bytes (414) */
#define HTTPHEAD_METHOD_MAX	32	/* method token bytes */
#define HTTPHEAD_HOST_MAX	255	/* host bytes, brackets of an IPv6 literal included */

enum httphead_result {
	HTTPHEAD_OK = 0,	/* a complete, acceptable head; *out is filled */
	HTTPHEAD_NEED_MORE,	/* acceptable so far; call again with more bytes */
	HTTPHEAD_NOT_HTTP,	/* not a method token and SP: some other protocol */
	HTTPHEAD_INVALID,	/* refuse with out->status; out->error says why */
};

enum http_target {
	HTTP_TARGET_ORIGIN = 0,	/* /path?query */
	HTTP_TARGET_ABSOLUTE,	/* http://host[:port]/path (explicit proxy) */
	HTTP_TARGET_AUTHORITY,	/* host:port, CONNECT only */
	HTTP_TARGET_ASTERISK,	/* *, OPTIONS only */
};

struct http_head {
	char		 method[HTTPHEAD_METHOD_MAX + 1];
	int		 version;	/* 10 or 11 */
	enum http_target target_kind;
	size_t		 target_off;	/* request-target within buf */
	size_t		 target_len;
	size_t		 path_off;	/* absolute-form: from the path on (may be empty) */
	size_t		 path_len;
	bool		 https;		/* absolute-form scheme is https */
	char		 host[HTTPHEAD_HOST_MAX + 1];	/* raw, NUL added; [v6] kept */
	size_t		 host_len;
	uint16_t	 port;		/* as written; 0 if none given */
	bool		 is_connect;
	bool		 keep_alive;
	int64_t		 content_length;	/* -1: no Content-Length */
	bool		 chunked;	/* Transfer-Encoding: chunked */
	size_t		 head_len;	/* bytes up to and including the blank line */
	int		 status;	/* when INVALID: 400, 414, 431, 501 or 505 */
	const char	*error;		/* static reason, when INVALID */
};

/*
 * Parse the start of a request. Stateless: call again with the whole buffer
 * when more bytes arrived. The decision on a prefix never changes when more
 * bytes follow: NOT_HTTP and INVALID are final, and OK covers head_len bytes.
 *
 * Lines end in CRLF or a bare LF (accepted, as nginx does); a CR not
 * followed by LF is refused. The host comes from the absolute-form or
 * authority-form target, else from Host; an absolute-form or CONNECT target
 * and Host must name the same host and port. Refused with 400: malformed
 * request line or header, obs-fold, whitespace before a colon, control bytes,
 * missing (HTTP/1.1) or repeated Host, userinfo, a target form the method
 * does not allow, Content-Length with Transfer-Encoding, differing or
 * non-numeric Content-Length, Transfer-Encoding whose final coding is not
 * chunked or on HTTP/1.0. 501: another coding before chunked. 414: target
 * over 8192 bytes. 431: head over 32768 bytes or over 100 headers. 505: a
 * version other than HTTP/1.0 and HTTP/1.1. *out is always written.
 */
enum httphead_result httphead_parse(const char *buf, size_t len,
    struct http_head *out);

/* "ok", "need more", "not http", "invalid": for logs and tests. */
const char *httphead_result_str(enum httphead_result r);

#endif
