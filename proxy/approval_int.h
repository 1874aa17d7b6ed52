/*
 * Inside the approval store, shared by approval.c (requests, holds,
 * decisions, expiry, observers) and approval_grant.c (decisions that
 * outlive their request: task and duration scopes in memory, forever ones
 * in the approvals files). Nothing else includes it.
 */
#ifndef AG_APPROVAL_INT_H
#define AG_APPROVAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "approval.h"

struct approval_file;
struct loop_timer;

#define APPROVAL_RECENT_MAX	64	/* decided requests kept for listing */
#define APPROVAL_OBSERVERS_MAX	64
#define APPROVAL_PROTO_MAX	7
/* A synthetic address is not recycled within approval-ttl plus this: the
 * client that got it connects a little after its answer expires. */
#define APPROVAL_POOL_GRACE_MS	5000

struct approval_hold {
	struct approval_hold	*next, *prev;
	struct approval_req	*req;
	approval_wake_fn	 fn;
	void			*arg;
};

struct approval_req {
	struct approval_req	*next;
	char			 id[APPROVAL_ID_LEN + 1];
	char			*task_id, *policy, *trace_id, *name;
	char			 proto[APPROVAL_PROTO_MAX + 1];
	uint16_t		 port;
	enum approval_state	 state;
	bool			 announced;	/* observers told of it */
	int64_t			 created_ms;
	uint64_t		 deadline;	/* monotonic ms */
	struct approval_hold	*holds;
	unsigned		 nconns;
	enum approval_scope	 scope;
	uint64_t		 duration_ms;
	char			*decider, *reason;
	int64_t			 decided_ms;
};

/* A decision that outlives its request: task or duration scope (forever
 * decisions live in the approvals files). */
struct approval_grant {
	struct approval_grant	*next;
	bool			 allow;
	enum approval_scope	 scope;
	char			*task_id;	/* APPROVAL_TASK */
	char			*policy;	/* APPROVAL_DURATION */
	char			*name;
	char			 proto[APPROVAL_PROTO_MAX + 1];
	uint16_t		 port;
	uint64_t		 until;		/* APPROVAL_DURATION, monotonic */
	char			 id[APPROVAL_ID_LEN + 1];
};

/* A policy's approvals file as last loaded; f NULL: none (or broken). */
struct approval_pfile {
	struct approval_pfile	*next;
	char			*policy;
	struct approval_file	*f;
};

struct approval_observer {
	approval_observer_fn	 fn;	/* NULL: removed while notifying */
	void			*arg;
};

struct approvals {
	struct loop		*loop;		/* NULL in unit tests */
	struct loop_timer	*timer;		/* next expiry */
	uint64_t		 timer_at;
	struct loop_timer	*announce;	/* new requests to tell observers */
	uint64_t		(*now_fn)(void *);
	void			*now_arg;
	uint64_t		 timeout_ms;
	uint32_t		 max_pending;
	char			*state_dir;
	struct approval_pool	*pool;
	struct approval_req	*pending;	/* oldest first */
	struct approval_req	*recent;	/* newest first */
	size_t			 nrecent;
	struct approval_grant	*grants;	/* newest first */
	struct approval_pfile	*files;
	struct approval_observer obs[APPROVAL_OBSERVERS_MAX];
	size_t			 nobs;
	unsigned		 notifying;
};

/* approval.c */
uint64_t approvals_now(struct approvals *a);	/* monotonic ms */
int64_t	 approvals_realtime(void);		/* CLOCK_REALTIME ms */

/* approval_grant.c */
/* Keep r's decision for its scope (task or duration). 0, or -1 ENOMEM. */
int	 grant_add(struct approvals *a, const struct approval_req *r);
/* Durations that elapsed by now end. */
void	 approvals_grants_expire(struct approvals *a, uint64_t now);
/* The policy's approvals file as loaded (loading it the first time, or
 * again with reload); NULL only when out of memory. */
struct approval_pfile *approvals_file(struct approvals *a, const char *policy,
	    bool reload);
/* Free every grant and loaded file. */
void	 approvals_grants_free(struct approvals *a);

#endif
