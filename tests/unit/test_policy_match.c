/*
 * Unit tests of the policy matcher: which rule decides for a name or an
 * address, as tables of (policy, query, expected action and rule line),
 * plus a randomised comparison against a naive first-match reference.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "addr.h"
#include "canon.h"
#include "policy.h"

#define TCP	POLICY_PROTO_TCP
#define UDP	POLICY_PROTO_UDP
#define ICMP	POLICY_PROTO_ICMP
#define ALLOW	POLICY_ALLOW
#define ASK	POLICY_ASK
#define DENY	POLICY_DENY

struct match_case {
	const char		*policy;
	const char		*query;		/* canonical name, or address text */
	enum policy_proto	 proto;
	uint16_t		 port;
	enum policy_action	 action;
	unsigned		 line;		/* line of the deciding rule; 0: none */
};

static void
fail_on_error(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	fail_msg("unexpected policy error %s:%u:%u: %s", file, line, col, msg);
}

static struct policy *
load(const char *text)
{
	struct policy *p;

	p = policy_load_buffer("t.rules", NULL, text, strlen(text), NULL,
	    fail_on_error, NULL);
	assert_non_null(p);
	return p;
}

static void
check(const struct match_case *c, struct policy_verdict v)
{
	if (v.action != c->action ||
	    (c->line == 0 && v.rule != NULL) ||
	    (c->line != 0 && (v.rule == NULL || policy_rule_line(v.rule) != c->line)))
		fail_msg("policy [%s] query %s %s/%u: got %s line %u, want %s line %u",
		    c->policy, c->query, policy_proto_name(c->proto), c->port,
		    policy_action_name(v.action),
		    v.rule ? policy_rule_line(v.rule) : 0,
		    policy_action_name(c->action), c->line);
	if (v.rule != NULL)
		assert_int_equal(policy_rule_action(v.rule), v.action);
}

