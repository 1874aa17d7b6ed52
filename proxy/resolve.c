/*
 * c-ares on the proxy's loop. c-ares tells us which sockets it wants watched
 * (sock_state_cb) and when it next needs a timeout; we turn those into loop
 * registrations and one loop timer. c-ares cannot cancel one query, so a
 * request carries a cancelled mark and is freed when c-ares lets it go.
 * Lookups' answers are cached per name until their smallest TTL passes.
 */
#include "config.h"

#include <ares.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "resolve.h"

#define CACHE_BUCKETS	1024		/* a power of two */

/* One name's answers (or its NXDOMAIN/NODATA), good until `expires`. */
struct cache_entry {
	struct cache_entry	*hnext;		/* in its bucket */
	struct cache_entry	*lprev, *lnext;	/* LRU: head is the newest */
	uint64_t		 stored;	/* ms, the resolver's clock */
	uint64_t		 expires;
	int			 status;	/* 0, ARES_ENOTFOUND, ARES_ENODATA */
	size_t			 n;
	char			 name[256];
	struct resolve_answer	 ans[];		/* n of them, TTLs as received */
};

struct resolver {
	struct loop		*loop;
	ares_channel		 ch;
	bool			 ch_ok;
	struct loop_timer	*timer;		/* c-ares's next timeout */
	size_t			 pending;
	struct resolver_req	*reqs;		/* every live request */
	resolve_clock_fn	 now;
	void			*now_arg;
	struct cache_entry	*buckets[CACHE_BUCKETS];
	struct cache_entry	*lru_head, *lru_tail;
	size_t			 cached;
	/* Bumped by resolver_flush: a lookup started before a flush does not
	 * fill the cache after it. */
	uint64_t		 gen;
	struct resolver_stats	 stats;
};

struct resolver_req {
	struct resolver		*r;
	resolve_fn		 fn;		/* lookup, or */
	resolve_raw_fn		 rawfn;		/* send */
	void			*arg;
	bool			 cancelled;
	uint64_t		 gen;		/* r->gen when it started */
	char			 name[256];	/* lookups: what to cache */
	/*
	 * c-ares may answer from inside ares_getaddrinfo()/ares_send() (an
	 * error, no server). The caller has no request pointer yet then, so
	 * such a result is kept and delivered from a 0 ms timer instead.
	 */
	bool			 starting;
	struct loop_timer	*deferred;
	int			 status;
	struct resolve_answer	 ans[RESOLVE_ANSWERS_MAX];
	size_t			 n;
	uint8_t			*raw;
	size_t			 rawlen;
	struct resolver_req	*prev, *next;	/* in r->reqs */
};

static void resolver_rearm(struct resolver *);

static uint64_t
resolver_clock_loop(void *arg)
{
	return loop_now_ms(arg);
}

/* FNV-1a: names are short and already canonical (lower case). */
static size_t
cache_bucket(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h & (CACHE_BUCKETS - 1);
}

