/*
 * proxy/resolve.c against a small DNS server on 127.0.0.1 run on the same
 * loop: both families in one callback, NXDOMAIN, timeouts, cancellation,
 * raw forwarding, that nothing but the configured server is asked, and the
 * lookup cache (hits, expiry on an injected clock, negatives, LRU, flush).
 */
#include "config.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "dnsmsg.h"
#include "loop.h"
#include "resolve.h"

/* The fake server's zone: what it answers for each name. */
struct zone_entry {
	const char	*name;
	const char	*a;		/* NULL: no A record */
	const char	*aaaa;		/* NULL: no AAAA record */
	int		 rcode;		/* -1: never answer */
};

static const struct zone_entry zone[] = {
	{ "both.test",   "198.19.0.10", "fd00:a9:ff::10", 0 },
	{ "v4only.test", "198.19.0.11", NULL,             0 },
	{ "v6only.test", NULL,          "fd00:a9:ff::12", 0 },
	{ "empty.test",  NULL,          NULL,             0 },
	{ "nx.test",     NULL,          NULL,             DNS_RCODE_NXDOMAIN },
	{ "silent.test", NULL,          NULL,             -1 },
	{ "short.test",  "198.19.0.13", "fd00:a9:ff::13", 0 },
	{ "zero.test",   "198.19.0.14", NULL,             0 },
};

/* TTLs the fake server gives; every other name gets ZONE_TTL. */
#define ZONE_TTL	120
static uint32_t
zone_ttl(const char *name, int qtype)
{
	if (strcmp(name, "short.test") == 0)
		return qtype == DNS_TYPE_A ? 30 : 60;
	if (strcmp(name, "zero.test") == 0)
		return 0;
	return ZONE_TTL;
}

struct fake {
	struct loop	*loop;
	int		 fd;
	uint16_t	 port;
	unsigned	 queries;
	uint64_t	 now_ms;	/* the resolver cache's clock */
	char		 last[256];
	/* What the callbacks saw. */
	int		 calls;
	int		 want_calls;
	int		 status;
	struct resolve_answer ans[RESOLVE_ANSWERS_MAX];
	size_t		 n;
	uint8_t		 raw[512];
	size_t		 rawlen;
};

static const struct zone_entry *
zone_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		if (strcmp(zone[i].name, name) == 0)
			return &zone[i];
	return NULL;
}

static void
fake_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct fake *f = arg;
	uint8_t q[512], out[512];
	char gen[64];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct dns_query dq;
	const struct zone_entry *z;
	struct ag_addr a;
	ssize_t n, m;
	const char *text;

	(void)l;
	(void)events;
	if ((n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&ss,
	    &sl)) <= 0)
		return;
	f->queries++;
	if (dns_parse_query(q, (size_t)n, &dq) != DNS_OK)
		return;
	snprintf(f->last, sizeof(f->last), "%s", dq.question.name.text);
	z = zone_find(dq.question.name.text);
	/* gN.test: a name per number, for the LRU test. */
	if (z == NULL && sscanf(dq.question.name.text, "g%63[0-9].test", gen) == 1) {
		assert_int_equal(addr_parse("198.19.1.1", &a), 0);
		m = dns_build_answer(q, (size_t)n, &a,
		    dq.question.qtype == DNS_TYPE_A ? 1 : 0, ZONE_TTL, out,
		    sizeof(out));
	} else if (z == NULL)
		m = dns_build_error(q, (size_t)n, DNS_RCODE_REFUSED, out,
		    sizeof(out));
	else if (z->rcode == -1)
		return;
	else if (z->rcode != 0)
		m = dns_build_error(q, (size_t)n, z->rcode, out, sizeof(out));
	else {
		text = dq.question.qtype == DNS_TYPE_A ? z->a :
		    dq.question.qtype == DNS_TYPE_AAAA ? z->aaaa : NULL;
		if (text != NULL)
			assert_int_equal(addr_parse(text, &a), 0);
		m = dns_build_answer(q, (size_t)n, &a, text != NULL ? 1 : 0,
		    zone_ttl(z->name, dq.question.qtype), out, sizeof(out));
	}
	assert_true(m > 0);
	(void)sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&ss, sl);
}

