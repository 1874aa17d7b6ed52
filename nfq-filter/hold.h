/*
 * Packet-only mode's TCP flows between an allowed SYN and the decision on
 * their first payload: the payload's bytes reassembled by sequence number
 * and the ids of the packets whose verdicts wait until the ClientHello or
 * request head is complete. Bounded in flows, bytes, packets and time. No
 * I/O: the queue thread feeds packets in and answers the ids it gets back.
 */
#ifndef AG_NFQ_HOLD_H
#define AG_NFQ_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "packet.h"

/* Payload bytes reassembled per flow: a ClientHello is 0.5 to 2 KiB, a
 * request head with cookies a few KiB. A hello longer is denied. */
#define HOLD_BYTES_MAX		8192
/* Packets whose verdict one flow may hold (segments and retransmits). */
#define HOLD_PACKETS_MAX	32
/* From the first held packet to the decision; the hello must be complete
 * by then. */
#define HOLD_TIME_MS		3000
/* A flow whose SYN passed but which sent no payload is forgotten after
 * this (its later packets find no state and are dropped). */
#define HOLD_SYN_IDLE_MS	(120 * 1000)

enum hold_state {
	HOLD_SYN = 1,		/* SYN allowed, no payload seen: nothing held */
	HOLD_HOLDING,		/* payload seen: packets wait in pkts[] */
};

struct hold_packet {
	uint32_t	id;		/* the kernel's packet id */
	bool		ct;		/* it came with conntrack info (NFQA_CT) */
};

struct hold_flow {
	struct flow_key		 key;
	enum hold_state		 state;
	uint32_t		 isn;		/* sequence number of payload byte 0 */
	uint64_t		 start_ms;	/* first held packet */
	uint64_t		 seen_ms;	/* last packet */
	size_t			 npkts;
	struct hold_packet	 pkts[HOLD_PACKETS_MAX];
	uint8_t			*buf;		/* HOLD_BYTES_MAX, once holding */
	uint8_t			*have;		/* one bit per byte of buf */
	size_t			 contig;	/* bytes buf holds from 0 without a gap */
	bool			 overflow;	/* a packet was not held: too many */
	uint32_t		 hnext;		/* hash chain / free list */
};

/* What the first payload says. */
enum hold_kind {
	HOLD_KIND_OTHER = 0,	/* neither TLS nor HTTP */
	HOLD_KIND_TLS,
	HOLD_KIND_HTTP,
};

enum hold_result {
	HOLD_NEED_MORE = 0,	/* well formed so far: keep holding */
	HOLD_NAMED,		/* complete; hello->host names the server */
	HOLD_UNNAMED,		/* complete, but no name: TLS without SNI, or
				 * another protocol */
	HOLD_INVALID,		/* a malformed ClientHello or request head */
	HOLD_INCOMPLETE,	/* the byte or packet bound was reached first */
};

struct hold_hello {
	enum hold_kind	kind;
	char		host[256];	/* SNI or Host as sent (raw), NUL added */
	size_t		host_len;	/* 0 without one */
	char		method[33];	/* HTTP method, "" for TLS */
	const char	*error;		/* static reason, when INVALID */
};

struct hold_table;

/* A table of at most `max` flows (buffers are allocated only while a flow
 * holds payload). `seed` keys the hash. NULL with errno (EINVAL, ENOMEM). */
struct hold_table *hold_table_new(size_t max, uint64_t seed);
void hold_table_free(struct hold_table *ht);

/* The flow held for key, or NULL. */
struct hold_flow *hold_lookup(struct hold_table *ht, const struct flow_key *key);

/*
 * Start holding a flow whose SYN (sequence number syn_seq) was allowed;
 * the same key again (a retransmitted SYN) returns the flow already there.
 * NULL with errno ENOSPC when the table is full (the caller fails closed).
 */
struct hold_flow *hold_insert(struct hold_table *ht, const struct flow_key *key,
    uint32_t syn_seq, uint64_t now_ms);

/*
 * Hold packet `id` of flow f and copy its payload (p->payload, at
 * p->tcp_seq) into the reassembly buffer; bytes before the first payload
 * byte or beyond HOLD_BYTES_MAX are ignored, overlaps overwrite. Returns
 * 0, or -1 with errno ENOMEM (no buffer) or ENOSPC (HOLD_PACKETS_MAX
 * packets held already: the packet is not held and f->overflow is set).
 */
int hold_add(struct hold_flow *f, uint32_t id, bool ct, const struct packet *p,
    uint64_t now_ms);

/* What the bytes held so far say (tlshello_parse, else httphead_parse). */
enum hold_result hold_examine(const struct hold_flow *f, struct hold_hello *h);

/* Forget f (its held ids must have been answered). */
void hold_remove(struct hold_table *ht, struct hold_flow *f);

/*
 * Flows holding packets since HOLD_TIME_MS before now_ms go to expired()
 * (which answers their ids) and are removed; flows in HOLD_SYN idle for
 * HOLD_SYN_IDLE_MS are removed silently. Returns how many went.
 */
size_t hold_expire(struct hold_table *ht, uint64_t now_ms,
    void (*expired)(void *arg, struct hold_flow *f), void *arg);

/* Flows held now (both states). */
size_t hold_count(const struct hold_table *ht);

const char *hold_result_name(enum hold_result r);

#endif
