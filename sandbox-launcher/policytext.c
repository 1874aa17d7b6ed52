/*
 * Rules for inline --allow / --ask targets. The target is copied verbatim
 * into the rule, so anything that the policy lexer would read as a word
 * boundary, comment or quote is refused here rather than reinterpreted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policytext.h"

static int
port_parse(const char *s, unsigned *port)
{
	char *end;
	unsigned long v;

	if (*s < '1' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

int
policytext_add(char *buf, size_t size, size_t *len, const char *action,
    const char *target)
{
	const char *colon, *p;
	size_t tlen = strlen(target);
	unsigned port = 0;
	int n;

	for (p = target; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 0x7f || c == '#' || c == '"') {
			errno = EINVAL;
			return -1;
		}
	}
	colon = strrchr(target, ':');
	if (target[0] == '[') {
		/* [v6]:PORT or [v6] */
		const char *close = strchr(target, ']');

		if (close == NULL || close == target + 1) {
			errno = EINVAL;
			return -1;
		}
		if (close[1] == ':') {
			if (port_parse(close + 2, &port) == -1) {
				errno = EINVAL;
				return -1;
			}
			tlen = (size_t)(close + 1 - target);
		} else if (close[1] != '\0') {
			errno = EINVAL;
			return -1;
		}
	} else if (colon != NULL && strchr(target, ':') == colon) {
		/* One colon: NAME:PORT or ADDR4:PORT. Several: a bare IPv6. */
		if (port_parse(colon + 1, &port) == -1) {
			errno = EINVAL;
			return -1;
		}
		tlen = (size_t)(colon - target);
	}
	if (tlen == 0 || tlen > 4000) {
		errno = EINVAL;
		return -1;
	}
	if (port != 0)
		n = snprintf(buf + *len, size - *len, "%s %.*s port %u\n",
		    action, (int)tlen, target, port);
	else
		n = snprintf(buf + *len, size - *len, "%s %.*s\n", action,
		    (int)tlen, target);
	if (n < 0 || (size_t)n >= size - *len) {
		buf[*len] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	*len += (size_t)n;
	return 0;
}
