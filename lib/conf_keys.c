/*
 * agentgate.conf's keys: the sorted table (looked up exactly, never by
 * prefix) and each key's value parser, with its range and its file:line
 * error. lib/conf.c reads the file and applies a line through
 * conf_key_apply().
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "log.h"
#include "units.h"

typedef int (*conf_setter)(struct conf_ctx *, struct ag_conf *, char **, int);

static int
set_path(struct conf_ctx *x, char **slot, const char *value)
{
	if (value[0] != '/') {
		conf_error(x, "'%s' is not an absolute path", value);
		return -1;
	}
	if (conf_set_path(slot, value) == -1) {
		conf_error(x, "out of memory");
		return -1;
	}
	return 0;
}

static int
set_log_dir(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_path(x, &c->log_dir, w[1]);
}

static int
set_policy_dir(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_path(x, &c->policy_dir, w[1]);
}

static int
set_run_dir(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_path(x, &c->run_dir, w[1]);
}

static int
set_state_dir(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_path(x, &c->state_dir, w[1]);
}

static int
set_geoip_country(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_path(x, &c->geoip_country, w[1]);
}

static int
set_geoip_asn(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_path(x, &c->geoip_asn, w[1]);
}

static int
set_rotate_size(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	if (units_size(w[1], &c->telemetry.rotate_size) == -1) {
		conf_error(x, "bad size '%s' (bytes with an optional K, M, G or T; 0 = never)", w[1]);
		return -1;
	}
	return 0;
}

static int
set_rotate_age(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	if (units_duration_ms(w[1], &c->telemetry.rotate_age_ms) == -1) {
		conf_error(x, "bad duration '%s' (e.g. 30m, 24h, 7d; 0 = never)", w[1]);
		return -1;
	}
	return 0;
}

static int
set_backlog(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	uint64_t v;

	if (units_size(w[1], &v) == -1 || strpbrk(w[1], "KMGT") != NULL || v > 10000000) {
		conf_error(x, "bad backlog '%s' (a count of events, 0 to 10000000)", w[1]);
		return -1;
	}
	c->telemetry.backlog = (size_t)v;
	return 0;
}

/* telemetry-fsync always | never | interval DURATION */
static int
set_fsync(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	uint64_t ms;

	if (strcmp(w[1], "always") == 0 && n == 2) {
		c->telemetry.fsync = TELEMETRY_FSYNC_ALWAYS;
	} else if (strcmp(w[1], "never") == 0 && n == 2) {
		c->telemetry.fsync = TELEMETRY_FSYNC_NEVER;
	} else if (strcmp(w[1], "interval") == 0 && n == 3) {
		if (units_duration_ms(w[2], &ms) == -1 || ms == 0 || ms > 3600000) {
			conf_error(x, "bad fsync interval '%s' (1ms to 1h)", w[2]);
			return -1;
		}
		c->telemetry.fsync = TELEMETRY_FSYNC_INTERVAL;
		c->telemetry.fsync_interval_ms = (uint32_t)ms;
	} else {
		conf_error(x, "telemetry-fsync takes 'always', 'never' or 'interval DURATION'");
		return -1;
	}
	return 0;
}

/* telemetry-on-failure deny | allow: what egress does while events cannot
 * be written. */
static int
set_on_failure(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	if (strcmp(w[1], "deny") == 0) {
		c->telemetry.failure = TELEMETRY_FAIL_CLOSED;
	} else if (strcmp(w[1], "allow") == 0) {
		c->telemetry.failure = TELEMETRY_FAIL_OPEN;
	} else {
		conf_error(x, "telemetry-on-failure takes 'deny' (fail closed) or 'allow' (labs only)");
		return -1;
	}
	return 0;
}

/* sandbox-pool4 / sandbox-pool6 CIDR: a whole-space pool would take the
 * gateway's own upstream traffic for sandbox traffic, so /0 is refused. */
static int
set_pool(struct conf_ctx *x, struct ag_cidr *slot, const char *value, int family)
{
	struct ag_cidr c;

	if (cidr_parse(value, &c) == -1 || c.addr.family != family || c.len == 0) {
		conf_error(x, "bad %s prefix '%s' (ADDRESS/LENGTH, length 1 to %d, no host bits)",
		    family == AF_INET ? "IPv4" : "IPv6", value, family == AF_INET ? 32 : 128);
		return -1;
	}
	*slot = c;
	return 0;
}

