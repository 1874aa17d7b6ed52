/*
 * Telemetry writer benchmark: events/s and p50/p99 emit latency with fsync
 * never / interval / always, beside a baseline of plain write(2) of a line
 * of the same size, and with several threads sharing one writer. Not a
 * test: `make bench-telemetry`; figures go to docs/performance.md.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "telemetry.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void
report(const char *name, uint64_t *lat, size_t n, uint64_t total_ns)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("%-28s %9zu events %10.0f events/s  p50 %6.2f us  p99 %7.2f us  max %8.1f us\n",
	    name, n, (double)n * 1e9 / (double)total_ns, (double)lat[n / 2] / 1e3,
	    (double)lat[n * 99 / 100] / 1e3, (double)lat[n - 1] / 1e3);
}

/* A realistic egress event: TLS, allowed, rule, addresses, SNI. */
static void
sample_event(struct ag_event *ev, struct ag_addr *src, struct ag_addr *dst)
{
	event_init(ev, EVENT_EGRESS);
	ev->outcome = OUTCOME_ALLOWED;
	ev->verdict = VERDICT_ALLOW;
	ev->task_id = "t-4f2a9c";
	ev->policy = "default";
	ev->rule_file = "/etc/agentgate/policies/default.rules";
	ev->rule_line = 12;
	ev->rule_text = "allow *.github.example.test";
	ev->src_ip = *src;
	ev->src_port = 40512;
	ev->dst_ip = *dst;
	ev->dst_port = 443;
	ev->dst_domain = "api.github.example.test";
	ev->transport = TRANSPORT_TCP;
	ev->protocol = PROTOCOL_TLS;
	ev->tls_server_name = "api.github.example.test";
	ev->src_bytes = 1834;
	ev->dst_bytes = 48213;
	ev->duration_ns = 231000000;
}

static size_t
run_writer(const char *dir, const char *stream, enum telemetry_fsync mode,
    size_t n, const char *name)
{
	struct telemetry_config cfg;
	struct telemetry_stats st;
	struct ag_addr src, dst;
	struct ag_event ev;
	struct telemetry *t;
	uint64_t *lat, t0, start;
	size_t i;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.family = dst.family = AF_INET;
	inet_pton(AF_INET, "198.18.1.2", &src.u.v4);
	inet_pton(AF_INET, "198.19.0.10", &dst.u.v4);
	sample_event(&ev, &src, &dst);
	telemetry_config_init(&cfg);
	cfg.dir = dir;
	cfg.service = "agentgate-bench";
	cfg.fsync = mode;
	if ((t = telemetry_open(&cfg, stream)) == NULL)
		fatal("telemetry_open %s", dir);
	lat = calloc(n, sizeof(*lat));
	start = now_ns();
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (telemetry_emit(t, &ev) != TELEMETRY_WRITTEN)
			fatalx("emit failed");
		lat[i] = now_ns() - t0;
	}
	report(name, lat, n, now_ns() - start);
	telemetry_stats(t, &st);
	telemetry_close(t);
	free(lat);
	return (size_t)st.fsyncs;
}

static void
run_baseline(const char *dir, size_t linelen, size_t n, int sync)
{
	char path[512], *line;
	uint64_t *lat, t0, start;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "%s/baseline-%d.jsonl", dir, sync);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		fatal("%s", path);
	line = malloc(linelen);
	memset(line, 'x', linelen - 1);
	line[linelen - 1] = '\n';
	lat = calloc(n, sizeof(*lat));
	start = now_ns();
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (write(fd, line, linelen) != (ssize_t)linelen)
			fatal("write");
		if (sync)
			fdatasync(fd);
		lat[i] = now_ns() - t0;
	}
	report(sync ? "baseline write+fdatasync" : "baseline write(2)", lat, n,
	    now_ns() - start);
	close(fd);
	free(lat);
	free(line);
}

