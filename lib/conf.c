/*
 * agentgate.conf reader: lines split into words, each applied through the
 * key table of lib/conf_keys.c, every error reported as file:line, and the
 * result applied only when the whole file is valid.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "log.h"

#ifndef AG_SYSCONFDIR
#define AG_SYSCONFDIR "/etc/agentgate"
#endif
#ifndef AG_RUNSTATEDIR
#define AG_RUNSTATEDIR "/run/agentgate"
#endif
#ifndef AG_LOCALSTATEDIR
#define AG_LOCALSTATEDIR "/var"
#endif

#define CONF_LINE_MAX	4096
#define CONF_WORDS_MAX	16	/* words on a line; more is an error */

void
conf_error(struct conf_ctx *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->errors++;
	if (x->err != NULL)
		x->err(x->arg, x->file, x->line, msg);
}


/* Split a line into words in place; a '#' outside a word starts a comment.
 * Returns the count, or -1 when there are too many. */
static int
conf_split(char *s, char **w)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		if (n == CONF_WORDS_MAX)
			return -1;
		w[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
}

static int
conf_line(struct conf_ctx *x, struct ag_conf *c, char *s)
{
	char *w[CONF_WORDS_MAX];
	unsigned char *p;
	int n;

	for (p = (unsigned char *)s; *p != '\0'; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			conf_error(x, "control character 0x%02x", *p);
			return -1;
		}
	}
	if ((n = conf_split(s, w)) == -1) {
		conf_error(x, "too many values");
		return -1;
	}
	if (n == 0)
		return 0;
	return conf_key_apply(x, c, w, n);
}

static char *
conf_dup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

/* A deep copy, so a failed load can be thrown away whole. */
static int
conf_copy(struct ag_conf *dst, const struct ag_conf *src)
{
	*dst = *src;
	dst->log_dir = conf_dup(src->log_dir);
	dst->policy_dir = conf_dup(src->policy_dir);
	dst->run_dir = conf_dup(src->run_dir);
	dst->state_dir = conf_dup(src->state_dir);
	dst->geoip_country = conf_dup(src->geoip_country);
	dst->geoip_asn = conf_dup(src->geoip_asn);
	dst->proxy_user = conf_dup(src->proxy_user);
	dst->approval_hook = conf_dup(src->approval_hook);
	dst->control_socket = conf_dup(src->control_socket);
	dst->control_group = conf_dup(src->control_group);
	if ((src->approval_hook && !dst->approval_hook) ||
	    (src->control_socket && !dst->control_socket) ||
	    (src->control_group && !dst->control_group) ||
	    (src->log_dir && !dst->log_dir) || (src->policy_dir && !dst->policy_dir) ||
	    (src->run_dir && !dst->run_dir) || (src->state_dir && !dst->state_dir) ||
	    (src->geoip_country && !dst->geoip_country) ||
	    (src->geoip_asn && !dst->geoip_asn) ||
	    (src->proxy_user && !dst->proxy_user)) {
		conf_free(dst);
		errno = ENOMEM;
		return -1;
	}
	dst->telemetry.dir = dst->log_dir;
	return 0;
}

int
conf_set_path(char **slot, const char *value)
{
	char *s;

	if ((s = strdup(value)) == NULL)
		return -1;
	free(*slot);
	*slot = s;
	return 0;
}