static int
set_pool4(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	x->pool_line = x->line;
	return set_pool(x, &c->sandbox_pool4, w[1], AF_INET);
}

static int
set_pool6(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	x->pool_line = x->line;
	return set_pool(x, &c->sandbox_pool6, w[1], AF_INET6);
}

static int
set_approval_pool4(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	x->pool_line = x->line;
	return set_pool(x, &c->approval_pool4, w[1], AF_INET);
}

static int
set_approval_pool6(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	x->pool_line = x->line;
	return set_pool(x, &c->approval_pool6, w[1], AF_INET6);
}

static bool
cidr_overlap(const struct ag_cidr *a, const struct ag_cidr *b)
{
	return cidr_contains(a, &b->addr) || cidr_contains(b, &a->addr);
}

/* A synthetic address inside a sandbox pool would be taken for a sandbox,
 * and the reverse; checked once the whole file is read, at the last line
 * that set a pool. */
void
conf_check_pools(struct conf_ctx *x, const struct ag_conf *c)
{
	x->line = x->pool_line;
	if (cidr_overlap(&c->approval_pool4, &c->sandbox_pool4))
		conf_error(x, "approval-pool4 overlaps sandbox-pool4");
	if (cidr_overlap(&c->approval_pool6, &c->sandbox_pool6))
		conf_error(x, "approval-pool6 overlaps sandbox-pool6");
}

