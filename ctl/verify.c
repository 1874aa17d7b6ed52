/*
 * The telemetry hash chain check. Each stream is read in chain order; a
 * broken link is judged with one line of look-ahead so the report says what
 * happened (edited, deleted, inserted, reordered line, missing file, torn or
 * non-JSON line) at the file:line where it happened.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "logread.h"
#include "verify.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* upper case is not what the writer writes */
}

void
verify_line(struct json_tokener *tok, const char *stream, const char *buf,
    size_t len, bool newline, size_t file, uint64_t lineno, struct vline *v)
{
	struct json_object *o = NULL, *ag, *x;
	const char *s;
	unsigned int hl = 0;
	size_t i;
	int hi, lo;

	memset(v, 0, sizeof(*v));
	v->file = file;
	v->lineno = lineno;
	v->newline = newline;
	v->seq = -1;
	EVP_Digest(buf, len, v->hash, &hl, EVP_sha256(), NULL);
	v->bad = "not a JSON object";
	if (len == 0 || buf[0] != '{' || memchr(buf, '\0', len) != NULL)
		goto out;
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object))
		goto out;
	v->bad = "no agentgate.seq (integer >= 1)";
	if ((v->seq = json_path_int(o, "agentgate.seq")) < 1)
		goto out;
	v->bad = "agentgate.prev_hash is not 64 lowercase hex digits";
	if ((s = json_path_str(o, "agentgate.prev_hash")) == NULL ||
	    strlen(s) != 2 * VERIFY_HASH_LEN)
		goto out;
	for (i = 0; i < VERIFY_HASH_LEN; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0)
			goto out;
		v->prev[i] = (uint8_t)(hi << 4 | lo);
	}
	v->bad = "agentgate.stream does not name this file's stream";
	if ((s = json_path_str(o, "agentgate.stream")) == NULL ||
	    strcmp(s, stream) != 0)
		goto out;
	v->bad = NULL;
	s = json_path_str(o, "event.action");
	v->opened = s != NULL && strcmp(s, "log-opened") == 0;
	x = json_path(o, "agentgate.log.repaired");
	v->repaired = x != NULL && json_object_is_type(x, json_type_boolean) &&
	    json_object_get_boolean(x);
	ag = json_path(o, "agentgate.log.previous_file");
	if (ag != NULL && json_object_is_type(ag, json_type_string))
		snprintf(v->prev_file, sizeof(v->prev_file), "%s",
		    json_object_get_string(ag));
out:
	if (!newline)
		v->bad = "torn line: the file ends inside it (no newline)";
	json_object_put(o);
}

void
verify_init(struct verify *c, const char *const *names, size_t nfiles)
{
	memset(c, 0, sizeof(*c));
	c->names = names;
	c->nfiles = nfiles;
	c->first_seq = -1;
}

/* Does b continue the chain right after a? */
static bool
chains(const struct vline *a, const struct vline *b)
{
	return a->bad == NULL && b->bad == NULL && b->seq == a->seq + 1 &&
	    memcmp(b->prev, a->hash, VERIFY_HASH_LEN) == 0;
}

