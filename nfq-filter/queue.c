/*
 * The NFQUEUE side of agentgate-nfq: bind a queue, receive packet batches,
 * judge the first packet of each flow and send one verdict per packet.
 * Every attribute is validated (nfq_nlmsg_parse) and every length checked
 * before use; a message that cannot be read is counted, never guessed at.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "bindings.h"
#include "dnsmsg.h"
#include "event.h"
#include "flow.h"
#include "hold.h"
#include "judge.h"
#include "log.h"
#include "packet.h"
#include "queue.h"
#include "state.h"
#include "telemetry.h"

/* A receive holds many packets of up to NFQ_COPY_RANGE bytes each. */
#define QUEUE_RECV_SIZE		(256 * 1024)
/* Verdict messages are about 64 bytes; flush when this much is queued. */
#define QUEUE_BATCH_LIMIT	(32 * 1024)

/* One batch of verdicts being built while a receive is walked. */
struct verdicts {
	struct nfq_queue	*q;
	struct mnl_nlmsg_batch	*b;
	uint64_t		 now_ms;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int queue_packet_cb(const struct nlmsghdr *nlh, void *arg);

/* A packet queued while the queue is still being configured (no thread
 * judges yet): dropped at once, so it does not wait forever. */
static void
queue_drop_now(struct nfq_queue *q, const struct nlmsghdr *pkt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlattr *attr[NFQA_MAX + 1];
	struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *nlh;

	memset(attr, 0, sizeof(attr));
	if (nfq_nlmsg_parse(pkt, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)ntohl(ph->packet_id), NF_DROP);
	(void)mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
}

/*
 * Walk the messages of one receive. Packets go to queue_packet_cb (vs
 * set) or are dropped at once (vs NULL: still configuring). The error or
 * acknowledgement for `seq` (nonzero) sets *acked and *err. Nothing else
 * ends the walk: an error message about one verdict must not cost the
 * packets after it theirs (mnl_cb_run() would stop there).
 */
static void
queue_walk(struct nfq_queue *q, const char *buf, size_t len,
    struct verdicts *vs, uint32_t seq, bool *acked, int *err)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)(const void *)buf;
	const struct nlmsgerr *e;
	int rest = (int)len;

	for (; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
				q->st.bad_messages++;
				continue;
			}
			e = mnl_nlmsg_get_payload(nlh);
			if (seq != 0 && nlh->nlmsg_seq == seq) {
				*acked = true;
				*err = -e->error;
			} else if (e->error != 0)
				log_warnx("queue %u: kernel: %s", q->num,
				    strerror(-e->error));
			continue;
		}
		if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_QUEUE ||
		    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET)
			continue;
		if (vs != NULL)
			(void)queue_packet_cb(nlh, vs);
		else
			queue_drop_now(q, nlh);
	}
}

/* Send a config message and wait for its acknowledgement. */
static int
queue_config(struct nfq_queue *q, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	uint32_t seq = ((uint32_t)time(NULL) << 8) ^ q->num ^ 0x80000000u;
	bool acked = false;
	int err = 0, tries;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	/* Packets may arrive before the ack once the queue is bound. */
	for (tries = 0; !acked && tries < 64; tries++) {
		if ((n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf))) < 0)
			return -1;
		queue_walk(q, buf, (size_t)n, NULL, seq, &acked, &err);
	}
	if (!acked)
		err = ETIMEDOUT;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Copy range, queue length and flags. Never FAIL_OPEN: with the queue
 * full or us gone, nothing passes (the mask names it, so it is cleared). */