/* A decimal number lo..hi, digits only (no sign, no spaces, no base prefix). */
static int
parse_number(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
set_port(struct conf_ctx *x, uint16_t *slot, const char *value)
{
	unsigned long v;

	if (parse_number(value, 1, 65535, &v) == -1) {
		conf_error(x, "bad port '%s' (1 to 65535)", value);
		return -1;
	}
	*slot = (uint16_t)v;
	return 0;
}

static int
set_proxy_port(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_port(x, &c->proxy_port, w[1]);
}

static int
set_proxy_explicit_port(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_port(x, &c->proxy_explicit_port, w[1]);
}

static int
set_dns_port(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_port(x, &c->dns_port, w[1]);
}

/* nfq-queues N or N-M (queue numbers 0..65535, N <= M). */
static int
set_nfq_queues(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	char first[8];
	const char *dash = strchr(w[1], '-');
	unsigned long a, b;
	size_t len = dash ? (size_t)(dash - w[1]) : strlen(w[1]);

	if (len >= sizeof(first))
		goto bad;
	memcpy(first, w[1], len);
	first[len] = '\0';
	if (parse_number(first, 0, 65535, &a) == -1)
		goto bad;
	b = a;
	if (dash != NULL && (parse_number(dash + 1, 0, 65535, &b) == -1 || b < a))
		goto bad;
	c->nfq_queue_first = (uint16_t)a;
	c->nfq_queue_last = (uint16_t)b;
	return 0;
bad:
	conf_error(x, "bad queues '%s' (N or N-M, 0 to 65535, N <= M)", w[1]);
	return -1;
}

/* nfq-mode proxy | packet-only: whether sandbox TCP is redirected to the
 * proxy or judged packet by packet by agentgate-nfq. */
static int
set_nfq_mode(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	if (strcmp(w[1], "proxy") == 0) {
		c->nfq_packet_only = false;
	} else if (strcmp(w[1], "packet-only") == 0) {
		c->nfq_packet_only = true;
	} else {
		conf_error(x, "nfq-mode takes 'proxy' or 'packet-only'");
		return -1;
	}
	return 0;
}

/* nfq enable | disable: whether agentgate-nfq judges what the proxy does
 * not take; disabled, that traffic is dropped. */
static int
set_nfq(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	if (strcmp(w[1], "enable") == 0) {
		c->nfq_enable = true;
	} else if (strcmp(w[1], "disable") == 0) {
		c->nfq_enable = false;
	c->nfq_packet_only = false;
	} else {
		conf_error(x, "nfq takes 'enable' or 'disable'");
		return -1;
	}
	return 0;
}

/* dns-upstream ADDR|[ADDR]:PORT|ADDR:PORT ... (1 to 4 servers). */
static int
set_dns_upstream(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	struct conf_upstream up[CONF_DNS_UPSTREAM_MAX];
	unsigned long port;
	char host[64];
	int i;

	for (i = 1; i < n; i++) {
		const char *s = w[i], *p = NULL, *end;
		size_t len;

		if (s[0] == '[') {
			if ((end = strchr(s, ']')) == NULL || (end[1] != '\0' && end[1] != ':'))
				goto bad;
			len = (size_t)(end - s - 1);
			s++;
			p = end[1] == ':' ? end + 2 : NULL;
		} else if ((end = strchr(s, ':')) != NULL && strchr(end + 1, ':') == NULL) {
			len = (size_t)(end - s);
			p = end + 1;
		} else {
			len = strlen(s);
		}
		if (len == 0 || len >= sizeof(host))
			goto bad;
		memcpy(host, s, len);
		host[len] = '\0';
		if (addr_parse(host, &up[i - 1].addr) == -1)
			goto bad;
		port = 53;
		if (p != NULL && parse_number(p, 1, 65535, &port) == -1)
			goto bad;
		up[i - 1].port = (uint16_t)port;
		continue;
bad:
		conf_error(x, "bad DNS server '%s' (ADDRESS, ADDRESS:PORT or [IPv6]:PORT)", w[i]);
		return -1;
	}
	memcpy(c->dns_upstream, up, sizeof(up[0]) * (size_t)(n - 1));
	c->dns_upstream_count = (size_t)(n - 1);
	return 0;
}

/* A duration within lo..hi milliseconds. */
static int
set_duration(struct conf_ctx *x, uint64_t *slot, const char *value, uint64_t lo, uint64_t hi)
{
	uint64_t ms;

	if (units_duration_ms(value, &ms) == -1 || ms < lo || ms > hi) {
		conf_error(x, "bad duration '%s' (%llums to %llus, e.g. 500ms, 10s, 5m)", value,
		    (unsigned long long)lo, (unsigned long long)(hi / 1000));
		return -1;
	}
	*slot = ms;
	return 0;
}

static int
set_dns_timeout(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_duration(x, &c->dns_timeout_ms, w[1], 100, 60000);
}

static int
set_handshake_timeout(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_duration(x, &c->proxy_handshake_ms, w[1], 100, 300000);
}

static int
set_idle_timeout(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_duration(x, &c->proxy_idle_ms, w[1], 1000, 86400000);
}

static int
set_count(struct conf_ctx *x, uint32_t *slot, const char *value)
{
	uint64_t v;

	if (units_size(value, &v) == -1 || strpbrk(value, "KMGT") != NULL ||
	    v < 1 || v > 1000000) {
		conf_error(x, "bad count '%s' (1 to 1000000)", value);
		return -1;
	}
	*slot = (uint32_t)v;
	return 0;
}

static int
set_max_conns(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_count(x, &c->proxy_max_conns, w[1]);
}

static int
set_max_conns_task(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_count(x, &c->proxy_max_conns_task, w[1]);
}

static int
set_approval_ttl(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_duration(x, &c->approval_ttl_ms, w[1], 1000, 3600000);
}

static int
set_approval_timeout(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_duration(x, &c->approval_timeout_ms, w[1], 1000, 86400000);
}

static int
set_approval_hook_timeout(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_duration(x, &c->approval_hook_timeout_ms, w[1], 100, 3600000);
}

static int
set_approval_max_pending(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	return set_count(x, &c->approval_max_pending, w[1]);
}

/* approval-hook PATH | none */
static int
set_approval_hook(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	if (strcmp(w[1], "none") == 0) {
		free(c->approval_hook);
		c->approval_hook = NULL;
		return 0;
	}
	return set_path(x, &c->approval_hook, w[1]);
}

static int
set_control_socket(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	c->control_socket_derived = false;
	return set_path(x, &c->control_socket, w[1]);
}

/* control-group NAME: looked up when the socket is made, not here. */
static int
set_control_group(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	const char *s;

	for (s = w[1]; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.') ||
		    s - w[1] >= 32) {
			conf_error(x, "bad group name '%s'", w[1]);
			return -1;
		}
	}
	if (conf_set_path(&c->control_group, w[1]) == -1) {
		conf_error(x, "out of memory");
		return -1;
	}
	return 0;
}

