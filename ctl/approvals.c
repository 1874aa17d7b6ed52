/*
 * `agentgatectl approvals`: list, watch, approve and deny the proxy's
 * pending approval requests over its control socket (docs/approvals.md),
 * one JSON object per line each way.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "json.h"
#include "units.h"

/* Exit statuses of approve and deny beyond the common ones (ctl.h). */
#define APPROVALS_EXIT_DECIDED	3	/* already decided or expired */
#define APPROVALS_EXIT_UNKNOWN	4	/* no such request */

/* How long one answer may take; watch waits forever. */
#define ANSWER_TIMEOUT_S	10
#define ANSWER_LINE_MAX		(16 * 1024 * 1024)

static void
approvals_usage(FILE *out)
{
	fprintf(out,
	    "usage: agentgatectl approvals list [--json] [--socket PATH]\n"
	    "       agentgatectl approvals watch [--json] [--socket PATH]\n"
	    "       agentgatectl approvals approve ID [--scope SCOPE] [--reason TEXT] [--socket PATH]\n"
	    "       agentgatectl approvals deny ID [--scope SCOPE] [--reason TEXT] [--socket PATH]\n"
	    "\n"
	    "list     the requests agentgate-proxy knows: pending ones first, then\n"
	    "         recently decided ones; a table, or one JSON object per line.\n"
	    "watch    the pending requests, then one line per event (requested,\n"
	    "         decided, expired) until interrupted.\n"
	    "approve  let the request's held connections go on, and remember it for\n"
	    "         SCOPE: once (default; the held connections only), task (until\n"
	    "         the task ends), a duration such as 90m or 8h (that policy,\n"
	    "         across tasks), or forever (written to the policy's approvals\n"
	    "         file under the state folder).\n"
	    "deny     close the held connections; the name is refused for SCOPE.\n"
	    "\n"
	    "--socket PATH  the proxy's control socket (default: control-socket in\n"
	    "               the settings, else RUN_DIR/control.sock). Root or the\n"
	    "               control-group may use it.\n"
	    "\n"
	    "Exit 0 on success; 1 when the proxy cannot be reached or refuses;\n"
	    "2 on a usage error; 3 when the request was already decided or\n"
	    "expired; 4 when there is no such request.\n");
}

static int
socket_path(const struct ctl_env *env, const char *flag, char *buf,
    size_t size)
{
	int n;

	if (flag != NULL)
		n = snprintf(buf, size, "%s", flag);
	else if (env->conf != NULL && !env->conf->control_socket_derived &&
	    env->conf->control_socket != NULL)
		n = snprintf(buf, size, "%s", env->conf->control_socket);
	else	/* --run-dir applies to the default */
		n = snprintf(buf, size, "%s/control.sock", env->run_dir);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "agentgatectl approvals: socket path too long\n");
		return -1;
	}
	return 0;
}

/* Connected stream as a FILE for reading; requests go out with send(). */
static FILE *
control_connect(const char *path, bool timeout, int *fdp)
{
	struct sockaddr_un sun;
	struct timeval tv = { ANSWER_TIMEOUT_S, 0 };
	FILE *f;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "agentgatectl approvals: %s: path too long\n", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("agentgatectl approvals: socket");
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int e = errno;

		fprintf(stderr, "agentgatectl approvals: %s: %s%s\n", path,
		    strerror(e), e == EACCES ? " (root or the control group "
		    "only)" : e == ENOENT || e == ECONNREFUSED ? " (is "
		    "agentgate-proxy running?)" : "");
		close(fd);
		return NULL;
	}
	if (timeout)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((f = fdopen(fd, "r")) == NULL) {
		perror("agentgatectl approvals: fdopen");
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return f;
}

