/*
 * Unit tests of the DNS forwarder's decisions (proxy/dnsjudge.h): queries
 * built byte by byte here and judged against small policies, and upstream
 * answers checked for rebinding, mismatch and size, as tables.
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

#include "dnsjudge.h"

#define FWD	DNSJUDGE_FORWARD
#define ANS	DNSJUDGE_ANSWER
#define DROP	DNSJUDGE_DROP

/* A message under construction. */
struct msg {
	uint8_t	b[4096];
	size_t	len;
};

static void
put8(struct msg *m, unsigned v)
{
	assert_true(m->len < sizeof(m->b));
	m->b[m->len++] = (uint8_t)v;
}

static void
put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* A dotted name in wire form; "" is the root. Labels are copied as they
 * are, any byte included. */
static void
put_name(struct msg *m, const char *name)
{
	const char *p = name, *dot;
	size_t n;

	while (*p != '\0') {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		put8(m, (unsigned)n);
		memcpy(m->b + m->len, p, n);
		m->len += n;
		p += n;
		if (*p == '.')
			p++;
	}
	put8(m, 0);
}

static void
header(struct msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	m->len = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void
query(struct msg *m, unsigned id, const char *name, unsigned type)
{
	header(m, id, 0x0100, 1, 0, 0, 0);
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
}

struct query_case {
	const char	*desc;
	const char	*policy;	/* NULL: the source has no task */
	const char	*name;
	unsigned	 type;
	enum dnsjudge_action action;
	int		 rcode;		/* -1 for FORWARD and DROP */
	enum policy_action verdict;	/* when judged */
	unsigned	 line;		/* deciding rule; 0: none or not judged */
	bool		 judged;
	const char	*canon;		/* expected j.name */
};

static const struct query_case query_cases[] = {
	{ "allowed name", "allow allowed.test", "allowed.test", 1,
	    FWD, -1, POLICY_ALLOW, 1, true, "allowed.test" },
	{ "mixed case, AAAA", "allow allowed.test", "AlLoWeD.TeSt", 28,
	    FWD, -1, POLICY_ALLOW, 1, true, "allowed.test" },
	{ "no rule", "allow allowed.test", "other.test", 1,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, true, "other.test" },
	{ "denied TXT", "deny other.test\nallow *", "other.test", 16,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 1, true, "other.test" },
	{ "denied ANY", "deny other.test port any proto tcp,udp\nallow *",
	    "other.test", 255, ANS, DNS_RCODE_REFUSED, POLICY_DENY, 1, true,
	    "other.test" },
	{ "wildcard", "allow *.wild.test", "a.b.wild.test", 1,
	    FWD, -1, POLICY_ALLOW, 1, true, "a.b.wild.test" },
	{ "wildcard does not cover its suffix", "allow *.wild.test",
	    "wild.test", 1, ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, true,
	    "wild.test" },
	{ "allowed for port 22 only", "allow git.test port 22", "git.test", 1,
	    FWD, -1, POLICY_ALLOW, 1, true, "git.test" },
	{ "deny 80 then allow 443", "deny x.test port 80\nallow x.test port 443",
	    "x.test", 1, FWD, -1, POLICY_ALLOW, 2, true, "x.test" },
	{ "allowed for UDP 443", "allow q.test proto udp port 443", "q.test", 1,
	    FWD, -1, POLICY_ALLOW, 1, true, "q.test" },
	{ "deny every port first", "deny x.test port any\nallow x.test",
	    "x.test", 1, ANS, DNS_RCODE_REFUSED, POLICY_DENY, 1, true, "x.test" },
	{ "deny port 22, allow usual ports", "deny x.test port 22\nallow x.test",
	    "x.test", 1, FWD, -1, POLICY_ALLOW, 2, true, "x.test" },
	{ "ask is refused for now", "ask ask.test", "ask.test", 1,
	    ANS, DNS_RCODE_REFUSED, POLICY_ASK, 1, true, "ask.test" },
	{ "empty policy", "", "allowed.test", 1,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, true, "allowed.test" },
	{ "no task", NULL, "allowed.test", 1,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, false, "" },
	{ "space in a label", "allow *", "a b.test", 1,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, false, "" },
	{ "percent in a label", "allow *", "a%41.test", 1,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, false, "" },
	{ "leading hyphen", "allow *", "-a.test", 1,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, false, "" },
	{ "IPv4 literal as a name", "allow *", "127.0.0.1", 1,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, false, "" },
	{ "root", "allow *", "", 2,
	    ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, false, "" },
	{ "long random label, denied", "allow allowed.test",
	    "q7x0a9fk2m3n4b5v6c7x8z9l0k1j2h3g4f5d6s7a8p9o0i1u2y3t4r5e6w7q8zz.allowed.test",
	    16, ANS, DNS_RCODE_REFUSED, POLICY_DENY, 0, true,
	    "q7x0a9fk2m3n4b5v6c7x8z9l0k1j2h3g4f5d6s7a8p9o0i1u2y3t4r5e6w7q8zz.allowed.test" },
	{ "long random label, allowed", "allow *.allowed.test",
	    "q7x0a9fk2m3n4b5v6c7x8z9l0k1j2h3g4f5d6s7a8p9o0i1u2y3t4r5e6w7q8zz.allowed.test",
	    16, FWD, -1, POLICY_ALLOW, 1, true,
	    "q7x0a9fk2m3n4b5v6c7x8z9l0k1j2h3g4f5d6s7a8p9o0i1u2y3t4r5e6w7q8zz.allowed.test" },
	{ "punycode name", "allow xn--bcher-kva.test", "xn--bcher-kva.test", 1,
	    FWD, -1, POLICY_ALLOW, 1, true, "xn--bcher-kva.test" },
};

static void
fail_on_error(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	fail_msg("policy error %s:%u:%u: %s", file, line, col, msg);
}

static struct policy *
load(const char *text)
{
	struct policy *p;

	if (text == NULL)
		return NULL;
	p = policy_load_buffer("t.rules", NULL, text, strlen(text), NULL,
	    fail_on_error, NULL);
	assert_non_null(p);
	return p;
}

/* The answer's id, QR, RCODE and QDCOUNT, read here by hand. */
static void
check_answer(const uint8_t *out, size_t outlen, unsigned id, int rcode,
    unsigned qdcount)
{
	assert_true(outlen >= 12);
	assert_int_equal((out[0] << 8) | out[1], id);
	assert_true(out[2] & 0x80);			/* QR */
	assert_int_equal(out[3] & 0x0f, rcode);
	assert_int_equal((out[4] << 8) | out[5], qdcount);
	assert_int_equal((out[6] << 8) | out[7], 0);	/* no answers */
}

static void
test_judge_queries(void **state)
{
	struct dnsjudge j;
	struct msg m;
	uint8_t out[DNS_MSG_MAX];
	size_t i;

	for (i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
		const struct query_case *c = &query_cases[i];
		struct policy *p = load(c->policy);

		query(&m, 0x1000 + (unsigned)i, c->name, c->type);
		dnsjudge_query(m.b, m.len, p, true, &j, out, sizeof(out));
		if (j.action != c->action || j.rcode != c->rcode ||
		    j.judged != c->judged || strcmp(j.name, c->canon) != 0)
			fail_msg("%s: action %d rcode %d judged %d name '%s'",
			    c->desc, j.action, j.rcode, j.judged, j.name);
		if (c->judged) {
			if (j.verdict.action != c->verdict)
				fail_msg("%s: verdict %s", c->desc,
				    policy_action_name(j.verdict.action));
			if (c->line == 0)
				assert_null(j.verdict.rule);
			else {
				assert_non_null(j.verdict.rule);
				assert_int_equal(policy_rule_line(j.verdict.rule),
				    c->line);
			}
		}
		if (c->action == FWD)
			assert_null(j.reason);
		else
			assert_non_null(j.reason);
		if (c->action == ANS)
			check_answer(out, j.outlen, 0x1000 + (unsigned)i,
			    c->rcode, 1);
		assert_int_equal(j.query.id, 0x1000 + (unsigned)i);
		if (p != NULL)
			policy_unref(p);
	}
}

/* Queries the parser refuses: never judged, never forwarded. */
static void
test_judge_malformed(void **state)
{
	struct policy *p = load("allow *");
	struct dnsjudge j;
	struct msg m;
	uint8_t out[DNS_MSG_MAX];

	/* Cut inside the header: no id to echo, nothing to say. */
	query(&m, 0x4242, "allowed.test", 1);
	dnsjudge_query(m.b, 5, p, true, &j, out, sizeof(out));
	assert_int_equal(j.action, DROP);
	assert_int_equal(j.parsed, DNS_TRUNCATED);

	/* Cut inside the question: FORMERR, header only. */
	dnsjudge_query(m.b, m.len - 3, p, true, &j, out, sizeof(out));
	assert_int_equal(j.action, ANS);
	assert_int_equal(j.rcode, DNS_RCODE_FORMERR);
	check_answer(out, j.outlen, 0x4242, DNS_RCODE_FORMERR, 0);
	assert_false(j.judged);

	/* Trailing bytes. */
	query(&m, 0x4243, "allowed.test", 1);
	put16(&m, 0);
	dnsjudge_query(m.b, m.len, p, true, &j, out, sizeof(out));
	assert_int_equal(j.action, ANS);
	assert_int_equal(j.rcode, DNS_RCODE_FORMERR);

	/* Two questions. */
	header(&m, 0x4244, 0x0100, 2, 0, 0, 0);
	put_name(&m, "a.test");
	put16(&m, 1);
	put16(&m, 1);
	put_name(&m, "b.test");
	put16(&m, 1);
	put16(&m, 1);
	dnsjudge_query(m.b, m.len, p, true, &j, out, sizeof(out));
	assert_int_equal(j.rcode, DNS_RCODE_FORMERR);
	check_answer(out, j.outlen, 0x4244, DNS_RCODE_FORMERR, 0);

	/* A response sent to us: silence. */
	header(&m, 0x4245, 0x8100, 1, 0, 0, 0);
	put_name(&m, "allowed.test");
	put16(&m, 1);
	put16(&m, 1);
	dnsjudge_query(m.b, m.len, p, true, &j, out, sizeof(out));
	assert_int_equal(j.action, DROP);
	assert_int_equal(j.rcode, -1);

	/* Opcode STATUS (2). */
	header(&m, 0x4246, 2 << 11, 0, 0, 0, 0);
	dnsjudge_query(m.b, m.len, p, true, &j, out, sizeof(out));
	assert_int_equal(j.rcode, DNS_RCODE_NOTIMP);
	check_answer(out, j.outlen, 0x4246, DNS_RCODE_NOTIMP, 0);

	/* CHAOS version.bind. */
	header(&m, 0x4247, 0x0100, 1, 0, 0, 0);
	put_name(&m, "version.bind");
	put16(&m, 16);
	put16(&m, 3);
	dnsjudge_query(m.b, m.len, p, true, &j, out, sizeof(out));
	assert_int_equal(j.rcode, DNS_RCODE_REFUSED);
	assert_false(j.judged);
	check_answer(out, j.outlen, 0x4247, DNS_RCODE_REFUSED, 1);

	/* A compression pointer in the question. */
	header(&m, 0x4248, 0x0100, 1, 0, 0, 0);
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	dnsjudge_query(m.b, m.len, p, true, &j, out, sizeof(out));
	assert_int_equal(j.rcode, DNS_RCODE_FORMERR);

	/* An answer that does not fit the caller's buffer: dropped. */
	query(&m, 0x4249, "a b.test", 1);
	dnsjudge_query(m.b, m.len, p, true, &j, out, 8);
	assert_int_equal(j.action, DROP);
	policy_unref(p);
}

/* Telemetry down: SERVFAIL for everything well formed, nothing forwarded. */
static void
test_judge_telemetry_down(void **state)
{
	struct policy *p = load("allow *");
	struct dnsjudge j;
	struct msg m;
	uint8_t out[DNS_MSG_MAX];

	query(&m, 7, "allowed.test", 1);
	dnsjudge_query(m.b, m.len, p, false, &j, out, sizeof(out));
	assert_int_equal(j.action, ANS);
	check_answer(out, j.outlen, 7, DNS_RCODE_SERVFAIL, 1);
	dnsjudge_query(m.b, m.len, NULL, false, &j, out, sizeof(out));
	assert_int_equal(j.action, ANS);
	assert_int_equal(j.rcode, DNS_RCODE_SERVFAIL);
	policy_unref(p);
}

/* An upstream answer: question echoed, then records whose owner is a
 * pointer to the question name. */
struct rr {
	unsigned	type;		/* 0 ends the list */
	const char	*data;		/* address text, or CNAME target */
	const char	*owner;		/* NULL: the question name */
};

static void
response(struct msg *m, unsigned id, unsigned rcode, const char *name,
    unsigned type, const struct rr *rrs, size_t nrr)
{
	uint8_t a[16];
	size_t i, mark;

	header(m, id, 0x8180 | rcode, 1, (unsigned)nrr, 0, 0);
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
	for (i = 0; i < nrr; i++) {
		if (rrs[i].owner == NULL)
			put16(m, 0xc00c);
		else
			put_name(m, rrs[i].owner);
		put16(m, rrs[i].type);
		put16(m, 1);
		put32(m, 300);
		switch (rrs[i].type) {
		case 1:
			assert_int_equal(inet_pton(AF_INET, rrs[i].data, a), 1);
			put16(m, 4);
			memcpy(m->b + m->len, a, 4);
			m->len += 4;
			break;
		case 28:
			assert_int_equal(inet_pton(AF_INET6, rrs[i].data, a), 1);
			put16(m, 16);
			memcpy(m->b + m->len, a, 16);
			m->len += 16;
			break;
		default:
			mark = m->len;
			put16(m, 0);
			put_name(m, rrs[i].data);
			m->b[mark] = (uint8_t)((m->len - mark - 2) >> 8);
			m->b[mark + 1] = (uint8_t)(m->len - mark - 2);
			break;
		}
	}
}

/* The gateway's own addresses in the test world. */
static const char *const self_text[] = { "198.19.0.1", "fd00:a9:ff::1" };

static void
respond(const struct dnsjudge *j, const struct policy *p, size_t udp_limit,
    const uint8_t *q, size_t qlen, const uint8_t *resp, size_t len,
    struct dns_response *r, struct dnscheck *c, uint8_t *out, size_t outsize)
{
	struct ag_addr self[2];
	struct dnsjudge_env env;

	assert_int_equal(addr_parse(self_text[0], &self[0]), 0);
	assert_int_equal(addr_parse(self_text[1], &self[1]), 0);
	env.pol = p;
	env.self = self;
	env.nself = 2;
	env.udp_limit = udp_limit;
	dnsjudge_response(j, &env, q, qlen, resp, len, r, c, out, outsize);
}

struct resp_case {
	const char	*desc;
	const char	*policy;
	unsigned	 qtype;
	unsigned	 rcode;		/* upstream's */
	struct rr	 rrs[4];
	bool		 local;		/* our error answer */
	int		 want_rcode;
	size_t		 refused;
};

static const struct resp_case resp_cases[] = {
	{ "public A", "allow allowed.test", 1, 0,
	    { { 1, "93.184.216.34", NULL } }, false, 0, 0 },
	{ "public AAAA", "allow allowed.test", 28, 0,
	    { { 28, "2606:2800:220:1::1", NULL } }, false, 0, 0 },
	{ "benchmark range allowed by a rule",
	    "allow allowed.test\nallow 198.19.0.0/24", 1, 0,
	    { { 1, "198.19.0.2", NULL } }, false, 0, 0 },
	{ "ULA allowed by a rule",
	    "allow allowed.test\nallow fd00:a9:ff::/64", 28, 0,
	    { { 28, "fd00:a9:ff::2", NULL } }, false, 0, 0 },
	{ "benchmark range without a rule", "allow allowed.test", 1, 0,
	    { { 1, "198.19.0.2", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "loopback", "allow allowed.test\nallow 198.19.0.0/24", 1, 0,
	    { { 1, "127.0.0.1", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "IPv6 loopback", "allow allowed.test", 28, 0,
	    { { 28, "::1", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "private", "allow allowed.test", 1, 0,
	    { { 1, "10.1.2.3", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "link-local", "allow allowed.test", 1, 0,
	    { { 1, "169.254.1.1", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "metadata", "allow allowed.test\nallow 198.19.0.0/24", 1, 0,
	    { { 1, "169.254.169.254", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "IPv6 metadata", "allow allowed.test", 28, 0,
	    { { 28, "fd00:ec2::254", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "one bad address among good ones", "allow allowed.test", 1, 0,
	    { { 1, "93.184.216.34", NULL }, { 1, "127.0.0.2", NULL },
	    { 1, "93.184.216.35", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "private range allowed for port 22 only does not count",
	    "allow allowed.test\nallow 10.0.0.0/8 port 22", 1, 0,
	    { { 1, "10.1.2.3", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "private range allowed", "allow allowed.test\nallow 10.0.0.0/8", 1, 0,
	    { { 1, "10.1.2.3", NULL } }, false, 0, 0 },
	{ "address rule denying comes first",
	    "deny 10.1.0.0/16\nallow allowed.test\nallow 10.0.0.0/8", 1, 0,
	    { { 1, "10.1.2.3", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "CNAME to a denied name is not judged", "allow allowed.test", 1, 0,
	    { { 5, "internal.corp", NULL },
	    { 1, "93.184.216.34", "internal.corp" } }, false, 0, 0 },
	{ "CNAME then a private address", "allow allowed.test", 1, 0,
	    { { 5, "internal.corp", NULL },
	    { 1, "10.0.0.1", "internal.corp" } }, true, DNS_RCODE_REFUSED, 1 },
	{ "private address of another owner", "allow allowed.test", 1, 0,
	    { { 1, "10.0.0.1", "elsewhere.test" } }, true, DNS_RCODE_REFUSED, 1 },
	{ "the gateway itself, even when a rule allows it",
	    "allow allowed.test\nallow 198.19.0.0/24", 1, 0,
	    { { 1, "198.19.0.1", NULL } }, true, DNS_RCODE_REFUSED, 1 },
	{ "the gateway's IPv6 address",
	    "allow allowed.test\nallow fd00:a9:ff::/64", 28, 0,
	    { { 28, "fd00:a9:ff::2", NULL }, { 28, "fd00:a9:ff::1", NULL } },
	    true, DNS_RCODE_REFUSED, 1 },
	{ "NXDOMAIN passes", "allow allowed.test", 1, 3,
	    { { 0, NULL, NULL } }, false, 3, 0 },
	{ "upstream REFUSED passes", "allow allowed.test", 16, 5,
	    { { 0, NULL, NULL } }, false, 5, 0 },
};

static size_t
count_rrs(const struct rr *rrs, size_t max)
{
	size_t n = 0;

	while (n < max && rrs[n].type != 0)
		n++;
	return n;
}

static void
test_check_responses(void **state)
{
	static struct dns_response r;
	struct dnsjudge j;
	struct dnscheck c;
	struct msg q, m;
	uint8_t out[DNS_MSG_MAX], jout[512];
	size_t i;

	for (i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		const struct resp_case *t = &resp_cases[i];
		struct policy *p = load(t->policy);

		query(&q, 0x2000 + (unsigned)i, "allowed.test", t->qtype);
		dnsjudge_query(q.b, q.len, p, true, &j, jout, sizeof(jout));
		assert_int_equal(j.action, FWD);
		/* c-ares used its own id upstream. */
		response(&m, 0xbeef, t->rcode, "allowed.test", t->qtype,
		    t->rrs, count_rrs(t->rrs, 4));
		respond(&j, p, 512, q.b, q.len, m.b, m.len,
		    &r, &c, out, sizeof(out));
		if (c.local != t->local || c.rcode != t->want_rcode ||
		    c.refused != t->refused)
			fail_msg("%s: local %d rcode %d refused %zu", t->desc,
			    c.local, c.rcode, c.refused);
		assert_int_equal((out[0] << 8) | out[1], 0x2000 + (unsigned)i);
		assert_int_equal(out[3] & 0x0f, t->want_rcode);
		if (t->local) {
			assert_non_null(c.reason);
			check_answer(out, c.outlen, 0x2000 + (unsigned)i,
			    t->want_rcode, 1);
		} else {
			assert_null(c.reason);
			assert_int_equal(c.outlen, m.len);
			assert_memory_equal(out + 2, m.b + 2, m.len - 2);
		}
		policy_unref(p);
	}
}

static void
test_check_bad_responses(void **state)
{
	static struct dns_response r;
	static const struct rr one[] = { { 1, "93.184.216.34", NULL } };
	struct policy *p = load("allow allowed.test\nallow *.test");
	struct dnsjudge j;
	struct dnscheck c;
	struct msg q, m;
	uint8_t out[DNS_MSG_MAX], jout[512];
	struct rr many[70];
	char addrs[70][16];
	size_t i;

	query(&q, 0x3333, "allowed.test", 1);
	dnsjudge_query(q.b, q.len, p, true, &j, jout, sizeof(jout));
	assert_int_equal(j.action, FWD);

	/* Cut short. */
	response(&m, 0x3333, 0, "allowed.test", 1, one, 1);
	respond(&j, p, 0, q.b, q.len, m.b, m.len - 2,
	    &r, &c, out, sizeof(out));
	assert_true(c.local);
	check_answer(out, c.outlen, 0x3333, DNS_RCODE_SERVFAIL, 1);

	/* Under a header. */
	respond(&j, p, 0, q.b, q.len, m.b, 3, &r, &c, out, sizeof(out));
	check_answer(out, c.outlen, 0x3333, DNS_RCODE_SERVFAIL, 1);

	/* Another question (name, then type). */
	response(&m, 0x3333, 0, "other.test", 1, one, 1);
	respond(&j, p, 0, q.b, q.len, m.b, m.len, &r, &c, out, sizeof(out));
	check_answer(out, c.outlen, 0x3333, DNS_RCODE_SERVFAIL, 1);
	response(&m, 0x3333, 0, "allowed.test", 28, NULL, 0);
	respond(&j, p, 0, q.b, q.len, m.b, m.len, &r, &c, out, sizeof(out));
	check_answer(out, c.outlen, 0x3333, DNS_RCODE_SERVFAIL, 1);

	/* 0x20 mixed case is the same question. */
	response(&m, 0x3333, 0, "ALLOWED.test", 1, one, 1);
	respond(&j, p, 0, q.b, q.len, m.b, m.len, &r, &c, out, sizeof(out));
	assert_false(c.local);
	assert_int_equal(r.n_answers, 1);

	/* 40 public A records (640 bytes of records): over 512 for UDP,
	 * whole over TCP. */
	for (i = 0; i < 70; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "93.184.%zu.%zu", i / 200,
		    i % 200 + 1);
		many[i].type = 1;
		many[i].data = addrs[i];
		many[i].owner = NULL;
	}
	response(&m, 0x3333, 0, "allowed.test", 1, many, 40);
	assert_true(m.len > 512);
	respond(&j, p, 512, q.b, q.len, m.b, m.len, &r, &c, out, sizeof(out));
	assert_false(c.local);
	assert_true(c.truncated);
	assert_true(c.outlen <= 512);
	assert_true(out[2] & 0x02);			/* TC */
	assert_int_equal((out[0] << 8) | out[1], 0x3333);
	respond(&j, p, 0, q.b, q.len, m.b, m.len, &r, &c, out, sizeof(out));
	assert_false(c.truncated);
	assert_int_equal(c.outlen, m.len);

	/* More address records than can be checked: SERVFAIL. */
	response(&m, 0x3333, 0, "allowed.test", 1, many, 70);
	respond(&j, p, 0, q.b, q.len, m.b, m.len, &r, &c, out, sizeof(out));
	assert_true(c.local);
	check_answer(out, c.outlen, 0x3333, DNS_RCODE_SERVFAIL, 1);

	/* An answer longer than the caller's buffer. */
	response(&m, 0x3333, 0, "allowed.test", 1, one, 1);
	respond(&j, p, 0, q.b, q.len, m.b, m.len, &r, &c, out, m.len - 1);
	assert_true(c.local);
	assert_int_equal(c.rcode, DNS_RCODE_SERVFAIL);
	policy_unref(p);
}

/* Random damage to a query and to an answer (fixed seed): the judge never
 * forwards anything but the one allowed question, and never passes on an
 * answer holding an address that fails dnsjudge_addr_ok(). */
static void
test_random_damage(void **state)
{
	static struct dns_response r, r2;
	static const struct rr rrs[] = { { 5, "x.test", NULL },
	    { 1, "93.184.216.34", "x.test" }, { 28, "::1", "y.test" } };
	struct policy *p = load("allow allowed.test\nallow 198.19.0.0/24");
	struct dnsjudge j, j0;
	struct dnscheck c;
	struct msg q, m, d;
	uint8_t out[DNS_MSG_MAX], jout[512];
	struct ag_addr self[1];
	struct dnsjudge_env env = { p, self, 1, 512 };
	unsigned seed = 12345, i, k, flips, forwarded = 0, passed = 0;
	size_t a;

	assert_int_equal(addr_parse("198.19.0.1", &self[0]), 0);
	query(&q, 0x4444, "allowed.test", 1);
	dnsjudge_query(q.b, q.len, p, true, &j0, jout, sizeof(jout));
	assert_int_equal(j0.action, FWD);
	response(&m, 0x4444, 0, "allowed.test", 1, rrs, 3);
	for (i = 0; i < 20000; i++) {
		d = q;
		flips = 1 + (unsigned)rand_r(&seed) % 3;
		for (k = 0; k < flips; k++)
			d.b[(size_t)rand_r(&seed) % d.len] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		if (rand_r(&seed) % 8 == 0)
			d.len = (size_t)rand_r(&seed) % (q.len + 1);
		dnsjudge_query(d.b, d.len, p, true, &j, jout, sizeof(jout));
		if (j.action == FWD) {
			forwarded++;
			assert_string_equal(j.name, "allowed.test");
			assert_int_equal(dns_parse_query(d.b, d.len, &j.query), DNS_OK);
		} else if (j.action == ANS)
			assert_true(j.outlen >= 12 && j.outlen <= sizeof(jout));

		d = m;
		flips = 1 + (unsigned)rand_r(&seed) % 3;
		for (k = 0; k < flips; k++)
			d.b[(size_t)rand_r(&seed) % d.len] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
		if (rand_r(&seed) % 8 == 0)
			d.len = (size_t)rand_r(&seed) % (m.len + 1);
		dnsjudge_response(&j0, &env, q.b, q.len, d.b, d.len, &r, &c, out,
		    sizeof(out));
		assert_int_equal((out[0] << 8) | out[1], 0x4444);
		if (c.local)
			continue;
		passed++;
		/* What goes to the client parses and holds no bad address. */
		assert_int_equal(dns_parse_response(out, c.outlen, &r2), DNS_OK);
		for (a = 0; a < r2.n_answers; a++)
			if (r2.answers[a].type != DNS_TYPE_CNAME)
				assert_true(dnsjudge_addr_ok(&env, &r2.answers[a].addr));
	}
	/* Both sides saw damage that still passes (TTLs, case, ids). */
	assert_true(forwarded > 0);
	assert_true(passed > 0);
	policy_unref(p);
}

static void
test_names(void **state)
{
	char b[DNSJUDGE_TYPE_LEN];

	assert_string_equal(dnsjudge_type_name(1, b, sizeof(b)), "A");
	assert_string_equal(dnsjudge_type_name(28, b, sizeof(b)), "AAAA");
	assert_string_equal(dnsjudge_type_name(255, b, sizeof(b)), "ANY");
	assert_string_equal(dnsjudge_type_name(65, b, sizeof(b)), "HTTPS");
	assert_string_equal(dnsjudge_type_name(65535, b, sizeof(b)), "TYPE65535");
	assert_string_equal(dnsjudge_rcode_name(5, b, sizeof(b)), "REFUSED");
	assert_string_equal(dnsjudge_rcode_name(0, b, sizeof(b)), "NOERROR");
	assert_string_equal(dnsjudge_rcode_name(9, b, sizeof(b)), "RCODE9");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judge_queries),
		cmocka_unit_test(test_judge_malformed),
		cmocka_unit_test(test_judge_telemetry_down),
		cmocka_unit_test(test_check_responses),
		cmocka_unit_test(test_check_bad_responses),
		cmocka_unit_test(test_random_damage),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("dnsjudge", tests, NULL, NULL);
}