static const struct match_case name_cases[] = {
	/* Wildcards cover names strictly below the suffix, on a label boundary. */
	{ "allow *.github.com", "api.github.com", TCP, 443, ALLOW, 1 },
	{ "allow *.github.com", "a.b.c.github.com", TCP, 443, ALLOW, 1 },
	{ "allow *.github.com", "github.com", TCP, 443, DENY, 0 },
	{ "allow *.github.com", "evilgithub.com", TCP, 443, DENY, 0 },
	{ "allow *.github.com", "notgithub.com", TCP, 443, DENY, 0 },
	{ "allow *.github.com", "github.com.evil.test", TCP, 443, DENY, 0 },
	{ "allow *.github.com", "api.github.co", TCP, 443, DENY, 0 },
	{ "allow *.github.com", "com", TCP, 443, DENY, 0 },
	{ "allow *.com", "github.com", TCP, 443, ALLOW, 1 },
	{ "allow *.com", "com", TCP, 443, DENY, 0 },
	/* An exact name is that name only. */
	{ "allow github.com", "github.com", TCP, 443, ALLOW, 1 },
	{ "allow github.com", "www.github.com", TCP, 443, DENY, 0 },
	{ "allow github.com", "github.co", TCP, 443, DENY, 0 },
	{ "allow github.com", "ithub.com", TCP, 443, DENY, 0 },
	{ "allow GitHub.COM.", "github.com", TCP, 443, ALLOW, 1 },
	/* `*` is every name. */
	{ "deny *.evil.test\nallow *", "x.evil.test", TCP, 443, DENY, 1 },
	{ "deny *.evil.test\nallow *", "evil.test", TCP, 443, ALLOW, 2 },
	{ "deny *.evil.test\nallow *", "example.org", TCP, 80, ALLOW, 2 },
	{ "ask * port 443\nallow a.com", "a.com", TCP, 443, ASK, 1 },
	{ "ask * port 443\nallow a.com", "a.com", TCP, 80, ALLOW, 2 },
	{ "allow a.com\nask *", "a.com", TCP, 443, ALLOW, 1 },
	{ "allow a.com\nask *", "b.com", TCP, 443, ASK, 2 },
	/* First match wins, whichever rule is more specific. */
	{ "deny a.com\nallow a.com", "a.com", TCP, 443, DENY, 1 },
	{ "allow a.com\ndeny a.com", "a.com", TCP, 443, ALLOW, 1 },
	{ "allow *.example.com\ndeny api.example.com", "api.example.com", TCP, 443, ALLOW, 1 },
	{ "deny api.example.com\nallow *.example.com", "api.example.com", TCP, 443, DENY, 1 },
	{ "deny api.example.com\nallow *.example.com", "www.example.com", TCP, 443, ALLOW, 2 },
	{ "deny *.example.com\nallow *.api.example.com", "x.api.example.com", TCP, 443, DENY, 1 },
	{ "allow *.api.example.com\ndeny *.example.com", "x.api.example.com", TCP, 443, ALLOW, 1 },
	{ "ask *.a.com\nallow b.a.com", "b.a.com", TCP, 443, ASK, 1 },
	{ "allow *.b.a.com port 22\ndeny *.a.com", "x.b.a.com", TCP, 443, DENY, 2 },
	{ "allow *.b.a.com port 22\ndeny *.a.com", "x.b.a.com", TCP, 22, ALLOW, 1 },
	{ "allow x.com port 22\ndeny x.com", "x.com", TCP, 443, DENY, 2 },
	{ "allow x.com port 22\ndeny x.com", "x.com", TCP, 22, ALLOW, 1 },
	{ "allow x.com port 22\nallow x.com port 22\nask x.com port any", "x.com", TCP, 22, ALLOW, 1 },
	{ "allow x.com port 22\nallow x.com port 22\nask x.com port any", "x.com", TCP, 23, ASK, 3 },
	{ "allow a.com b.com\nask b.com", "b.com", TCP, 80, ALLOW, 1 },
	/* No match, empty and comment-only policies deny. */
	{ "allow a.com", "b.com", TCP, 443, DENY, 0 },
	{ "", "a.com", TCP, 443, DENY, 0 },
	{ "# nothing here\n\n   \t# nor here\n", "a.com", TCP, 443, DENY, 0 },
	/* Address rules never judge names. */
	{ "allow 1.2.3.4\nallow 0.0.0.0/0", "a.com", TCP, 443, DENY, 0 },
	/* Ports: lists, ranges, any, and the default 80,443. */
	{ "allow a.com port 22,8000-8099", "a.com", TCP, 22, ALLOW, 1 },
	{ "allow a.com port 22,8000-8099", "a.com", TCP, 8000, ALLOW, 1 },
	{ "allow a.com port 22,8000-8099", "a.com", TCP, 8099, ALLOW, 1 },
	{ "allow a.com port 22,8000-8099", "a.com", TCP, 7999, DENY, 0 },
	{ "allow a.com port 22,8000-8099", "a.com", TCP, 8100, DENY, 0 },
	{ "allow a.com port 22,8000-8099", "a.com", TCP, 443, DENY, 0 },
	{ "allow a.com port 8000-8099,22", "a.com", TCP, 8050, ALLOW, 1 },
	{ "allow a.com port 443,80,443,1-80", "a.com", TCP, 81, DENY, 0 },
	{ "allow a.com port 443,80,443,1-80", "a.com", TCP, 1, ALLOW, 1 },
	{ "allow a.com port 1-65535", "a.com", TCP, 65535, ALLOW, 1 },
	{ "allow a.com port 1-65535", "a.com", TCP, 1, ALLOW, 1 },
	{ "allow a.com port any", "a.com", TCP, 1, ALLOW, 1 },
	{ "allow a.com port any", "a.com", TCP, 65535, ALLOW, 1 },
	{ "allow a.com", "a.com", TCP, 80, ALLOW, 1 },
	{ "allow a.com", "a.com", TCP, 443, ALLOW, 1 },
	{ "allow a.com", "a.com", TCP, 8080, DENY, 0 },
	{ "allow a.com", "a.com", TCP, 81, DENY, 0 },
	{ "allow *.a.com", "x.a.com", TCP, 8443, DENY, 0 },
	{ "allow *.a.com port 8443", "x.a.com", TCP, 8443, ALLOW, 1 },
	{ "allow *.a.com port 8443", "x.a.com", TCP, 443, DENY, 0 },
	/* Protocols: default tcp; icmp ignores ports. */
	{ "allow a.com", "a.com", UDP, 443, DENY, 0 },
	{ "allow a.com", "a.com", ICMP, 0, DENY, 0 },
	{ "allow a.com proto udp port 53", "a.com", UDP, 53, ALLOW, 1 },
	{ "allow a.com proto udp port 53", "a.com", TCP, 53, DENY, 0 },
	{ "allow a.com port 53 proto udp", "a.com", UDP, 53, ALLOW, 1 },
	{ "allow a.com proto udp", "a.com", UDP, 443, ALLOW, 1 },
	{ "allow a.com proto udp", "a.com", UDP, 53, DENY, 0 },
	{ "allow a.com proto icmp", "a.com", ICMP, 0, ALLOW, 1 },
	{ "allow a.com proto icmp", "a.com", TCP, 443, DENY, 0 },
	{ "allow a.com proto tcp,icmp port 22", "a.com", ICMP, 999, ALLOW, 1 },
	{ "allow a.com proto tcp,icmp port 22", "a.com", TCP, 22, ALLOW, 1 },
	{ "allow a.com proto tcp,icmp port 22", "a.com", TCP, 23, DENY, 0 },
	{ "allow a.com proto tcp,icmp port 22", "a.com", UDP, 22, DENY, 0 },
	{ "allow *.a.com proto udp,tcp port any", "b.a.com", UDP, 5, ALLOW, 1 },
	{ "allow * proto icmp", "b.a.com", ICMP, 0, ALLOW, 1 },
	{ "allow * proto icmp", "b.a.com", TCP, 443, DENY, 0 },
	/* Internationalised names are held as A-labels. */
	{ "allow b\xc3\xbc" "cher.example", "xn--bcher-kva.example", TCP, 443, ALLOW, 1 },
	{ "allow *.b\xc3\xbc" "cher.example", "www.xn--bcher-kva.example", TCP, 443, ALLOW, 1 },
	{ "allow xn--bcher-kva.example", "xn--bcher-kva.example", TCP, 443, ALLOW, 1 },
	/* A name that is a prefix or suffix of a key but not on a label boundary. */
	{ "allow *.b.c", "ab.c", TCP, 443, DENY, 0 },
	{ "allow *.b.c", "a.ab.c", TCP, 443, DENY, 0 },
	{ "allow *.b.c\nallow b.c", "b.c", TCP, 443, ALLOW, 2 },
};

