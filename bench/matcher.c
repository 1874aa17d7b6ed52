/*
 * Benchmark of the policy matcher (not a test): builds a deterministic
 * policy of 1,000,000 domain rules and 10,000 prefixes, and reports build
 * time, memory per rule and lookups/s against the floor of a plain
 * one-probe exact-match hash set. Figures go to docs/performance.md.
 */
#include "config.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "policy.h"

#define NQUERY		(1u << 20)	/* distinct queries per kind */
#define NRUNS		3

struct bench {
	size_t		 nlookup;	/* lookups per timed run */
	uint64_t	 seed;
	size_t		 nnames, ncidrs;
	char		**names;	/* rule names (wildcards: their suffix) */
	unsigned char	*wild;		/* 1: the rule is *.name */
	size_t		 name_bytes;
	char		**hits, **misses;
	struct ag_addr	*addrs;
};

static uint64_t
rnd(struct bench *b)
{
	/* xorshift64*: deterministic across runs and machines. */
	b->seed ^= b->seed >> 12;
	b->seed ^= b->seed << 25;
	b->seed ^= b->seed >> 27;
	return b->seed * 0x2545f4914f6cdd1dULL;
}

static const char *tlds[] = { "com", "net", "org", "io", "dev", "de", "uk",
    "fr", "co", "app", "cloud", "info" };
#define NTLDS	(sizeof(tlds) / sizeof(tlds[0]))

/* A label of 3..12 letters and digits, mostly letters, like real ones. */
static size_t
rnd_label(struct bench *b, char *out)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzaeiouaeiou0123456789";
	size_t len = 3 + rnd(b) % 10, i;

	for (i = 0; i < len; i++)
		out[i] = alpha[rnd(b) % (sizeof(alpha) - 1 - (i == 0 ? 10 : 0))];
	return len;
}

