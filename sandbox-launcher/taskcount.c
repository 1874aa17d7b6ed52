/*
 * Counting a task's egress attempts in the daemons' telemetry streams with
 * agentgatectl's reader (ctl/logread.c): a mark per stream at the start,
 * then only the lines appended since, through rotations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "logread.h"
#include "taskcount.h"

const char *const taskcount_streams[TASKCOUNT_NSTREAMS] = { "proxy", "nfq" };

static int
active_path(const struct taskcount *tc, size_t i, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/egress-%s.jsonl", tc->dir,
	    taskcount_streams[i]);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
taskcount_mark(struct taskcount *tc, const char *dir, const char *id)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	memset(tc, 0, sizeof(*tc));
	tc->dir = dir;
	tc->max_bytes = TASKCOUNT_MAX_BYTES;
	if (strlen(id) >= sizeof(tc->id)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tc->id, id, strlen(id) + 1);
	for (i = 0; i < TASKCOUNT_NSTREAMS; i++) {
		if (active_path(tc, i, path, sizeof(path)) == -1)
			return -1;
		if (stat(path, &st) == -1) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return -1;
		}
		tc->marks[i].exists = true;
		tc->marks[i].dev = st.st_dev;
		tc->marks[i].ino = st.st_ino;
		tc->marks[i].size = st.st_size;
	}
	return 0;
}

bool
taskcount_changed(const struct taskcount *tc)
{
	const struct taskcount_mark *m;
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	for (i = 0; i < TASKCOUNT_NSTREAMS; i++) {
		m = &tc->marks[i];
		if (active_path(tc, i, path, sizeof(path)) == -1)
			return true;
		if (stat(path, &st) == -1) {
			if (m->exists)
				return true;	/* renamed away: rotated */
			continue;
		}
		if (!m->exists || st.st_dev != m->dev || st.st_ino != m->ino ||
		    st.st_size != m->size)
			return true;
	}
	return false;
}

int
taskcount_line(struct json_tokener *tok, const char *line, size_t len,
    const char *id, struct taskcount_counts *c)
{
	static const char key[] = "\"task\":{\"id\":\"";
	struct log_rec rec;
	const char *p, *end = line + len;
	size_t idlen = strlen(id);
	bool found = false;
	int counted = 0;

	/* The writer's own bytes: "task":{"id":"ID" then '}' or ','. Task ids
	 * need no escaping, so any line of the task holds exactly this. */
	p = line;
	while (!found && (size_t)(end - p) >= sizeof(key) - 1 &&
	    (p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1)) != NULL) {
		/* Past the key: p <= end. */
		p += sizeof(key) - 1;
		found = (size_t)(end - p) > idlen + 1 &&
		    memcmp(p, id, idlen) == 0 && p[idlen] == '"' &&
		    (p[idlen + 1] == '}' || p[idlen + 1] == ',');
	}
	if (!found)
		return 0;
	/* The search may be fooled by a name that holds those bytes (escaped
	 * as \" in JSON, so it cannot): the parse decides. */
	if (logrec_parse(tok, line, len, &rec) == -1)
		return 0;
	if (rec.action != NULL && strcmp(rec.action, "egress") == 0 &&
	    rec.task != NULL && strcmp(rec.task, id) == 0 && rec.outcome != NULL) {
		counted = 1;
		if (strcmp(rec.outcome, "allowed") == 0)
			c->allowed++;
		else if (strcmp(rec.outcome, "denied") == 0)
			c->denied++;
		else if (strcmp(rec.outcome, "pending") == 0)
			c->pending++;
		else
			counted = 0;
	}
	logrec_clear(&rec);
	return counted;
}

/*
 * Read stream st from file `first` at offset `off` to its end. The cursor
 * (logread.h) starts at the beginning of a file, so it is handed that file
 * already open and positioned: its fields are public for this.
 */
static int
count_from(const struct taskcount *tc, const struct lr_stream *st,
    size_t first, off_t off, struct json_tokener *tok,
    struct taskcount_counts *out)
{
	struct lr_cursor c;
	struct lr_line line;
	enum lr_next next;
	uint64_t bytes = 0;
	int fd, ret = -1;

