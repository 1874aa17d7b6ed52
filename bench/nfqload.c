/*
 * nfqload: the traffic generator and sink of bench/nfq.sh. `send` writes
 * UDP datagrams from a set of source addresses through a raw socket with
 * sendmmsg (few flows, or a new source port per packet); `sink` counts
 * what arrives and reports the delivered rate. Not a test.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOAD_BATCH	64		/* datagrams per sendmmsg/recvmmsg */
#define LOAD_SRC_MAX	256
#define LOAD_PKT_MAX	1500
#define LOAD_PORT_FEW	1024		/* source port of the few flows */
#define LOAD_PORT_NEW	2000		/* lowest source port of new flows */

struct sender {
	int		 family;
	int		 fd;
	size_t		 nsrc;
	struct in6_addr	 src[LOAD_SRC_MAX];	/* IPv4 in the first 4 bytes */
	struct in6_addr	 dst;
	uint16_t	 dport;
	size_t		 payload;
	bool		 new_flows;	/* a new source port for every packet */
	uint16_t	 first_port;	/* of the new flows */
	uint64_t	 flows;		/* few: flows; new: packets to send */
	double		 seconds;
	double		 rate;		/* packets/s; 0: as fast as it goes */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static void
die(const char *what)
{
	fprintf(stderr, "nfqload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: nfqload send -s SRC[,SRC...] -d DST -p PORT [-l LEN] "
	    "[-t SECONDS] [-r PPS] (-f FLOWS | -n NEWFLOWS [-P FIRSTPORT])\n"
	    "       nfqload sink -b ADDR -p PORT [-q QUIET_MS] [-t SECONDS]\n");
	exit(2);
}

static uint32_t
sum16(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t
sum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Build one datagram from source `si`, source port `sport`, into `buf`.
 * IPv4: the kernel fills the header checksum and id; the UDP checksum is
 * left 0 (allowed). IPv6: the UDP checksum is required, so it is summed.
 */
static size_t
sender_build(const struct sender *s, uint8_t *buf, size_t si, uint16_t sport)
{
	struct udphdr *uh;
	size_t ulen = sizeof(*uh) + s->payload, hl;
	uint32_t sum;

	if (s->family == AF_INET) {
		struct ip *ip = (struct ip *)(void *)buf;

		hl = sizeof(*ip);
		memset(ip, 0, hl);
		ip->ip_v = 4;
		ip->ip_hl = 5;
		ip->ip_len = htons((uint16_t)(hl + ulen));
		ip->ip_off = htons(IP_DF);
		ip->ip_ttl = 64;
		ip->ip_p = IPPROTO_UDP;
		memcpy(&ip->ip_src, &s->src[si], 4);
		memcpy(&ip->ip_dst, &s->dst, 4);
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)(void *)buf;

		hl = sizeof(*ip6);
		memset(ip6, 0, hl);
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons((uint16_t)ulen);
		ip6->ip6_nxt = IPPROTO_UDP;
		ip6->ip6_hlim = 64;
		ip6->ip6_src = s->src[si];
		ip6->ip6_dst = s->dst;
	}
	uh = (struct udphdr *)(void *)(buf + hl);
	uh->uh_sport = htons(sport);
	uh->uh_dport = htons(s->dport);
	uh->uh_ulen = htons((uint16_t)ulen);
	uh->uh_sum = 0;
	memset(buf + hl + sizeof(*uh), 'a', s->payload);
	if (s->family == AF_INET6) {
		sum = sum16(&s->src[si], 16, 0);
		sum = sum16(&s->dst, 16, sum);
		sum += (uint32_t)ulen + IPPROTO_UDP;
		sum = sum16(uh, ulen, sum);
		uh->uh_sum = htons(sum_fold(sum));
		if (uh->uh_sum == 0)
			uh->uh_sum = 0xffff;
	}
	return hl + ulen;
}

/*
 * Few flows: `flows` datagrams (source i % nsrc, port LOAD_PORT_FEW +
 * i / nsrc) built once and sent round-robin for `seconds`. New flows:
 * packet i comes from source i % nsrc, port first_port + i / nsrc, so
 * each is a new 5-tuple (and a new conntrack entry) until `flows` are
 * sent. Sources spread the flows over queues: --queue-balance hashes
 * addresses, not ports.
 */
static int
sender_run(struct sender *s)
{
	static uint8_t pkts[LOAD_BATCH][LOAD_PKT_MAX];
	struct mmsghdr msg[LOAD_BATCH];
	struct iovec iov[LOAD_BATCH];
	struct sockaddr_storage to;
	socklen_t tolen;
	uint8_t (*few)[LOAD_PKT_MAX] = NULL;
	size_t *few_len = NULL, i, nfew = 0;
	uint64_t sent = 0, next = 0, err = 0, k;
	double t0, t1, end;
	int n, want;

	memset(&to, 0, sizeof(to));
	if (s->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, &s->dst, 4);
		tolen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = s->dst;
		tolen = sizeof(*sin6);
	}
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < LOAD_BATCH; i++) {
		msg[i].msg_hdr.msg_name = &to;
		msg[i].msg_hdr.msg_namelen = tolen;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	if (!s->new_flows) {
		nfew = (size_t)s->flows;
		if ((few = calloc(nfew, sizeof(*few))) == NULL ||
		    (few_len = calloc(nfew, sizeof(*few_len))) == NULL)
			die("flows");
		for (i = 0; i < nfew; i++)
			few_len[i] = sender_build(s, few[i], i % s->nsrc,
			    (uint16_t)(LOAD_PORT_FEW + i / s->nsrc));
	}

	t0 = now_s();
	end = t0 + s->seconds;
	for (;;) {
		if (s->new_flows) {
			if (next >= s->flows)
				break;
			want = (int)(s->flows - next < LOAD_BATCH ?
			    s->flows - next : LOAD_BATCH);
			for (n = 0; n < want; n++) {
				k = next + (uint64_t)n;
				iov[n].iov_base = pkts[n];
				iov[n].iov_len = sender_build(s, pkts[n],
				    (size_t)(k % s->nsrc), (uint16_t)(s->first_port +
				    k / s->nsrc));
			}
		} else {
			want = LOAD_BATCH;
			for (n = 0; n < want; n++) {
				i = (size_t)((next + (uint64_t)n) % nfew);
				iov[n].iov_base = few[i];
				iov[n].iov_len = few_len[i];
			}
		}
		n = sendmmsg(s->fd, msg, (unsigned)want, 0);
		if (n < 0) {
			/* ENOBUFS and the like: the path is full. */
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR && errno != EPERM)
				die("sendmmsg");
			err++;
			n = 0;
		}
		sent += (uint64_t)n;
		next += (uint64_t)n;
		t1 = now_s();
		if (t1 >= end)
			break;
		/* Paced: wait for this batch's slot, so that the queue program
		 * sees the same small batches whichever program it is. */
		if (s->rate > 0 && t0 + (double)sent / s->rate > t1)
			sleep_until(t0 + (double)sent / s->rate);
	}
	t1 = now_s();
	printf("sent %llu seconds %.3f pps %.0f errors %llu\n",
	    (unsigned long long)sent, t1 - t0, (double)sent / (t1 - t0),
	    (unsigned long long)err);
	free(few_len);
	free(few);
	return 0;
}

