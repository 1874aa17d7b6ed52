/*
 * Transparent and explicit-proxy connections (accepted in conn_set.c):
 * read the first bytes under the handshake timeout, judge
 * the SNI or Host (or the original destination when there is no name; on
 * the explicit port the CONNECT or absolute-URI host), resolve an allowed
 * name ourselves, dial only the usable answers, then hand both sockets to a
 * relay. Each connection ends in exactly one egress event.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "canon.h"
#include "conf.h"
#include "conn_int.h"
#include "httpclose.h"
#include "httphead.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "relay.h"
#include "resolve.h"
#include "telemetry.h"
#include "tlshello.h"

static const char *const conn_state_names[] = {
	"hello", "held", "resolving", "connecting", "tunnel", "relaying", "done",
};

/* Allowed transitions, [from] -> bitmask of to. */
static const unsigned conn_next[] = {
	[CONN_HELLO]      = 1u << CONN_HELD | 1u << CONN_RESOLVING |
			    1u << CONN_CONNECTING | 1u << CONN_DONE,
	[CONN_HELD]       = 1u << CONN_RESOLVING | 1u << CONN_CONNECTING |
			    1u << CONN_DONE,
	[CONN_RESOLVING]  = 1u << CONN_CONNECTING | 1u << CONN_DONE,
	[CONN_CONNECTING] = 1u << CONN_CONNECTING | 1u << CONN_TUNNEL |
			    1u << CONN_RELAYING | 1u << CONN_DONE,
	[CONN_TUNNEL]     = 1u << CONN_RELAYING | 1u << CONN_DONE,
	[CONN_RELAYING]   = 1u << CONN_DONE,
	[CONN_DONE]       = 0,
};

void
conn_set_state(struct conn *c, enum conn_state to)
{
	assert(conn_next[c->state] & (1u << to));
	log_debug("conn %d: %s -> %s", c->cfd, conn_state_names[c->state],
	    conn_state_names[to]);
	c->state = to;
}

static void conn_read_cb(struct loop *, int, uint32_t, void *);
static void conn_handshake_timeout(struct loop *, void *);
static bool conn_tunnel_parse(struct conn *);

void
conn_timer_clear(struct conn *c)
{
	if (c->timer != NULL) {
		loop_timer_cancel(c->set->p->loop, c->timer);
		c->timer = NULL;
	}
}

/* The fields every event of this connection has. */
void
conn_event_fill(struct conn *c, struct ag_event *ev)
{
	struct timespec now;

	event_init(ev, EVENT_EGRESS);
	ev->transport = TRANSPORT_TCP;
	ev->protocol = c->proto;
	ev->src_ip = c->src;
	ev->src_port = c->sport;
	ev->requested_ip = c->odst;
	ev->requested_port = c->oport;
	ev->dst_port = c->oport;
	if (c->name[0] != '\0')
		ev->dst_domain = c->name;
	if (c->has_sni) {
		ev->tls_server_name = c->sni;
		ev->tls_server_name_len = c->sni_len;
	}
	/* A CONNECT tunnel keeps its method and host once it is TLS. */
	if (c->proto == PROTOCOL_HTTP || c->connect) {
		if (c->method[0] != '\0')
			ev->http_request_method = c->method;
		if (c->host[0] != '\0')
			ev->url_domain = c->host;
	}
	if (c->task_id[0] != '\0')
		ev->task_id = c->task_id;
	if (c->approval_id[0] != '\0')
		ev->approval_id = c->approval_id;
	ev->trace_id = c->trace_id;
	if (c->pol != NULL)
		ev->policy = policy_name(c->pol);
	if (c->judged)
		proxy_event_verdict(ev, NULL, c->pol, &c->verdict);
	/* An ask that reaches a relay was approved; a refusal sets its own
	 * outcome after this. */
	if (c->judged && c->verdict.action == POLICY_ASK)
		ev->outcome = OUTCOME_ALLOWED;
	clock_gettime(CLOCK_REALTIME, &now);
	ev->start = c->start;
	ev->end = now;
	ev->duration_ns = (int64_t)(now.tv_sec - c->start.tv_sec) * 1000000000 +
	    (now.tv_nsec - c->start.tv_nsec);
}

