/*
 * DNS forwarder decisions without I/O (dnsjudge.h). Everything that is not
 * a resolvable question of a known task is answered here and never goes
 * upstream; everything upstream says is checked before the client sees it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dnsjudge.h"

/* The (protocol, port) pairs a name is nearly always wanted for. */
static const struct {
	enum policy_proto	proto;
	uint16_t		port;
} usual_ports[] = {
	{ POLICY_PROTO_TCP, 443 },
	{ POLICY_PROTO_TCP, 80 },
	{ POLICY_PROTO_UDP, 443 },
};

struct policy_verdict
dnsjudge_resolvable(const struct policy *pol, const char *canon_name)
{
	struct policy_verdict v;
	size_t i;

	for (i = 0; i < sizeof(usual_ports) / sizeof(usual_ports[0]); i++) {
		v = policy_match_name(pol, canon_name, usual_ports[i].proto,
		    usual_ports[i].port);
		if (v.action == POLICY_ALLOW)
			return v;
	}
	return policy_match_name_any(pol, canon_name);
}

bool
dnsjudge_addr_ok(const struct dnsjudge_env *env, const struct ag_addr *a)
{
	size_t i;

	for (i = 0; i < env->nself; i++)
		if (addr_equal(&env->self[i], a))
			return false;
	if (addr_classify(a) == ADDR_PUBLIC)
		return true;
	for (i = 0; i < sizeof(usual_ports) / sizeof(usual_ports[0]); i++)
		if (policy_match_addr(env->pol, a, usual_ports[i].proto,
		    usual_ports[i].port).action == POLICY_ALLOW)
			return true;
	return false;
}

/* Build the error answer, or drop when even that is impossible. */
static void
answer(struct dnsjudge *j, const uint8_t *q, size_t len, enum dns_rcode rcode,
    const char *reason, uint8_t *out, size_t outsize)
{
	ssize_t n;

	j->reason = reason;
	n = dns_build_error(q, len, rcode, out, outsize);
	if (n < 0) {
		j->action = DNSJUDGE_DROP;
		j->rcode = -1;
		j->outlen = 0;
		return;
	}
	j->action = DNSJUDGE_ANSWER;
	j->rcode = (int)rcode;
	j->outlen = (size_t)n;
}

static const char *
parse_reason(enum dns_result res)
{
	switch (res) {
	case DNS_TRUNCATED:
		return "truncated query";
	case DNS_NOTIMP:
		return "opcode not implemented";
	case DNS_REFUSED:
		return "class other than IN";
	case DNS_IGNORE:
		return "response where a query belongs";
	default:
		return "malformed query";
	}
}

void
dnsjudge_query(const uint8_t *q, size_t len, const struct policy *pol,
    bool telemetry_ok, struct dnsjudge *j, uint8_t *out, size_t outsize)
{
	struct canon_out co;
	enum canon_result cr;
	int rc;

	memset(j, 0, sizeof(*j));
	j->rcode = -1;
	j->verdict.action = POLICY_DENY;
	j->parsed = dns_parse_query(q, len, &j->query);
	if (j->parsed != DNS_OK) {
		j->reason = parse_reason(j->parsed);
		if ((rc = dns_result_rcode(j->parsed)) < 0) {
			j->action = DNSJUDGE_DROP;
			return;
		}
		answer(j, q, len, (enum dns_rcode)rc, j->reason, out, outsize);
		return;
	}
	if (!telemetry_ok) {
		answer(j, q, len, DNS_RCODE_SERVFAIL, "telemetry failing",
		    out, outsize);
		return;
	}
	if (pol == NULL) {
		answer(j, q, len, DNS_RCODE_REFUSED, "no task for source address",
		    out, outsize);
		return;
	}
	if (!j->query.question.name.valid) {
		answer(j, q, len, DNS_RCODE_REFUSED, "invalid name", out, outsize);
		return;
	}
	cr = canon_host(j->query.question.name.text,
	    strlen(j->query.question.name.text), &co);
	if (cr == CANON_ADDRESS) {
		answer(j, q, len, DNS_RCODE_REFUSED, "name is an address literal",
		    out, outsize);
		return;
	}
	if (cr != CANON_NAME) {
		answer(j, q, len, DNS_RCODE_REFUSED, "invalid name", out, outsize);
		return;
	}
	memcpy(j->name, co.name, co.len + 1);
	j->judged = true;
	j->verdict = dnsjudge_resolvable(pol, j->name);
	switch (j->verdict.action) {
	case POLICY_ALLOW:
		j->action = DNSJUDGE_FORWARD;
		return;
	case POLICY_ASK:
		/* Approvals for DNS come with synthetic answers (issue 7). */
		answer(j, q, len, DNS_RCODE_REFUSED, "ask: no approval for DNS",
		    out, outsize);
		return;
	default:
		answer(j, q, len, DNS_RCODE_REFUSED, j->verdict.rule != NULL ?
		    "denied by rule" : "no rule allows the name", out, outsize);
		return;
	}
}

