/*
 * Reading a telemetry folder: the files of each stream in chain order, lines
 * streamed through a buffer per stream, and the k-way merge of the streams
 * by @timestamp. Nothing here holds more than one line per stream.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "logread.h"

#define LR_READ		(64 * 1024)	/* bytes per read(2) */
#define LR_LINE_MAX	(16 * 1024 * 1024) /* longer is not an event: skip */
#define LR_HEAD_MAX	(64 * 1024)	/* bytes read to find a first seq */

int
lr_name_stream(const char *name, const char **stream, size_t *len)
{
	const char *dot;
	size_t n;

	if (strncmp(name, "egress-", 7) != 0)
		return -1;
	if ((dot = strstr(name + 7, ".jsonl")) == NULL || dot == name + 7)
		return -1;
	n = strlen(name);
	if (n >= 3 && strcmp(name + n - 3, ".gz") == 0)
		return -1;
	*stream = name + 7;
	*len = (size_t)(dot - (name + 7));
	return 0;
}

/* agentgate.seq of the first line, or 0 when it cannot be read. */
static uint64_t
lr_first_seq(int dirfd, const char *name)
{
	struct json_tokener *tok = NULL;
	struct log_rec r = { .obj = NULL };
	char *buf = NULL, *nl;
	ssize_t n;
	size_t got = 0;
	uint64_t res = 0;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	if ((buf = malloc(LR_HEAD_MAX)) == NULL)
		goto out;
	while (got < LR_HEAD_MAX &&
	    (n = read(fd, buf + got, LR_HEAD_MAX - got)) > 0) {
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	if ((nl = memchr(buf, '\n', got)) != NULL)
		got = (size_t)(nl - buf);
	if ((tok = lr_tokener_new()) == NULL ||
	    logrec_parse(tok, buf, got, &r) == -1)
		goto out;
	if (r.seq > 0)
		res = (uint64_t)r.seq;
out:
	logrec_clear(&r);
	if (tok != NULL)
		json_tokener_free(tok);
	free(buf);
	close(fd);
	return res;
}

struct lr_entry {
	char		*stream;
	struct lr_file	 file;
};

static int
lr_entry_cmp(const void *a, const void *b)
{
	const struct lr_entry *x = a, *y = b;
	int c;

	if ((c = strcmp(x->stream, y->stream)) != 0)
		return c;
	/* Unreadable first lines last: they cannot be placed in the chain. */
	if ((x->file.first_seq == 0) != (y->file.first_seq == 0))
		return x->file.first_seq == 0 ? 1 : -1;
	if (x->file.first_seq != y->file.first_seq)
		return x->file.first_seq < y->file.first_seq ? -1 : 1;
	return strcmp(x->file.name, y->file.name);
}

/* Make a file entry for DIR/name if it is a regular telemetry file:
 * 1 made, 0 not one, -1 error. */
static int
lr_file_make(const char *dir, int dirfd, const char *name, char **streamp,
    struct lr_file *f)
{
	struct stat sb;
	const char *s;
	size_t slen, dlen = strlen(dir), nlen = strlen(name);

	if (lr_name_stream(name, &s, &slen) == -1)
		return 0;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(sb.st_mode))
		return 0;
	memset(f, 0, sizeof(*f));
	if ((f->path = malloc(dlen + 1 + nlen + 1)) == NULL)
		return -1;
	memcpy(f->path, dir, dlen);
	f->path[dlen] = '/';
	memcpy(f->path + dlen + 1, name, nlen + 1);
	f->name = f->path + dlen + 1;
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	f->first_seq = lr_first_seq(dirfd, name);
	if (streamp != NULL && (*streamp = strndup(s, slen)) == NULL) {
		free(f->path);
		return -1;
	}
	return 1;
}

int
lr_dir_scan(const char *path, struct lr_dir *out)
{
	struct lr_entry *ents = NULL, *tmp;
	struct dirent *de;
	DIR *dp = NULL;
	size_t n = 0, cap = 0, i;
	int r, rc = -1, saved;

	memset(out, 0, sizeof(*out));
	if ((out->path = strdup(path)) == NULL)
		return -1;
	if ((dp = opendir(path)) == NULL)
		goto out;
	while ((errno = 0, de = readdir(dp)) != NULL) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((tmp = reallocarray(ents, cap, sizeof(*ents))) == NULL)
				goto out;
			ents = tmp;
		}
		r = lr_file_make(path, dirfd(dp), de->d_name, &ents[n].stream,
		    &ents[n].file);
		if (r == -1)
			goto out;
		n += (size_t)r;
	}
	if (errno != 0)
		goto out;
	if (n > 0)
		qsort(ents, n, sizeof(*ents), lr_entry_cmp);
	for (i = 0; i < n; i++) {
		struct lr_stream *st, *ns;
		struct lr_file *nf;

		st = out->nstreams ? &out->streams[out->nstreams - 1] : NULL;
		if (st == NULL || strcmp(st->name, ents[i].stream) != 0) {
			ns = reallocarray(out->streams, out->nstreams + 1,
			    sizeof(*ns));
			if (ns == NULL)
				goto out;
			out->streams = ns;
			st = &ns[out->nstreams++];
			memset(st, 0, sizeof(*st));
			st->name = ents[i].stream;
		} else
			free(ents[i].stream);
		ents[i].stream = NULL;
		if ((nf = reallocarray(st->files, st->nfiles + 1,
		    sizeof(*nf))) == NULL) {
			free(ents[i].file.path);
			ents[i].file.path = NULL;
			goto out;
		}
		st->files = nf;
		st->files[st->nfiles++] = ents[i].file;
		ents[i].file.path = NULL;
	}
	rc = 0;
