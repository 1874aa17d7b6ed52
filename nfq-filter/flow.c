/*
 * Flow table: a fixed array of entries allocated once (the memory cap),
 * hash chains by index, and two lists in order of last use (accepted
 * flows, refused flows) so that idle flows, and the oldest refused flow
 * when the table is full, are found from an oldest end without a scan.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define FLOW_NONE	UINT32_MAX

/* The use list an entry is on. */
enum { USE_ACCEPTED = 0, USE_REFUSED = 1 };
#define USE_LIST(e)	((e)->verdict == FLOW_ACCEPT ? USE_ACCEPTED : USE_REFUSED)

struct flow_entry {
	struct flow_key	key;
	uint64_t	last_ms;
	uint32_t	hnext;		/* next in the hash chain, or the free list */
	uint32_t	prev, next;	/* its use list: head is the oldest */
	uint8_t		verdict;	/* enum flow_verdict; 0 = free */
};

struct flow_table {
	struct flow_entry	*e;
	uint32_t		*bucket;
	size_t			 max, nbuckets;	/* nbuckets: a power of two */
	uint64_t		 idle_ms, seed;
	uint32_t		 free;
	uint32_t		 head[2], tail[2];	/* [USE_ACCEPTED], [USE_REFUSED] */
	struct flow_stats	 st;
};

/* splitmix64's finaliser: cheap and mixes every input bit. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t
flow_hash(const struct flow_table *ft, const struct flow_key *k)
{
	uint64_t h = ft->seed, w;
	size_t i, n = addr_size(&k->src);

	for (i = 0; i < n; i += 4) {
		memcpy(&w, k->src.u.bytes + i, 4);
		h = mix(h ^ (w & 0xffffffff));
		memcpy(&w, k->dst.u.bytes + i, 4);
		h = mix(h ^ (w & 0xffffffff) ^ ((uint64_t)i << 40));
	}
	h = mix(h ^ ((uint64_t)k->sport << 32 | (uint64_t)k->dport << 16 |
	    (uint64_t)k->proto << 8 | k->src.family));
	return (size_t)(h & (ft->nbuckets - 1));
}

static bool
key_equal(const struct flow_key *a, const struct flow_key *b)
{
	return a->proto == b->proto && a->sport == b->sport &&
	    a->dport == b->dport && addr_equal(&a->src, &b->src) &&
	    addr_equal(&a->dst, &b->dst);
}

struct flow_table *
flow_table_new(size_t max, uint64_t idle_ms, uint64_t seed)
{
	struct flow_table *ft;

	if (max == 0 || max >= FLOW_NONE) {
		errno = EINVAL;
		return NULL;
	}
	if ((ft = calloc(1, sizeof(*ft))) == NULL)
		return NULL;
	ft->max = max;
	ft->idle_ms = idle_ms;
	ft->seed = seed;
	for (ft->nbuckets = 16; ft->nbuckets < max; ft->nbuckets <<= 1)
		;
	ft->e = calloc(max, sizeof(*ft->e));
	ft->bucket = malloc(ft->nbuckets * sizeof(*ft->bucket));
	if (ft->e == NULL || ft->bucket == NULL) {
		flow_table_free(ft);
		errno = ENOMEM;
		return NULL;
	}
	flow_clear(ft);
	return ft;
}

void
flow_table_free(struct flow_table *ft)
{
	if (ft == NULL)
		return;
	free(ft->e);
	free(ft->bucket);
	free(ft);
}

void
flow_clear(struct flow_table *ft)
{
	size_t i;

	for (i = 0; i < ft->nbuckets; i++)
		ft->bucket[i] = FLOW_NONE;
	for (i = 0; i < ft->max; i++) {
		ft->e[i].verdict = 0;
		ft->e[i].hnext = i + 1 < ft->max ? (uint32_t)(i + 1) : FLOW_NONE;
	}
	ft->free = 0;
	ft->head[USE_ACCEPTED] = ft->tail[USE_ACCEPTED] = FLOW_NONE;
	ft->head[USE_REFUSED] = ft->tail[USE_REFUSED] = FLOW_NONE;
	ft->st.count = 0;
}

static void
use_unlink(struct flow_table *ft, uint32_t i)
{
	struct flow_entry *e = &ft->e[i];
	int l = USE_LIST(e);

	if (e->prev != FLOW_NONE)
		ft->e[e->prev].next = e->next;
	else
		ft->head[l] = e->next;
	if (e->next != FLOW_NONE)
		ft->e[e->next].prev = e->prev;
	else
		ft->tail[l] = e->prev;
}

static void
use_append(struct flow_table *ft, uint32_t i)
{
	struct flow_entry *e = &ft->e[i];
	int l = USE_LIST(e);

	e->next = FLOW_NONE;
	e->prev = ft->tail[l];
	if (ft->tail[l] != FLOW_NONE)
		ft->e[ft->tail[l]].next = i;
	else
		ft->head[l] = i;
	ft->tail[l] = i;
}

/* Take entry i out of its chain and the use list, onto the free list. */
static void
flow_remove(struct flow_table *ft, uint32_t i)
{
	struct flow_entry *e = &ft->e[i];
	uint32_t *pp = &ft->bucket[flow_hash(ft, &e->key)];

	while (*pp != i)
		pp = &ft->e[*pp].hnext;
	*pp = e->hnext;
	use_unlink(ft, i);
	e->verdict = 0;
	e->hnext = ft->free;
	ft->free = i;
	ft->st.count--;
}

