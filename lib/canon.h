/*
 * The one canonicalisation of host names in agentgate. Policy files, TLS SNI,
 * HTTP Host, CONNECT authorities and DNS questions all pass through
 * canon_host() so that a name is compared in exactly one form everywhere.
 */
#ifndef AG_CANON_H
#define AG_CANON_H

#include <stddef.h>

#include "addr.h"

#define CANON_NAME_MAX	253	/* octets, without a trailing dot */
#define CANON_LABEL_MAX	63

enum canon_result {
	CANON_NAME = 0,		/* out->name holds the canonical name */
	CANON_ADDRESS,		/* an IP literal in any spelling; out->addr holds it */
	CANON_ERR_EMPTY,	/* nothing, or only a dot */
	CANON_ERR_CHAR,		/* NUL, %, /, whitespace, control or other forbidden byte */
	CANON_ERR_LABEL_EMPTY,	/* "a..b", a leading dot, or two trailing dots */
	CANON_ERR_LABEL_LONG,	/* a label over 63 octets (after IDNA) */
	CANON_ERR_NAME_LONG,	/* over 253 octets (after IDNA) */
	CANON_ERR_IDNA,		/* non-ASCII that IDNA refuses, or a broken xn-- label */
	CANON_ERR_NUMERIC,	/* ends in a numeric label but is no valid IPv4 literal */
	CANON_ERR_HYPHEN,	/* a label that starts or ends with '-' */
};

struct canon_out {
	char		name[CANON_NAME_MAX + 1];	/* NUL-terminated, when CANON_NAME */
	size_t		len;
	struct ag_addr	addr;				/* when CANON_ADDRESS */
};

/*
 * Canonicalise a host as a client or a policy wrote it. `in` need not be
 * NUL-terminated; an embedded NUL is CANON_ERR_CHAR. The result is:
 *  - an address, for IPv4 in every inet_aton spelling (2130706433,
 *    0x7f000001, 0177.0.0.1, 127.1) and IPv6 with or without brackets;
 *  - else a name: lowercase, one trailing dot dropped, non-ASCII labels in
 *    IDNA A-label form (UTS#46 non-transitional), labels of [a-z0-9_-];
 *  - else the error that makes it invalid. Invalid names are always denied.
 * A host whose last label is numeric (all digits, or 0x and hex digits) is
 * an IPv4 literal or CANON_ERR_NUMERIC, never a name (WHATWG URL rule); this
 * also holds after IDNA mapping, so fullwidth digits give an address. Inputs
 * over 1024 bytes are CANON_ERR_NAME_LONG. No global state; thread-safe.
 */
enum canon_result canon_host(const char *in, size_t len, struct canon_out *out);

/* A short human reason for an error result ("empty label", ...). */
const char *canon_strerror(enum canon_result r);

#endif