static void
cache_lru_unlink(struct resolver *r, struct cache_entry *e)
{
	if (e->lprev != NULL)
		e->lprev->lnext = e->lnext;
	else
		r->lru_head = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else
		r->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void
cache_lru_push(struct resolver *r, struct cache_entry *e)
{
	e->lprev = NULL;
	e->lnext = r->lru_head;
	if (r->lru_head != NULL)
		r->lru_head->lprev = e;
	r->lru_head = e;
	if (r->lru_tail == NULL)
		r->lru_tail = e;
}

static void
cache_remove(struct resolver *r, struct cache_entry *e)
{
	struct cache_entry **pp;

	for (pp = &r->buckets[cache_bucket(e->name)]; *pp != e;
	    pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	cache_lru_unlink(r, e);
	r->cached--;
	free(e);
}

/* The live entry for name, made the newest; an expired one is dropped. */
static struct cache_entry *
cache_find(struct resolver *r, const char *name, uint64_t now)
{
	struct cache_entry *e;

	for (e = r->buckets[cache_bucket(name)]; e != NULL; e = e->hnext)
		if (strcmp(e->name, name) == 0)
			break;
	if (e == NULL)
		return NULL;
	if (now >= e->expires) {
		cache_remove(r, e);
		return NULL;
	}
	cache_lru_unlink(r, e);
	cache_lru_push(r, e);
	return e;
}

/*
 * Keep a finished lookup's result: answers until the smallest TTL passes
 * (capped), NXDOMAIN and NODATA briefly. Failures (timeouts, SERVFAIL,
 * refusals) are not kept: the next connection asks again.
 */
static void
cache_store(struct resolver *r, const char *name, int status,
    const struct resolve_answer *ans, size_t n)
{
	struct cache_entry *e;
	uint64_t now, ttl;
	size_t i, b;

	if (status == ARES_SUCCESS && n > 0) {
		ttl = RESOLVE_CACHE_TTL_MAX;
		for (i = 0; i < n; i++)
			if (ans[i].ttl < ttl)
				ttl = ans[i].ttl;
	} else if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
		ttl = RESOLVE_CACHE_NEGATIVE_TTL;
		n = 0;
	} else
		return;
	if (ttl == 0)
		return;
	now = r->now(r->now_arg);
	if ((e = cache_find(r, name, now)) != NULL)
		cache_remove(r, e);
	if (r->cached >= RESOLVE_CACHE_MAX)
		cache_remove(r, r->lru_tail);
	if ((e = calloc(1, sizeof(*e) + n * sizeof(e->ans[0]))) == NULL)
		return;		/* not kept: the next lookup asks again */
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->stored = now;
	e->expires = now + ttl * 1000;
	e->status = status;
	e->n = n;
	if (n > 0)
		memcpy(e->ans, ans, n * sizeof(e->ans[0]));
	b = cache_bucket(e->name);
	e->hnext = r->buckets[b];
	r->buckets[b] = e;
	cache_lru_push(r, e);
	r->cached++;
}

void
resolver_flush(struct resolver *r)
{
	while (r->lru_head != NULL)
		cache_remove(r, r->lru_head);
	r->gen++;
}

void
resolver_set_clock(struct resolver *r, resolve_clock_fn now, void *arg)
{
	resolver_flush(r);
	r->now = now;
	r->now_arg = arg;
}

void
resolver_stats(const struct resolver *r, struct resolver_stats *st)
{
	*st = r->stats;
	st->entries = r->cached;
}

static void
resolver_fd_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct resolver *r = arg;
	ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

	(void)l;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		rfd = fd;
	if (events & EPOLLOUT)
		wfd = fd;
	ares_process_fd(r->ch, rfd, wfd);
	resolver_rearm(r);
}

static void
resolver_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	uint32_t ev = 0;

	if (readable)
		ev |= EPOLLIN;
	if (writable)
		ev |= EPOLLOUT;
	if (ev == 0) {
		(void)loop_del(r->loop, fd);
		return;
	}
	if (loop_add(r->loop, fd, ev, resolver_fd_cb, r) == -1) {
		if (errno != EEXIST || loop_mod(r->loop, fd, ev) == -1)
			log_warn("resolver: cannot watch socket %d", fd);
	}
}

static void
resolver_timer_cb(struct loop *l, void *arg)
{
	struct resolver *r = arg;

	(void)l;
	r->timer = NULL;
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolver_rearm(r);
}

static void
resolver_rearm(struct resolver *r)
{
	struct timeval tvbuf, *tv;
	uint64_t ms;

	if (r->timer != NULL) {
		loop_timer_cancel(r->loop, r->timer);
		r->timer = NULL;
	}
	if (!r->ch_ok || (tv = ares_timeout(r->ch, NULL, &tvbuf)) == NULL)
		return;
	ms = (uint64_t)tv->tv_sec * 1000 + ((uint64_t)tv->tv_usec + 999) / 1000;
	if ((r->timer = loop_timer_add(r->loop, ms, resolver_timer_cb, r)) == NULL)
		log_warn("resolver: timer");
}

static void
resolver_req_free(struct resolver_req *req)
{
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		req->r->reqs = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	req->r->pending--;
	free(req->raw);
	free(req);
}

/* Hand the result to its owner (unless cancelled) and free the request. */
static void
resolver_deliver(struct resolver_req *req)
{
	if (!req->cancelled) {
		if (req->fn != NULL)
			req->fn(req->arg, req->status, req->ans, req->n);
		else
			req->rawfn(req->arg, req->status, req->raw, req->rawlen);
	}
	resolver_req_free(req);
}

static void
resolver_deferred_cb(struct loop *l, void *arg)
{
	struct resolver_req *req = arg;

	(void)l;
	req->deferred = NULL;
	resolver_deliver(req);
}

/* The result is stored in req; deliver it now, or later when c-ares
 * answered before the caller got its request back. */
