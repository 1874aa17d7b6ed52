/*
 * Filters of `agentgatectl log`: option values are checked and normalised
 * once (canonical names, CIDR, times in microseconds), so that matching a
 * record is only comparisons.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "units.h"
#include "logread.h"

const char *const filter_event_kinds[] = {
	"approval-decided", "approval-requested", "daemon-started",
	"daemon-stopped", "egress", "log-opened", "policy-loaded",
	"policy-rejected", "task-ended", "task-started", NULL
};

static const char *const filter_outcomes[] = {
	"allowed", "denied", "pending", NULL
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so no time zone state is involved. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at s; -1 if any is not a digit. */
static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
time_parse_rfc3339(const char *s, size_t len, ag_usec *out)
{
	static const unsigned char mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int y, mo, d, h, mi, sec, oh, om;
	int64_t usec = 0, scale = 100000, off = 0;
	size_t i = 19;

	if (len < 20)
		goto bad;
	if ((y = digits(s, 4)) < 0 || s[4] != '-' ||
	    (mo = digits(s + 5, 2)) < 1 || mo > 12 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 1 || d > mdays[mo - 1] ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    (h = digits(s + 11, 2)) < 0 || h > 23 || s[13] != ':' ||
	    (mi = digits(s + 14, 2)) < 0 || mi > 59 || s[16] != ':' ||
	    (sec = digits(s + 17, 2)) < 0 || sec > 60)
		goto bad;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		goto bad;
	if (s[i] == '.') {
		if (++i >= len || s[i] < '0' || s[i] > '9')
			goto bad;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			usec += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i >= len)
		goto bad;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
		off = 0;
	else if ((s[i] == '+' || s[i] == '-') && i + 6 == len &&
	    (oh = digits(s + i + 1, 2)) >= 0 && oh <= 23 && s[i + 3] == ':' &&
	    (om = digits(s + i + 4, 2)) >= 0 && om <= 59)
		off = (s[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	else
		goto bad;
	if (sec == 60)
		sec = 59;	/* a leap second sorts with its minute */
	*out = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - off) * 1000000) + usec;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
time_parse_arg(const char *s, ag_usec now, ag_usec *out)
{
	uint64_t ms;

	/* A duration ("90m", "3d") counts back from now; anything else must be
	 * an RFC 3339 time. Durations are parsed as the settings file does. */
	if (units_duration_ms(s, &ms) == 0) {
		if (ms > (uint64_t)(INT64_MAX / 1000)) {
			errno = ERANGE;
			return -1;
		}
		*out = now - (ag_usec)ms * 1000;
		return 0;
	}
	if (errno == ERANGE)
		return -1;
	return time_parse_rfc3339(s, strlen(s), out);
}

const char *
time_format_ms(ag_usec t, char *buf, size_t size)
{
	int64_t days, secs, y;
	unsigned m, d;

	days = t / 86400000000LL;
	if (t % 86400000000LL < 0)
		days--;
	secs = (t - days * 86400000000LL) / 1000000;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
	    (long long)y, m, d, (int)(secs / 3600), (int)(secs / 60 % 60),
	    (int)(secs % 60), (int)((t - days * 86400000000LL) / 1000 % 1000));
	return buf;
}

void
filter_init(struct log_filter *f)
{
	memset(f, 0, sizeof(*f));
}

static bool
one_of(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

int
filter_set_task(struct log_filter *f, const char *id)
{
	if (*id == '\0') {
		errno = EINVAL;
		return -1;
	}
	f->task = id;
	f->set |= FILTER_TASK;
	return 0;
}

int
filter_set_outcome(struct log_filter *f, const char *outcome)
{
	if (!one_of(outcome, filter_outcomes)) {
		errno = EINVAL;
		return -1;
	}
	f->outcome = outcome;
	f->set |= FILTER_OUTCOME;
	return 0;
}

int
filter_set_event(struct log_filter *f, const char *kind)
{
	if (!one_of(kind, filter_event_kinds)) {
		errno = EINVAL;
		return -1;
	}
	f->event = kind;
	f->set |= FILTER_EVENT;
	return 0;
}

int
filter_set_domain(struct log_filter *f, const char *pattern)
{
	struct canon_out co;
	bool wild = false;

	if (strncmp(pattern, "*.", 2) == 0) {
		wild = true;
		pattern += 2;
	}
	if (canon_host(pattern, strlen(pattern), &co) != CANON_NAME) {
		errno = EINVAL;
		return -1;
	}
	memcpy(f->domain, co.name, co.len + 1);
	f->domain_len = co.len;
	f->domain_wild = wild;
	f->set |= FILTER_DOMAIN;
	return 0;
}

int
filter_set_dst(struct log_filter *f, const char *cidr)
{
	if (cidr_parse(cidr, &f->dst) == -1)
		return -1;
	f->set |= FILTER_DST;
	return 0;
}

int
filter_set_port(struct log_filter *f, const char *port)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)port[0]) ||
	    (v = strtoul(port, &end, 10), errno != 0) || *end != '\0' ||
	    v > 65535) {
		errno = EINVAL;
		return -1;
	}
	f->port = (unsigned)v;
	f->set |= FILTER_PORT;
	return 0;
}

