/*
 * The gateway's rules rendered from the settings as iptables-restore input,
 * and an iptables-save dump compared with them. Rules are written exactly as
 * iptables-save prints them (`-m tcp`, `RELATED,ESTABLISHED`, numeric ICMP
 * types) so that "installed as the settings say" is a text comparison.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "conf.h"
#include "gateway_rules.h"

const struct gateway_hook gateway_hooks[GATEWAY_HOOKS] = {
	{ "nat",	"PREROUTING",	"AGENTGATE-PRE" },
	{ "filter",	"INPUT",	"AGENTGATE-IN" },
	{ "filter",	"FORWARD",	"AGENTGATE-FWD" },
	{ "filter",	"OUTPUT",	"AGENTGATE-OUT" },
	{ "mangle",	"POSTROUTING",	"AGENTGATE-MARK" },
};

const char *const gateway_tables[GATEWAY_TABLES] = { "nat", "filter", "mangle" };

/* Rate of pings a sandbox may send the gateway: enough for a health check,
 * too few to load it. */
#define GATEWAY_PING_RATE	"10/sec"
#define GATEWAY_PING_BURST	20

/* snprintf-style appender: counts what does not fit so the caller learns
 * the size it needs. */
struct out {
	char	*buf;
	size_t	 size;
	size_t	 len;
};

static void out_printf(struct out *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->len < o->size)
		n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* One rule: "-A CHAIN -s|-d POOL MATCHES -m comment --comment "agentgate:
 * WHY" -j TARGET". */
static void
out_rule(struct out *o, const char *chain, const char *dir, const char *pool,
    const char *matches, const char *why, const char *target)
{
	out_printf(o, "-A %s %s %s%s%s -m comment --comment \"agentgate: %s\" -j %s\n",
	    chain, dir, pool, *matches ? " " : "", matches, why, target);
}

