/*
 * A compiled policy: the rules of one policy file (and what it includes),
 * immutable once built and reference-counted, so a reload swaps a pointer
 * while connections in flight keep the policy they started with.
 * The language is described in docs/policy.md.
 */
#ifndef AG_POLICY_H
#define AG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum policy_action {
	POLICY_DENY = 0,
	POLICY_ALLOW,
	POLICY_ASK,
};

/* Protocols a rule can name; a rule holds a set of them. */
enum policy_proto {
	POLICY_PROTO_TCP  = 1 << 0,
	POLICY_PROTO_UDP  = 1 << 1,
	POLICY_PROTO_ICMP = 1 << 2,	/* ICMP and ICMPv6; ports do not apply */
};

struct policy;		/* compiled, immutable, reference-counted */
struct policy_rule;	/* one rule line; lives as long as its policy */

/* Called once per problem found while loading, in file order; loading goes
 * on after an error so that every problem is reported, but a policy with
 * any error is never returned. `col` counts from 1; 0 means "whole line". */
typedef void (*policy_error_fn)(void *arg, const char *file, unsigned line,
    unsigned col, const char *msg);

/* Load a policy file and everything it includes (paths relative to the
 * including file; cycles are an error). `name` is the policy's name (for a
 * named policy, its file name without ".rules"); NULL derives it from the
 * path. Returns a policy with one reference, or NULL after reporting every
 * error through `err` (errno EINVAL for policy errors, or the I/O errno). */
struct policy *policy_load_file(const char *path, const char *name,
    policy_error_fn err, void *arg);

/* The same for text in memory (inline policies, fuzzing). `label` names it
 * in errors and rule references; includes are resolved against `basedir`,
 * and refused when basedir is NULL. */
struct policy *policy_load_buffer(const char *label, const char *name,
    const char *text, size_t len, const char *basedir,
    policy_error_fn err, void *arg);

/* Reference counting is atomic: any thread may hold and drop references. */
struct policy *policy_ref(struct policy *p);
void policy_unref(struct policy *p);

const char *policy_name(const struct policy *p);
size_t policy_rule_count(const struct policy *p);

struct policy_verdict {
	enum policy_action		action;
	const struct policy_rule	*rule;	/* NULL: no rule matched, default deny */
};

/* Judge a name that canon_host() returned as CANON_NAME. Only name rules
 * (exact, *.wildcard, *) can match it. */
struct policy_verdict policy_match_name(const struct policy *p,
    const char *canon_name, enum policy_proto proto, uint16_t port);

/* The first name rule (exact, *.wildcard, *) that covers the name, whatever
 * protocols and ports it names: what the DNS forwarder asks to decide
 * whether a name may be resolved at all (docs/policy.md). Same cost as
 * policy_match_name(). */
struct policy_verdict policy_match_name_any(const struct policy *p,
    const char *canon_name);

/* Judge a destination address. Only address and CIDR rules can match it.
 * `port` is ignored for POLICY_PROTO_ICMP. */
struct policy_verdict policy_match_addr(const struct policy *p,
    const struct ag_addr *addr, enum policy_proto proto, uint16_t port);

enum policy_action policy_rule_action(const struct policy_rule *r);
const char *policy_rule_file(const struct policy_rule *r);
unsigned policy_rule_line(const struct policy_rule *r);
/* The rule as written, comments and surrounding blanks removed. */
const char *policy_rule_text(const struct policy_rule *r);

const char *policy_action_name(enum policy_action a);	/* "allow", "ask", "deny" */
const char *policy_proto_name(enum policy_proto p);	/* "tcp", "udp", "icmp" */

/* Named policies live in DIR/NAME.rules. A name is [A-Za-z0-9] then
 * [A-Za-z0-9_.-], at most POLICY_NAME_MAX bytes, never containing "..",
 * so it cannot reach outside DIR. */
#define POLICY_NAME_MAX	64
bool policy_name_valid(const char *name);
/* Write DIR/NAME.rules to buf. Returns 0, or -1 with errno EINVAL (bad
 * name) or ENAMETOOLONG (buf too small). */
int policy_path(const char *dir, const char *name, char *buf, size_t size);

/* Rules in policy order (0 .. policy_rule_count() - 1); NULL past the end. */
const struct policy_rule *policy_rule_at(const struct policy *p, size_t i);
size_t policy_rule_index(const struct policy_rule *r);
/* The rule's protocols (enum policy_proto bits) and whether its port set
 * holds `port` (meaningless when the only protocol is ICMP). */
unsigned policy_rule_protos(const struct policy_rule *r);
bool policy_rule_has_port(const struct policy_rule *r, uint16_t port);

/* Bytes the compiled policy holds (tables, rules, texts). */
size_t policy_memory(const struct policy *p);

#endif