/* proxy-user NAME: a user name, checked against the password database when
 * the proxy starts (not here: the file may be read on another host). */
static int
set_proxy_user(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	const char *s;

	for (s = w[1]; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.') ||
		    s - w[1] >= 32) {
			conf_error(x, "bad user name '%s'", w[1]);
			return -1;
		}
	}
	if (conf_set_path(&c->proxy_user, w[1]) == -1) {
		conf_error(x, "out of memory");
		return -1;
	}
	return 0;
}

/* Sorted by key for bsearch; `min`/`max` count the words after the key. */
static const struct conf_key {
	const char	*key;
	int		 min, max;
	conf_setter	 set;
} conf_keys[] = {
	{ "approval-hook",		1, 1, set_approval_hook },
	{ "approval-hook-timeout",	1, 1, set_approval_hook_timeout },
	{ "approval-max-pending",	1, 1, set_approval_max_pending },
	{ "approval-pool4",		1, 1, set_approval_pool4 },
	{ "approval-pool6",		1, 1, set_approval_pool6 },
	{ "approval-timeout",		1, 1, set_approval_timeout },
	{ "approval-ttl",		1, 1, set_approval_ttl },
	{ "control-group",		1, 1, set_control_group },
	{ "control-socket",		1, 1, set_control_socket },
	{ "dns-port",			1, 1, set_dns_port },
	{ "dns-timeout",		1, 1, set_dns_timeout },
	{ "dns-upstream",		1, CONF_DNS_UPSTREAM_MAX, set_dns_upstream },
	{ "geoip-asn",			1, 1, set_geoip_asn },
	{ "geoip-country",		1, 1, set_geoip_country },
	{ "log-dir",			1, 1, set_log_dir },
	{ "nfq",			1, 1, set_nfq },
	{ "nfq-mode",			1, 1, set_nfq_mode },
	{ "nfq-queues",			1, 1, set_nfq_queues },
	{ "policy-dir",			1, 1, set_policy_dir },
	{ "proxy-explicit-port",	1, 1, set_proxy_explicit_port },
	{ "proxy-handshake-timeout",	1, 1, set_handshake_timeout },
	{ "proxy-idle-timeout",		1, 1, set_idle_timeout },
	{ "proxy-max-conns",		1, 1, set_max_conns },
	{ "proxy-max-conns-per-task",	1, 1, set_max_conns_task },
	{ "proxy-port",			1, 1, set_proxy_port },
	{ "proxy-user",			1, 1, set_proxy_user },
	{ "run-dir",			1, 1, set_run_dir },
	{ "sandbox-pool4",		1, 1, set_pool4 },
	{ "sandbox-pool6",		1, 1, set_pool6 },
	{ "state-dir",			1, 1, set_state_dir },
	{ "telemetry-backlog",		1, 1, set_backlog },
	{ "telemetry-fsync",		1, 2, set_fsync },
	{ "telemetry-on-failure",	1, 1, set_on_failure },
	{ "telemetry-rotate-age",	1, 1, set_rotate_age },
	{ "telemetry-rotate-size",	1, 1, set_rotate_size },
};

static int
conf_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct conf_key *)elem)->key);
}

int
conf_key_apply(struct conf_ctx *x, struct ag_conf *c, char **w, int n)
{
	const struct conf_key *k;

	k = bsearch(w[0], conf_keys, sizeof(conf_keys) / sizeof(conf_keys[0]),
	    sizeof(conf_keys[0]), conf_key_cmp);
	if (k == NULL) {
		conf_error(x, "unknown setting '%s'", w[0]);
		return -1;
	}
	if (n - 1 < k->min || n - 1 > k->max) {
		if (k->min == k->max)
			conf_error(x, "%s takes %d value%s", k->key, k->max, k->max == 1 ? "" : "s");
		else
			conf_error(x, "%s takes %d to %d values", k->key, k->min, k->max);
		return -1;
	}
	return k->set(x, c, w, n);
}
