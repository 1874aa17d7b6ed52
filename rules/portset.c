/*
 * Interned port sets. Ranges are sorted and merged on the way in, so two
 * spellings of one set ("80,443" and "443,80") are one set; membership is a
 * binary search over a handful of ranges.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "portset.h"

static int
range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sort and merge overlapping or adjacent ranges; returns the new count. */
static size_t
ranges_normalise(struct port_range *r, size_t n)
{
	size_t i, out = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 1; i < n; i++) {
		if ((uint32_t)r[i].lo <= (uint32_t)r[out].hi + 1) {
			if (r[i].hi > r[out].hi)
				r[out].hi = r[i].hi;
		} else
			r[++out] = r[i];
	}
	return out + 1;
}

static uint64_t
ranges_hash(const struct port_range *r, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= ((uint64_t)r[i].lo << 16) | r[i].hi;
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

static int
grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(*p, ncap * elem)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static bool
set_equal(const struct portset_table *t, uint32_t id,
    const struct port_range *r, size_t n)
{
	size_t have = t->start[id + 1] - t->start[id];

	return have == n &&
	    memcmp(t->ranges + t->start[id], r, n * sizeof(*r)) == 0;
}

static int
index_rebuild(struct portset_table *t, size_t cap)
{
	uint32_t *idx, id;
	size_t mask = cap - 1, s;

	if ((idx = malloc(cap * sizeof(*idx))) == NULL)
		return -1;
	memset(idx, 0xff, cap * sizeof(*idx));
	for (id = 0; id < t->count; id++) {
		s = ranges_hash(t->ranges + t->start[id],
		    t->start[id + 1] - t->start[id]) & mask;
		while (idx[s] != UINT32_MAX)
			s = (s + 1) & mask;
		idx[s] = id;
	}
	free(t->index);
	t->index = idx;
	t->index_cap = cap;
	return 0;
}

int
portset_table_init(struct portset_table *t)
{
	struct port_range def[2] = { { 80, 80 }, { 443, 443 } };
	struct port_range any = { 0, 65535 };
	uint32_t id;

	memset(t, 0, sizeof(*t));
	if (grow((void **)&t->start, &t->start_cap, 1, sizeof(*t->start)) == -1)
		return -1;
	t->start[0] = 0;
	if (portset_table_add(t, def, 2, &id) == -1 ||
	    portset_table_add(t, &any, 1, &id) == -1) {
		portset_table_free(t);
		return -1;
	}
	return 0;
}

int
portset_table_add(struct portset_table *t, struct port_range *r, size_t n,
    uint32_t *id)
{
	size_t s, mask, used;

	n = ranges_normalise(r, n);
	if (t->index_cap == 0 && index_rebuild(t, 16) == -1)
		return -1;
	mask = t->index_cap - 1;
	for (s = ranges_hash(r, n) & mask; t->index[s] != UINT32_MAX;
	    s = (s + 1) & mask) {
		if (set_equal(t, t->index[s], r, n)) {
			*id = t->index[s];
			return 0;
		}
	}
	used = t->start[t->count];
	if (grow((void **)&t->ranges, &t->ranges_cap, used + n,
	    sizeof(*t->ranges)) == -1 ||
	    grow((void **)&t->start, &t->start_cap, t->count + 2,
	    sizeof(*t->start)) == -1)
		return -1;
	if (n)
		memcpy(t->ranges + used, r, n * sizeof(*r));
	t->start[t->count + 1] = (uint32_t)(used + n);
	t->index[s] = t->count;
	*id = t->count++;
	/* Keep the index at most half full so probes stay short. */
	if (t->count * 2 > t->index_cap &&
	    index_rebuild(t, t->index_cap * 2) == -1)
		return -1;
	return 0;
}

void
portset_table_seal(struct portset_table *t)
{
	void *p;

	free(t->index);
	t->index = NULL;
	t->index_cap = 0;
	if (t->ranges_cap > t->start[t->count] && t->start[t->count] > 0 &&
	    (p = realloc(t->ranges, t->start[t->count] * sizeof(*t->ranges))) != NULL) {
		t->ranges = p;
		t->ranges_cap = t->start[t->count];
	}
}

void
portset_table_free(struct portset_table *t)
{
	free(t->ranges);
	free(t->start);
	free(t->index);
	memset(t, 0, sizeof(*t));
}

bool
portset_contains(const struct portset_table *t, uint32_t id, uint16_t port)
{
	const struct port_range *r = t->ranges + t->start[id];
	size_t lo = 0, hi = t->start[id + 1] - t->start[id], mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (port < r[mid].lo)
			hi = mid;
		else if (port > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}
