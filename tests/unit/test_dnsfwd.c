/*
 * proxy/dnsfwd.c end to end on one loop: clients on 127.0.0.1 / ::1 (a
 * task) and 127.0.0.2 (none) ask over UDP and TCP; a small DNS server on
 * 127.0.0.1 plays upstream and counts what reaches it; the telemetry file
 * is read back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "dnsfwd.h"
#include "dnsmsg.h"
#include "loop.h"
#include "proxy.h"
#include "registry.h"
#include "resolve.h"
#include "telemetry.h"

static const char policy_text[] =
    "allow allowed.test\n"
    "allow git.test port 22\n"
    "deny denied.test\n"
    "ask ask.test\n"
    "allow *.rebind.test\n"
    "allow big.test silent.test\n";

struct world {
	char		 dir[64];
	struct ag_conf	 conf;
	struct loop	*loop;
	struct resolver	*res;
	struct telemetry *tel;
	struct proxy	 p;
	struct dnsfwd	*fwd;
	uint16_t	 port;
	/* upstream */
	int		 ufd, tfd;
	unsigned	 asked;
	char		 last[256];
	/* the client's answer */
	uint8_t		 ans[32][1024];
	size_t		 anslen[32];
	size_t		 nans;
	size_t		 want;
	uint8_t		 tcpbuf[8192];
	size_t		 tcplen;
	struct loop_timer *guard;
};

/* The upstream's answer to q in out: its length, or -1 for no answer. */
static ssize_t
upstream_answer(struct world *w, const uint8_t *q, size_t n, uint8_t *out,
    size_t outsize)
{
	struct dns_query dq;
	struct ag_addr a[60];
	const char *name;
	size_t i;

	if (dns_parse_query(q, n, &dq) != DNS_OK)
		return -1;
	w->asked++;
	name = dq.question.name.text;
	snprintf(w->last, sizeof(w->last), "%s", name);
	if (strcasecmp(name, "allowed.test") == 0) {
		addr_parse("93.184.216.34", &a[0]);
		addr_parse("2606:2800:220:1::1", &a[1]);
		return dns_build_answer(q, n, a, 2, 300, out, outsize);
	}
	if (strcasecmp(name, "private.rebind.test") == 0) {
		addr_parse("10.1.2.3", &a[0]);
		return dns_build_answer(q, n, a, 1, 60, out, outsize);
	}
	if (strcasecmp(name, "big.test") == 0) {
		for (i = 0; i < 60; i++)
			addr_from_v4(htonl(0x5db80000u + (uint32_t)i + 1), &a[i]);
		return dns_build_answer(q, n, a, 60, 60, out, outsize);
	}
	if (strcasecmp(name, "silent.test") == 0)
		return -1;
	return dns_build_error(q, n, DNS_RCODE_NXDOMAIN, out, outsize);
}

static void
upstream_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct world *w = arg;
	uint8_t q[512], out[4096];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n, m;

	(void)l;
	(void)events;
	if ((n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&ss, &sl)) < 0)
		return;
	if ((m = upstream_answer(w, q, (size_t)n, out, sizeof(out))) > 0)
		(void)sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&ss, sl);
}

/* c-ares retries a long UDP answer over TCP; messages arrive whole on
 * loopback. */
static void
upstream_tcp_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct world *w = arg;
	uint8_t in[2048], out[4096];
	size_t used = 0, mlen;
	ssize_t n, m;

	(void)events;
	if ((n = recv(fd, in, sizeof(in), MSG_DONTWAIT)) <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			loop_del(l, fd);
			close(fd);
		}
		return;
	}
	while ((size_t)n - used >= 2) {
		mlen = ((size_t)in[used] << 8) | in[used + 1];
		if ((size_t)n - used < 2 + mlen)
			break;
		m = upstream_answer(w, in + used + 2, mlen, out + 2,
		    sizeof(out) - 2);
		if (m > 0) {
			out[0] = (uint8_t)(m >> 8);
			out[1] = (uint8_t)m;
			(void)write(fd, out, (size_t)m + 2);
		}
		used += 2 + mlen;
	}
}

static void
upstream_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	int c;

	(void)events;
	if ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		assert_int_equal(loop_add(l, c, EPOLLIN, upstream_tcp_read, arg), 0);
}

static void
guard_cb(struct loop *l, void *arg)
{
	struct world *w = arg;

	w->guard = NULL;
	loop_stop(l);
}