static void
stop_cb(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static int
setup(void **state)
{
	struct fake *f;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_non_null(f->loop = loop_new());
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(f->fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sin, &sl), 0);
	f->port = ntohs(sin.sin_port);
	assert_int_equal(loop_add(f->loop, f->fd, EPOLLIN, fake_read, f), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;

	(void)loop_del(f->loop, f->fd);
	close(f->fd);
	loop_free(f->loop);
	free(f);
	return 0;
}

static struct resolver *
make_resolver(struct fake *f, uint64_t timeout_ms)
{
	struct ag_conf c;
	struct resolver *r;

	assert_int_equal(conf_init(&c), 0);
	c.dns_upstream_count = 1;
	assert_int_equal(addr_parse("127.0.0.1", &c.dns_upstream[0].addr), 0);
	c.dns_upstream[0].port = f->port;
	c.dns_timeout_ms = timeout_ms;
	r = resolver_new(f->loop, &c);
	conf_free(&c);
	assert_non_null(r);
	return r;
}

static void
lookup_cb(void *arg, int status, const struct resolve_answer *ans, size_t n)
{
	struct fake *f = arg;

	f->calls++;
	f->status = status;
	f->n = n;
	memcpy(f->ans, ans, n * sizeof(*ans));
	if (f->calls >= f->want_calls)
		loop_stop(f->loop);
}

/* Run until the callbacks wanted ran, or 5 s. */
static void
run(struct fake *f, int want)
{
	struct loop_timer *t;

	f->want_calls = want;
	t = loop_timer_add(f->loop, 5000, stop_cb, NULL);
	assert_int_equal(loop_run(f->loop), 0);
	if (f->calls >= want)
		loop_timer_cancel(f->loop, t);
}

static bool
has_answer(const struct fake *f, const char *text, uint32_t ttl)
{
	struct ag_addr a;
	size_t i;

	assert_int_equal(addr_parse(text, &a), 0);
	for (i = 0; i < f->n; i++)
		if (addr_equal(&f->ans[i].addr, &a) && f->ans[i].ttl == ttl)
			return true;
	return false;
}

/* Table: name, status, count, and the addresses that must be there. */
static void
test_lookup_table(void **state)
{
	static const struct {
		const char	*name;
		int		 status;
		size_t		 n;
		const char	*addr[2];
	} cases[] = {
		{ "both.test",   ARES_SUCCESS,   2, { "198.19.0.10", "fd00:a9:ff::10" } },
		{ "v4only.test", ARES_SUCCESS,   1, { "198.19.0.11", NULL } },
		{ "v6only.test", ARES_SUCCESS,   1, { "fd00:a9:ff::12", NULL } },
		{ "empty.test",  ARES_ENODATA,   0, { NULL, NULL } },
		{ "nx.test",     ARES_ENOTFOUND, 0, { NULL, NULL } },
		/* One label and ndots 1, no search list: asked as is. */
		/* c-ares 1.18 reports a REFUSED rcode as ECONNREFUSED. */
		{ "nodot",       ARES_ECONNREFUSED, 0, { NULL, NULL } },
	};
	struct fake *f = *state;
	struct resolver *r = make_resolver(f, 1000);
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->calls = 0;
		f->last[0] = '\0';
		assert_non_null(resolver_lookup(r, cases[i].name, lookup_cb, f));
		/* Never from inside resolver_lookup(). */
		assert_int_equal(f->calls, 0);
		run(f, 1);
		assert_int_equal(f->calls, 1);
		assert_string_equal(f->last, cases[i].name);
		assert_int_equal(f->status, cases[i].status);
		assert_int_equal(f->n, cases[i].n);
		for (k = 0; k < 2 && cases[i].addr[k] != NULL; k++)
			assert_true(has_answer(f, cases[i].addr[k], 120));
	}
	assert_int_equal(resolver_pending(r), 0);
	resolver_free(r);
}

static void
test_timeout(void **state)
{
	struct fake *f = *state;
	struct resolver *r = make_resolver(f, 100);

	f->queries = 0;
	assert_non_null(resolver_lookup(r, "silent.test", lookup_cb, f));
	run(f, 1);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->status, ARES_ETIMEOUT);
	assert_int_equal(f->n, 0);
	/* Two tries, A and AAAA each. */
	assert_int_equal(f->queries, 4);
	resolver_free(r);
}

