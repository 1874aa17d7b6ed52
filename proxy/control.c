/*
 * The control socket's server: who may connect (SO_PEERCRED: root or a
 * member of control-group), line framing with bounded buffers both ways,
 * and the commands list, watch, approve and deny on the approval store.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"
#include "log.h"
#include "loop.h"

/* ---- requests and answers (no I/O) ---- */

static int
bad(struct control_request *req, const char *error)
{
	req->error = error;
	return -1;
}

/* A string member into buf: no control characters (a reason ends up in
 * log lines and in a comment of the approvals file). */
static int
copy_member(struct json_object *v, char *buf, size_t size)
{
	const char *s;
	size_t len, i;

	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len >= size)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

static bool
id_valid(const char *id)
{
	const char *p;

	if (id[0] == '\0')
		return false;
	for (p = id; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'))
			return false;
	return true;
}

int
control_request_parse(const char *line, size_t len, struct control_request *req)
{
	struct json_tokener *tok;
	struct json_object *o = NULL;
	char cmd[16], scope[CONTROL_SCOPE_MAX];
	bool has_id = false, has_scope = false, has_reason = false;
	size_t end;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	req->scope = APPROVAL_ONCE;
	cmd[0] = '\0';
	if (len > CONTROL_LINE_MAX)
		return bad(req, "bad request: line too long");
	if ((tok = json_tokener_new_ex(4)) == NULL)
		return bad(req, "bad request: out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		bad(req, "bad request: not a JSON object");
		goto out;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (line[end] != ' ' && line[end] != '\t' && line[end] != '\r') {
			bad(req, "bad request: bytes after the object");
			goto out;
		}
	}
	if (!json_object_is_type(o, json_type_object)) {
		bad(req, "bad request: not a JSON object");
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "cmd") == 0) {
			if (copy_member(val, cmd, sizeof(cmd)) == -1) {
				bad(req, "bad request: unknown cmd");
				goto out;
			}
		} else if (strcmp(key, "id") == 0) {
			if (copy_member(val, req->id, sizeof(req->id)) == -1 ||
			    !id_valid(req->id)) {
				bad(req, "bad request: bad id");
				goto out;
			}
			has_id = true;
		} else if (strcmp(key, "scope") == 0) {
			if (copy_member(val, scope, sizeof(scope)) == -1) {
				bad(req, "bad scope");
				goto out;
			}
			has_scope = true;
		} else if (strcmp(key, "reason") == 0) {
			if (copy_member(val, req->reason, sizeof(req->reason)) == -1) {
				bad(req, "bad request: bad reason (a string of "
				    "printable characters, at most 511 bytes)");
				goto out;
			}
			has_reason = true;
		} else {
			bad(req, "bad request: unknown member");
			goto out;
		}
	}
	if (strcmp(cmd, "list") == 0)
		req->cmd = CONTROL_LIST;
	else if (strcmp(cmd, "watch") == 0)
		req->cmd = CONTROL_WATCH;
	else if (strcmp(cmd, "approve") == 0)
		req->cmd = CONTROL_APPROVE;
	else if (strcmp(cmd, "deny") == 0)
		req->cmd = CONTROL_DENY;
	else {
		bad(req, cmd[0] == '\0' ? "bad request: no cmd" :
		    "bad request: unknown cmd");
		goto out;
	}
	if (req->cmd == CONTROL_LIST || req->cmd == CONTROL_WATCH) {
		if (has_id || has_scope || has_reason) {
			bad(req, "bad request: unknown member");
			goto out;
		}
	} else if (!has_id) {
		bad(req, "bad request: no id");
		goto out;
	}
	if (has_scope && (approval_scope_parse(scope, &req->scope,
	    &req->duration_ms) == -1 || (req->scope == APPROVAL_DURATION &&
	    req->duration_ms == 0))) {
		bad(req, "bad scope");
		goto out;
	}
	rc = 0;
out:
	if (o != NULL)
		json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* "2026-11-27T23:50:01.123Z" */
static void
format_time(struct json_buf *j, int64_t ms)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);
	char buf[96];

	if (gmtime_r(&t, &tm) == NULL) {
		json_int(j, ms);
		return;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	json_cstr(j, buf);
}

static void
member(struct json_buf *j, const char *key, const char *value)
{
	json_key(j, key);
	json_cstr(j, value != NULL ? value : "");
}

