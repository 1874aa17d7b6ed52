/*
 * Durations and sizes as people write them; strict (no sign, no spaces, no
 * fractions, one unit) so that a typo is an error rather than a surprise.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "units.h"

/* Leading decimal digits into *v; returns the count of digits, 0 on none,
 * -1 on overflow. */
static int
units_digits(const char *s, uint64_t *v)
{
	uint64_t n = 0;
	int i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (n > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*v = n;
	return i;
}

static int
units_scale(uint64_t v, uint64_t mult, uint64_t *out)
{
	if (mult != 0 && v > UINT64_MAX / mult) {
		errno = ERANGE;
		return -1;
	}
	*out = v * mult;
	return 0;
}

int
units_duration_ms(const char *s, uint64_t *ms)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 604800000 },
	};
	uint64_t v;
	size_t i;
	int n;

	if ((n = units_digits(s, &v)) == -1) {
		errno = ERANGE;
		return -1;
	}
	if (n == 0) {
		errno = EINVAL;
		return -1;
	}
	if (s[n] == '\0' && v == 0) {
		*ms = 0;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s + n, units[i].unit) == 0)
			return units_scale(v, units[i].ms, ms);
	errno = EINVAL;
	return -1;
}

int
units_size(const char *s, uint64_t *bytes)
{
	static const char suffixes[] = "KMGT";
	const char *p;
	uint64_t v;
	int n;

	if ((n = units_digits(s, &v)) == -1) {
		errno = ERANGE;
		return -1;
	}
	if (n == 0) {
		errno = EINVAL;
		return -1;
	}
	if (s[n] == '\0') {
		*bytes = v;
		return 0;
	}
	if (s[n + 1] != '\0' || (p = strchr(suffixes, s[n])) == NULL) {
		errno = EINVAL;
		return -1;
	}
	return units_scale(v, 1ULL << (10 * (p - suffixes + 1)), bytes);
}