static void
test_cancel(void **state)
{
	struct fake *f = *state;
	struct resolver *r = make_resolver(f, 1000);
	struct resolver_req *a, *b;

	a = resolver_lookup(r, "both.test", lookup_cb, f);
	b = resolver_lookup(r, "v4only.test", lookup_cb, f);
	assert_non_null(a);
	assert_non_null(b);
	resolver_cancel(a);
	run(f, 1);
	/* Only b answered, and a is gone once c-ares let go of it. */
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->n, 1);
	assert_true(has_answer(f, "198.19.0.11", 120));
	assert_int_equal(resolver_pending(r), 0);
	/* A cancelled request outstanding at free: its callback never runs. */
	a = resolver_lookup(r, "silent.test", lookup_cb, f);
	resolver_cancel(a);
	resolver_free(r);
	assert_int_equal(f->calls, 1);
}

static void
test_free_pending(void **state)
{
	struct fake *f = *state;
	struct resolver *r = make_resolver(f, 1000);

	assert_non_null(resolver_lookup(r, "silent.test", lookup_cb, f));
	resolver_free(r);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->status, ARES_EDESTRUCTION);
}

static void
raw_cb(void *arg, int status, const uint8_t *resp, size_t len)
{
	struct fake *f = arg;

	f->calls++;
	f->status = status;
	f->rawlen = len < sizeof(f->raw) ? len : sizeof(f->raw);
	if (resp != NULL)
		memcpy(f->raw, resp, f->rawlen);
	loop_stop(f->loop);
}

static void
test_send_raw(void **state)
{
	/* id 0x4242, RD, one question: both.test A IN. */
	static const uint8_t q[] = {
		0x42, 0x42, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		4, 'b', 'o', 't', 'h', 4, 't', 'e', 's', 't', 0,
		0x00, 0x01, 0x00, 0x01,
	};
	struct fake *f = *state;
	struct resolver *r = make_resolver(f, 1000);
	struct dns_response *resp;
	struct ag_addr want;

	assert_non_null(resolver_send(r, q, sizeof(q), raw_cb, f));
	run(f, 1);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->status, ARES_SUCCESS);
	resp = malloc(sizeof(*resp));
	assert_non_null(resp);
	assert_int_equal(dns_parse_response(f->raw, f->rawlen, resp), DNS_OK);
	assert_int_equal(resp->n_answers, 1);
	assert_int_equal(addr_parse("198.19.0.10", &want), 0);
	assert_true(addr_equal(&resp->answers[0].addr, &want));
	/* The id is the client's own. */
	assert_int_equal(f->raw[0], 0x42);
	assert_int_equal(f->raw[1], 0x42);
	free(resp);

	errno = 0;
	assert_null(resolver_send(r, q, 11, raw_cb, f));
	assert_int_equal(errno, EINVAL);
	resolver_free(r);
}

static void
test_no_upstream(void **state)
{
	struct fake *f = *state;
	struct ag_conf c;

	assert_int_equal(conf_init(&c), 0);
	c.dns_upstream_count = 0;
	errno = 0;
	assert_null(resolver_new(f->loop, &c));
	assert_int_equal(errno, EINVAL);
	conf_free(&c);
}

static uint64_t
fake_clock(void *arg)
{
	return ((struct fake *)arg)->now_ms;
}

/* One lookup, run to its callback; returns the queries it sent upstream. */
static unsigned
lookup_once(struct fake *f, struct resolver *r, const char *name)
{
	unsigned before = f->queries;

	f->calls = 0;
	assert_non_null(resolver_lookup(r, name, lookup_cb, f));
	assert_int_equal(f->calls, 0);
	run(f, 1);
	assert_int_equal(f->calls, 1);
	return f->queries - before;
}

static struct resolver *
make_cached(struct fake *f)
{
	struct resolver *r = make_resolver(f, 1000);

	f->now_ms = 1000000;
	resolver_set_clock(r, fake_clock, f);
	return r;
}

