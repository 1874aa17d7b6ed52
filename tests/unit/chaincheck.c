/*
 * The chain checker used by the writer's tests; deliberately written from
 * the schema text, not from the writer's code.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "chaincheck.h"

struct cfile {
	char		*name;
	char		*data;
	size_t		 len;
	int64_t		 first_seq;
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - *len < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap);
		}
		n = fread(buf + *len, 1, cap - *len, f);
		if (n == 0)
			break;
		*len += n;
	}
	fclose(f);
	return buf;
}

static void
sha256_hex(const char *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen;
	int i;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

const char *
chain_str(json_object *o, const char *path)
{
	char buf[128], *p, *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; p != NULL; p = dot) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot++ = '\0';
		if (!json_object_object_get_ex(o, p, &o))
			return NULL;
	}
	return json_object_get_type(o) == json_type_string ?
	    json_object_get_string(o) : NULL;
}

int64_t
chain_int(json_object *o, const char *path, int64_t dflt)
{
	char buf[128], *p, *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; p != NULL; p = dot) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot++ = '\0';
		if (!json_object_object_get_ex(o, p, &o))
			return dflt;
	}
	return json_object_get_type(o) == json_type_int ?
	    json_object_get_int64(o) : dflt;
}

static int
cmp_first_seq(const void *a, const void *b)
{
	const struct cfile *x = a, *y = b;

	return (x->first_seq > y->first_seq) - (x->first_seq < y->first_seq);
}

size_t
chain_count(const struct chain *c, const char *action)
{
	size_t i, n = 0;
	const char *a;

	for (i = 0; i < c->nlines; i++)
		if ((a = chain_str(c->obj[i], "event.action")) != NULL &&
		    strcmp(a, action) == 0)
			n++;
	return n;
}

int
chain_load(const char *dir, const char *stream, struct chain *c)
{
	char prefix[64], path[4096], hash[65], prev_hash[65];
	struct cfile *files = NULL;
	struct dirent *de;
	size_t nf = 0, i, cap_lines = 0;
	int64_t prev_seq = 0;
	DIR *d;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	memset(prev_hash, '0', 64);
	prev_hash[64] = '\0';
	snprintf(prefix, sizeof(prefix), "egress-%s.jsonl", stream);
	if ((d = opendir(dir)) == NULL) {
		snprintf(c->err, sizeof(c->err), "cannot open %s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		files = realloc(files, (nf + 1) * sizeof(*files));
		files[nf].name = strdup(de->d_name);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		files[nf].data = slurp(path, &files[nf].len);
		files[nf].first_seq = INT64_MAX;
		/* First seq of the file: of its first parseable line. */
		for (size_t off = 0; off < files[nf].len;) {
			char *nl = memchr(files[nf].data + off, '\n', files[nf].len - off);
			size_t end = nl ? (size_t)(nl - files[nf].data) : files[nf].len;
			json_object *o;
			char *tmp = strndup(files[nf].data + off, end - off);

			o = json_tokener_parse(tmp);
			free(tmp);
			off = end + 1;
			if (o == NULL)
				continue;
			files[nf].first_seq = chain_int(o, "agentgate.seq", INT64_MAX);
			json_object_put(o);
			break;
		}
		nf++;
	}
	closedir(d);
	qsort(files, nf, sizeof(*files), cmp_first_seq);
	c->nfiles = nf;
	c->files = calloc(nf + 1, sizeof(char *));
	for (i = 0; i < nf; i++) {
		struct cfile *f = &files[i];
		size_t off = 0, lineno = 0;

		c->files[i] = f->name;
		if (f->len > 0 && f->data[f->len - 1] != '\n')
			c->unterminated++;
		while (off < f->len) {
			char *nl = memchr(f->data + off, '\n', f->len - off);
			size_t end = nl ? (size_t)(nl - f->data) : f->len;
			char *text = strndup(f->data + off, end - off);
			json_object *o = json_tokener_parse(text);
			const char *ph, *st;
			int64_t seq;

			lineno++;
			if (o == NULL || json_object_get_type(o) != json_type_object) {
				c->bad_lines++;
				json_object_put(o);
				free(text);
				off = end + 1;
				continue;
			}
			seq = chain_int(o, "agentgate.seq", -1);
			ph = chain_str(o, "agentgate.prev_hash");
			st = chain_str(o, "agentgate.stream");
			if (rc == 0 && (st == NULL || strcmp(st, stream) != 0)) {
				snprintf(c->err, sizeof(c->err), "%s:%zu: stream %s",
				    f->name, lineno, st ? st : "(none)");
				rc = -1;
			}
			if (rc == 0 && seq != prev_seq + 1) {
				snprintf(c->err, sizeof(c->err), "%s:%zu: seq %lld after %lld",
				    f->name, lineno, (long long)seq, (long long)prev_seq);
				rc = -1;
			}
			if (rc == 0 && (ph == NULL || strcmp(ph, prev_hash) != 0)) {
				snprintf(c->err, sizeof(c->err), "%s:%zu: prev_hash %s, "
				    "previous line hashes to %s", f->name, lineno,
				    ph ? ph : "(none)", prev_hash);
				rc = -1;
			}
			sha256_hex(text, end - off, hash);
			memcpy(prev_hash, hash, sizeof(hash));
			prev_seq = seq;
			if (c->nlines == cap_lines) {
				cap_lines = cap_lines * 2 + 64;
				c->obj = realloc(c->obj, cap_lines * sizeof(*c->obj));
				c->file_of = realloc(c->file_of, cap_lines * sizeof(size_t));
			}
			c->obj[c->nlines] = o;
			c->file_of[c->nlines] = i;
			c->nlines++;
			free(text);
			off = end + 1;
		}
		free(f->data);
	}
	free(files);
	return rc;
}

void
chain_free(struct chain *c)
{
	size_t i;

	for (i = 0; i < c->nlines; i++)
		json_object_put(c->obj[i]);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	free(c->obj);
	free(c->file_of);
	memset(c, 0, sizeof(*c));
}
