/*
 * Presenting telemetry to a person: strings from the log are hostile, so
 * every one goes through an escaper for its medium (terminal text, CSV,
 * HTML) before it is shown; and a small counter table for summaries.
 */
#ifndef AG_CTL_LOGFMT_H
#define AG_CTL_LOGFMT_H

#include <stdint.h>
#include <stdio.h>

#include "filter.h"

/* A growable byte string; always NUL-terminated once anything is added. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
};

void	sbuf_reset(struct sbuf *b);
void	sbuf_free(struct sbuf *b);
/* Append; on allocation failure the program exits (fatal). */
void	sbuf_add(struct sbuf *b, const char *s, size_t len);
void	sbuf_addc(struct sbuf *b, char c);
/* The text so far, "" when nothing was added. */
const char *sbuf_str(const struct sbuf *b);
void	sbuf_addf(struct sbuf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Terminal-safe text: bytes below 0x20 and 0x7f become \n, \t, \r or \xNN,
 * a backslash \\, bytes that are not valid UTF-8 \xNN, and the C1 controls
 * (U+0080..U+009F) and bidi controls (U+200E/F, U+202A..U+202E,
 * U+2066..U+2069) \uXXXX, so no string can move the cursor, recolour or
 * reorder what is shown.
 */
void	fmt_text(struct sbuf *b, const char *s, size_t len);
/* One CSV field (RFC 4180): fmt_text, then quoted when it holds a comma,
 * a quote (doubled) or starts or ends with a space. */
void	fmt_csv(struct sbuf *b, const char *s, size_t len);
/* HTML text and attribute values: & < > " ' as entities, controls as in
 * fmt_text. */
void	fmt_html(struct sbuf *b, const char *s, size_t len);

/* A Markdown table cell: fmt_html, then the Markdown punctuation that
 * could start markup (\ ` * _ [ ] | #) backslash-escaped. */
void	fmt_md(struct sbuf *b, const char *s, size_t len);

/* The table cell "ip:port" ("[ip]:port" for IPv6), "ip", or "-". */
void	fmt_addr_port(struct sbuf *b, const char *ip, int64_t port);

/* Counters keyed by two strings (a name and an outcome, say), with two
 * sums, first/last time and a note (the first rule and reason seen). */
struct tally_ent {
	char		*k1, *k2;
	uint64_t	 count;
	uint64_t	 sum[2];
	ag_usec		 first, last;
	char		*note;
};

struct tally {
	struct tally_ent *ents;
	size_t		  n, cap;
	size_t		 *slots;	/* open addressing: index + 1, 0 empty */
	size_t		  nslots;
};

void	tally_init(struct tally *t);
void	tally_free(struct tally *t);
/* The entry for (k1, k2), made with count 0 when new; exits on ENOMEM. */
struct tally_ent *tally_get(struct tally *t, const char *k1, const char *k2);
/* Most frequent first; ties by k1 then k2, so output is stable. No
 * tally_get() after this. */
void	tally_sort(struct tally *t);

#endif