static bool
flow_idle(const struct flow_table *ft, uint32_t i, uint64_t now_ms)
{
	return now_ms >= ft->e[i].last_ms &&
	    now_ms - ft->e[i].last_ms >= ft->idle_ms;
}

static uint32_t
flow_find(const struct flow_table *ft, const struct flow_key *key)
{
	uint32_t i;

	for (i = ft->bucket[flow_hash(ft, key)]; i != FLOW_NONE;
	    i = ft->e[i].hnext)
		if (key_equal(&ft->e[i].key, key))
			return i;
	return FLOW_NONE;
}

int
flow_lookup(struct flow_table *ft, const struct flow_key *key,
    uint64_t now_ms)
{
	uint32_t i = flow_find(ft, key);

	if (i == FLOW_NONE)
		return 0;
	if (flow_idle(ft, i, now_ms)) {
		flow_remove(ft, i);
		ft->st.evicted++;
		return 0;
	}
	ft->e[i].last_ms = now_ms;
	use_unlink(ft, i);
	use_append(ft, i);
	return ft->e[i].verdict;
}

size_t
flow_expire(struct flow_table *ft, uint64_t now_ms)
{
	size_t n = 0;
	int l;

	for (l = USE_ACCEPTED; l <= USE_REFUSED; l++)
		while (ft->head[l] != FLOW_NONE &&
		    flow_idle(ft, ft->head[l], now_ms)) {
			flow_remove(ft, ft->head[l]);
			n++;
		}
	ft->st.evicted += n;
	return n;
}

int
flow_insert(struct flow_table *ft, const struct flow_key *key,
    enum flow_verdict v, uint64_t now_ms)
{
	struct flow_entry *e;
	uint32_t i;
	size_t b;

	if ((i = flow_find(ft, key)) != FLOW_NONE) {
		use_unlink(ft, i);
		ft->e[i].verdict = (uint8_t)v;
		ft->e[i].last_ms = now_ms;
		use_append(ft, i);
		return 0;
	}
	if (ft->free == FLOW_NONE)
		(void)flow_expire(ft, now_ms);
	/* Still full: a refused flow's entry only saves an event when its
	 * next packet comes (that packet is judged again and refused again),
	 * so the oldest one makes room. Only accepted flows are kept: a
	 * sandbox spraying refused packets cannot lock other tasks out. */
	if (ft->free == FLOW_NONE && ft->head[USE_REFUSED] != FLOW_NONE) {
		flow_remove(ft, ft->head[USE_REFUSED]);
		ft->st.recycled++;
	}
	if (ft->free == FLOW_NONE) {
		ft->st.full++;
		errno = ENOSPC;
		return -1;
	}
	i = ft->free;
	e = &ft->e[i];
	ft->free = e->hnext;
	memset(&e->key, 0, sizeof(e->key));
	e->key.src = key->src;
	e->key.dst = key->dst;
	e->key.sport = key->sport;
	e->key.dport = key->dport;
	e->key.proto = key->proto;
	e->verdict = (uint8_t)v;
	e->last_ms = now_ms;
	b = flow_hash(ft, &e->key);
	e->hnext = ft->bucket[b];
	ft->bucket[b] = i;
	use_append(ft, i);
	ft->st.count++;
	ft->st.inserted++;
	return 0;
}

void
flow_stats(const struct flow_table *ft, struct flow_stats *st)
{
	*st = ft->st;
}

size_t
flow_entry_size(void)
{
	return sizeof(struct flow_entry) + sizeof(uint32_t);
}