static int
queue_params(struct nfq_queue *q, char *buf, uint32_t flags)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQ_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, NFQ_QUEUE_MAXLEN);
	/* GSO: whole GSO packets, no segmentation for us. CONNTRACK: the
	 * NFQA_CT attribute, and the right to set the connmark in a verdict. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO |
	    NFQA_CFG_F_CONNTRACK | NFQA_CFG_F_FAIL_OPEN));
	return queue_config(q, nlh);
}

int
nfq_queue_open(struct nfq_queue *q, uint16_t num, struct nfq_shared *sh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	/* So the thread sees stop, and the hold timer runs (docs/nfq.md). */
	struct timeval tv = { 0, 100 * 1000 };
	int fd, size = NFQ_RCVBUF, save;
	uint64_t seed;

	memset(q, 0, sizeof(*q));
	q->num = num;
	q->sh = sh;
	q->gen = nfq_state_generation(sh->state);
	/* A keyed hash, so that a sandbox cannot aim its flows at one chain. */
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return -1;
	if ((q->flows = flow_table_new(sh->flow_max, sh->flow_idle_ms,
	    seed)) == NULL)
		return -1;
	if ((q->dns = malloc(sizeof(*q->dns))) == NULL)
		goto fail;
	if (sh->packet_only && (q->hold = hold_table_new(sh->hold_max,
	    seed ^ 0x686f6c64u)) == NULL)
		goto fail;
	if ((q->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		goto fail;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	q->portid = mnl_socket_get_portid(q->nl);
	fd = mnl_socket_get_fd(q->nl);
	/* FORCE passes rmem_max with CAP_NET_ADMIN; else take what we get. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		goto fail;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (queue_config(q, nlh) == -1)
		goto fail;

	if (queue_params(q, buf, NFQA_CFG_F_GSO | NFQA_CFG_F_CONNTRACK) == -1) {
		/* EOPNOTSUPP: nf_conntrack_netlink is not loaded, so the
		 * kernel cannot attach conntrack to packets or take a
		 * connmark from a verdict. Packets are still judged; accepted
		 * ones carry the packet mark only. */
		if (errno != EOPNOTSUPP ||
		    queue_params(q, buf, NFQA_CFG_F_GSO) == -1)
			goto fail;
		log_warnx("queue %u: no conntrack in verdicts (load "
		    "nf_conntrack_netlink): accepted flows get the packet "
		    "mark only", num);
	}
	return 0;

fail:
	save = errno;
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	q->nl = NULL;
	flow_table_free(q->flows);
	q->flows = NULL;
	free(q->dns);
	q->dns = NULL;
	hold_table_free(q->hold);
	q->hold = NULL;
	errno = save;
	return -1;
}

/* Append one verdict; flush the batch to the kernel when it is full. */
static void
verdict_put(struct verdicts *vs, uint32_t id, int verdict, uint32_t mark,
    bool connmark)
{
	struct nfq_queue *q = vs->q;
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = nfq_nlmsg_put(mnl_nlmsg_batch_current(vs->b), NFQNL_MSG_VERDICT,
	    q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (mark != 0)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (connmark) {
		nest = mnl_attr_nest_start(nlh, NFQA_CT);
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
		mnl_attr_nest_end(nlh, nest);
	}
	if (!mnl_nlmsg_batch_next(vs->b)) {
		/* This message did not fit under the limit: send the
		 * others, then move it to the front. */
		if (mnl_socket_sendto(q->nl, mnl_nlmsg_batch_head(vs->b),
		    mnl_nlmsg_batch_size(vs->b)) < 0)
			log_warn("queue %u: verdicts", q->num);
		mnl_nlmsg_batch_reset(vs->b);
	}
}

static void
verdicts_flush(struct verdicts *vs)
{
	if (mnl_nlmsg_batch_is_empty(vs->b))
		return;
	if (mnl_socket_sendto(vs->q->nl, mnl_nlmsg_batch_head(vs->b),
	    mnl_nlmsg_batch_size(vs->b)) < 0)
		log_warn("queue %u: verdicts", vs->q->num);
	mnl_nlmsg_batch_reset(vs->b);
}

/* A flow's verdict on one packet: accepted ones carry the mark that the
 * gateway saves as the connmark (and the connmark itself with `ct`). */
static void
verdict_give(struct verdicts *vs, uint32_t id, int v, bool ct)
{
	struct nfq_queue *q = vs->q;

	switch (v) {
	case FLOW_ACCEPT:
		q->st.accepted++;
		verdict_put(vs, id, NF_ACCEPT, NFQ_MARK_ACCEPT, ct);
		break;
	case FLOW_REJECT:
		q->st.rejected++;
		verdict_put(vs, id, NF_REPEAT, NFQ_MARK_REJECT, false);
		break;
	default:
		q->st.dropped++;
		verdict_put(vs, id, NF_DROP, 0, false);
		break;
	}
}

static enum event_transport
event_transport_of(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return TRANSPORT_TCP;
	case IPPROTO_UDP:
		return TRANSPORT_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return TRANSPORT_ICMP;
	default:
		return TRANSPORT_NONE;
	}
}

