/*
 * Address hash table. Each entry is a prefix (masked address and length);
 * as in the name table, linear probing with insertion in rule order puts
 * the lowest rule of a prefix first along its probe sequence.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addrtable.h"
#include "policy.h"

/* An address as two 64-bit halves in host order, most significant first,
 * so that masking to a prefix is two shifts. IPv4 sits in the top 32 bits
 * of `hi`; the family is part of the key. */
struct addr_entry {
	uint64_t	hi, lo;
	uint32_t	rule;
	uint32_t	ports;
	uint8_t		len;
	uint8_t		family;		/* 4 or 6; 0 marks an empty slot */
	uint8_t		protos;
	uint8_t		action;
};

static void
key_from_bytes(const uint8_t *b, unsigned fam, uint64_t *hi, uint64_t *lo)
{
	unsigned i;

	*hi = *lo = 0;
	if (fam == 4) {
		for (i = 0; i < 4; i++)
			*hi |= (uint64_t)b[i] << (56 - 8 * i);
		return;
	}
	for (i = 0; i < 8; i++) {
		*hi |= (uint64_t)b[i] << (56 - 8 * i);
		*lo |= (uint64_t)b[8 + i] << (56 - 8 * i);
	}
}

static inline uint64_t
top_bits(uint64_t v, unsigned n)
{
	return n == 0 ? 0 : n >= 64 ? v : v & (~0ULL << (64 - n));
}

static inline void
key_mask(uint64_t *hi, uint64_t *lo, unsigned len)
{
	if (len <= 64) {
		*hi = top_bits(*hi, len);
		*lo = 0;
	} else
		*lo = top_bits(*lo, len - 64);
}

static inline uint64_t
addr_hash(uint64_t hi, uint64_t lo, unsigned len, unsigned fam)
{
	uint64_t h;

	h = hi * 0x9e3779b97f4a7c15ULL ^ (lo + len + (fam << 8)) * 0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 31;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static bool
entry_accepts(const struct addr_entry *e, const struct portset_table *ports,
    unsigned proto, uint16_t port)
{
	if ((e->protos & proto) == 0)
		return false;
	return proto == POLICY_PROTO_ICMP || portset_contains(ports, e->ports, port);
}

static void
lens_add(uint8_t *lens, uint8_t *n, uint8_t len)
{
	uint8_t i, j;

	for (i = 0; i < *n; i++) {
		if (lens[i] == len)
			return;
		if (lens[i] < len)
			break;
	}
	for (j = *n; j > i; j--)
		lens[j] = lens[j - 1];
	lens[i] = len;
	(*n)++;
}

int
addrtable_build(struct addrtable *t, const struct addr_key *keys, size_t n)
{
	size_t cap = 8, i, s;

	memset(t, 0, sizeof(*t));
	if (n == 0)
		return 0;
	while (cap < n * 2)
		cap *= 2;
	if ((t->slots = calloc(cap, sizeof(*t->slots))) == NULL)
		return -1;
	t->mask = cap - 1;
	for (i = 0; i < n; i++) {
		const struct addr_key *k = &keys[i];
		unsigned fam = k->cidr.addr.family == AF_INET ? 4 : 6;
		uint64_t hi, lo;
		bool dead = false;
		struct addr_entry *e;

		key_from_bytes(k->cidr.addr.u.bytes, fam, &hi, &lo);
		key_mask(&hi, &lo, k->cidr.len);
		for (s = addr_hash(hi, lo, k->cidr.len, fam) & t->mask;
		    (e = &t->slots[s])->family != 0; s = (s + 1) & t->mask) {
			if (e->family == fam && e->len == k->cidr.len &&
			    e->hi == hi && e->lo == lo &&
			    (e->protos & k->protos) == k->protos &&
			    (e->ports == k->ports || e->ports == PORTSET_ANY)) {
				dead = true;
				break;
			}
		}
		if (dead)
			continue;
		e->hi = hi;
		e->lo = lo;
		e->rule = k->rule;
		e->ports = k->ports;
		e->len = k->cidr.len;
		e->family = (uint8_t)fam;
		e->protos = k->protos;
		e->action = k->action;
		t->count++;
		if (fam == 4)
			lens_add(t->lens4, &t->nlens4, k->cidr.len);
		else
			lens_add(t->lens6, &t->nlens6, k->cidr.len);
	}
	return 0;
}

void
addrtable_free(struct addrtable *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

size_t
addrtable_memory(const struct addrtable *t)
{
	return t->slots ? (t->mask + 1) * sizeof(*t->slots) : 0;
}

uint32_t
addrtable_lookup(const struct addrtable *t, const struct portset_table *ports,
    const struct ag_addr *a, unsigned proto, uint16_t port, unsigned *action)
{
	const uint8_t *lens, *src = a->u.bytes;
	const struct addr_entry *e;
	unsigned fam, nlens, i;
	uint32_t best = ADDRTABLE_NONE;
	uint64_t qhi, qlo, hi, lo;
	size_t s, slot[129];

	if (t->slots == NULL)
		return ADDRTABLE_NONE;
	if (a->family == AF_INET) {
		fam = 4;
	} else if (a->family == AF_INET6) {
		fam = 6;
		/* The address type promises unmapped IPv4; hold to it even
		 * for a caller that built one by hand. */
		if (IN6_IS_ADDR_V4MAPPED(&a->u.v6)) {
			fam = 4;
			src = a->u.bytes + 12;
		}
	} else
		return ADDRTABLE_NONE;
	key_from_bytes(src, fam, &qhi, &qlo);
	lens = fam == 4 ? t->lens4 : t->lens6;
	nlens = fam == 4 ? t->nlens4 : t->nlens6;
	/* Hash every prefix and start its slot load first: the probes then
	 * wait for memory together instead of one after another. */
	for (i = 0; i < nlens; i++) {
		hi = qhi;
		lo = qlo;
		key_mask(&hi, &lo, lens[i]);
		slot[i] = addr_hash(hi, lo, lens[i], fam) & t->mask;
		__builtin_prefetch(&t->slots[slot[i]]);
	}
	for (i = 0; i < nlens; i++) {
		hi = qhi;
		lo = qlo;
		key_mask(&hi, &lo, lens[i]);
		for (s = slot[i]; (e = &t->slots[s])->family != 0;
		    s = (s + 1) & t->mask) {
			if (e->hi == hi && e->lo == lo && e->len == lens[i] &&
			    e->family == fam && entry_accepts(e, ports, proto, port)) {
				if (e->rule < best) {
					best = e->rule;
					*action = e->action;
				}
				break;
			}
		}
	}
	return best;
}
