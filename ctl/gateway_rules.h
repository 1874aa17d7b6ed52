/*
 * The gateway's firewall rules as text: what `agentgatectl gateway up` feeds
 * iptables-restore for one family, and the comparison of an iptables-save
 * dump with it. Pure functions over strings (no iptables run here).
 */
#ifndef AG_GATEWAY_RULES_H
#define AG_GATEWAY_RULES_H

#include <stdbool.h>
#include <stddef.h>

struct ag_conf;

/* Our chains, each jumped to from one built-in chain of one table. The
 * last two hold rules only with `nfq enable`; they exist (empty) without it
 * so that `up` after turning nfq off empties them. */
#define GATEWAY_HOOKS	5

struct gateway_hook {
	const char	*table;		/* "nat", "filter" or "mangle" */
	const char	*builtin;	/* PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING */
	const char	*chain;		/* AGENTGATE-PRE, -IN, -FWD, -OUT, -MARK */
};

extern const struct gateway_hook gateway_hooks[GATEWAY_HOOKS];

/* The tables our chains live in, in the order iptables-save is asked. */
#define GATEWAY_TABLES	3
extern const char *const gateway_tables[GATEWAY_TABLES];

/* agentgate-nfq's marks (nfq-filter/queue.h, docs/nfq.md): the packet mark
 * of an accepted packet, and of a denied one handed back with NF_REPEAT. */
#define GATEWAY_MARK_ACCEPT	"0x61670001"
#define GATEWAY_MARK_REJECT	"0x61670002"

/* The comment on every jump; `iptables -C` matches it, so keep it fixed. */
#define GATEWAY_JUMP_COMMENT	"agentgate: sandbox traffic"

enum gateway_status {
	GATEWAY_NOT_INSTALLED = 0,	/* none of our chains or jumps */
	GATEWAY_INSTALLED,		/* all of them, rules as rendered, one jump each */
	GATEWAY_DIFFERS,		/* all there, but other rules or extra jumps */
	GATEWAY_PARTIAL,		/* some chains or jumps missing */
};

struct gateway_state {
	unsigned	chains;			/* of ours declared, 0..GATEWAY_HOOKS */
	unsigned	jumps[GATEWAY_HOOKS];	/* per hook, copies of the jump */
	bool		rules_match;		/* every chain's rules as rendered */
};

/*
 * The iptables-restore --noflush input for `family` (4 or 6): each table's
 * chains declared (created, or flushed when they exist) and filled, in the
 * form iptables-save prints them so that status can compare texts. Jumps
 * are not in it. Writes at most `size` bytes, NUL-terminated, and returns
 * the length of the whole text (as snprintf: larger than size - 1 means cut);
 * -1 with errno EINVAL when the settings cannot make sound rules (a pool of
 * the other family, two services on one port, nfq-mode packet-only without
 * nfq enable). Packet-only mode redirects no TCP to the proxy: TCP goes to
 * the queue, and only the connmark fast path lets a TCP flow skip it.
 */
int gateway_rules_render(const struct ag_conf *c, int family, char *buf, size_t size);

/*
 * Compare `saved` (iptables-save output of the nat, filter and mangle
 * tables of one family, with or without -c counters) with `want` (gateway_rules_render's
 * text). Fills `st` when not NULL. Returns the status, or -1 with errno
 * ENOMEM.
 */
int gateway_rules_compare(const char *saved, const char *want, struct gateway_state *st);

/* Is this iptables-save line (counters allowed) ours: a declaration of or a
 * rule in one of our chains, or a jump to one? */
bool gateway_rules_is_ours(const char *line, size_t len);

const char *gateway_status_name(enum gateway_status s);

/* One line of /proc/net/netfilter/nfnetlink_queue: a bound queue. */
struct gateway_queue_stat {
	unsigned	queue;		/* queue number */
	unsigned	portid;		/* netlink port of the program bound to it */
	unsigned	queued;		/* packets waiting for a verdict now */
	unsigned	copy_mode;
	unsigned	copy_range;
	unsigned	dropped;	/* dropped by the kernel: the queue was full */
	unsigned	user_dropped;	/* dropped: netlink could not deliver them */
	unsigned	id_sequence;	/* last packet id handed out */
};

/*
 * Parse one line (`len` bytes, no newline needed) of that file: eight
 * unsigned decimal fields and a ninth that is always 1. Returns 0, or -1
 * with errno EINVAL when the line has another form.
 */
int gateway_queue_parse(const char *line, size_t len, struct gateway_queue_stat *qs);

#endif