static const struct match_case addr_cases[] = {
	{ "allow 10.0.0.0/8", "10.0.0.0", TCP, 443, ALLOW, 1 },
	{ "allow 10.0.0.0/8", "10.255.255.255", TCP, 443, ALLOW, 1 },
	{ "allow 10.0.0.0/8", "11.0.0.0", TCP, 443, DENY, 0 },
	{ "allow 10.0.0.0/8", "9.255.255.255", TCP, 443, DENY, 0 },
	{ "allow 0.0.0.0/0", "1.2.3.4", TCP, 443, ALLOW, 1 },
	{ "allow 0.0.0.0/0", "255.255.255.255", TCP, 80, ALLOW, 1 },
	{ "allow 0.0.0.0/0", "::1", TCP, 443, DENY, 0 },
	{ "allow ::/0", "::1", TCP, 443, ALLOW, 1 },
	{ "allow ::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", TCP, 443, ALLOW, 1 },
	{ "allow ::/0", "1.2.3.4", TCP, 443, DENY, 0 },
	{ "allow 198.18.0.1/32", "198.18.0.1", TCP, 443, ALLOW, 1 },
	{ "allow 198.18.0.1/32", "198.18.0.2", TCP, 443, DENY, 0 },
	{ "allow 198.18.0.1/32", "198.18.0.0", TCP, 443, DENY, 0 },
	{ "allow 198.18.0.1", "198.18.0.1", TCP, 443, ALLOW, 1 },
	{ "allow 198.18.0.1", "198.18.0.2", TCP, 443, DENY, 0 },
	{ "allow 198.18.0.0/15", "198.19.255.255", TCP, 443, ALLOW, 1 },
	{ "allow 198.18.0.0/15", "198.20.0.0", TCP, 443, DENY, 0 },
	{ "allow 198.18.0.0/15", "198.17.255.255", TCP, 443, DENY, 0 },
	{ "allow 198.18.128.0/17", "198.18.127.255", TCP, 443, DENY, 0 },
	{ "allow 198.18.128.0/17", "198.18.128.0", TCP, 443, ALLOW, 1 },
	{ "allow fd00::/8", "fd00::", TCP, 443, ALLOW, 1 },
	{ "allow fd00::/8", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", TCP, 443, ALLOW, 1 },
	{ "allow fd00::/8", "fc00::", TCP, 443, DENY, 0 },
	{ "allow fd00::/8", "fe00::", TCP, 443, DENY, 0 },
	{ "allow fd00::1/128", "fd00::1", TCP, 443, ALLOW, 1 },
	{ "allow fd00::1/128", "fd00::2", TCP, 443, DENY, 0 },
	{ "allow fd00::1/128", "fd00::", TCP, 443, DENY, 0 },
	{ "allow fd00::1", "fd00::1", TCP, 443, ALLOW, 1 },
	{ "allow 2001:db8::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", TCP, 443, ALLOW, 1 },
	{ "allow 2001:db8::/33", "2001:db8:8000::", TCP, 443, DENY, 0 },
	{ "allow 2001:db8::/33", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", TCP, 443, DENY, 0 },
	/* Prefix lengths around the middle of an IPv6 address. */
	{ "allow 2001:db8:0:1::/64", "2001:db8:0:1:ffff:ffff:ffff:ffff", TCP, 443, ALLOW, 1 },
	{ "allow 2001:db8:0:1::/64", "2001:db8:0:2::", TCP, 443, DENY, 0 },
	{ "allow 2001:db8:0:1::/64", "2001:db8:0:0:ffff:ffff:ffff:ffff", TCP, 443, DENY, 0 },
	{ "allow 2001:db8:0:1::/65", "2001:db8:0:1:7fff:ffff:ffff:ffff", TCP, 443, ALLOW, 1 },
	{ "allow 2001:db8:0:1::/65", "2001:db8:0:1:8000::", TCP, 443, DENY, 0 },
	{ "allow 2001:db8::/63", "2001:db8:0:1:ffff::", TCP, 443, ALLOW, 1 },
	{ "allow 2001:db8::/63", "2001:db8:0:2::", TCP, 443, DENY, 0 },
	{ "allow 2001:db8::1:0:0:0/80", "2001:db8::1:0:ffff:ffff", TCP, 443, ALLOW, 1 },
	{ "allow 2001:db8::1:0:0:0/80", "2001:db8:0:0:2::", TCP, 443, DENY, 0 },
	{ "allow 2001:db8::1:0:0:0/80", "2001:db8:0:1:1::", TCP, 443, DENY, 0 },
	/* IPv4-mapped IPv6 in a rule is the IPv4 address. */
	{ "allow ::ffff:198.18.0.1", "198.18.0.1", TCP, 443, ALLOW, 1 },
	{ "allow ::ffff:198.18.0.0/120", "198.18.0.255", TCP, 443, ALLOW, 1 },
	{ "allow ::ffff:198.18.0.0/120", "198.18.1.0", TCP, 443, DENY, 0 },
	/* Permissive spellings canon_host accepts. */
	{ "allow 2130706433", "127.0.0.1", TCP, 443, ALLOW, 1 },
	{ "allow 0x7f000001", "127.0.0.1", TCP, 443, ALLOW, 1 },
	{ "allow 127.1", "127.0.0.1", TCP, 443, ALLOW, 1 },
	{ "allow [::1]", "::1", TCP, 443, ALLOW, 1 },
	/* First match across prefix lengths. */
	{ "deny 10.1.0.0/16\nallow 10.0.0.0/8", "10.1.2.3", TCP, 443, DENY, 1 },
	{ "deny 10.1.0.0/16\nallow 10.0.0.0/8", "10.2.0.0", TCP, 443, ALLOW, 2 },
	{ "allow 10.0.0.0/8\ndeny 10.1.0.0/16", "10.1.2.3", TCP, 443, ALLOW, 1 },
	{ "allow 10.0.0.0/8 port 22\ndeny 10.1.0.0/16", "10.1.2.3", TCP, 443, DENY, 2 },
	{ "deny 10.1.2.3\nallow 10.1.2.3", "10.1.2.3", TCP, 443, DENY, 1 },
	{ "allow 10.1.2.3 fd00::5", "fd00::5", TCP, 443, ALLOW, 1 },
	/* Ports and protocols narrow address rules too. */
	{ "deny 169.254.169.254 port any proto tcp,udp", "169.254.169.254", UDP, 53, DENY, 1 },
	{ "deny 169.254.169.254 port any proto tcp,udp\nallow 0.0.0.0/0 proto icmp",
	    "169.254.169.254", ICMP, 0, ALLOW, 2 },
	{ "allow 198.18.0.0/15 proto icmp", "198.18.5.5", ICMP, 0, ALLOW, 1 },
	{ "allow 198.18.0.0/15 proto icmp", "198.18.5.5", TCP, 80, DENY, 0 },
	{ "allow 198.18.0.0/15", "198.18.5.5", TCP, 8080, DENY, 0 },
	/* Name rules and `*` never judge addresses. */
	{ "allow *\nallow a.com", "1.2.3.4", TCP, 443, DENY, 0 },
	{ "", "1.2.3.4", TCP, 443, DENY, 0 },
};

static void
test_match_names(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct match_case *c = &name_cases[i];
		struct policy *p = load(c->policy);

		check(c, policy_match_name(p, c->query, c->proto, c->port));
		policy_unref(p);
	}
}

static void
test_match_addrs(void **state)
{
	struct ag_addr a;
	size_t i;

	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct match_case *c = &addr_cases[i];
		struct policy *p = load(c->policy);

		assert_int_equal(addr_parse(c->query, &a), 0);
		check(c, policy_match_addr(p, &a, c->proto, c->port));
		policy_unref(p);
	}
}

