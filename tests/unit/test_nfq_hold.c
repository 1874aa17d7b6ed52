/*
 * nfq hold table: a real ClientHello (tests/data/tls) and request heads fed
 * as TCP segments in order, out of order, retransmitted and around sequence
 * number wrap; what the held bytes say at each step; the packet, byte, flow
 * and time bounds; the ids answered in the order they came.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hold.h"

static uint8_t *
load(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	uint8_t *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/tls/%s.bin",
	    top != NULL ? top : "..", name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (set top_srcdir)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct flow_key
key(uint16_t sport)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	assert_int_equal(addr_parse("198.18.1.2", &k.src), 0);
	assert_int_equal(addr_parse("198.19.0.2", &k.dst), 0);
	k.proto = IPPROTO_TCP;
	k.sport = sport;
	k.dport = 443;
	return k;
}

/* A segment of `data` from offset off, n bytes, for a flow whose SYN had
 * sequence number syn. */
static struct packet
seg(uint32_t syn, const uint8_t *data, size_t off, size_t n)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	p.proto = IPPROTO_TCP;
	p.transport = true;
	p.tcp_flags = TH_ACK | TH_PUSH;
	p.tcp_seq = syn + 1 + (uint32_t)off;
	p.payload = data + off;
	p.payload_len = n;
	return p;
}

static void
test_table(void **state)
{
	struct hold_table *ht = hold_table_new(2, 42);
	struct flow_key k1 = key(1), k2 = key(2), k3 = key(3);
	struct hold_flow *f1, *f2;

	(void)state;
	assert_non_null(ht);
	assert_null(hold_lookup(ht, &k1));
	f1 = hold_insert(ht, &k1, 1000, 0);
	assert_non_null(f1);
	assert_int_equal(f1->state, HOLD_SYN);
	assert_int_equal(f1->isn, 1001);
	/* A retransmitted SYN: the same flow. */
	assert_ptr_equal(hold_insert(ht, &k1, 1000, 5), f1);
	assert_int_equal(f1->seen_ms, 5);
	f2 = hold_insert(ht, &k2, 7, 0);
	assert_non_null(f2);
	assert_int_equal(hold_count(ht), 2);
	/* Full: fail closed. */
	errno = 0;
	assert_null(hold_insert(ht, &k3, 9, 0));
	assert_int_equal(errno, ENOSPC);
	assert_ptr_equal(hold_lookup(ht, &k2), f2);
	hold_remove(ht, f1);
	assert_null(hold_lookup(ht, &k1));
	assert_ptr_equal(hold_lookup(ht, &k2), f2);
	assert_non_null(hold_insert(ht, &k3, 9, 0));
	assert_int_equal(hold_count(ht), 2);
	hold_table_free(ht);
	errno = 0;
	assert_null(hold_table_new(0, 1));
	assert_int_equal(errno, EINVAL);
}

/*
 * A ClientHello cut into segments at every boundary listed, sent in the
 * order given (indexes into the cuts), with a retransmission and bytes
 * from before the first payload byte. NEED_MORE until the last gap fills.
 */
