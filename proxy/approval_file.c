/*
 * Writing and reading the approvals files (approval_file.h). The file is
 * the truth: the store reloads it after every write instead of keeping a
 * second copy of what it says.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "approval_file.h"
#include "log.h"
#include "policy.h"

#define APPROVAL_FILE_MAX	(4 * 1024 * 1024)	/* bigger is refused */
#define APPROVAL_TEXT_MAX	512	/* decider, reason in a comment */

/* A rule line and the request id of the comment above it. */
struct file_id {
	unsigned	 line;
	char		 id[APPROVAL_ID_LEN + 1];
};

struct approval_file {
	struct policy	*pol;
	struct file_id	*ids;
	size_t		 nids;
};

int
approval_file_path(const char *state_dir, const char *policy, char *buf,
    size_t size)
{
	int n;

	if (!policy_name_valid(policy)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, size, "%s/approvals/%s.rules", state_dir, policy);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Comment text: printable ASCII only (the file is read by the policy
 * lexer and by people), quotes and backslashes escaped. */
static void
file_clean(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (; s != NULL && *s != '\0' && o + 3 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			out[o++] = '\\';
		out[o++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	out[o] = '\0';
}

static bool
file_name_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '.' || *s == '_'))
			return false;
	}
	return true;
}

int
approval_file_format(const struct approval_file_entry *e, char *buf,
    size_t size)
{
	char decider[APPROVAL_TEXT_MAX], reason[APPROVAL_TEXT_MAX], when[32];
	struct tm tm;
	time_t t;
	int n;

	if (!file_name_ok(e->name) || e->proto == NULL ||
	    strcmp(e->proto, "tcp") != 0 || e->port == 0 || e->id == NULL) {
		errno = EINVAL;
		return -1;
	}
	t = (time_t)(e->when_ms / 1000);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		errno = EINVAL;
		return -1;
	}
	file_clean(decider, sizeof(decider), e->decider);
	file_clean(reason, sizeof(reason), e->reason);
	n = snprintf(buf, size, "# %s by %s at %s, request %s%s%s%s\n"
	    "%s %s port %u proto %s\n",
	    e->allow ? "approved" : "denied", decider, when, e->id,
	    e->reason != NULL ? ", reason \"" : "", reason,
	    e->reason != NULL ? "\"" : "",
	    e->allow ? "allow" : "deny", e->name, e->port, e->proto);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

