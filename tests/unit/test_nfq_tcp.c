/*
 * nfq packet-only TCP judging: the SYN by address rule or learned binding,
 * then the first payload's name against one policy written out below, with
 * the name-to-address binding it must have; and DNS answers over TCP (the
 * forwarder's segments) teaching those bindings.
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "judge.h"
#include "nfq_fixture.h"

static const char policy_text[] =
	"allow allowed.test\n"			/* line 1: tcp 80,443 */
	"deny denied.test\n"			/* line 2 */
	"allow 198.19.0.50 port 443\n"		/* line 3 */
	"allow *.wild.test port 8443\n";	/* line 4 */

static void
learn(struct bindings *b, const char *name, const char *addr)
{
	struct ag_addr a;

	assert_int_equal(addr_parse(addr, &a), 0);
	assert_int_equal(bindings_add(b, "t1", name, &a, 60, 0), 0);
}

static int
setup(void **state)
{
	static struct nfq_fixture f;

	if (nfq_fixture_init(&f, policy_text) == -1)
		return -1;
	/* What DNS told t1 (TTL 60 s from t=0). */
	learn(f.b, "allowed.test", "198.19.0.2");
	learn(f.b, "allowed.test", "fd00:1::2");
	learn(f.b, "other.test", "198.19.0.66");
	learn(f.b, "denied.test", "198.19.0.2");
	learn(f.b, "a.wild.test", "198.19.0.7");
	*state = &f;
	return 0;
}

static struct packet
tcp(const char *dst, uint16_t dport, uint8_t flags)
{
	return nfq_fixture_packet(dst, IPPROTO_TCP, dport, flags);
}

/* The SYN: a learned address for an allowed name, or an address rule. */
static void
test_syn(void **state)
{
	struct nfq_fixture *f = *state;
	static const struct {
		const char	*dst;
		uint16_t	 dport;
		uint8_t		 flags;
		int		 verdict;
		int		 reason;
		unsigned	 line;
	} t[] = {
		{ "198.19.0.2", 443, TH_SYN, FLOW_ACCEPT, JUDGE_POLICY, 1 },
		{ "fd00:1::2", 80, TH_SYN, FLOW_ACCEPT, JUDGE_POLICY, 1 },
		{ "198.19.0.50", 443, TH_SYN, FLOW_ACCEPT, JUDGE_POLICY, 3 },
		{ "198.19.0.7", 8443, TH_SYN, FLOW_ACCEPT, JUDGE_POLICY, 4 },
		/* Learned, but only for a name no rule allows. */
		{ "198.19.0.66", 443, TH_SYN, FLOW_REJECT, JUDGE_POLICY, 0 },
		/* Never learned. */
		{ "198.19.0.99", 443, TH_SYN, FLOW_REJECT, JUDGE_POLICY, 0 },
		{ "198.19.0.50", 80, TH_SYN, FLOW_REJECT, JUDGE_POLICY, 0 },
		/* Not the start of a flow. */
		{ "198.19.0.2", 443, TH_ACK, FLOW_DROP, JUDGE_TCP_NO_SYN, 0 },
		{ "198.19.0.2", 443, TH_SYN | TH_ACK, FLOW_DROP, JUDGE_TCP_NO_SYN, 0 },
		{ "198.19.0.2", 443, TH_RST, FLOW_DROP, JUDGE_TCP_NO_SYN, 0 },
		{ "198.19.0.2", 443, TH_ACK | TH_PUSH, FLOW_DROP, JUDGE_TCP_NO_SYN, 0 },
		/* DNS over TLS is never a flow of its own. */
		{ "198.19.0.2", 853, TH_SYN, FLOW_DROP, JUDGE_DNS, 0 },
	};
	struct judge_env env = { f->b, true, 5353, true };
	struct judge_decision d;
	struct packet p;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p = tcp(t[i].dst, t[i].dport, t[i].flags);
		judge_packet(&env, &p, &f->task, f->pol, 1000, &d);
		if ((int)d.verdict != t[i].verdict ||
		    (int)d.reason != t[i].reason ||
		    (t[i].line == 0 ? d.pv.rule != NULL :
		    d.pv.rule == NULL || policy_rule_line(d.pv.rule) != t[i].line))
			fail_msg("case %zu (%s:%u flags %#x): verdict %d "
			    "reason %s", i, t[i].dst, t[i].dport, t[i].flags,
			    d.verdict, judge_reason_name(d.reason));
	}
	/* A SYN with data (TCP Fast Open) would deliver it unjudged. */
	p = tcp("198.19.0.2", 443, TH_SYN);
	p.payload = (const uint8_t *)"\x16\x03\x01";
	p.payload_len = 3;
	judge_packet(&env, &p, &f->task, f->pol, 1000, &d);
	assert_int_equal(d.verdict, FLOW_DROP);
	assert_int_equal(d.reason, JUDGE_SYN_DATA);
	/* In proxy mode a non-SYN is judged like any packet (TCP never
	 * reaches the queue there but for the gateway's own). */
	env.packet_only = false;
	p = tcp("198.19.0.50", 443, TH_ACK);
	judge_packet(&env, &p, &f->task, f->pol, 1000, &d);
	assert_int_equal(d.verdict, FLOW_ACCEPT);
}