static void
test_split_hello(void **state)
{
	static const struct {
		uint32_t	syn;
		size_t		cuts[6];	/* segment starts after 0; 0 ends */
		size_t		order[8];	/* segment numbers; 99 ends */
	} t[] = {
		{ 1000, { 3, 100, 200, 0 }, { 0, 1, 2, 3, 99 } },
		{ 1000, { 1, 0 }, { 1, 0, 99 } },			/* reordered */
		{ 0xfffffff0u, { 5, 40, 0 }, { 0, 1, 1, 2, 99 } },	/* wrap, retransmit */
		{ 77, { 10, 300, 0 }, { 2, 1, 0, 99 } },		/* backwards */
	};
	struct hold_table *ht = hold_table_new(8, 1);
	struct hold_hello h;
	struct hold_flow *f;
	struct flow_key k = key(4000);
	struct packet p;
	size_t len, i, j, s, nseg, starts[8], ends[8], sent;
	uint8_t *hello = load("curl_default", &len);
	uint8_t junk[20];

	(void)state;
	memset(junk, 0x16, sizeof(junk));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		nseg = 0;
		starts[nseg++] = 0;
		for (j = 0; t[i].cuts[j] != 0; j++)
			starts[nseg++] = t[i].cuts[j];
		for (s = 0; s < nseg; s++)
			ends[s] = s + 1 < nseg ? starts[s + 1] : len;
		f = hold_insert(ht, &k, t[i].syn, 0);
		assert_non_null(f);
		/* Bytes before the payload (a stray retransmitted SYN's
		 * worth of sequence space) are ignored. */
		p = seg(t[i].syn, junk, 0, sizeof(junk));
		p.tcp_seq = t[i].syn - 19;
		assert_int_equal(hold_add(f, 100, false, &p, 1), 0);
		assert_int_equal(hold_examine(f, &h), HOLD_NEED_MORE);
		sent = 0;
		for (j = 0; t[i].order[j] != 99; j++) {
			s = t[i].order[j];
			p = seg(t[i].syn, hello, starts[s], ends[s] - starts[s]);
			assert_int_equal(hold_add(f, (uint32_t)(101 + j), true,
			    &p, 2), 0);
			sent |= (size_t)1 << s;
			if (sent != ((size_t)1 << nseg) - 1)
				assert_int_equal(hold_examine(f, &h),
				    HOLD_NEED_MORE);
		}
		if (hold_examine(f, &h) != HOLD_NAMED)
			fail_msg("case %zu: %s", i,
			    hold_result_name(hold_examine(f, &h)));
		assert_int_equal(h.kind, HOLD_KIND_TLS);
		assert_string_equal(h.host, "x.allowed.test");
		assert_int_equal(h.host_len, 14);
		assert_int_equal(f->contig, len);
		/* Every packet held, in arrival order. */
		assert_int_equal(f->npkts, j + 1);
		assert_int_equal(f->pkts[0].id, 100);
		assert_false(f->pkts[0].ct);
		assert_int_equal(f->pkts[j].id, 100 + j);
		assert_true(f->pkts[j].ct);
		hold_remove(ht, f);
	}
	free(hello);
	hold_table_free(ht);
}

/* What complete first payloads say. */
static void
test_kinds(void **state)
{
	static const struct {
		const char	*data;
		int		 result;
		int		 kind;
		const char	*host;
		const char	*method;
	} t[] = {
		{ "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n", HOLD_NAMED,
		    HOLD_KIND_HTTP, "allowed.test", "GET" },
		{ "POST /x HTTP/1.1\r\nHost: Other.Test:8080\r\nContent-Length: 3\r\n\r\nabc",
		    HOLD_NAMED, HOLD_KIND_HTTP, "Other.Test", "POST" },
		{ "GET / HTTP/1.0\r\n\r\n", HOLD_UNNAMED, HOLD_KIND_HTTP, "", "GET" },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HOLD_INVALID,
		    HOLD_KIND_HTTP, "", "" },
		{ "SSH-2.0-OpenSSH_9.2\r\n", HOLD_UNNAMED, HOLD_KIND_OTHER, "", "" },
		{ "GET / HTTP/1.1\r\nHost: allowed.test\r\n", HOLD_NEED_MORE,
		    HOLD_KIND_HTTP, "", "" },
	};
	struct hold_table *ht = hold_table_new(1, 1);
	struct flow_key k = key(5);
	struct hold_hello h;
	struct hold_flow *f;
	struct packet p;
	uint8_t *hello;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		f = hold_insert(ht, &k, 5, 0);
		p = seg(5, (const uint8_t *)t[i].data, 0, strlen(t[i].data));
		assert_int_equal(hold_add(f, 1, false, &p, 0), 0);
		if ((int)hold_examine(f, &h) != t[i].result)
			fail_msg("case %zu: %s", i,
			    hold_result_name(hold_examine(f, &h)));
		assert_int_equal(h.kind, t[i].kind);
		assert_string_equal(h.host, t[i].host);
		assert_string_equal(h.method, t[i].method);
		if (t[i].result == HOLD_INVALID)
			assert_non_null(h.error);
		hold_remove(ht, f);
	}
	/* TLS without SNI; a malformed hello. */
	hello = load("openssl_no_sni", &len);
	f = hold_insert(ht, &k, 5, 0);
	p = seg(5, hello, 0, len);
	assert_int_equal(hold_add(f, 1, false, &p, 0), 0);
	assert_int_equal(hold_examine(f, &h), HOLD_UNNAMED);
	assert_int_equal(h.kind, HOLD_KIND_TLS);
	assert_int_equal(h.host_len, 0);
	hold_remove(ht, f);
	free(hello);
	hello = load("bad_duplicate_sni_ext", &len);
	f = hold_insert(ht, &k, 5, 0);
	p = seg(5, hello, 0, len);
	assert_int_equal(hold_add(f, 1, false, &p, 0), 0);
	assert_int_equal(hold_examine(f, &h), HOLD_INVALID);
	assert_int_equal(h.kind, HOLD_KIND_TLS);
	hold_remove(ht, f);
	free(hello);
	hold_table_free(ht);
}