static const char *
conn_status_text(int status)
{
	switch (status) {
	case 403:	return "Forbidden";
	case 408:	return "Request Timeout";
	case 414:	return "URI Too Long";
	case 431:	return "Request Header Fields Too Large";
	case 501:	return "Not Implemented";
	case 502:	return "Bad Gateway";
	case 505:	return "HTTP Version Not Supported";
	default:	return "Bad Request";
	}
}

/*
 * Refuse: HTTP clients get a short response naming the reason (status
 * 403, or the parser's 4xx/5xx), then the connection is closed and its one
 * event written.
 */
void
conn_deny(struct conn *c, const char *reason, int http_status)
{
	struct ag_event ev;
	char resp[512];
	int n;

	/* Inside an answered tunnel the client speaks the tunnelled
	 * protocol: an HTTP response there would only corrupt it. */
	if (c->proto == PROTOCOL_HTTP && http_status > 0 &&
	    c->state != CONN_TUNNEL) {
		n = snprintf(resp, sizeof(resp),
		    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		    "Connection: close\r\nContent-Length: %zu\r\n\r\n"
		    "agentgate: %s\n", http_status,
		    conn_status_text(http_status), strlen(reason) + 12, reason);
		/* Best effort: a fresh socket's buffer takes this at once. */
		if (n > 0 && (size_t)n < sizeof(resp))
			(void)send(c->cfd, resp, (size_t)n, MSG_NOSIGNAL);
	}
	conn_event_fill(c, &ev);
	ev.outcome = OUTCOME_DENIED;
	ev.reason = reason;
	if (c->dialled.family != 0)
		ev.dst_ip = c->dialled;
	if (c->mismatch != -1)
		ev.destination_mismatch = c->mismatch;
	proxy_emit(c->set->p, &ev);
	log_info("deny %s %s:%u: %s", c->task_id[0] ? c->task_id : "-",
	    c->name[0] ? c->name : "-", c->oport, reason);
	conn_set_state(c, CONN_DONE);
	conn_free(c);
}

/* Judge a host from SNI or Host; an invalid one is denied here. */
static void
conn_judge_host(struct conn *c, const char *host, size_t len)
{
	struct canon_out co;
	enum canon_result cr;
	char reason[96];

	cr = canon_host(host, len, &co);
	if (cr == CANON_NAME) {
		memcpy(c->name, co.name, co.len + 1);
		c->verdict = policy_match_name(c->pol, c->name,
		    POLICY_PROTO_TCP, c->oport);
		conn_decide(c, NULL);
		return;
	}
	if (cr == CANON_ADDRESS) {
		c->verdict = policy_match_addr(c->pol, &co.addr,
		    POLICY_PROTO_TCP, c->oport);
		conn_decide(c, &co.addr);
		return;
	}
	snprintf(reason, sizeof(reason), "invalid name: %s",
	    canon_strerror(cr));
	c->judged = false;
	conn_deny(c, reason, 400);
}

/* No name at all: only an address rule for the original destination. */
static void
conn_judge_odst(struct conn *c)
{
	c->verdict = policy_match_addr(c->pol, &c->odst, POLICY_PROTO_TCP,
	    c->oport);
	conn_decide(c, &c->odst);
}

/*
 * Rewrite an absolute-form request line in place to origin-form, for
 * origins that do not take absolute-form: "GET http://h:80/p?q HTTP/1.1"
 * becomes "GET /p?q HTTP/1.1". Always shrinks (the scheme and authority go,
 * at most a '/' comes), so the buffer suffices.
 */
