/*
 * Filters of `agentgatectl log` and the time arguments they take. Each
 * option is parsed once into a struct log_filter; filter_match() then tests
 * one telemetry record (struct log_rec from logread.h) against all of them.
 */
#ifndef AG_CTL_FILTER_H
#define AG_CTL_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "canon.h"

struct log_rec;

/* Microseconds since the Unix epoch, UTC. */
typedef int64_t ag_usec;

/*
 * RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)"; 't'/'z'
 * and a space for 'T' are accepted, fractions beyond microseconds are cut.
 * `s` need not be NUL-terminated. Returns 0, or -1 with errno EINVAL.
 */
int	time_parse_rfc3339(const char *s, size_t len, ag_usec *out);

/*
 * A --since/--until argument: RFC 3339, or a duration before `now` written
 * as units_duration_ms() reads it: an integer and one unit ms, s, m, h, d,
 * w ("90m", "3d").
 * Returns 0, or -1 with errno EINVAL (ERANGE when it overflows).
 */
int	time_parse_arg(const char *s, ag_usec now, ag_usec *out);

/* Format as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least 25 bytes). */
const char *time_format_ms(ag_usec t, char *buf, size_t size);

/* Which filters are set; every one set must match (AND). */
enum {
	FILTER_TASK	= 1 << 0,
	FILTER_OUTCOME	= 1 << 1,
	FILTER_DOMAIN	= 1 << 2,
	FILTER_DST	= 1 << 3,
	FILTER_PORT	= 1 << 4,
	FILTER_EVENT	= 1 << 5,
	FILTER_SINCE	= 1 << 6,
	FILTER_UNTIL	= 1 << 7,
};

struct log_filter {
	unsigned	 set;		/* FILTER_* bits */
	const char	*task;		/* agentgate.task.id, exact */
	const char	*outcome;	/* agentgate.outcome: allowed|denied|pending */
	const char	*event;		/* event.action, exact */
	char		 domain[CANON_NAME_MAX + 1];	/* canonical name or suffix */
	size_t		 domain_len;
	bool		 domain_wild;	/* "*.suffix": strictly below suffix */
	struct ag_cidr	 dst;		/* destination.ip within */
	unsigned	 port;		/* destination.port */
	ag_usec		 since;		/* @timestamp >= since */
	ag_usec		 until;		/* @timestamp < until */
};

/*
 * Setters for each option; they keep pointers to their argument (argv lives
 * as long as the command). Each returns 0, or -1 with errno EINVAL when the
 * value is not valid for that option (the caller prints the usage).
 */
void	filter_init(struct log_filter *f);
int	filter_set_task(struct log_filter *f, const char *id);
int	filter_set_outcome(struct log_filter *f, const char *outcome);
int	filter_set_event(struct log_filter *f, const char *kind);
int	filter_set_domain(struct log_filter *f, const char *pattern);
int	filter_set_dst(struct log_filter *f, const char *cidr);
int	filter_set_port(struct log_filter *f, const char *port);
int	filter_set_since(struct log_filter *f, const char *arg, ag_usec now);
int	filter_set_until(struct log_filter *f, const char *arg, ag_usec now);

/* The event kinds (event.action) the schema defines, NULL-terminated. */
extern const char *const filter_event_kinds[];

/*
 * Does a domain pattern match a name as logged? The name is canonicalised
 * with canon_host() first; a name that is not valid never matches.
 */
bool	filter_domain_match(const struct log_filter *f, const char *name,
	    size_t len);

/*
 * A cheap test on the raw line before it is parsed: false only when the
 * line cannot match (a needle the filters require is absent). Lines it
 * passes still go through filter_match().
 */
bool	filter_prematch(const struct log_filter *f, const char *line,
	    size_t len);

/* Does the parsed record pass every filter set? */
bool	filter_match(const struct log_filter *f, const struct log_rec *r);

#endif
