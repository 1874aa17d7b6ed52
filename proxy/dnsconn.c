/*
 * TCP clients of the DNS forwarder (RFC 7766): length-prefixed queries,
 * several per connection and answered in completion order, a bounded
 * pipeline and output, an idle timeout. Judging is dnsfwd_handle()'s.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>

#include "dnsfwd.h"
#include "dnsfwd_int.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"

#define ACCEPT_BATCH	64		/* connections accepted per wakeup */
/* SO_ORIGINAL_DST (linux/netfilter_ipv4.h) and IP6T_SO_ORIGINAL_DST share
 * the number; those headers clash with glibc's netinet ones. */
#define DNSCONN_SO_ORIGINAL_DST	80
#define TCP_OUT_MAX	(256 * 1024)	/* answers a client does not read */

static void dnsconn_idle(struct loop *l, void *arg);

static void
peer_local(struct dnsfwd_peer *pe, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    addr_from_sockaddr((struct sockaddr *)&ss, &pe->dst) == 0)
		pe->dport = ntohs(ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Where the client sent the connection before the gateway's REDIRECT: the
 * resolver it asked. Absent when not redirected (no NAT, no conntrack). */
static void
peer_original(struct dnsfwd_peer *pe, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), dl = sizeof(int);
	int domain = AF_INET;

	/* The socket's family picks the table: IPv4 or IPv6 conntrack. */
	(void)getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl);
	memset(&ss, 0, sizeof(ss));
	if (getsockopt(fd, domain == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP, DNSCONN_SO_ORIGINAL_DST, &ss, &sl) == -1 ||
	    addr_from_sockaddr((struct sockaddr *)&ss, &pe->requested) == -1) {
		memset(&pe->requested, 0, sizeof(pe->requested));
		return;
	}
	pe->rport = dnsfwd_sa_port(&ss);
}

static void
dnsconn_want(struct dnsconn *c)
{
	uint32_t ev = 0;

	if (!c->eof && c->pending < DNSFWD_TCP_PIPELINE)
		ev |= EPOLLIN;
	if (c->outlen > 0)
		ev |= EPOLLOUT;
	if (ev != c->events) {
		if (loop_mod(c->fwd->p->loop, c->fd, ev) == -1)
			log_warn("dns: epoll");
		c->events = ev;
	}
}

/* Write what can be written. Returns 0, or -1 when c was closed (an
 * error, or the client's EOF with nothing left to answer). */