void
control_format_info(struct json_buf *j, const char *event,
    const struct approval_info *info)
{
	json_obj_begin(j);
	if (event != NULL)
		member(j, "event", event);
	member(j, "id", info->id);
	member(j, "task", info->task_id);
	member(j, "policy", info->policy);
	member(j, "trace_id", info->trace_id);
	member(j, "name", info->name);
	json_key(j, "port");
	json_uint(j, info->port);
	member(j, "proto", info->proto != NULL ? info->proto : "tcp");
	member(j, "state", approval_state_name(info->state));
	json_key(j, "created");
	format_time(j, info->created_ms);
	json_key(j, "connections");
	json_uint(j, info->nconns);
	if (info->state == APPROVAL_ALLOWED || info->state == APPROVAL_DENIED) {
		member(j, "scope", approval_scope_name(info->scope));
		if (info->scope == APPROVAL_DURATION) {
			json_key(j, "duration_ms");
			json_uint(j, info->duration_ms);
		}
		member(j, "decider", info->decider);
		if (info->reason != NULL)
			member(j, "reason", info->reason);
	}
	if (info->state != APPROVAL_PENDING && info->decided_ms != 0) {
		json_key(j, "decided");
		format_time(j, info->decided_ms);
	}
	json_obj_end(j);
}

void
control_format_reply(struct json_buf *j, const char *error)
{
	json_obj_begin(j);
	json_key(j, "ok");
	json_boolean(j, error == NULL);
	if (error != NULL)
		member(j, "error", error);
	json_obj_end(j);
}

/* ---- the server ---- */

struct control_client {
	struct control	*ctl;
	int		 fd;
	char		 decider[160];	/* "alice (uid 1000)" */
	bool		 watching;	/* input ignored, events sent */
	bool		 closing;	/* close once the answer is out */
	bool		 dead;		/* freed from its own callback */
	size_t		 inlen;
	char		 in[CONTROL_LINE_MAX + 1];
	struct json_buf	 out;
	size_t		 outoff;	/* sent bytes of out */
};

struct control {
	struct loop		*loop;
	struct approvals	*approvals;
	char			*path;
	int			 fd;
	bool			 have_group;
	gid_t			 gid;
	struct control_client	*clients[CONTROL_CLIENTS_MAX];
};

static void client_cb(struct loop *l, int fd, uint32_t events, void *arg);

static void
client_free(struct control_client *cl)
{
	struct control *ctl = cl->ctl;
	size_t i;

	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i] == cl)
			ctl->clients[i] = NULL;
	(void)loop_del(ctl->loop, cl->fd);
	close(cl->fd);
	json_free(&cl->out);
	free(cl);
}

/* Marked dead, the client is freed from its next callback (a shut down
 * socket reports EPOLLHUP at once), never from inside another client's command. */
static void
client_kill(struct control_client *cl)
{
	cl->dead = true;
	(void)shutdown(cl->fd, SHUT_RDWR);	/* EPOLLHUP, even when stuck */
	(void)loop_mod(cl->ctl->loop, cl->fd, EPOLLOUT);
}

static void
client_flush(struct control_client *cl)
{
	ssize_t n;

	while (cl->outoff < cl->out.len) {
		n = send(cl->fd, cl->out.data + cl->outoff,
		    cl->out.len - cl->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			cl->outoff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			(void)loop_mod(cl->ctl->loop, cl->fd,
			    (cl->closing || cl->watching ? 0 : EPOLLIN) |
			    EPOLLOUT | EPOLLRDHUP);
			return;
		}
		client_kill(cl);
		return;
	}
	json_reset(&cl->out);
	cl->outoff = 0;
	if (cl->closing)
		client_kill(cl);
	else
		(void)loop_mod(cl->ctl->loop, cl->fd, EPOLLIN | EPOLLRDHUP);
}

/* Queue bytes for the client; a client that lets CONTROL_OUTQ_MAX pile
 * up (a stuck watcher) is dropped rather than let the proxy grow. */
static void
client_send(struct control_client *cl, const char *data, size_t len)
{
	if (cl->dead)
		return;
	if (cl->out.len - cl->outoff + len > CONTROL_OUTQ_MAX) {
		log_warnx("control: %s does not read its answers: dropped",
		    cl->decider);
		client_kill(cl);
		return;
	}
	if (json_raw(&cl->out, data, len) == -1 ||
	    json_raw(&cl->out, "\n", 1) == -1) {
		client_kill(cl);
		return;
	}
	client_flush(cl);
}

static void
client_reply(struct control_client *cl, const char *error)
{
	struct json_buf j;
	char stack[256];

	json_init(&j, stack, sizeof(stack));
	control_format_reply(&j, error);
	if (json_error(&j) == 0)
		client_send(cl, j.data, j.len);
	else
		client_kill(cl);
	json_free(&j);
}

struct list_arg {
	struct json_buf	*j;
	bool		 pending_only;
	const char	*event;
	struct control_client *cl;
};

static void
list_item(void *arg, const struct approval_info *info)
{
	struct list_arg *la = arg;

	control_format_info(la->j, la->event, info);
}

