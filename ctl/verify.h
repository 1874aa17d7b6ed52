/*
 * `agentgatectl log verify`: the hash chain check of docs/telemetry.md. The
 * checker is fed lines and does no I/O, so its judgement of every kind of
 * tampering is unit-tested on byte strings.
 */
#ifndef AG_CTL_VERIFY_H
#define AG_CTL_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "ctl.h"

#define VERIFY_HASH_LEN	32
#define VERIFY_WHAT_MAX	512

/* What the checker knows of one line. */
struct vline {
	size_t		 file;		/* index in the stream's files */
	uint64_t	 lineno;
	bool		 newline;	/* ended with '\n' */
	const char	*bad;		/* NULL: a chained event; else why not */
	int64_t		 seq;
	uint8_t		 hash[VERIFY_HASH_LEN];	/* SHA-256 of its bytes */
	uint8_t		 prev[VERIFY_HASH_LEN];	/* its agentgate.prev_hash */
	bool		 opened;	/* event.action "log-opened" */
	bool		 repaired;	/* agentgate.log.repaired: true */
	char		 prev_file[256]; /* agentgate.log.previous_file */
};

/*
 * Fill `v` from one line: hash, then JSON (strict) with agentgate.seq >= 1,
 * agentgate.prev_hash (64 lowercase hex) and agentgate.stream == stream.
 * A line that is none of that gets v->bad set; the function cannot fail.
 */
void	verify_line(struct json_tokener *tok, const char *stream,
	    const char *buf, size_t len, bool newline, size_t file,
	    uint64_t lineno, struct vline *v);

enum verify_state {
	VERIFY_OK = 0,		/* chained so far */
	VERIFY_WAIT,		/* a link is broken; one more line decides how */
	VERIFY_BROKEN,		/* done: where and what are set */
};

/* One stream's chain check. `names` are the stream's files in order. */
struct verify {
	const char *const *names;
	size_t		 nfiles;
	enum verify_state state;
	struct vline	 pp, p, n;	/* two lines back, last good, suspect */
	bool		 have_pp, have_p;
	uint64_t	 lines;
	int64_t		 first_seq;	/* -1 before the first line */
	size_t		 where_file;	/* when VERIFY_BROKEN */
	uint64_t	 where_line;
	char		 what[VERIFY_WHAT_MAX];
	char		 note[VERIFY_WHAT_MAX];	/* a warning that is no break */
};

void	verify_init(struct verify *c, const char *const *names, size_t nfiles);
/* Feed the next line; returns the state after it. */
enum verify_state verify_feed(struct verify *c, const struct vline *v);
/* No more lines; returns the final state (never VERIFY_WAIT). */
enum verify_state verify_end(struct verify *c);

int	cmd_log_verify(int argc, char **argv, const struct ctl_env *env);

#endif