static void
resolver_complete(struct resolver_req *req)
{
	if (req->cancelled) {
		resolver_req_free(req);
		return;
	}
	if (!req->starting) {
		resolver_deliver(req);
		return;
	}
	req->deferred = loop_timer_add(req->r->loop, 0, resolver_deferred_cb, req);
	if (req->deferred == NULL) {
		/* Cannot defer: the owner learns nothing, so it must not wait.
		 * resolver_lookup() sees this through `cancelled`. */
		req->cancelled = true;
	}
}

static void
resolver_addrinfo_cb(void *arg, int status, int timeouts,
    struct ares_addrinfo *res)
{
	struct resolver_req *req = arg;
	struct ares_addrinfo_node *node;
	struct ag_addr a;
	size_t i;

	(void)timeouts;
	req->status = status;
	req->n = 0;
	if (status == ARES_SUCCESS && res != NULL) {
		for (node = res->nodes; node != NULL; node = node->ai_next) {
			if (req->n == RESOLVE_ANSWERS_MAX)
				break;
			if (node->ai_addr == NULL ||
			    addr_from_sockaddr(node->ai_addr, &a) == -1)
				continue;
			for (i = 0; i < req->n; i++)
				if (addr_equal(&req->ans[i].addr, &a))
					break;
			if (i < req->n)
				continue;
			req->ans[req->n].addr = a;
			req->ans[req->n].ttl = node->ai_ttl > 0 ?
			    (uint32_t)node->ai_ttl : 0;
			req->n++;
		}
		if (req->n == 0)
			req->status = ARES_ENODATA;
	}
	if (res != NULL)
		ares_freeaddrinfo(res);
	/* Not after resolver_free began (ARES_EDESTRUCTION is not kept
	 * anyway) nor across a flush. */
	if (req->gen == req->r->gen && req->r->ch_ok)
		cache_store(req->r, req->name, req->status, req->ans, req->n);
	resolver_complete(req);
}

static void
resolver_send_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct resolver_req *req = arg;

	(void)timeouts;
	req->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0 && !req->cancelled) {
		if ((req->raw = malloc((size_t)alen)) == NULL) {
			req->status = ARES_ENOMEM;
		} else {
			memcpy(req->raw, abuf, (size_t)alen);
			req->rawlen = (size_t)alen;
		}
	}
	resolver_complete(req);
}

struct resolver *
resolver_new(struct loop *l, const struct ag_conf *c)
{
	struct resolver *r = NULL;
	struct ares_options opts;
	struct ares_addr_port_node nodes[CONF_DNS_UPSTREAM_MAX];
	char lookups[] = "b";
	const struct conf_upstream *u;
	size_t i;
	int optmask, rc, saved;

	if (c->dns_upstream_count == 0 ||
	    c->dns_upstream_count > CONF_DNS_UPSTREAM_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->loop = l;
	r->now = resolver_clock_loop;
	r->now_arg = l;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		free(r);
		errno = EIO;
		return NULL;
	}

	/* Every setting c-ares would otherwise take from /etc/resolv.conf,
	 * the hosts file or the environment is given here. */
	memset(&opts, 0, sizeof(opts));
	opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	opts.timeout = c->dns_timeout_ms > 0 && c->dns_timeout_ms < 600000 ?
	    (int)c->dns_timeout_ms : CONF_DEFAULT_DNS_TIMEOUT_MS;
	opts.tries = 2;
	opts.ndots = 1;
	opts.nservers = 0;
	opts.servers = NULL;
	opts.ndomains = 0;
	opts.domains = NULL;
	opts.lookups = lookups;
	opts.nsort = 0;
	opts.sortlist = NULL;
	opts.sock_state_cb = resolver_sock_state;
	opts.sock_state_cb_data = r;
	optmask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_NDOTS | ARES_OPT_SERVERS | ARES_OPT_DOMAINS |
	    ARES_OPT_LOOKUPS | ARES_OPT_SORTLIST | ARES_OPT_SOCK_STATE_CB;
	if ((rc = ares_init_options(&r->ch, &opts, optmask)) != ARES_SUCCESS) {
		log_warnx("resolver: %s", ares_strerror(rc));
		errno = rc == ARES_ENOMEM ? ENOMEM : EIO;
		goto fail;
	}
	r->ch_ok = true;

	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < c->dns_upstream_count; i++) {
		u = &c->dns_upstream[i];
		nodes[i].family = u->addr.family;
		if (u->addr.family == AF_INET)
			nodes[i].addr.addr4 = u->addr.u.v4;
		else
			memcpy(&nodes[i].addr.addr6, &u->addr.u.v6, 16);
		nodes[i].udp_port = u->port;
		nodes[i].tcp_port = u->port;
		nodes[i].next = i + 1 < c->dns_upstream_count ? &nodes[i + 1] : NULL;
	}
	if ((rc = ares_set_servers_ports(r->ch, nodes)) != ARES_SUCCESS) {
		log_warnx("resolver: servers: %s", ares_strerror(rc));
		errno = rc == ARES_ENOMEM ? ENOMEM : EINVAL;
		goto fail;
	}
	return r;
