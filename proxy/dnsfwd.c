/*
 * DNS forwarder sockets (dnsfwd.h): UDP datagrams and TCP streams in, one
 * dnsjudge decision per query, resolver_send for the allowed ones, the
 * checked answer back, one telemetry event per query.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>

#include "approval.h"
#include "approval_pool.h"
#include "conf.h"
#include "dnsfwd.h"
#include "dnsfwd_int.h"
#include "dnsjudge.h"
#include "dnsmsg.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "registry.h"
#include "resolve.h"
#include "telemetry.h"

#define UDP_BATCH	64		/* datagrams read per wakeup */

/* The judgement of one query, with what the event needs about the task. */
struct ctx {
	const char		*task_id;	/* NULL: no task */
	const char		*trace_id;
	const struct policy	*pol;
};

static void
event_emit(struct dnsfwd *f, const struct dnsfwd_peer *pe, const struct ctx *cx,
    const struct dnsjudge *j, enum event_outcome outcome, const char *reason,
    const struct dns_response *r)
{
	struct ag_event ev;
	char type[DNSJUDGE_TYPE_LEN];
	size_t i, n = 0;

	event_init(&ev, EVENT_EGRESS);
	ev.transport = pe->transport;
	ev.protocol = PROTOCOL_DNS;
	ev.src_ip = pe->src;
	ev.src_port = pe->sport;
	if (pe->dst.family != 0) {
		ev.dst_ip = pe->dst;
		ev.dst_port = pe->dport;
	}
	/* TCP: the resolver the client asked (REDIRECT); the gateway's own
	 * address is no mismatch, any other resolver is (docs/proxy.md). */
	if (pe->requested.family != 0) {
		ev.requested_ip = pe->requested;
		ev.requested_port = pe->rport;
		ev.destination_mismatch = !proxy_is_self(f->p, &pe->requested) &&
		    !addr_equal(&pe->requested, &pe->dst);
	}
	if (j->name[0] != '\0') {
		ev.dst_domain = j->name;
		ev.dns_question_name = j->name;
	} else if (j->query.has_question && j->query.question.name.valid)
		ev.dns_question_name = j->query.question.name.text;
	if (j->query.has_question)
		ev.dns_question_type = dnsjudge_type_name(j->query.question.qtype,
		    type, sizeof(type));
	ev.task_id = cx->task_id;
	ev.trace_id = cx->trace_id;
	if (cx->pol != NULL)
		ev.policy = policy_name(cx->pol);
	if (j->judged) {
		switch (j->verdict.action) {
		case POLICY_ALLOW:
			ev.verdict = VERDICT_ALLOW;
			break;
		case POLICY_ASK:
			ev.verdict = VERDICT_ASK;
			break;
		default:
			ev.verdict = VERDICT_DENY;
			break;
		}
		if (j->verdict.rule != NULL) {
			ev.rule_file = policy_rule_file(j->verdict.rule);
			ev.rule_line = policy_rule_line(j->verdict.rule);
			ev.rule_text = policy_rule_text(j->verdict.rule);
		}
	}
	ev.outcome = outcome;
	ev.reason = reason;
	for (i = 0; r != NULL && i < r->n_answers && n < DNS_MAX_ANSWERS; i++) {
		const struct dns_rr *rr = &r->answers[i];

		if (rr->type == DNS_TYPE_CNAME) {
			if (!rr->target_valid)
				continue;
			snprintf(f->text[n], ANSWER_TEXT, "%s", rr->target);
			f->evans[n].type = "CNAME";
		} else {
			addr_format(&rr->addr, f->text[n], ANSWER_TEXT);
			f->evans[n].type = rr->type == DNS_TYPE_A ? "A" : "AAAA";
		}
		f->evans[n].data = f->text[n];
		f->evans[n].ttl = rr->ttl;
		n++;
	}
	if (n > 0) {
		ev.dns_answers = f->evans;
		ev.dns_answers_count = n;
	}
	proxy_emit(f->p, &ev);
}

/* UDP answers leave from the address the query came to, so that the
 * gateway's REDIRECT is undone on the way back. */