int
gateway_rules_render(const struct ag_conf *c, int family, char *buf, size_t size)
{
	const struct ag_cidr *pool;
	char addr[AG_ADDR_STRLEN], p[AG_ADDR_STRLEN + 4], m[128], t[64], q[64];
	struct out o = { .buf = buf, .size = size, .len = 0 };
	const char *icmp;
	int v6, po;

	if (family == 4)
		pool = &c->sandbox_pool4;
	else if (family == 6)
		pool = &c->sandbox_pool6;
	else
		goto bad;
	v6 = family == 6;
	if (pool->addr.family != (v6 ? AF_INET6 : AF_INET) || pool->len == 0)
		goto bad;
	/* The accept list and the explicit-proxy exception would overlap. */
	if (c->proxy_port == c->proxy_explicit_port || c->proxy_port == c->dns_port ||
	    c->proxy_explicit_port == c->dns_port || c->proxy_port == 0 ||
	    c->proxy_explicit_port == 0 || c->dns_port == 0 ||
	    c->nfq_queue_first > c->nfq_queue_last)
		goto bad;
	/* Packet-only sends TCP to the queue: without nfq it would go nowhere. */
	po = c->nfq_packet_only;
	if (po && !c->nfq_enable)
		goto bad;
	snprintf(p, sizeof(p), "%s/%u", addr_format(&pool->addr, addr, sizeof(addr)),
	    pool->len);
	if (size > 0)
		buf[0] = '\0';

	out_printf(&o, "# agentgate gateway rules, IPv%d (agentgatectl gateway up)\n", family);
	out_printf(&o, "*nat\n:AGENTGATE-PRE - [0:0]\n");
	snprintf(m, sizeof(m), "-p tcp -m addrtype --dst-type LOCAL -m tcp --dport %u",
	    c->proxy_explicit_port);
	if (!po)
		out_rule(&o, "AGENTGATE-PRE", "-s", p, m, "explicit proxy reaches its listener",
		    "RETURN");
	/* Not redirected to the proxy: a connection to the gateway itself is
	 * no egress, and AGENTGATE-IN drops it unless it is for a service. */
	out_rule(&o, "AGENTGATE-PRE", "-s", p,
	    "-p tcp -m addrtype --dst-type LOCAL -m tcp ! --dport 53",
	    "TCP to the gateway itself is judged in AGENTGATE-IN", "RETURN");
	snprintf(t, sizeof(t), "REDIRECT --to-ports %u", c->dns_port);
	out_rule(&o, "AGENTGATE-PRE", "-s", p, "-p udp -m udp --dport 53",
	    "every DNS query to the forwarder", t);
	out_rule(&o, "AGENTGATE-PRE", "-s", p, "-p tcp -m tcp --dport 53",
	    "every DNS query to the forwarder", t);
	/* Packet-only: TCP is forwarded, and judged in AGENTGATE-FWD. */
	snprintf(t, sizeof(t), "REDIRECT --to-ports %u", c->proxy_port);
	if (!po)
		out_rule(&o, "AGENTGATE-PRE", "-s", p, "-p tcp", "TCP to the transparent proxy", t);
	out_printf(&o, "COMMIT\n");

	/* No --queue-bypass: with no daemon on the queue, traffic stops. */
	if (c->nfq_queue_first == c->nfq_queue_last)
		snprintf(q, sizeof(q), "NFQUEUE --queue-num %u", c->nfq_queue_first);
	else
		snprintf(q, sizeof(q), "NFQUEUE --queue-balance %u:%u",
		    c->nfq_queue_first, c->nfq_queue_last);

	out_printf(&o, "*filter\n:AGENTGATE-FWD - [0:0]\n:AGENTGATE-IN - [0:0]\n"
	    ":AGENTGATE-OUT - [0:0]\n");
	out_rule(&o, "AGENTGATE-IN", "-s", p, "-m conntrack --ctstate RELATED,ESTABLISHED",
	    "replies", "ACCEPT");
	if (po) {
		snprintf(m, sizeof(m), "-p tcp -m tcp --dport %u", c->dns_port);
		out_rule(&o, "AGENTGATE-IN", "-s", p, m, "DNS over TCP", "ACCEPT");
	} else {
		snprintf(m, sizeof(m), "-p tcp -m multiport --dports %u,%u,%u",
		    c->proxy_port, c->proxy_explicit_port, c->dns_port);
		out_rule(&o, "AGENTGATE-IN", "-s", p, m, "proxy and DNS over TCP", "ACCEPT");
	}
	snprintf(m, sizeof(m), "-p udp -m udp --dport %u", c->dns_port);
	out_rule(&o, "AGENTGATE-IN", "-s", p, m, "DNS", "ACCEPT");
	if (v6) {
		/* Neighbour discovery is untracked: without these, no IPv6 at all. */
		out_rule(&o, "AGENTGATE-IN", "-s", p, "-p ipv6-icmp -m icmp6 --icmpv6-type 133",
		    "router solicitation", "ACCEPT");
		out_rule(&o, "AGENTGATE-IN", "-s", p, "-p ipv6-icmp -m icmp6 --icmpv6-type 135",
		    "neighbour solicitation", "ACCEPT");
		out_rule(&o, "AGENTGATE-IN", "-s", p, "-p ipv6-icmp -m icmp6 --icmpv6-type 136",
		    "neighbour advertisement", "ACCEPT");
		icmp = "-p ipv6-icmp -m icmp6 --icmpv6-type 128";
	} else {
		icmp = "-p icmp -m icmp --icmp-type 8";
	}
	snprintf(m, sizeof(m), "%s -m limit --limit %s --limit-burst %d", icmp,
	    GATEWAY_PING_RATE, GATEWAY_PING_BURST);
	out_rule(&o, "AGENTGATE-IN", "-s", p, m, "ping the gateway, rate-limited", "ACCEPT");
	out_rule(&o, "AGENTGATE-IN", "-s", p, "", "sandboxes reach the gateway only on DNS and the proxy",
	    "DROP");

	out_rule(&o, "AGENTGATE-FWD", "-d", p, "-m conntrack --ctstate RELATED,ESTABLISHED",
	    "replies to sandboxes", "ACCEPT");
	out_rule(&o, "AGENTGATE-FWD", "-d", p, "", "nothing new reaches a sandbox", "DROP");
	/* Packet-only: an established TCP flow is not judged yet until its
	 * first payload was; only the connmark below lets it skip the queue. */
	out_rule(&o, "AGENTGATE-FWD", "-s", p, po ?
	    "! -p tcp -m conntrack --ctstate RELATED,ESTABLISHED" :
	    "-m conntrack --ctstate RELATED,ESTABLISHED",
	    "flows already judged", "ACCEPT");
	if (c->nfq_enable) {
		/* A refused TCP flow gets a reset, mid-stream too. */
		if (po)
			out_rule(&o, "AGENTGATE-FWD", "-s", p,
			    "-p tcp -m mark --mark " GATEWAY_MARK_REJECT,
			    "refused by agentgate-nfq", "REJECT --reject-with tcp-reset");
		/* The daemon hands a denied packet back (NF_REPEAT) with this
		 * mark; it re-enters FORWARD from the top and is refused here,
		 * so the client learns at once instead of timing out. */
		out_rule(&o, "AGENTGATE-FWD", "-s", p, "-m mark --mark " GATEWAY_MARK_REJECT,
		    "refused by agentgate-nfq", v6 ?
		    "REJECT --reject-with icmp6-port-unreachable" :
		    "REJECT --reject-with icmp-port-unreachable");
		/* Later packets of an accepted flow skip userspace even before
		 * conntrack calls the flow ESTABLISHED. */
		out_rule(&o, "AGENTGATE-FWD", "-s", p, "-m connmark --mark " GATEWAY_MARK_ACCEPT,
		    "accepted by agentgate-nfq", "ACCEPT");
		out_rule(&o, "AGENTGATE-FWD", "-s", p, "", "other traffic to agentgate-nfq", q);
		/* The forwarder's answers, before POSTROUTING puts their source
		 * port back to 53: the daemon learns bindings from them. */
		snprintf(m, sizeof(m), "-p udp -m udp --sport %u", c->dns_port);
		out_rule(&o, "AGENTGATE-OUT", "-d", p, m, "DNS answers to agentgate-nfq", q);
		snprintf(m, sizeof(m), "-p tcp -m tcp --sport %u", c->dns_port);
		out_rule(&o, "AGENTGATE-OUT", "-d", p, m, "DNS answers over TCP to agentgate-nfq",
		    q);
	} else {
		out_rule(&o, "AGENTGATE-FWD", "-s", p, "", "other traffic dropped (nfq disabled)",
		    "DROP");
	}
	out_printf(&o, "COMMIT\n");

	out_printf(&o, "*mangle\n:AGENTGATE-MARK - [0:0]\n");
	/* The accept mark becomes the connection's mark without conntrack
	 * netlink, which the connmark rule above then matches. */
	if (c->nfq_enable)
		out_rule(&o, "AGENTGATE-MARK", "-s", p, "-m mark --mark " GATEWAY_MARK_ACCEPT,
		    "accepted flows keep the mark",
		    "CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff");
	out_printf(&o, "COMMIT\n");
	return o.len > (size_t)INT_MAX ? -1 : (int)o.len;
bad:
	errno = EINVAL;
	return -1;
}