static void
watch_item(void *arg, const struct approval_info *info)
{
	struct list_arg *la = arg;

	if (info->state != APPROVAL_PENDING)
		return;
	json_reset(la->j);
	control_format_info(la->j, "pending", info);
	if (json_error(la->j) == 0)
		client_send(la->cl, la->j->data, la->j->len);
}

static void
cmd_list(struct control_client *cl)
{
	struct list_arg la;
	struct json_buf j;

	json_init(&j, NULL, 0);
	memset(&la, 0, sizeof(la));
	la.j = &j;
	json_obj_begin(&j);
	json_key(&j, "ok");
	json_boolean(&j, true);
	json_key(&j, "approvals");
	json_arr_begin(&j);
	approvals_foreach(cl->ctl->approvals, list_item, &la);
	json_arr_end(&j);
	json_obj_end(&j);
	if (json_error(&j) == 0)
		client_send(cl, j.data, j.len);
	else
		client_reply(cl, "out of memory");
	json_free(&j);
}

static void
cmd_watch(struct control_client *cl)
{
	struct control *ctl = cl->ctl;
	struct list_arg la;
	struct json_buf j;
	size_t i, n = 0;

	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i] != NULL && ctl->clients[i]->watching)
			n++;
	if (n >= CONTROL_WATCHERS_MAX) {
		client_reply(cl, "too many watchers");
		return;
	}
	cl->watching = true;
	json_init(&j, NULL, 0);
	memset(&la, 0, sizeof(la));
	la.j = &j;
	la.cl = cl;
	approvals_foreach(ctl->approvals, watch_item, &la);
	json_free(&j);
}

static void
cmd_decide(struct control_client *cl, const struct control_request *req)
{
	struct approval_decision d;

	memset(&d, 0, sizeof(d));
	d.allow = req->cmd == CONTROL_APPROVE;
	d.scope = req->scope;
	d.duration_ms = req->duration_ms;
	d.decider = cl->decider;
	d.reason = req->reason[0] != '\0' ? req->reason : NULL;
	if (approvals_decide(cl->ctl->approvals, req->id, &d) == 0) {
		log_info("control: %s %s request %s (%s)", cl->decider,
		    d.allow ? "approved" : "denied", req->id,
		    approval_scope_name(d.scope));
		client_reply(cl, NULL);
		return;
	}
	switch (errno) {
	case ENOENT:
		client_reply(cl, "no such request");
		break;
	case EALREADY:
		client_reply(cl, "already decided");
		break;
	case EINVAL:
		client_reply(cl, "bad scope");
		break;
	case EIO:
		client_reply(cl, "decided for the held connections only: "
		    "the approvals file could not be written");
		break;
	default:
		client_reply(cl, strerror(errno));
		break;
	}
}

static void
client_line(struct control_client *cl, const char *line, size_t len)
{
	struct control_request req;

	if (control_request_parse(line, len, &req) == -1) {
		client_reply(cl, req.error);
		return;
	}
	switch (req.cmd) {
	case CONTROL_LIST:
		cmd_list(cl);
		break;
	case CONTROL_WATCH:
		cmd_watch(cl);
		break;
	case CONTROL_APPROVE:
	case CONTROL_DENY:
		cmd_decide(cl, &req);
		break;
	}
}

static void
client_read(struct control_client *cl)
{
	char *nl;
	size_t used;
	ssize_t n;

	n = recv(cl->fd, cl->in + cl->inlen, CONTROL_LINE_MAX - cl->inlen,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_kill(cl);
		return;
	}
	if (cl->watching)
		return;		/* a watcher only listens */
	cl->inlen += (size_t)n;
	while (!cl->dead && !cl->closing && !cl->watching &&
	    (nl = memchr(cl->in, '\n', cl->inlen)) != NULL) {
		used = (size_t)(nl - cl->in) + 1;
		client_line(cl, cl->in, used - 1);
		memmove(cl->in, cl->in + used, cl->inlen - used);
		cl->inlen -= used;
	}
	if (cl->inlen == CONTROL_LINE_MAX) {
		cl->closing = true;
		client_reply(cl, "bad request: line too long");
	}
}

static void
client_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct control_client *cl = arg;

	(void)l;
	(void)fd;
	if (!cl->dead && (events & EPOLLOUT))
		client_flush(cl);
	if (!cl->dead && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		client_read(cl);
	if (cl->dead)
		client_free(cl);
}

/* Root, the control group as primary group, or one of its members. */
static bool
peer_allowed(const struct control *ctl, const struct ucred *uc,
    const struct passwd *pw)
{
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0])), i;

	if (uc->uid == 0)
		return true;
	if (!ctl->have_group)
		return false;
	if (uc->gid == ctl->gid)
		return true;
	if (pw == NULL)
		return false;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		return false;	/* more than 256 groups: not worth guessing */
	for (i = 0; i < n; i++)
		if (groups[i] == ctl->gid)
			return true;
	return false;
}

