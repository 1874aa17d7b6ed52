/*
 * The inside of a proxy connection, shared by conn.c (accept, first bytes,
 * judging, tunnels, teardown) and conn_dial.c (resolving, dialling the
 * usable answers, starting and ending the relay). Not for other objects:
 * they use conn.h.
 */
#ifndef AG_CONN_INT_H
#define AG_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "approval.h"
#include "canon.h"
#include "conn.h"
#include "event.h"
#include "httphead.h"
#include "policy.h"
#include "registry.h"
#include "resolve.h"
#include "tlshello.h"

/* SO_ORIGINAL_DST (linux/netfilter_ipv4.h) and IP6T_SO_ORIGINAL_DST
 * (linux/netfilter_ipv6/ip6_tables.h) are both 80; the kernel headers
 * clash with netinet/in.h, so the value is spelled here. */
#define CONN_SO_ORIGINAL_DST	80

enum conn_state {
	CONN_HELLO = 0,		/* reading the first bytes, handshake timer running */
	CONN_HELD,		/* ask: waiting for an approval, nothing sent
				 * upstream; client bytes buffered (bounded) */
	CONN_RESOLVING,		/* the name is allowed; waiting for our resolver */
	CONN_CONNECTING,	/* a non-blocking connect to cand[next - 1] is pending */
	CONN_TUNNEL,		/* CONNECT answered 200; reading the tunnel's first
				 * bytes so that a ClientHello's SNI is checked */
	CONN_RELAYING,		/* the relay owns both sockets until it ends */
	CONN_DONE,		/* the event is written; only freeing is left */
};

/* Connections per task, for proxy-max-conns-per-task. */
struct task_count {
	char			 id[REG_ID_MAX + 1];
	uint32_t		 n;
	struct task_count	*next;
};

/* One lookup of a name for every connection waiting for it: a burst of
 * connections to one name (100 held ones let through by one approval)
 * asks upstream once. */
struct conn_lookup {
	struct conn_lookup	*next;		/* in conn_set.lookups */
	struct conn_set		*set;
	struct resolver_req	*req;
	struct conn		*waiters;	/* through conn.lk_next */
	char			 name[CANON_NAME_MAX + 1];
};

struct conn_set {
	struct proxy		*p;
	struct listener		*listener;	/* NULL once stopped */
	struct listener		*xlistener;	/* explicit proxy; NULL: none */
	struct conn		*conns;
	size_t			 n;
	struct task_count	*tasks;
	struct conn_lookup	*lookups;	/* in flight */
};

struct conn {
	struct conn_set		*set;
	struct conn		*prev, *next;
	enum conn_state		 state;
	int			 cfd, sfd;
	struct ag_addr		 src, odst, dialled;
	uint16_t		 sport, oport;
	struct timespec		 start;
	struct loop_timer	*timer;		/* handshake or connect deadline */
	struct conn_lookup	*lookup;	/* CONN_RESOLVING */
	struct conn		*lk_next;
	struct relay		*relay;
	struct task_count	*tc;		/* NULL: no task */
	char			 task_id[REG_ID_MAX + 1];
	char			*trace_id;
	struct policy		*pol;		/* one reference */
	struct policy_verdict	 verdict;
	bool			 judged;
	bool			 explicit;	/* came to the explicit proxy port */
	bool			 connect;	/* explicit: a CONNECT tunnel */
	bool			 synthetic;	/* to an approval pool address:
						 * name from the map, first
						 * bytes checked after dialling */
	struct approval_hold	*hold;		/* CONN_HELD */
	char			 approval_id[APPROVAL_ID_LEN + 1]; /* "" none */
	/* The first bytes and what they said. */
	uint8_t			*buf;
	size_t			 len, cap;
	enum event_protocol	 proto;
	char			 sni[TLSHELLO_SNI_MAX + 1];
	size_t			 sni_len;
	bool			 has_sni;
	char			 host[HTTPHEAD_HOST_MAX + 1];
	char			 method[HTTPHEAD_METHOD_MAX + 1];
	size_t			 head_len;	/* HTTP: bytes of the first head */
	char			 name[CANON_NAME_MAX + 1];	/* "" if none */
	/* Where it may go. */
	struct ag_addr		 cand[RESOLVE_ANSWERS_MAX];
	size_t			 ncand, next_cand;
	int			 mismatch;	/* -1 unknown, 0, 1 */
	int			 connect_err;
};

/* conn.c */
void	conn_set_state(struct conn *c, enum conn_state to);
void	conn_timer_clear(struct conn *c);
void	conn_event_fill(struct conn *c, struct ag_event *ev);
/* Refuse: an HTTP client gets a response naming the reason (http_status
 * > 0), then the connection's one event is written and it is freed. */
void	conn_deny(struct conn *c, const char *reason, int http_status);
/* Room for more first bytes in c->buf, up to CONN_FIRST_MAX: 0, or -1 with
 * errno ENOBUFS (full) or ENOMEM. */
int	conn_buf_grow(struct conn *c);
/* Watch the client for its first bytes under the handshake timer (a new
 * connection after its checks). 0, or -1 with errno. */
int	conn_hello_start(struct conn *c);
/* CONNECT answered (or a synthetic address's connection dialled): read
 * the first bytes (the SNI, for a synthetic address the Host, checked). */
void	conn_tunnel_open(struct conn *c);
/* Through a synthetic address: an HTTP Host must be the mapped name.
 * 1 go on, 0 need more bytes, -1 c was denied (and freed). */
int	conn_host_check(struct conn *c);

/* conn_set.c */
void	conn_free(struct conn *c);

/* conn_dial.c */
/* A verdict on c->verdict: allow goes on, ask is checked against the
 * approvals (held when none is in scope), deny is refused. */
void	conn_decide(struct conn *c, const struct ag_addr *literal);
/* Allowed: resolve the name, or dial the literal. */
void	conn_proceed(struct conn *c, const struct ag_addr *literal);
/* Stop waiting for a lookup (the connection is being freed). */
void	conn_lookup_leave(struct conn *c);
/* Hand both sockets to a relay, `first` bytes sent upstream first. */
void	conn_relay_start(struct conn *c, const uint8_t *first, size_t len);

/* conn_hold.c */
/* A connection to an approval pool address: judge it by the mapped name
 * at once (server-first protocols send nothing). */
void	conn_synthetic_start(struct conn *c);
/* Ask with no decision in scope: join or open the pending request and
 * wait for it; the connection is refused when that is impossible. */
void	conn_hold(struct conn *c);

#endif