static int
parse_addr(const char *str, int *family, struct in6_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, str, a) == 1) {
		if (*family == AF_INET6)
			return -1;
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, str, a) == 1) {
		if (*family == AF_INET)
			return -1;
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

static int
cmd_send(int argc, char **argv)
{
	struct sender s;
	char *list = NULL, *tok, *save = NULL;
	unsigned long port;
	int ch, size = 4 * 1024 * 1024;

	memset(&s, 0, sizeof(s));
	s.payload = 18;		/* 64-byte Ethernet frames for IPv4 */
	s.seconds = 3;
	s.first_port = LOAD_PORT_NEW;
	while ((ch = getopt(argc, argv, "s:d:p:l:t:r:f:n:P:")) != -1) {
		switch (ch) {
		case 'P':
			port = strtoul(optarg, NULL, 10);
			if (port < LOAD_PORT_NEW || port > 65535)
				usage();
			s.first_port = (uint16_t)port;
			break;
		case 'r':
			s.rate = strtod(optarg, NULL);
			break;
		case 's':
			list = optarg;
			break;
		case 'd':
			if (parse_addr(optarg, &s.family, &s.dst) == -1)
				usage();
			break;
		case 'p':
			s.dport = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			s.payload = strtoul(optarg, NULL, 10);
			break;
		case 't':
			s.seconds = strtod(optarg, NULL);
			break;
		case 'f':
			s.flows = strtoull(optarg, NULL, 10);
			s.new_flows = false;
			break;
		case 'n':
			s.flows = strtoull(optarg, NULL, 10);
			s.new_flows = true;
			break;
		default:
			usage();
		}
	}
	if (list == NULL || s.family == 0 || s.dport == 0 || s.flows == 0 ||
	    s.payload > LOAD_PKT_MAX - 60 || s.seconds <= 0 || s.rate < 0)
		usage();
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (s.nsrc == LOAD_SRC_MAX ||
		    parse_addr(tok, &s.family, &s.src[s.nsrc]) == -1)
			usage();
		s.nsrc++;
	}
	if (s.nsrc == 0)
		usage();
	/* Few flows and new flows never share a source port, so that a
	 * conntrack entry of one phase is never taken for the other's. */
	if ((s.new_flows && s.flows / s.nsrc + s.first_port > 65535) ||
	    (!s.new_flows && s.flows / s.nsrc + LOAD_PORT_FEW >= LOAD_PORT_NEW)) {
		fprintf(stderr, "nfqload: too many flows for %zu sources\n",
		    s.nsrc);
		return 2;
	}
	/* IPPROTO_RAW: we write the IP header (IPv6 too, on Linux). */
	if ((s.fd = socket(s.family, SOCK_RAW, IPPROTO_RAW)) == -1)
		die("raw socket");
	(void)setsockopt(s.fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	return sender_run(&s);
}

/*
 * Count datagrams to ADDR:PORT. The rate is taken between the first and
 * the last datagram, so neither start-up nor the quiet wait counts. Ends
 * after QUIET_MS without a datagram (once one came) or after SECONDS.
 */
static int
cmd_sink(int argc, char **argv)
{
	static char bufs[LOAD_BATCH][LOAD_PKT_MAX];
	struct mmsghdr msg[LOAD_BATCH];
	struct iovec iov[LOAD_BATCH];
	struct sockaddr_storage ss;
	struct timeval tv = { 0, 50 * 1000 };
	struct in6_addr a;
	socklen_t sslen;
	uint64_t count = 0;
	double first = 0, last = 0, start, quiet = 1.0, limit = 60, t;
	int family = 0, ch, fd, n, i, size = 32 * 1024 * 1024, one = 1;
	unsigned long port = 0;

	memset(&a, 0, sizeof(a));
	while ((ch = getopt(argc, argv, "b:p:q:t:")) != -1) {
		switch (ch) {
		case 'b':
			if (parse_addr(optarg, &family, &a) == -1)
				usage();
			break;
		case 'p':
			port = strtoul(optarg, NULL, 10);
			break;
		case 'q':
			quiet = strtod(optarg, NULL) / 1000;
			break;
		case 't':
			limit = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (family == 0 || port == 0 || port > 65535)
		usage();
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, &a, 4);
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*sin6);
	}
	if ((fd = socket(family, SOCK_DGRAM, 0)) == -1)
		die("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		die("SO_RCVTIMEO");
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		die("bind");
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < LOAD_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	start = now_s();
	for (;;) {
		n = recvmmsg(fd, msg, LOAD_BATCH, MSG_WAITFORONE, NULL);
		t = now_s();
		if (n > 0) {
			if (count == 0)
				first = t;
			count += (uint64_t)n;
			last = t;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR)
			die("recvmmsg");
		if (count > 0 && t - last >= quiet)
			break;
		if (t - start >= limit)
			break;
	}
	printf("received %llu seconds %.3f pps %.0f\n",
	    (unsigned long long)count, last - first,
	    last > first ? (double)(count - 1) / (last - first) : 0.0);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	optind = 2;
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc, argv);
	if (strcmp(argv[1], "sink") == 0)
		return cmd_sink(argc, argv);
	usage();
	return 2;
}