/* Names of up to 127 labels: depths past 63 share one bit of the depth
 * masks and must still be found. */
static void
test_match_deep_names(void **state)
{
	char q[CANON_NAME_MAX + 1], rule[600];
	struct policy_verdict v;
	struct policy *p;
	unsigned i;

	/* q = "a.a. ... .a" with 127 labels (253 bytes). */
	for (i = 0; i < 253; i++)
		q[i] = i % 2 ? '.' : 'a';
	q[253] = '\0';
	for (i = 0; i < 127; i++) {
		/* Any proper suffix as a wildcard matches; the name itself
		 * exact. */
		if (i > 0) {
			snprintf(rule, sizeof(rule), "deny b.c\nallow *.%s\n", q + 2 * (127 - i));
			p = policy_load_buffer("d.rules", NULL, rule, strlen(rule),
			    NULL, fail_on_error, NULL);
			v = policy_match_name(p, q, TCP, 443);
			if (v.rule == NULL || policy_rule_line(v.rule) != 2)
				fail_msg("wildcard of %u labels missed", i);
			v = policy_match_name(p, q + 2 * (127 - i), TCP, 443);
			assert_null(v.rule);
			policy_unref(p);
		}
	}
	snprintf(rule, sizeof(rule), "deny b.c\nask %s\n", q);
	p = policy_load_buffer("d.rules", NULL, rule, strlen(rule), NULL,
	    fail_on_error, NULL);
	v = policy_match_name(p, q, TCP, 443);
	assert_int_equal(v.action, ASK);
	v = policy_match_name(p, q + 2, TCP, 443);
	assert_null(v.rule);
	policy_unref(p);
}

