/*
 * Task registry records: the JSON form of one task, parsed (json-c, strict)
 * and written (json.h), and the names and /proc fields it holds. No I/O
 * here; the folder, the lock and the snapshots are in registry_file.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "json.h"
#include "registry.h"

/* Nesting json-c may follow: ours is 2 deep; room for unknown keys. */
#define REG_JSON_DEPTH	16

static void
reg_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The one name rule of ids and policy names; `dotdot` refuses "..". */
static bool
name_valid(const char *s, size_t max, bool dotdot)
{
	size_t i, len;

	if (s == NULL)
		return false;
	len = strlen(s);
	if (len == 0 || len > max || (dotdot && strstr(s, "..") != NULL))
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

bool
registry_id_valid(const char *id)
{
	return name_valid(id, REG_ID_MAX, false);
}

bool
registry_policy_name_valid(const char *name)
{
	return name_valid(name, REG_POLICY_NAME_MAX, true);
}

void
registry_task_init(struct reg_task *t)
{
	memset(t, 0, sizeof(*t));
}

void
registry_task_free(struct reg_task *t)
{
	size_t i;

	free(t->policy);
	free(t->policy_file);
	free(t->trace_id);
	free(t->user);
	free(t->cwd);
	for (i = 0; i < t->argc; i++)
		free(t->argv[i]);
	free(t->argv);
	registry_task_init(t);
}

/* Addresses a task may not own: nothing sends from them. */
static bool
addr_usable(const struct ag_addr *a)
{
	switch (addr_classify(a)) {
	case ADDR_UNSPECIFIED:
	case ADDR_MULTICAST:
	case ADDR_RESERVED:
		return false;
	default:
		return true;
	}
}

int
registry_task_check(const struct reg_task *t, char *err, size_t errlen)
{
	char text[AG_ADDR_STRLEN];
	size_t i, j;

	if (!registry_id_valid(t->id)) {
		reg_err(err, errlen, "invalid id '%s'", t->id);
		goto bad;
	}
	if (t->naddrs == 0 || t->naddrs > REG_ADDR_MAX) {
		reg_err(err, errlen, "%zu addresses (1..%d)", t->naddrs, REG_ADDR_MAX);
		goto bad;
	}
	for (i = 0; i < t->naddrs; i++) {
		const struct ag_addr *a = &t->addrs[i];
		struct ag_addr canon;

		if (a->family != AF_INET && a->family != AF_INET6) {
			reg_err(err, errlen, "address %zu: no family", i + 1);
			goto bad;
		}
		addr_format(a, text, sizeof(text));
		if (addr_parse(text, &canon) == -1 || canon.family != a->family) {
			reg_err(err, errlen, "address %s: not canonical (mapped IPv6?)", text);
			goto bad;
		}
		if (!addr_usable(a)) {
			reg_err(err, errlen, "address %s: %s, not a source address",
			    text, addr_class_name(addr_classify(a)));
			goto bad;
		}
		for (j = 0; j < i; j++)
			if (addr_equal(&t->addrs[j], a)) {
				reg_err(err, errlen, "address %s listed twice", text);
				goto bad;
			}
	}
	if ((t->policy == NULL) == (t->policy_file == NULL)) {
		reg_err(err, errlen, "exactly one of policy and policy_file is needed");
		goto bad;
	}
	if (t->policy != NULL && !registry_policy_name_valid(t->policy)) {
		reg_err(err, errlen, "invalid policy name '%s'", t->policy);
		goto bad;
	}
	if (t->policy_file != NULL &&
	    (t->policy_file[0] != '/' || strlen(t->policy_file) >= PATH_MAX)) {
		reg_err(err, errlen, "policy_file must be an absolute path");
		goto bad;
	}
	if (t->has_launcher && t->launcher_pid <= 0) {
		reg_err(err, errlen, "launcher pid %ld out of range", (long)t->launcher_pid);
		goto bad;
	}
	if (t->launcher_start > INT64_MAX) {
		reg_err(err, errlen, "launcher start_time out of range");
		goto bad;
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* RFC 3339 in UTC: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00); the fraction
 * is dropped. Returns 0, or -1. */
static int
rfc3339_parse(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year, mon, day, hour, min, sec, n = 0, leap;
	struct tm tm;
	time_t t;

	if (strlen(s) < 20)
		return -1;
	for (int i = 0; i < 19; i++) {
		bool digit = s[i] >= '0' && s[i] <= '9';

		if ((i == 4 || i == 7) ? s[i] != '-' :
		    (i == 10) ? (s[i] != 'T' && s[i] != 't') :
		    (i == 13 || i == 16) ? s[i] != ':' : !digit)
			return -1;
	}
	if (sscanf(s, "%4d-%2d-%2d%*c%2d:%2d:%2d%n", &year, &mon, &day, &hour,
	    &min, &sec, &n) != 6 || n != 19)
		return -1;
	s += 19;
	if (*s == '.') {
		if (!(s[1] >= '0' && s[1] <= '9'))
			return -1;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if (strcmp(s, "Z") != 0 && strcmp(s, "z") != 0 && strcmp(s, "+00:00") != 0)
		return -1;
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
	    (mon == 2 && day == 29 && !leap) || hour > 23 || min > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

/* A string member without NUL bytes, copied; NULL for JSON null when
 * `nullable`. Returns 0, or -1 with the reason written. */
static int
get_string(struct json_object *o, const char *key, bool nullable, char **out,
    char *err, size_t errlen)
{
	const char *s;
	int len;

	*out = NULL;
	if (o == NULL && nullable)
		return 0;
	if (!json_object_is_type(o, json_type_string)) {
		reg_err(err, errlen, "%s: not a string", key);
		return -1;
	}
	s = json_object_get_string(o);
	len = json_object_get_string_len(o);
	if (memchr(s, '\0', (size_t)len) != NULL) {
		reg_err(err, errlen, "%s: NUL byte in string", key);
		return -1;
	}
	if ((*out = strdup(s)) == NULL) {
		reg_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* An integer member in [min, max]. */
static int
get_int(struct json_object *o, const char *key, int64_t min, int64_t max,
    int64_t *out, char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_int)) {
		reg_err(err, errlen, "%s: not an integer", key);
		return -1;
	}
	errno = 0;
	*out = json_object_get_int64(o);
	if (errno != 0 || *out < min || *out > max) {
		reg_err(err, errlen, "%s: out of range", key);
		return -1;
	}
	return 0;
}

static int
parse_addresses(struct json_object *arr, struct reg_task *t, char *err,
    size_t errlen)
{
	size_t i, n;

	if (!json_object_is_type(arr, json_type_array)) {
		reg_err(err, errlen, "addresses: not an array");
		return -1;
	}
	n = json_object_array_length(arr);
	if (n == 0 || n > REG_ADDR_MAX) {
		reg_err(err, errlen, "addresses: %zu given, 1..%d allowed", n, REG_ADDR_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		const char *s;

		if (!json_object_is_type(e, json_type_string)) {
			reg_err(err, errlen, "addresses[%zu]: not a string", i);
			return -1;
		}
		s = json_object_get_string(e);
		if ((size_t)json_object_get_string_len(e) != strlen(s) ||
		    addr_parse(s, &t->addrs[i]) == -1) {
			reg_err(err, errlen, "addresses[%zu]: not an IP address", i);
			return -1;
		}
		t->naddrs = i + 1;
	}
	return 0;
}

static int
parse_argv(struct json_object *arr, struct reg_task *t, char *err, size_t errlen)
{
	size_t i, n;

	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		reg_err(err, errlen, "argv: not an array");
		return -1;
	}
	n = json_object_array_length(arr);
	if ((t->argv = calloc(n ? n : 1, sizeof(*t->argv))) == NULL) {
		reg_err(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (get_string(json_object_array_get_idx(arr, i), "argv[]", false,
		    &t->argv[i], err, errlen) == -1)
			return -1;
		t->argc = i + 1;
	}
	return 0;
}

static int
parse_launcher(struct json_object *o, struct reg_task *t, char *err,
    size_t errlen)
{
	struct json_object *pid, *st;
	int64_t v;

	if (o == NULL)
		return 0;
	if (!json_object_is_type(o, json_type_object)) {
		reg_err(err, errlen, "launcher: not an object");
		return -1;
	}
	if (!json_object_object_get_ex(o, "pid", &pid) ||
	    !json_object_object_get_ex(o, "start_time", &st)) {
		reg_err(err, errlen, "launcher: needs pid and start_time");
		return -1;
	}
	if (get_int(pid, "launcher.pid", 1, INT_MAX, &v, err, errlen) == -1)
		return -1;
	t->launcher_pid = (pid_t)v;
	if (get_int(st, "launcher.start_time", 0, INT64_MAX - 1, &v, err, errlen) == -1)
		return -1;
	t->launcher_start = (uint64_t)v;
	t->has_launcher = true;
	return 0;
}

/* A member, or NULL when absent or JSON null (optional members only). */
static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static int
parse_object(struct json_object *o, struct reg_task *t, char *err, size_t errlen)
{
	struct json_object *v;
	char *s = NULL;
	int rc = -1;

	if (!json_object_is_type(o, json_type_object)) {
		reg_err(err, errlen, "not a JSON object");
		goto out;
	}
	if ((v = member(o, "id")) == NULL) {
		reg_err(err, errlen, "no id");
		goto out;
	}
	if (get_string(v, "id", false, &s, err, errlen) == -1)
		goto out;
	if (!registry_id_valid(s)) {
		reg_err(err, errlen, "id: invalid task id");
		goto out;
	}
	memcpy(t->id, s, strlen(s) + 1);
	free(s);
	s = NULL;

	if ((v = member(o, "addresses")) == NULL) {
		reg_err(err, errlen, "no addresses");
		goto out;
	}
	if (parse_addresses(v, t, err, errlen) == -1)
		goto out;
	if (get_string(member(o, "policy"), "policy", true, &t->policy, err, errlen) == -1 ||
	    get_string(member(o, "policy_file"), "policy_file", true, &t->policy_file,
	    err, errlen) == -1 ||
	    get_string(member(o, "trace_id"), "trace_id", true, &t->trace_id, err, errlen) == -1 ||
	    get_string(member(o, "user"), "user", true, &t->user, err, errlen) == -1 ||
	    get_string(member(o, "cwd"), "cwd", true, &t->cwd, err, errlen) == -1 ||
	    parse_argv(member(o, "argv"), t, err, errlen) == -1 ||
	    parse_launcher(member(o, "launcher"), t, err, errlen) == -1)
		goto out;

	if ((v = member(o, "started")) == NULL) {
		reg_err(err, errlen, "no started");
		goto out;
	}
	if (get_string(v, "started", false, &s, err, errlen) == -1)
		goto out;
	if (rfc3339_parse(s, &t->started) == -1) {
		reg_err(err, errlen, "started: not an RFC 3339 UTC time");
		goto out;
	}
	rc = registry_task_check(t, err, errlen);
out:
	free(s);
	return rc;
}

int
registry_task_parse(const char *json, size_t len, struct reg_task *t,
    char *err, size_t errlen)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	size_t end;
	int rc = -1, saved = EINVAL;

	registry_task_init(t);
	if (len > REG_FILE_MAX) {
		reg_err(err, errlen, "over %d bytes", REG_FILE_MAX);
		goto out;
	}
	if (memchr(json, '\0', len) != NULL) {
		reg_err(err, errlen, "NUL byte");
		goto out;
	}
	if ((tok = json_tokener_new_ex(REG_JSON_DEPTH)) == NULL) {
		reg_err(err, errlen, "out of memory");
		saved = ENOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (o == NULL) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		reg_err(err, errlen, "not JSON: %s", e == json_tokener_continue ?
		    "truncated" : json_tokener_error_desc(e));
		goto out;
	}
	/* Whitespace may follow the object; anything else is a second value. */
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (json[end] != ' ' && json[end] != '\n' && json[end] != '\t' &&
		    json[end] != '\r') {
			reg_err(err, errlen, "not JSON: data after the object");
			goto out;
		}
	errno = 0;
	if (parse_object(o, t, err, errlen) == -1) {
		if (errno == ENOMEM)
			saved = ENOMEM;
		goto out;
	}
	rc = 0;
out:
	json_object_put(o);
	if (tok != NULL)
		json_tokener_free(tok);
	if (rc == -1) {
		registry_task_free(t);
		errno = saved;
	}
	return rc;
}

static int
json_opt(struct json_buf *j, const char *key, const char *val)
{
	if (val == NULL)
		return 0;
	json_key(j, key);
	return json_cstr(j, val);
}

int
registry_task_format_members(const struct reg_task *t, struct json_buf *j)
{
	char text[AG_ADDR_STRLEN], when[32];
	struct tm tm;
	size_t i;

	json_key(j, "id");
	json_cstr(j, t->id);
	json_key(j, "addresses");
	json_arr_begin(j);
	for (i = 0; i < t->naddrs; i++)
		json_cstr(j, addr_format(&t->addrs[i], text, sizeof(text)));
	json_arr_end(j);
	json_opt(j, "policy", t->policy);
	json_opt(j, "policy_file", t->policy_file);
	json_opt(j, "trace_id", t->trace_id);
	json_opt(j, "user", t->user);
	if (t->argv != NULL) {
		json_key(j, "argv");
		json_arr_begin(j);
		for (i = 0; i < t->argc; i++)
			json_cstr(j, t->argv[i]);
		json_arr_end(j);
	}
	json_opt(j, "cwd", t->cwd);
	if (gmtime_r(&t->started, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "1970-01-01T00:00:00Z");
	json_key(j, "started");
	json_cstr(j, when);
	if (t->has_launcher) {
		json_key(j, "launcher");
		json_obj_begin(j);
		json_key(j, "pid");
		json_int(j, t->launcher_pid);
		json_key(j, "start_time");
		json_uint(j, t->launcher_start);
		json_obj_end(j);
	}
	return json_error(j);
}

int
registry_task_format(const struct reg_task *t, struct json_buf *j)
{
	json_obj_begin(j);
	registry_task_format_members(t, j);
	json_obj_end(j);
	return json_error(j);
}

/* Parse an unsigned decimal token [p, end). */
static int
parse_u64(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;

	if (p == end)
		return -1;
	for (; p < end; p++) {
		uint64_t digit = (uint64_t)(*p - '0');

		if (*p < '0' || *p > '9' || v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

int
registry_stat_parse(const char *buf, size_t len, uint64_t *start_time,
    char *state)
{
	const char *p = NULL, *end = buf + len, *tok;
	int field;
	size_t i;

	/* comm (field 2) may hold spaces and ')': fields start after the last ')'. */
	for (i = len; i > 0; i--)
		if (buf[i - 1] == ')') {
			p = buf + i;
			break;
		}
	if (p == NULL)
		goto bad;
	for (field = 3; field <= 22; field++) {
		if (p >= end || *p != ' ')
			goto bad;
		tok = ++p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (field == 3) {
			if (p - tok != 1)
				goto bad;
			if (state != NULL)
				*state = *tok;
		} else if (field == 22) {
			if (parse_u64(tok, p, start_time) == -1)
				goto bad;
		}
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