static void
udp_send(const struct dnsfwd_peer *pe, const uint8_t *msg, size_t len)
{
	union {
		char			buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr		align;
	} u;
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_name = (void *)&pe->sa;
	mh.msg_namelen = pe->salen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (pe->dst.family == AF_INET && pe->sa.ss_family == AF_INET) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = pe->dst.u.v4;
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else if (pe->dst.family == AF_INET6) {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = pe->dst.u.v6;
		pi.ipi6_ifindex = (unsigned)pe->ifindex;
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (sendmsg(pe->ufd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("dns: answer to udp client: %s", strerror(errno));
}




static void
query_free(struct dnsfwd_query *q)
{
	struct dnsfwd *f = q->fwd;

	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		f->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	f->npending--;
	if (q->pol != NULL)
		policy_unref(q->pol);
	free(q->trace_id);
	free(q);
}

/* Answer the client of a finished query. Returns with q freed. */
static void
query_reply(struct dnsfwd_query *q, const uint8_t *msg, size_t len)
{
	struct dnsconn *c = q->conn;

	if (q->peer.transport == TRANSPORT_UDP) {
		udp_send(&q->peer, msg, len);
		query_free(q);
		return;
	}
	query_free(q);
	if (c == NULL)
		return;
	c->pending--;
	if (len > 0 && dnsconn_send(c, msg, len) == -1)
		return;
	/* A slot is free: queries read while the pipeline was full. */
	if (dnsconn_process(c) == -1)
		return;
	(void)dnsconn_flush(c);
}

static void
log_refused_addrs(struct dnsfwd *f, const struct dnsfwd_query *q,
    const struct dnsjudge_env *env)
{
	char list[512], a[AG_ADDR_STRLEN];
	size_t i, off = 0;
	int n;

	list[0] = '\0';
	for (i = 0; i < f->resp.n_answers; i++) {
		const struct dns_rr *rr = &f->resp.answers[i];

		if ((rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA) ||
		    dnsjudge_addr_ok(env, &rr->addr))
			continue;
		n = snprintf(list + off, sizeof(list) - off, "%s%s",
		    off ? " " : "", addr_format(&rr->addr, a, sizeof(a)));
		if (n < 0 || (size_t)n >= sizeof(list) - off)
			break;
		off += (size_t)n;
	}
	log_warnx("dns: task %s: %s answered with internal addresses %s: "
	    "refused (rebinding)", q->task_id, q->j.name, list);
}

static void
query_done(void *arg, int status, const uint8_t *resp, size_t len)
{
	struct dnsfwd_query *q = arg;
	struct dnsfwd *f = q->fwd;
	struct dnsjudge_env env;
	struct dnscheck c;
	struct ctx cx = { q->task_id, q->trace_id, q->pol };
	char reason[64];
	ssize_t n;

	q->req = NULL;
	if (status != 0) {
		snprintf(reason, sizeof(reason), "upstream failed (c-ares %d)",
		    status);
		n = dns_build_error(q->q, q->qlen, DNS_RCODE_SERVFAIL, f->ans,
		    sizeof(f->ans));
		event_emit(f, &q->peer, &cx, &q->j, OUTCOME_ALLOWED, reason, NULL);
		query_reply(q, f->ans, n < 0 ? 0 : (size_t)n);
		return;
	}
	env.pol = q->pol;
	env.self = f->p->self;
	env.nself = f->p->nself;
	env.udp_limit = q->peer.transport == TRANSPORT_UDP ?
	    dns_udp_limit(&q->j.query) : 0;
	dnsjudge_response(&q->j, &env, q->q, q->qlen, resp, len, &f->resp, &c,
	    f->ans, sizeof(f->ans));
	if (c.refused > 0)
		log_refused_addrs(f, q, &env);
	else if (c.local)
		log_info("dns: task %s: %s: %s", q->task_id, q->j.name,
		    c.reason);
	/* Forwarded, so allowed, unless the answer was refused. */
	event_emit(f, &q->peer, &cx, &q->j,
	    c.refused == 0 ? OUTCOME_ALLOWED : OUTCOME_DENIED, c.reason,
	    c.local ? NULL : &f->resp);
	query_reply(q, f->ans, c.outlen);
}

/*
 * An ask name: REFUSED while a denial is in scope, else the synthetic
 * address of the name for A/AAAA (NODATA for other types), never asking
 * upstream. Approved names are answered the same way: the connection to
 * the synthetic address is what the proxy lets through, whatever TCP
 * protocol it speaks. Returns true when a synthetic answer was built (its
 * parse is in f->resp, for the event).
 */
static bool
dnsfwd_ask(struct dnsfwd *f, const struct reg_task *task,
    const struct policy *pol, const uint8_t *msg, size_t len,
    struct dnsjudge *j)
{
	struct approvals *a = f->p->approvals;
	struct ag_addr addr, *synth = NULL;
	uint16_t qtype = j->query.question.qtype;
	int family = qtype == DNS_TYPE_A ? AF_INET :
	    qtype == DNS_TYPE_AAAA ? AF_INET6 : 0;

	if (approvals_check_name(a, task->id, policy_name(pol), j->name) ==
	    APPROVAL_REFUSED) {
		dnsjudge_ask(j, msg, len, true, NULL, 0, f->ans, sizeof(f->ans));
		return false;
	}
	if (family != 0) {
		if (approval_pool_addr(approvals_pool(a), j->name, family,
		    loop_now_ms(f->p->loop), &addr) == -1) {
			log_warn("dns: synthetic address for %s", j->name);
			return false;	/* stays REFUSED */
		}
		synth = &addr;
	}
	dnsjudge_ask(j, msg, len, false, synth, (uint32_t)(f->p->conf->approval_ttl_ms / 1000),
	    f->ans, sizeof(f->ans));
	if (j->rcode != DNS_RCODE_NOERROR)
		return false;
	if (dns_parse_response(f->ans, j->outlen, &f->resp) != DNS_OK)
		f->resp.n_answers = 0;
	return true;
}

/*
 * Judge one query from pe (bytes in msg) and answer it or send it upstream.
 * For TCP, c is the client; it may be closed when this returns only if
 * the return value is -1.
 */
int
dnsfwd_handle(struct dnsfwd *f, struct dnsfwd_peer *pe, struct dnsconn *c,
    const uint8_t *msg, size_t len)
{
	const struct reg_task *task = NULL;
	struct policy *pol = NULL;
	struct dnsjudge j;
	struct dnsfwd_query *q;
	struct ctx cx = { NULL, NULL, NULL };
	bool tok, synth = false;
	const char *reason;

	if (proxy_task_for(f->p, &pe->src, &task, &pol) == -1)
		pol = NULL;
	if (task != NULL) {
		cx.task_id = task->id;
		cx.trace_id = task->trace_id;
	}
	cx.pol = pol;
	tok = f->p->telemetry == NULL || telemetry_ok(f->p->telemetry);
	dnsjudge_query(msg, len, pol, tok, &j, f->ans, sizeof(f->ans));
	if (j.judged && j.verdict.action == POLICY_ASK && f->p->approvals != NULL)
		synth = dnsfwd_ask(f, task, pol, msg, len, &j);
	reason = j.reason;
	if (j.action == DNSJUDGE_FORWARD && f->npending >= DNSFWD_PENDING_MAX) {
		reason = "too many queries upstream";
		log_warnx("dns: %s", reason);
		j.action = DNSJUDGE_ANSWER;
		j.outlen = 0;
	}
	if (j.action == DNSJUDGE_FORWARD) {
		if ((q = calloc(1, sizeof(*q) + len)) == NULL) {
			reason = "out of memory";
			log_warn("dns: query");
			j.action = DNSJUDGE_ANSWER;
			j.outlen = 0;
		} else {
			q->fwd = f;
			q->conn = c;
			q->peer = *pe;
			q->pol = pol;
			pol = NULL;
			snprintf(q->task_id, sizeof(q->task_id), "%s", task->id);
			if (task->trace_id != NULL)
				q->trace_id = strdup(task->trace_id);
			q->j = j;
			q->qlen = len;
			memcpy(q->q, msg, len);
			if ((q->next = f->queries) != NULL)
				q->next->prev = q;
			f->queries = q;
			f->npending++;
			if (c != NULL)
				c->pending++;
			q->req = resolver_send(f->p->resolver, q->q, len,
			    query_done, q);
			if (q->req == NULL) {
				/* Answered below as SERVFAIL. */
				log_warn("dns: resolver_send");
				if (c != NULL)
					c->pending--;
				query_free(q);
				reason = "cannot send upstream";
				j.action = DNSJUDGE_ANSWER;
				j.outlen = 0;
			}
		}
		if (j.action == DNSJUDGE_FORWARD)
			return 0;
	}
	if (j.action == DNSJUDGE_ANSWER && j.outlen == 0) {
		/* A failure of ours after the judge said forward. */
		ssize_t n = dns_build_error(msg, len, DNS_RCODE_SERVFAIL,
		    f->ans, sizeof(f->ans));

		j.outlen = n < 0 ? 0 : (size_t)n;
	}
	if (j.action == DNSJUDGE_DROP) {
		log_debug("dns: dropped %zu bytes: %s", len, j.reason);
		if (pol != NULL)
			policy_unref(pol);
		return 0;
	}
	if (!tok)
		log_warnx("dns: telemetry failing: query answered SERVFAIL");
	else if (task == NULL)
		log_info("dns: no task for %s: query refused",
		    addr_format(&pe->src, (char[AG_ADDR_STRLEN]){ 0 },
		    AG_ADDR_STRLEN));
	event_emit(f, pe, &cx, &j, synth ? OUTCOME_PENDING : OUTCOME_DENIED,
	    task != NULL && pol == NULL && j.parsed == DNS_OK ?
	    "task policy unavailable" : reason, synth ? &f->resp : NULL);
	if (pol != NULL)
		policy_unref(pol);
	if (j.outlen == 0)
		return 0;
	if (c == NULL) {
		udp_send(pe, f->ans, j.outlen);
		return 0;
	}
	return dnsconn_send(c, f->ans, j.outlen);
}


uint16_t
dnsfwd_sa_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ?
	    ((const struct sockaddr_in *)ss)->sin_port :
	    ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void
udp_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dnsfwd *f = arg;
	union {
		char			buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
					    CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr		align;
	} u;
	struct dnsfwd_peer pe;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	int i;

	(void)l;
	(void)events;
	for (i = 0; i < UDP_BATCH; i++) {
		memset(&pe, 0, sizeof(pe));
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = f->buf;
		iov.iov_len = sizeof(f->buf);
		mh.msg_name = &pe.sa;
		mh.msg_namelen = sizeof(pe.sa);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		if ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("dns: udp receive");
			return;
		}
		pe.salen = mh.msg_namelen;
		pe.ufd = fd;
		pe.transport = TRANSPORT_UDP;
		if (addr_from_sockaddr((struct sockaddr *)&pe.sa, &pe.src) == -1)
			continue;
		pe.sport = dnsfwd_sa_port(&pe.sa);
		pe.dport = f->port;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				addr_from_v4(pi.ipi_addr.s_addr, &pe.dst);
				pe.ifindex = pi.ipi_ifindex;
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				addr_from_v6(pi.ipi6_addr.s6_addr, &pe.dst);
				pe.ifindex = (int)pi.ipi6_ifindex;
			}
		}
		(void)dnsfwd_handle(f, &pe, NULL, f->buf, (size_t)n);
	}
}