/* A hand-built IPv4-mapped query is judged as the IPv4 address. */
static void
test_match_mapped_query(void **state)
{
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff, 198, 18, 0, 7 };
	struct policy *p = load("allow 198.18.0.0/24");
	struct ag_addr a;
	struct policy_verdict v;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	memcpy(a.u.bytes, mapped, 16);
	v = policy_match_addr(p, &a, TCP, 443);
	assert_int_equal(v.action, ALLOW);
	policy_unref(p);
}

/* Protocol values that are no single protocol match nothing. */
static void
test_match_bad_proto(void **state)
{
	struct policy *p = load("allow * proto tcp,udp,icmp port any\nallow 0.0.0.0/0 proto tcp,udp,icmp port any");
	struct ag_addr a;
	struct policy_verdict v;

	v = policy_match_name(p, "a.com", (enum policy_proto)0, 443);
	assert_int_equal(v.action, DENY);
	assert_null(v.rule);
	v = policy_match_name(p, "a.com", (enum policy_proto)(TCP | UDP), 443);
	assert_null(v.rule);
	assert_int_equal(addr_parse("1.2.3.4", &a), 0);
	v = policy_match_addr(p, &a, (enum policy_proto)8, 443);
	assert_null(v.rule);
	v = policy_match_addr(p, &a, UDP, 9);
	assert_int_equal(v.action, ALLOW);
	policy_unref(p);
}