/* Run the loop until `want` answers came, or ms milliseconds. */
static void
run_for(struct world *w, size_t want, uint64_t ms)
{
	w->nans = 0;
	w->want = want;
	w->guard = loop_timer_add(w->loop, ms, guard_cb, w);
	assert_non_null(w->guard);
	assert_int_equal(loop_run(w->loop), 0);
	if (w->guard != NULL)
		loop_timer_cancel(w->loop, w->guard);
	w->guard = NULL;
}

static void
run(struct world *w, size_t want)
{
	run_for(w, want, 3000);
}

static void
udp_client_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct world *w = arg;
	ssize_t n;

	(void)events;
	n = recv(fd, w->ans[w->nans], sizeof(w->ans[0]), MSG_DONTWAIT);
	if (n < 0)
		return;
	w->anslen[w->nans++] = (size_t)n;
	if (w->nans >= w->want)
		loop_stop(l);
}

static void
tcp_client_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct world *w = arg;
	ssize_t n;
	size_t mlen;

	(void)events;
	n = recv(fd, w->tcpbuf + w->tcplen, sizeof(w->tcpbuf) - w->tcplen,
	    MSG_DONTWAIT);
	if (n <= 0) {
		loop_stop(l);
		return;
	}
	w->tcplen += (size_t)n;
	while (w->tcplen >= 2) {
		mlen = ((size_t)w->tcpbuf[0] << 8) | w->tcpbuf[1];
		if (w->tcplen < 2 + mlen)
			break;
		memcpy(w->ans[w->nans], w->tcpbuf + 2, mlen);
		w->anslen[w->nans++] = mlen;
		memmove(w->tcpbuf, w->tcpbuf + 2 + mlen, w->tcplen - 2 - mlen);
		w->tcplen -= 2 + mlen;
	}
	if (w->nans >= w->want)
		loop_stop(l);
}

static size_t
make_query(uint8_t *b, unsigned id, const char *name, unsigned type)
{
	const char *p = name, *dot;
	size_t len = 12, n;

	memset(b, 0, 12);
	b[0] = (uint8_t)(id >> 8);
	b[1] = (uint8_t)id;
	b[2] = 0x01;			/* RD */
	b[5] = 1;			/* QDCOUNT */
	while (*p != '\0') {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		b[len++] = (uint8_t)n;
		memcpy(b + len, p, n);
		len += n;
		p += n + (dot ? 1 : 0);
	}
	b[len++] = 0;
	b[len++] = (uint8_t)(type >> 8);
	b[len++] = (uint8_t)type;
	b[len++] = 0;
	b[len++] = 1;
	return len;
}

static int
client(int family, const char *src, int type)
{
	struct sockaddr_storage ss;
	int fd;

	memset(&ss, 0, sizeof(ss));
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, src, &sin->sin_addr), 1);
		assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	}
	return fd;
}

static void
dest(int family, uint16_t port, struct sockaddr_storage *ss, socklen_t *sl)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		*sl = sizeof(*sin6);
	}
}

/* One UDP query from src; returns the answer's length (0: none). */
static size_t
ask_udp(struct world *w, int family, const char *src, const uint8_t *q,
    size_t qlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = client(family, src, SOCK_DGRAM);

	dest(family, w->port, &ss, &sl);
	assert_int_equal(sendto(fd, q, qlen, 0, (struct sockaddr *)&ss, sl),
	    (ssize_t)qlen);
	assert_int_equal(loop_add(w->loop, fd, EPOLLIN, udp_client_read, w), 0);
	run(w, 1);
	loop_del(w->loop, fd);
	close(fd);
	return w->nans == 1 ? w->anslen[0] : 0;
}

static unsigned
rcode(const uint8_t *a)
{
	return a[3] & 0x0f;
}

static unsigned
ancount(const uint8_t *a)
{
	return ((unsigned)a[6] << 8) | a[7];
}

static unsigned
id_of(const uint8_t *a)
{
	return ((unsigned)a[0] << 8) | a[1];
}

