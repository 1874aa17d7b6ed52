/*
 * Inside of a compiled policy, shared by the objects of rules/: the policy
 * and rule layout, and the builder the parser fills while it reads.
 * Nothing outside rules/ includes this header.
 */
#ifndef AG_POLICY_INT_H
#define AG_POLICY_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addrtable.h"
#include "nametable.h"
#include "policy.h"
#include "portset.h"

#define POLICY_LINE_MAX		4096	/* bytes, without the line end */
#define POLICY_INCLUDE_DEPTH	16
#define POLICY_FILES_MAX	65535	/* file numbers fit a rule's uint16_t */
#define POLICY_RULES_MAX	NAMETABLE_MAX_RULES

/* 24 bytes: the text, file and line live in the policy's arena and file
 * table, reached through the back pointer the accessors take. */
struct policy_rule {
	const struct policy	*policy;
	uint32_t		 text;		/* arena offset of the rule text */
	uint32_t		 line;
	uint32_t		 ports;		/* port set id */
	uint16_t		 file;		/* index in policy->files */
	uint8_t			 action;	/* enum policy_action */
	uint8_t			 protos;	/* enum policy_proto bits */
};

struct policy {
	atomic_uint		 refs;
	char			*name;
	char			*arena;		/* rule texts, names, file labels */
	size_t			 arena_len;
	struct policy_rule	*rules;
	size_t			 nrules;
	uint32_t		*files;		/* arena offsets of file labels */
	size_t			 nfiles;
	uint32_t		*star;		/* rules with a `*` target, in order */
	size_t			 nstar;
	struct portset_table	 ports;
	struct nametable	 names;
	struct addrtable	 addrs;
};

struct policy_build;

/* Called by the parser for an `include` line: load and parse `path`
 * (len bytes, not NUL-terminated) as if its text stood at that line. */
typedef void (*policy_include_fn)(struct policy_build *b, unsigned file,
    unsigned line, unsigned col, const char *path, size_t len);

struct policy_build {
	struct policy		*p;
	size_t			 arena_cap, rules_cap, files_cap, star_cap;
	struct name_key		*nkeys;
	size_t			 nnkeys, nkeys_cap;
	struct addr_key		*akeys;
	size_t			 nakeys, akeys_cap;
	policy_error_fn		 err;
	void			*err_arg;
	unsigned		 errors;	/* policy errors reported */
	int			 fail;		/* errno of a resource failure, 0 if none */
	policy_include_fn	 include;	/* NULL: include refused */
	void			*include_arg;
};

/* build.c */
int build_init(struct policy_build *b, const char *name, policy_error_fn err,
    void *arg);
void build_error(struct policy_build *b, unsigned file, unsigned line,
    unsigned col, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Report against a label that is not (yet) a file of the policy. */
void build_error_at(struct policy_build *b, const char *label, unsigned line,
    unsigned col, const char *msg);
/* Append bytes plus a NUL; returns the offset, or UINT32_MAX on failure
 * (b->fail set). */
uint32_t build_arena_add(struct policy_build *b, const char *s, size_t len);
/* Register a file label; returns its index or -1 (b->fail set). */
int build_file(struct policy_build *b, const char *label);
const char *build_file_label(const struct policy_build *b, unsigned file);
/* Start a rule; returns its index or UINT32_MAX (b->fail set). */
uint32_t build_rule(struct policy_build *b, enum policy_action action,
    unsigned file, unsigned line, const char *text, size_t len);
/* Targets of the rule being built; `off` is the name's arena offset when it
 * is already there (inside the rule text), else UINT32_MAX to copy it. */
void build_name(struct policy_build *b, uint32_t rule, const char *name,
    size_t len, bool wild, uint32_t off);
void build_star(struct policy_build *b, uint32_t rule);
void build_addr(struct policy_build *b, uint32_t rule, const struct ag_cidr *c);
/* Set protocols and ports of the rule and of its targets. */
void build_rule_options(struct policy_build *b, uint32_t rule,
    size_t nkeys_mark, size_t akeys_mark, unsigned protos, uint32_t ports);
/* Compile and return the policy (one reference), or NULL with errno
 * EINVAL after errors, or the resource errno. Frees the builder. */
struct policy *build_finish(struct policy_build *b);
void build_abort(struct policy_build *b);

/* parse.c: parse one file's text (no I/O; includes go to b->include). */
void parse_text(struct policy_build *b, unsigned file, const char *text,
    size_t len);

/* policy.c */
void policy_free(struct policy *p);

#endif
