/*
 * The hold table: a fixed array of flows (the cap), hash chains by index,
 * and reassembly by sequence number so that retransmitted or reordered
 * segments of a ClientHello land where they belong.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hold.h"
#include "httphead.h"
#include "tlshello.h"

#define HOLD_NONE	UINT32_MAX

struct hold_table {
	struct hold_flow	*f;
	uint32_t		*bucket;
	size_t			 max, nbuckets;	/* nbuckets: a power of two */
	size_t			 count;
	uint64_t		 seed;
	uint32_t		 free;
};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t
hold_hash(const struct hold_table *ht, const struct flow_key *k)
{
	uint64_t h = ht->seed, w;
	size_t i, n = addr_size(&k->src);

	for (i = 0; i < n; i += 4) {
		w = 0;
		memcpy(&w, k->src.u.bytes + i, 4);
		h = mix(h ^ w);
		w = 0;
		memcpy(&w, k->dst.u.bytes + i, 4);
		h = mix(h ^ w ^ ((uint64_t)i << 40));
	}
	h = mix(h ^ ((uint64_t)k->sport << 32 | (uint64_t)k->dport << 16 |
	    (uint64_t)k->proto << 8 | k->src.family));
	return (size_t)(h & (ht->nbuckets - 1));
}

static bool
key_equal(const struct flow_key *a, const struct flow_key *b)
{
	return a->proto == b->proto && a->sport == b->sport &&
	    a->dport == b->dport && addr_equal(&a->src, &b->src) &&
	    addr_equal(&a->dst, &b->dst);
}

struct hold_table *
hold_table_new(size_t max, uint64_t seed)
{
	struct hold_table *ht;
	size_t i;

	if (max == 0 || max >= HOLD_NONE) {
		errno = EINVAL;
		return NULL;
	}
	if ((ht = calloc(1, sizeof(*ht))) == NULL)
		return NULL;
	ht->max = max;
	ht->seed = seed;
	for (ht->nbuckets = 16; ht->nbuckets < max; ht->nbuckets *= 2)
		;
	ht->f = calloc(max, sizeof(*ht->f));
	ht->bucket = malloc(ht->nbuckets * sizeof(*ht->bucket));
	if (ht->f == NULL || ht->bucket == NULL) {
		hold_table_free(ht);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < ht->nbuckets; i++)
		ht->bucket[i] = HOLD_NONE;
	for (i = 0; i < max; i++)
		ht->f[i].hnext = i + 1 < max ? (uint32_t)(i + 1) : HOLD_NONE;
	ht->free = 0;
	return ht;
}

void
hold_table_free(struct hold_table *ht)
{
	size_t i;

	if (ht == NULL)
		return;
	if (ht->f != NULL)
		for (i = 0; i < ht->max; i++) {
			free(ht->f[i].buf);
			free(ht->f[i].have);
		}
	free(ht->f);
	free(ht->bucket);
	free(ht);
}

struct hold_flow *
hold_lookup(struct hold_table *ht, const struct flow_key *key)
{
	uint32_t i;

	if (ht->count == 0)
		return NULL;
	for (i = ht->bucket[hold_hash(ht, key)]; i != HOLD_NONE;
	    i = ht->f[i].hnext)
		if (key_equal(&ht->f[i].key, key))
			return &ht->f[i];
	return NULL;
}

struct hold_flow *
hold_insert(struct hold_table *ht, const struct flow_key *key,
    uint32_t syn_seq, uint64_t now_ms)
{
	struct hold_flow *f;
	size_t b;
	uint32_t i;

	if ((f = hold_lookup(ht, key)) != NULL) {
		f->seen_ms = now_ms;
		return f;
	}
	if (ht->free == HOLD_NONE) {
		errno = ENOSPC;
		return NULL;
	}
	i = ht->free;
	f = &ht->f[i];
	ht->free = f->hnext;
	memset(f, 0, sizeof(*f));
	f->key = *key;
	f->state = HOLD_SYN;
	/* The SYN takes one sequence number: payload starts after it. */
	f->isn = syn_seq + 1;
	f->start_ms = f->seen_ms = now_ms;
	b = hold_hash(ht, key);
	f->hnext = ht->bucket[b];
	ht->bucket[b] = i;
	ht->count++;
	return f;
}

/* Mark bytes [off, off + n) as present and advance the gap-free prefix. */
static void
hold_mark(struct hold_flow *f, size_t off, size_t n)
{
	size_t i;

	for (i = off; i < off + n; i++)
		f->have[i / 8] |= (uint8_t)(1u << (i % 8));
	while (f->contig < HOLD_BYTES_MAX &&
	    (f->have[f->contig / 8] & (1u << (f->contig % 8))))
		f->contig++;
}

