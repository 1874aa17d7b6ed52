/*
 * Port sets of policy rules, interned: a policy stores each distinct set
 * once (the default 80,443 and `any` are always present) and rules refer to
 * a set by a small index.
 */
#ifndef AG_PORTSET_H
#define AG_PORTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTSET_DEFAULT	0	/* 80,443: a rule without `port` */
#define PORTSET_ANY	1	/* `port any`: every port */

struct port_range {
	uint16_t	lo, hi;
};

struct portset_table {
	struct port_range	*ranges;	/* all sets, back to back */
	uint32_t		*start;		/* set i: ranges[start[i]..start[i+1]) */
	uint32_t		 count;		/* number of sets */
	/* Build-time index from set contents to set number; freed by
	 * portset_table_seal(). */
	uint32_t		*index;
	size_t			 index_cap;
	size_t			 ranges_cap, start_cap;
};

/* Start a table holding the default and `any` sets. Returns 0 or -1 (ENOMEM). */
int portset_table_init(struct portset_table *t);
/* Intern a set given as ranges in any order, overlapping or not (the array
 * is sorted in place). Returns 0 and the set's number in *id, or -1 (ENOMEM). */
int portset_table_add(struct portset_table *t, struct port_range *r, size_t n,
    uint32_t *id);
/* Drop build-time state and shrink the storage to fit. */
void portset_table_seal(struct portset_table *t);
void portset_table_free(struct portset_table *t);

bool portset_contains(const struct portset_table *t, uint32_t id, uint16_t port);

#endif
