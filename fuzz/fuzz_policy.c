/*
 * libFuzzer target for the policy parser: any bytes as a policy text (no
 * includes: no base folder). Every error must come as a well-formed
 * file:line:col message; a policy that loads must answer matches and
 * explain its rules.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL	"fuzz.rules"

struct fuzz_state {
	size_t		size;
	unsigned	last_line;
	unsigned	errors;
};

static void
check_error(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	struct fuzz_state *st = arg;
	size_t i, len;

	/* Errors come in file order, each naming the buffer, a real line, a
	 * column inside it (0 for the whole line) and a printable message. */
	if (file == NULL || strcmp(file, LABEL) != 0 || msg == NULL)
		abort();
	if (line == 0 || line > st->size + 1 || line < st->last_line)
		abort();
	if (col > 4097)
		abort();
	len = strlen(msg);
	if (len == 0 || len > 511)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			abort();
	st->last_line = line;
	st->errors++;
}

static void
judge(const struct policy *p, const char *name)
{
	static const enum policy_proto protos[] = {
		POLICY_PROTO_TCP, POLICY_PROTO_UDP, POLICY_PROTO_ICMP
	};
	struct policy_verdict v;
	size_t i;

	for (i = 0; i < 3; i++) {
		v = policy_match_name(p, name, protos[i], (uint16_t)(i ? 53 : 443));
		if (v.rule == NULL ? v.action != POLICY_DENY :
		    v.action != policy_rule_action(v.rule))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "a.com", "www.github.com", "github.com",
	    "x.y.z.example", "com", "xn--bcher-kva.example" };
	static const char *addrs[] = { "10.1.2.3", "198.18.0.1", "::1",
	    "fd00::1", "169.254.169.254" };
	struct fuzz_state st = { size, 0, 0 };
	struct canon_out co;
	struct policy *p;
	struct ag_addr a;
	size_t i, n;

	p = policy_load_buffer(LABEL, NULL, (const char *)data, size, NULL,
	    check_error, &st);
	if (p == NULL) {
		if (st.errors == 0)
			abort();	/* refused without saying why */
		return 0;
	}
	if (st.errors != 0)
		abort();		/* loaded despite errors */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		judge(p, names[i]);
	/* Some bytes of the input as a name, so that rules can hit. */
	for (n = 0; n < size && n < 64 && data[n] != '\n'; n++)
		;
	if (n > 6 && canon_host((const char *)data + 6, n - 6, &co) == CANON_NAME)
		judge(p, co.name);
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		if (addr_parse(addrs[i], &a) == 0)
			(void)policy_match_addr(p, &a, POLICY_PROTO_TCP, 443);
	}
	for (i = 0; i < policy_rule_count(p); i++) {
		const struct policy_rule *r = policy_rule_at(p, i);

		if (policy_rule_index(r) != i || policy_rule_line(r) == 0 ||
		    policy_rule_text(r)[0] == '\0' ||
		    strcmp(policy_rule_file(r), LABEL) != 0)
			abort();
	}
	policy_unref(p);
	return 0;
}
