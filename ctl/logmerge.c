/*
 * The k-way merge of a telemetry folder's streams: each stream is already in
 * order, so a binary heap of one head record per stream yields the whole
 * folder in (@timestamp, stream, seq) order while holding one line each.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logread.h"

static bool
lr_head_less(const struct lr_head *a, const struct lr_head *b)
{
	int c;

	if (a->rec.ts != b->rec.ts)
		return a->rec.ts < b->rec.ts;
	if ((c = strcmp(a->cur.st->name, b->cur.st->name)) != 0)
		return c < 0;
	return a->rec.seq < b->rec.seq;
}

static void
lr_heap_up(struct lr_merge *m, size_t i)
{
	size_t p, t;

	while (i > 0) {
		p = (i - 1) / 2;
		if (!lr_head_less(&m->heads[m->heap[i]], &m->heads[m->heap[p]]))
			break;
		t = m->heap[i];
		m->heap[i] = m->heap[p];
		m->heap[p] = t;
		i = p;
	}
}

static void
lr_heap_down(struct lr_merge *m, size_t i)
{
	size_t l, r, s, t;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		s = i;
		if (l < m->nheap &&
		    lr_head_less(&m->heads[m->heap[l]], &m->heads[m->heap[s]]))
			s = l;
		if (r < m->nheap &&
		    lr_head_less(&m->heads[m->heap[r]], &m->heads[m->heap[s]]))
			s = r;
		if (s == i)
			return;
		t = m->heap[i];
		m->heap[i] = m->heap[s];
		m->heap[s] = t;
		i = s;
	}
}

/* Advance one stream to its next matching record: true when it has one. */
static bool
lr_head_fill(struct lr_merge *m, struct lr_head *h)
{
	const struct lr_file *f;
	enum lr_next r;

	for (;;) {
		r = lr_cursor_next(&h->cur, m->follow, &h->line);
		if (r == LR_END)
			return false;
		if (r == LR_ERROR) {
			log_warn("%s", h->cur.st->files[h->cur.file].path);
			return false;
		}
		f = &h->cur.st->files[h->line.file];
		/* Whatever cannot be an object is reported even when a filter
		 * would skip it unparsed. */
		if (h->line.len < 2 || h->line.buf[0] != '{' ||
		    h->line.buf[h->line.len - 1] != '}' || !h->line.newline) {
			log_warnx("%s:%" PRIu64 ": skipped: %s", f->path,
			    h->line.lineno, h->line.newline ?
			    "not a JSON object" : "torn line (no newline)");
			m->malformed++;
			continue;
		}
		if (!filter_prematch(m->filter, h->line.buf, h->line.len))
			continue;
		if (logrec_parse(m->tok, h->line.buf, h->line.len,
		    &h->rec) == -1) {
			log_warnx("%s:%" PRIu64 ": skipped: not a valid event "
			    "(JSON object with @timestamp)", f->path,
			    h->line.lineno);
			m->malformed++;
			continue;
		}
		if (filter_match(m->filter, &h->rec))
			return true;
		logrec_clear(&h->rec);
	}
}

static int
lr_merge_grow(struct lr_merge *m)
{
	struct lr_head *nh;
	size_t *np, i;

	if (m->dir->nstreams > m->nheads) {
		nh = reallocarray(m->heads, m->dir->nstreams, sizeof(*nh));
		if (nh == NULL)
			return -1;
		m->heads = nh;
		np = reallocarray(m->heap, m->dir->nstreams, sizeof(*np));
		if (np == NULL)
			return -1;
		m->heap = np;
		for (i = m->nheads; i < m->dir->nstreams; i++) {
			memset(&nh[i], 0, sizeof(nh[i]));
			lr_cursor_init(&nh[i].cur, &m->dir->streams[i]);
		}
		m->nheads = m->dir->nstreams;
	}
	/* The streams array may have moved. */
	for (i = 0; i < m->nheads; i++)
		m->heads[i].cur.st = &m->dir->streams[i];
	return 0;
}

int
lr_merge_init(struct lr_merge *m, struct lr_dir *d, const struct log_filter *f,
    bool follow)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->dir = d;
	m->filter = f;
	m->follow = follow;
	if ((m->tok = lr_tokener_new()) == NULL)
		return -1;
	if (lr_merge_grow(m) == -1) {
		lr_merge_free(m);
		return -1;
	}
	for (i = 0; i < m->nheads; i++) {
		if (lr_head_fill(m, &m->heads[i])) {
			m->heap[m->nheap] = i;
			lr_heap_up(m, m->nheap++);
		}
	}
	return 0;
}

void
lr_merge_free(struct lr_merge *m)
{
	size_t i;

	for (i = 0; i < m->nheads; i++) {
		logrec_clear(&m->heads[i].rec);
		lr_cursor_free(&m->heads[i].cur);
	}
	free(m->heads);
	free(m->heap);
	if (m->tok != NULL)
		json_tokener_free(m->tok);
	memset(m, 0, sizeof(*m));
}

const struct lr_head *
lr_merge_next(struct lr_merge *m)
{
	struct lr_head *h;

	if (m->given && m->nheap > 0) {
		/* The head handed out last time: replace it. */
		h = &m->heads[m->heap[0]];
		logrec_clear(&h->rec);
		if (lr_head_fill(m, h))
			lr_heap_down(m, 0);
		else if (--m->nheap > 0) {
			m->heap[0] = m->heap[m->nheap];
			lr_heap_down(m, 0);
		}
	}
	m->given = false;
	if (m->nheap == 0)
		return NULL;
	m->given = true;
	return &m->heads[m->heap[0]];
}

int
lr_merge_refill(struct lr_merge *m)
{
	size_t i, j;
	bool queued;

	if (lr_dir_rescan(m->dir) == -1 || lr_merge_grow(m) == -1)
		return -1;
	for (i = 0; i < m->nheads; i++) {
		queued = false;
		for (j = 0; j < m->nheap; j++)
			if (m->heap[j] == i)
				queued = true;
		if (queued)
			continue;
		if (lr_head_fill(m, &m->heads[i])) {
			m->heap[m->nheap] = i;
			lr_heap_up(m, m->nheap++);
		}
	}
	return 0;
}
