/*
 * Fuzz target for the task registry's parsers: a task file that parses is
 * valid, and its written form parses back to the same written form; the
 * /proc/PID/stat parser never reads outside its input. abort() marks a
 * violation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_task(const struct reg_task *t)
{
	struct json_buf a, b;
	struct reg_task again;
	char err[160];

	if (registry_task_check(t, err, sizeof(err)) != 0)
		abort();
	json_init(&a, NULL, 0);
	json_init(&b, NULL, 0);
	if (registry_task_format(t, &a) != 0)
		abort();
	if (registry_task_parse(a.data, a.len, &again, err, sizeof(err)) != 0)
		abort();
	if (strcmp(again.id, t->id) != 0 || again.naddrs != t->naddrs ||
	    again.started != t->started || again.argc != t->argc)
		abort();
	if (registry_task_format(&again, &b) != 0 || a.len != b.len ||
	    memcmp(a.data, b.data, a.len) != 0)
		abort();
	registry_task_free(&again);
	json_free(&a);
	json_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_task t;
	uint64_t start;
	char err[160], state;

	if (registry_task_parse((const char *)data, size, &t, err, sizeof(err)) == 0) {
		check_task(&t);
		registry_task_free(&t);
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	if (registry_stat_parse((const char *)data, size, &start, &state) == 0 &&
	    (state == ' ' || state == ')'))
		abort();
	return 0;
}
