/*
 * A task's egress attempts, counted from the daemons' telemetry streams for
 * its task-ended event: where each stream ends is marked when the task
 * starts, and only what was appended since is read when it ends.
 */
#ifndef AG_TASKCOUNT_H
#define AG_TASKCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "registry.h"

struct json_tokener;

/* The streams whose egress events carry a task id (docs/telemetry.md). */
#define TASKCOUNT_NSTREAMS	2

/* Reading more than this many bytes of one stream gives up (EFBIG): the
 * count of a long task on a busy gateway is not worth minutes of reading. */
#define TASKCOUNT_MAX_BYTES	((uint64_t)256 << 20)

/* After a task that made attempts ends, the daemons still write the events
 * of its last connections (a connection's event is written when it closes,
 * which its sandbox's end has just caused): the launcher waits this long
 * before it counts. An attempt logged later still is not counted. */
#define TASKCOUNT_SETTLE_MS	100

/* Where one stream's active file ended at the mark. */
struct taskcount_mark {
	bool		 exists;	/* the active file was there */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
};

struct taskcount {
	const char		*dir;		/* LOG_DIR, borrowed */
	char			 id[REG_ID_MAX + 1];
	uint64_t		 max_bytes;	/* per stream */
	struct taskcount_mark	 marks[TASKCOUNT_NSTREAMS];
};

struct taskcount_counts {
	int64_t		allowed, denied, pending;
};

/* The stream names, in marks[] order. */
extern const char *const taskcount_streams[TASKCOUNT_NSTREAMS];

/*
 * Mark the end of each stream's active file in dir for task id (one stat
 * per stream; a missing file or folder is a stream that starts later).
 * Returns 0, or -1 with errno (ENAMETOOLONG, or stat's errno).
 */
int	taskcount_mark(struct taskcount *tc, const char *dir, const char *id);

/* Whether any stream has changed since the mark (a stat per stream): when
 * not, the task made no attempt and there is nothing to read. */
bool	taskcount_changed(const struct taskcount *tc);

/*
 * Count the task's egress events appended since the mark, following a
 * rotation through the stream's files (found by inode, ordered by their
 * first seq). A line still being written is left out. Returns 0 with *out
 * set, or -1 with errno: EFBIG (more than max_bytes to read), ESTALE (the
 * marked file is gone or was truncated: the lines since the mark cannot be
 * found), or a read error.
 */
int	taskcount_read(const struct taskcount *tc, struct taskcount_counts *out);

/*
 * Parser of one telemetry line (no I/O): when it is an egress event of task
 * id, add it to *c by its agentgate.outcome. A cheap byte search skips the
 * other tasks' lines before json-c parses. Returns 1 when counted, else 0.
 */
int	taskcount_line(struct json_tokener *tok, const char *line, size_t len,
	    const char *id, struct taskcount_counts *c);

#endif