static void
conn_origin_form(struct conn *c, const struct http_head *hh)
{
	size_t from = hh->target_off, to = hh->path_off;

	if (hh->path_len == 0 || c->buf[hh->path_off] != '/')
		c->buf[--to] = '/';	/* "http://h?q": the path is "/" */
	memmove(c->buf + from, c->buf + to, c->len - to);
	c->len -= to - from;
	c->head_len -= to - from;
}

/*
 * The explicit port: the first bytes must be an HTTP request, either
 * CONNECT host:port (judged by that host and port; a tunnel follows) or an
 * absolute-URI request (judged by the URI's host, which the parser has
 * already checked against Host). Returns true when the connection moved on.
 */
static bool
conn_parse_explicit(struct conn *c)
{
	struct http_head hh;

	c->proto = PROTOCOL_HTTP;
	switch (httphead_parse((const char *)c->buf, c->len, &hh)) {
	case HTTPHEAD_OK:
		break;
	case HTTPHEAD_NEED_MORE:
		return false;
	case HTTPHEAD_INVALID:
		conn_deny(c, hh.error != NULL ? hh.error : "invalid request",
		    hh.status > 0 ? hh.status : 400);
		return true;
	case HTTPHEAD_NOT_HTTP:
		conn_deny(c, "the explicit proxy port takes HTTP only", 400);
		return true;
	}
	snprintf(c->method, sizeof(c->method), "%s", hh.method);
	snprintf(c->host, sizeof(c->host), "%s", hh.host);
	c->head_len = hh.head_len;
	if (hh.is_connect) {
		if (hh.port == 0) {
			conn_deny(c, "CONNECT without a port", 400);
			return true;
		}
		c->connect = true;
		c->oport = hh.port;
	} else if (hh.target_kind == HTTP_TARGET_ABSOLUTE) {
		if (hh.https) {
			/* We would send it in clear text: the client must
			 * tunnel TLS with CONNECT instead. */
			conn_deny(c, "an https absolute-URI needs CONNECT", 400);
			return true;
		}
		c->oport = hh.port != 0 ? hh.port : 80;
		conn_origin_form(c, &hh);
	} else {
		conn_deny(c, "the explicit proxy takes CONNECT or an "
		    "absolute-URI request", 400);
		return true;
	}
	conn_judge_host(c, hh.host, strlen(hh.host));
	return true;
}

/*
 * An HTTP request head through a synthetic address must carry a Host that
 * is the mapped name (or none). Returns 1 when the bytes may go on (not
 * HTTP, or a matching Host), 0 when more are needed, -1 when c was denied.
 */
int
conn_host_check(struct conn *c)
{
	struct http_head hh;
	struct canon_out co;

	switch (httphead_parse((const char *)c->buf, c->len, &hh)) {
	case HTTPHEAD_OK:
		c->proto = PROTOCOL_HTTP;
		snprintf(c->method, sizeof(c->method), "%s", hh.method);
		snprintf(c->host, sizeof(c->host), "%s", hh.host);
		if (hh.host[0] != '\0' &&
		    (canon_host(hh.host, strlen(hh.host), &co) != CANON_NAME ||
		    strcmp(co.name, c->name) != 0)) {
			conn_deny(c, "Host does not match the synthetic address's name", 403);
			return -1;
		}
		return 1;
	case HTTPHEAD_NEED_MORE:
		return 0;
	case HTTPHEAD_INVALID:
		c->proto = PROTOCOL_HTTP;
		conn_deny(c, hh.error != NULL ? hh.error : "invalid request",
		    hh.status > 0 ? hh.status : 400);
		return -1;
	case HTTPHEAD_NOT_HTTP:
		break;
	}
	return 1;
}

/*
 * The tunnel's first bytes: a ClientHello must name the CONNECT host
 * (else a client could CONNECT to an allowed front and ask it for another
 * name); anything that is not TLS is relayed as it is, since the host and
 * port were judged already. Returns true when the connection moved on.
 */