static int
send_request(int fd, struct json_buf *j)
{
	size_t off = 0;
	ssize_t n;

	if (json_raw(j, "\n", 1) == -1 || json_error(j) == -1) {
		fprintf(stderr, "agentgatectl approvals: out of memory\n");
		return -1;
	}
	while (off < j->len) {
		n = send(fd, j->data + off, j->len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		/* A proxy that refuses us has answered and shut the socket:
		 * its answer is still there to read. */
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET))
			return 0;
		if (n <= 0) {
			perror("agentgatectl approvals: send");
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* One answer line as a JSON object; NULL after saying why. */
static struct json_object *
read_answer(FILE *f, char **line, size_t *cap)
{
	struct json_object *o;
	ssize_t n;

	errno = 0;
	if ((n = getline(line, cap, f)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			fprintf(stderr, "agentgatectl approvals: no answer "
			    "within %d s\n", ANSWER_TIMEOUT_S);
		else if (errno != 0)
			perror("agentgatectl approvals: read");
		else
			fprintf(stderr, "agentgatectl approvals: the proxy "
			    "closed the connection\n");
		return NULL;
	}
	if (n > ANSWER_LINE_MAX || (o = json_tokener_parse(*line)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "agentgatectl approvals: the proxy's answer "
		    "is not JSON\n");
		return NULL;
	}
	return o;
}

static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return -1;
	return json_object_get_int64(v);
}

/* {"ok":false,...}: print the error; true when the answer is ok. */
static bool
answer_ok(struct json_object *o, const char **error)
{
	struct json_object *v;

	*error = get_str(o, "error");
	if (*error == NULL)
		*error = "unknown error";
	return json_object_object_get_ex(o, "ok", &v) &&
	    json_object_get_boolean(v);
}

/* Seconds since an ISO 8601 UTC time the proxy wrote; -1 if unreadable. */
static long
age_seconds(const char *iso)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	return (long)(time(NULL) - t);
}

static void
format_age(long s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "?");
	else if (s < 120)
		snprintf(buf, size, "%lds", s);
	else if (s < 7200)
		snprintf(buf, size, "%ldm", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, size, "%ldh", s / 3600);
	else
		snprintf(buf, size, "%ldd", s / 86400);
}

/* "once", "task", "forever" or the duration in the largest unit that
 * divides it ("8h", "90m"). */