int
dnsconn_flush(struct dnsconn *c)
{
	ssize_t n;

	while (c->outlen > 0) {
		n = write(c->fd, c->out, c->outlen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			log_debug("dns: tcp client: %s", strerror(errno));
			dnsconn_close(c);
			return -1;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	if (c->eof && c->outlen == 0 && c->pending == 0) {
		dnsconn_close(c);
		return -1;
	}
	dnsconn_want(c);
	return 0;
}

/* Queue one length-prefixed message and flush. Returns 0, or -1 when c
 * was closed. */
int
dnsconn_send(struct dnsconn *c, const uint8_t *msg, size_t len)
{
	size_t need = c->outlen + 2 + len;
	uint8_t *n;

	if (need > TCP_OUT_MAX) {
		log_info("dns: tcp client does not read its answers, closed");
		dnsconn_close(c);
		return -1;
	}
	if (need > c->outcap) {
		if ((n = realloc(c->out, need)) == NULL) {
			log_warn("dns: tcp answer");
			dnsconn_close(c);
			return -1;
		}
		c->out = n;
		c->outcap = need;
	}
	c->out[c->outlen] = (uint8_t)(len >> 8);
	c->out[c->outlen + 1] = (uint8_t)len;
	memcpy(c->out + c->outlen + 2, msg, len);
	c->outlen = need;
	return dnsconn_flush(c);
}

static void
dnsconn_idle(struct loop *l, void *arg)
{
	struct dnsconn *c = arg;

	(void)l;
	c->idle = NULL;
	if (c->pending > 0 || c->outlen > 0) {
		c->idle = loop_timer_add(c->fwd->p->loop, DNSFWD_TCP_IDLE_MS,
		    dnsconn_idle, c);
		if (c->idle != NULL)
			return;
	}
	log_debug("dns: tcp client idle, closed");
	dnsconn_close(c);
}

void
dnsconn_close(struct dnsconn *c)
{
	struct dnsfwd *f = c->fwd;

	dnsfwd_detach(f, c);
	if (c->idle != NULL)
		loop_timer_cancel(f->p->loop, c->idle);
	loop_del(f->p->loop, c->fd);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		f->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	f->nconns--;
	free(c->in);
	free(c->out);
	free(c);
}

/* Handle every complete message in the input; stop at the pipeline limit
 * (query_reply calls back here as answers free slots). Returns 0, or -1
 * when c was closed. */
int
dnsconn_process(struct dnsconn *c)
{
	size_t mlen, used = 0;
	struct dnsfwd_peer pe;

	while (c->pending < DNSFWD_TCP_PIPELINE && c->inlen - used >= 2) {
		mlen = ((size_t)c->in[used] << 8) | c->in[used + 1];
		if (c->inlen - used < 2 + mlen)
			break;
		pe = c->peer;
		/* The message stays in place while it is judged; a query
		 * sent upstream keeps its own copy. */
		if (dnsfwd_handle(c->fwd, &pe, c, c->in + used + 2, mlen) == -1)
			return -1;
		used += 2 + mlen;
	}
	if (used > 0) {
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
	}
	return 0;
}

static void
dnsconn_event(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dnsconn *c = arg;
	size_t need;
	ssize_t n;
	uint8_t *nb;

	/* Both directions gone: nothing can be answered any more. */
	if (events & (EPOLLHUP | EPOLLERR)) {
		dnsconn_close(c);
		return;
	}
	if ((events & EPOLLOUT) && dnsconn_flush(c) == -1)
		return;
	/* EPOLLIN may still be reported in the round that filled the
	 * pipeline; the queries already read wait for a free slot. */
	if (!(events & EPOLLIN) || c->eof || c->pending >= DNSFWD_TCP_PIPELINE)
		return;
	need = 2;
	if (c->inlen >= 2)
		need = 2 + (((size_t)c->in[0] << 8) | c->in[1]);
	if (need < 514)
		need = 514;
	if (c->incap < need) {
		if ((nb = realloc(c->in, need)) == NULL) {
			log_warn("dns: tcp buffer");
			dnsconn_close(c);
			return;
		}
		c->in = nb;
		c->incap = need;
	}
	if (c->inlen == c->incap) {
		/* A whole message waits for dnsconn_process(). */
		dnsconn_want(c);
		return;
	}
	n = read(fd, c->in + c->inlen, c->incap - c->inlen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_debug("dns: tcp client: %s", strerror(errno));
		dnsconn_close(c);
		return;
	}
	if (n == 0) {
		c->eof = true;
		if (c->pending == 0 && c->outlen == 0) {
			dnsconn_close(c);
			return;
		}
		dnsconn_want(c);
		return;
	}
	c->inlen += (size_t)n;
	if (c->idle != NULL)
		loop_timer_cancel(l, c->idle);
	c->idle = loop_timer_add(l, DNSFWD_TCP_IDLE_MS, dnsconn_idle, c);
	if (dnsconn_process(c) == 0)
		dnsconn_want(c);
}

void
dnsconn_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct dnsfwd *f = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct dnsconn *c;
	int cfd, i;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		sl = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("dns: accept");
			return;
		}
		if (f->nconns >= DNSFWD_TCP_MAX || f->p->stopping) {
			log_warnx("dns: too many tcp clients, one closed");
			close(cfd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("dns: tcp client");
			close(cfd);
			continue;
		}
		c->fwd = f;
		c->fd = cfd;
		c->peer.transport = TRANSPORT_TCP;
		c->peer.ufd = -1;
		if (addr_from_sockaddr((struct sockaddr *)&ss,
		    &c->peer.src) == -1) {
			close(cfd);
			free(c);
			continue;
		}
		c->peer.sport = dnsfwd_sa_port(&ss);
		peer_local(&c->peer, cfd);
		peer_original(&c->peer, cfd);
		c->events = EPOLLIN;
		if (loop_add(l, cfd, EPOLLIN, dnsconn_event, c) == -1) {
			log_warn("dns: epoll");
			close(cfd);
			free(c);
			continue;
		}
		c->idle = loop_timer_add(l, DNSFWD_TCP_IDLE_MS, dnsconn_idle, c);
		if ((c->next = f->conns) != NULL)
			c->next->prev = c;
		f->conns = c;
		f->nconns++;
	}
}