/* Where an emit's time goes without I/O: building the line, hashing it. */
static void
run_parts(size_t n)
{
	struct event_stamp stamp = { "agentgate-bench", "gw1", "bench", 1,
	    "0000000000000000000000000000000000000000000000000000000000000000", 0 };
	struct ag_addr src, dst;
	struct ag_event ev;
	struct json_buf j;
	unsigned char md[32];
	unsigned int mdlen;
	EVP_MD *sha = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t start, ser, hash;
	size_t i;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.family = dst.family = AF_INET;
	sample_event(&ev, &src, &dst);
	json_init(&j, NULL, 0);
	start = now_ns();
	for (i = 0; i < n; i++) {
		json_reset(&j);
		event_serialize(&ev, &stamp, &j);
		event_finish(&stamp, &j);
	}
	ser = now_ns() - start;
	start = now_ns();
	for (i = 0; i < n; i++) {
		EVP_DigestInit_ex(ctx, sha, NULL);
		EVP_DigestUpdate(ctx, j.data, j.len);
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	}
	hash = now_ns() - start;
	printf("parts (no I/O): serialise %.2f us, SHA-256 %.2f us per %zu-byte line\n",
	    (double)ser / (double)n / 1e3, (double)hash / (double)n / 1e3, j.len);
	json_free(&j);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(sha);
}

struct thread_arg {
	struct telemetry	*t;
	size_t			 n;
};

static void *
thread_run(void *p)
{
	struct thread_arg *a = p;
	struct ag_addr src, dst;
	struct ag_event ev;
	size_t i;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.family = dst.family = AF_INET;
	inet_pton(AF_INET, "198.18.1.2", &src.u.v4);
	inet_pton(AF_INET, "198.19.0.10", &dst.u.v4);
	sample_event(&ev, &src, &dst);
	for (i = 0; i < a->n; i++)
		telemetry_emit(a->t, &ev);
	return NULL;
}

static void
run_threads(const char *dir, int nthreads, size_t per)
{
	struct telemetry_config cfg;
	struct thread_arg a = { NULL, per };
	pthread_t th[16];
	uint64_t start, ns;
	char stream[16];
	int i;

	telemetry_config_init(&cfg);
	cfg.dir = dir;
	cfg.service = "agentgate-bench";
	snprintf(stream, sizeof(stream), "threads%d", nthreads);
	if ((a.t = telemetry_open(&cfg, stream)) == NULL)
		fatal("telemetry_open");
	start = now_ns();
	for (i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, thread_run, &a);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	ns = now_ns() - start;
	telemetry_close(a.t);
	printf("interval, %d threads %*s %9zu events %10.0f events/s\n", nthreads,
	    11, "", per * (size_t)nthreads, (double)(per * (size_t)nthreads) * 1e9 / (double)ns);
}

int
main(int argc, char **argv)
{
	char dir[] = "/var/tmp/ag-bench-telemetry-XXXXXX", cmd[128], path[256];
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	size_t nsync = n / 20 > 0 ? n / 20 : 1, linelen = 0, fsyncs;
	struct statfs sfs;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	log_init("bench-telemetry", LOG_LEVEL_WARN, 0);
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	if (statfs(dir, &sfs) == 0)
		printf("folder %s (filesystem type 0x%lx), %ld CPUs\n", dir,
		    (unsigned long)sfs.f_type, sysconf(_SC_NPROCESSORS_ONLN));

	run_parts(n);
	run_writer(dir, "never", TELEMETRY_FSYNC_NEVER, n, "telemetry fsync=never");
	fsyncs = run_writer(dir, "interval", TELEMETRY_FSYNC_INTERVAL, n,
	    "telemetry fsync=interval");
	printf("%-28s (%zu fdatasync calls by the thread)\n", "", fsyncs);
	run_writer(dir, "always", TELEMETRY_FSYNC_ALWAYS, nsync, "telemetry fsync=always");

	/* The same line size as the writer's egress lines. */
	snprintf(path, sizeof(path), "%s/egress-never.jsonl", dir);
	if ((f = fopen(path, "r")) != NULL) {
		while ((len = getline(&line, &cap, f)) != -1)
			linelen = (size_t)len;	/* the last one: an egress line */
		fclose(f);
	}
	free(line);
	if (linelen == 0)
		linelen = 600;
	printf("line size %zu bytes\n", linelen);
	run_baseline(dir, linelen, n, 0);
	run_baseline(dir, linelen, nsync, 1);
	run_threads(dir, 2, n / 2);
	run_threads(dir, 4, n / 4);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
