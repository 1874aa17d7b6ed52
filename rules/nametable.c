/*
 * Name hash table. Every suffix of a query name is hashed in one right-to-
 * left pass, so an exact probe and all wildcard probes share the work; a
 * bitmask of the label depths that hold keys skips probes that cannot hit.
 * Linear probing with insertion in rule order keeps the entries of one key
 * in rule order along its probe sequence, so the first acceptable entry is
 * the lowest rule for that key and no overflow lists are needed.
 * A blocked Bloom filter of about one byte per key sits in front: it stays
 * in cache, so most probes that cannot hit (every probe of a miss, the
 * wildcard probes of an exact hit) never touch the big table.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "nametable.h"
#include "policy.h"

/* ref: wildcard flag, the rule's action, the rule index. */
#define REF_WILD	0x80000000u
#define REF_ACTION(r)	(((r) >> 29) & 0x3)
#define REF_RULE(r)	((r) & NAMETABLE_MAX_RULES)

/* meta: len (8 bits) | protos (3 bits) | port set id (21 bits). A used
 * entry never has meta 0 because names are at least one byte. */
struct name_entry {
	uint32_t	tag;		/* high half of the hash */
	uint32_t	off;		/* name bytes in the arena */
	uint32_t	ref;		/* REF_WILD | action << 29 | rule index */
	uint32_t	meta;
};

#define META(len, protos, ports) \
	((uint32_t)(len) | ((uint32_t)(protos) << 8) | ((uint32_t)(ports) << 11))
#define META_LEN(m)	((m) & 0xff)
#define META_PROTOS(m)	(((m) >> 8) & 0x7)
#define META_PORTS(m)	((m) >> 11)

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

/* Suffixes share their hash state: the hash runs from the last byte to the
 * first, so the state at a label boundary is the hash of that suffix. */
static inline uint64_t
hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

static inline uint64_t
hash_final(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Three bits in one 64-bit word, from hash bits the table does not use
 * for the slot; exact and wildcard keys of one name differ. */
static inline uint64_t
filter_word(const struct nametable *t, uint64_t h, uint32_t kind, size_t *w)
{
	uint64_t g = (h ^ (kind ? 0x9e3779b97f4a7c15ULL : 0)) * 0xd6e8feb86659fd93ULL;

	*w = (size_t)(g >> 32) & t->filter_mask;
	return (1ULL << (g & 63)) | (1ULL << ((g >> 6) & 63)) |
	    (1ULL << ((g >> 12) & 63));
}

static inline bool
filter_maybe(const struct nametable *t, uint64_t h, uint32_t kind)
{
	size_t w;
	uint64_t bits = filter_word(t, h, kind, &w);

	return (t->filter[w] & bits) == bits;
}

static uint64_t
hash_name(const char *s, size_t len)
{
	uint64_t h = FNV_OFFSET;

	while (len > 0)
		h = hash_step(h, (unsigned char)s[--len]);
	return hash_final(h);
}

static unsigned
name_depth(const char *s, size_t len)
{
	unsigned d = 1;
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '.')
			d++;
	return d > 63 ? 63 : d;
}

static bool
entry_accepts(const struct name_entry *e, const struct portset_table *ports,
    unsigned proto, uint16_t port)
{
	if (proto == NAMETABLE_ANY_PROTO)
		return true;
	if ((META_PROTOS(e->meta) & proto) == 0)
		return false;
	if (proto == POLICY_PROTO_ICMP)
		return true;
	switch (META_PORTS(e->meta)) {
	case PORTSET_ANY:
		return true;
	case PORTSET_DEFAULT:
		return port == 80 || port == 443;
	default:
		return portset_contains(ports, META_PORTS(e->meta), port);
	}
}

