/*
 * Per-task name -> address bindings learned from the DNS answers sandboxes
 * receive: "task T asked for example.com and was told 198.19.0.2, valid for
 * TTL seconds". The filter lets a packet through by a name rule only to an
 * address bound to that name for that task. Shared by the queue threads
 * (one mutex); bounded in entries.
 */
#ifndef AG_NFQ_BINDINGS_H
#define AG_NFQ_BINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "canon.h"
#include "dnsmsg.h"
#include "registry.h"

/* TTLs are clamped to this range (seconds): a TTL of 0 still lets the
 * client use the answer it just got; a week-long TTL does not outlive a
 * policy change by a week. */
#define BINDINGS_TTL_MIN	30
#define BINDINGS_TTL_MAX	3600

struct bindings;

/* A table of at most `max` bindings. NULL with errno (EINVAL, ENOMEM). */
struct bindings *bindings_new(size_t max);
void bindings_free(struct bindings *b);

/*
 * Learn from one parsed response (dns_parse_response() gave DNS_OK) that
 * task_id received: every A/AAAA record in the question's chain binds its
 * address to the canonical question name until now_ms + TTL (clamped).
 * A binding already held is refreshed. When the table is full, expired
 * bindings go first, then those closest to expiry. Returns the number of
 * addresses bound (0 for an invalid question name), or -1 with errno
 * ENOMEM.
 */
int bindings_learn(struct bindings *b, const char *task_id,
    const struct dns_response *r, uint64_t now_ms);

/* Bind one name (already canonical) to one address; the same rules. */
int bindings_add(struct bindings *b, const char *task_id, const char *name,
    const struct ag_addr *addr, uint32_t ttl, uint64_t now_ms);

/*
 * The names bound to addr for task_id and not expired at now_ms, copied
 * into names[0..max). Returns how many were found (may exceed max: only
 * max are copied).
 */
size_t bindings_names(struct bindings *b, const char *task_id,
    const struct ag_addr *addr, uint64_t now_ms,
    char (*names)[CANON_NAME_MAX + 1], size_t max);

/* Whether name (canonical) is bound to addr for task_id at now_ms, however
 * many other names share the address. */
bool bindings_has(struct bindings *b, const char *task_id, const char *name,
    const struct ag_addr *addr, uint64_t now_ms);

/* Forget a task's bindings (it ended) ; returns how many. */
size_t bindings_forget(struct bindings *b, const char *task_id);

size_t bindings_count(struct bindings *b);

#endif