static void
accept_cb(struct loop *l, int lfd, uint32_t events, void *arg)
{
	static const char full[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";
	struct control *ctl = arg;
	struct control_client *cl;
	struct passwd *pw;
	struct ucred uc;
	socklen_t uclen = sizeof(uc);
	size_t i;
	int fd;

	(void)events;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i] == NULL)
			break;
	if (i == CONTROL_CLIENTS_MAX) {
		(void)send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &uclen) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		close(fd);
		return;
	}
	cl->ctl = ctl;
	cl->fd = fd;
	json_init(&cl->out, NULL, 0);
	pw = getpwuid(uc.uid);
	if (pw != NULL)
		snprintf(cl->decider, sizeof(cl->decider), "%s (uid %u)",
		    pw->pw_name, (unsigned)uc.uid);
	else
		snprintf(cl->decider, sizeof(cl->decider), "uid %u",
		    (unsigned)uc.uid);
	if (loop_add(l, fd, EPOLLIN | EPOLLRDHUP, client_cb, cl) == -1) {
		log_warn("control: watch client");
		json_free(&cl->out);
		free(cl);
		close(fd);
		return;
	}
	ctl->clients[i] = cl;
	if (!peer_allowed(ctl, &uc, pw)) {
		log_warnx("control: %s (pid %d) is neither root nor in the "
		    "control group: refused", cl->decider, (int)uc.pid);
		cl->closing = true;
		client_reply(cl, "permission denied");
	}
}

static void
control_observe(void *arg, enum approval_event ev,
    const struct approval_info *info)
{
	struct control *ctl = arg;
	struct json_buf j;
	const char *name;
	size_t i;

	switch (ev) {
	case APPROVAL_EV_REQUESTED:	name = "requested"; break;
	case APPROVAL_EV_DECIDED:	name = "decided"; break;
	case APPROVAL_EV_EXPIRED:	name = "expired"; break;
	default:			return;
	}
	json_init(&j, NULL, 0);
	control_format_info(&j, name, info);
	if (json_error(&j) == 0) {
		for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
			if (ctl->clients[i] != NULL && ctl->clients[i]->watching)
				client_send(ctl->clients[i], j.data, j.len);
	}
	json_free(&j);
}

/* Bind with a umask that leaves no window where others could connect,
 * then hand the socket to the control group. */
static int
control_bind(struct control *ctl, const struct ag_conf *c)
{
	struct sockaddr_un sun;
	struct group *gr;
	struct stat st;
	mode_t old;
	int rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(ctl->path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, ctl->path, strlen(ctl->path));
	if (lstat(ctl->path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(ctl->path);	/* a previous run's */
	if ((ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	old = umask(0177);
	rc = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1 || listen(ctl->fd, 16) == -1)
		return -1;
	gr = c->control_group != NULL ? getgrnam(c->control_group) : NULL;
	if (gr == NULL) {
		log_warnx("control: group %s does not exist: %s is for root "
		    "only (mode 0600)", c->control_group ? c->control_group :
		    "(none)", ctl->path);
		return 0;
	}
	ctl->have_group = true;
	ctl->gid = gr->gr_gid;
	if (chown(ctl->path, geteuid(), gr->gr_gid) == -1 ||
	    chmod(ctl->path, 0660) == -1)
		log_warn("control: %s: cannot give it to group %s", ctl->path,
		    c->control_group);
	return 0;
}

struct control *
control_new(struct loop *l, const struct ag_conf *c, struct approvals *a)
{
	struct control *ctl;
	int saved;

	if (c->control_socket == NULL || c->control_socket[0] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return NULL;
	ctl->loop = l;
	ctl->approvals = a;
	ctl->fd = -1;
	if ((ctl->path = strdup(c->control_socket)) == NULL)
		goto fail;
	if (control_bind(ctl, c) == -1)
		goto fail;
	if (loop_add(l, ctl->fd, EPOLLIN, accept_cb, ctl) == -1)
		goto fail;
	if (approvals_observe(a, control_observe, ctl) == -1) {
		(void)loop_del(l, ctl->fd);
		goto fail;
	}
	log_info("control socket %s", ctl->path);
	return ctl;
fail:
	saved = errno;
	if (ctl->fd != -1)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	errno = saved;
	return NULL;
}

void
control_free(struct control *ctl)
{
	size_t i;

	if (ctl == NULL)
		return;
	approvals_unobserve(ctl->approvals, control_observe, ctl);
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (ctl->clients[i] != NULL)
			client_free(ctl->clients[i]);
	(void)loop_del(ctl->loop, ctl->fd);
	close(ctl->fd);
	/* After privileges dropped this usually fails; the next start
	 * removes the stale socket. */
	(void)unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