static bool
conn_tunnel_parse(struct conn *c)
{
	struct tls_hello h;
	struct canon_out co;
	size_t need = 0;

	switch (tlshello_parse(c->buf, c->len, &h, &need)) {
	case TLSHELLO_OK:
		c->proto = PROTOCOL_TLS;
		if (h.has_sni) {
			c->has_sni = true;
			memcpy(c->sni, h.sni, h.sni_len);
			c->sni[h.sni_len] = '\0';
			c->sni_len = h.sni_len;
			if (canon_host(c->sni, c->sni_len, &co) != CANON_NAME ||
			    strcmp(co.name, c->name) != 0) {
				conn_deny(c, c->connect ? "SNI does not match CONNECT host" :
				    "SNI does not match the synthetic address's name", 0);
				return true;
			}
		}
		break;
	case TLSHELLO_NEED_MORE:
		c->proto = PROTOCOL_TLS;
		if (need > CONN_FIRST_MAX) {
			conn_deny(c, "ClientHello too large", 0);
			return true;
		}
		return false;
	case TLSHELLO_INVALID:
		c->proto = PROTOCOL_TLS;
		conn_deny(c, h.error != NULL ? h.error : "invalid ClientHello", 0);
		return true;
	case TLSHELLO_NOT_TLS:
		/* Through a synthetic address an HTTP Host must name it too. */
		if (c->synthetic) {
			switch (conn_host_check(c)) {
			case -1:
				return true;
			case 0:
				return false;
			}
		}
		break;
	}
	conn_timer_clear(c);
	(void)loop_del(c->set->p->loop, c->cfd);
	(void)loop_del(c->set->p->loop, c->sfd);
	conn_relay_start(c, c->buf, c->len);
	return true;
}

/* Look at what arrived so far. Returns true when the connection moved on. */
static bool
conn_parse(struct conn *c)
{
	struct tls_hello h;
	struct http_head hh;
	size_t need = 0;

	if (c->explicit)
		return conn_parse_explicit(c);
	switch (tlshello_parse(c->buf, c->len, &h, &need)) {
	case TLSHELLO_OK:
		c->proto = PROTOCOL_TLS;
		if (!h.has_sni) {
			conn_judge_odst(c);
			return true;
		}
		c->has_sni = true;
		memcpy(c->sni, h.sni, h.sni_len);
		c->sni[h.sni_len] = '\0';
		c->sni_len = h.sni_len;
		conn_judge_host(c, c->sni, c->sni_len);
		return true;
	case TLSHELLO_NEED_MORE:
		c->proto = PROTOCOL_TLS;
		if (need > CONN_FIRST_MAX) {
			conn_deny(c, "ClientHello too large", 0);
			return true;
		}
		return false;
	case TLSHELLO_INVALID:
		c->proto = PROTOCOL_TLS;
		conn_deny(c, h.error != NULL ? h.error : "invalid ClientHello", 0);
		return true;
	case TLSHELLO_NOT_TLS:
		break;
	}
	switch (httphead_parse((const char *)c->buf, c->len, &hh)) {
	case HTTPHEAD_OK:
		c->proto = PROTOCOL_HTTP;
		snprintf(c->method, sizeof(c->method), "%s", hh.method);
		snprintf(c->host, sizeof(c->host), "%s", hh.host);
		c->head_len = hh.head_len;
		if (hh.is_connect) {
			/* CONNECT belongs to the explicit listener. */
			conn_deny(c, "CONNECT on the transparent port", 400);
			return true;
		}
		if (hh.host[0] == '\0') {
			conn_judge_odst(c);
			return true;
		}
		conn_judge_host(c, hh.host, strlen(hh.host));
		return true;
	case HTTPHEAD_NEED_MORE:
		c->proto = PROTOCOL_HTTP;
		return false;
	case HTTPHEAD_INVALID:
		c->proto = PROTOCOL_HTTP;
		conn_deny(c, hh.error != NULL ? hh.error : "invalid request",
		    hh.status > 0 ? hh.status : 400);
		return true;
	case HTTPHEAD_NOT_HTTP:
		break;
	}
	conn_deny(c, "neither a TLS ClientHello nor an HTTP request", 0);
	return true;
}