int
conf_init(struct ag_conf *c)
{
	memset(c, 0, sizeof(*c));
	telemetry_config_init(&c->telemetry);
	if (conf_set_path(&c->log_dir, AG_LOCALSTATEDIR "/log/agentgate") == -1 ||
	    conf_set_path(&c->policy_dir, AG_SYSCONFDIR "/policies") == -1 ||
	    conf_set_path(&c->run_dir, AG_RUNSTATEDIR) == -1 ||
	    conf_set_path(&c->state_dir, AG_LOCALSTATEDIR "/lib/agentgate") == -1) {
		conf_free(c);
		errno = ENOMEM;
		return -1;
	}
	c->telemetry.dir = c->log_dir;
	/* Never routed (RFC 2544 benchmarking, a ULA): sandbox addresses can
	 * not collide with anything real. */
	if (cidr_parse(CONF_DEFAULT_POOL4, &c->sandbox_pool4) == -1 ||
	    cidr_parse(CONF_DEFAULT_POOL6, &c->sandbox_pool6) == -1) {
		conf_free(c);
		errno = EINVAL;
		return -1;
	}
	c->proxy_port = CONF_DEFAULT_PROXY_PORT;
	c->proxy_explicit_port = CONF_DEFAULT_PROXY_EXPLICIT_PORT;
	c->dns_port = CONF_DEFAULT_DNS_PORT;
	c->nfq_queue_first = c->nfq_queue_last = 0;
	c->nfq_enable = false;
	c->dns_timeout_ms = CONF_DEFAULT_DNS_TIMEOUT_MS;
	c->proxy_handshake_ms = CONF_DEFAULT_HANDSHAKE_MS;
	c->proxy_idle_ms = CONF_DEFAULT_IDLE_MS;
	c->proxy_max_conns = CONF_DEFAULT_MAX_CONNS;
	c->proxy_max_conns_task = CONF_DEFAULT_MAX_CONNS_TASK;
	if (cidr_parse(CONF_DEFAULT_APPROVAL_POOL4, &c->approval_pool4) == -1 ||
	    cidr_parse(CONF_DEFAULT_APPROVAL_POOL6, &c->approval_pool6) == -1) {
		conf_free(c);
		errno = EINVAL;
		return -1;
	}
	c->approval_ttl_ms = CONF_DEFAULT_APPROVAL_TTL_MS;
	c->approval_timeout_ms = CONF_DEFAULT_APPROVAL_TIMEOUT_MS;
	c->approval_max_pending = CONF_DEFAULT_APPROVAL_MAX_PENDING;
	c->approval_hook_timeout_ms = CONF_DEFAULT_APPROVAL_HOOK_TIMEOUT_MS;
	c->control_socket_derived = true;
	if (conf_set_path(&c->proxy_user, "nobody") == -1 ||
	    conf_set_path(&c->control_group, CONF_DEFAULT_CONTROL_GROUP) == -1) {
		conf_free(c);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
conf_load(struct ag_conf *c, const char *path, conf_error_fn err, void *arg)
{
	struct conf_ctx x = { .file = path, .err = err, .arg = arg };
	struct ag_conf next;
	char *buf = NULL;
	size_t cap = 0, len;
	ssize_t got;
	int rc = -1, saved = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (conf_copy(&next, c) == -1) {
		saved = errno;
		goto out;
	}
	/* getline, not fgets: it returns the true length, so NUL bytes show. */
	while ((got = getline(&buf, &cap, f)) != -1) {
		x.line++;
		len = (size_t)got;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
		if (len > CONF_LINE_MAX)
			conf_error(&x, "line longer than %d bytes", CONF_LINE_MAX);
		else if (strlen(buf) != len)
			conf_error(&x, "NUL byte");
		else
			conf_line(&x, &next, buf);
	}
	if (ferror(f)) {
		saved = errno;
		conf_free(&next);
		goto out;
	}
	conf_check_pools(&x, &next);
	if (x.errors > 0) {
		conf_free(&next);
		saved = EINVAL;
		goto out;
	}
	conf_free(c);
	*c = next;
	c->telemetry.dir = c->log_dir;
	rc = 0;
out:
	free(buf);
	fclose(f);
	if (rc == -1)
		errno = saved;
	return rc;
}

static void
conf_log_error(void *arg, const char *file, unsigned line, const char *msg)
{
	log_warnx("%s:%u: %s", file, line, msg);
}

int
conf_settle(struct ag_conf *c)
{
	char *s;

	if (!c->control_socket_derived && c->control_socket != NULL)
		return 0;
	if (asprintf(&s, "%s/control.sock", c->run_dir) == -1) {
		errno = ENOMEM;
		return -1;
	}
	free(c->control_socket);
	c->control_socket = s;
	c->control_socket_derived = true;
	return 0;
}

int
conf_read(struct ag_conf *c, const char *path, bool required)
{
	if (conf_load(c, path, conf_log_error, NULL) == 0)
		return conf_settle(c);
	if (errno == ENOENT && !required)
		return conf_settle(c);
	if (errno == EINVAL)
		log_warnx("%s: invalid settings, nothing applied", path);
	else
		log_warn("%s", path);
	return -1;
}

void
conf_free(struct ag_conf *c)
{
	free(c->log_dir);
	free(c->policy_dir);
	free(c->run_dir);
	free(c->state_dir);
	free(c->geoip_country);
	free(c->geoip_asn);
	free(c->proxy_user);
	free(c->approval_hook);
	free(c->control_socket);
	free(c->control_group);
	c->proxy_user = c->approval_hook = c->control_socket = c->control_group = NULL;
	c->log_dir = c->policy_dir = c->run_dir = c->state_dir = NULL;
	c->geoip_country = c->geoip_asn = NULL;
	c->telemetry.dir = NULL;
}
