/*
 * The policy builder: collects rules, targets, file labels and texts while
 * the parser reads, then compiles them into the immutable hash tables of a
 * struct policy. A builder that saw any error yields no policy at all.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

static int
grow(struct policy_build *b, void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(*p, ncap * elem)) == NULL) {
		b->fail = ENOMEM;
		return -1;
	}
	*p = np;
	*cap = ncap;
	return 0;
}

int
build_init(struct policy_build *b, const char *name, policy_error_fn err,
    void *arg)
{
	memset(b, 0, sizeof(*b));
	b->err = err;
	b->err_arg = arg;
	if ((b->p = calloc(1, sizeof(*b->p))) == NULL)
		return -1;
	atomic_init(&b->p->refs, 1);
	if ((b->p->name = strdup(name)) == NULL ||
	    portset_table_init(&b->p->ports) == -1) {
		policy_free(b->p);
		b->p = NULL;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
build_error_at(struct policy_build *b, const char *label, unsigned line,
    unsigned col, const char *msg)
{
	b->errors++;
	if (b->err != NULL)
		b->err(b->err_arg, label, line, col, msg);
}

void
build_error(struct policy_build *b, unsigned file, unsigned line,
    unsigned col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	build_error_at(b, build_file_label(b, file), line, col, msg);
}

uint32_t
build_arena_add(struct policy_build *b, const char *s, size_t len)
{
	struct policy *p = b->p;
	uint32_t off;

	/* Offsets are 32 bits to keep entries small. */
	if (p->arena_len + len + 1 > UINT32_MAX) {
		b->fail = EFBIG;
		return UINT32_MAX;
	}
	if (grow(b, (void **)&p->arena, &b->arena_cap, p->arena_len + len + 1, 1) == -1)
		return UINT32_MAX;
	off = (uint32_t)p->arena_len;
	memcpy(p->arena + off, s, len);
	p->arena[off + len] = '\0';
	p->arena_len += len + 1;
	return off;
}

int
build_file(struct policy_build *b, const char *label)
{
	struct policy *p = b->p;
	uint32_t off;

	if (p->nfiles >= POLICY_FILES_MAX) {
		b->fail = EFBIG;
		return -1;
	}
	if (grow(b, (void **)&p->files, &b->files_cap, p->nfiles + 1,
	    sizeof(*p->files)) == -1 ||
	    (off = build_arena_add(b, label, strlen(label))) == UINT32_MAX)
		return -1;
	p->files[p->nfiles] = off;
	return (int)p->nfiles++;
}

const char *
build_file_label(const struct policy_build *b, unsigned file)
{
	return b->p->arena + b->p->files[file];
}

uint32_t
build_rule(struct policy_build *b, enum policy_action action, unsigned file,
    unsigned line, const char *text, size_t len)
{
	struct policy *p = b->p;
	struct policy_rule *r;
	uint32_t off;

	if (p->nrules >= POLICY_RULES_MAX) {
		b->fail = EFBIG;
		return UINT32_MAX;
	}
	if (grow(b, (void **)&p->rules, &b->rules_cap, p->nrules + 1,
	    sizeof(*p->rules)) == -1 ||
	    (off = build_arena_add(b, text, len)) == UINT32_MAX)
		return UINT32_MAX;
	r = &p->rules[p->nrules];
	r->policy = p;
	r->text = off;
	r->line = line;
	r->ports = PORTSET_DEFAULT;
	r->file = (uint16_t)file;
	r->action = (uint8_t)action;
	r->protos = POLICY_PROTO_TCP;
	return (uint32_t)p->nrules++;
}

