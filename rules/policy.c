/*
 * A compiled policy: lifetime (atomic reference count), the two matchers
 * and the accessors that explain which rule decided. Everything here reads
 * an immutable policy, so any number of threads may call it at once.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "registry.h"

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	nametable_free(&p->names);
	addrtable_free(&p->addrs);
	portset_table_free(&p->ports);
	free(p->star);
	free(p->files);
	free(p->rules);
	free(p->arena);
	free(p->name);
	free(p);
}

struct policy *
policy_ref(struct policy *p)
{
	if (p != NULL)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void
policy_unref(struct policy *p)
{
	if (p == NULL)
		return;
	/* Release our writes, acquire everyone else's before freeing. */
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		policy_free(p);
}

const char *
policy_name(const struct policy *p)
{
	return p->name;
}

size_t
policy_rule_count(const struct policy *p)
{
	return p->nrules;
}

const struct policy_rule *
policy_rule_at(const struct policy *p, size_t i)
{
	return i < p->nrules ? &p->rules[i] : NULL;
}

size_t
policy_rule_index(const struct policy_rule *r)
{
	return (size_t)(r - r->policy->rules);
}

static bool
proto_valid(enum policy_proto proto)
{
	return proto == POLICY_PROTO_TCP || proto == POLICY_PROTO_UDP ||
	    proto == POLICY_PROTO_ICMP;
}

static bool
rule_accepts(const struct policy *p, const struct policy_rule *r,
    enum policy_proto proto, uint16_t port)
{
	if ((r->protos & proto) == 0)
		return false;
	return proto == POLICY_PROTO_ICMP ||
	    portset_contains(&p->ports, r->ports, port);
}

/* The tables hand back the action with the rule index, so that a verdict
 * does not read the rule (one cache miss less per lookup). */
static struct policy_verdict
verdict(const struct policy *p, uint32_t rule, unsigned action)
{
	struct policy_verdict v = { POLICY_DENY, NULL };

	if (rule != UINT32_MAX) {
		v.rule = &p->rules[rule];
		v.action = (enum policy_action)action;
	}
	return v;
}

struct policy_verdict
policy_match_name(const struct policy *p, const char *canon_name,
    enum policy_proto proto, uint16_t port)
{
	uint32_t best;
	unsigned action = POLICY_DENY;
	size_t i;

	if (p == NULL || canon_name == NULL || !proto_valid(proto))
		return verdict(p, UINT32_MAX, POLICY_DENY);
	best = nametable_lookup(&p->names, p->arena, &p->ports, canon_name,
	    strlen(canon_name), proto, port, &action);
	/* `*` rules are few; the first acceptable one is the lowest. */
	for (i = 0; i < p->nstar && p->star[i] < best; i++) {
		if (rule_accepts(p, &p->rules[p->star[i]], proto, port)) {
			best = p->star[i];
			action = p->rules[best].action;
			break;
		}
	}
	return verdict(p, best, action);
}

struct policy_verdict
policy_match_name_any(const struct policy *p, const char *canon_name)
{
	uint32_t best;
	unsigned action = POLICY_DENY;

	if (p == NULL || canon_name == NULL)
		return verdict(p, UINT32_MAX, POLICY_DENY);
	best = nametable_lookup(&p->names, p->arena, &p->ports, canon_name,
	    strlen(canon_name), NAMETABLE_ANY_PROTO, 0, &action);
	/* Every `*` rule matches every name: only the first can win. */
	if (p->nstar > 0 && p->star[0] < best) {
		best = p->star[0];
		action = p->rules[best].action;
	}
	return verdict(p, best, action);
}

struct policy_verdict
policy_match_addr(const struct policy *p, const struct ag_addr *addr,
    enum policy_proto proto, uint16_t port)
{
	unsigned action = POLICY_DENY;
	uint32_t rule;

	if (p == NULL || addr == NULL || !proto_valid(proto))
		return verdict(p, UINT32_MAX, POLICY_DENY);
	rule = addrtable_lookup(&p->addrs, &p->ports, addr, proto, port, &action);
	return verdict(p, rule, action);
}

enum policy_action
policy_rule_action(const struct policy_rule *r)
{
	return (enum policy_action)r->action;
}

const char *
policy_rule_file(const struct policy_rule *r)
{
	return r->policy->arena + r->policy->files[r->file];
}

unsigned
policy_rule_line(const struct policy_rule *r)
{
	return r->line;
}

const char *
policy_rule_text(const struct policy_rule *r)
{
	return r->policy->arena + r->text;
}

unsigned
policy_rule_protos(const struct policy_rule *r)
{
	return r->protos;
}

bool
policy_rule_has_port(const struct policy_rule *r, uint16_t port)
{
	return portset_contains(&r->policy->ports, r->ports, port);
}

size_t
policy_memory(const struct policy *p)
{
	return sizeof(*p) + p->arena_len + p->nrules * sizeof(*p->rules) +
	    p->nfiles * sizeof(*p->files) + p->nstar * sizeof(*p->star) +
	    nametable_memory(&p->names) + addrtable_memory(&p->addrs);
}

const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_ASK:
		return "ask";
	case POLICY_DENY:
		return "deny";
	}
	return "deny";
}

const char *
policy_proto_name(enum policy_proto p)
{
	switch (p) {
	case POLICY_PROTO_TCP:
		return "tcp";
	case POLICY_PROTO_UDP:
		return "udp";
	case POLICY_PROTO_ICMP:
		return "icmp";
	}
	return "?";
}

bool
policy_name_valid(const char *name)
{
	/* One rule for policy names, shared with the task registry (lib). */
	return registry_policy_name_valid(name);
}

int
policy_path(const char *dir, const char *name, char *buf, size_t size)
{
	int n;

	if (dir == NULL || name == NULL || !policy_name_valid(name)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, size, "%s/%s.rules", dir, name);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
