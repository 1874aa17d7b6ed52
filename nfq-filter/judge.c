/*
 * Judging one new flow. The order matters: who sent it, then what can
 * never pass whatever the policy says (fragments, DNS around the
 * forwarder), then the policy; the first matching rule wins across address
 * and name rules alike, as in the proxy.
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "canon.h"
#include "judge.h"

/* Names looked at per destination address; more are rare and ignored. */
#define JUDGE_NAMES_MAX	8

enum policy_proto
judge_proto(uint8_t ipproto)
{
	switch (ipproto) {
	case IPPROTO_TCP:
		return POLICY_PROTO_TCP;
	case IPPROTO_UDP:
		return POLICY_PROTO_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return POLICY_PROTO_ICMP;
	default:
		return 0;
	}
}

static bool
judge_is_dns(const struct packet *p)
{
	return (p->proto == IPPROTO_UDP || p->proto == IPPROTO_TCP) &&
	    (p->dport == 53 || p->dport == 853);
}

static enum flow_verdict
judge_denied(const struct judge_env *env, const struct packet *p)
{
	if (env->reject && (p->proto == IPPROTO_UDP || p->proto == IPPROTO_TCP))
		return FLOW_REJECT;
	return FLOW_DROP;
}

/* Whether rule a comes before rule b in their policy (NULL: never). */
static bool
rule_before(const struct policy_rule *a, const struct policy_rule *b)
{
	if (a == NULL)
		return false;
	return b == NULL || policy_rule_index(a) < policy_rule_index(b);
}

void
judge_packet(const struct judge_env *env, const struct packet *p,
    const struct reg_task *task, const struct policy *pol, uint64_t now_ms,
    struct judge_decision *d)
{
	char names[JUDGE_NAMES_MAX][CANON_NAME_MAX + 1];
	struct policy_verdict v;
	enum policy_proto proto;
	size_t i, n;

	memset(d, 0, sizeof(d[0]));
	d->verdict = FLOW_DROP;
	d->pv.action = POLICY_DENY;
	if (task == NULL) {
		d->reason = JUDGE_UNKNOWN_SOURCE;
		return;
	}
	if (p->fragment && !p->first_fragment) {
		d->reason = JUDGE_FRAGMENT;
		return;
	}
	if (judge_is_dns(p)) {
		d->reason = JUDGE_DNS;
		return;
	}
	if (pol == NULL) {
		d->reason = JUDGE_NO_POLICY;
		return;
	}
	/* Packet-only: a flow starts with a SYN; anything else of a flow
	 * with no state (forgotten, or never judged) cannot be judged. */
	if (env->packet_only && p->proto == IPPROTO_TCP &&
	    (p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN) {
		d->reason = JUDGE_TCP_NO_SYN;
		return;
	}
	/* TCP Fast Open: the data would reach the server with the SYN,
	 * before any hello check. Dropped: the client retries without. */
	if (env->packet_only && p->proto == IPPROTO_TCP && p->payload_len > 0) {
		d->reason = JUDGE_SYN_DATA;
		return;
	}
	d->reason = JUDGE_POLICY;
	if ((proto = judge_proto(p->proto)) == 0) {
		/* No rule can name this protocol: the default deny. */
		d->verdict = judge_denied(env, p);
		return;
	}
	d->pv = policy_match_addr(pol, &p->dst, proto, p->dport);
	if (env->bindings != NULL) {
		n = bindings_names(env->bindings, task->id, &p->dst, now_ms,
		    names, JUDGE_NAMES_MAX);
		for (i = 0; i < n && i < JUDGE_NAMES_MAX; i++) {
			v = policy_match_name(pol, names[i], proto, p->dport);
			if (rule_before(v.rule, d->pv.rule)) {
				d->pv = v;
				memcpy(d->name, names[i], sizeof(d->name));
			}
		}
	}
	/* ask has no approval path outside the proxy: it denies here. */
	d->verdict = d->pv.action == POLICY_ALLOW ? FLOW_ACCEPT :
	    judge_denied(env, p);
}

void
judge_tcp_hello(const struct judge_env *env, const struct packet *p,
    const struct reg_task *task, const struct policy *pol,
    enum hold_result r, const struct hold_hello *h, uint64_t now_ms,
    struct judge_decision *d)
{
	struct policy_verdict va, vn;
	struct canon_out co;
	enum canon_result cr = CANON_ERR_EMPTY;