int
nametable_build(struct nametable *t, const char *arena,
    const struct name_key *keys, size_t n)
{
	size_t cap = 8, i, s, words, w;
	uint64_t h, bits;

	memset(t, 0, sizeof(*t));
	if (n == 0)
		return 0;
	/* Load factor at most 0.7. */
	while (cap * 7 < n * 10)
		cap *= 2;
	if ((t->slots = calloc(cap, sizeof(*t->slots))) == NULL)
		return -1;
	t->mask = cap - 1;
	/* About 8 to 16 filter bits per key. */
	for (words = 1; words * 8 < n; words *= 2)
		;
	t->filter_mask = words - 1;
	if ((t->filter = calloc(words, sizeof(*t->filter))) == NULL) {
		nametable_free(t);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct name_key *k = &keys[i];
		const char *name = arena + k->off;
		uint32_t ref = k->rule | ((uint32_t)k->action << 29) |
		    (k->wild ? REF_WILD : 0);
		uint32_t meta = META(k->len, k->protos, k->ports);
		bool dead = false;

		h = hash_name(name, k->len);
		for (s = h & t->mask; t->slots[s].meta != 0; s = (s + 1) & t->mask) {
			const struct name_entry *e = &t->slots[s];

			if (e->tag != (uint32_t)(h >> 32) ||
			    (e->ref & REF_WILD) != (ref & REF_WILD) ||
			    META_LEN(e->meta) != k->len ||
			    memcmp(arena + e->off, name, k->len) != 0)
				continue;
			/* An earlier entry of this key that accepts all the
			 * protocols and ports of this one always wins first. */
			if ((META_PROTOS(e->meta) & k->protos) == k->protos &&
			    (META_PORTS(e->meta) == k->ports ||
			    META_PORTS(e->meta) == PORTSET_ANY)) {
				dead = true;
				break;
			}
		}
		if (dead)
			continue;
		t->slots[s].tag = (uint32_t)(h >> 32);
		t->slots[s].off = k->off;
		t->slots[s].ref = ref;
		t->slots[s].meta = meta;
		t->count++;
		bits = filter_word(t, h, ref & REF_WILD, &w);
		t->filter[w] |= bits;
		if (k->wild)
			t->wild_depths |= 1ULL << name_depth(name, k->len);
		else
			t->exact_depths |= 1ULL << name_depth(name, k->len);
	}
	return 0;
}

void
nametable_free(struct nametable *t)
{
	free(t->slots);
	free(t->filter);
	memset(t, 0, sizeof(*t));
}

size_t
nametable_memory(const struct nametable *t)
{
	return t->slots ? (t->mask + 1) * sizeof(*t->slots) +
	    (t->filter_mask + 1) * sizeof(*t->filter) : 0;
}

/* The ref of the first acceptable entry of this key, or NAMETABLE_NONE. */
static uint32_t
probe(const struct nametable *t, const char *arena,
    const struct portset_table *ports, uint64_t h, uint32_t kind,
    const char *name, size_t len, unsigned proto, uint16_t port)
{
	const struct name_entry *e;
	size_t s;

	for (s = h & t->mask; (e = &t->slots[s])->meta != 0;
	    s = (s + 1) & t->mask) {
		if (e->tag == (uint32_t)(h >> 32) &&
		    (e->ref & REF_WILD) == kind &&
		    META_LEN(e->meta) == len &&
		    memcmp(arena + e->off, name, len) == 0 &&
		    entry_accepts(e, ports, proto, port))
			return e->ref & ~REF_WILD;	/* below NAMETABLE_NONE */
	}
	return NAMETABLE_NONE;
}

uint32_t
nametable_lookup(const struct nametable *t, const char *arena,
    const struct portset_table *ports, const char *name, size_t len,
    unsigned proto, uint16_t port, unsigned *action)
{
	/* Probes found in the hashing pass: the suffixes at depths where
	 * some wildcard lives, then the exact name. */
	struct {
		uint64_t	hash;
		uint16_t	start;
		uint8_t		kind;
	} want[128];
	size_t nwant = 0, i;
	unsigned depth = 1;
	uint64_t h = FNV_OFFSET;
	uint32_t best = NAMETABLE_NONE, r;

	if (t->slots == NULL || len == 0 || len > CANON_NAME_MAX)
		return NAMETABLE_NONE;
	for (i = len; i-- > 0;) {
		h = hash_step(h, (unsigned char)name[i]);
		if (i > 0 && name[i - 1] == '.') {
			if (t->wild_depths & (1ULL << (depth > 63 ? 63 : depth))) {
				want[nwant].hash = hash_final(h);
				want[nwant].start = (uint16_t)i;
				want[nwant].kind = 1;
				nwant++;
			}
			depth++;
		}
	}
	if (t->exact_depths & (1ULL << (depth > 63 ? 63 : depth))) {
		want[nwant].hash = hash_final(h);
		want[nwant].start = 0;
		want[nwant].kind = 0;
		nwant++;
	}
	/* Start every slot load before the filter answers, so that a probe
	 * that does go to the table waits for one memory access, not two. */
	for (i = 0; i < nwant; i++)
		__builtin_prefetch(&t->slots[want[i].hash & t->mask]);
	for (i = 0; i < nwant; i++) {
		uint32_t kind = want[i].kind ? REF_WILD : 0;

		if (!filter_maybe(t, want[i].hash, kind))
			continue;
		r = probe(t, arena, ports, want[i].hash, kind,
		    name + want[i].start, len - want[i].start, proto, port);
		if (r == NAMETABLE_NONE)
			continue;
		if (best == NAMETABLE_NONE || REF_RULE(r) < REF_RULE(best))
			best = r;
	}
	if (best == NAMETABLE_NONE)
		return NAMETABLE_NONE;
	*action = REF_ACTION(best);
	return REF_RULE(best);
}