/*
 * Random policies over a small alphabet of labels (so keys collide and
 * nest often), judged by the matcher and by a naive reference that tries
 * every rule in order.
 */
struct ref_rule {
	int		 wild, star;
	char		 name[64];
	unsigned	 protos;
	uint16_t	 lo, hi;	/* one port range; lo 0 means any */
};

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
rnd_name(uint64_t *s, char *buf, size_t size, unsigned labels)
{
	static const char *lab[] = { "a", "b", "ab", "ba", "com", "x-y", "c0" };
	size_t o = 0;
	unsigned i;

	for (i = 0; i < labels; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "." : "",
		    lab[rnd(s) % (sizeof(lab) / sizeof(lab[0]))]);
}

static int
ref_covers(const struct ref_rule *r, const char *q, unsigned proto, uint16_t port)
{
	size_t ql = strlen(q), nl = strlen(r->name);

	if ((r->protos & proto) == 0)
		return 0;
	if (proto != ICMP && r->lo != 0 && (port < r->lo || port > r->hi))
		return 0;
	if (r->star)
		return 1;
	if (!r->wild)
		return strcmp(q, r->name) == 0;
	return ql > nl + 1 && strcmp(q + ql - nl, r->name) == 0 &&
	    q[ql - nl - 1] == '.';
}

static void
test_match_random_vs_reference(void **state)
{
	static const unsigned protos[] = { TCP, UDP, ICMP, TCP | UDP, TCP | ICMP };
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	char *text, q[128];
	size_t round;

	text = malloc(1 << 16);
	assert_non_null(text);
	for (round = 0; round < 200; round++) {
		struct ref_rule rules[40];
		size_t n = 1 + rnd(&seed) % 40, i, o = 0, k;
		struct policy *p;

		for (i = 0; i < n; i++) {
			struct ref_rule *r = &rules[i];

			memset(r, 0, sizeof(*r));
			r->star = rnd(&seed) % 50 == 0;
			r->wild = !r->star && rnd(&seed) % 3 == 0;
			rnd_name(&seed, r->name, sizeof(r->name), 1 + rnd(&seed) % 3);
			r->protos = protos[rnd(&seed) % 5];
			if (rnd(&seed) % 2) {
				r->lo = (uint16_t)(1 + rnd(&seed) % 10);
				r->hi = (uint16_t)(r->lo + rnd(&seed) % 4);
			}
			o += (size_t)sprintf(text + o, "%s %s%s",
			    (const char *[]){ "allow", "deny", "ask" }[i % 3],
			    r->star ? "*" : r->wild ? "*." : "", r->star ? "" : r->name);
			if (r->protos == ICMP)
				r->lo = 0;	/* port may not be given */
			else if (r->lo)
				o += (size_t)sprintf(text + o, " port %u-%u", r->lo, r->hi);
			else
				o += (size_t)sprintf(text + o, " port any");
			o += (size_t)sprintf(text + o, " proto %s\n",
			    (const char *[]){ "", "tcp", "udp", "tcp,udp", "icmp",
			    "tcp,icmp", "udp,icmp", "tcp,udp,icmp" }[r->protos]);
		}
		p = policy_load_buffer("r.rules", NULL, text, o, NULL,
		    fail_on_error, NULL);
		assert_non_null(p);
		for (k = 0; k < 200; k++) {
			unsigned proto = (unsigned[]){ TCP, UDP, ICMP }[rnd(&seed) % 3];
			uint16_t port = (uint16_t)(1 + rnd(&seed) % 14);
			struct policy_verdict v;
			size_t want = n;

			rnd_name(&seed, q, sizeof(q), 1 + rnd(&seed) % 4);
			for (i = 0; i < n; i++)
				if (ref_covers(&rules[i], q, proto, port)) {
					want = i;
					break;
				}
			v = policy_match_name(p, q, (enum policy_proto)proto, port);
			if (want == n) {
				if (v.rule != NULL)
					fail_msg("round %zu %s %u/%u: matched line %u, want none\n%s",
					    round, q, proto, port, policy_rule_line(v.rule), text);
			} else if (v.rule == NULL || policy_rule_line(v.rule) != want + 1)
				fail_msg("round %zu %s %u/%u: matched line %u, want %zu\n%s",
				    round, q, proto, port,
				    v.rule ? policy_rule_line(v.rule) : 0, want + 1, text);
		}
		policy_unref(p);
	}
	free(text);
}

