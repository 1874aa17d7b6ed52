/*
 * Fuzz target for canon_host(): whatever the input, a name result is in the
 * canonical alphabet and shape and is a fixed point, and an address result
 * survives formatting and canonicalising again. abort() marks a violation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_name(const struct canon_out *out)
{
	struct canon_out again;
	size_t i, label = 0;

	if (out->len != strlen(out->name) || out->len == 0 ||
	    out->len > CANON_NAME_MAX)
		abort();
	for (i = 0; i < out->len; i++) {
		char c = out->name[i];

		if (c == '.') {
			if (label == 0 || out->name[i - 1] == '-')
				abort();
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			abort();
		if (c == '-' && label == 0)
			abort();
		if (++label > CANON_LABEL_MAX)
			abort();
	}
	if (label == 0 || out->name[out->len - 1] == '-')
		abort();

	if (canon_host(out->name, out->len, &again) != CANON_NAME ||
	    again.len != out->len || memcmp(again.name, out->name, out->len) != 0)
		abort();
}

static void
check_address(const struct canon_out *out)
{
	char text[AG_ADDR_STRLEN];
	struct canon_out again;

	if (out->addr.family != AF_INET && out->addr.family != AF_INET6)
		abort();
	addr_format(&out->addr, text, sizeof(text));
	if (canon_host(text, strlen(text), &again) != CANON_ADDRESS ||
	    !addr_equal(&again.addr, &out->addr))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct canon_out out;
	enum canon_result r;

	r = canon_host((const char *)data, size, &out);
	if (canon_strerror(r) == NULL)
		abort();
	if (r == CANON_NAME)
		check_name(&out);
	else if (r == CANON_ADDRESS)
		check_address(&out);
	return 0;
}