/* Past the packet or byte bound, an unfinished hello is incomplete. */
static void
test_bounds(void **state)
{
	struct hold_table *ht = hold_table_new(1, 1);
	struct flow_key k = key(6);
	struct hold_hello h;
	struct hold_flow *f;
	struct packet p;
	uint8_t *hello, *big;
	size_t i, len;

	(void)state;
	/* The first byte of a hello, retransmitted until the bound. */
	hello = load("curl_default", &len);
	f = hold_insert(ht, &k, 9, 0);
	p = seg(9, hello, 0, 1);
	for (i = 0; i < HOLD_PACKETS_MAX; i++)
		assert_int_equal(hold_add(f, (uint32_t)i, false, &p, 0), 0);
	assert_int_equal(hold_examine(f, &h), HOLD_NEED_MORE);
	errno = 0;
	assert_int_equal(hold_add(f, 99, false, &p, 0), -1);
	assert_int_equal(errno, ENOSPC);
	assert_true(f->overflow);
	assert_int_equal(f->npkts, HOLD_PACKETS_MAX);
	assert_int_equal(hold_examine(f, &h), HOLD_INCOMPLETE);
	hold_remove(ht, f);
	free(hello);

	/* A request head that does not end within HOLD_BYTES_MAX. */
	big = malloc(HOLD_BYTES_MAX + 100);
	assert_non_null(big);
	memset(big, 'a', HOLD_BYTES_MAX + 100);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	f = hold_insert(ht, &k, 9, 0);
	p = seg(9, big, 0, 4000);
	assert_int_equal(hold_add(f, 1, false, &p, 0), 0);
	assert_int_equal(hold_examine(f, &h), HOLD_NEED_MORE);
	p = seg(9, big, 4000, HOLD_BYTES_MAX + 100 - 4000);
	assert_int_equal(hold_add(f, 2, false, &p, 0), 0);
	assert_int_equal(f->contig, HOLD_BYTES_MAX);
	assert_int_equal(hold_examine(f, &h), HOLD_INCOMPLETE);
	assert_int_equal(h.kind, HOLD_KIND_HTTP);
	hold_remove(ht, f);
	free(big);
	hold_table_free(ht);
}

struct expired {
	size_t		n;
	uint32_t	first_id;
};

static void
on_expired(void *arg, struct hold_flow *f)
{
	struct expired *e = arg;

	e->n++;
	e->first_id = f->pkts[0].id;
}

/* The hold timer from the first held packet; silent idle SYN flows. */
static void
test_expire(void **state)
{
	struct hold_table *ht = hold_table_new(4, 1);
	struct flow_key k1 = key(1), k2 = key(2), k3 = key(3);
	struct expired e = { 0, 0 };
	struct hold_flow *f;
	struct packet p;

	(void)state;
	/* k1 holds from t=1000; k2 only had its SYN at t=0; k3 holds from
	 * t=2500. */
	f = hold_insert(ht, &k1, 1, 0);
	p = seg(1, (const uint8_t *)"\x16\x03\x01", 0, 3);
	assert_int_equal(hold_add(f, 11, false, &p, 1000), 0);
	assert_non_null(hold_insert(ht, &k2, 1, 0));
	f = hold_insert(ht, &k3, 1, 0);
	assert_int_equal(hold_add(f, 33, false, &p, 2500), 0);

	assert_int_equal(hold_expire(ht, 1000 + HOLD_TIME_MS - 1, on_expired,
	    &e), 0);
	assert_int_equal(hold_expire(ht, 1000 + HOLD_TIME_MS, on_expired, &e),
	    1);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.first_id, 11);
	assert_null(hold_lookup(ht, &k1));
	assert_non_null(hold_lookup(ht, &k2));
	/* k2's SYN goes silently once idle; k3 expires with its packet. */
	assert_int_equal(hold_expire(ht, HOLD_SYN_IDLE_MS, on_expired, &e), 2);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.first_id, 33);
	assert_int_equal(hold_count(ht), 0);
	hold_table_free(ht);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_split_hello),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_expire),
	};

	return cmocka_run_group_tests_name("nfq_hold", tests, NULL, NULL);
}