int
hold_add(struct hold_flow *f, uint32_t id, bool ct, const struct packet *p,
    uint64_t now_ms)
{
	uint32_t off;
	size_t n;

	if (f->npkts == HOLD_PACKETS_MAX) {
		f->overflow = true;
		errno = ENOSPC;
		return -1;
	}
	if (f->buf == NULL) {
		f->buf = malloc(HOLD_BYTES_MAX);
		f->have = calloc(HOLD_BYTES_MAX / 8, 1);
		if (f->buf == NULL || f->have == NULL) {
			free(f->buf);
			free(f->have);
			f->buf = f->have = NULL;
			errno = ENOMEM;
			return -1;
		}
	}
	if (f->state != HOLD_HOLDING) {
		f->state = HOLD_HOLDING;
		f->start_ms = now_ms;
	}
	f->seen_ms = now_ms;
	f->pkts[f->npkts].id = id;
	f->pkts[f->npkts].ct = ct;
	f->npkts++;
	/* Unsigned distance: bytes before isn wrap to a huge offset. */
	off = p->tcp_seq - f->isn;
	if (p->payload_len > 0 && off < HOLD_BYTES_MAX) {
		n = p->payload_len;
		if (n > HOLD_BYTES_MAX - off)
			n = HOLD_BYTES_MAX - off;
		memcpy(f->buf + off, p->payload, n);
		hold_mark(f, off, n);
	}
	return 0;
}

enum hold_result
hold_examine(const struct hold_flow *f, struct hold_hello *h)
{
	struct tls_hello th;
	struct http_head hh;
	enum hold_result r;
	bool bound;

	memset(h, 0, sizeof(*h));
	/* Held as much as it may: whatever is still missing never comes. */
	bound = f->contig == HOLD_BYTES_MAX || f->overflow;
	if (f->contig == 0)
		return bound ? HOLD_INCOMPLETE : HOLD_NEED_MORE;
	switch (tlshello_parse(f->buf, f->contig, &th, NULL)) {
	case TLSHELLO_OK:
		h->kind = HOLD_KIND_TLS;
		if (!th.has_sni)
			return HOLD_UNNAMED;
		/* The parser refuses an empty or over-255 host_name. */
		memcpy(h->host, th.sni, th.sni_len);
		h->host[th.sni_len] = '\0';
		h->host_len = th.sni_len;
		return HOLD_NAMED;
	case TLSHELLO_NEED_MORE:
		h->kind = HOLD_KIND_TLS;
		return bound ? HOLD_INCOMPLETE : HOLD_NEED_MORE;
	case TLSHELLO_INVALID:
		h->kind = HOLD_KIND_TLS;
		h->error = th.error;
		return HOLD_INVALID;
	case TLSHELLO_NOT_TLS:
		break;
	}
	switch (httphead_parse((const char *)f->buf, f->contig, &hh)) {
	case HTTPHEAD_OK:
		h->kind = HOLD_KIND_HTTP;
		memcpy(h->method, hh.method, sizeof(h->method));
		memcpy(h->host, hh.host, hh.host_len);
		h->host[hh.host_len] = '\0';
		h->host_len = hh.host_len;
		r = hh.host_len > 0 ? HOLD_NAMED : HOLD_UNNAMED;
		break;
	case HTTPHEAD_NEED_MORE:
		h->kind = HOLD_KIND_HTTP;
		r = bound ? HOLD_INCOMPLETE : HOLD_NEED_MORE;
		break;
	case HTTPHEAD_INVALID:
		h->kind = HOLD_KIND_HTTP;
		h->error = hh.error;
		r = HOLD_INVALID;
		break;
	default:
		h->kind = HOLD_KIND_OTHER;
		r = HOLD_UNNAMED;
		break;
	}
	return r;
}

void
hold_remove(struct hold_table *ht, struct hold_flow *f)
{
	uint32_t i = (uint32_t)(f - ht->f), *pp;

	for (pp = &ht->bucket[hold_hash(ht, &f->key)]; *pp != HOLD_NONE;
	    pp = &ht->f[*pp].hnext) {
		if (*pp == i) {
			*pp = f->hnext;
			break;
		}
	}
	free(f->buf);
	free(f->have);
	memset(f, 0, sizeof(*f));
	f->hnext = ht->free;
	ht->free = i;
	ht->count--;
}

size_t
hold_expire(struct hold_table *ht, uint64_t now_ms,
    void (*expired)(void *arg, struct hold_flow *f), void *arg)
{
	struct hold_flow *f;
	size_t i, n = 0;

	for (i = 0; i < ht->max && ht->count > 0; i++) {
		f = &ht->f[i];
		if (f->state == HOLD_HOLDING &&
		    now_ms - f->start_ms >= HOLD_TIME_MS) {
			if (expired != NULL)
				expired(arg, f);
		} else if (!(f->state == HOLD_SYN &&
		    now_ms - f->seen_ms >= HOLD_SYN_IDLE_MS))
			continue;
		hold_remove(ht, f);
		n++;
	}
	return n;
}

size_t
hold_count(const struct hold_table *ht)
{
	return ht->count;
}

const char *
hold_result_name(enum hold_result r)
{
	switch (r) {
	case HOLD_NEED_MORE:
		return "need-more";
	case HOLD_NAMED:
		return "named";
	case HOLD_UNNAMED:
		return "unnamed";
	case HOLD_INVALID:
		return "invalid";
	case HOLD_INCOMPLETE:
		return "incomplete";
	}
	return "unknown";
}