/* The one egress event of a flow decision. */
static void
queue_emit(struct nfq_queue *q, const struct packet *p,
    const struct reg_task *task, const struct policy *pol,
    const struct judge_decision *d, const struct hold_hello *h)
{
	struct ag_event ev;

	event_init(&ev, EVENT_EGRESS);
	ev.src_ip = p->src;
	ev.dst_ip = p->dst;
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		if (p->transport) {
			ev.src_port = p->sport;
			ev.dst_port = p->dport;
		}
		if (p->dport == 53 || p->dport == 853)
			ev.protocol = PROTOCOL_DNS;
	}
	ev.transport = event_transport_of(p->proto);
	ev.outcome = d->verdict == FLOW_ACCEPT ? OUTCOME_ALLOWED :
	    OUTCOME_DENIED;
	ev.reason = judge_reason_name(d->reason);
	if (d->name[0] != '\0')
		ev.dst_domain = d->name;
	/* Packet-only TCP: what the first payload said, as the proxy says it. */
	if (h != NULL && h->kind == HOLD_KIND_TLS) {
		ev.protocol = PROTOCOL_TLS;
		if (h->host_len > 0) {
			ev.tls_server_name = h->host;
			ev.tls_server_name_len = h->host_len;
		}
	} else if (h != NULL && h->kind == HOLD_KIND_HTTP) {
		ev.protocol = PROTOCOL_HTTP;
		if (h->method[0] != '\0')
			ev.http_request_method = h->method;
		if (h->host_len > 0) {
			ev.url_domain = h->host;
			ev.url_domain_len = h->host_len;
		}
	}
	if (task != NULL) {
		ev.task_id = task->id;
		ev.trace_id = task->trace_id;
	}
	if (pol != NULL && d->reason == JUDGE_POLICY) {
		ev.policy = policy_name(pol);
		ev.verdict = d->pv.action == POLICY_ALLOW ? VERDICT_ALLOW :
		    d->pv.action == POLICY_ASK ? VERDICT_ASK : VERDICT_DENY;
		if (d->pv.rule != NULL) {
			ev.rule_file = policy_rule_file(d->pv.rule);
			ev.rule_line = policy_rule_line(d->pv.rule);
			ev.rule_text = policy_rule_text(d->pv.rule);
		}
	} else
		ev.verdict = VERDICT_DENY;
	if (telemetry_emit(q->sh->tel, &ev) == TELEMETRY_LOST)
		log_warn("queue %u: telemetry event lost", q->num);
}

/*
 * A full table drops every new flow and cannot cache those drops, so each
 * packet would repeat the line and the event: say it (line and event) at
 * most once a second, with the count of the drops in between. The counter
 * in the statistics counts them all.
 */
static bool
queue_full_say(struct nfq_queue *q, uint64_t now, const char *what,
    size_t max)
{
	q->st.flows_full++;
	if (q->full_said_ms != 0 && now - q->full_said_ms < 1000) {
		q->full_unsaid++;
		return false;
	}
	log_warnx("queue %u: %s table full (%zu): new flows dropped "
	    "(%ju more since the last line)", q->num, what, max,
	    (uintmax_t)q->full_unsaid);
	q->full_said_ms = now;
	q->full_unsaid = 0;
	return true;
}

/*
 * Judge a packet with no flow entry; record and report the decision. In
 * packet-only mode an allowed TCP SYN is not the decision yet: the flow
 * is held (*pending) until its first payload names the server.
 */
