/*
 * agentgate-nfq: settings, telemetry, the shared judging state, one thread
 * per queue; the main thread waits on signals and the inotify watches of the
 * registry and of the policy files, and reloads. Everything else lives in
 * queue.c, judge.c, state.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bindings.h"
#include "conf.h"
#include "event.h"
#include "log.h"
#include "policycache.h"
#include "queue.h"
#include "registry.h"
#include "state.h"
#include "telemetry.h"

#define NFQ_QUEUES_MAX		64
#define NFQ_FLOWS_PER_QUEUE	65536
#define NFQ_FLOW_IDLE_MS	(120 * 1000)	/* conntrack's UDP stream timeout */
#define NFQ_BINDINGS_MAX	(256 * 1024)
/* Packet-only TCP flows between SYN and decision, per queue; each holding
 * one costs HOLD_BYTES_MAX + 1/8 of it while its hello is incomplete. */
#define NFQ_HOLD_PER_QUEUE	1024

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: agentgate-nfq [-v] [--config FILE] [--queues N[-M]] "
	    "[--no-reject]\n");
}

/* "N" or "N-M", 0..65535, N <= M, at most NFQ_QUEUES_MAX queues. */
static int
parse_queues(const char *s, uint16_t *first, uint16_t *last)
{
	char *end;
	unsigned long a, b;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (end == s || errno != 0 || a > 65535 || s[0] == '-' || s[0] == '+')
		return -1;
	b = a;
	if (*end == '-') {
		s = end + 1;
		if (*s < '0' || *s > '9')
			return -1;
		b = strtoul(s, &end, 10);
		if (errno != 0 || b > 65535)
			return -1;
	}
	if (*end != '\0' || b < a || b - a >= NFQ_QUEUES_MAX)
		return -1;
	*first = (uint16_t)a;
	*last = (uint16_t)b;
	return 0;
}

