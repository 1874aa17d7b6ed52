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

struct addr_entry {
	uint8_t		bytes[16];	/* masked address, network order */
	uint32_t	rule;
	uint32_t	ports;
	uint8_t		len;
	uint8_t		family;		/* 4 or 6; 0 marks an empty slot */
	uint8_t		protos;
	uint8_t		action;
};

static void
mask_bytes(const uint8_t *in, size_t size, unsigned len, uint8_t out[16])
{
	size_t i;

	memset(out, 0, 16);
	for (i = 0; i < size && len >= 8; i++, len -= 8)
		out[i] = in[i];
	if (i < size && len > 0)
		out[i] = in[i] & (uint8_t)(0xff << (8 - len));
}

static uint64_t
addr_hash(const uint8_t b[16], unsigned len, unsigned fam)
{
	uint64_t x, y, h;

	memcpy(&x, b, 8);
	memcpy(&y, b + 8, 8);
	h = x * 0x9e3779b97f4a7c15ULL ^ (y + len + (fam << 8)) * 0xc2b2ae3d27d4eb4fULL;
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
		uint8_t b[16];
		bool dead = false;
		struct addr_entry *e;

		mask_bytes(k->cidr.addr.u.bytes, fam == 4 ? 4 : 16, k->cidr.len, b);
		for (s = addr_hash(b, k->cidr.len, fam) & t->mask;
		    (e = &t->slots[s])->family != 0; s = (s + 1) & t->mask) {
			if (e->family == fam && e->len == k->cidr.len &&
			    memcmp(e->bytes, b, 16) == 0 &&
			    (e->protos & k->protos) == k->protos &&
			    (e->ports == k->ports || e->ports == PORTSET_ANY)) {
				dead = true;
				break;
			}
		}
		if (dead)
			continue;
		memcpy(e->bytes, b, 16);
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
	uint8_t b[16];
	size_t s, size;

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
	size = fam == 4 ? 4 : 16;
	lens = fam == 4 ? t->lens4 : t->lens6;
	nlens = fam == 4 ? t->nlens4 : t->nlens6;
	for (i = 0; i < nlens; i++) {
		mask_bytes(src, size, lens[i], b);
		for (s = addr_hash(b, lens[i], fam) & t->mask;
		    (e = &t->slots[s])->family != 0; s = (s + 1) & t->mask) {
			if (e->family == fam && e->len == lens[i] &&
			    memcmp(e->bytes, b, 16) == 0 &&
			    entry_accepts(e, ports, proto, port)) {
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