static enum flow_verdict
queue_judge_new(struct nfq_queue *q, const struct packet *p,
    const struct flow_key *key, uint64_t now, bool *pending)
{
	struct judge_env env = { q->sh->bindings, q->sh->reject,
	    q->sh->dns_port, q->sh->packet_only };
	struct judge_decision d;
	struct registry *reg = NULL;
	const struct reg_task *task = NULL;
	struct policy *pol = NULL;
	char s[AG_ADDR_STRLEN], t[AG_ADDR_STRLEN];
	bool quiet = false;

	(void)nfq_state_lookup(q->sh->state, &p->src, &reg, &task, &pol);
	judge_packet(&env, p, task, pol, now, &d);
	if (!telemetry_ok(q->sh->tel)) {
		/* Nothing can be recorded: nothing new passes. */
		d.verdict = FLOW_DROP;
		d.reason = JUDGE_TELEMETRY;
		goto out;
	}
	if (d.reason == JUDGE_FRAGMENT || d.reason == JUDGE_DNS)
		log_info("queue %u: %s -> %s proto %u: dropped: %s", q->num,
		    addr_format(&p->src, s, sizeof(s)),
		    addr_format(&p->dst, t, sizeof(t)), p->proto,
		    judge_reason_name(d.reason));
	if (d.verdict == FLOW_ACCEPT && q->hold != NULL &&
	    p->proto == IPPROTO_TCP) {
		if (hold_insert(q->hold, key, p->tcp_seq, now) != NULL) {
			*pending = true;
			goto out;
		}
		d.verdict = FLOW_DROP;
		d.reason = JUDGE_FLOWS_FULL;
		quiet = !queue_full_say(q, now, "hold", q->sh->hold_max);
	}
	/* A later fragment is cached under ports 0: its siblings are
	 * dropped without an event each. */
	if (flow_insert(q->flows, key, d.verdict, now) == -1) {
		d.verdict = FLOW_DROP;
		d.reason = JUDGE_FLOWS_FULL;
		quiet = !queue_full_say(q, now, "flow", q->sh->flow_max);
	}
	if (!quiet)
		queue_emit(q, p, task, pol, &d, NULL);
out:
	if (pol != NULL)
		policy_unref(pol);
	if (reg != NULL)
		registry_unref(reg);
	return d.verdict;
}

/* A DNS answer the gateway sends a task: learn its bindings. */
static bool
queue_dns_answer(struct nfq_queue *q, const struct packet *p, uint64_t now)
{
	struct judge_env env = { q->sh->bindings, q->sh->reject,
	    q->sh->dns_port, q->sh->packet_only };
	struct registry *reg;
	const struct reg_task *task;
	struct policy *pol;
	bool yes;

	if ((p->proto != IPPROTO_UDP && p->proto != IPPROTO_TCP) ||
	    (p->sport != 53 && p->sport != q->sh->dns_port))
		return false;
	if (nfq_state_lookup(q->sh->state, &p->dst, &reg, &task, &pol) == -1)
		return false;
	yes = judge_dns_answer(&env, p, task, q->dns, now);
	if (pol != NULL)
		policy_unref(pol);
	registry_unref(reg);
	if (yes)
		q->st.dns_answers++;
	return yes;
}

/* A packet with a flow's addresses and ports, for judging and reporting a
 * held flow once its packets are only ids. */
static void
packet_of_key(const struct flow_key *k, struct packet *p)
{
	memset(p, 0, sizeof(*p));
	p->src = k->src;
	p->dst = k->dst;
	p->proto = k->proto;
	p->sport = k->sport;
	p->dport = k->dport;
	p->transport = true;
}

/*
 * Decide a held flow by what its first payload said: judge, record the
 * flow's verdict (later packets get it from the flow table), write its one
 * event and answer every held packet, in the order they came. The caller
 * forgets f.
 */
static enum flow_verdict
queue_hold_decide(struct verdicts *vs, struct hold_flow *f, enum hold_result r,
    const struct hold_hello *h)
{
	struct nfq_queue *q = vs->q;
	struct judge_env env = { q->sh->bindings, q->sh->reject,
	    q->sh->dns_port, q->sh->packet_only };
	struct judge_decision d;
	struct registry *reg = NULL;
	const struct reg_task *task = NULL;
	struct policy *pol = NULL;
	struct packet p;
	size_t i;

	packet_of_key(&f->key, &p);
	(void)nfq_state_lookup(q->sh->state, &p.src, &reg, &task, &pol);
	judge_tcp_hello(&env, &p, task, pol, r, h, vs->now_ms, &d);
	if (!telemetry_ok(q->sh->tel)) {
		d.verdict = FLOW_DROP;
		d.reason = JUDGE_TELEMETRY;
	} else {
		if (flow_insert(q->flows, &f->key, d.verdict, vs->now_ms) == -1) {
			q->st.flows_full++;
			d.verdict = FLOW_DROP;
			d.reason = JUDGE_FLOWS_FULL;
		}
		queue_emit(q, &p, task, pol, &d, h);
	}
	log_debug("queue %u: held flow (%zu packets, %zu bytes) %s: %s",
	    q->num, f->npkts, f->contig, hold_result_name(r),
	    judge_reason_name(d.reason));
	for (i = 0; i < f->npkts; i++)
		verdict_give(vs, f->pkts[i].id, d.verdict, f->pkts[i].ct);
	if (pol != NULL)
		policy_unref(pol);
	if (reg != NULL)
		registry_unref(reg);
	return d.verdict;
}