/* A name of `labels` labels ending in a known TLD. */
static char *
rnd_name(struct bench *b, unsigned labels)
{
	char buf[256];
	size_t o = 0;
	unsigned i;

	for (i = 0; i + 1 < labels; i++) {
		o += rnd_label(b, buf + o);
		buf[o++] = '.';
	}
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s", tlds[rnd(b) % NTLDS]);
	return strndup(buf, o);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static char *
policy_text(struct bench *b, size_t *len)
{
	size_t cap = b->nnames * 40 + b->ncidrs * 60, o = 0, i;
	char *text = malloc(cap);

	if (text == NULL)
		return NULL;
	for (i = 0; i < b->nnames; i++)
		o += (size_t)snprintf(text + o, cap - o, "allow %s%s\n",
		    b->wild[i] ? "*." : "", b->names[i]);
	for (i = 0; i < b->ncidrs; i++) {
		struct ag_cidr c;
		char a[AG_ADDR_STRLEN];
		uint8_t bytes[16];
		unsigned k;

		memset(&c, 0, sizeof(c));
		for (k = 0; k < 16; k++)
			bytes[k] = (uint8_t)rnd(b);
		if (i % 4 != 0) {
			uint32_t v4;

			c.len = (uint8_t)(8 + rnd(b) % 25);
			memcpy(&v4, bytes, 4);
			addr_from_v4(v4, &c.addr);
			for (k = c.len; k < 32; k++)
				c.addr.u.bytes[k / 8] &= (uint8_t)~(0x80 >> (k % 8));
		} else {
			bytes[0] = 0x20;	/* 2000::/3, never mapped */
			c.len = (uint8_t)(16 + rnd(b) % 113);
			addr_from_v6(bytes, &c.addr);
			for (k = c.len; k < 128; k++)
				c.addr.u.bytes[k / 8] &= (uint8_t)~(0x80 >> (k % 8));
		}
		o += (size_t)snprintf(text + o, cap - o, "%s %s/%u port 443\n",
		    i % 2 ? "deny" : "allow", addr_format(&c.addr, a, sizeof(a)),
		    c.len);
		b->addrs[i % NQUERY] = c.addr;
	}
	*len = o;
	return text;
}

/* The floor: a plain open-addressing exact-match set, one probe per
 * lookup at this load, with the matcher's hash function. */
struct floor_entry {
	uint64_t	 hash;
	const char	*name;
};

struct floor_set {
	struct floor_entry	*slots;
	size_t			 mask;
};

static uint64_t
floor_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void
floor_build(struct floor_set *f, char **names, size_t n)
{
	size_t cap = 8, i, s;

	while (cap < n * 2)
		cap *= 2;
	f->slots = calloc(cap, sizeof(*f->slots));
	f->mask = cap - 1;
	for (i = 0; i < n; i++) {
		uint64_t h = floor_hash(names[i], strlen(names[i]));

		for (s = h & f->mask; f->slots[s].name != NULL; s = (s + 1) & f->mask)
			;
		f->slots[s].hash = h;
		f->slots[s].name = names[i];
	}
}

static int
floor_lookup(const struct floor_set *f, const char *q)
{
	size_t len = strlen(q), s;
	uint64_t h = floor_hash(q, len);

	for (s = h & f->mask; f->slots[s].name != NULL; s = (s + 1) & f->mask)
		if (f->slots[s].hash == h && memcmp(f->slots[s].name, q, len + 1) == 0)
			return 1;
	return 0;
}

/* One timed run of nlookup lookups; returns lookups/s. */
static double
run_policy(const struct policy *p, char **q, size_t nlookup, size_t *allowed)
{
	size_t i, n = 0;
	double t = now();

	for (i = 0; i < nlookup; i++)
		n += policy_match_name(p, q[i & (NQUERY - 1)],
		    POLICY_PROTO_TCP, 443).action == POLICY_ALLOW;
	t = now() - t;
	*allowed = n;
	return (double)nlookup / t;
}

static double
run_floor(const struct floor_set *f, char **q, size_t nlookup, size_t *found)
{
	size_t i, n = 0;
	double t = now();

	for (i = 0; i < nlookup; i++)
		n += (size_t)floor_lookup(f, q[i & (NQUERY - 1)]);
	t = now() - t;
	*found = n;
	return (double)nlookup / t;
}

/* Best of NRUNS for the matcher and the floor, runs interleaved so that
 * a change in machine load hits both alike. */
static void
time_both(const struct policy *p, const struct floor_set *f, char **q,
    size_t nlookup, double *ours, double *floor_rate, size_t *allowed)
{
	size_t found;
	unsigned run;
	double r;

	*ours = *floor_rate = 0;
	for (run = 0; run < NRUNS; run++) {
		if ((r = run_policy(p, q, nlookup, allowed)) > *ours)
			*ours = r;
		if ((r = run_floor(f, q, nlookup, &found)) > *floor_rate)
			*floor_rate = r;
	}
}

static double
time_addrs(const struct policy *p, const struct ag_addr *a, size_t nlookup)
{
	double best = 0, t;
	unsigned run;
	size_t i, n = 0;

	for (run = 0; run < NRUNS; run++) {
		t = now();
		for (i = 0; i < nlookup; i++)
			n += policy_match_addr(p, &a[i & (NQUERY - 1)],
			    POLICY_PROTO_TCP, 443).rule != NULL;
		t = now() - t;
		if (nlookup / t > best)
			best = nlookup / t;
	}
	if (n == 0)
		fprintf(stderr, "matcher: no address hit\n");
	return best;
}

static void
usage(void)
{
	fprintf(stderr, "usage: matcher [-n domain-rules] [-c cidrs] [-l lookups]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct floor_set fl;
	struct policy *p;
	char *text, buf[300];
	size_t len, i, heap0, heap1, allowed;
	double t, hit_ours, hit_floor, miss_ours, miss_floor, addr_rate;
	int ch;

	memset(&b, 0, sizeof(b));
	b.seed = 0x6167656e74676174ULL;	/* "agentgat" */
	b.nnames = 1000000;
	b.ncidrs = 10000;
	b.nlookup = 5000000;
	while ((ch = getopt(argc, argv, "n:c:l:")) != -1) {
		switch (ch) {
		case 'n':
			b.nnames = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			b.ncidrs = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			b.nlookup = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (b.nnames == 0)
		usage();
	b.names = calloc(b.nnames, sizeof(*b.names));
	b.wild = calloc(b.nnames, 1);
	b.hits = calloc(NQUERY, sizeof(*b.hits));
	b.misses = calloc(NQUERY, sizeof(*b.misses));
	b.addrs = calloc(NQUERY, sizeof(*b.addrs));
	if (!b.names || !b.wild || !b.hits || !b.misses || !b.addrs)
		return 1;
	/* 70% exact names, 30% wildcards; 2 to 4 labels. */
	for (i = 0; i < b.nnames; i++) {
		unsigned r = (unsigned)(rnd(&b) % 100);

		b.names[i] = rnd_name(&b, r < 45 ? 2 : r < 85 ? 3 : 4);
		b.wild[i] = rnd(&b) % 10 < 3;
		b.name_bytes += strlen(b.names[i]);
	}
	if ((text = policy_text(&b, &len)) == NULL)
		return 1;
	/* Address queries: the prefixes' own addresses, repeated. */
	for (i = b.ncidrs; i < NQUERY && b.ncidrs > 0; i++)
		b.addrs[i] = b.addrs[rnd(&b) % b.ncidrs];
	/* Half the hits are exact names, half names under wildcards. */
	for (i = 0; i < NQUERY; i++) {
		size_t k = rnd(&b) % b.nnames;
		char lab[16];

		if (b.wild[k]) {
			lab[rnd_label(&b, lab)] = '\0';
			snprintf(buf, sizeof(buf), "%s.%s", lab, b.names[k]);
			b.hits[i] = strdup(buf);
		} else
			b.hits[i] = strdup(b.names[k]);
		b.misses[i] = rnd_name(&b, 2 + (unsigned)(rnd(&b) % 3));
	}

	heap0 = heap_used();
	t = now();
	p = policy_load_buffer("bench.rules", "bench", text, len, NULL, NULL, NULL);
	t = now() - t;
	heap1 = heap_used();
	if (p == NULL) {
		perror("matcher: policy_load_buffer");
		return 1;
	}
	free(text);
	printf("rules:              %zu (%zu names, %zu prefixes)\n",
	    policy_rule_count(p), b.nnames, b.ncidrs);
	printf("build time:         %.3f s\n", t);
	printf("memory:             %.1f MB (%.1f B/rule beyond %zu name bytes)\n",
	    (double)(heap1 - heap0) / 1e6,
	    ((double)(heap1 - heap0) - (double)b.name_bytes) /
	    (double)policy_rule_count(p), b.name_bytes);

	floor_build(&fl, b.names, b.nnames);
	time_both(p, &fl, b.hits, b.nlookup, &hit_ours, &hit_floor, &allowed);
	printf("hits allowed:       %zu of %zu\n", allowed, b.nlookup);
	time_both(p, &fl, b.misses, b.nlookup, &miss_ours, &miss_floor, &allowed);
	printf("misses allowed:     %zu of %zu\n", allowed, b.nlookup);
	addr_rate = time_addrs(p, b.addrs, b.nlookup / 5);
	printf("hit lookups/s:      %.2f M (floor %.2f M, ratio %.2f)\n",
	    hit_ours / 1e6, hit_floor / 1e6, hit_ours / hit_floor);
	printf("miss lookups/s:     %.2f M (floor %.2f M, ratio %.2f)\n",
	    miss_ours / 1e6, miss_floor / 1e6, miss_ours / miss_floor);
	printf("address lookups/s:  %.2f M\n", addr_rate / 1e6);

	policy_unref(p);
	free(fl.slots);
	for (i = 0; i < b.nnames; i++)
		free(b.names[i]);
	for (i = 0; i < NQUERY; i++) {
		free(b.hits[i]);
		free(b.misses[i]);
	}
	free(b.names);
	free(b.wild);
	free(b.hits);
	free(b.misses);
	free(b.addrs);
	return 0;
}
