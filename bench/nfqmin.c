/*
 * nfqmin: the floor for bench/nfq.sh. A minimal NFQUEUE program that
 * accepts every packet, bound and batched exactly like agentgate-nfq
 * (nfq-filter/queue.c): same libraries, copy range, queue length, flags,
 * buffers, one thread per queue, one verdict message per packet sent
 * together after each receive. It judges nothing. With -m its verdicts
 * carry the daemon's accept mark, with -c the connmark too (NFQA_CT), to
 * tell the kernel's cost of those apart from the daemon's own. Not a test.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "log.h"
#include "queue.h"	/* NFQ_COPY_RANGE, NFQ_QUEUE_MAXLEN, NFQ_RCVBUF */

/* As QUEUE_RECV_SIZE and QUEUE_BATCH_LIMIT in nfq-filter/queue.c. */
#define MIN_RECV_SIZE	(256 * 1024)
#define MIN_BATCH_LIMIT	(32 * 1024)
#define MIN_QUEUES_MAX	64

struct minq {
	uint16_t		 num;
	struct mnl_socket	*nl;
	pthread_t		 thread;
	atomic_bool		*stop;
	bool			 mark;		/* -m: NFQ_MARK_ACCEPT as packet mark */
	bool			 connmark;	/* -c: and as connmark */
	uint64_t		 packets, unreadable, enobufs;
};

/* Send one config message and wait for its acknowledgement; packets
 * that arrive first are left to the kernel (nothing is queued to us
 * before the bind is acknowledged, and the rule is only a target). */
static int
minq_config(struct minq *q, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *r;
	const struct nlmsgerr *e;
	uint32_t seq = (uint32_t)time(NULL) ^ ((uint32_t)q->num << 16);
	ssize_t n;
	int rest, tries;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (tries = 0; tries < 64; tries++) {
		if ((n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf))) < 0)
			return -1;
		r = (const struct nlmsghdr *)(const void *)buf;
		rest = (int)n;
		for (; mnl_nlmsg_ok(r, rest); r = mnl_nlmsg_next(r, &rest)) {
			if (r->nlmsg_type != NLMSG_ERROR || r->nlmsg_seq != seq ||
			    mnl_nlmsg_get_payload_len(r) < sizeof(*e))
				continue;
			e = mnl_nlmsg_get_payload(r);
			if (e->error == 0)
				return 0;
			errno = -e->error;
			return -1;
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

static int
minq_params(struct minq *q, char *buf, uint32_t flags)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQ_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, NFQ_QUEUE_MAXLEN);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO |
	    NFQA_CFG_F_CONNTRACK | NFQA_CFG_F_FAIL_OPEN));
	return minq_config(q, nlh);
}

/* Bind like nfq_queue_open(): the same flags, so the kernel does the same
 * work per packet (conntrack attributes included) for both programs. */
static int
minq_open(struct minq *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct timeval tv = { 0, 500 * 1000 };
	int fd, size = NFQ_RCVBUF;

	if ((q->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		return -1;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	fd = mnl_socket_get_fd(q->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (minq_config(q, nlh) == -1)
		return -1;
	if (minq_params(q, buf, NFQA_CFG_F_GSO | NFQA_CFG_F_CONNTRACK) == -1) {
		if (errno != EOPNOTSUPP ||
		    minq_params(q, buf, NFQA_CFG_F_GSO) == -1)
			return -1;
		log_warnx("queue %u: no conntrack in verdicts", q->num);
	}
	return 0;
}

static void
minq_flush(struct minq *q, struct mnl_nlmsg_batch *b)
{
	if (mnl_nlmsg_batch_is_empty(b))
		return;
	if (mnl_socket_sendto(q->nl, mnl_nlmsg_batch_head(b),
	    mnl_nlmsg_batch_size(b)) < 0)
		log_warn("queue %u: verdicts", q->num);
	mnl_nlmsg_batch_reset(b);
}

/* Walk one receive: every packet message gets NF_ACCEPT. The attributes
 * are parsed as the daemon parses them, since the packet id is one. */
static void
minq_walk(struct minq *q, const char *buf, size_t len,
    struct mnl_nlmsg_batch *b)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)(const void *)buf;
	struct nlattr *attr[NFQA_MAX + 1];
	struct nfqnl_msg_packet_hdr *ph;
	struct nlmsghdr *v;
	struct nlattr *nest;
	int rest = (int)len;

	for (; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_QUEUE ||
		    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET)
			continue;
		memset(attr, 0, sizeof(attr));
		if (nfq_nlmsg_parse(nlh, attr) < 0 ||
		    attr[NFQA_PACKET_HDR] == NULL ||
		    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) <
		    sizeof(*ph)) {
			q->unreadable++;
			continue;
		}
		ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
		q->packets++;
		v = nfq_nlmsg_put(mnl_nlmsg_batch_current(b), NFQNL_MSG_VERDICT,
		    q->num);
		nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), NF_ACCEPT);
		if (q->mark)
			nfq_nlmsg_verdict_put_mark(v, NFQ_MARK_ACCEPT);
		if (q->connmark && attr[NFQA_CT] != NULL) {
			nest = mnl_attr_nest_start(v, NFQA_CT);
			mnl_attr_put_u32(v, CTA_MARK, htonl(NFQ_MARK_ACCEPT));
			mnl_attr_nest_end(v, nest);
		}
		if (!mnl_nlmsg_batch_next(b)) {
			if (mnl_socket_sendto(q->nl, mnl_nlmsg_batch_head(b),
			    mnl_nlmsg_batch_size(b)) < 0)
				log_warn("queue %u: verdicts", q->num);
			mnl_nlmsg_batch_reset(b);
		}
	}
}

