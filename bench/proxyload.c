/*
 * bench/proxyload: the origin server and the load generator of
 * bench/proxy.sh (docs/performance.md, "Proxy"). Every connection opens
 * with a real TLS handshake (OpenSSL, SNI, certificate verified); after it
 * the bytes are raw, so that the relays are measured, not AES. Not a test.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/*
 * After the handshake the client sends one command byte and a newline:
 *   B  the origin sends bulk bytes until the client goes away
 *   U  the client sends bulk bytes; the origin reads until EOF
 *   S  the origin answers SMALL_LEN bytes and closes (a small GET)
 *   I  the origin answers one byte, then the connection stays idle
 */
#define SMALL_LEN	100
#define BULK_BUF	(256 * 1024)
#define IO_TIMEOUT_S	10
#define MAX_THREADS	256
#define MAX_SAMPLES	1000000

struct opts {
	const char	*mode;
	const char	*addr, *sni, *ca, *cert, *key;
	uint16_t	 port;
	int		 threads;	/* streams, clients or server threads */
	int		 seconds;
	long		 count;		/* requests (lat) or connections (idle) */
	bool		 no_sni;	/* -N: a ClientHello without SNI */
};

struct ctx {
	struct opts		 o;
	SSL_CTX			*ssl;
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	int			 lfd;		/* serve: listening socket */
	int			 park;		/* serve: epoll of idle connections */
	pthread_barrier_t	 go;		/* bulk: all streams ready */
	atomic_bool		 stop;
	atomic_ullong		 bytes, done, failed;
	uint64_t		 elapsed;	/* ns, of run_threads */
	int			*idle_fds;
	atomic_long		 idle_next;
	unsigned char		 buf[SMALL_LEN];
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "proxyload: %s: %s\n", what, strerror(errno));
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void
sock_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S, .tv_usec = 0 };
	int one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
write_all(int fd, const void *p, size_t len)
{
	const unsigned char *b = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, b, len)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* --- the origin --- */

static void
serve_one(struct ctx *c, int fd, unsigned char *bulk)
{
	struct epoll_event ev;
	SSL *s;
	char cmd[2];
	ssize_t n;
	int ok;

	sock_timeouts(fd);
	if ((s = SSL_new(c->ssl)) == NULL)
		goto out;
	SSL_set_fd(s, fd);
	ok = SSL_accept(s) == 1;
	/* No close_notify: the stream goes on raw, and nothing was read
	 * ahead (read-ahead is off), so the command is still in the socket. */
	SSL_free(s);
	if (!ok)
		goto out;
	for (size_t got = 0; got < sizeof(cmd); got += (size_t)n)
		if ((n = read(fd, cmd + got, sizeof(cmd) - got)) <= 0)
			goto out;
	switch (cmd[0]) {
	case 'B':
		while (write_all(fd, bulk, BULK_BUF) == 0)
			;
		break;
	case 'U':
		while (read(fd, bulk, BULK_BUF) > 0)
			;
		break;
	case 'S':
		(void)write_all(fd, c->buf, SMALL_LEN);
		break;
	case 'I':
		if (write_all(fd, "k", 1) == -1)
			break;
		/* Parked: closed when the client goes. */
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.fd = fd;
		if (epoll_ctl(c->park, EPOLL_CTL_ADD, fd, &ev) == 0)
			return;
		break;
	}
out:
	close(fd);
}

static void *
serve_thread(void *arg)
{
	struct ctx *c = arg;
	unsigned char *bulk;
	int fd;

	if ((bulk = calloc(1, BULK_BUF)) == NULL)
		die("calloc");
	for (;;) {
		if ((fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE)
				usleep(10000);
			continue;
		}
		serve_one(c, fd, bulk);
	}
	return NULL;
}

