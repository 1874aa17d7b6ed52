/*
 * The name side of a compiled policy: one open-addressing hash table keyed
 * by exact names and by wildcard suffixes, so that a lookup costs a few
 * probes however many rules the policy has. Immutable once built.
 */
#ifndef AG_NAMETABLE_H
#define AG_NAMETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "portset.h"

#define NAMETABLE_NONE		UINT32_MAX	/* no rule matched */
#define NAMETABLE_ANY_PROTO	0		/* lookup: any protocol and port */
#define NAMETABLE_MAX_PORTSETS	((1u << 21) - 1)	/* port set ids that fit an entry */
#define NAMETABLE_MAX_RULES	((1u << 29) - 1)	/* rule indexes that fit an entry */

/* One key to insert: an exact name or the suffix of a `*.SUFFIX` rule. */
struct name_key {
	uint32_t	off;		/* name bytes in the arena */
	uint8_t		len;		/* 1..253 */
	uint8_t		wild;		/* 1 for *.SUFFIX, 0 for an exact name */
	uint8_t		protos;		/* enum policy_proto bits */
	uint32_t	ports;		/* port set id, < NAMETABLE_MAX_PORTSETS */
	uint8_t		action;		/* enum policy_action of the rule */
	uint32_t	rule;		/* rule index, < NAMETABLE_MAX_RULES */
};

struct name_entry;

struct nametable {
	struct name_entry	*slots;
	size_t			 mask;		/* slots - 1; table empty when slots NULL */
	size_t			 count;
	uint64_t		*filter;	/* blocked Bloom filter over the keys */
	size_t			 filter_mask;	/* filter words - 1 */
	uint64_t		 exact_depths;	/* bit d: an exact name of d labels (63: 63+) */
	uint64_t		 wild_depths;	/* bit d: a wildcard suffix of d labels */
};

/*
 * Build from keys given in ascending rule order (the lookup relies on it to
 * find the lowest rule first). Keys that can never win (same key, same
 * protocols and ports as an earlier one) are dropped. Names are read from
 * `arena`, which must stay in place while the table is used.
 * Returns 0, or -1 with errno ENOMEM.
 */
int nametable_build(struct nametable *t, const char *arena,
    const struct name_key *keys, size_t n);
void nametable_free(struct nametable *t);

/* The lowest rule index whose exact name or wildcard suffix covers `name`
 * (canonical, len bytes) and whose protocols and ports accept proto/port,
 * and its action in *action (so the caller need not read the rule);
 * NAMETABLE_NONE when there is none. `proto` is one enum policy_proto bit,
 * or NAMETABLE_ANY_PROTO to take the first rule of the name whatever its
 * protocols and ports (`port` is then ignored). */
uint32_t nametable_lookup(const struct nametable *t, const char *arena,
    const struct portset_table *ports, const char *name, size_t len,
    unsigned proto, uint16_t port, unsigned *action);

/* Bytes the table holds (for the benchmark and `policy check -v`). */
size_t nametable_memory(const struct nametable *t);

#endif