int
filter_set_since(struct log_filter *f, const char *arg, ag_usec now)
{
	if (time_parse_arg(arg, now, &f->since) == -1)
		return -1;
	f->set |= FILTER_SINCE;
	return 0;
}

int
filter_set_until(struct log_filter *f, const char *arg, ag_usec now)
{
	if (time_parse_arg(arg, now, &f->until) == -1)
		return -1;
	f->set |= FILTER_UNTIL;
	return 0;
}

bool
filter_domain_match(const struct log_filter *f, const char *name, size_t len)
{
	struct canon_out co;

	if (name == NULL || canon_host(name, len, &co) != CANON_NAME)
		return false;
	if (!f->domain_wild)
		return co.len == f->domain_len &&
		    memcmp(co.name, f->domain, co.len) == 0;
	/* Strictly below the suffix, on a label boundary. */
	return co.len > f->domain_len + 1 &&
	    co.name[co.len - f->domain_len - 1] == '.' &&
	    memcmp(co.name + co.len - f->domain_len, f->domain,
	    f->domain_len) == 0;
}

/* Is `"s"` a needle that must appear verbatim in a line holding the string
 * s? Only when no JSON encoder could have escaped any of its bytes. */
static bool
needle_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/')
			return false;
	}
	return true;
}

static bool
has_quoted(const char *line, size_t len, const char *s)
{
	char needle[256];
	size_t n = strlen(s);

	if (n + 2 > sizeof(needle) || !needle_ok(s))
		return true;	/* cannot tell: let the parser decide */
	needle[0] = '"';
	memcpy(needle + 1, s, n);
	needle[n + 1] = '"';
	return memmem(line, len, needle, n + 2) != NULL;
}

bool
filter_prematch(const struct log_filter *f, const char *line, size_t len)
{
	if ((f->set & FILTER_TASK) && !has_quoted(line, len, f->task))
		return false;
	if ((f->set & FILTER_OUTCOME) && !has_quoted(line, len, f->outcome))
		return false;
	if ((f->set & FILTER_EVENT) && !has_quoted(line, len, f->event))
		return false;
	return true;
}

bool
filter_match(const struct log_filter *f, const struct log_rec *r)
{
	struct ag_addr a;

	if (f->set == 0)
		return true;
	if ((f->set & FILTER_TASK) &&
	    (r->task == NULL || strcmp(r->task, f->task) != 0))
		return false;
	if ((f->set & FILTER_OUTCOME) &&
	    (r->outcome == NULL || strcmp(r->outcome, f->outcome) != 0))
		return false;
	if ((f->set & FILTER_EVENT) &&
	    (r->action == NULL || strcmp(r->action, f->event) != 0))
		return false;
	if ((f->set & FILTER_PORT) && r->dst_port != (int64_t)f->port)
		return false;
	if ((f->set & FILTER_SINCE) && r->ts < f->since)
		return false;
	if ((f->set & FILTER_UNTIL) && r->ts >= f->until)
		return false;
	if ((f->set & FILTER_DST) && (r->dst_ip == NULL ||
	    addr_parse(r->dst_ip, &a) == -1 || !cidr_contains(&f->dst, &a)))
		return false;
	if ((f->set & FILTER_DOMAIN) &&
	    !filter_domain_match(f, r->name, r->name_len))
		return false;
	return true;
}
