/*
 * nfq judge: one policy written out below, packets described field by
 * field, and the verdict and reason each must get: unknown sources,
 * fragments and DNS around the forwarder dropped whatever the policy says;
 * UDP and ICMP by address rule; name rules only through a binding for the
 * same task; first matching rule wins across both kinds.
 */
#include "config.h"

#include <netinet/in.h>
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
	"allow 198.19.0.2 fd00:1::2 port 7 proto udp\n"	/* line 1 */
	"allow 198.19.0.3 proto icmp\n"			/* line 2 */
	"deny echo.example\n"				/* line 3: tcp 80,443 */
	"allow echo.example port 7 proto udp\n"		/* line 4 */
	"deny 198.19.0.9 port 7 proto udp\n"		/* line 5 */
	"allow *.example port 9 proto udp\n";		/* line 6 */

static int
setup(void **state)
{
	static struct nfq_fixture f;

	if (nfq_fixture_init(&f, policy_text) == -1)
		return -1;
	*state = &f;
	return 0;
}

static struct packet
pkt(const char *dst, uint8_t proto, uint16_t dport)
{
	return nfq_fixture_packet(dst, proto, dport, 0);
}

static void
test_table(void **state)
{
	struct nfq_fixture *f = *state;
	static const struct {
		const char	*dst;
		uint8_t		 proto;
		uint16_t	 dport;
		bool		 reject;
		int		 verdict;
		int		 reason;
		unsigned	 line;		/* 0: default deny */
	} t[] = {
		{ "198.19.0.2", IPPROTO_UDP, 7, true, FLOW_ACCEPT, JUDGE_POLICY, 1 },
		{ "fd00:1::2", IPPROTO_UDP, 7, true, FLOW_ACCEPT, JUDGE_POLICY, 1 },
		{ "198.19.0.2", IPPROTO_UDP, 8, true, FLOW_REJECT, JUDGE_POLICY, 0 },
		{ "198.19.0.2", IPPROTO_UDP, 8, false, FLOW_DROP, JUDGE_POLICY, 0 },
		{ "198.19.0.66", IPPROTO_UDP, 7, true, FLOW_REJECT, JUDGE_POLICY, 0 },
		{ "198.19.0.2", IPPROTO_ICMP, 0, true, FLOW_DROP, JUDGE_POLICY, 0 },
		{ "198.19.0.3", IPPROTO_ICMP, 0, true, FLOW_ACCEPT, JUDGE_POLICY, 2 },
		{ "fd00:1::2", IPPROTO_ICMPV6, 0, true, FLOW_DROP, JUDGE_POLICY, 0 },
		{ "198.19.0.2", 47, 0, true, FLOW_DROP, JUDGE_POLICY, 0 },
		{ "198.19.0.2", IPPROTO_UDP, 53, true, FLOW_DROP, JUDGE_DNS, 0 },
		{ "198.19.0.2", IPPROTO_TCP, 53, true, FLOW_DROP, JUDGE_DNS, 0 },
		{ "fd00:1::2", IPPROTO_TCP, 853, true, FLOW_DROP, JUDGE_DNS, 0 },
		{ "198.19.0.2", IPPROTO_UDP, 853, true, FLOW_DROP, JUDGE_DNS, 0 },
		/* QUIC to an address no rule allows. */
		{ "198.19.0.2", IPPROTO_UDP, 443, true, FLOW_REJECT, JUDGE_POLICY, 0 },
	};
	struct judge_env env = { NULL, false, 5353, false };
	struct judge_decision d;
	struct packet p;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p = pkt(t[i].dst, t[i].proto, t[i].dport);
		env.reject = t[i].reject;
		judge_packet(&env, &p, &f->task, f->pol, 0, &d);
		if ((int)d.verdict != t[i].verdict ||
		    (int)d.reason != t[i].reason ||
		    (t[i].line == 0 ? d.pv.rule != NULL :
		    d.pv.rule == NULL || policy_rule_line(d.pv.rule) != t[i].line))
			fail_msg("case %zu (%s proto %u port %u): verdict %d "
			    "reason %s", i, t[i].dst, t[i].proto, t[i].dport,
			    d.verdict, judge_reason_name(d.reason));
	}
}

static void
test_before_policy(void **state)
{
	struct nfq_fixture *f = *state;
	struct judge_env env = { f->b, true, 5353, false };
	struct judge_decision d;
	struct packet p = pkt("198.19.0.2", IPPROTO_UDP, 7);

	/* Allowed by line 1, but: no task. */
	judge_packet(&env, &p, NULL, f->pol, 0, &d);
	assert_int_equal(d.verdict, FLOW_DROP);
	assert_int_equal(d.reason, JUDGE_UNKNOWN_SOURCE);
	/* A policy that cannot be loaded. */
	judge_packet(&env, &p, &f->task, NULL, 0, &d);
	assert_int_equal(d.verdict, FLOW_DROP);
	assert_int_equal(d.reason, JUDGE_NO_POLICY);
	/* A later fragment: dropped, never rejected. */
	p.fragment = true;
	p.transport = false;
	p.dport = 0;
	judge_packet(&env, &p, &f->task, f->pol, 0, &d);
	assert_int_equal(d.verdict, FLOW_DROP);
	assert_int_equal(d.reason, JUDGE_FRAGMENT);
	/* The first fragment is judged like any packet. */
	p = pkt("198.19.0.2", IPPROTO_UDP, 7);
	p.fragment = p.first_fragment = true;
	judge_packet(&env, &p, &f->task, f->pol, 0, &d);
	assert_int_equal(d.verdict, FLOW_ACCEPT);
}