	memset(d, 0, sizeof(d[0]));
	d->verdict = FLOW_DROP;
	d->pv.action = POLICY_DENY;
	if (task == NULL) {
		d->reason = JUDGE_UNKNOWN_SOURCE;
		return;
	}
	if (pol == NULL) {
		d->reason = JUDGE_NO_POLICY;
		return;
	}
	switch (r) {
	case HOLD_INVALID:
		d->reason = JUDGE_HELLO_INVALID;
		goto denied;
	case HOLD_NEED_MORE:
	case HOLD_INCOMPLETE:
		d->reason = JUDGE_HELLO_INCOMPLETE;
		goto denied;
	case HOLD_NAMED:
		cr = canon_host(h->host, h->host_len, &co);
		if (cr != CANON_NAME && cr != CANON_ADDRESS) {
			d->reason = JUDGE_BAD_NAME;
			goto denied;
		}
		break;
	case HOLD_UNNAMED:
		break;
	}
	d->reason = JUDGE_POLICY;
	va = policy_match_addr(pol, &p->dst, POLICY_PROTO_TCP, p->dport);
	d->pv = va;
	/* An IP literal as Host or SNI names no server: the address decides. */
	if (r == HOLD_NAMED && cr == CANON_NAME) {
		memcpy(d->name, co.name, sizeof(d->name));
		vn = policy_match_name(pol, co.name, POLICY_PROTO_TCP, p->dport);
		if (rule_before(vn.rule, va.rule) || va.rule == NULL)
			d->pv = vn;
		/* Without a DNS answer to this task tying the name to this
		 * address, an allowed name could carry a flow anywhere. */
		if (d->pv.rule == vn.rule && vn.action == POLICY_ALLOW &&
		    (env->bindings == NULL || !bindings_has(env->bindings,
		    task->id, co.name, &p->dst, now_ms))) {
			d->reason = JUDGE_NOT_BOUND;
			goto denied;
		}
	} else if (va.action != POLICY_ALLOW) {
		d->reason = JUDGE_NO_NAME;
		goto denied;
	}
	if (d->pv.action == POLICY_ALLOW) {
		d->verdict = FLOW_ACCEPT;
		return;
	}
denied:
	d->verdict = judge_denied(env, p);
}

/* A TCP segment from the forwarder: the whole messages at its start. */
static void
judge_dns_tcp(const struct judge_env *env, const struct packet *p,
    const struct reg_task *dst_task, struct dns_response *scratch,
    uint64_t now_ms)
{
	const uint8_t *b = p->payload;
	size_t left = p->payload_len, mlen;

	while (left >= 2) {
		mlen = (size_t)b[0] << 8 | b[1];
		if (mlen == 0 || mlen > left - 2)
			break;
		if (dns_parse_response(b + 2, mlen, scratch) == DNS_OK)
			(void)bindings_learn(env->bindings, dst_task->id,
			    scratch, now_ms);
		b += 2 + mlen;
		left -= 2 + mlen;
	}
}

bool
judge_dns_answer(const struct judge_env *env, const struct packet *p,
    const struct reg_task *dst_task, struct dns_response *scratch,
    uint64_t now_ms)
{
	if (dst_task == NULL || !p->transport ||
	    (p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP) ||
	    (p->sport != 53 && (env->dns_port == 0 || p->sport != env->dns_port)))
		return false;
	if (env->bindings == NULL || p->payload == NULL)
		return true;
	if (p->proto == IPPROTO_TCP)
		judge_dns_tcp(env, p, dst_task, scratch, now_ms);
	else if (dns_parse_response(p->payload, p->payload_len, scratch) ==
	    DNS_OK)
		(void)bindings_learn(env->bindings, dst_task->id, scratch,
		    now_ms);
	return true;
}

const char *
judge_reason_name(enum judge_reason r)
{
	switch (r) {
	case JUDGE_POLICY:
		return "policy";
	case JUDGE_UNKNOWN_SOURCE:
		return "unknown-source";
	case JUDGE_NO_POLICY:
		return "policy-unavailable";
	case JUDGE_FRAGMENT:
		return "fragment";
	case JUDGE_DNS:
		return "dns-not-through-gateway";
	case JUDGE_MALFORMED:
		return "malformed-packet";
	case JUDGE_TELEMETRY:
		return "telemetry-unavailable";
	case JUDGE_FLOWS_FULL:
		return "flow-table-full";
	case JUDGE_TCP_NO_SYN:
		return "tcp-without-syn";
	case JUDGE_SYN_DATA:
		return "syn-with-data";
	case JUDGE_NOT_BOUND:
		return "name-not-bound-to-address";
	case JUDGE_NO_NAME:
		return "no-name";
	case JUDGE_BAD_NAME:
		return "invalid-name";
	case JUDGE_HELLO_INVALID:
		return "hello-invalid";
	case JUDGE_HELLO_INCOMPLETE:
		return "hello-incomplete";
	}
	return "unknown";
}