/* The same for IPv4 prefixes of every length in a small /24. */
static void
test_match_random_addrs(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char *text;
	size_t round;

	text = malloc(1 << 16);
	assert_non_null(text);
	for (round = 0; round < 200; round++) {
		uint32_t net[30];
		unsigned len[30];
		size_t n = 1 + rnd(&seed) % 30, i, o = 0, k;
		struct policy *p;

		for (i = 0; i < n; i++) {
			len[i] = 22 + rnd(&seed) % 11;
			net[i] = (0xc6120000u | (rnd(&seed) & 0x3ff)) &
			    (uint32_t)(0xffffffffull << (32 - len[i]));
			o += (size_t)sprintf(text + o, "%s %u.%u.%u.%u/%u\n",
			    i % 2 ? "deny" : "allow", net[i] >> 24,
			    (net[i] >> 16) & 0xff, (net[i] >> 8) & 0xff,
			    net[i] & 0xff, len[i]);
		}
		p = policy_load_buffer("r.rules", NULL, text, o, NULL,
		    fail_on_error, NULL);
		assert_non_null(p);
		for (k = 0; k < 100; k++) {
			uint32_t q = 0xc6120000u | (rnd(&seed) & 0x3ff);
			struct policy_verdict v;
			struct ag_addr a;
			size_t want = n;

			for (i = 0; i < n; i++)
				if (((q ^ net[i]) & (uint32_t)(0xffffffffull << (32 - len[i]))) == 0) {
					want = i;
					break;
				}
			addr_from_v4(htonl(q), &a);
			v = policy_match_addr(p, &a, TCP, 443);
			if (want == n)
				assert_null(v.rule);
			else {
				assert_non_null(v.rule);
				assert_int_equal(policy_rule_line(v.rule), want + 1);
			}
		}
		policy_unref(p);
	}
	free(text);
}