static enum verify_state
verify_broken(struct verify *c, const struct vline *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum verify_state
verify_broken(struct verify *c, const struct vline *at, const char *fmt, ...)
{
	va_list ap;

	c->state = VERIFY_BROKEN;
	c->where_file = at->file;
	c->where_line = at->lineno;
	va_start(ap, fmt);
	vsnprintf(c->what, sizeof(c->what), fmt, ap);
	va_end(ap);
	return c->state;
}

/* Accept v as the next good line. */
static void
verify_shift(struct verify *c, const struct vline *v)
{
	if (c->have_p) {
		c->pp = c->p;
		c->have_pp = true;
	}
	c->p = *v;
	c->have_p = true;
	c->state = VERIFY_OK;
}

static const char *
fname(const struct verify *c, size_t i)
{
	return i < c->nfiles ? c->names[i] : "?";
}

/* Judge the broken link P -> N, with NN the line after N (or NULL). */
static enum verify_state
verify_judge(struct verify *c, const struct vline *nn)
{
	const struct vline *p = &c->p, *n = &c->n;

	if (n->bad != NULL) {
		if (nn != NULL && nn->bad == NULL && nn->opened &&
		    nn->repaired && nn->seq == p->seq + 1) {
			/* The writer crashed inside this line and said so when
			 * it restarted: a loss, not a forgery. */
			snprintf(c->note, sizeof(c->note), "%s:%" PRIu64
			    ": torn line, completed by the writer on restart "
			    "(log-opened at %s:%" PRIu64 " says repaired)",
			    fname(c, n->file), n->lineno, fname(c, nn->file),
			    nn->lineno);
			if (chains(p, nn) ||
			    memcmp(nn->prev, n->hash, VERIFY_HASH_LEN) == 0) {
				c->lines++;	/* the torn line */
				verify_shift(c, nn);
				return c->state;
			}
		}
		if (nn != NULL && chains(p, nn))
			return verify_broken(c, n, "inserted line (%s); the "
			    "next line continues the chain", n->bad);
		return verify_broken(c, n, "%s", n->bad);
	}
	if (nn != NULL && nn->bad == NULL && chains(nn, n) &&
	    chains(p, nn))
		return verify_broken(c, n, "lines reordered: seq %" PRId64
		    " comes before seq %" PRId64, n->seq, nn->seq);
	if (nn != NULL && chains(p, nn))
		return verify_broken(c, n, "inserted line: seq %" PRId64
		    " does not continue the chain from seq %" PRId64
		    ", the next line does", n->seq, p->seq);
	if (n->seq == p->seq + 1) {
		if (nn != NULL && chains(n, nn))
			return verify_broken(c, p, "line edited: its hash does "
			    "not match prev_hash of the next line (%s:%" PRIu64
			    ")", fname(c, n->file), n->lineno);
		if (nn != NULL && nn->bad == NULL && nn->seq == n->seq + 1)
			return verify_broken(c, n, "line edited: its prev_hash "
			    "does not match the previous line and its hash "
			    "not the next line's prev_hash");
		return verify_broken(c, n, "prev_hash does not match the "
		    "previous line (%s:%" PRIu64 "): one of the two was "
		    "edited", fname(c, p->file), p->lineno);
	}
	if (n->seq > p->seq + 1) {
		if (n->file != p->file && n->lineno == 1 && !n->opened)
			return verify_broken(c, n, "%" PRId64 " line(s) deleted "
			    "at the start of this file (it does not begin with "
			    "log-opened): seq jumps from %" PRId64 " to %" PRId64,
			    n->seq - p->seq - 1, p->seq, n->seq);
		if (n->file != p->file && n->lineno == 1)
			return verify_broken(c, n, "chain broken across files: "
			    "this file starts at seq %" PRId64 " but %s ends at "
			    "seq %" PRId64 ": a file is missing%s%s%s, or lines "
			    "were cut from the end of %s", n->seq,
			    fname(c, p->file), p->seq,
			    n->prev_file[0] ? " (log-opened names '" : "",
			    n->prev_file, n->prev_file[0] ? "')" : "",
			    fname(c, p->file));
		return verify_broken(c, n, "%" PRId64 " line(s) deleted before "
		    "this line: seq jumps from %" PRId64 " to %" PRId64,
		    n->seq - p->seq - 1, p->seq, n->seq);
	}
	if (c->have_pp && chains(&c->pp, n))
		return verify_broken(c, p, "inserted line: the next line "
		    "(seq %" PRId64 ") continues the chain from the line "
		    "before this one", n->seq);
	if (n->seq == p->seq)
		return verify_broken(c, n, "seq %" PRId64 " repeated: a line "
		    "was inserted or duplicated", n->seq);
	return verify_broken(c, n, "lines reordered: seq goes back from %"
	    PRId64 " to %" PRId64, p->seq, n->seq);
}

enum verify_state
verify_feed(struct verify *c, const struct vline *v)
{
	static const uint8_t zero[VERIFY_HASH_LEN];

	switch (c->state) {
	case VERIFY_BROKEN:
		return c->state;
	case VERIFY_WAIT:
		if (verify_judge(c, v) == VERIFY_BROKEN)
			return c->state;
		/* Judged harmless (a repaired torn line): go on after it. */
		c->lines++;
		return c->state;
	case VERIFY_OK:
		break;
	}
	if (!c->have_p) {
		if (v->bad != NULL)
			return verify_broken(c, v, "%s", v->bad);
		if (v->seq == 1 && memcmp(v->prev, zero, sizeof(zero)) != 0)
			return verify_broken(c, v, "seq 1 starts a stream but "
			    "prev_hash is not zero");
		if (v->seq > 1)
			snprintf(c->note, sizeof(c->note), "%s:%" PRIu64
			    ": the chain starts at seq %" PRId64 " (earlier "
			    "files removed?)", fname(c, v->file), v->lineno,
			    v->seq);
		c->first_seq = v->seq;
		c->lines++;
		verify_shift(c, v);
		return c->state;
	}
	if (chains(&c->p, v)) {
		c->lines++;
		verify_shift(c, v);
		return c->state;
	}
	c->n = *v;
	c->state = VERIFY_WAIT;
	/* A torn last line of a file cannot be followed by more of it. */
	return c->state;
}

enum verify_state
verify_end(struct verify *c)
{
	if (c->state == VERIFY_WAIT)
		verify_judge(c, NULL);
	return c->state;
}

static void
verify_usage(FILE *out)
{
	fprintf(out,
	    "usage: agentgatectl log verify [--dir DIR]\n"
	    "\n"
	    "Check the hash chain of every telemetry stream in DIR (default:\n"
	    "the --log-dir of agentgatectl), across its rotated files. Prints\n"
	    "'ok: STREAM: N lines in F files' per intact stream, or the first\n"
	    "broken place as 'FILE:LINE: what' (edited, deleted, inserted or\n"
	    "reordered line, missing file, torn or non-JSON line).\n"
	    "Exit status: 0 every chain intact, 1 a chain is broken, 2 usage.\n");
}

/* Check one stream; prints its verdict. Returns 0 intact, 1 broken. */
static int
verify_stream(struct json_tokener *tok, const struct lr_stream *st)
{
	const char **names;
	struct lr_cursor cur;
	struct lr_line line;
	struct verify c;
	struct vline v;
	enum lr_next r;
	size_t i;
	int rc = 1;

	if ((names = calloc(st->nfiles, sizeof(*names))) == NULL)
		fatal("verify");
	for (i = 0; i < st->nfiles; i++)
		names[i] = st->files[i].path;
	verify_init(&c, names, st->nfiles);
	lr_cursor_init(&cur, st);
	while ((r = lr_cursor_next(&cur, false, &line)) == LR_LINE) {
		verify_line(tok, st->name, line.buf, line.len, line.newline,
		    line.file, line.lineno, &v);
		if (verify_feed(&c, &v) == VERIFY_BROKEN)
			break;
		if (c.note[0] != '\0') {
			printf("warning: %s\n", c.note);
			c.note[0] = '\0';
		}
	}
	if (r == LR_ERROR) {
		printf("%s: read error: %s\n", st->files[cur.file].path,
		    strerror(errno));
		goto out;
	}
	if (verify_end(&c) == VERIFY_BROKEN) {
		printf("%s:%" PRIu64 ": %s\n", fname(&c, c.where_file),
		    c.where_line, c.what);
		goto out;
	}
	if (c.note[0] != '\0')
		printf("warning: %s\n", c.note);
	printf("ok: %s: %" PRIu64 " lines in %zu files\n", st->name, c.lines,
	    st->nfiles);
	rc = 0;
out:
	lr_cursor_free(&cur);
	free(names);
	return rc;
}

int
cmd_log_verify(int argc, char **argv, const struct ctl_env *env)
{
	static const struct option opts[] = {
		{ "dir",	required_argument, NULL, 'd' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct json_tokener *tok;
	struct lr_dir d;
	const char *dir = env->log_dir;
	size_t i;
	int c, rc = CTL_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			verify_usage(stdout);
			return CTL_EXIT_OK;
		default:
			verify_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentgatectl log verify: unexpected argument "
		    "'%s'\n", argv[optind]);
		verify_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (lr_dir_scan(dir, &d) == -1) {
		log_warn("%s", dir);
		return CTL_EXIT_FAIL;
	}
	if ((tok = lr_tokener_new()) == NULL)
		fatal("json_tokener_new");
	if (d.nstreams == 0)
		printf("%s: no telemetry files\n", dir);
	for (i = 0; i < d.nstreams; i++)
		if (verify_stream(tok, &d.streams[i]) != 0)
			rc = CTL_EXIT_FAIL;
	json_tokener_free(tok);
	lr_dir_free(&d);
	if (fflush(stdout) == EOF)
		rc = CTL_EXIT_FAIL;
	return rc;
}
