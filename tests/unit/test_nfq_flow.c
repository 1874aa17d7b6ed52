/*
 * nfq flow table: verdicts found again by 5-tuple and only by it, idle
 * flows evicted oldest first, a full table of live flows refusing inserts
 * (the caller then fails closed), a seed that makes every key collide.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow.h"

static void
key_make(struct flow_key *k, const char *src, const char *dst,
    uint8_t proto, uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	assert_int_equal(addr_parse(src, &k->src), 0);
	assert_int_equal(addr_parse(dst, &k->dst), 0);
	k->proto = proto;
	k->sport = sport;
	k->dport = dport;
}

static void
test_lookup_by_tuple(void **state)
{
	struct flow_table *ft;
	struct flow_key k, o;

	(void)state;
	assert_non_null(ft = flow_table_new(8, 1000, 1));
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 40000, 7);
	assert_int_equal(flow_lookup(ft, &k, 0), 0);
	assert_int_equal(flow_insert(ft, &k, FLOW_ACCEPT, 0), 0);
	assert_int_equal(flow_lookup(ft, &k, 10), FLOW_ACCEPT);

	/* Each field changed alone is another flow. */
	o = k; o.sport = 40001;
	assert_int_equal(flow_lookup(ft, &o, 10), 0);
	o = k; o.dport = 8;
	assert_int_equal(flow_lookup(ft, &o, 10), 0);
	o = k; o.proto = IPPROTO_TCP;
	assert_int_equal(flow_lookup(ft, &o, 10), 0);
	key_make(&o, "198.18.0.3", "198.19.0.2", IPPROTO_UDP, 40000, 7);
	assert_int_equal(flow_lookup(ft, &o, 10), 0);
	key_make(&o, "198.18.0.2", "198.19.0.66", IPPROTO_UDP, 40000, 7);
	assert_int_equal(flow_lookup(ft, &o, 10), 0);
	key_make(&o, "fd00:a6e0::2", "fd00:1::2", IPPROTO_UDP, 40000, 7);
	assert_int_equal(flow_lookup(ft, &o, 10), 0);
	assert_int_equal(flow_insert(ft, &o, FLOW_REJECT, 10), 0);
	assert_int_equal(flow_lookup(ft, &o, 11), FLOW_REJECT);
	assert_int_equal(flow_lookup(ft, &k, 11), FLOW_ACCEPT);

	/* Insert again replaces. */
	assert_int_equal(flow_insert(ft, &k, FLOW_DROP, 12), 0);
	assert_int_equal(flow_lookup(ft, &k, 13), FLOW_DROP);
	flow_table_free(ft);
}

static void
test_idle_eviction(void **state)
{
	struct flow_table *ft;
	struct flow_key k[3];
	struct flow_stats st;

	(void)state;
	assert_non_null(ft = flow_table_new(8, 100, 2));
	key_make(&k[0], "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 1, 7);
	key_make(&k[1], "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 2, 7);
	key_make(&k[2], "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 3, 7);
	assert_int_equal(flow_insert(ft, &k[0], FLOW_ACCEPT, 0), 0);
	assert_int_equal(flow_insert(ft, &k[1], FLOW_ACCEPT, 50), 0);
	assert_int_equal(flow_insert(ft, &k[2], FLOW_ACCEPT, 60), 0);
	/* k[0] seen at 90: its clock restarts. */
	assert_int_equal(flow_lookup(ft, &k[0], 90), FLOW_ACCEPT);
	/* At 155, k[1] (last 50) is idle, k[2] (60) and k[0] (90) not. */
	assert_int_equal(flow_expire(ft, 155), 1);
	assert_int_equal(flow_lookup(ft, &k[1], 155), 0);
	assert_int_equal(flow_lookup(ft, &k[2], 155), FLOW_ACCEPT);
	/* A lookup of an idle flow misses and removes it. */
	assert_int_equal(flow_lookup(ft, &k[0], 190), 0);
	flow_stats(ft, &st);
	assert_int_equal(st.count, 1);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(st.inserted, 3);
	flow_clear(ft);
	assert_int_equal(flow_lookup(ft, &k[2], 191), 0);
	flow_stats(ft, &st);
	assert_int_equal(st.count, 0);
	flow_table_free(ft);
}

static void
test_cap(void **state)
{
	struct flow_table *ft;
	struct flow_key k;
	struct flow_stats st;
	uint16_t i;

	(void)state;
	assert_non_null(ft = flow_table_new(4, 100, 3));
	for (i = 0; i < 4; i++) {
		key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, i, 7);
		assert_int_equal(flow_insert(ft, &k, FLOW_ACCEPT, 10 * i), 0);
	}
	/* Full of live flows: refused. */
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 99, 7);
	errno = 0;
	assert_int_equal(flow_insert(ft, &k, FLOW_ACCEPT, 50), -1);
	assert_int_equal(errno, ENOSPC);
	flow_stats(ft, &st);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.count, 4);
	/* At 105 the first (last seen 0) is idle and makes room; only it. */
	assert_int_equal(flow_insert(ft, &k, FLOW_ACCEPT, 105), 0);
	assert_int_equal(flow_lookup(ft, &k, 105), FLOW_ACCEPT);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 0, 7);
	assert_int_equal(flow_lookup(ft, &k, 105), 0);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 1, 7);
	assert_int_equal(flow_lookup(ft, &k, 105), FLOW_ACCEPT);
	flow_table_free(ft);

	errno = 0;
	assert_null(flow_table_new(0, 100, 0));
	assert_int_equal(errno, EINVAL);
}