out:
	saved = errno;
	for (i = 0; i < n; i++) {
		free(ents[i].stream);
		free(ents[i].file.path);
	}
	free(ents);
	if (dp != NULL)
		closedir(dp);
	if (rc == -1)
		lr_dir_free(out);
	errno = saved;
	return rc;
}

void
lr_dir_free(struct lr_dir *d)
{
	size_t i, j;

	for (i = 0; i < d->nstreams; i++) {
		for (j = 0; j < d->streams[i].nfiles; j++)
			free(d->streams[i].files[j].path);
		free(d->streams[i].files);
		free(d->streams[i].name);
	}
	free(d->streams);
	free(d->path);
	memset(d, 0, sizeof(*d));
}

/* Add one file found by a rescan unless its inode is known. */
static int
lr_dir_add(struct lr_dir *d, char *stream, struct lr_file *f)
{
	struct lr_stream *st = NULL, *ns;
	struct lr_file *nf;
	size_t i, j;

	for (i = 0; i < d->nstreams && st == NULL; i++)
		if (strcmp(d->streams[i].name, stream) == 0)
			st = &d->streams[i];
	for (j = 0; st != NULL && j < st->nfiles; j++) {
		if (st->files[j].dev == f->dev && st->files[j].ino == f->ino) {
			/* Renamed by rotation: same file, new name. */
			free(st->files[j].path);
			st->files[j].path = f->path;
			st->files[j].name = f->name;
			free(stream);
			return 0;
		}
	}
	if (st == NULL) {
		ns = reallocarray(d->streams, d->nstreams + 1, sizeof(*ns));
		if (ns == NULL)
			return -1;
		d->streams = ns;
		st = &ns[d->nstreams++];
		memset(st, 0, sizeof(*st));
		st->name = stream;
	} else
		free(stream);
	if ((nf = reallocarray(st->files, st->nfiles + 1, sizeof(*nf))) == NULL)
		return -1;
	st->files = nf;
	st->files[st->nfiles++] = *f;
	return 0;
}

int
lr_dir_rescan(struct lr_dir *d)
{
	struct dirent *de;
	struct lr_file f;
	char *stream;
	DIR *dp;
	int r, rc = -1;

	if ((dp = opendir(d->path)) == NULL)
		return -1;
	while ((errno = 0, de = readdir(dp)) != NULL) {
		r = lr_file_make(d->path, dirfd(dp), de->d_name, &stream, &f);
		if (r == -1)
			goto out;
		if (r == 1 && lr_dir_add(d, stream, &f) == -1) {
			free(stream);
			free(f.path);
			goto out;
		}
	}
	rc = errno == 0 ? 0 : -1;
out:
	closedir(dp);
	return rc;
}

void
lr_cursor_init(struct lr_cursor *c, const struct lr_stream *st)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->fd = -1;
}

void
lr_cursor_free(struct lr_cursor *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

enum lr_next
lr_cursor_next(struct lr_cursor *c, bool partial, struct lr_line *line)
{
	const struct lr_file *f;
	char *nl, *nb;
	ssize_t n;
	size_t ncap;

	for (;;) {
		if (c->fd == -1) {
			if (c->file >= c->st->nfiles)
				return LR_END;
			f = &c->st->files[c->file];
			c->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (c->fd == -1) {
				log_warn("%s", f->path);
				c->file++;
				continue;
			}
			c->lineno = 0;
			c->start = c->end = 0;
		}
		if (c->end > c->start &&
		    (nl = memchr(c->buf + c->start, '\n', c->end - c->start))) {
			line->buf = c->buf + c->start;
			line->len = (size_t)(nl - line->buf);
			line->newline = true;
			line->file = c->file;
			line->lineno = ++c->lineno;
			c->start += line->len + 1;
			return LR_LINE;
		}
		if (c->start > 0) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		if (c->cap - c->end < LR_READ) {
			ncap = c->cap ? c->cap * 2 : 2 * LR_READ;
			if (ncap > LR_LINE_MAX + 2 * LR_READ) {
				/* A runaway line: hand out what we have. */
				goto tail;
			}
			if ((nb = realloc(c->buf, ncap)) == NULL)
				return LR_ERROR;
			c->buf = nb;
			c->cap = ncap;
		}
		n = read(c->fd, c->buf + c->end, c->cap - c->end);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return LR_ERROR;
		}
		if (n > 0) {
			c->end += (size_t)n;
			continue;
		}
		if (c->end > c->start) {
			if (partial && c->file + 1 >= c->st->nfiles)
				return LR_END;
			goto tail;
		}
		if (c->file + 1 >= c->st->nfiles)
			return LR_END;	/* keep fd: --follow reads on */
		close(c->fd);
		c->fd = -1;
		c->file++;
	}
tail:
	line->buf = c->buf + c->start;
	line->len = c->end - c->start;
	line->newline = false;
	line->file = c->file;
	line->lineno = ++c->lineno;
	c->start = c->end;
	return LR_LINE;
}