	lr_cursor_init(&c, st);
	c.file = first;
	if (off > 0) {
		fd = open(st->files[first].path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd == -1)
			goto out;
		if (lseek(fd, off, SEEK_SET) == -1) {
			close(fd);
			goto out;
		}
		c.fd = fd;
	}
	/* partial: a line the daemon is still writing is not counted. */
	while ((next = lr_cursor_next(&c, true, &line)) == LR_LINE) {
		bytes += line.len + 1;
		if (bytes > tc->max_bytes) {
			errno = EFBIG;
			goto out;
		}
		if (line.newline)
			taskcount_line(tok, line.buf, line.len, tc->id, out);
	}
	if (next == LR_ERROR)
		goto out;
	ret = 0;
out:
	lr_cursor_free(&c);
	return ret;
}

/* A stream whose active file is no longer the marked one, or is shorter:
 * find the marked file among the stream's files by inode. */
static int
count_rotated(const struct taskcount *tc, const struct lr_dir *d, size_t i,
    struct json_tokener *tok, struct taskcount_counts *out)
{
	const struct taskcount_mark *m = &tc->marks[i];
	const struct lr_stream *st = NULL;
	struct stat sb;
	size_t k;

	for (k = 0; k < d->nstreams; k++)
		if (strcmp(d->streams[k].name, taskcount_streams[i]) == 0)
			st = &d->streams[k];
	if (st == NULL || st->nfiles == 0) {
		if (m->exists) {
			errno = ESTALE;
			return -1;
		}
		return 0;
	}
	/* A stream that had no active file at the mark began since: all of
	 * it is new. */
	if (!m->exists)
		return count_from(tc, st, 0, 0, tok, out);
	for (k = 0; k < st->nfiles; k++)
		if (st->files[k].dev == m->dev && st->files[k].ino == m->ino)
			break;
	if (k == st->nfiles || stat(st->files[k].path, &sb) == -1 ||
	    sb.st_size < m->size) {
		errno = ESTALE;
		return -1;
	}
	return count_from(tc, st, k, m->size, tok, out);
}

int
taskcount_read(const struct taskcount *tc, struct taskcount_counts *out)
{
	const struct taskcount_mark *m;
	struct json_tokener *tok;
	struct lr_dir d;
	struct lr_file one;
	struct lr_stream single;
	struct stat sb;
	char path[PATH_MAX];
	bool scanned = false;
	size_t i;
	int ret = -1, saved;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	if ((tok = lr_tokener_new()) == NULL)
		return -1;
	for (i = 0; i < TASKCOUNT_NSTREAMS; i++) {
		m = &tc->marks[i];
		if (active_path(tc, i, path, sizeof(path)) == -1)
			goto out;
		/* Usually the marked file is still the active one: read its
		 * tail, no folder scan. */
		if (m->exists && stat(path, &sb) == 0 && sb.st_dev == m->dev &&
		    sb.st_ino == m->ino && sb.st_size >= m->size) {
			if (sb.st_size == m->size)
				continue;
			memset(&one, 0, sizeof(one));
			one.path = path;
			single.name = (char *)taskcount_streams[i];
			single.files = &one;
			single.nfiles = 1;
			if (count_from(tc, &single, 0, m->size, tok, out) == -1)
				goto out;
			continue;
		}
		/* No daemon of this stream then or now (a rotation always
		 * opens a new active file): nothing to count, no scan. */
		if (!m->exists && stat(path, &sb) == -1 && errno == ENOENT)
			continue;
		if (!scanned) {
			if (lr_dir_scan(tc->dir, &d) == -1) {
				if (errno != ENOENT)
					goto out;
				memset(&d, 0, sizeof(d));
			}
			scanned = true;
		}
		if (count_rotated(tc, &d, i, tok, out) == -1)
			goto out;
	}
	ret = 0;
out:
	saved = errno;
	if (scanned)
		lr_dir_free(&d);
	json_tokener_free(tok);
	errno = saved;
	return ret;
}
