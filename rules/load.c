/*
 * Loading policies: reads the policy file and the files it includes, keeps
 * the chain of open includes to refuse cycles and runaway nesting, and
 * hands every text to the parser. The only part of rules/ that does I/O.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_int.h"

#define POLICY_FILE_MAX	(1UL << 30)	/* bytes; far above any sane policy */

/* The files being read, outermost first. */
struct load_chain {
	struct {
		char		*real;	/* realpath(); NULL for text in memory */
		unsigned	 file;	/* file number in the builder */
	}		 level[POLICY_INCLUDE_DEPTH + 1];
	unsigned	 depth;		/* levels in use */
	const char	*basedir;	/* for includes from a buffer */
};

static int
read_file(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;
	int fd, saved, ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto out;
	}
	if ((unsigned long long)st.st_size > POLICY_FILE_MAX) {
		errno = EFBIG;
		goto out;
	}
	/* Regular files are read in one go; others until EOF. */
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	for (;;) {
		if (len == cap) {
			char *nb;

			if (cap >= POLICY_FILE_MAX) {
				errno = EFBIG;
				goto out;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL)
				goto out;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0) {
			*out = buf;
			*outlen = len;
			buf = NULL;
			ret = 0;
			break;
		}
		len += (size_t)n;
	}
out:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return ret;
}

/* dir of `label` (or basedir at the top of a buffer) joined with `path`. */
static char *
include_join(const struct load_chain *ch, const char *label, const char *path)
{
	const char *slash;
	char *out;
	size_t dlen;
	int n;

	if (path[0] == '/')
		return strdup(path);
	if (ch->depth == 1 && ch->level[0].real == NULL) {
		dlen = strlen(ch->basedir);
		while (dlen > 1 && ch->basedir[dlen - 1] == '/')
			dlen--;
		n = asprintf(&out, "%.*s/%s", (int)dlen, ch->basedir, path);
	} else if ((slash = strrchr(label, '/')) != NULL) {
		n = asprintf(&out, "%.*s%s", (int)(slash - label + 1), label, path);
	} else
		n = asprintf(&out, "%s", path);
	return n < 0 ? NULL : out;
}

static void
include_cycle(struct policy_build *b, struct load_chain *ch, unsigned from,
    unsigned line, unsigned col, unsigned first, const char *label)
{
	char msg[1024];
	size_t o;
	unsigned i;

	o = (size_t)snprintf(msg, sizeof(msg), "include cycle: ");
	for (i = first; i < ch->depth && o < sizeof(msg); i++)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s -> ",
		    build_file_label(b, ch->level[i].file));
	if (o < sizeof(msg))
		snprintf(msg + o, sizeof(msg) - o, "%s", label);
	build_error_at(b, build_file_label(b, from), line, col, msg);
}

static void
load_include(struct policy_build *b, unsigned from, unsigned line,
    unsigned col, const char *path, size_t len)
{
	struct load_chain *ch = b->include_arg;
	char *rel = NULL, *label = NULL, *real = NULL, *text = NULL;
	size_t textlen;
	unsigned i;
	int file;

	if ((rel = strndup(path, len)) == NULL ||
	    (label = include_join(ch, build_file_label(b, from), rel)) == NULL) {
		b->fail = ENOMEM;
		goto out;
	}
	if (ch->depth > POLICY_INCLUDE_DEPTH) {
		build_error(b, from, line, col, "include depth over %d",
		    POLICY_INCLUDE_DEPTH);
		goto out;
	}
	if ((real = realpath(label, NULL)) == NULL) {
		build_error(b, from, line, col, "cannot include '%s': %s",
		    rel, strerror(errno));
		goto out;
	}
	for (i = 0; i < ch->depth; i++) {
		if (ch->level[i].real != NULL &&
		    strcmp(ch->level[i].real, real) == 0) {
			include_cycle(b, ch, from, line, col, i, label);
			goto out;
		}
	}
	if (read_file(label, &text, &textlen) == -1) {
		build_error(b, from, line, col, "cannot include '%s': %s",
		    rel, strerror(errno));
		goto out;
	}
	if ((file = build_file(b, label)) == -1)
		goto out;
	ch->level[ch->depth].real = real;
	ch->level[ch->depth].file = (unsigned)file;
	ch->depth++;
	parse_text(b, (unsigned)file, text, textlen);
	ch->depth--;
out:
	free(text);
	free(real);
	free(label);
	free(rel);
}

/* The name of a policy read from `path`: its base name without ".rules". */
static char *
name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base != NULL ? base + 1 : path;
	len = strlen(base);
	if (len > 6 && strcmp(base + len - 6, ".rules") == 0)
		len -= 6;
	return strndup(base, len);
}

static struct policy *
load(const char *label, const char *name, const char *text, size_t len,
    const char *real, const char *basedir, policy_error_fn err, void *arg)
{
	struct policy_build b;
	struct load_chain ch;
	char *derived = NULL;
	int file;

	if (name == NULL && (name = derived = name_from_path(label)) == NULL)
		return NULL;
	if (build_init(&b, name, err, arg) == -1) {
		free(derived);
		return NULL;
	}
	free(derived);
	memset(&ch, 0, sizeof(ch));
	ch.basedir = basedir;
	if (real != NULL || basedir != NULL) {
		b.include = load_include;
		b.include_arg = &ch;
	}
	if ((file = build_file(&b, label)) != -1) {
		/* The chain does not own the top level's realpath. */
		ch.level[0].real = (char *)(uintptr_t)real;
		ch.level[0].file = (unsigned)file;
		ch.depth = 1;
		parse_text(&b, (unsigned)file, text, len);
	}
	return build_finish(&b);
}

struct policy *
policy_load_file(const char *path, const char *name, policy_error_fn err,
    void *arg)
{
	struct policy *p = NULL;
	char *text = NULL, *real = NULL, msg[300];
	size_t len;
	int saved;

	if ((real = realpath(path, NULL)) == NULL ||
	    read_file(path, &text, &len) == -1) {
		saved = errno;
		snprintf(msg, sizeof(msg), "cannot read policy: %s",
		    strerror(saved));
		if (err != NULL)
			err(arg, path, 0, 0, msg);
		goto out;
	}
	p = load(path, name, text, len, real, NULL, err, arg);
	saved = errno;
out:
	free(text);
	free(real);
	errno = saved;
	return p;
}

struct policy *
policy_load_buffer(const char *label, const char *name, const char *text,
    size_t len, const char *basedir, policy_error_fn err, void *arg)
{
	if (label == NULL)
		label = "<inline>";
	return load(label, name, text, len, NULL, basedir, err, arg);
}