void
dnsjudge_ask(struct dnsjudge *j, const uint8_t *q, size_t len, bool refused,
    const struct ag_addr *synth, uint32_t ttl, uint8_t *out, size_t outsize)
{
	ssize_t n;

	if (refused) {
		answer(j, q, len, DNS_RCODE_REFUSED, "denied by approval", out,
		    outsize);
		return;
	}
	n = dns_build_answer(q, len, synth, synth != NULL ? 1 : 0, ttl, out,
	    outsize);
	if (n < 0) {
		answer(j, q, len, DNS_RCODE_SERVFAIL,
		    "cannot build the synthetic answer", out, outsize);
		return;
	}
	j->action = DNSJUDGE_ANSWER;
	j->rcode = DNS_RCODE_NOERROR;
	j->reason = "ask: synthetic answer, approval pending";
	j->outlen = (size_t)n;
}

static void
check_fail(struct dnscheck *c, const uint8_t *q, size_t qlen,
    enum dns_rcode rcode, const char *reason, uint8_t *out, size_t outsize)
{
	ssize_t n;

	c->local = true;
	c->reason = reason;
	c->truncated = false;
	n = dns_build_error(q, qlen, rcode, out, outsize);
	c->rcode = n < 0 ? -1 : (int)rcode;
	c->outlen = n < 0 ? 0 : (size_t)n;
}

void
dnsjudge_response(const struct dnsjudge *j, const struct dnsjudge_env *env,
    const uint8_t *q, size_t qlen, const uint8_t *resp, size_t len,
    struct dns_response *r, struct dnscheck *c, uint8_t *out, size_t outsize)
{
	ssize_t n;
	size_t i;

	memset(c, 0, sizeof(*c));
	r->n_answers = 0;
	if (len < DNS_HEADER_LEN || len > outsize) {
		check_fail(c, q, qlen, DNS_RCODE_SERVFAIL,
		    "malformed upstream answer", out, outsize);
		return;
	}
	memcpy(out, resp, len);
	/* c-ares matched its own id; the client gets the one it sent. */
	out[0] = (uint8_t)(j->query.id >> 8);
	out[1] = (uint8_t)j->query.id;
	if (dns_parse_response(out, len, r) != DNS_OK) {
		r->n_answers = 0;
		check_fail(c, q, qlen, DNS_RCODE_SERVFAIL,
		    "malformed upstream answer", out, outsize);
		return;
	}
	if (!dns_response_matches(&j->query, r)) {
		r->n_answers = 0;
		check_fail(c, q, qlen, DNS_RCODE_SERVFAIL,
		    "upstream answer for another question", out, outsize);
		return;
	}
	if (r->n_dropped > 0) {
		check_fail(c, q, qlen, DNS_RCODE_SERVFAIL,
		    "too many answer records to check", out, outsize);
		return;
	}
	for (i = 0; i < r->n_answers; i++) {
		if (r->answers[i].type != DNS_TYPE_A &&
		    r->answers[i].type != DNS_TYPE_AAAA)
			continue;
		if (!dnsjudge_addr_ok(env, &r->answers[i].addr))
			c->refused++;
	}
	if (c->refused > 0) {
		check_fail(c, q, qlen, DNS_RCODE_REFUSED,
		    "answer points at an internal address", out, outsize);
		return;
	}
	c->rcode = r->rcode;
	c->outlen = len;
	if (env->udp_limit > 0 && len > env->udp_limit) {
		n = dns_truncate_for_udp(out, len, env->udp_limit);
		if (n < 0) {
			check_fail(c, q, qlen, DNS_RCODE_SERVFAIL,
			    "upstream answer cannot be cut for UDP", out,
			    outsize);
			return;
		}
		c->truncated = true;
		c->outlen = (size_t)n;
	}
}

const char *
dnsjudge_type_name(uint16_t type, char *buf, size_t size)
{
	static const struct {
		uint16_t	type;
		const char	*name;
	} names[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" },
		{ 12, "PTR" }, { 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" },
		{ 33, "SRV" }, { 35, "NAPTR" }, { 43, "DS" }, { 48, "DNSKEY" },
		{ 64, "SVCB" }, { 65, "HTTPS" }, { 252, "AXFR" }, { 255, "ANY" },
		{ 257, "CAA" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type) {
			snprintf(buf, size, "%s", names[i].name);
			return buf;
		}
	snprintf(buf, size, "TYPE%u", (unsigned)type);
	return buf;
}

const char *
dnsjudge_rcode_name(int rcode, char *buf, size_t size)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED" };

	if (rcode >= 0 && (size_t)rcode < sizeof(names) / sizeof(names[0]))
		snprintf(buf, size, "%s", names[rcode]);
	else
		snprintf(buf, size, "RCODE%d", rcode);
	return buf;
}
