/*
 * The flow table of one queue: the decision taken for each 5-tuple, so that
 * later packets of a judged flow get the same verdict without a second
 * telemetry event. Bounded in entries; idle flows are evicted oldest first,
 * then refused flows when the table is full.
 * Not thread-safe: each queue thread owns its table.
 */
#ifndef AG_NFQ_FLOW_H
#define AG_NFQ_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct flow_key {
	struct ag_addr	src, dst;
	uint16_t	sport, dport;	/* ICMP echo: sport is the id */
	uint8_t		proto;
};

/* What was decided; the queue code maps it to a netfilter verdict. */
enum flow_verdict {
	FLOW_ACCEPT = 1,
	FLOW_DROP,
	FLOW_REJECT,
};

struct flow_stats {
	size_t		count;		/* flows held now */
	uint64_t	inserted;
	uint64_t	evicted;	/* idle flows removed */
	uint64_t	recycled;	/* refused flows removed to make room */
	uint64_t	full;		/* inserts refused: table full of accepted flows */
};

struct flow_table;

/*
 * A table of at most `max` flows; a flow unseen for `idle_ms` may be
 * evicted. `seed` keys the hash (pass random bytes, so that a sandbox
 * cannot aim collisions at one bucket). Returns NULL with errno (EINVAL
 * for max 0, ENOMEM).
 */
struct flow_table *flow_table_new(size_t max, uint64_t idle_ms, uint64_t seed);
void flow_table_free(struct flow_table *ft);

/*
 * The verdict held for key, refreshing its idle clock; 0 when there is
 * none (or it had been idle too long: it is then removed). `now_ms` is a
 * monotonic clock the caller reads.
 */
int flow_lookup(struct flow_table *ft, const struct flow_key *key,
    uint64_t now_ms);

/*
 * Record a verdict (replacing one held for the same key). When the table
 * is full, idle flows are evicted first, then the least recently used
 * refused (drop or reject) flow; if every entry is a live accepted flow the
 * insert is refused. Returns 0, or -1 with errno ENOSPC (full: the caller
 * fails closed) or ENOMEM.
 */
int flow_insert(struct flow_table *ft, const struct flow_key *key,
    enum flow_verdict v, uint64_t now_ms);

/* Evict every flow idle since before now_ms - idle_ms. Returns how many. */
size_t flow_expire(struct flow_table *ft, uint64_t now_ms);

/* Remove every flow (a policy or registry reload: judge again). */
void flow_clear(struct flow_table *ft);

void flow_stats(const struct flow_table *ft, struct flow_stats *st);

/* Bytes one flow costs, for sizing the cap from memory. */
size_t flow_entry_size(void);

#endif
