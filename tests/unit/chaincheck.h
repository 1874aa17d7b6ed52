/*
 * A small, independent telemetry chain checker for the writer's tests:
 * reads every file of one stream, orders them by first seq and checks seq
 * and prev_hash line by line (json-c + SHA-256), as the schema defines.
 */
#ifndef AG_TEST_CHAINCHECK_H
#define AG_TEST_CHAINCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct chain {
	size_t		 nfiles;
	char		**files;	/* names, in chain order */
	size_t		 nlines;	/* valid lines */
	json_object	**obj;		/* each valid line, parsed */
	size_t		*file_of;	/* index into files per line */
	size_t		 bad_lines;	/* lines that are not JSON (torn and completed) */
	size_t		 unterminated;	/* files not ending in '\n' */
	char		 err[512];	/* why the chain is broken */
};

/* 0 when the chain is intact from seq 1, -1 with c->err otherwise. */
int	chain_load(const char *dir, const char *stream, struct chain *c);
void	chain_free(struct chain *c);
size_t	chain_count(const struct chain *c, const char *action);
/* Values at a dotted path; NULL / dflt when absent. */
const char *chain_str(json_object *o, const char *path);
int64_t	chain_int(json_object *o, const char *path, int64_t dflt);

#endif
