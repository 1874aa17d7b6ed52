/*
 * The decision for the first packet of a flow that reached the queue: who
 * sent it (the task), what it is (fragment, DNS, UDP, ICMP, other) and what
 * the task's policy says about its destination, by address rule or by a
 * name rule through a DNS-learned binding. No I/O: the caller looks the
 * task and policy up and acts on the verdict.
 */
#ifndef AG_NFQ_JUDGE_H
#define AG_NFQ_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "bindings.h"
#include "flow.h"
#include "hold.h"
#include "packet.h"
#include "policy.h"
#include "registry.h"

/* Why a verdict was given; judge_reason_name() is the telemetry text. */
enum judge_reason {
	JUDGE_POLICY = 0,	/* the task's policy decided (a rule or default deny) */
	JUDGE_UNKNOWN_SOURCE,	/* no task holds the source address */
	JUDGE_NO_POLICY,	/* the task's policy cannot be loaded */
	JUDGE_FRAGMENT,		/* a non-first fragment: rules sit after
				 * defragmentation, so this one slipped past */
	JUDGE_DNS,		/* DNS (53, 853) not through the gateway's forwarder */
	JUDGE_MALFORMED,	/* the packet did not parse */
	JUDGE_TELEMETRY,	/* telemetry cannot record: fail closed */
	JUDGE_FLOWS_FULL,	/* the flow table is full of live flows */
	/* Packet-only mode, TCP (docs/nfq.md): */
	JUDGE_TCP_NO_SYN,	/* a TCP packet of no known flow, not a SYN */
	JUDGE_SYN_DATA,		/* a SYN carrying data (TCP Fast Open) */
	JUDGE_NOT_BOUND,	/* the name's rule allows it, but no DNS answer
				 * to this task gave the destination for it */
	JUDGE_NO_NAME,		/* no SNI or Host, and no address rule allows */
	JUDGE_BAD_NAME,		/* SNI or Host is not a valid name */
	JUDGE_HELLO_INVALID,	/* a malformed ClientHello or request head */
	JUDGE_HELLO_INCOMPLETE,	/* not complete within the hold bounds */
};

struct judge_decision {
	enum flow_verdict	 verdict;
	enum judge_reason	 reason;
	struct policy_verdict	 pv;		/* for JUDGE_POLICY */
	/* The bound name whose rule decided, "" when an address rule or the
	 * default deny did. */
	char			 name[CANON_NAME_MAX + 1];
};

struct judge_env {
	struct bindings	*bindings;	/* NULL: name rules never match */
	bool		 reject;	/* denied UDP/TCP gets FLOW_REJECT, not DROP */
	uint16_t	 dns_port;	/* the forwarder's port (dns-port) */
	bool		 packet_only;	/* nfq-mode packet-only: TCP is ours */
};

/*
 * Judge a parsed packet (packet_parse() gave PACKET_OK) from `task` (NULL:
 * unknown source) under `pol` (NULL: the task's policy cannot be loaded).
 * Denied UDP and TCP are FLOW_REJECT when env->reject (the client learns at
 * once), everything else denied is FLOW_DROP.
 */
void judge_packet(const struct judge_env *env, const struct packet *p,
    const struct reg_task *task, const struct policy *pol, uint64_t now_ms,
    struct judge_decision *d);

/*
 * Packet-only mode: the decision on a TCP flow whose SYN passed once its
 * first payload was examined (r is hold_examine()'s result, not
 * NEED_MORE). A name (SNI or Host) is judged with the destination's address
 * rules, first match wins; when a name rule allows, the name must also be
 * bound to p->dst for the task (a DNS answer it received gave that
 * address). Without a name only an address rule can allow. p carries the
 * flow's addresses and ports.
 */
void judge_tcp_hello(const struct judge_env *env, const struct packet *p,
    const struct reg_task *task, const struct policy *pol,
    enum hold_result r, const struct hold_hello *h, uint64_t now_ms,
    struct judge_decision *d);

/*
 * Whether p is a DNS answer for a task: UDP or TCP from port 53 or
 * env->dns_port to `dst_task`'s address. Such packets reach the queue only
 * when the gateway queues the forwarder's own output (docs/nfq.md); they
 * are accepted without an event. When the payload parses as a response,
 * the bindings it carries are learned for the task: a UDP payload is one
 * message; a TCP segment is read as the messages (each after its two-byte
 * length) it holds whole, from its start. `scratch` is the caller's
 * (large) parse buffer.
 */
bool judge_dns_answer(const struct judge_env *env, const struct packet *p,
    const struct reg_task *dst_task, struct dns_response *scratch,
    uint64_t now_ms);

/* The policy protocol of an IP protocol number, 0 for one no rule names. */
enum policy_proto judge_proto(uint8_t ipproto);

/* "policy", "unknown-source", ... */
const char *judge_reason_name(enum judge_reason r);

#endif
