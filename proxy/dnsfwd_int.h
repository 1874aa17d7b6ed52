/*
 * Inside of the DNS forwarder, shared by dnsfwd.c (listeners, UDP, queries
 * upstream, events) and dnsconn.c (TCP clients). Nothing else includes it.
 */
#ifndef AG_DNSFWD_INT_H
#define AG_DNSFWD_INT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dnsjudge.h"
#include "dnsmsg.h"
#include "event.h"
#include "registry.h"

struct loop;
struct loop_timer;
struct proxy;
struct resolver_req;

#define ANSWER_TEXT	(DNS_NAME_TEXT_MAX + 1)

/* Who asked, over what: the event's source and destination. */
struct dnsfwd_peer {
	enum event_transport	 transport;
	struct ag_addr		 src;
	uint16_t		 sport;
	struct ag_addr		 dst;		/* our address the query came to */
	uint16_t		 dport;
	struct ag_addr		 requested;	/* TCP: SO_ORIGINAL_DST; family 0 unknown */
	uint16_t		 rport;
	struct sockaddr_storage	 sa;		/* UDP: where the answer goes */
	socklen_t		 salen;
	int			 ifindex;	/* UDP: where it arrived */
	int			 ufd;		/* UDP: the socket it arrived on */
};

/* One TCP client. States: open (reading), draining (EOF seen: answer what
 * is pending, flush, close). */
struct dnsconn {
	struct dnsconn		*prev, *next;
	struct dnsfwd		*fwd;
	int			 fd;
	struct dnsfwd_peer	 peer;
	struct loop_timer	*idle;
	size_t			 pending;	/* its queries upstream */
	bool			 eof;
	uint32_t		 events;	/* epoll mask now */
	uint8_t			*in;
	size_t			 inlen, incap;
	uint8_t			*out;
	size_t			 outlen, outcap;
};

/* One query upstream. */
struct dnsfwd_query {
	struct dnsfwd_query		*prev, *next;
	struct dnsfwd		*fwd;
	struct dnsconn		*conn;		/* TCP: NULL once the client left */
	struct dnsfwd_peer	 peer;
	struct policy		*pol;		/* one reference */
	char			 task_id[REG_ID_MAX + 1];
	char			*trace_id;
	struct resolver_req	*req;
	struct dnsjudge		 j;
	size_t			 qlen;
	uint8_t			 q[];
};

struct dnsfwd {
	struct proxy		*p;
	int			 udp[2], tcp[2];	/* IPv4, IPv6; -1: none */
	uint16_t		 port;
	struct dnsfwd_query		*queries;
	size_t			 npending;
	struct dnsconn		*conns;
	size_t			 nconns;
	/* Scratch for the loop's one thread. */
	uint8_t			 buf[DNS_MSG_MAX];	/* a query read */
	uint8_t			 ans[DNS_MSG_MAX];	/* the answer built */
	struct dns_response	 resp;
	char			 text[DNS_MAX_ANSWERS][ANSWER_TEXT];
	struct event_dns_answer	 evans[DNS_MAX_ANSWERS];
};

/* dnsfwd.c */
/* Judge one query from pe and answer it or send it upstream; c is the TCP
 * client or NULL for UDP. Returns 0, or -1 when c was closed. */
int dnsfwd_handle(struct dnsfwd *f, struct dnsfwd_peer *pe, struct dnsconn *c,
    const uint8_t *msg, size_t len);
/* Queries of c still upstream will answer no one. */
void dnsfwd_detach(struct dnsfwd *f, struct dnsconn *c);
uint16_t dnsfwd_sa_port(const struct sockaddr_storage *ss);

/* dnsconn.c: functions returning int return 0, or -1 when c was closed. */
void dnsconn_accept(struct loop *l, int fd, uint32_t events, void *arg);
int dnsconn_send(struct dnsconn *c, const uint8_t *msg, size_t len);
int dnsconn_flush(struct dnsconn *c);
int dnsconn_process(struct dnsconn *c);
void dnsconn_close(struct dnsconn *c);

#endif