/* Growable text, for the per-chain rule lists compared below. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static int
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	char *np;
	size_t ncap;

	if (b->len + n + 2 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 2)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len++] = '\n';
	b->p[b->len] = '\0';
	return 0;
}

static bool
sbuf_equal(const struct sbuf *a, const struct sbuf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* Skip iptables-save -c's "[packets:bytes] " prefix. */
static void
strip_counters(const char **line, size_t *len)
{
	const char *s = *line, *e = *line + *len, *q;

	if (*len == 0 || s[0] != '[')
		return;
	if ((q = memchr(s, ']', *len)) == NULL || q + 1 >= e || q[1] != ' ')
		return;
	*line = q + 2;
	*len = (size_t)(e - (q + 2));
}

/* Does `line` start with `word` followed by a space (or end)? */
static bool
starts_word(const char *line, size_t len, const char *prefix, const char *word)
{
	size_t pl = strlen(prefix), wl = strlen(word);

	if (len < pl + wl || memcmp(line, prefix, pl) != 0 ||
	    memcmp(line + pl, word, wl) != 0)
		return false;
	return len == pl + wl || line[pl + wl] == ' ';
}

static bool
ends_with_jump(const char *line, size_t len, const char *chain)
{
	size_t cl = strlen(chain);

	return len > cl + 4 && memcmp(line + len - cl - 4, " -j ", 4) == 0 &&
	    memcmp(line + len - cl, chain, cl) == 0;
}

bool
gateway_rules_is_ours(const char *line, size_t len)
{
	size_t h;

	strip_counters(&line, &len);
	for (h = 0; h < GATEWAY_HOOKS; h++) {
		if (starts_word(line, len, ":", gateway_hooks[h].chain) ||
		    starts_word(line, len, "-A ", gateway_hooks[h].chain) ||
		    (len > 3 && memcmp(line, "-A ", 3) == 0 &&
		    ends_with_jump(line, len, gateway_hooks[h].chain)))
			return true;
	}
	return false;
}

/* What one dump holds of ours: declared chains, jumps, rules per chain. */
struct scan {
	bool		present[GATEWAY_HOOKS];
	unsigned	jumps[GATEWAY_HOOKS];
	struct sbuf	rules[GATEWAY_HOOKS];
};

