/*
 * Quantities written by people in configuration files and on command lines:
 * durations ("500ms", "90m", "24h", "3d", "1w") and sizes ("64K", "100M").
 */
#ifndef AG_UNITS_H
#define AG_UNITS_H

#include <stdint.h>

/* A non-negative decimal integer followed by one unit: ms, s, m, h, d or w.
 * A bare "0" is allowed (means "never"/"off" where the caller says so).
 * Returns 0, or -1 with errno EINVAL (bad syntax or unit) or ERANGE. */
int units_duration_ms(const char *s, uint64_t *ms);

/* A non-negative decimal integer with an optional binary suffix K, M, G or T
 * (KiB, MiB, ...). Returns 0, or -1 with errno EINVAL or ERANGE. */
int units_size(const char *s, uint64_t *bytes);

#endif
