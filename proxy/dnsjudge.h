/*
 * The DNS forwarder's decisions, as functions without I/O: a client's query
 * and its task's policy in, "forward it" or a locally built answer out; an
 * upstream answer in, the bytes for the client (or our own error) out.
 */
#ifndef AG_DNSJUDGE_H
#define AG_DNSJUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "canon.h"
#include "dnsmsg.h"
#include "policy.h"

enum dnsjudge_action {
	DNSJUDGE_FORWARD = 0,	/* send the query upstream (resolver_send) */
	DNSJUDGE_ANSWER,	/* send the answer built in out[0..outlen) */
	DNSJUDGE_DROP,		/* send nothing: a response where a query
				 * belongs, or under 12 bytes (no id to echo) */
};

/* What dnsjudge_query() decided, and what the event and the log say. */
struct dnsjudge {
	enum dnsjudge_action	 action;
	/* DNS_RCODE_* of the answer built; -1 when forwarding or dropping */
	int			 rcode;
	enum dns_result		 parsed;	/* dns_parse_query() */
	struct dns_query	 query;		/* as parsed; see dnsmsg.h */
	/* The canonical question name; "" when there is none. */
	char			 name[CANON_NAME_MAX + 1];
	bool			 judged;	/* the policy was asked */
	struct policy_verdict	 verdict;	/* rule NULL: default deny */
	const char		*reason;	/* static; NULL when forwarded */
	size_t			 outlen;
};

/*
 * Judge one query (UDP datagram or TCP message, without the length prefix)
 * from a source whose task has policy `pol` (NULL: the source has no task).
 * In this order: malformed -> FORMERR (NOTIMP for another opcode, REFUSED
 * for another class, DROP for a response); telemetry not ok -> SERVFAIL;
 * no task -> REFUSED; a question name that is invalid, an IP literal or
 * fails canon_host() -> REFUSED; a name that is not resolvable
 * (dnsjudge_resolvable) -> REFUSED; else FORWARD. Nothing but FORWARD
 * lets the question leave the gateway. `out` should hold 512 bytes or more
 * (an error answer is the header, the question and an OPT record); if the
 * answer does not fit, the query is dropped. Never fails otherwise.
 */
void dnsjudge_query(const uint8_t *q, size_t len, const struct policy *pol,
    bool telemetry_ok, struct dnsjudge *j, uint8_t *out, size_t outsize);

/*
 * An `ask` name (after dnsjudge_query() judged it, action ANSWER REFUSED):
 * with `refused` (a denial in scope) it stays REFUSED; else it is answered
 * NOERROR from the synthetic pools without asking upstream: one A or AAAA
 * record of `synth` (matching the question type; NULL or another family:
 * none) with `ttl` seconds. Other question types get an empty NOERROR
 * (NODATA), so clients that ask for HTTPS or MX first go on to A/AAAA
 * instead of failing. The name never leaves the gateway either way.
 */
void dnsjudge_ask(struct dnsjudge *j, const uint8_t *q, size_t len,
    bool refused, const struct ag_addr *synth, uint32_t ttl,
    uint8_t *out, size_t outsize);

/*
 * The forwarder's rule for a name (docs/policy.md, "DNS questions"): ALLOW
 * when policy_match_name() allows TCP 443, TCP 80 or UDP 443, or when the
 * first rule covering the name for any protocol and port allows. Otherwise
 * the verdict of that first rule (deny or ask), or the default deny.
 */
struct policy_verdict dnsjudge_resolvable(const struct policy *pol,
    const char *canon_name);

/* What an upstream answer is checked against. */
struct dnsjudge_env {
	const struct policy	*pol;		/* the task's policy */
	const struct ag_addr	*self;		/* the gateway's own addresses */
	size_t			 nself;
	size_t			 udp_limit;	/* dns_udp_limit(), 0 for TCP */
};

/*
 * An address in an answer may reach the client: never one of the
 * gateway's own; else a public address, or one that an address rule of
 * the policy allows for TCP 443, TCP 80 or UDP 443.
 */
bool dnsjudge_addr_ok(const struct dnsjudge_env *env, const struct ag_addr *a);

/* What dnsjudge_response() made of an upstream answer. */
struct dnscheck {
	bool		 local;		/* our error answer replaces upstream's */
	int		 rcode;		/* RCODE of what goes to the client */
	const char	*reason;	/* static text when local, else NULL */
	size_t		 refused;	/* A/AAAA failing dnsjudge_addr_ok() */
	bool		 truncated;	/* cut for UDP with TC=1 */
	size_t		 outlen;	/* 0: send nothing */
};

/*
 * Check an upstream answer to a query that dnsjudge_query() forwarded (`j`,
 * with the query bytes q/qlen) against env, and write what the client gets
 * to out: the answer with the client's id (c-ares sends its own id
 * upstream), or a SERVFAIL for a malformed answer, one for another
 * question, or one with more address records than are kept to check
 * (DNS_MAX_ANSWERS); a REFUSED when any A or AAAA record fails
 * dnsjudge_addr_ok() (rebinding). CNAME targets are not judged. UDP
 * answers over env->udp_limit are cut with TC=1 (dns_truncate_for_udp).
 * `r` is scratch space (large); after the call it holds the parsed answer
 * when c->refused > 0 or the answer is passed on. out needs DNS_MSG_MAX
 * bytes to take any answer; a longer one gets a SERVFAIL.
 */
void dnsjudge_response(const struct dnsjudge *j,
    const struct dnsjudge_env *env, const uint8_t *q, size_t qlen,
    const uint8_t *resp, size_t len, struct dns_response *r,
    struct dnscheck *c, uint8_t *out, size_t outsize);

/* "A", "AAAA", "TXT", ... or "TYPE%u" (RFC 3597) into buf; returns buf. */
#define DNSJUDGE_TYPE_LEN	12
const char *dnsjudge_type_name(uint16_t type, char *buf, size_t size);

/* "NOERROR", "REFUSED", ... or "RCODE%d". */
const char *dnsjudge_rcode_name(int rcode, char *buf, size_t size);

#endif