static int
scan_text(const char *text, struct scan *s)
{
	const char *line = text, *nl, *table = "";
	size_t len, tlen = 0, h;

	for (; *line != '\0'; line = nl ? nl + 1 : line + len) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > 0 && line[0] == '*') {
			table = line + 1;
			tlen = len - 1;
			continue;
		}
		strip_counters(&line, &len);
		for (h = 0; h < GATEWAY_HOOKS; h++) {
			const struct gateway_hook *k = &gateway_hooks[h];

			if (tlen != strlen(k->table) || memcmp(table, k->table, tlen) != 0)
				continue;
			if (starts_word(line, len, ":", k->chain))
				s->present[h] = true;
			else if (starts_word(line, len, "-A ", k->chain)) {
				if (sbuf_add(&s->rules[h], line, len) == -1)
					return -1;
			} else if (starts_word(line, len, "-A ", k->builtin) &&
			    ends_with_jump(line, len, k->chain))
				s->jumps[h]++;
		}
		if (nl == NULL)
			break;
	}
	return 0;
}

static void
scan_free(struct scan *s)
{
	size_t h;

	for (h = 0; h < GATEWAY_HOOKS; h++)
		free(s->rules[h].p);
}

int
gateway_rules_compare(const char *saved, const char *want, struct gateway_state *st)
{
	struct scan got, exp;
	struct gateway_state r;
	unsigned with_jump = 0, single = 0;
	int rc = -1;
	size_t h;

	memset(&got, 0, sizeof(got));
	memset(&exp, 0, sizeof(exp));
	memset(&r, 0, sizeof(r));
	if (scan_text(saved, &got) == -1 || scan_text(want, &exp) == -1) {
		errno = ENOMEM;
		goto out;
	}
	r.rules_match = true;
	for (h = 0; h < GATEWAY_HOOKS; h++) {
		r.chains += got.present[h];
		r.jumps[h] = got.jumps[h];
		with_jump += got.jumps[h] > 0;
		single += got.jumps[h] == 1;
		if (!got.present[h] || !sbuf_equal(&got.rules[h], &exp.rules[h]))
			r.rules_match = false;
	}
	if (r.chains == 0 && with_jump == 0)
		rc = GATEWAY_NOT_INSTALLED;
	else if (r.chains < GATEWAY_HOOKS || with_jump < GATEWAY_HOOKS)
		rc = GATEWAY_PARTIAL;
	else if (r.rules_match && single == GATEWAY_HOOKS)
		rc = GATEWAY_INSTALLED;
	else
		rc = GATEWAY_DIFFERS;
	if (st != NULL)
		*st = r;
out:
	scan_free(&got);
	scan_free(&exp);
	return rc;
}

const char *
gateway_status_name(enum gateway_status s)
{
	switch (s) {
	case GATEWAY_NOT_INSTALLED:	return "not installed";
	case GATEWAY_INSTALLED:		return "installed";
	case GATEWAY_DIFFERS:		return "installed but differs from the settings (run up)";
	case GATEWAY_PARTIAL:		return "partial";
	}
	return "unknown";
}

/* One unsigned decimal field after optional blanks; advances *s. */
static int
queue_field(const char **s, const char *e, unsigned *v)
{
	const char *p = *s;
	unsigned long n = 0;

	while (p < e && *p == ' ')
		p++;
	if (p == e || *p < '0' || *p > '9')
		return -1;
	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 0xffffffffUL)
			return -1;
	}
	if (p < e && *p != ' ')
		return -1;
	*v = (unsigned)n;
	*s = p;
	return 0;
}

int
gateway_queue_parse(const char *line, size_t len, struct gateway_queue_stat *qs)
{
	const char *s = line, *e = line + len;
	unsigned one;

	if (queue_field(&s, e, &qs->queue) == -1 || queue_field(&s, e, &qs->portid) == -1 ||
	    queue_field(&s, e, &qs->queued) == -1 || queue_field(&s, e, &qs->copy_mode) == -1 ||
	    queue_field(&s, e, &qs->copy_range) == -1 || queue_field(&s, e, &qs->dropped) == -1 ||
	    queue_field(&s, e, &qs->user_dropped) == -1 ||
	    queue_field(&s, e, &qs->id_sequence) == -1 || queue_field(&s, e, &one) == -1 ||
	    one != 1)
		goto bad;
	while (s < e && *s == ' ')
		s++;
	if (s != e)
		goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
