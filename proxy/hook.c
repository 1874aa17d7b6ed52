/*
 * The approval hook runner: one child per new request (fork + execve of the
 * configured path, never a shell), its stdout read through the loop, its
 * end seen through a pidfd, its process group killed at the time limit.
 * Only a well-formed "allow" or "deny" line decides; everything else defers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "hook.h"
#include "log.h"
#include "loop.h"

/* ---- the output parser (no I/O) ---- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Next word of [*p, end): sets *w and *wlen, advances *p past it. */
static bool
next_word(const char **p, const char *end, const char **w, size_t *wlen)
{
	const char *s = *p;

	while (s < end && is_blank(*s))
		s++;
	*w = s;
	while (s < end && !is_blank(*s))
		s++;
	*wlen = (size_t)(s - *w);
	*p = s;
	return *wlen > 0;
}

static bool
word_is(const char *w, size_t len, const char *kw)
{
	return strlen(kw) == len && memcmp(w, kw, len) == 0;
}

static enum hook_verdict
garbage(struct hook_answer *out, const char *why)
{
	out->verdict = HOOK_GARBAGE;
	out->why = why;
	return HOOK_GARBAGE;
}

enum hook_verdict
hook_parse(const char *buf, size_t len, struct hook_answer *out)
{
	const char *p = buf, *end = buf + len, *w, *nl;
	char scope[32];
	size_t wlen, i;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return garbage(out, "no output");
	if (len > HOOK_OUTPUT_MAX)
		return garbage(out, "output too long");
	if ((nl = memchr(buf, '\n', len)) != NULL) {
		if (nl != end - 1)
			return garbage(out, "more than one line");
		end = nl;
	}
	for (i = 0; i < (size_t)(end - buf); i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7f)
			return garbage(out, "control character in output");
	}
	if (!next_word(&p, end, &w, &wlen))
		return garbage(out, "empty line");
	if (word_is(w, wlen, "defer")) {
		if (next_word(&p, end, &w, &wlen))
			return garbage(out, "words after defer");
		out->verdict = HOOK_DEFER;
		return HOOK_DEFER;
	}
	if (word_is(w, wlen, "allow"))
		out->verdict = HOOK_ALLOW;
	else if (word_is(w, wlen, "deny"))
		out->verdict = HOOK_DENY;
	else
		return garbage(out, "unknown verb (allow, deny or defer)");
	if (!next_word(&p, end, &w, &wlen))
		return garbage(out, "no scope");
	if (wlen >= sizeof(scope))
		return garbage(out, "bad scope");
	memcpy(scope, w, wlen);
	scope[wlen] = '\0';
	if (approval_scope_parse(scope, &out->scope, &out->duration_ms) == -1 ||
	    (out->scope == APPROVAL_DURATION && out->duration_ms == 0))
		return garbage(out, "bad scope");
	while (p < end && is_blank(*p))
		p++;
	if (out->verdict == HOOK_ALLOW) {
		if (p != end)
			return garbage(out, "words after allow SCOPE");
		return HOOK_ALLOW;
	}
	while (end > p && is_blank(end[-1]))
		end--;
	if ((size_t)(end - p) >= sizeof(out->reason))
		return garbage(out, "reason too long");
	memcpy(out->reason, p, (size_t)(end - p));
	out->reason[end - p] = '\0';
	return HOOK_DENY;
}

/* ---- the runner ---- */

/* A request as the hook is told about it (the store's strings are valid
 * only during the observer call, and the hook may wait in the queue). */
struct hook_req {
	char	 id[APPROVAL_ID_LEN + 8];
	char	*task, *name, *policy, *trace_id, *proto;
	uint16_t port;
};

/* One child. Finished when the child was reaped (pidfd) and its output
 * read; the pipe may close before or after the child exits. */
struct hook_run {
	struct hook		*h;
	struct hook_req		 req;
	pid_t			 pid;
	int			 outfd;		/* -1 once EOF or closed */
	int			 pidfd;
	struct loop_timer	*timer;
	bool			 timed_out;
	bool			 overflow;
	size_t			 len;
	char			 out[HOOK_OUTPUT_MAX + 1];
};