struct json_tokener *
lr_tokener_new(void)
{
	struct json_tokener *tok;

	/* Strict: the writer emits plain RFC 8259 JSON, so anything json-c
	 * would merely tolerate is a line someone else wrote. UTF-8 is not
	 * validated here (it costs a third of the parse); fmt_text() shows
	 * invalid bytes escaped instead. */
	if ((tok = json_tokener_new()) != NULL)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	return tok;
}

struct json_object *
json_path(struct json_object *o, const char *path)
{
	char key[64];
	const char *dot;
	size_t n;

	while (o != NULL) {
		if (!json_object_is_type(o, json_type_object))
			return NULL;
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		if (dot == NULL)
			return o;
		path = dot + 1;
	}
	return NULL;
}

const char *
json_path_str(struct json_object *o, const char *path)
{
	o = json_path(o, path);
	if (o == NULL || !json_object_is_type(o, json_type_string))
		return NULL;
	return json_object_get_string(o);
}

int64_t
json_path_int(struct json_object *o, const char *path)
{
	o = json_path(o, path);
	if (o == NULL || !json_object_is_type(o, json_type_int))
		return -1;
	return json_object_get_int64(o);
}

/* A string member of object `o`, or NULL. */
static const char *
json_member_str(struct json_object *o, const char *key, size_t *len)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	if (len != NULL)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

static struct json_object *
json_member_obj(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static int64_t
json_member_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

int
logrec_parse(struct json_tokener *tok, const char *line, size_t len,
    struct log_rec *r)
{
	struct json_object *o, *ag, *ev, *dst, *x;
	const char *ts;
	size_t tslen;

	memset(r, 0, sizeof(*r));
	r->seq = r->dst_port = r->rule_line = -1;
	if (len == 0 || line[0] != '{' || memchr(line, '\0', len) != NULL)
		goto bad;
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o == NULL)
		goto bad;
	r->obj = o;
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object))
		goto bad;
	if ((ts = json_member_str(o, "@timestamp", &tslen)) == NULL ||
	    time_parse_rfc3339(ts, tslen, &r->ts) == -1)
		goto bad;
	ag = json_member_obj(o, "agentgate");
	ev = json_member_obj(o, "event");
	dst = json_member_obj(o, "destination");
	r->stream = json_member_str(ag, "stream", NULL);
	r->seq = json_member_int(ag, "seq");
	r->outcome = json_member_str(ag, "outcome", NULL);
	r->task = json_member_str(json_member_obj(ag, "task"), "id", NULL);
	x = json_member_obj(ag, "rule");
	r->rule_file = json_member_str(x, "file", NULL);
	r->rule_line = json_member_int(x, "line");
	r->action = json_member_str(ev, "action", NULL);
	r->reason = json_member_str(ev, "reason", NULL);
	r->dst_ip = json_member_str(dst, "ip", NULL);
	/* Nothing dialled (a denial): the address the client asked for is
	 * where the attempt went, for --dst and the table alike. */
	if (r->dst_ip == NULL)
		r->dst_ip = json_member_str(json_member_obj(ag, "requested"), "ip", NULL);
	r->dst_port = json_member_int(dst, "port");
	/* The name the destination was asked for, from the most direct
	 * source the event has. */
	r->name = json_member_str(dst, "domain", &r->name_len);
	if (r->name == NULL)
		r->name = json_member_str(json_member_obj(json_member_obj(o,
		    "dns"), "question"), "name", &r->name_len);
	if (r->name == NULL)
		r->name = json_member_str(json_member_obj(json_member_obj(o,
		    "tls"), "client"), "server_name", &r->name_len);
	if (r->name == NULL)
		r->name = json_member_str(json_member_obj(o, "url"), "domain",
		    &r->name_len);
	return 0;
bad:
	logrec_clear(r);
	errno = EINVAL;
	return -1;
}

void
logrec_clear(struct log_rec *r)
{
	json_object_put(r->obj);
	r->obj = NULL;
}