/* The hold timer: a flow whose hello did not complete in time is denied. */
static void
queue_hold_expired(void *arg, struct hold_flow *f)
{
	struct verdicts *vs = arg;
	struct hold_hello h;
	enum hold_result r;

	vs->q->st.hold_expired++;
	if ((r = hold_examine(f, &h)) == HOLD_NEED_MORE)
		r = HOLD_INCOMPLETE;
	(void)queue_hold_decide(vs, f, r, &h);
}

/*
 * Packet-only TCP: a decided flow's packet gets the flow's verdict; an
 * allowed SYN starts a held flow and passes unmarked (a connmark now would
 * let the ClientHello skip the queue); a held flow's packets wait until
 * its first payload is complete, or the hold bounds deny it.
 */
static void
queue_tcp(struct verdicts *vs, uint32_t id, bool ct, const struct packet *p,
    const struct flow_key *key)
{
	struct nfq_queue *q = vs->q;
	struct hold_flow *f;
	struct hold_hello h;
	enum hold_result r;
	bool pending = false;
	int v;

	if ((v = flow_lookup(q->flows, key, vs->now_ms)) != 0) {
		verdict_give(vs, id, v, ct);
		return;
	}
	if ((f = hold_lookup(q->hold, key)) == NULL) {
		v = queue_judge_new(q, p, key, vs->now_ms, &pending);
		if (!pending) {
			verdict_give(vs, id, v, ct);
			return;
		}
		q->st.accepted++;
		verdict_put(vs, id, NF_ACCEPT, 0, false);
		return;
	}
	if (f->state == HOLD_SYN && p->payload_len == 0 &&
	    !(p->tcp_flags & TH_FIN)) {
		/* The handshake's ACK, a retransmitted SYN, or a reset:
		 * nothing to judge yet, nothing sent yet. */
		q->st.accepted++;
		verdict_put(vs, id, NF_ACCEPT, 0, false);
		f->seen_ms = vs->now_ms;
		if (p->tcp_flags & TH_RST)
			hold_remove(q->hold, f);
		return;
	}
	if (hold_add(f, id, ct, p, vs->now_ms) == -1) {
		/* Too many packets (or no memory) before the hello was
		 * complete: it is incomplete, this packet included. */
		f->overflow = true;
		r = hold_examine(f, &h);
		v = queue_hold_decide(vs, f, r == HOLD_NEED_MORE ?
		    HOLD_INCOMPLETE : r, &h);
		verdict_give(vs, id, v, ct);
		hold_remove(q->hold, f);
		return;
	}
	q->st.held++;
	if ((r = hold_examine(f, &h)) == HOLD_NEED_MORE)
		return;
	(void)queue_hold_decide(vs, f, r, &h);
	hold_remove(q->hold, f);
}