/* The first payload's name, its rule and its binding. */
static void
test_hello(void **state)
{
	struct nfq_fixture *f = *state;
	static const struct {
		const char	*dst;
		uint16_t	 dport;
		int		 result;	/* enum hold_result */
		const char	*host;		/* NULL: none */
		int		 verdict;
		int		 reason;
		unsigned	 line;
		const char	*name;		/* d->name */
	} t[] = {
		{ "198.19.0.2", 443, HOLD_NAMED, "allowed.test",
		    FLOW_ACCEPT, JUDGE_POLICY, 1, "allowed.test" },
		{ "fd00:1::2", 80, HOLD_NAMED, "ALLOWED.test.",
		    FLOW_ACCEPT, JUDGE_POLICY, 1, "allowed.test" },
		{ "198.19.0.7", 8443, HOLD_NAMED, "a.wild.test",
		    FLOW_ACCEPT, JUDGE_POLICY, 4, "a.wild.test" },
		/* Allowed name, another name's address. */
		{ "198.19.0.66", 443, HOLD_NAMED, "allowed.test",
		    FLOW_REJECT, JUDGE_NOT_BOUND, 1, "allowed.test" },
		/* Allowed name, address rule's address, no binding: the name
		 * rule comes first, so the binding is needed. */
		{ "198.19.0.50", 443, HOLD_NAMED, "allowed.test",
		    FLOW_REJECT, JUDGE_NOT_BOUND, 1, "allowed.test" },
		/* Bound, but its rule denies; no rule at all. */
		{ "198.19.0.2", 443, HOLD_NAMED, "denied.test",
		    FLOW_REJECT, JUDGE_POLICY, 2, "denied.test" },
		{ "198.19.0.2", 443, HOLD_NAMED, "other.test",
		    FLOW_REJECT, JUDGE_POLICY, 0, "other.test" },
		/* Right name, wrong port. */
		{ "198.19.0.2", 8443, HOLD_NAMED, "allowed.test",
		    FLOW_REJECT, JUDGE_POLICY, 0, "allowed.test" },
		/* The address rule allows whatever name no earlier rule
		 * takes; a deny rule for the name comes before it. */
		{ "198.19.0.50", 443, HOLD_NAMED, "other.test",
		    FLOW_ACCEPT, JUDGE_POLICY, 3, "other.test" },
		{ "198.19.0.50", 443, HOLD_NAMED, "denied.test",
		    FLOW_REJECT, JUDGE_POLICY, 2, "denied.test" },
		/* No name: only an address rule allows. */
		{ "198.19.0.50", 443, HOLD_UNNAMED, NULL,
		    FLOW_ACCEPT, JUDGE_POLICY, 3, "" },
		{ "198.19.0.2", 443, HOLD_UNNAMED, NULL,
		    FLOW_REJECT, JUDGE_NO_NAME, 0, "" },
		/* An IP literal names no server. */
		{ "198.19.0.50", 443, HOLD_NAMED, "198.19.0.50",
		    FLOW_ACCEPT, JUDGE_POLICY, 3, "" },
		{ "198.19.0.2", 443, HOLD_NAMED, "198.19.0.2",
		    FLOW_REJECT, JUDGE_NO_NAME, 0, "" },
		/* Invalid names and hellos. */
		{ "198.19.0.2", 443, HOLD_NAMED, "allowed test",
		    FLOW_REJECT, JUDGE_BAD_NAME, 0, "" },
		{ "198.19.0.2", 443, HOLD_NAMED, "a..test",
		    FLOW_REJECT, JUDGE_BAD_NAME, 0, "" },
		{ "198.19.0.50", 443, HOLD_INVALID, NULL,
		    FLOW_REJECT, JUDGE_HELLO_INVALID, 0, "" },
		{ "198.19.0.50", 443, HOLD_INCOMPLETE, NULL,
		    FLOW_REJECT, JUDGE_HELLO_INCOMPLETE, 0, "" },
	};
	struct judge_env env = { f->b, true, 5353, true };
	struct judge_decision d;
	struct hold_hello h;
	struct packet p;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p = tcp(t[i].dst, t[i].dport, TH_ACK | TH_PUSH);
		memset(&h, 0, sizeof(h));
		h.kind = HOLD_KIND_TLS;
		if (t[i].host != NULL) {
			snprintf(h.host, sizeof(h.host), "%s", t[i].host);
			h.host_len = strlen(t[i].host);
		}
		judge_tcp_hello(&env, &p, &f->task, f->pol, t[i].result, &h,
		    1000, &d);
		if ((int)d.verdict != t[i].verdict ||
		    (int)d.reason != t[i].reason ||
		    strcmp(d.name, t[i].name) != 0 ||
		    (t[i].line == 0 ? d.pv.rule != NULL :
		    d.pv.rule == NULL || policy_rule_line(d.pv.rule) != t[i].line))
			fail_msg("case %zu (%s:%u %s): verdict %d reason %s "
			    "name '%s'", i, t[i].dst, t[i].dport,
			    t[i].host ? t[i].host : "-", d.verdict,
			    judge_reason_name(d.reason), d.name);
	}

	p = tcp("198.19.0.2", 443, TH_ACK);
	h.kind = HOLD_KIND_HTTP;
	snprintf(h.host, sizeof(h.host), "allowed.test");
	h.host_len = strlen(h.host);
	/* Once the binding expired (TTL 60 s), the name is not bound. */
	judge_tcp_hello(&env, &p, &f->task, f->pol, HOLD_NAMED, &h, 61000, &d);
	assert_int_equal(d.verdict, FLOW_REJECT);
	assert_int_equal(d.reason, JUDGE_NOT_BOUND);
	/* Without reject, denied TCP is dropped. */
	env.reject = false;
	judge_tcp_hello(&env, &p, &f->task, f->pol, HOLD_NAMED, &h, 61000, &d);
	assert_int_equal(d.verdict, FLOW_DROP);
	/* No task, no policy. */
	judge_tcp_hello(&env, &p, NULL, f->pol, HOLD_NAMED, &h, 1000, &d);
	assert_int_equal(d.reason, JUDGE_UNKNOWN_SOURCE);
	judge_tcp_hello(&env, &p, &f->task, NULL, HOLD_NAMED, &h, 1000, &d);
	assert_int_equal(d.reason, JUDGE_NO_POLICY);
	assert_int_equal(d.verdict, FLOW_DROP);
}