static void
format_scope(struct json_object *o, char *buf, size_t size)
{
	const char *scope = get_str(o, "scope");
	int64_t ms = get_int(o, "duration_ms");

	if (scope == NULL)
		snprintf(buf, size, "-");
	else if (strcmp(scope, "duration") != 0 || ms <= 0)
		snprintf(buf, size, "%s", scope);
	else if (ms % 86400000 == 0)
		snprintf(buf, size, "%lldd", (long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		snprintf(buf, size, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, size, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
}

static const char *
nz(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

static void
print_row(struct json_object *o)
{
	char age[32], scope[32], target[300];

	format_age(age_seconds(get_str(o, "created")), age, sizeof(age));
	format_scope(o, scope, sizeof(scope));
	snprintf(target, sizeof(target), "%s:%lld/%s", nz(get_str(o, "name")),
	    (long long)get_int(o, "port"), nz(get_str(o, "proto")));
	printf("%-10s %-8s %5s %-16s %-40s %5lld %-8s %s%s%s\n",
	    nz(get_str(o, "id")), nz(get_str(o, "state")), age,
	    nz(get_str(o, "task")), target, (long long)get_int(o, "connections"),
	    scope, nz(get_str(o, "decider")),
	    get_str(o, "reason") != NULL ? ": " : "",
	    get_str(o, "reason") != NULL ? get_str(o, "reason") : "");
}

static int
approvals_list(FILE *f, int fd, bool json)
{
	struct json_object *o = NULL, *arr;
	struct json_buf j;
	const char *error;
	char *line = NULL;
	size_t cap = 0, i, n;
	int status = CTL_EXIT_FAIL;

	json_init(&j, NULL, 0);
	json_obj_begin(&j);
	json_key(&j, "cmd");
	json_cstr(&j, "list");
	json_obj_end(&j);
	if (send_request(fd, &j) == -1 || (o = read_answer(f, &line, &cap)) == NULL)
		goto out;
	if (!answer_ok(o, &error)) {
		fprintf(stderr, "agentgatectl approvals: %s\n", error);
		goto out;
	}
	if (!json_object_object_get_ex(o, "approvals", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		fprintf(stderr, "agentgatectl approvals: answer without a list\n");
		goto out;
	}
	n = json_object_array_length(arr);
	if (!json && n > 0)
		printf("%-10s %-8s %5s %-16s %-40s %5s %-8s %s\n", "ID", "STATE",
		    "AGE", "TASK", "NAME:PORT/PROTO", "CONNS", "SCOPE",
		    "DECIDED BY");
	for (i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(arr, i);

		if (json)
			printf("%s\n", json_object_to_json_string_ext(item,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			print_row(item);
	}
	if (!json && n == 0)
		printf("no approval requests\n");
	status = CTL_EXIT_OK;
out:
	if (o != NULL)
		json_object_put(o);
	free(line);
	json_free(&j);
	return status;
}

static void
print_event(struct json_object *o)
{
	const char *ev = nz(get_str(o, "event")), *state = nz(get_str(o, "state"));
	char now[32], scope[32];
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %-9s %s task %s %s:%lld/%s policy %s", now, ev,
	    nz(get_str(o, "id")), nz(get_str(o, "task")), nz(get_str(o, "name")),
	    (long long)get_int(o, "port"), nz(get_str(o, "proto")),
	    nz(get_str(o, "policy")));
	if (strcmp(ev, "decided") == 0) {
		format_scope(o, scope, sizeof(scope));
		printf(": %s %s by %s", state, scope, nz(get_str(o, "decider")));
		if (get_str(o, "reason") != NULL)
			printf(" (%s)", get_str(o, "reason"));
	} else if (strcmp(ev, "pending") == 0 || strcmp(ev, "requested") == 0)
		printf(", %lld connection(s) waiting",
		    (long long)get_int(o, "connections"));
	printf("\n");
}

static int
approvals_watch(FILE *f, int fd, bool json)
{
	struct json_object *o;
	struct json_buf j;
	const char *error;
	char *line = NULL;
	size_t cap = 0;
	int status = CTL_EXIT_FAIL;

	json_init(&j, NULL, 0);
	json_obj_begin(&j);
	json_key(&j, "cmd");
	json_cstr(&j, "watch");
	json_obj_end(&j);
	if (send_request(fd, &j) == -1)
		goto out;
	/* Until interrupted (SIGINT's default action ends us) or the proxy
	 * goes away, which read_answer() reports. */
	while ((o = read_answer(f, &line, &cap)) != NULL) {
		if (get_str(o, "event") == NULL) {
			if (!answer_ok(o, &error))
				fprintf(stderr, "agentgatectl approvals: %s\n",
				    error);
			json_object_put(o);
			goto out;
		}
		if (json)
			fputs(line, stdout);
		else
			print_event(o);
		fflush(stdout);
		json_object_put(o);
	}
out:
	free(line);
	json_free(&j);
	return status;
}

static int
approvals_decide(FILE *f, int fd, bool approve, const char *id,
    const char *scope, const char *reason)
{
	struct json_object *o = NULL;
	struct json_buf j;
	const char *error;
	char *line = NULL;
	size_t cap = 0;
	int status = CTL_EXIT_FAIL;

	json_init(&j, NULL, 0);
	json_obj_begin(&j);
	json_key(&j, "cmd");
	json_cstr(&j, approve ? "approve" : "deny");
	json_key(&j, "id");
	json_cstr(&j, id);
	json_key(&j, "scope");
	json_cstr(&j, scope);
	if (reason != NULL) {
		json_key(&j, "reason");
		json_cstr(&j, reason);
	}
	json_obj_end(&j);
	if (send_request(fd, &j) == -1 || (o = read_answer(f, &line, &cap)) == NULL)
		goto out;
	if (answer_ok(o, &error)) {
		printf("%s %s (%s)\n", approve ? "approved" : "denied", id, scope);
		status = CTL_EXIT_OK;
		goto out;
	}
	fprintf(stderr, "agentgatectl approvals: %s: %s\n", id, error);
	if (strcmp(error, "already decided") == 0)
		status = APPROVALS_EXIT_DECIDED;
	else if (strcmp(error, "no such request") == 0)
		status = APPROVALS_EXIT_UNKNOWN;
out:
	if (o != NULL)
		json_object_put(o);
	free(line);
	json_free(&j);
	return status;
}

/* The same rules as the proxy's, so a typo is a usage error here. */
static bool
scope_valid(const char *s)
{
	uint64_t ms;

	if (strcmp(s, "once") == 0 || strcmp(s, "task") == 0 ||
	    strcmp(s, "forever") == 0)
		return true;
	return units_duration_ms(s, &ms) == 0 && ms > 0;
}

static bool
reason_valid(const char *s)
{
	const unsigned char *p;

	if (strlen(s) > 511)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

int
cmd_approvals(int argc, char **argv, const struct ctl_env *env)
{
	enum { OPT_JSON = 256, OPT_SOCKET, OPT_SCOPE, OPT_REASON };
	static const struct option opts[] = {
		{ "json",	no_argument,	   NULL, OPT_JSON },
		{ "socket",	required_argument, NULL, OPT_SOCKET },
		{ "scope",	required_argument, NULL, OPT_SCOPE },
		{ "reason",	required_argument, NULL, OPT_REASON },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub, *flag_socket = NULL, *scope = NULL, *reason = NULL;
	char path[PATH_MAX];
	bool json = false, decide;
	FILE *f;
	int c, fd, status;

	if (argc < 2) {
		approvals_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "help") == 0) {
		approvals_usage(stdout);
		return CTL_EXIT_OK;
	}
	argc--;
	argv++;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:		json = true; break;
		case OPT_SOCKET:	flag_socket = optarg; break;
		case OPT_SCOPE:		scope = optarg; break;
		case OPT_REASON:	reason = optarg; break;
		case 'h':
			approvals_usage(stdout);
			return CTL_EXIT_OK;
		default:
			approvals_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	decide = strcmp(sub, "approve") == 0 || strcmp(sub, "deny") == 0;
	if (!decide && strcmp(sub, "list") != 0 && strcmp(sub, "watch") != 0) {
		fprintf(stderr, "agentgatectl: unknown approvals command '%s'\n", sub);
		approvals_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if ((decide && argc != 1) || (!decide && argc != 0) ||
	    (decide && json) || (!decide && (scope != NULL || reason != NULL))) {
		approvals_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (scope == NULL)
		scope = "once";
	if (!scope_valid(scope)) {
		fprintf(stderr, "agentgatectl approvals: bad scope '%s': once, "
		    "task, forever or a duration such as 8h\n", scope);
		return CTL_EXIT_USAGE;
	}
	if (reason != NULL && !reason_valid(reason)) {
		fprintf(stderr, "agentgatectl approvals: a reason is one line "
		    "of at most 511 bytes\n");
		return CTL_EXIT_USAGE;
	}
	if (socket_path(env, flag_socket, path, sizeof(path)) == -1)
		return CTL_EXIT_FAIL;
	if ((f = control_connect(path, strcmp(sub, "watch") != 0, &fd)) == NULL)
		return CTL_EXIT_FAIL;
	if (strcmp(sub, "list") == 0)
		status = approvals_list(f, fd, json);
	else if (strcmp(sub, "watch") == 0)
		status = approvals_watch(f, fd, json);
	else
		status = approvals_decide(f, fd, strcmp(sub, "approve") == 0,
		    argv[0], scope, reason);
	fclose(f);
	return status;
}