/* SIGUSR1: the counters of every queue, to the operational log. */
static void
log_stats(const struct nfq_queue *q, size_t nq)
{
	size_t i;

	for (i = 0; i < nq; i++)
		log_info("queue %u: packets %ju accepted %ju dropped %ju "
		    "rejected %ju malformed %ju unreadable %ju enobufs %ju "
		    "flows-full %ju dns-answers %ju held %ju hold-expired %ju",
		    q[i].num,
		    (uintmax_t)q[i].st.packets, (uintmax_t)q[i].st.accepted,
		    (uintmax_t)q[i].st.dropped, (uintmax_t)q[i].st.rejected,
		    (uintmax_t)q[i].st.malformed,
		    (uintmax_t)q[i].st.bad_messages,
		    (uintmax_t)q[i].st.enobufs, (uintmax_t)q[i].st.flows_full,
		    (uintmax_t)q[i].st.dns_answers, (uintmax_t)q[i].st.held,
		    (uintmax_t)q[i].st.hold_expired);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The registry changed, or (settle_at != 0) policy files did: reload. */
static void
watch_events(struct nfq_shared *sh, const struct pollfd *pfd,
    uint64_t *settle_at)
{
	if ((pfd[1].revents & POLLIN) &&
	    nfq_state_registry_drain(sh->state) == -1)
		log_warn("registry watch");
	if ((pfd[2].revents & POLLIN) &&
	    nfq_state_policy_drain(sh->state) == 1 && *settle_at == 0)
		*settle_at = mono_ms() + POLICY_CACHE_SETTLE_MS;
	if (*settle_at != 0 && mono_ms() >= *settle_at)
		*settle_at = nfq_state_policy_settle(sh->state) == 1 ?
		    mono_ms() + POLICY_CACHE_SETTLE_MS : 0;
}

static void
emit_daemon(struct telemetry *t, enum event_kind kind, const char *reason)
{
	struct ag_event ev;

	event_init(&ev, kind);
	ev.process_pid = getpid();
	ev.process_name = NFQ_SERVICE;
	ev.reason = reason;
	if (telemetry_emit(t, &ev) == TELEMETRY_LOST)
		log_warn("telemetry: event lost");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "queues",	required_argument, NULL, 'q' },
		{ "no-reject",	no_argument,	   NULL, 'R' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = AG_SYSCONFDIR "/agentgate.conf";
	const char *queues = NULL;
	int config_given = 0, verbose = 0, reject = 1, ch, sigfd, timeout;
	int stop_signal = 0;
	uint64_t settle_at = 0, now;
	struct ag_conf conf;
	struct telemetry_config tcfg;
	struct telemetry *tel;
	struct nfq_shared sh;
	struct nfq_queue *q;
	struct signalfd_siginfo si;
	struct pollfd pfd[3];
	uint16_t first, last;
	size_t nq, i;
	sigset_t mask;
	char reason[64];

	while ((ch = getopt_long(argc, argv, "c:q:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			config_given = 1;
			break;
		case 'q':
			queues = optarg;
			break;
		case 'R':
			reject = 0;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(NFQ_SERVICE, verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
	    0);
	if (conf_init(&conf) == -1)
		fatal("settings");
	if (conf_read(&conf, config, config_given) == -1)
		exit(1);
	first = conf.nfq_queue_first;
	last = conf.nfq_queue_last;
	if (queues != NULL && parse_queues(queues, &first, &last) == -1)
		fatalx("--queues %s: want N or N-M (at most %d queues)",
		    queues, NFQ_QUEUES_MAX);
	if (last < first || last - first >= NFQ_QUEUES_MAX)
		fatalx("nfq-queues %u-%u: at most %d queues", first, last,
		    NFQ_QUEUES_MAX);
	if (!conf.nfq_enable)
		log_warnx("nfq is disabled in %s: the gateway drops what this "
		    "daemon would judge", config);

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	/* Blocked before any thread starts, so only the signalfd sees them. */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1)
		fatal("signalfd");

	tcfg = conf.telemetry;
	tcfg.dir = conf.log_dir;
	tcfg.service = NFQ_SERVICE;
	if ((tel = telemetry_open(&tcfg, NFQ_STREAM)) == NULL)
		fatal("telemetry %s", conf.log_dir);

	memset(&sh, 0, sizeof(sh));
	sh.tel = tel;
	sh.reject = reject != 0;
	sh.dns_port = conf.dns_port;
	sh.packet_only = conf.nfq_packet_only;
	sh.hold_max = NFQ_HOLD_PER_QUEUE;
	sh.flow_max = NFQ_FLOWS_PER_QUEUE;
	sh.flow_idle_ms = NFQ_FLOW_IDLE_MS;
	atomic_init(&sh.stop, false);
	if ((sh.state = nfq_state_new(&conf, tel)) == NULL)
		fatal("registry");
	if ((sh.bindings = bindings_new(NFQ_BINDINGS_MAX)) == NULL)
		fatal("bindings");

	nq = (size_t)(last - first) + 1;
	if ((q = calloc(nq, sizeof(*q))) == NULL)
		fatal("queues");
	for (i = 0; i < nq; i++)
		if (nfq_queue_open(&q[i], (uint16_t)(first + i), &sh) == -1)
			fatal("queue %zu", first + i);
	for (i = 0; i < nq; i++)
		if (nfq_queue_start(&q[i]) == -1)
			fatal("queue %zu: thread", first + i);
	emit_daemon(tel, EVENT_DAEMON_STARTED, NULL);
	log_info("queues %u-%u bound, reject %s, mode %s", first, last,
	    sh.reject ? "on" : "off", sh.packet_only ? "packet-only" : "proxy");

	pfd[0].fd = sigfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = nfq_state_registry_fd(sh.state);
	pfd[1].events = POLLIN;
	if ((pfd[2].fd = nfq_state_policy_fd(sh.state)) == -1)
		fatal("policy watch");
	pfd[2].events = POLLIN;
	while (stop_signal == 0) {
		now = mono_ms();
		timeout = settle_at == 0 ? -1 : settle_at <= now ? 0 :
		    (int)(settle_at - now);
		if (poll(pfd, 3, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		watch_events(&sh, pfd, &settle_at);
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reopening telemetry, reloading");
			if (telemetry_reopen(tel) == -1)
				log_warn("telemetry reopen");
			nfq_state_reload(sh.state);
		} else if (si.ssi_signo == SIGUSR1) {
			log_stats(q, nq);
		} else {
			log_info("%s: stopping", strsignal((int)si.ssi_signo));
			stop_signal = (int)si.ssi_signo;
		}
	}

	atomic_store(&sh.stop, true);
	for (i = 0; i < nq; i++)
		nfq_queue_close(&q[i]);
	free(q);
	snprintf(reason, sizeof(reason), "%s", strsignal(stop_signal));
	emit_daemon(tel, EVENT_DAEMON_STOPPED, reason);
	close(sigfd);
	bindings_free(sh.bindings);
	nfq_state_free(sh.state);
	telemetry_close(tel);
	conf_free(&conf);
	return 0;
}