static uint16_t
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct telemetry_config tc;
	struct reg_task t;
	char path[128], err[128];
	FILE *fp;
	int tries;

	assert_non_null(w);
	snprintf(w->dir, sizeof(w->dir), "/tmp/test_dnsfwd.XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	snprintf(path, sizeof(path), "%s/p.rules", w->dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs(policy_text, fp);
	fclose(fp);

	registry_task_init(&t);
	snprintf(t.id, sizeof(t.id), "t1");
	assert_int_equal(addr_parse("127.0.0.1", &t.addrs[0]), 0);
	assert_int_equal(addr_parse("::1", &t.addrs[1]), 0);
	t.naddrs = 2;
	t.policy_file = strdup(path);
	snprintf(path, sizeof(path), "%s/tasks", w->dir);
	if (registry_task_write(path, &t) == -1) {
		registry_task_check(&t, err, sizeof(err));
		fail_msg("task: %s", err);
	}
	registry_task_free(&t);
	/* A task whose policy cannot be loaded. */
	registry_task_init(&t);
	snprintf(t.id, sizeof(t.id), "t3");
	assert_int_equal(addr_parse("127.0.0.3", &t.addrs[0]), 0);
	t.naddrs = 1;
	snprintf(path, sizeof(path), "%s/missing.rules", w->dir);
	t.policy_file = strdup(path);
	snprintf(path, sizeof(path), "%s/tasks", w->dir);
	assert_int_equal(registry_task_write(path, &t), 0);
	registry_task_free(&t);

	assert_non_null(w->loop = loop_new());
	w->ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(w->ufd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(w->ufd, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(loop_add(w->loop, w->ufd, EPOLLIN, upstream_read, w), 0);
	w->tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(setsockopt(w->tfd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 },
	    sizeof(int)), 0);
	assert_int_equal(bind(w->tfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(w->tfd, 8), 0);
	assert_int_equal(loop_add(w->loop, w->tfd, EPOLLIN, upstream_accept, w), 0);

	assert_int_equal(conf_init(&w->conf), 0);
	free(w->conf.run_dir);
	w->conf.run_dir = strdup(w->dir);
	w->conf.dns_upstream_count = 1;
	assert_int_equal(addr_parse("127.0.0.1", &w->conf.dns_upstream[0].addr), 0);
	w->conf.dns_upstream[0].port = ntohs(sin.sin_port);
	w->conf.dns_timeout_ms = 200;
	assert_non_null(w->res = resolver_new(w->loop, &w->conf));

	telemetry_config_init(&tc);
	snprintf(path, sizeof(path), "%s/log", w->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	tc.dir = path;
	tc.service = "agentgate-proxy";
	tc.hostname = "test";
	tc.fsync = TELEMETRY_FSYNC_NEVER;
	assert_non_null(w->tel = telemetry_open(&tc, "proxy"));

	assert_int_equal(proxy_init(&w->p, &w->conf, w->loop, w->res, w->tel), 0);
	for (tries = 0; tries < 5 && w->fwd == NULL; tries++) {
		w->conf.dns_port = w->port = free_port();
		w->fwd = dnsfwd_open(&w->p);
	}
	assert_non_null(w->fwd);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];

	dnsfwd_close(w->fwd);
	proxy_fini(&w->p);
	resolver_free(w->res);
	telemetry_close(w->tel);
	loop_del(w->loop, w->ufd);
	close(w->ufd);
	loop_del(w->loop, w->tfd);
	close(w->tfd);
	loop_free(w->loop);
	conf_free(&w->conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

struct udp_case {
	const char	*src;		/* "::1" for IPv6 */
	const char	*name;
	unsigned	 type;
	unsigned	 rcode;
	unsigned	 ancount;
	bool		 upstream;	/* the question reached upstream */
};

static const struct udp_case udp_cases[] = {
	{ "127.0.0.1", "allowed.test", 1, DNS_RCODE_NOERROR, 1, true },
	{ "127.0.0.1", "ALLOWED.test", 28, DNS_RCODE_NOERROR, 1, true },
	{ "::1", "allowed.test", 28, DNS_RCODE_NOERROR, 1, true },
	{ "127.0.0.1", "denied.test", 1, DNS_RCODE_REFUSED, 0, false },
	{ "127.0.0.1", "denied.test", 16, DNS_RCODE_REFUSED, 0, false },
	{ "127.0.0.1", "denied.test", 255, DNS_RCODE_REFUSED, 0, false },
	{ "::1", "denied.test", 28, DNS_RCODE_REFUSED, 0, false },
	{ "127.0.0.1", "x7k2p9q4w8e1r6t3y5u0i2o4p6a8s0d2f4g6h8j0k2l4z6x8c0v2b4n6m8q0w2e.denied.test",
	    16, DNS_RCODE_REFUSED, 0, false },
	{ "127.0.0.1", "ask.test", 1, DNS_RCODE_REFUSED, 0, false },
	{ "127.0.0.1", "nowhere.test", 1, DNS_RCODE_REFUSED, 0, false },
	{ "127.0.0.1", "git.test", 1, DNS_RCODE_NXDOMAIN, 0, true },
	{ "127.0.0.1", "private.rebind.test", 1, DNS_RCODE_REFUSED, 0, true },
	{ "127.0.0.2", "allowed.test", 1, DNS_RCODE_REFUSED, 0, false },
	{ "127.0.0.3", "allowed.test", 1, DNS_RCODE_REFUSED, 0, false },
	{ "127.0.0.1", "silent.test", 1, DNS_RCODE_SERVFAIL, 0, true },
};

static unsigned
count_lines(struct world *w, const char *needle)
{
	char path[128], line[8192];
	unsigned n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/log/egress-proxy.jsonl", w->dir);
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "\"action\":\"egress\"") != NULL &&
		    strstr(line, needle) != NULL)
			n++;
	fclose(fp);
	return n;
}

static void
test_udp_table(void **state)
{
	struct world *w = *state;
	uint8_t q[512];
	size_t i, qlen, n;
	unsigned before;

	for (i = 0; i < sizeof(udp_cases) / sizeof(udp_cases[0]); i++) {
		const struct udp_case *c = &udp_cases[i];
		int family = strchr(c->src, ':') ? AF_INET6 : AF_INET;

		qlen = make_query(q, 0x100 + (unsigned)i, c->name, c->type);
		before = w->asked;
		n = ask_udp(w, family, c->src, q, qlen);
		if (n < 12)
			fail_msg("%s %s: no answer", c->src, c->name);
		if (id_of(w->ans[0]) != 0x100 + i || rcode(w->ans[0]) != c->rcode ||
		    ancount(w->ans[0]) != c->ancount ||
		    (w->asked != before) != c->upstream)
			fail_msg("%s %s/%u: id %x rcode %u ancount %u asked %u",
			    c->src, c->name, c->type, id_of(w->ans[0]),
			    rcode(w->ans[0]), ancount(w->ans[0]),
			    w->asked - before);
	}
	/* One event per query. */
	assert_int_equal(count_lines(w, "\"protocol\":\"dns\""),
	    sizeof(udp_cases) / sizeof(udp_cases[0]));
	assert_int_equal(count_lines(w, "\"name\":\"denied.test\""), 4);
	assert_int_equal(count_lines(w, "\"answers\":[{\"data\":\"93.184.216.34\""), 1);
	assert_int_equal(count_lines(w, "\"transport\":\"tcp\""), 0);
	assert_true(count_lines(w, "\"line\":3") >= 4);
	assert_int_equal(count_lines(w, "\"reason\":\"no task for source address\""), 1);
	assert_int_equal(count_lines(w, "\"reason\":\"task policy unavailable\""), 1);
	assert_int_equal(count_lines(w, "\"task\":{\"id\":\"t3\"}"), 1);
}

static void
test_malformed(void **state)
{
	struct world *w = *state;
	uint8_t q[512];
	size_t qlen;
	unsigned before = w->asked;

	qlen = make_query(q, 0x4242, "allowed.test", 1);
	q[qlen] = 0;		/* a trailing byte */
	assert_true(ask_udp(w, AF_INET, "127.0.0.1", q, qlen + 1) >= 12);
	assert_int_equal(rcode(w->ans[0]), DNS_RCODE_FORMERR);
	assert_int_equal(id_of(w->ans[0]), 0x4242);
	q[2] |= 0x80;		/* a response: no answer at all */
	assert_int_equal(ask_udp(w, AF_INET, "127.0.0.1", q, qlen), 0);
	assert_int_equal(w->asked, before);
}

/* Too big for UDP: TC=1; the same over TCP comes whole. */
static void
test_truncation_and_tcp(void **state)
{
	struct world *w = *state;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t q[512], buf[1024];
	size_t qlen, len = 0;
	int fd;

	qlen = make_query(q, 0x5151, "big.test", 1);
	assert_true(ask_udp(w, AF_INET, "127.0.0.1", q, qlen) <= 512);
	assert_true(w->ans[0][2] & 0x02);
	assert_int_equal(rcode(w->ans[0]), DNS_RCODE_NOERROR);

	/* Three queries in one write: big, denied, allowed. */
	len = 0;
	buf[len++] = (uint8_t)(qlen >> 8);
	buf[len++] = (uint8_t)qlen;
	memcpy(buf + len, q, qlen);
	len += qlen;
	qlen = make_query(buf + len + 2, 0x5252, "denied.test", 1);
	buf[len] = 0;
	buf[len + 1] = (uint8_t)qlen;
	len += 2 + qlen;
	qlen = make_query(buf + len + 2, 0x5353, "allowed.test", 1);
	buf[len] = 0;
	buf[len + 1] = (uint8_t)qlen;
	len += 2 + qlen;

	fd = client(AF_INET, "127.0.0.1", SOCK_STREAM);
	dest(AF_INET, w->port, &ss, &sl);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	w->tcplen = 0;
	assert_int_equal(loop_add(w->loop, fd, EPOLLIN, tcp_client_read, w), 0);
	run(w, 3);
	assert_int_equal(w->nans, 3);
	/* The denied one is answered at once, before the two upstream. */
	{
		size_t i;
		bool seen[3] = { false, false, false };

		for (i = 0; i < 3; i++) {
			switch (id_of(w->ans[i])) {
			case 0x5151:
				assert_int_equal(ancount(w->ans[i]), 60);
				assert_false(w->ans[i][2] & 0x02);
				seen[0] = true;
				break;
			case 0x5252:
				assert_int_equal(rcode(w->ans[i]), DNS_RCODE_REFUSED);
				seen[1] = true;
				break;
			case 0x5353:
				assert_int_equal(ancount(w->ans[i]), 1);
				seen[2] = true;
				break;
			default:
				fail_msg("answer id %x", id_of(w->ans[i]));
			}
		}
		assert_true(seen[0] && seen[1] && seen[2]);
	}
	assert_int_equal(dnsfwd_clients(w->fwd), 1);
	/* The client leaves: the forwarder closes its side. */
	loop_del(w->loop, fd);
	close(fd);
	run_for(w, 1, 200);
	assert_int_equal(dnsfwd_clients(w->fwd), 0);
	assert_int_equal(count_lines(w, "\"transport\":\"tcp\""), 3);
	assert_int_equal(dnsfwd_pending(w->fwd), 0);
}

/* A TCP message cut in the middle waits for the rest. */
static void
test_tcp_split(void **state)
{
	struct world *w = *state;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t buf[512];
	size_t qlen;
	int fd;

	qlen = make_query(buf + 2, 0x6161, "denied.test", 1);
	buf[0] = 0;
	buf[1] = (uint8_t)qlen;
	fd = client(AF_INET6, "::1", SOCK_STREAM);
	dest(AF_INET6, w->port, &ss, &sl);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(write(fd, buf, 1), 1);
	w->tcplen = 0;
	assert_int_equal(loop_add(w->loop, fd, EPOLLIN, tcp_client_read, w), 0);
	run_for(w, 1, 200);	/* nothing to answer yet */
	assert_int_equal(w->nans, 0);
	assert_int_equal(write(fd, buf + 1, 7), 7);
	assert_int_equal(write(fd, buf + 8, qlen + 2 - 8), (ssize_t)(qlen + 2 - 8));
	run(w, 1);
	assert_int_equal(w->nans, 1);
	assert_int_equal(id_of(w->ans[0]), 0x6161);
	assert_int_equal(rcode(w->ans[0]), DNS_RCODE_REFUSED);
	loop_del(w->loop, fd);
	close(fd);
}

/* More pipelined queries than may be upstream at once: reading pauses at
 * DNSFWD_TCP_PIPELINE and resumes as answers come; every query is answered
 * once. */
static void
test_tcp_pipeline(void **state)
{
	struct world *w = *state;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t buf[4096];
	size_t len = 0, qlen, i, n = DNSFWD_TCP_PIPELINE + 8;
	uint32_t seen = 0;
	unsigned before = w->asked;
	int fd;

	assert_true(n <= 32);
	for (i = 0; i < n; i++) {
		qlen = make_query(buf + len + 2, 0x7000 + (unsigned)i,
		    i % 4 == 3 ? "denied.test" : "allowed.test", 1);
		buf[len] = 0;
		buf[len + 1] = (uint8_t)qlen;
		len += 2 + qlen;
	}
	fd = client(AF_INET, "127.0.0.1", SOCK_STREAM);
	dest(AF_INET, w->port, &ss, &sl);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	w->tcplen = 0;
	assert_int_equal(loop_add(w->loop, fd, EPOLLIN, tcp_client_read, w), 0);
	run(w, n);
	assert_int_equal(w->nans, n);
	for (i = 0; i < n; i++) {
		unsigned k = id_of(w->ans[i]) - 0x7000;

		assert_true(k < n);
		assert_false(seen & (1u << k));
		seen |= 1u << k;
		assert_int_equal(rcode(w->ans[i]), k % 4 == 3 ?
		    DNS_RCODE_REFUSED : DNS_RCODE_NOERROR);
	}
	assert_int_equal(w->asked - before, n - n / 4);
	loop_del(w->loop, fd);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_and_tcp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tcp_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_pipeline, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("dnsfwd", tests, NULL, NULL);
}