int
conn_buf_grow(struct conn *c)
{
	uint8_t *nb;
	size_t ncap;

	if (c->len < c->cap)
		return 0;
	if (c->cap >= CONN_FIRST_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	ncap = c->cap == 0 ? 4096 : c->cap * 2;
	if (ncap > CONN_FIRST_MAX)
		ncap = CONN_FIRST_MAX;
	if ((nb = realloc(c->buf, ncap)) == NULL)
		return -1;
	c->buf = nb;
	c->cap = ncap;
	return 0;
}

static void
conn_read_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)l;
	(void)events;
	for (;;) {
		if (conn_buf_grow(c) == -1) {
			if (errno == ENOBUFS)
				conn_deny(c, "first bytes too large", 431);
			else
				conn_deny(c, "out of memory", 0);
			return;
		}
		n = read(fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			/* Parsing is stateless and cheap: judge as soon as
			 * the bytes suffice, however they were split. */
			if (c->state == CONN_TUNNEL ? conn_tunnel_parse(c) :
			    conn_parse(c))
				return;
			continue;
		}
		if (n == 0) {
			conn_deny(c, "closed before the handshake was complete",
			    0);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_deny(c, "read error before the handshake", 0);
		return;
	}
}

static void
conn_handshake_timeout(struct loop *l, void *arg)
{
	struct conn *c = arg;

	(void)l;
	c->timer = NULL;
	conn_deny(c, "handshake timeout", 408);
}

/*
 * The server spoke before the client: a server-first protocol (SSH, SMTP)
 * when the client has sent nothing, which is relayed; with part of a
 * ClientHello pending, the SNI check could not finish, so refuse.
 */
static void
conn_tunnel_server_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)events;
	if (c->len != 0) {
		conn_deny(c, "the server spoke before the tunnel's ClientHello "
		    "was complete", 0);
		return;
	}
	conn_timer_clear(c);
	(void)loop_del(l, c->cfd);
	(void)loop_del(l, c->sfd);
	conn_relay_start(c, NULL, 0);
}

/* CONNECT is dialled: answer 200, then watch the tunnel's first bytes.
 * A synthetic address's connection is dialled: the same watch. */
void
conn_tunnel_open(struct conn *c)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	struct proxy *p = c->set->p;

	/* A fresh socket's buffer takes this at once. A synthetic
	 * address's client asked for no proxy: it gets no answer. */
	if (c->connect && send(c->cfd, ok, sizeof(ok) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof(ok) - 1)) {
		conn_deny(c, "cannot answer CONNECT", 0);
		return;
	}
	conn_set_state(c, CONN_TUNNEL);
	/* Bytes the client sent after the CONNECT head are the tunnel's. */
	if (c->head_len > 0) {
		c->len -= c->head_len;
		memmove(c->buf, c->buf + c->head_len, c->len);
		c->head_len = 0;
	}
	if (loop_add(p->loop, c->cfd, EPOLLIN, conn_read_cb, c) == -1 ||
	    loop_add(p->loop, c->sfd, EPOLLIN, conn_tunnel_server_cb, c) == -1 ||
	    (c->timer = loop_timer_add(p->loop, p->conf->proxy_handshake_ms,
	    conn_handshake_timeout, c)) == NULL) {
		conn_deny(c, "out of resources", 0);
		return;
	}
	if (c->len > 0)
		(void)conn_tunnel_parse(c);
}

int
conn_hello_start(struct conn *c)
{
	struct proxy *p = c->set->p;

	if (loop_add(p->loop, c->cfd, EPOLLIN, conn_read_cb, c) == -1 ||
	    (c->timer = loop_timer_add(p->loop, p->conf->proxy_handshake_ms,
	    conn_handshake_timeout, c)) == NULL)
		return -1;
	return 0;
}