/* One queued packet: every attribute checked, exactly one verdict. */
static int
queue_packet_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct verdicts *vs = arg;
	struct nfq_queue *q = vs->q;
	struct nlattr *attr[NFQA_MAX + 1];
	struct nfqnl_msg_packet_hdr *ph;
	const uint8_t *data = NULL;
	size_t len = 0;
	uint32_t id, mark = 0;
	struct packet p;
	struct flow_key key;
	bool pending = false;
	int v;

	memset(attr, 0, sizeof(attr));
	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph)) {
		/* Without a packet id no verdict can be given: the kernel
		 * keeps the packet until the queue is unbound. */
		q->st.bad_messages++;
		log_warnx("queue %u: unreadable packet message", q->num);
		return MNL_CB_OK;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	q->st.packets++;
	if (attr[NFQA_MARK] != NULL &&
	    mnl_attr_validate(attr[NFQA_MARK], MNL_TYPE_U32) == 0)
		mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_PAYLOAD] != NULL) {
		data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}

	if (mark == NFQ_MARK_REJECT) {
		/* Handed back for REJECT but no rule took it. */
		v = FLOW_DROP;
	} else if (packet_parse(data, len, &p) != PACKET_OK) {
		q->st.malformed++;
		log_debug("queue %u: packet %u: malformed", q->num, id);
		v = FLOW_DROP;
	} else if (queue_dns_answer(q, &p, vs->now_ms)) {
		/* Not a flow of the task's: no mark, no event. */
		verdict_put(vs, id, NF_ACCEPT, 0, false);
		return MNL_CB_OK;
	} else {
		memset(&key, 0, sizeof(key));
		key.src = p.src;
		key.dst = p.dst;
		key.proto = p.proto;
		key.sport = p.sport;
		key.dport = p.dport;
		if (q->hold != NULL && p.proto == IPPROTO_TCP && p.transport) {
			queue_tcp(vs, id, attr[NFQA_CT] != NULL, &p, &key);
			return MNL_CB_OK;
		}
		if ((v = flow_lookup(q->flows, &key, vs->now_ms)) == 0)
			v = queue_judge_new(q, &p, &key, vs->now_ms, &pending);
	}
	verdict_give(vs, id, v, attr[NFQA_CT] != NULL);
	return MNL_CB_OK;
}

static void *
queue_main(void *arg)
{
	struct nfq_queue *q = arg;
	struct verdicts vs;
	char *rbuf, *bbuf;
	ssize_t n;
	uint64_t gen;
	bool acked = false;
	int err = 0;

	rbuf = malloc(QUEUE_RECV_SIZE);
	bbuf = malloc(QUEUE_BATCH_LIMIT * 2);
	if (rbuf == NULL || bbuf == NULL)
		fatal("queue %u", q->num);
	vs.q = q;
	if ((vs.b = mnl_nlmsg_batch_start(bbuf, QUEUE_BATCH_LIMIT)) == NULL)
		fatal("queue %u: batch", q->num);
	while (!atomic_load(&q->sh->stop)) {
		n = mnl_socket_recvfrom(q->nl, rbuf, QUEUE_RECV_SIZE);
		vs.now_ms = now_ms();
		if (n == -1 && errno == ENOBUFS) {
			/* Messages lost: their packets wait in the kernel
			 * for a verdict that will not come. */
			q->st.enobufs++;
			log_warnx("queue %u: receive buffer overrun", q->num);
		} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			log_warn("queue %u: receive", q->num);
			break;
		} else if (n >= 0) {
			gen = nfq_state_generation(q->sh->state);
			if (gen != q->gen) {
				/* Policies or tasks changed: judge flows
				 * again (held flows are judged when complete,
				 * under the new state). */
				flow_clear(q->flows);
				q->gen = gen;
			}
			(void)flow_expire(q->flows, vs.now_ms);
			queue_walk(q, rbuf, (size_t)n, &vs, 0, &acked, &err);
		}
		/* The hold timer: at most the receive timeout late. */
		if (q->hold != NULL && hold_count(q->hold) > 0)
			(void)hold_expire(q->hold, vs.now_ms, queue_hold_expired,
			    &vs);
		verdicts_flush(&vs);
	}
	mnl_nlmsg_batch_stop(vs.b);
	free(bbuf);
	free(rbuf);
	return NULL;
}

int
nfq_queue_start(struct nfq_queue *q)
{
	int rc;

	if ((rc = pthread_create(&q->thread, NULL, queue_main, q)) != 0) {
		errno = rc;
		return -1;
	}
	q->running = true;
	return 0;
}

void
nfq_queue_close(struct nfq_queue *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	if (q->running)
		pthread_join(q->thread, NULL);
	q->running = false;
	if (q->nl != NULL) {
		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
		(void)mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
		mnl_socket_close(q->nl);
		q->nl = NULL;
	}
	flow_table_free(q->flows);
	q->flows = NULL;
	free(q->dns);
	q->dns = NULL;
	hold_table_free(q->hold);
	q->hold = NULL;
}