/* A hit asks nothing, gives the same addresses with the TTL left. */
static void
test_cache_hit(void **state)
{
	struct fake *f = *state;
	struct resolver *r = make_cached(f);
	struct resolver_stats st;

	assert_int_equal(lookup_once(f, r, "both.test"), 2);
	assert_int_equal(f->n, 2);
	f->now_ms += 20500;		/* 20 whole seconds later */
	assert_int_equal(lookup_once(f, r, "both.test"), 0);
	assert_int_equal(f->status, ARES_SUCCESS);
	assert_int_equal(f->n, 2);
	assert_true(has_answer(f, "198.19.0.10", ZONE_TTL - 20));
	assert_true(has_answer(f, "fd00:a9:ff::10", ZONE_TTL - 20));
	resolver_stats(r, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(resolver_pending(r), 0);
	resolver_free(r);
}

/* Kept until the smallest TTL (A 30 s, AAAA 60 s): asked again at 30 s. */
static void
test_cache_expiry(void **state)
{
	struct fake *f = *state;
	struct resolver *r = make_cached(f);

	assert_int_equal(lookup_once(f, r, "short.test"), 2);
	f->now_ms += 29999;
	assert_int_equal(lookup_once(f, r, "short.test"), 0);
	assert_true(has_answer(f, "198.19.0.13", 1));
	assert_true(has_answer(f, "fd00:a9:ff::13", 31));
	f->now_ms += 1;
	assert_int_equal(lookup_once(f, r, "short.test"), 2);
	assert_true(has_answer(f, "198.19.0.13", 30));
	/* TTL 0 is never kept. */
	assert_int_equal(lookup_once(f, r, "zero.test"), 2);
	assert_int_equal(lookup_once(f, r, "zero.test"), 2);
	assert_int_equal(f->status, ARES_SUCCESS);
	resolver_free(r);
}

/* NXDOMAIN and no-address kept RESOLVE_CACHE_NEGATIVE_TTL; failures not. */
static void
test_cache_negative(void **state)
{
	static const struct {
		const char	*name;
		int		 status;
		bool		 kept;
	} cases[] = {
		{ "nx.test",    ARES_ENOTFOUND,    true },
		{ "empty.test", ARES_ENODATA,      true },
		/* REFUSED: c-ares tries twice, then the next lookup asks again. */
		{ "nodot",      ARES_ECONNREFUSED, false },
	};
	struct fake *f = *state;
	struct resolver *r = make_cached(f);
	unsigned first;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		first = lookup_once(f, r, cases[i].name);
		assert_true(first >= 2);
		assert_int_equal(f->status, cases[i].status);
		assert_int_equal(lookup_once(f, r, cases[i].name),
		    cases[i].kept ? 0 : first);
		assert_int_equal(f->status, cases[i].status);
		assert_int_equal(f->n, 0);
	}
	f->now_ms += RESOLVE_CACHE_NEGATIVE_TTL * 1000;
	assert_int_equal(lookup_once(f, r, "nx.test"), 2);
	assert_int_equal(f->status, ARES_ENOTFOUND);
	resolver_free(r);
}

/* Past RESOLVE_CACHE_MAX names the least recently used one goes. */
static void
test_cache_lru(void **state)
{
	struct fake *f = *state;
	struct resolver *r = make_cached(f);
	struct resolver_stats st;
	char name[32];
	size_t i;

	for (i = 0; i < RESOLVE_CACHE_MAX; i++) {
		snprintf(name, sizeof(name), "g%zu.test", i);
		assert_int_equal(lookup_once(f, r, name), 2);
	}
	/* g0 used again: g1 is now the oldest. */
	assert_int_equal(lookup_once(f, r, "g0.test"), 0);
	assert_int_equal(lookup_once(f, r, "both.test"), 2);
	resolver_stats(r, &st);
	assert_int_equal(st.entries, RESOLVE_CACHE_MAX);
	assert_int_equal(lookup_once(f, r, "g0.test"), 0);
	assert_int_equal(lookup_once(f, r, "g2.test"), 0);
	assert_int_equal(lookup_once(f, r, "g1.test"), 2);
	resolver_free(r);
}

/* A flush forgets, and a lookup in flight across it does not refill. */
static void
test_cache_flush(void **state)
{
	struct fake *f = *state;
	struct resolver *r = make_cached(f);
	struct resolver_stats st;

	assert_int_equal(lookup_once(f, r, "both.test"), 2);
	resolver_flush(r);
	resolver_stats(r, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(lookup_once(f, r, "both.test"), 2);

	f->calls = 0;
	resolver_flush(r);
	assert_non_null(resolver_lookup(r, "v4only.test", lookup_cb, f));
	resolver_flush(r);
	run(f, 1);
	assert_int_equal(f->status, ARES_SUCCESS);
	resolver_stats(r, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(lookup_once(f, r, "v4only.test"), 2);
	resolver_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_upstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_negative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_flush, setup, teardown),
	};

	return cmocka_run_group_tests_name("resolve", tests, NULL, NULL);
}
