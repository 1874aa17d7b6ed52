/*
 * Address pools for sandboxes: each task gets one small point-to-point
 * subnet carved from sandbox-pool4 (a /30) and one from sandbox-pool6 (a
 * /126); the gateway side takes the first host address, the sandbox side the
 * second. Pure arithmetic plus an allocation walk; no I/O.
 */
#ifndef AG_POOL_H
#define AG_POOL_H

#include <stdint.h>

#include "addr.h"

#define POOL_SUBNET4	30	/* prefix of one task's IPv4 link */
#define POOL_SUBNET6	126	/* prefix of one task's IPv6 link */
#define POOL_SLOTS_MAX	(UINT64_C(1) << 32)	/* cap on the slots counted */

/* One task's link in one family. */
struct pool_link {
	struct ag_addr	gw;		/* gateway side: subnet + 1 */
	struct ag_addr	sandbox;	/* sandbox side: subnet + 2; registered */
	uint8_t		prefixlen;	/* POOL_SUBNET4 or POOL_SUBNET6 */
};

/* How many per-task subnets the pool holds (capped at POOL_SLOTS_MAX);
 * 0 when the pool is smaller than one subnet. */
uint64_t pool_slots(const struct ag_cidr *pool);

/* The link of slot `slot`. Returns 0, or -1 with errno ERANGE when slot is
 * not below pool_slots(), EAFNOSUPPORT for a bad family. */
int pool_link(const struct ag_cidr *pool, uint64_t slot, struct pool_link *out);

/*
 * Try the slots of both pools in turn, starting at `start` and wrapping,
 * until `try` takes one. Slot i of the walk is (start + i) mod n4 in pool4
 * and the same index mod n6 in pool6. `try` returns 0 when it took the
 * pair, -1 with errno EADDRINUSE to go on with the next slot, or -1 with any
 * other errno to stop. Returns 0 with *slot4 set, or -1 with errno: ENOSPC
 * when every slot was tried (or a pool is too small), or try's errno.
 */
typedef int (*pool_try_fn)(void *arg, const struct pool_link *l4,
    const struct pool_link *l6);
int pool_allocate(const struct ag_cidr *pool4, const struct ag_cidr *pool6,
    uint64_t start, pool_try_fn try, void *arg, uint64_t *slot4);

#endif