/* IPv6 prefixes of lengths 52..76, across the middle of the address. */
static void
test_match_random_addrs6(void **state)
{
	uint64_t seed = 0x853c49e6748fea9bULL;
	const unsigned __int128 base = (unsigned __int128)0x20010db800000000ULL << 64;
	char *text, buf[INET6_ADDRSTRLEN];
	size_t round;

	text = malloc(1 << 16);
	assert_non_null(text);
	for (round = 0; round < 200; round++) {
		unsigned __int128 net[30], mask[30];
		unsigned len[30];
		size_t n = 1 + rnd(&seed) % 30, i, o = 0, k;
		struct policy *p;

		for (i = 0; i < n; i++) {
			uint8_t b[16];
			struct ag_addr a;
			unsigned j;

			len[i] = 52 + rnd(&seed) % 25;
			mask[i] = ~(unsigned __int128)0 << (128 - len[i]);
			net[i] = (base | ((unsigned __int128)(rnd(&seed) & 0xfff) << 52)) & mask[i];
			for (j = 0; j < 16; j++)
				b[j] = (uint8_t)(net[i] >> (120 - 8 * j));
			addr_from_v6(b, &a);
			o += (size_t)sprintf(text + o, "%s %s/%u\n",
			    i % 2 ? "deny" : "allow", addr_format(&a, buf, sizeof(buf)),
			    len[i]);
		}
		p = policy_load_buffer("r6.rules", NULL, text, o, NULL,
		    fail_on_error, NULL);
		assert_non_null(p);
		for (k = 0; k < 100; k++) {
			unsigned __int128 q = base |
			    ((unsigned __int128)(rnd(&seed) & 0xfff) << 52) |
			    (rnd(&seed) & 0xfffffffffffffULL);
			struct policy_verdict v;
			struct ag_addr a;
			uint8_t b[16];
			size_t want = n;
			unsigned j;

			for (i = 0; i < n; i++)
				if (((q ^ net[i]) & mask[i]) == 0) {
					want = i;
					break;
				}
			for (j = 0; j < 16; j++)
				b[j] = (uint8_t)(q >> (120 - 8 * j));
			addr_from_v6(b, &a);
			v = policy_match_addr(p, &a, TCP, 80);
			if (want == n)
				assert_null(v.rule);
			else {
				assert_non_null(v.rule);
				assert_int_equal(policy_rule_line(v.rule), want + 1);
			}
		}
		policy_unref(p);
	}
	free(text);
}

/* policy_match_name_any: the first rule whose name target covers the name,
 * whatever protocols and ports it names (the DNS forwarder's question).
 * proto and port of the table are not used. */
static const struct match_case any_cases[] = {
	{ "allow git.test port 22", "git.test", TCP, 0, ALLOW, 1 },
	{ "deny x.test port 80\nallow x.test port 443", "x.test", TCP, 0, DENY, 1 },
	{ "allow a.test proto udp port 53", "a.test", TCP, 0, ALLOW, 1 },
	{ "deny b.test proto icmp\nallow b.test", "b.test", TCP, 0, DENY, 1 },
	{ "ask *.c.test port 8443\nallow x.c.test", "x.c.test", TCP, 0, ASK, 1 },
	{ "allow x.c.test port any\ndeny *.c.test", "x.c.test", TCP, 0, ALLOW, 1 },
	/* Wildcards still need a label boundary; exact names match only
	 * themselves. */
	{ "allow *.c.test port 22", "c.test", TCP, 0, DENY, 0 },
	{ "allow *.c.test port 22", "xc.test", TCP, 0, DENY, 0 },
	{ "allow c.test port 22", "a.c.test", TCP, 0, DENY, 0 },
	/* `*` matches every name and loses to an earlier rule only. */
	{ "deny * port 22\nallow a.test", "a.test", TCP, 0, DENY, 1 },
	{ "allow a.test port 22\ndeny * proto udp", "a.test", TCP, 0, ALLOW, 1 },
	{ "allow a.test port 22\nask * proto udp", "b.test", TCP, 0, ASK, 2 },
	/* Address rules never judge names. */
	{ "allow 198.18.0.0/15 port any", "a.test", TCP, 0, DENY, 0 },
	{ "", "a.test", TCP, 0, DENY, 0 },
	/* A later rule of the same key with other ports is not first. */
	{ "deny a.test port 1\nallow a.test port 2\nallow a.test", "a.test", TCP, 0, DENY, 1 },
};

static void
test_match_name_any(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(any_cases) / sizeof(any_cases[0]); i++) {
		const struct match_case *c = &any_cases[i];
		struct policy *p = load(c->policy);

		check(c, policy_match_name_any(p, c->query));
		policy_unref(p);
	}
	/* No policy or no name: default deny, no rule. */
	assert_null(policy_match_name_any(NULL, "a.test").rule);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_names),
		cmocka_unit_test(test_match_addrs),
		cmocka_unit_test(test_match_deep_names),
		cmocka_unit_test(test_match_mapped_query),
		cmocka_unit_test(test_match_bad_proto),
		cmocka_unit_test(test_match_random_vs_reference),
		cmocka_unit_test(test_match_random_addrs),
		cmocka_unit_test(test_match_random_addrs6),
		cmocka_unit_test(test_match_name_any),
	};

	return cmocka_run_group_tests_name("policy_match", tests, NULL, NULL);
}
