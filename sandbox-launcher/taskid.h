/*
 * Task ids agentgate-run makes up when none is given: "run-" and 12
 * lowercase hex digits from 6 random bytes, a valid registry id that is
 * also short enough for a hostname.
 */
#ifndef AG_TASKID_H
#define AG_TASKID_H

#include <stddef.h>
#include <stdint.h>

#define TASKID_RANDOM	6		/* random bytes in an id */
#define TASKID_LEN	(4 + 2 * TASKID_RANDOM)	/* without the NUL */

/* Format an id from the given bytes into buf (at least TASKID_LEN + 1). */
void taskid_format(const uint8_t rnd[TASKID_RANDOM], char *buf);

/* A fresh id from getrandom(2). Returns 0, or -1 with errno. */
int taskid_generate(char *buf, size_t size);

#endif
