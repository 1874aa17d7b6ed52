/*
 * The gateway's own resolver: c-ares driven by the proxy's event loop, asking
 * only the configured dns-upstream servers (no /etc/resolv.conf, no hosts
 * file, no search domains). The TCP side resolves allowed names with it; the
 * DNS forwarder sends clients' queries upstream through it.
 */
#ifndef AG_RESOLVE_H
#define AG_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct loop;
struct ag_conf;

struct resolver;
struct resolver_req;	/* one pending request; cancel before the owner dies */

/* Addresses handed to one lookup callback, at most. */
#define RESOLVE_ANSWERS_MAX	32

/*
 * The lookup cache: names kept at most, the longest any answer is kept
 * (seconds; a shorter TTL wins), and how long NXDOMAIN / no address is.
 */
#define RESOLVE_CACHE_MAX		4096
#define RESOLVE_CACHE_TTL_MAX		300
#define RESOLVE_CACHE_NEGATIVE_TTL	5

struct resolve_answer {
	struct ag_addr	addr;
	uint32_t	ttl;		/* seconds */
};

/*
 * status is 0, or an ARES_E* code (ARES_ENOTFOUND, ARES_ENODATA: no address,
 * ARES_ETIMEOUT, ARES_ECANCELLED when the resolver is freed, ...); ans is
 * valid only during the callback. After the callback the request is gone:
 * do not cancel it.
 */
typedef void (*resolve_fn)(void *arg, int status,
    const struct resolve_answer *ans, size_t n);
typedef void (*resolve_raw_fn)(void *arg, int status,
    const uint8_t *resp, size_t len);

/*
 * A resolver on loop l with the servers, timeout (dns_timeout_ms per try,
 * 2 tries) of c. Returns NULL with errno: EINVAL when c names no
 * dns-upstream, ENOMEM, or EIO when c-ares refuses to start.
 */
struct resolver *resolver_new(struct loop *l, const struct ag_conf *c);
/* Pending callbacks run with ARES_EDESTRUCTION unless cancelled. */
void resolver_free(struct resolver *r);

/*
 * A and AAAA of a canonical name (canon_host's CANON_NAME), both families
 * in one callback (duplicates removed, at most RESOLVE_ANSWERS_MAX). The
 * callback never runs before this returns. Returns the request, or NULL
 * with errno ENOMEM (the callback will not run).
 *
 * Results are cached per name: answers until the smallest of their TTLs
 * (at most RESOLVE_CACHE_TTL_MAX; a TTL of 0 is not cached), NXDOMAIN and
 * no-address for RESOLVE_CACHE_NEGATIVE_TTL, failures not at all; the
 * least recently used name goes past RESOLVE_CACHE_MAX. A cached answer
 * comes with the TTL it has left. The caller still judges every answer
 * (rebinding rule) each time: the cache only saves the query.
 */
struct resolver_req *resolver_lookup(struct resolver *r, const char *name,
    resolve_fn fn, void *arg);

/*
 * Forward one raw DNS query (the forwarder); the callback gets the raw
 * answer bytes (valid only during the callback). c-ares checks that the
 * answer's id and question match the query. Returns NULL with errno
 * ENOMEM or EINVAL (len under 12 or over 65535).
 */
struct resolver_req *resolver_send(struct resolver *r, const uint8_t *q,
    size_t len, resolve_raw_fn fn, void *arg);

/* Forget every cached answer, and what lookups in flight would add (a
 * policy reload, a change of servers). */
void resolver_flush(struct resolver *r);

/* The cache's clock, in ms (default: the loop's monotonic clock); for
 * tests. Flushes the cache. */
typedef uint64_t (*resolve_clock_fn)(void *arg);
void resolver_set_clock(struct resolver *r, resolve_clock_fn now, void *arg);

struct resolver_stats {
	uint64_t	hits;		/* lookups answered from the cache */
	uint64_t	misses;		/* lookups sent upstream */
	size_t		entries;	/* names cached now */
};
void resolver_stats(const struct resolver *r, struct resolver_stats *st);

/* The callback will not run; safe to call from inside other callbacks.
 * NULL is ignored. */
void resolver_cancel(struct resolver_req *req);

/* Requests started and not yet finished (cancelled ones included, until
 * c-ares lets them go): for tests and status. */
size_t resolver_pending(const struct resolver *r);

#endif
