/*
 * Fuzz target for the approvals' two parsers of untrusted text: a hook's
 * output (hook_parse) and a control-socket request line
 * (control_request_parse). The first input byte picks the parser. abort()
 * marks a violation of their documented contracts: an unknown verdict, an
 * allow or deny with an unknown scope, an unterminated reason or one with a
 * control character other than a tab, an error without its text.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "control.h"
#include "hook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_scope(enum approval_scope s)
{
	if (s != APPROVAL_ONCE && s != APPROVAL_TASK &&
	    s != APPROVAL_DURATION && s != APPROVAL_FOREVER)
		abort();
}

static void
check_text(const char *s, size_t size)
{
	size_t i, n = strnlen(s, size);

	if (n == size)
		abort();		/* not terminated */
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			abort();
}

static void
fuzz_hook(const uint8_t *data, size_t size)
{
	struct hook_answer a;
	enum hook_verdict v;
	char *buf;

	/* A buffer of exactly the input's size, so a read past it is seen. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	memset(&a, 0x5a, sizeof(a));
	v = hook_parse(buf, size, &a);
	free(buf);
	if (v != a.verdict)
		abort();
	switch (v) {
	case HOOK_ALLOW:
		check_scope(a.scope);
		break;
	case HOOK_DENY:
		check_scope(a.scope);
		check_text(a.reason, sizeof(a.reason));
		break;
	case HOOK_DEFER:
	case HOOK_GARBAGE:
		break;
	default:
		abort();
	}
}

static void
fuzz_control(const uint8_t *data, size_t size)
{
	struct control_request req;
	char *buf;
	int r;

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	memset(&req, 0x5a, sizeof(req));
	r = control_request_parse(buf, size, &req);
	free(buf);
	if (r == -1) {
		if (req.error == NULL || req.error[0] == '\0')
			abort();
		return;
	}
	if (r != 0)
		abort();
	switch (req.cmd) {
	case CONTROL_LIST:
	case CONTROL_WATCH:
		break;
	case CONTROL_APPROVE:
	case CONTROL_DENY:
		check_scope(req.scope);
		check_text(req.id, sizeof(req.id));
		if (req.id[0] == '\0')
			abort();
		check_text(req.reason, sizeof(req.reason));
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] == 'H')
		fuzz_hook(data + 1, size - 1);
	else
		fuzz_control(data + 1, size - 1);
	return 0;
}