static void
serve(struct ctx *c)
{
	struct epoll_event evs[256];
	pthread_t t;
	pthread_attr_t at;
	int i, n, one = 1;

	c->ssl = SSL_CTX_new(TLS_server_method());
	if (c->ssl == NULL ||
	    SSL_CTX_use_certificate_chain_file(c->ssl, c->o.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(c->ssl, c->o.key, SSL_FILETYPE_PEM) != 1)
		die("server certificate");
	/* Tickets would follow the handshake and mix with the raw bytes. */
	SSL_CTX_set_num_tickets(c->ssl, 0);
	SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
	memset(c->buf, 'x', sizeof(c->buf));
	if ((c->lfd = socket(c->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(c->lfd, (struct sockaddr *)&c->sa, c->salen) == -1 ||
	    listen(c->lfd, 4096) == -1)
		die("listen");
	if ((c->park = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll");
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	for (i = 0; i < c->o.threads; i++)
		if (pthread_create(&t, &at, serve_thread, c) != 0)
			die("pthread_create");
	printf("serving %s port %u\n", c->o.addr, c->o.port);
	fflush(stdout);
	for (;;) {
		if ((n = epoll_wait(c->park, evs, 256, -1)) == -1 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			(void)epoll_ctl(c->park, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
			close(evs[i].data.fd);
		}
	}
}

/* --- the client --- */

/* A connection with a completed handshake and the command sent, or -1. */
static int
client_open(struct ctx *c, char cmd)
{
	char line[2] = { cmd, '\n' };
	SSL *s = NULL;
	int fd, ok = 0;

	if ((fd = socket(c->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	sock_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&c->sa, c->salen) == -1)
		goto out;
	if ((s = SSL_new(c->ssl)) == NULL)
		goto out;
	SSL_set_fd(s, fd);
	if ((!c->o.no_sni && SSL_set_tlsext_host_name(s, c->o.sni) != 1) ||
	    SSL_set1_host(s, c->o.sni) != 1)
		goto out;
	if (SSL_connect(s) != 1)
		goto out;
	ok = write_all(fd, line, sizeof(line)) == 0;
out:
	SSL_free(s);
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One small request: handshake, SMALL_LEN bytes back, EOF. */
static int
client_small(struct ctx *c)
{
	unsigned char b[SMALL_LEN * 2];
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = client_open(c, 'S')) == -1)
		return -1;
	while ((n = read(fd, b, sizeof(b))) > 0)
		got += (size_t)n;
	close(fd);
	return n == 0 && got == SMALL_LEN ? 0 : -1;
}

static void *
bulk_thread(void *arg)
{
	struct ctx *c = arg;
	unsigned char *b;
	uint64_t total = 0;
	ssize_t n;
	int fd, up = strcmp(c->o.mode, "upload") == 0;

	if ((b = calloc(1, BULK_BUF)) == NULL)
		die("calloc");
	fd = client_open(c, up ? 'U' : 'B');
	if (fd == -1)
		atomic_fetch_add(&c->failed, 1);
	pthread_barrier_wait(&c->go);
	while (fd != -1 && !atomic_load(&c->stop)) {
		n = up ? write(fd, b, BULK_BUF) : read(fd, b, BULK_BUF);
		if (n <= 0) {
			atomic_fetch_add(&c->failed, 1);
			break;
		}
		/* Only what arrived inside the measured window. */
		if (!atomic_load(&c->stop))
			total += (uint64_t)n;
	}
	atomic_fetch_add(&c->bytes, total);
	if (fd != -1)
		close(fd);
	free(b);
	return NULL;
}

static void *
rate_thread(void *arg)
{
	struct ctx *c = arg;

	while (!atomic_load(&c->stop)) {
		if (client_small(c) == -1)
			atomic_fetch_add(&c->failed, 1);
		else if (!atomic_load(&c->stop))	/* inside the window */
			atomic_fetch_add(&c->done, 1);
	}
	return NULL;
}

static void *
idle_thread(void *arg)
{
	struct ctx *c = arg;
	long i;
	char k;
	int fd;

	while ((i = atomic_fetch_add(&c->idle_next, 1)) < c->o.count) {
		fd = client_open(c, 'I');
		if (fd != -1 && read(fd, &k, 1) != 1) {
			close(fd);
			fd = -1;
		}
		if (fd == -1)
			atomic_fetch_add(&c->failed, 1);
		c->idle_fds[i] = fd;
	}
	return NULL;
}

static void
run_threads(struct ctx *c, void *(*fn)(void *), int n, bool timed)
{
	pthread_t t[MAX_THREADS];
	uint64_t t0;
	int i;

	if (pthread_barrier_init(&c->go, NULL, (unsigned)n + 1) != 0)
		die("barrier");
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, c) != 0)
			die("pthread_create");
	if (fn == bulk_thread)
		pthread_barrier_wait(&c->go);
	t0 = now_ns();
	if (timed) {
		struct timespec d = { .tv_sec = c->o.seconds, .tv_nsec = 0 };

		while (nanosleep(&d, &d) == -1 && errno == EINTR)
			;
		atomic_store(&c->stop, true);
		/* The window: what completes after it is not counted, so a
		 * request stuck past the end cannot stretch it. */
		c->elapsed = now_ns() - t0;
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	if (!timed)
		c->elapsed = now_ns() - t0;
	if (c->elapsed == 0)
		c->elapsed = 1;
	pthread_barrier_destroy(&c->go);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void
client(struct ctx *c)
{
	uint64_t *lat, t0;
	long i, ok = 0;

	c->ssl = SSL_CTX_new(TLS_client_method());
	if (c->ssl == NULL || SSL_CTX_load_verify_locations(c->ssl, c->o.ca, NULL) != 1)
		die("CA");
	SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
	/* Every connection a full handshake, as a new client would make. */
	SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(c->ssl, SSL_OP_NO_TICKET);
	if (strcmp(c->o.mode, "bulk") == 0 || strcmp(c->o.mode, "upload") == 0) {
		run_threads(c, bulk_thread, c->o.threads, true);
		printf("mbps=%.1f bytes=%llu failed=%llu\n",
		    (double)atomic_load(&c->bytes) * 1e3 / (double)c->elapsed,
		    (unsigned long long)atomic_load(&c->bytes),
		    (unsigned long long)atomic_load(&c->failed));
	} else if (strcmp(c->o.mode, "rate") == 0) {
		run_threads(c, rate_thread, c->o.threads, true);
		printf("cps=%.0f conns=%llu failed=%llu\n",
		    (double)atomic_load(&c->done) * 1e9 / (double)c->elapsed,
		    (unsigned long long)atomic_load(&c->done),
		    (unsigned long long)atomic_load(&c->failed));
	} else if (strcmp(c->o.mode, "lat") == 0) {
		if ((lat = calloc((size_t)c->o.count, sizeof(*lat))) == NULL)
			die("calloc");
		for (i = 0; i < 20; i++)	/* warm-up, not counted */
			(void)client_small(c);
		for (i = 0; i < c->o.count; i++) {
			t0 = now_ns();
			if (client_small(c) == 0)
				lat[ok++] = now_ns() - t0;
		}
		if (ok == 0) {
			printf("p50_us=0 p99_us=0 failed=%ld\n", c->o.count);
			return;
		}
		qsort(lat, (size_t)ok, sizeof(*lat), cmp_u64);
		printf("p50_us=%.1f p99_us=%.1f max_us=%.1f failed=%ld\n",
		    (double)lat[ok / 2] / 1e3, (double)lat[ok * 99 / 100] / 1e3,
		    (double)lat[ok - 1] / 1e3, c->o.count - ok);
		free(lat);
	} else if (strcmp(c->o.mode, "idle") == 0) {
		struct timespec d = { .tv_sec = c->o.seconds, .tv_nsec = 0 };

		if ((c->idle_fds = calloc((size_t)c->o.count, sizeof(int))) == NULL)
			die("calloc");
		run_threads(c, idle_thread, c->o.threads, false);
		printf("open=%llu failed=%llu\n",
		    (unsigned long long)c->o.count - atomic_load(&c->failed),
		    (unsigned long long)atomic_load(&c->failed));
		fflush(stdout);
		/* Held until killed (the script reads the proxy's memory
		 * meanwhile) or the limit; exiting closes them all. */
		d.tv_sec = c->o.seconds;
		while (nanosleep(&d, &d) == -1 && errno == EINTR)
			;
	} else {
		fprintf(stderr, "proxyload: unknown mode %s\n", c->o.mode);
		exit(2);
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: proxyload serve -a ADDR -p PORT -c CERT -k KEY [-t THREADS]\n"
	    "       proxyload bulk|upload -a ADDR -p PORT -n SNI -C CA [-t STREAMS] [-d SECONDS]\n"
	    "       proxyload rate -a ADDR -p PORT -n SNI -C CA [-t CLIENTS] [-d SECONDS]\n"
	    "       proxyload lat  -a ADDR -p PORT -n SNI -C CA [-r REQUESTS]\n"
	    "       proxyload idle -a ADDR -p PORT -n SNI -C CA [-r CONNS] [-t THREADS] [-d HOLD]\n"
	    "  -N: send no SNI (the certificate is still checked for SNI's name)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct ctx *c;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	int ch;

	if (argc < 2)
		usage();
	if ((c = calloc(1, sizeof(*c))) == NULL)
		die("calloc");
	c->o.mode = argv[1];
	c->o.threads = 1;
	c->o.seconds = 5;
	c->o.count = 1000;
	optind = 2;
	while ((ch = getopt(argc, argv, "a:p:n:NC:c:k:t:d:r:")) != -1) {
		switch (ch) {
		case 'a': c->o.addr = optarg; break;
		case 'p': c->o.port = (uint16_t)atoi(optarg); break;
		case 'n': c->o.sni = optarg; break;
		case 'N': c->o.no_sni = true; break;
		case 'C': c->o.ca = optarg; break;
		case 'c': c->o.cert = optarg; break;
		case 'k': c->o.key = optarg; break;
		case 't': c->o.threads = atoi(optarg); break;
		case 'd': c->o.seconds = atoi(optarg); break;
		case 'r': c->o.count = atol(optarg); break;
		default: usage();
		}
	}
	if (c->o.addr == NULL || c->o.port == 0 || c->o.threads < 1 ||
	    c->o.threads > MAX_THREADS || c->o.count < 1 ||
	    c->o.count > MAX_SAMPLES || c->o.seconds < 0)
		usage();
	sin = (struct sockaddr_in *)&c->sa;
	sin6 = (struct sockaddr_in6 *)&c->sa;
	if (inet_pton(AF_INET, c->o.addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(c->o.port);
		c->salen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, c->o.addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(c->o.port);
		c->salen = sizeof(*sin6);
	} else {
		usage();
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(c->o.mode, "serve") == 0) {
		if (c->o.cert == NULL || c->o.key == NULL)
			usage();
		serve(c);
	}
	if (c->o.sni == NULL || c->o.ca == NULL)
		usage();
	client(c);
	return 0;
}