struct hook {
	struct loop		*loop;
	struct approvals	*approvals;
	char			*path;
	char			*decider;	/* "hook PATH" */
	uint64_t		 timeout_ms;
	struct hook_run		*runs[HOOK_RUNNING_MAX];
	struct hook_req		 queue[HOOK_QUEUE_MAX];
	size_t			 qhead, qlen;
};

static void run_next(struct hook *h);

static void
req_clear(struct hook_req *r)
{
	free(r->task);
	free(r->name);
	free(r->policy);
	free(r->trace_id);
	free(r->proto);
	memset(r, 0, sizeof(*r));
}

static int
req_copy(struct hook_req *r, const struct approval_info *info)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", info->id);
	r->port = info->port;
	r->task = strdup(info->task_id ? info->task_id : "");
	r->name = strdup(info->name ? info->name : "");
	r->policy = strdup(info->policy ? info->policy : "");
	r->trace_id = strdup(info->trace_id ? info->trace_id : "");
	r->proto = strdup(info->proto ? info->proto : "tcp");
	if (r->task == NULL || r->name == NULL || r->policy == NULL ||
	    r->trace_id == NULL || r->proto == NULL) {
		req_clear(r);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* In the child, after fork: only async-signal-safe calls until execve. */
static void
child_exec(const char *path, int outw, char *const envp[])
{
	char *argv[2];
	sigset_t none;
	int null;

	(void)setpgid(0, 0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 || dup2(outw, STDOUT_FILENO) == -1)
		_exit(127);
	/* stderr stays the proxy's, so a hook's complaints reach its log. */
	(void)close_range(3, ~0U, 0);
	argv[0] = (char *)path;
	argv[1] = NULL;
	execve(path, argv, envp);
	_exit(127);
}

static void
run_free(struct hook_run *r)
{
	struct hook *h = r->h;
	size_t i;

	if (r->timer != NULL)
		loop_timer_cancel(h->loop, r->timer);
	if (r->outfd != -1) {
		(void)loop_del(h->loop, r->outfd);
		close(r->outfd);
	}
	if (r->pidfd != -1) {
		(void)loop_del(h->loop, r->pidfd);
		close(r->pidfd);
	}
	for (i = 0; i < HOOK_RUNNING_MAX; i++)
		if (h->runs[i] == r)
			h->runs[i] = NULL;
	req_clear(&r->req);
	free(r);
}

static void
run_decide(struct hook_run *r, int status)
{
	struct hook *h = r->h;
	struct approval_decision d;
	struct hook_answer ans;
	const char *why = NULL;
	char what[64];

	if (r->timed_out)
		why = "timed out, killed";
	else if (r->overflow)
		why = "output too long, killed";
	else if (WIFSIGNALED(status)) {
		snprintf(what, sizeof(what), "killed by signal %d",
		    WTERMSIG(status));
		why = what;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(what, sizeof(what), "exit status %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		why = what;
	}
	if (why != NULL) {
		log_warnx("hook %s: request %s: %s: defer to a human",
		    h->path, r->req.id, why);
		return;
	}
	switch (hook_parse(r->out, r->len, &ans)) {
	case HOOK_DEFER:
		log_info("hook %s: request %s: defer", h->path, r->req.id);
		return;
	case HOOK_GARBAGE:
		log_warnx("hook %s: request %s: %s: defer to a human",
		    h->path, r->req.id, ans.why);
		return;
	case HOOK_ALLOW:
	case HOOK_DENY:
		break;
	}
	memset(&d, 0, sizeof(d));
	d.allow = ans.verdict == HOOK_ALLOW;
	d.scope = ans.scope;
	d.duration_ms = ans.duration_ms;
	d.decider = h->decider;
	d.reason = ans.reason[0] != '\0' ? ans.reason : NULL;
	if (approvals_decide(h->approvals, r->req.id, &d) == -1) {
		if (errno == EALREADY || errno == ENOENT)
			log_info("hook %s: request %s: already decided or gone",
			    h->path, r->req.id);
		else
			log_warn("hook %s: request %s: decision", h->path,
			    r->req.id);
		return;
	}
	log_info("hook %s: request %s: %s %s", h->path, r->req.id,
	    d.allow ? "allow" : "deny", approval_scope_name(d.scope));
}

/* Drain what the pipe holds; outfd becomes -1 at EOF or on error. */
static void
run_read(struct hook_run *r)
{
	char sink[512];
	ssize_t n;

	while (r->outfd != -1) {
		if (r->len < sizeof(r->out))
			n = read(r->outfd, r->out + r->len, sizeof(r->out) - r->len);
		else
			n = read(r->outfd, sink, sizeof(sink));
		if (n > 0) {
			if (r->len < sizeof(r->out))
				r->len += (size_t)n;
			if (r->len > HOOK_OUTPUT_MAX && !r->overflow) {
				r->overflow = true;
				(void)kill(-r->pid, SIGKILL);
			}
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		(void)loop_del(r->h->loop, r->outfd);
		close(r->outfd);
		r->outfd = -1;
	}
}

static void
run_out_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	run_read(arg);
}

static void
run_exit_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct hook_run *r = arg;
	struct hook *h = r->h;
	int status = 0;

	(void)l;
	(void)fd;
	(void)events;
	if (waitpid(r->pid, &status, WNOHANG) == 0)
		return;
	/* What the child wrote is in the pipe now; anything it left behind
	 * in its group goes, so nothing keeps running past the request. */
	(void)kill(-r->pid, SIGKILL);
	run_read(r);
	run_decide(r, status);
	run_free(r);
	run_next(h);
}

static void
run_timeout_cb(struct loop *l, void *arg)
{
	struct hook_run *r = arg;

	(void)l;
	r->timer = NULL;
	r->timed_out = true;
	(void)kill(-r->pid, SIGKILL);
}

static int
run_start(struct hook *h, struct hook_req *req, struct hook_run **slot)
{
	char env[8][320], *envp[9];
	struct hook_run *r;
	int p[2] = { -1, -1 }, i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->h = h;
	r->req = *req;		/* takes the strings */
	memset(req, 0, sizeof(*req));
	r->outfd = r->pidfd = -1;
	snprintf(env[0], sizeof(env[0]), "AGENTGATE_REQUEST_ID=%s", r->req.id);
	snprintf(env[1], sizeof(env[1]), "AGENTGATE_TASK=%s", r->req.task);
	snprintf(env[2], sizeof(env[2]), "AGENTGATE_NAME=%s", r->req.name);
	snprintf(env[3], sizeof(env[3]), "AGENTGATE_PORT=%u", r->req.port);
	snprintf(env[4], sizeof(env[4]), "AGENTGATE_PROTO=%s", r->req.proto);
	snprintf(env[5], sizeof(env[5]), "AGENTGATE_POLICY=%s", r->req.policy);
	snprintf(env[6], sizeof(env[6]), "AGENTGATE_TRACE_ID=%s", r->req.trace_id);
	snprintf(env[7], sizeof(env[7]), "PATH=/usr/bin:/bin");
	for (i = 0; i < 8; i++)
		envp[i] = env[i];
	envp[8] = NULL;

	if (pipe2(p, O_CLOEXEC) == -1)
		goto fail;
	if ((r->pid = fork()) == -1)
		goto fail;
	if (r->pid == 0)
		child_exec(h->path, p[1], envp);
	(void)setpgid(r->pid, r->pid);	/* whichever of the two runs first */
	close(p[1]);
	p[1] = -1;
	r->outfd = p[0];
	p[0] = -1;
	if (fcntl(r->outfd, F_SETFL, O_NONBLOCK) == -1 ||
	    (r->pidfd = pidfd_open(r->pid, 0)) == -1 ||
	    loop_add(h->loop, r->outfd, EPOLLIN, run_out_cb, r) == -1 ||
	    loop_add(h->loop, r->pidfd, EPOLLIN, run_exit_cb, r) == -1 ||
	    (r->timer = loop_timer_add(h->loop, h->timeout_ms, run_timeout_cb,
	    r)) == NULL) {
		log_warn("hook %s: request %s: cannot watch the child, left "
		    "to a human", h->path, r->req.id);
		(void)kill(-r->pid, SIGKILL);
		(void)waitpid(r->pid, NULL, 0);
		*slot = r;
		run_free(r);
		return -1;
	}
	*slot = r;
	log_debug("hook %s: request %s: pid %d", h->path, r->req.id,
	    (int)r->pid);
	return 0;
fail:
	log_warn("hook %s: request %s: cannot start, left to a human",
	    h->path, r->req.id);
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	req_clear(&r->req);
	free(r);
	return -1;
}

/* Start queued requests while there are free slots. */
static void
run_next(struct hook *h)
{
	struct hook_req *req;
	size_t i;

	for (i = 0; i < HOOK_RUNNING_MAX && h->qlen > 0; i++) {
		if (h->runs[i] != NULL)
			continue;
		req = &h->queue[h->qhead];
		h->qhead = (h->qhead + 1) % HOOK_QUEUE_MAX;
		h->qlen--;
		/* On failure run_start() said why; a human decides. */
		(void)run_start(h, req, &h->runs[i]);
		req_clear(req);
	}
}

static void
hook_observe(void *arg, enum approval_event ev, const struct approval_info *info)
{
	struct hook *h = arg;
	struct hook_req *slot;

	if (ev != APPROVAL_EV_REQUESTED)
		return;
	if (h->qlen == HOOK_QUEUE_MAX) {
		log_warnx("hook %s: %d requests already wait for the hook: "
		    "request %s left to a human", h->path, HOOK_QUEUE_MAX,
		    info->id);
		return;
	}
	slot = &h->queue[(h->qhead + h->qlen) % HOOK_QUEUE_MAX];
	if (req_copy(slot, info) == -1) {
		log_warn("hook %s: request %s left to a human", h->path,
		    info->id);
		return;
	}
	h->qlen++;
	run_next(h);
}

struct hook *
hook_new(struct loop *l, const struct ag_conf *c, struct approvals *a)
{
	struct hook *h;

	if (c->approval_hook == NULL || c->approval_hook[0] == '\0') {
		errno = 0;
		return NULL;
	}
	if (c->approval_hook[0] != '/') {
		log_warnx("approval-hook %s: not an absolute path",
		    c->approval_hook);
		errno = EINVAL;
		return NULL;
	}
	if (access(c->approval_hook, X_OK) == -1)
		log_warn("approval-hook %s: every request will defer",
		    c->approval_hook);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->loop = l;
	h->approvals = a;
	h->timeout_ms = c->approval_hook_timeout_ms;
	if ((h->path = strdup(c->approval_hook)) == NULL ||
	    asprintf(&h->decider, "hook %s", c->approval_hook) == -1) {
		h->decider = NULL;
		goto fail;
	}
	if (approvals_observe(a, hook_observe, h) == -1)
		goto fail;
	return h;
fail:
	free(h->path);
	free(h->decider);
	free(h);
	errno = ENOMEM;
	return NULL;
}

void
hook_free(struct hook *h)
{
	struct hook_run *r;
	size_t i;

	if (h == NULL)
		return;
	approvals_unobserve(h->approvals, hook_observe, h);
	for (i = 0; i < HOOK_RUNNING_MAX; i++) {
		if ((r = h->runs[i]) == NULL)
			continue;
		(void)kill(-r->pid, SIGKILL);
		(void)waitpid(r->pid, NULL, 0);
		run_free(r);
	}
	while (h->qlen > 0) {
		req_clear(&h->queue[h->qhead]);
		h->qhead = (h->qhead + 1) % HOOK_QUEUE_MAX;
		h->qlen--;
	}
	free(h->path);
	free(h->decider);
	free(h);
}