static int
file_mkdir(const char *path)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* The whole current file, or an empty buffer when it does not exist. */
static int
file_read_all(const char *path, char **out, size_t *len)
{
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0;
	ssize_t got;
	int fd, rc = -1;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		if (n == cap) {
			if (cap >= APPROVAL_FILE_MAX) {
				errno = EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL)
				goto out;
			buf = nb;
		}
		if ((got = read(fd, buf + n, cap - n)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static int
file_write_all(int fd, const char *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
approval_file_append(const char *state_dir, const char *policy,
    const struct approval_file_entry *e)
{
	char path[4096], dir[4096], tmp[4096 + 16], add[2 * APPROVAL_TEXT_MAX + 1024];
	char *old = NULL;
	size_t oldlen;
	int fd = -1, dfd = -1, rc = -1, saved, n, addlen;
	static const char head[] =
	    "# Approvals given `forever` for this policy, written by agentgate-proxy.\n"
	    "# Consulted only when the policy's own verdict is ask (docs/approvals.md).\n";

	if (approval_file_path(state_dir, policy, path, sizeof(path)) == -1 ||
	    (addlen = approval_file_format(e, add, sizeof(add))) == -1)
		return -1;
	n = snprintf(dir, sizeof(dir), "%s/approvals", state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
	if (file_mkdir(state_dir) == -1 || file_mkdir(dir) == -1 ||
	    file_read_all(path, &old, &oldlen) == -1)
		goto out;
	if ((fd = mkstemp(tmp)) == -1)
		goto out;
	if (fchmod(fd, 0644) == -1 ||
	    (oldlen == 0 && file_write_all(fd, head, sizeof(head) - 1) == -1) ||
	    file_write_all(fd, old, oldlen) == -1 ||
	    (oldlen > 0 && old[oldlen - 1] != '\n' && file_write_all(fd, "\n", 1) == -1) ||
	    file_write_all(fd, add, (size_t)addlen) == -1 ||
	    fsync(fd) == -1)
		goto out_unlink;
	if (close(fd) == -1) {
		fd = -1;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto out_unlink;
	/* The rename is durable only once the folder is. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		goto out;
	rc = 0;
	goto out;
out_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	free(old);
	errno = saved;
	return rc;
}

static void
file_log_error(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	log_warnx("%s:%u: %s", file, line, msg);
}

/* Which request each rule came from: the id in the comment just above. */
static int
file_scan_ids(struct approval_file *f, const char *path)
{
	char *buf, *line, *save = NULL, pending[APPROVAL_ID_LEN + 1] = "";
	size_t len, cap = 0;
	unsigned no = 0;
	int rc = -1;

	if (file_read_all(path, &buf, &len) == -1)
		return -1;
	if (buf == NULL)
		return 0;
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		return 0;
	}
	/* NUL-terminate in place (the buffer may be exactly full). */
	{
		char *nb = realloc(buf, len + 1);

		if (nb == NULL)
			goto out;
		buf = nb;
		buf[len] = '\0';
	}
	for (line = buf; line != NULL; line = save) {
		const char *r;
		char *nl = strchr(line, '\n');

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		no++;
		line += strspn(line, " \t");
		if (*line == '#') {
			if ((r = strstr(line, ", request ")) != NULL &&
			    strspn(r + 10, "0123456789abcdef") == APPROVAL_ID_LEN) {
				memcpy(pending, r + 10, APPROVAL_ID_LEN);
				pending[APPROVAL_ID_LEN] = '\0';
			}
			continue;
		}
		if (*line == '\0' || *line == '\r')
			continue;
		if (pending[0] != '\0') {
			if (f->nids == cap) {
				struct file_id *n;

				cap = cap ? cap * 2 : 16;
				if ((n = realloc(f->ids, cap * sizeof(*n))) == NULL)
					goto out;
				f->ids = n;
			}
			f->ids[f->nids].line = no;
			memcpy(f->ids[f->nids].id, pending, sizeof(pending));
			f->nids++;
		}
		pending[0] = '\0';
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

struct approval_file *
approval_file_load(const char *state_dir, const char *policy)
{
	struct approval_file *f;
	char path[4096];
	struct stat st;
	int saved;

	if (approval_file_path(state_dir, policy, path, sizeof(path)) == -1 ||
	    stat(path, &st) == -1)
		return NULL;	/* ENOENT: no approvals yet, nothing to say */
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->pol = policy_load_file(path, policy, file_log_error, NULL)) == NULL ||
	    file_scan_ids(f, path) == -1) {
		saved = errno;
		approval_file_free(f);
		errno = saved;
		return NULL;
	}
	return f;
}

void
approval_file_free(struct approval_file *f)
{
	if (f == NULL)
		return;
	if (f->pol != NULL)
		policy_unref(f->pol);
	free(f->ids);
	free(f);
}

static enum policy_proto
file_proto(const char *proto)
{
	if (strcmp(proto, "udp") == 0)
		return POLICY_PROTO_UDP;
	return POLICY_PROTO_TCP;
}

enum approval_verdict
approval_file_match(const struct approval_file *f, const char *name,
    uint16_t port, const char *proto, struct approval_check *out)
{
	struct policy_verdict v;
	unsigned line;
	size_t i;

	v = policy_match_name(f->pol, name, file_proto(proto), port);
	if (v.rule == NULL || v.action == POLICY_ASK)
		return APPROVAL_ASK;
	line = policy_rule_line(v.rule);
	out->verdict = v.action == POLICY_ALLOW ? APPROVAL_GRANTED : APPROVAL_REFUSED;
	out->id[0] = '\0';
	for (i = 0; i < f->nids; i++) {
		if (f->ids[i].line == line) {
			memcpy(out->id, f->ids[i].id, sizeof(out->id));
			break;
		}
	}
	out->rule_file = policy_rule_file(v.rule);
	out->rule_line = line;
	out->rule_text = policy_rule_text(v.rule);
	return out->verdict;
}

enum approval_verdict
approval_file_match_name(const struct approval_file *f, const char *name)
{
	struct policy_verdict v = policy_match_name_any(f->pol, name);

	return v.rule != NULL && v.action == POLICY_DENY ? APPROVAL_REFUSED : APPROVAL_ASK;
}