static int
listen_one(struct dnsfwd *f, int family, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(f->port);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(f->port);
		sin6->sin6_addr = in6addr_any;
		sl = sizeof(*sin6);
	}
	if ((fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (type == SOCK_DGRAM && family == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == -1)
		goto fail;
	if (type == SOCK_DGRAM && family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 128) == -1)
		goto fail;
	if (loop_add(f->p->loop, fd, EPOLLIN,
	    type == SOCK_DGRAM ? udp_read : dnsconn_accept, f) == -1)
		goto fail;
	return fd;
fail:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

void
dnsfwd_detach(struct dnsfwd *f, struct dnsconn *c)
{
	struct dnsfwd_query *q;

	for (q = f->queries; q != NULL; q = q->next)
		if (q->conn == c)
			q->conn = NULL;
}

struct dnsfwd *
dnsfwd_open(struct proxy *p)
{
	struct dnsfwd *f;
	int e;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->p = p;
	f->port = p->conf->dns_port;
	f->udp[0] = f->udp[1] = f->tcp[0] = f->tcp[1] = -1;
	if ((f->udp[0] = listen_one(f, AF_INET, SOCK_DGRAM)) == -1 ||
	    (f->tcp[0] = listen_one(f, AF_INET, SOCK_STREAM)) == -1)
		goto fail;
	if ((f->udp[1] = listen_one(f, AF_INET6, SOCK_DGRAM)) == -1 ||
	    (f->tcp[1] = listen_one(f, AF_INET6, SOCK_STREAM)) == -1) {
		if (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL)
			goto fail;
		log_warn("dns: no IPv6 listener on port %u", f->port);
	}
	p->dns = f;
	return f;
fail:
	e = errno;
	dnsfwd_close(f);
	errno = e;
	return NULL;
}

void
dnsfwd_close(struct dnsfwd *f)
{
	size_t i;

	if (f == NULL)
		return;
	while (f->queries != NULL) {
		resolver_cancel(f->queries->req);
		query_free(f->queries);
	}
	while (f->conns != NULL)
		dnsconn_close(f->conns);
	for (i = 0; i < 2; i++) {
		if (f->udp[i] != -1) {
			loop_del(f->p->loop, f->udp[i]);
			close(f->udp[i]);
		}
		if (f->tcp[i] != -1) {
			loop_del(f->p->loop, f->tcp[i]);
			close(f->tcp[i]);
		}
	}
	if (f->p->dns == f)
		f->p->dns = NULL;
	free(f);
}

size_t
dnsfwd_pending(const struct dnsfwd *f)
{
	return f->npending;
}

size_t
dnsfwd_clients(const struct dnsfwd *f)
{
	return f->nconns;
}