static void *
minq_main(void *arg)
{
	struct minq *q = arg;
	struct mnl_nlmsg_batch *b;
	char *rbuf, *bbuf;
	ssize_t n;

	rbuf = malloc(MIN_RECV_SIZE);
	bbuf = malloc(MIN_BATCH_LIMIT * 2);
	if (rbuf == NULL || bbuf == NULL)
		fatal("queue %u", q->num);
	if ((b = mnl_nlmsg_batch_start(bbuf, MIN_BATCH_LIMIT)) == NULL)
		fatal("queue %u: batch", q->num);
	while (!atomic_load(q->stop)) {
		n = mnl_socket_recvfrom(q->nl, rbuf, MIN_RECV_SIZE);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				q->enobufs++;
				continue;
			}
			log_warn("queue %u: receive", q->num);
			break;
		}
		minq_walk(q, rbuf, (size_t)n, b);
		minq_flush(q, b);
	}
	mnl_nlmsg_batch_stop(b);
	free(bbuf);
	free(rbuf);
	return NULL;
}

static void
minq_close(struct minq *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
	(void)mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
	mnl_socket_close(q->nl);
}

static void
usage(void)
{
	fprintf(stderr, "usage: nfqmin [-cm] [-q N[-M]]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct minq *q;
	atomic_bool stop;
	sigset_t mask;
	unsigned long first = 0, last = 0;
	char *end;
	size_t nq, i;
	int ch, sig, rc;
	bool mark = false, connmark = false;

	while ((ch = getopt(argc, argv, "cmq:")) != -1) {
		switch (ch) {
		case 'c':
			connmark = true;
			break;
		case 'm':
			mark = true;
			break;
		case 'q':
			first = strtoul(optarg, &end, 10);
			last = first;
			if (*end == '-')
				last = strtoul(end + 1, &end, 10);
			if (*end != '\0' || last < first || last > 65535 ||
			    last - first >= MIN_QUEUES_MAX)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("nfqmin", LOG_LEVEL_INFO, 0);

	/* Blocked before the threads start, so that only sigwait sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");

	atomic_init(&stop, false);
	nq = last - first + 1;
	if ((q = calloc(nq, sizeof(*q))) == NULL)
		fatal("queues");
	for (i = 0; i < nq; i++) {
		q[i].num = (uint16_t)(first + i);
		q[i].stop = &stop;
		q[i].mark = mark;
		q[i].connmark = connmark;
		if (minq_open(&q[i]) == -1)
			fatal("queue %u", q[i].num);
	}
	for (i = 0; i < nq; i++)
		if ((rc = pthread_create(&q[i].thread, NULL, minq_main,
		    &q[i])) != 0)
			fatalx("queue %u: thread: %s", q[i].num, strerror(rc));
	log_info("queues %lu-%lu bound", first, last);

	if (sigwait(&mask, &sig) != 0)
		fatalx("sigwait");
	atomic_store(&stop, true);
	for (i = 0; i < nq; i++) {
		pthread_join(q[i].thread, NULL);
		log_info("queue %u: packets %" PRIu64 " unreadable %" PRIu64
		    " enobufs %" PRIu64, q[i].num, q[i].packets,
		    q[i].unreadable, q[i].enobufs);
		minq_close(&q[i]);
	}
	free(q);
	return 0;
}