static void
test_bindings(void **state)
{
	struct nfq_fixture *f = *state;
	struct judge_env env = { f->b, true, 5353, false };
	struct judge_decision d;
	struct reg_task other;
	struct packet p;
	struct ag_addr a7, a9;

	registry_task_init(&other);
	snprintf(other.id, sizeof(other.id), "t2");
	assert_int_equal(addr_parse("198.19.0.7", &a7), 0);
	assert_int_equal(addr_parse("198.19.0.9", &a9), 0);
	assert_int_equal(bindings_add(f->b, "t1", "echo.example", &a7, 60, 0),
	    0);
	assert_int_equal(bindings_add(f->b, "t1", "echo.example", &a9, 60, 0),
	    0);

	/* Bound to echo.example for t1: line 4 allows port 7. */
	p = pkt("198.19.0.7", IPPROTO_UDP, 7);
	judge_packet(&env, &p, &f->task, f->pol, 1000, &d);
	assert_int_equal(d.verdict, FLOW_ACCEPT);
	assert_int_equal(policy_rule_line(d.pv.rule), 4);
	assert_string_equal(d.name, "echo.example");
	/* Not for another task. */
	judge_packet(&env, &p, &other, f->pol, 1000, &d);
	assert_int_equal(d.verdict, FLOW_REJECT);
	assert_null(d.pv.rule);
	/* Port 9: line 6 (*.example) allows it, through the same binding. */
	p.dport = 9;
	judge_packet(&env, &p, &f->task, f->pol, 1000, &d);
	assert_int_equal(d.verdict, FLOW_ACCEPT);
	assert_int_equal(policy_rule_line(d.pv.rule), 6);
	/* 198.19.0.9: name rule line 4 comes before address rule line 5. */
	p = pkt("198.19.0.9", IPPROTO_UDP, 7);
	judge_packet(&env, &p, &f->task, f->pol, 1000, &d);
	assert_int_equal(d.verdict, FLOW_ACCEPT);
	assert_int_equal(policy_rule_line(d.pv.rule), 4);
	/* Once the binding expired, line 5 denies. */
	judge_packet(&env, &p, &f->task, f->pol, 61000, &d);
	assert_int_equal(d.verdict, FLOW_REJECT);
	assert_int_equal(policy_rule_line(d.pv.rule), 5);
	assert_string_equal(d.name, "");
}

/* An answer from the forwarder teaches the binding a name rule needs. */
static void
test_dns_answer(void **state)
{
	/* Query id 7, one question "echo.example" A IN. */
	static const uint8_t query[] = {
		0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		4, 'e', 'c', 'h', 'o', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
		0, 1, 0, 1,
	};
	static struct dns_response scratch;
	struct nfq_fixture *f = *state;
	struct judge_env env = { f->b, true, 5353, false };
	struct judge_decision d;
	struct ag_addr a;
	uint8_t ans[512];
	ssize_t n;
	struct packet p;

	assert_int_equal(addr_parse("198.19.0.44", &a), 0);
	n = dns_build_answer(query, sizeof(query), &a, 1, 300, ans,
	    sizeof(ans));
	assert_true(n > 0);

	/* Before: 198.19.0.44 port 7 is denied (no rule for the address). */
	p = pkt("198.19.0.44", IPPROTO_UDP, 7);
	judge_packet(&env, &p, &f->task, f->pol, 5000, &d);
	assert_int_equal(d.verdict, FLOW_REJECT);

	/* The answer: UDP 5353 -> the task's address. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(addr_parse("198.19.0.1", &p.src), 0);
	assert_int_equal(addr_parse("198.18.0.2", &p.dst), 0);
	p.proto = IPPROTO_UDP;
	p.transport = true;
	p.sport = 5353;
	p.dport = 40000;
	p.payload = ans;
	p.payload_len = (size_t)n;
	/* Not for a task, or from another port: not an answer. */
	assert_false(judge_dns_answer(&env, &p, NULL, &scratch, 5000));
	p.sport = 5354;
	assert_false(judge_dns_answer(&env, &p, &f->task, &scratch, 5000));
	p.sport = 5353;
	assert_true(judge_dns_answer(&env, &p, &f->task, &scratch, 5000));

	/* After: line 4 (echo.example port 7 udp) allows it by name. */
	p = pkt("198.19.0.44", IPPROTO_UDP, 7);
	judge_packet(&env, &p, &f->task, f->pol, 5001, &d);
	assert_int_equal(d.verdict, FLOW_ACCEPT);
	assert_int_equal(policy_rule_line(d.pv.rule), 4);
	assert_string_equal(d.name, "echo.example");

	/* A payload that is no DNS is still the gateway's answer: accepted,
	 * nothing learned. */
	p.sport = 53;
	p.payload_len = 3;
	p.proto = IPPROTO_UDP;
	assert_true(judge_dns_answer(&env, &p, &f->task, &scratch, 5002));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_before_policy),
		cmocka_unit_test(test_bindings),
		cmocka_unit_test(test_dns_answer),
	};

	return cmocka_run_group_tests_name("nfq_judge", tests, setup, nfq_fixture_teardown);
}
