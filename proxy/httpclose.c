/*
 * Connection: close for the first request of a plain-HTTP connection
 * (httpclose.h). Lines end in CRLF or a bare LF, as httphead accepts.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "httpclose.h"

/* Whether a header line names one of the hop-by-hop keep-alive headers. */
static bool
httpclose_hop(const char *line, size_t len)
{
	static const char *const names[] = {
		"connection", "keep-alive", "proxy-connection",
	};
	const char *colon = memchr(line, ':', len);
	size_t i, nl;

	if (colon == NULL)
		return false;
	nl = (size_t)(colon - line);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == nl && strncasecmp(line, names[i], nl) == 0)
			return true;
	return false;
}

ssize_t
httpclose_head(const char *head, size_t head_len, char *out,
    size_t outsize)
{
	static const char close_hdr[] = "Connection: close\r\n";
	const char *p = head, *end = head + head_len, *nl;
	size_t o = 0, ll;
	bool first = true;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		ll = (size_t)(nl - p) + 1;
		if (!first && (ll == 1 || (ll == 2 && p[0] == '\r'))) {
			/* The blank line: the header goes just before it. */
			if (o + sizeof(close_hdr) - 1 + ll > outsize) {
				errno = ENOSPC;
				return -1;
			}
			memcpy(out + o, close_hdr, sizeof(close_hdr) - 1);
			o += sizeof(close_hdr) - 1;
			memcpy(out + o, p, ll);
			return (ssize_t)(o + ll);
		}
		if (first || !httpclose_hop(p, ll)) {
			if (o + ll > outsize) {
				errno = ENOSPC;
				return -1;
			}
			memcpy(out + o, p, ll);
			o += ll;
		}
		first = false;
		p += ll;
	}
	errno = EINVAL;
	return -1;
}
