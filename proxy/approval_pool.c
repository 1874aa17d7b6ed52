/*
 * The synthetic-address map of approvals: slot i of a pool is the pool's
 * address i + 1 (the all-zero host is never given; nor, in IPv4, the
 * broadcast one), so an address leads back to its slot without a search.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "approval_pool.h"
#include "canon.h"

struct pool_entry {
	char		*name;		/* NULL: free */
	uint64_t	 used;		/* now_ms of the last use */
	uint32_t	 hash;		/* of name */
	int32_t		 next;		/* in its bucket's chain; -1 ends */
};

/* Slots are taken in order and never freed, only recycled in place, so
 * slots [0, nused) are named and slot nused is the next free one. Names
 * are found through a chained hash (every ask question looks one up). */
struct pool_family {
	struct ag_cidr		 cidr;
	uint32_t		 n;		/* slots */
	uint32_t		 nused;
	struct pool_entry	*e;
	int32_t			*head;		/* bucket -> first slot, or -1 */
	uint32_t		 mask;		/* buckets - 1 */
};

struct approval_pool {
	struct pool_family	 fam[2];	/* [0] IPv4, [1] IPv6 */
	uint64_t		 min_age_ms;
};

static int
pool_family_init(struct pool_family *f, const struct ag_cidr *c, int family)
{
	unsigned bits = (family == AF_INET ? 32u : 128u);
	uint64_t size;

	if (c->addr.family != family || c->len > bits) {
		errno = EINVAL;
		return -1;
	}
	bits -= c->len;
	size = bits >= 32 ? (uint64_t)1 << 32 : (uint64_t)1 << bits;
	/* Host 0, and in IPv4 the broadcast address, are never handed out. */
	if (size <= (family == AF_INET ? 2u : 1u)) {
		errno = EINVAL;
		return -1;
	}
	size -= (family == AF_INET ? 2u : 1u);
	f->cidr = *c;
	f->n = size > APPROVAL_POOL_MAX ? APPROVAL_POOL_MAX : (uint32_t)size;
	for (f->mask = 1; f->mask < 2 * f->n; f->mask <<= 1)
		;
	if ((f->e = calloc(f->n, sizeof(*f->e))) == NULL ||
	    (f->head = malloc(f->mask * sizeof(*f->head))) == NULL)
		return -1;
	memset(f->head, 0xff, f->mask * sizeof(*f->head));	/* all -1 */
	f->mask--;
	return 0;
}

/* FNV-1a: names are short and chosen by clients, the table small. */
static uint32_t
pool_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void
pool_unlink(struct pool_family *f, uint32_t i)
{
	int32_t *pp = &f->head[f->e[i].hash & f->mask];

	while (*pp != (int32_t)i)
		pp = &f->e[*pp].next;
	*pp = f->e[i].next;
}

struct approval_pool *
approval_pool_new(const struct ag_cidr *pool4, const struct ag_cidr *pool6,
    uint64_t min_age_ms)
{
	struct approval_pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->min_age_ms = min_age_ms;
	if (pool_family_init(&p->fam[0], pool4, AF_INET) == -1 ||
	    pool_family_init(&p->fam[1], pool6, AF_INET6) == -1) {
		int saved = errno;

		approval_pool_free(p);
		errno = saved;
		return NULL;
	}
	return p;
}

void
approval_pool_free(struct approval_pool *p)
{
	uint32_t i;
	int k;

	if (p == NULL)
		return;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < p->fam[k].n && p->fam[k].e != NULL; i++)
			free(p->fam[k].e[i].name);
		free(p->fam[k].e);
		free(p->fam[k].head);
	}
	free(p);
}

static struct pool_family *
pool_family(struct approval_pool *p, int family)
{
	if (family == AF_INET)
		return &p->fam[0];
	if (family == AF_INET6)
		return &p->fam[1];
	return NULL;
}

/* Slot i's address: the pool's base plus i + 1 in the low 32 bits (no
 * pool has more than APPROVAL_POOL_MAX slots, so no carry leaves them). */
