/*
 * Reading a telemetry folder (docs/telemetry.md): which files belong to
 * which stream, in which order, line by line without loading a file, one
 * record parsed with json-c, and the k-way merge of all streams in time order.
 */
#ifndef AG_CTL_LOGREAD_H
#define AG_CTL_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "filter.h"

/* One telemetry file of a stream. */
struct lr_file {
	char		*path;		/* DIR/name */
	const char	*name;		/* points into path */
	uint64_t	 first_seq;	/* agentgate.seq of line 1; 0 when unreadable */
	dev_t		 dev;
	ino_t		 ino;
};

/* A stream: its files ordered by the seq of their first line. */
struct lr_stream {
	char		*name;		/* "proxy" for egress-proxy.jsonl* */
	struct lr_file	*files;
	size_t		 nfiles;
};

struct lr_dir {
	char		*path;
	struct lr_stream *streams;	/* sorted by name */
	size_t		 nstreams;
};

/*
 * Scan DIR: every regular file whose name starts with "egress-" and contains
 * ".jsonl" (not ending in ".gz"), grouped by the stream in its name and
 * ordered by first seq, never by name. Returns 0, or -1 with errno.
 */
int	lr_dir_scan(const char *path, struct lr_dir *out);
void	lr_dir_free(struct lr_dir *d);
/*
 * --follow: add files and streams that appeared since the scan (appended,
 * so indexes held by cursors stay valid; a renamed file keeps its place,
 * found by inode). Returns 0, or -1 with errno.
 */
int	lr_dir_rescan(struct lr_dir *d);

/* The stream of a file name, or -1 when the name is not a telemetry file. */
int	lr_name_stream(const char *name, const char **stream, size_t *len);

/* One line as read: bytes without the '\n'. */
struct lr_line {
	const char	*buf;
	size_t		 len;
	bool		 newline;	/* false: the file ended inside this line */
	size_t		 file;		/* index in the stream's files */
	uint64_t	 lineno;	/* 1-based within that file */
};

/*
 * Reads one stream's files in order with a buffer of its own (no stdio, so
 * that a line still being written is left for later in --follow).
 */
struct lr_cursor {
	const struct lr_stream *st;
	size_t		 file;		/* current index in st->files */
	int		 fd;		/* -1 before the first open */
	uint64_t	 lineno;
	char		*buf;
	size_t		 cap, start, end;
};

enum lr_next {
	LR_LINE = 0,	/* *line is filled; valid until the next call */
	LR_END,		/* no more lines now (all files read) */
	LR_ERROR,	/* I/O error; errno set, the stream is abandoned */
};

void	lr_cursor_init(struct lr_cursor *c, const struct lr_stream *st);
void	lr_cursor_free(struct lr_cursor *c);
/*
 * Next line. At the end of a file the cursor moves to the stream's next
 * file, so a rotation seen by lr_dir_rescan() is followed. A tail without
 * '\n' is returned with newline = false, except with `partial` in the last
 * file, where it is kept until its '\n' arrives (--follow).
 */
enum lr_next lr_cursor_next(struct lr_cursor *c, bool partial,
	    struct lr_line *line);

/* The fields of one event that agentgatectl looks at. Strings point into
 * the json-c object and live as long as it; absent fields are NULL / -1. */
struct log_rec {
	struct json_object *obj;
	ag_usec		 ts;		/* @timestamp; 0 when absent */
	const char	*stream;
	int64_t		 seq;
	const char	*action;	/* event.action */
	const char	*outcome;	/* agentgate.outcome */
	const char	*task;		/* agentgate.task.id */
	const char	*name;		/* destination name, see logrec_name() */
	size_t		 name_len;
	const char	*dst_ip;	/* destination.ip, else agentgate.requested.ip */
	int64_t		 dst_port;	/* destination.port */
	const char	*rule_file;	/* agentgate.rule.file */
	int64_t		 rule_line;
	const char	*reason;	/* event.reason */
};

/* A json-c tokener in strict RFC 8259 mode. */
struct json_tokener *lr_tokener_new(void);

/*
 * Parse one line (strict JSON, one object, no NUL byte) and fill `r`.
 * Returns 0 (release with logrec_clear), or -1 with errno EINVAL when the
 * line is not a JSON object or has no valid "@timestamp".
 */
int	logrec_parse(struct json_tokener *tok, const char *line, size_t len,
	    struct log_rec *r);
void	logrec_clear(struct log_rec *r);

/* Dotted-path lookups ("agentgate.rule.file"); NULL / -1 when absent or
 * of another type. */
struct json_object *json_path(struct json_object *o, const char *path);
const char *json_path_str(struct json_object *o, const char *path);
int64_t	json_path_int(struct json_object *o, const char *path);

/*
 * The k-way merge: one cursor per stream, the head record of each in a
 * heap ordered by @timestamp, then stream name, then seq. Lines that the
 * filter rejects never enter the heap; malformed lines are skipped with a
 * warning naming file:line.
 */
struct lr_head {
	struct lr_cursor cur;
	struct log_rec	 rec;
	struct lr_line	 line;		/* the record's bytes, in cur's buffer */
};

struct lr_merge {
	struct lr_dir		*dir;
	const struct log_filter	*filter;
	struct json_tokener	*tok;
	struct lr_head		*heads;		/* one per stream */
	size_t			 nheads;
	size_t			*heap;		/* indexes into heads */
	size_t			 nheap;
	bool			 follow;	/* keep partial lines for later */
	bool			 given;		/* heap top was handed out */
	uint64_t		 malformed;	/* lines skipped */
};

int	lr_merge_init(struct lr_merge *m, struct lr_dir *d,
	    const struct log_filter *f, bool follow);
void	lr_merge_free(struct lr_merge *m);
/*
 * The next matching record in merged order, or NULL when every stream is at
 * its end. The record and its line stay valid until the next call.
 */
const struct lr_head *lr_merge_next(struct lr_merge *m);
/* --follow: pick up new files, streams and lines after lr_merge_next()
 * returned NULL. Returns 0, or -1 with errno. */
int	lr_merge_refill(struct lr_merge *m);

#endif
