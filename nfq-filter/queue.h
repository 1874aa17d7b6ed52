/*
 * One NFQUEUE queue: its netlink socket (libmnl, libnetfilter_queue's
 * message helpers), the thread that receives batches of packets and gives
 * each its own verdict, and the flow table of that thread. Bound without
 * the fail-open flag: while no verdict comes, nothing passes.
 */
#ifndef AG_NFQ_QUEUE_H
#define AG_NFQ_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfq_state;
struct telemetry;
struct bindings;
struct flow_table;
struct hold_table;
struct mnl_socket;
struct dns_response;

#define NFQ_SERVICE	"agentgate-nfq"
#define NFQ_STREAM	"nfq"

/*
 * Marks on the verdicts (docs/nfq.md). Accepted flows carry
 * NFQ_MARK_ACCEPT as packet mark and conntrack mark (the connmark fast
 * path skips the queue for them); a rejected packet is handed back with
 * NF_REPEAT and NFQ_MARK_REJECT so that a REJECT rule placed before the
 * queue answers it at once. A packet that comes back still carrying
 * NFQ_MARK_REJECT (that rule is missing) is dropped, never looped.
 */
#define NFQ_MARK_ACCEPT	0x61670001u
#define NFQ_MARK_REJECT	0x61670002u

#define NFQ_COPY_RANGE	2048		/* headers plus a ClientHello */
#define NFQ_QUEUE_MAXLEN 8192		/* packets the kernel holds for us */
#define NFQ_RCVBUF	(16 * 1024 * 1024)

/* What every queue thread shares; set up by main.c. */
struct nfq_shared {
	struct nfq_state	*state;
	struct telemetry	*tel;
	struct bindings		*bindings;
	bool			 reject;	/* NF_REPEAT + mark for denied UDP/TCP */
	uint16_t		 dns_port;	/* the forwarder's (conf dns-port) */
	bool			 packet_only;	/* nfq-mode packet-only: TCP too */
	size_t			 hold_max;	/* TCP flows held per queue */
	size_t			 flow_max;	/* flows per queue */
	uint64_t		 flow_idle_ms;
	atomic_bool		 stop;
};

struct nfq_queue_stats {
	_Atomic uint64_t	packets, accepted, dropped, rejected;
	_Atomic uint64_t	malformed, bad_messages, enobufs, flows_full;
	_Atomic uint64_t	dns_answers;	/* learned from, accepted */
	_Atomic uint64_t	held;		/* packets whose verdict waited */
	_Atomic uint64_t	hold_expired;	/* flows denied: hello incomplete in time */
};

struct nfq_queue {
	uint16_t		 num;
	struct mnl_socket	*nl;
	uint32_t		 portid;
	struct flow_table	*flows;
	struct hold_table	*hold;		/* packet-only TCP flows being judged */
	struct dns_response	*dns;		/* parse buffer for answers (~34 KiB) */
	uint64_t		 gen;		/* nfq_state generation the flows hold */
	struct nfq_shared	*sh;
	pthread_t		 thread;
	bool			 running;
	struct nfq_queue_stats	 st;
	uint64_t		 full_said_ms;	/* last "table full" line */
	uint64_t		 full_unsaid;	/* full drops since, not reported */
};

/* Open the socket and bind queue `num` (copy range, GSO, conntrack info,
 * large receive buffer). Returns 0, or -1 with errno (EBUSY: another
 * program holds the queue; EPERM: no CAP_NET_ADMIN). */
int nfq_queue_open(struct nfq_queue *q, uint16_t num, struct nfq_shared *sh);

/* Start the queue's thread. Returns 0, or -1 with errno. */
int nfq_queue_start(struct nfq_queue *q);

/* Wait for the thread (after sh->stop was set), unbind, close. */
void nfq_queue_close(struct nfq_queue *q);

#endif