static void
pool_slot_addr(const struct pool_family *f, uint32_t i, struct ag_addr *out)
{
	size_t size = addr_size(&f->cidr.addr);
	uint32_t low;

	*out = f->cidr.addr;
	low = ((uint32_t)out->u.bytes[size - 4] << 24) | ((uint32_t)out->u.bytes[size - 3] << 16) |
	    ((uint32_t)out->u.bytes[size - 2] << 8) | out->u.bytes[size - 1];
	low += i + 1;
	out->u.bytes[size - 4] = (uint8_t)(low >> 24);
	out->u.bytes[size - 3] = (uint8_t)(low >> 16);
	out->u.bytes[size - 2] = (uint8_t)(low >> 8);
	out->u.bytes[size - 1] = (uint8_t)low;
}

/* The slot of a, or -1 when a is no slot's address. */
static int64_t
pool_addr_slot(const struct pool_family *f, const struct ag_addr *a)
{
	size_t size = addr_size(&f->cidr.addr);
	uint32_t low, base;

	if (a->family != f->cidr.addr.family || !cidr_contains(&f->cidr, a))
		return -1;
	if (memcmp(a->u.bytes, f->cidr.addr.u.bytes, size - 4) != 0)
		return -1;
	low = ((uint32_t)a->u.bytes[size - 4] << 24) | ((uint32_t)a->u.bytes[size - 3] << 16) |
	    ((uint32_t)a->u.bytes[size - 2] << 8) | a->u.bytes[size - 1];
	base = ((uint32_t)f->cidr.addr.u.bytes[size - 4] << 24) |
	    ((uint32_t)f->cidr.addr.u.bytes[size - 3] << 16) |
	    ((uint32_t)f->cidr.addr.u.bytes[size - 2] << 8) | f->cidr.addr.u.bytes[size - 1];
	if (low - base < 1 || low - base > f->n)
		return -1;
	return (int64_t)(low - base - 1);
}

int
approval_pool_addr(struct approval_pool *p, const char *name, int family,
    uint64_t now_ms, struct ag_addr *out)
{
	struct pool_family *f;
	uint32_t i, pick, h;
	int32_t j;
	char *copy;

	if ((f = pool_family(p, family)) == NULL || name == NULL ||
	    name[0] == '\0' || strlen(name) > CANON_NAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	h = pool_hash(name);
	for (j = f->head[h & f->mask]; j != -1; j = f->e[j].next) {
		if (f->e[j].hash == h && strcmp(f->e[j].name, name) == 0) {
			f->e[j].used = now_ms;
			pool_slot_addr(f, (uint32_t)j, out);
			return 0;
		}
	}
	/* The next free slot, else the one used least recently. */
	if (f->nused < f->n) {
		pick = f->nused;
	} else {
		for (pick = 0, i = 1; i < f->n; i++) {
			if (f->e[i].used < f->e[pick].used)
				pick = i;
		}
		if (now_ms - f->e[pick].used < p->min_age_ms) {
			errno = EAGAIN;
			return -1;
		}
	}
	if ((copy = strdup(name)) == NULL)
		return -1;
	if (f->e[pick].name != NULL) {
		pool_unlink(f, pick);
		free(f->e[pick].name);
	} else {
		f->nused++;
	}
	f->e[pick].name = copy;
	f->e[pick].used = now_ms;
	f->e[pick].hash = h;
	f->e[pick].next = f->head[h & f->mask];
	f->head[h & f->mask] = (int32_t)pick;
	pool_slot_addr(f, pick, out);
	return 0;
}

const char *
approval_pool_name(struct approval_pool *p, const struct ag_addr *a,
    uint64_t now_ms)
{
	struct pool_family *f;
	int64_t i;

	if ((f = pool_family(p, a->family)) == NULL ||
	    (i = pool_addr_slot(f, a)) == -1 || f->e[i].name == NULL)
		return NULL;
	f->e[i].used = now_ms;
	return f->e[i].name;
}

bool
approval_pool_contains(const struct approval_pool *p, const struct ag_addr *a)
{
	return cidr_contains(&p->fam[0].cidr, a) || cidr_contains(&p->fam[1].cidr, a);
}
