/*
 * The synthetic addresses an `ask` name is answered with: one map from
 * name to an address of approval-pool4 / approval-pool6 and back, shared
 * by every task, so a connection to such an address says which name the
 * client meant. The same name keeps its address; a full pool recycles the
 * entry used least recently.
 */
#ifndef AG_APPROVAL_POOL_H
#define AG_APPROVAL_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Entries kept per family at most (a /112 holds 65536 addresses). */
#define APPROVAL_POOL_MAX	4096

struct approval_pool;

/* Pools as in conf; a pool with no usable host address is EINVAL. An
 * entry used within min_age_ms is never recycled (a client may still
 * hold the answer: recycling it would send that client to another name).
 * NULL with errno. */
struct approval_pool *approval_pool_new(const struct ag_cidr *pool4,
    const struct ag_cidr *pool6, uint64_t min_age_ms);
void approval_pool_free(struct approval_pool *p);

/* The address of `name` (canonical) in family AF_INET or AF_INET6, made
 * (or recycled) if it has none; now_ms orders use. 0, or -1 with errno
 * EINVAL (bad family, name too long), EAGAIN (the pool is full of entries
 * used within min_age_ms) or ENOMEM. */
int approval_pool_addr(struct approval_pool *p, const char *name, int family,
    uint64_t now_ms, struct ag_addr *out);

/* The name mapped to a, or NULL (unknown: never given, or recycled since).
 * The string stays valid until the next approval_pool_addr(). */
const char *approval_pool_name(struct approval_pool *p,
    const struct ag_addr *a, uint64_t now_ms);

/* Whether a is inside either pool (mapped or not). */
bool approval_pool_contains(const struct approval_pool *p,
    const struct ag_addr *a);

#endif