fail:
	saved = errno;
	if (r->ch_ok)
		ares_destroy(r->ch);
	ares_library_cleanup();
	free(r);
	errno = saved;
	return NULL;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	/* ares_destroy runs every pending callback (ARES_EDESTRUCTION); no
	 * request is in `starting` then, so each is delivered and freed. */
	ares_destroy(r->ch);
	r->ch_ok = false;
	/* What is left waits on a deferral timer: deliver it now. */
	while (r->reqs != NULL) {
		if (r->reqs->deferred != NULL)
			loop_timer_cancel(r->loop, r->reqs->deferred);
		r->reqs->deferred = NULL;
		resolver_deliver(r->reqs);
	}
	if (r->timer != NULL)
		loop_timer_cancel(r->loop, r->timer);
	resolver_flush(r);
	ares_library_cleanup();
	free(r);
}

static struct resolver_req *
resolver_req_new(struct resolver *r, resolve_fn fn, resolve_raw_fn rawfn,
    void *arg)
{
	struct resolver_req *req;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	req->r = r;
	req->fn = fn;
	req->rawfn = rawfn;
	req->arg = arg;
	req->starting = true;
	req->gen = r->gen;
	req->next = r->reqs;
	if (r->reqs != NULL)
		r->reqs->prev = req;
	r->reqs = req;
	r->pending++;
	return req;
}

/* After starting: a result that came at once is waiting on its timer, or
 * could not be deferred (then the request is already gone). */
static struct resolver_req *
resolver_req_started(struct resolver_req *req)
{
	struct resolver *r = req->r;

	req->starting = false;
	resolver_rearm(r);
	if (req->cancelled && req->deferred == NULL) {
		/* Completed at once and could not be deferred. */
		resolver_req_free(req);
		errno = ENOMEM;
		return NULL;
	}
	return req;
}

struct resolver_req *
resolver_lookup(struct resolver *r, const char *name, resolve_fn fn, void *arg)
{
	struct resolver_req *req;
	struct ares_addrinfo_hints hints;
	struct cache_entry *e;
	uint64_t now, age;
	size_t i;

	if ((req = resolver_req_new(r, fn, NULL, arg)) == NULL)
		return NULL;
	now = r->now(r->now_arg);
	if ((e = cache_find(r, name, now)) != NULL) {
		/* Each answer with the TTL it has left; none has run out,
		 * since the entry ends with the smallest. */
		r->stats.hits++;
		age = (now - e->stored) / 1000;
		req->status = e->status;
		req->n = e->n;
		for (i = 0; i < e->n; i++) {
			req->ans[i] = e->ans[i];
			req->ans[i].ttl = e->ans[i].ttl > age ?
			    e->ans[i].ttl - (uint32_t)age : 0;
		}
		resolver_complete(req);
		return resolver_req_started(req);
	}
	r->stats.misses++;
	snprintf(req->name, sizeof(req->name), "%s", name);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	/* No sorting: c-ares would connect() UDP sockets to rank answers. */
	hints.ai_flags = ARES_AI_NOSORT;
	ares_getaddrinfo(r->ch, name, NULL, &hints, resolver_addrinfo_cb, req);
	return resolver_req_started(req);
}

struct resolver_req *
resolver_send(struct resolver *r, const uint8_t *q, size_t len,
    resolve_raw_fn fn, void *arg)
{
	struct resolver_req *req;

	if (len < 12 || len > 65535) {
		errno = EINVAL;
		return NULL;
	}
	if ((req = resolver_req_new(r, NULL, fn, arg)) == NULL)
		return NULL;
	ares_send(r->ch, q, (int)len, resolver_send_cb, req);
	return resolver_req_started(req);
}

void
resolver_cancel(struct resolver_req *req)
{
	if (req == NULL)
		return;
	if (req->deferred != NULL) {
		loop_timer_cancel(req->r->loop, req->deferred);
		req->deferred = NULL;
		resolver_req_free(req);
		return;
	}
	/* c-ares still holds it: freed when its callback comes. */
	req->cancelled = true;
}

size_t
resolver_pending(const struct resolver *r)
{
	return r->pending;
}