void
build_name(struct policy_build *b, uint32_t rule, const char *name, size_t len,
    bool wild, uint32_t off)
{
	struct name_key *k;

	if (off == UINT32_MAX && (off = build_arena_add(b, name, len)) == UINT32_MAX)
		return;
	if (grow(b, (void **)&b->nkeys, &b->nkeys_cap, b->nnkeys + 1,
	    sizeof(*b->nkeys)) == -1)
		return;
	k = &b->nkeys[b->nnkeys++];
	k->off = off;
	k->len = (uint8_t)len;
	k->wild = wild;
	k->action = b->p->rules[rule].action;
	k->protos = POLICY_PROTO_TCP;
	k->ports = PORTSET_DEFAULT;
	k->rule = rule;
}

void
build_star(struct policy_build *b, uint32_t rule)
{
	struct policy *p = b->p;

	/* `* *` on one line is one rule. */
	if (p->nstar > 0 && p->star[p->nstar - 1] == rule)
		return;
	if (grow(b, (void **)&p->star, &b->star_cap, p->nstar + 1,
	    sizeof(*p->star)) == -1)
		return;
	p->star[p->nstar++] = rule;
}

void
build_addr(struct policy_build *b, uint32_t rule, const struct ag_cidr *c)
{
	struct addr_key *k;

	if (grow(b, (void **)&b->akeys, &b->akeys_cap, b->nakeys + 1,
	    sizeof(*b->akeys)) == -1)
		return;
	k = &b->akeys[b->nakeys++];
	k->cidr = *c;
	k->action = b->p->rules[rule].action;
	k->protos = POLICY_PROTO_TCP;
	k->ports = PORTSET_DEFAULT;
	k->rule = rule;
}

void
build_rule_options(struct policy_build *b, uint32_t rule, size_t nkeys_mark,
    size_t akeys_mark, unsigned protos, uint32_t ports)
{
	size_t i;

	if (ports > NAMETABLE_MAX_PORTSETS) {
		b->fail = EFBIG;
		return;
	}
	b->p->rules[rule].protos = (uint8_t)protos;
	b->p->rules[rule].ports = ports;
	for (i = nkeys_mark; i < b->nnkeys; i++) {
		b->nkeys[i].protos = (uint8_t)protos;
		b->nkeys[i].ports = ports;
	}
	for (i = akeys_mark; i < b->nakeys; i++) {
		b->akeys[i].protos = (uint8_t)protos;
		b->akeys[i].ports = ports;
	}
}

static void
shrink(void **p, size_t n, size_t elem)
{
	void *np;

	if (n > 0 && (np = realloc(*p, n * elem)) != NULL)
		*p = np;
}

void
build_abort(struct policy_build *b)
{
	free(b->nkeys);
	free(b->akeys);
	if (b->p != NULL)
		policy_free(b->p);
	memset(b, 0, sizeof(*b));
}

struct policy *
build_finish(struct policy_build *b)
{
	struct policy *p = b->p;
	int saved;

	if (b->fail != 0 || b->errors > 0) {
		saved = b->fail != 0 ? b->fail : EINVAL;
		/* A resource limit stopped the parser: say so, since a NULL
		 * policy must always come with a reason. */
		if (b->fail != 0 && p != NULL && p->nfiles > 0)
			build_error(b, 0, 0, 0, "cannot load policy: %s",
			    strerror(b->fail));
		build_abort(b);
		errno = saved;
		return NULL;
	}
	/* Give back what doubling over-allocated: big policies stay big. */
	shrink((void **)&p->arena, p->arena_len, 1);
	shrink((void **)&p->rules, p->nrules, sizeof(*p->rules));
	shrink((void **)&p->files, p->nfiles, sizeof(*p->files));
	shrink((void **)&p->star, p->nstar, sizeof(*p->star));
	portset_table_seal(&p->ports);
	if (nametable_build(&p->names, p->arena, b->nkeys, b->nnkeys) == -1 ||
	    addrtable_build(&p->addrs, b->akeys, b->nakeys) == -1) {
		build_abort(b);
		errno = ENOMEM;
		return NULL;
	}
	free(b->nkeys);
	free(b->akeys);
	memset(b, 0, sizeof(*b));
	return p;
}