/* Many flows, many removals: every live flow stays findable. */
/* A full table recycles its least recently used refused flow, never an
 * accepted one, and a verdict changed in place moves the entry between the
 * two use lists. */
static void
test_recycle_refused(void **state)
{
	struct flow_table *ft;
	struct flow_key k;
	struct flow_stats st;
	uint16_t i;

	(void)state;
	assert_non_null(ft = flow_table_new(4, 1000, 5));
	/* Ports 0 and 2 accepted, 1 and 3 refused, in that order of use. */
	for (i = 0; i < 4; i++) {
		key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, i, 7);
		assert_int_equal(flow_insert(ft, &k, i % 2 ? (i == 1 ?
		    FLOW_DROP : FLOW_REJECT) : FLOW_ACCEPT, 10 * i), 0);
	}
	/* Port 1 used again: port 3 is now the oldest refused flow. */
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 1, 7);
	assert_int_equal(flow_lookup(ft, &k, 40), FLOW_DROP);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 50, 7);
	assert_int_equal(flow_insert(ft, &k, FLOW_DROP, 50), 0);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 3, 7);
	assert_int_equal(flow_lookup(ft, &k, 50), 0);
	/* Then port 1, then port 50: refused flows go, oldest first. */
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 51, 7);
	assert_int_equal(flow_insert(ft, &k, FLOW_ACCEPT, 60), 0);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 1, 7);
	assert_int_equal(flow_lookup(ft, &k, 60), 0);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 52, 7);
	assert_int_equal(flow_insert(ft, &k, FLOW_ACCEPT, 70), 0);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 50, 7);
	assert_int_equal(flow_lookup(ft, &k, 70), 0);
	/* Only accepted flows now (0, 2, 51, 52): a new one is refused and
	 * every accepted flow is still there. */
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 53, 7);
	errno = 0;
	assert_int_equal(flow_insert(ft, &k, FLOW_DROP, 80), -1);
	assert_int_equal(errno, ENOSPC);
	for (i = 0; i < 4; i++) {
		static const uint16_t ports[] = { 0, 2, 51, 52 };

		key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP,
		    ports[i], 7);
		assert_int_equal(flow_lookup(ft, &k, 90), FLOW_ACCEPT);
	}
	/* Port 0 turned into a refusal in place: it is the one recycled. */
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 0, 7);
	assert_int_equal(flow_insert(ft, &k, FLOW_REJECT, 100), 0);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 53, 7);
	assert_int_equal(flow_insert(ft, &k, FLOW_ACCEPT, 110), 0);
	key_make(&k, "198.18.0.2", "198.19.0.2", IPPROTO_UDP, 0, 7);
	assert_int_equal(flow_lookup(ft, &k, 110), 0);
	flow_stats(ft, &st);
	assert_int_equal(st.recycled, 4);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.count, 4);
	flow_table_free(ft);
}

static void
test_churn(void **state)
{
	struct flow_table *ft;
	struct flow_key k;
	struct flow_stats st;
	unsigned i;

	(void)state;
	assert_non_null(ft = flow_table_new(1000, 10, 4));
	for (i = 0; i < 5000; i++) {
		key_make(&k, "198.18.0.2", "fd00::1", IPPROTO_UDP,
		    (uint16_t)i, 7);
		k.dst.family = AF_INET6;
		assert_int_equal(flow_insert(ft, &k, FLOW_ACCEPT, i), 0);
	}
	flow_stats(ft, &st);
	assert_true(st.count <= 1000);
	/* The last 10 (ms 4990..4999) are live at 4999. */
	for (i = 4990; i < 5000; i++) {
		key_make(&k, "198.18.0.2", "fd00::1", IPPROTO_UDP,
		    (uint16_t)i, 7);
		k.dst.family = AF_INET6;
		assert_int_equal(flow_lookup(ft, &k, 4999), FLOW_ACCEPT);
	}
	flow_table_free(ft);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_by_tuple),
		cmocka_unit_test(test_idle_eviction),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_recycle_refused),
		cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests_name("nfq_flow", tests, NULL, NULL);
}
