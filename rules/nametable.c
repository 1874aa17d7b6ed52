/*
 * Name hash table. Every suffix of a query name is hashed in one right-to-
 * left pass, so an exact probe and all wildcard probes share the work; a
 * bitmask of the label depths that hold keys skips probes that cannot hit.
 * Linear probing with insertion in rule order keeps the entries of one key
 * in rule order along its probe sequence, so the first acceptable entry is
 * the lowest rule for that key and no overflow lists are needed.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nametable.h"
#include "policy.h"

#define REF_WILD	0x80000000u

/* meta: len (8 bits) | protos (3 bits) | port set id (21 bits). A used
 * entry never has meta 0 because names are at least one byte. */
struct name_entry {
	uint32_t	tag;		/* high half of the hash */
	uint32_t	off;		/* name bytes in the arena */
	uint32_t	ref;		/* rule index | REF_WILD */
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
	size_t cap = 8, i, s;
	uint64_t h;

	memset(t, 0, sizeof(*t));
	if (n == 0)
		return 0;
	/* Load factor at most 0.7. */
	while (cap * 7 < n * 10)
		cap *= 2;
	if ((t->slots = calloc(cap, sizeof(*t->slots))) == NULL)
		return -1;
	t->mask = cap - 1;
	for (i = 0; i < n; i++) {
		const struct name_key *k = &keys[i];
		const char *name = arena + k->off;
		uint32_t ref = k->rule | (k->wild ? REF_WILD : 0);
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
	memset(t, 0, sizeof(*t));
}

size_t
nametable_memory(const struct nametable *t)
{
	return t->slots ? (t->mask + 1) * sizeof(*t->slots) : 0;
}

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
			return e->ref & ~REF_WILD;
	}
	return NAMETABLE_NONE;
}

uint32_t
nametable_lookup(const struct nametable *t, const char *arena,
    const struct portset_table *ports, const char *name, size_t len,
    unsigned proto, uint16_t port)
{
	/* Probes found in the hashing pass: the exact name and the suffixes
	 * at depths where some wildcard lives. */
	struct {
		uint64_t	hash;
		uint16_t	start;
	} want[128];
	size_t nwant = 0, i;
	unsigned depth = 1;
	uint64_t h = FNV_OFFSET;
	uint32_t best = NAMETABLE_NONE, r;
	bool exact;

	if (t->slots == NULL || len == 0 || len > 255)
		return NAMETABLE_NONE;
	for (i = len; i-- > 0;) {
		h = hash_step(h, (unsigned char)name[i]);
		if (i > 0 && name[i - 1] == '.') {
			if (t->wild_depths & (1ULL << (depth > 63 ? 63 : depth)) &&
			    nwant < 127) {
				want[nwant].hash = hash_final(h);
				want[nwant].start = (uint16_t)i;
				__builtin_prefetch(&t->slots[want[nwant].hash & t->mask]);
				nwant++;
			}
			depth++;
		}
	}
	exact = (t->exact_depths & (1ULL << (depth > 63 ? 63 : depth))) != 0;
	if (exact) {
		h = hash_final(h);
		__builtin_prefetch(&t->slots[h & t->mask]);
		best = probe(t, arena, ports, h, 0, name, len, proto, port);
	}
	for (i = 0; i < nwant; i++) {
		r = probe(t, arena, ports, want[i].hash, REF_WILD,
		    name + want[i].start, len - want[i].start, proto, port);
		if (r < best)
			best = r;
	}
	return best;
}
