/*
 * Carving per-task point-to-point subnets out of the sandbox pools, and the
 * walk that finds a free one (the registry's lock decides what is free).
 */
#include <errno.h>
#include <string.h>

#include "pool.h"

/* Add n to the address as a big-endian integer of its family's size. */
static void
addr_add(struct ag_addr *a, uint64_t n)
{
	size_t i = addr_size(a);
	unsigned carry = 0;

	while (i-- > 0 && (n != 0 || carry != 0)) {
		unsigned v = a->u.bytes[i] + (unsigned)(n & 0xff) + carry;

		a->u.bytes[i] = (uint8_t)v;
		carry = v >> 8;
		n >>= 8;
	}
}

static int
subnet_len(const struct ag_cidr *pool)
{
	if (pool->addr.family == AF_INET)
		return POOL_SUBNET4;
	if (pool->addr.family == AF_INET6)
		return POOL_SUBNET6;
	return -1;
}

uint64_t
pool_slots(const struct ag_cidr *pool)
{
	int sub = subnet_len(pool);
	unsigned bits;

	if (sub < 0 || pool->len > sub)
		return 0;
	bits = (unsigned)(sub - pool->len);
	if (bits >= 32)
		return POOL_SLOTS_MAX;
	return UINT64_C(1) << bits;
}

int
pool_link(const struct ag_cidr *pool, uint64_t slot, struct pool_link *out)
{
	int sub = subnet_len(pool);
	/* Each subnet is 4 addresses wide: a /30 or a /126. */
	uint64_t offset;

	if (sub < 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (slot >= pool_slots(pool)) {
		errno = ERANGE;
		return -1;
	}
	offset = slot * 4;
	memset(out, 0, sizeof(*out));
	out->gw = pool->addr;
	addr_add(&out->gw, offset + 1);
	out->sandbox = pool->addr;
	addr_add(&out->sandbox, offset + 2);
	out->prefixlen = (uint8_t)sub;
	return 0;
}

int
pool_allocate(const struct ag_cidr *pool4, const struct ag_cidr *pool6,
    uint64_t start, pool_try_fn try, void *arg, uint64_t *slot4)
{
	uint64_t n4 = pool_slots(pool4), n6 = pool_slots(pool6), i, s;
	struct pool_link l4, l6;

	if (n4 == 0 || n6 == 0) {
		errno = ENOSPC;
		return -1;
	}
	for (i = 0; i < n4; i++) {
		s = (start % n4 + i) % n4;
		if (pool_link(pool4, s, &l4) == -1 ||
		    pool_link(pool6, s % n6, &l6) == -1)
			return -1;
		if (try(arg, &l4, &l6) == 0) {
			*slot4 = s;
			return 0;
		}
		if (errno != EADDRINUSE)
			return -1;
	}
	errno = ENOSPC;
	return -1;
}