/* A question for NAME (one label pair) type A, id `id`. */
static size_t
query(uint8_t *q, uint16_t id, const char *l1, const char *l2)
{
	size_t n = 0, a = strlen(l1), b = strlen(l2);

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 1;
	q[5] = 1;
	n = 12;
	q[n++] = (uint8_t)a;
	memcpy(q + n, l1, a);
	n += a;
	q[n++] = (uint8_t)b;
	memcpy(q + n, l2, b);
	n += b;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 1;
	q[n++] = 0;
	q[n++] = 1;
	return n;
}

/*
 * The forwarder's TCP segments: each message after its two-byte length;
 * the whole ones at a segment's start are learned, a cut one is not, and
 * a segment that starts inside a message teaches nothing.
 */
static void
test_dns_tcp(void **state)
{
	static struct dns_response scratch;
	struct nfq_fixture *f = *state;
	struct judge_env env = { f->b, true, 5353, true };
	struct ag_addr a1, a2, a3;
	uint8_t q[64], seg[1024];
	char names[4][CANON_NAME_MAX + 1];
	size_t qn, off = 0;
	ssize_t n;
	struct packet p;

	assert_int_equal(addr_parse("198.19.1.1", &a1), 0);
	assert_int_equal(addr_parse("fd00:1::11", &a2), 0);
	assert_int_equal(addr_parse("198.19.1.3", &a3), 0);
	/* one.test A 198.19.1.1, then two.test with an IPv6 answer, then
	 * three.test cut short. */
	qn = query(q, 1, "one", "test");
	n = dns_build_answer(q, qn, &a1, 1, 300, seg + off + 2,
	    sizeof(seg) - off - 2);
	assert_true(n > 0);
	seg[off] = (uint8_t)(n >> 8);
	seg[off + 1] = (uint8_t)n;
	off += 2 + (size_t)n;
	qn = query(q, 2, "two", "test");
	q[qn - 3] = 28;		/* AAAA */
	n = dns_build_answer(q, qn, &a2, 1, 300, seg + off + 2,
	    sizeof(seg) - off - 2);
	assert_true(n > 0);
	seg[off] = (uint8_t)(n >> 8);
	seg[off + 1] = (uint8_t)n;
	off += 2 + (size_t)n;
	qn = query(q, 3, "three", "test");
	n = dns_build_answer(q, qn, &a3, 1, 300, seg + off + 2,
	    sizeof(seg) - off - 2);
	assert_true(n > 0);
	seg[off] = (uint8_t)(n >> 8);
	seg[off + 1] = (uint8_t)n;
	off += 2 + (size_t)n - 1;	/* its last byte in the next segment */

	memset(&p, 0, sizeof(p));
	assert_int_equal(addr_parse("198.19.0.1", &p.src), 0);
	assert_int_equal(addr_parse("198.18.0.2", &p.dst), 0);
	p.proto = IPPROTO_TCP;
	p.transport = true;
	p.sport = 5353;
	p.dport = 40000;
	p.tcp_flags = TH_ACK | TH_PUSH;

	/* A segment starting inside a message: accepted, nothing learned. */
	p.payload = seg + 7;
	p.payload_len = off - 7;
	assert_true(judge_dns_answer(&env, &p, &f->task, &scratch, 2000));
	assert_int_equal(bindings_names(f->b, "t1", &a1, 2000, names, 4), 0);
	/* The SYN-ACK and bare ACKs carry nothing: accepted too. */
	p.payload = NULL;
	p.payload_len = 0;
	assert_true(judge_dns_answer(&env, &p, &f->task, &scratch, 2000));
	/* From another port: not the forwarder's. */
	p.payload = seg;
	p.payload_len = off;
	p.sport = 5354;
	assert_false(judge_dns_answer(&env, &p, &f->task, &scratch, 2000));
	p.sport = 53;
	assert_true(judge_dns_answer(&env, &p, &f->task, &scratch, 2000));
	assert_int_equal(bindings_names(f->b, "t1", &a1, 2000, names, 4), 1);
	assert_string_equal(names[0], "one.test");
	assert_int_equal(bindings_names(f->b, "t1", &a2, 2000, names, 4), 1);
	assert_string_equal(names[0], "two.test");
	assert_int_equal(bindings_names(f->b, "t1", &a3, 2000, names, 4), 0);
	assert_true(bindings_has(f->b, "t1", "two.test", &a2, 2000));
	assert_false(bindings_has(f->b, "t1", "one.test", &a2, 2000));
	assert_false(bindings_has(f->b, "t2", "one.test", &a1, 2000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_dns_tcp),
	};

	return cmocka_run_group_tests_name("nfq_tcp", tests, setup, nfq_fixture_teardown);
}
