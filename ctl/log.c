/*
 * `agentgatectl log`: query the telemetry folder (filters, table, JSON, CSV,
 * summaries) and follow it as it grows. `log verify` is dispatched from here
 * to verify.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "logfmt.h"
#include "logread.h"
#include "verify.h"

enum log_format { FMT_TABLE, FMT_JSON, FMT_CSV };

struct log_query {
	struct log_filter	 filter;
	enum log_format		 format;
	bool			 follow;
	bool			 summary;
	bool			 by_task;
	const char		*dir;
	struct sbuf		 row;		/* one output line */
	struct tally		 counts;	/* --summary */
};

static void
log_usage(FILE *out)
{
	fprintf(out,
	    "usage: agentgatectl log [options]\n"
	    "       agentgatectl log verify [--dir DIR]\n"
	    "\n"
	    "Print telemetry events of every stream and rotated file in time\n"
	    "order. Filters combine (all must match):\n"
	    "  --task ID          agentgate.task.id\n"
	    "  --outcome OUTCOME  allowed, denied or pending\n"
	    "  --domain NAME      destination name, exactly; *.SUFFIX: any name\n"
	    "                     strictly below SUFFIX\n"
	    "  --dst ADDR[/LEN]   destination.ip (or, when nothing was dialled, the\n"
	    "                     requested address) in this address or CIDR\n"
	    "  --port N           destination.port\n"
	    "  --event KIND       event.action: egress, approval-requested,\n"
	    "                     approval-decided, task-started, task-ended,\n"
	    "                     policy-loaded, policy-rejected, daemon-started,\n"
	    "                     daemon-stopped, log-opened\n"
	    "  --since TIME       at or after TIME: RFC 3339 (2026-11-27T20:00:00Z,\n"
	    "                     +01:00) or a time ago: 45s, 90m, 2h, 3d, 1w\n"
	    "  --until TIME       before TIME\n"
	    "Output (default: an aligned table):\n"
	    "  --json             the matching lines themselves, byte for byte\n"
	    "  --csv              CSV (RFC 4180) with a header row\n"
	    "  --summary          counts per destination name and outcome, most\n"
	    "                     frequent first (egress events unless --event)\n"
	    "  --by task          with --summary: per task and outcome instead\n"
	    "  -f, --follow       then print new events as they are written,\n"
	    "                     across rotation, until interrupted\n"
	    "  --dir DIR          telemetry folder (default: the --log-dir of\n"
	    "                     agentgatectl)\n"
	    "  -h, --help         this help\n"
	    "Exit status: 0 success, 2 usage error.\n");
}

/* One table or CSV row from a record; `r` NULL gives the header. */
static void
log_row(struct log_query *q, const struct lr_head *h)
{
	const struct log_rec *r = h ? &h->rec : NULL;
	struct sbuf *b = &q->row;
	struct sbuf cell[7];
	char when[32];
	size_t i, pad;
	const char *ts, *base;
	bool is_egress = r != NULL && r->action != NULL &&
	    strcmp(r->action, "egress") == 0;
	static const unsigned width[] = { 24, 12, 7, 30, 22, 14, 0 };
	static const char *const head[] = {
		"TIME", "TASK", "OUTCOME", "DESTINATION", "ADDRESS", "RULE",
		"REASON"
	};

	memset(cell, 0, sizeof(cell));
	sbuf_reset(b);
	if (r == NULL) {
		if (q->format == FMT_CSV) {
			sbuf_addf(b, "time,event,task,outcome,destination,"
			    "address,port,rule,reason\n");
			return;
		}
		for (i = 0; i < 7; i++)
			sbuf_add(&cell[i], head[i], strlen(head[i]));
	} else if (q->format == FMT_CSV) {
		ts = json_path_str(r->obj, "@timestamp");
		fmt_csv(b, ts, strlen(ts));
		sbuf_addc(b, ',');
		if (r->action)
			fmt_csv(b, r->action, strlen(r->action));
		sbuf_addc(b, ',');
		if (r->task)
			fmt_csv(b, r->task, strlen(r->task));
		sbuf_addc(b, ',');
		if (r->outcome)
			fmt_csv(b, r->outcome, strlen(r->outcome));
		sbuf_addc(b, ',');
		if (r->name)
			fmt_csv(b, r->name, r->name_len);
		sbuf_addc(b, ',');
		if (r->dst_ip)
			fmt_csv(b, r->dst_ip, strlen(r->dst_ip));
		sbuf_addc(b, ',');
		if (r->dst_port >= 0)
			sbuf_addf(b, "%lld", (long long)r->dst_port);
		sbuf_addc(b, ',');
		if (r->rule_file) {
			sbuf_reset(&cell[0]);
			fmt_text(&cell[0], r->rule_file, strlen(r->rule_file));
			if (r->rule_line >= 0)
				sbuf_addf(&cell[0], ":%lld",
				    (long long)r->rule_line);
			fmt_csv(b, cell[0].p, cell[0].len);
		}
		sbuf_addc(b, ',');
		if (r->reason)
			fmt_csv(b, r->reason, strlen(r->reason));
		sbuf_addc(b, '\n');
		sbuf_free(&cell[0]);
		return;
	} else {
		time_format_ms(r->ts, when, sizeof(when));
		sbuf_add(&cell[0], when, strlen(when));
		fmt_text(&cell[1], r->task ? r->task : "-",
		    r->task ? strlen(r->task) : 1);
		if (r->outcome != NULL)
			fmt_text(&cell[2], r->outcome, strlen(r->outcome));
		else
			sbuf_addc(&cell[2], '-');
		fmt_text(&cell[3], r->name ? r->name : "-",
		    r->name ? r->name_len : 1);
		fmt_addr_port(&cell[4], r->dst_ip, r->dst_port);
		if (r->rule_file != NULL) {
			/* The file name is enough on a screen; CSV has the
			 * path. */
			base = strrchr(r->rule_file, '/');
			base = base != NULL ? base + 1 : r->rule_file;
			fmt_text(&cell[5], base, strlen(base));
			if (r->rule_line >= 0)
				sbuf_addf(&cell[5], ":%lld",
				    (long long)r->rule_line);
		} else if (is_egress && r->outcome != NULL &&
		    strcmp(r->outcome, "denied") == 0)
			sbuf_add(&cell[5], "(default)", 9);
		else
			sbuf_addc(&cell[5], '-');
		/* Events other than egress say what they are in the last
		 * column, which can be as wide as it likes. */
		if (!is_egress) {
			sbuf_addc(&cell[6], '[');
			fmt_text(&cell[6], r->action ? r->action : "?",
			    r->action ? strlen(r->action) : 1);
			sbuf_add(&cell[6], "] ", r->reason ? 2 : 1);
		}
		if (r->reason != NULL)
			fmt_text(&cell[6], r->reason, strlen(r->reason));
		else if (is_egress)
			sbuf_addc(&cell[6], '-');
	}
	for (i = 0; i < 7; i++) {
		sbuf_add(b, cell[i].p, cell[i].len);
		if (i < 6) {
			pad = cell[i].len < width[i] ? width[i] - cell[i].len : 0;
			sbuf_add(b, "                              ", pad);
			sbuf_add(b, "  ", 2);
		}
		sbuf_free(&cell[i]);
	}
	sbuf_addc(b, '\n');
}

static void
log_emit(struct log_query *q, const struct lr_head *h)
{
	const struct log_rec *r = &h->rec;
	struct tally_ent *e;
	const char *k1;

	if (q->summary) {
		if (!(q->filter.set & FILTER_EVENT) &&
		    (r->action == NULL || strcmp(r->action, "egress") != 0))
			return;
		if (q->by_task)
			k1 = r->task ? r->task : "-";
		else
			k1 = r->name ? r->name : r->dst_ip ? r->dst_ip : "-";
		e = tally_get(&q->counts, k1, r->outcome ? r->outcome : "-");
		e->count++;
		return;
	}
	if (q->format == FMT_JSON) {
		fwrite(h->line.buf, 1, h->line.len, stdout);
		putchar('\n');
		return;
	}
	log_row(q, h);
	fwrite(q->row.p, 1, q->row.len, stdout);
}

static void
log_summary_print(struct log_query *q)
{
	struct sbuf b = { NULL, 0, 0 };
	struct tally_ent *e;
	size_t i;

	tally_sort(&q->counts);
	if (q->format == FMT_CSV)
		printf("count,outcome,%s\n", q->by_task ? "task" : "destination");
	else
		printf("%8s  %-8s  %s\n", "COUNT", "OUTCOME",
		    q->by_task ? "TASK" : "DESTINATION");
	for (i = 0; i < q->counts.n; i++) {
		e = &q->counts.ents[i];
		sbuf_reset(&b);
		if (q->format == FMT_CSV) {
			sbuf_addf(&b, "%" PRIu64 ",", e->count);
			fmt_csv(&b, e->k2, strlen(e->k2));
			sbuf_addc(&b, ',');
			fmt_csv(&b, e->k1, strlen(e->k1));
		} else {
			sbuf_addf(&b, "%8" PRIu64 "  ", e->count);
			fmt_text(&b, e->k2, strlen(e->k2));
			while (b.len < 20)
				sbuf_addc(&b, ' ');
			fmt_text(&b, e->k1, strlen(e->k1));
		}
		printf("%s\n", b.p);
	}
	sbuf_free(&b);
}

/* Wait for the folder to change or for SIGINT/SIGTERM; false on a signal. */
static bool
log_follow_wait(int sfd, int ifd)
{
	struct pollfd pfd[2];
	char buf[4096];

	memset(pfd, 0, sizeof(pfd));
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = ifd;
	pfd[1].events = POLLIN;
	/* inotify wakes us at once; the timeout is a bounded poll for the
	 * cases it misses (a folder on a network filesystem). */
	if (poll(pfd, ifd == -1 ? 1 : 2, 1000) == -1 && errno != EINTR)
		return false;
	if (pfd[0].revents & POLLIN)
		return false;
	if (ifd != -1 && (pfd[1].revents & POLLIN))
		while (read(ifd, buf, sizeof(buf)) > 0)
			;
	return true;
}

static int
log_run(struct log_query *q)
{
	const struct lr_head *h;
	struct lr_merge m;
	struct lr_dir d;
	sigset_t mask;
	int rc = CTL_EXIT_FAIL, sfd = -1, ifd = -1;

	if (q->follow) {
		/* Signals arrive through a descriptor: no handler, no
		 * global flag, and the wait below sees them. */
		sigemptyset(&mask);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGTERM);
		if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
		    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1) {
			log_warn("signalfd");
			return CTL_EXIT_FAIL;
		}
		if ((ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) != -1 &&
		    inotify_add_watch(ifd, q->dir, IN_MODIFY | IN_CREATE |
		    IN_MOVED_TO | IN_CLOSE_WRITE) == -1) {
			close(ifd);
			ifd = -1;
		}
	}
	if (lr_dir_scan(q->dir, &d) == -1) {
		log_warn("%s", q->dir);
		goto out;
	}
	if (lr_merge_init(&m, &d, &q->filter, q->follow) == -1) {
		log_warn("merge");
		lr_dir_free(&d);
		goto out;
	}
	if (!q->summary && q->format != FMT_JSON) {
		log_row(q, NULL);
		fwrite(q->row.p, 1, q->row.len, stdout);
	}
	for (;;) {
		while ((h = lr_merge_next(&m)) != NULL)
			log_emit(q, h);
		if (!q->follow)
			break;
		fflush(stdout);
		if (!log_follow_wait(sfd, ifd))
			break;
		if (lr_merge_refill(&m) == -1)
			log_warn("%s", q->dir);
	}
	if (q->summary)
		log_summary_print(q);
	rc = CTL_EXIT_OK;
	lr_merge_free(&m);
	lr_dir_free(&d);
out:
	if (fflush(stdout) == EOF && rc == CTL_EXIT_OK) {
		log_warn("stdout");
		rc = CTL_EXIT_FAIL;
	}
	if (sfd != -1)
		close(sfd);
	if (ifd != -1)
		close(ifd);
	return rc;
}

static ag_usec
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (ag_usec)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
cmd_log(int argc, char **argv, const struct ctl_env *env)
{
	enum {
		O_TASK = 256, O_OUTCOME, O_DOMAIN, O_DST, O_PORT, O_EVENT,
		O_SINCE, O_UNTIL, O_JSON, O_CSV, O_SUMMARY, O_BY, O_DIR
	};
	static const struct option opts[] = {
		{ "task",	required_argument, NULL, O_TASK },
		{ "outcome",	required_argument, NULL, O_OUTCOME },
		{ "domain",	required_argument, NULL, O_DOMAIN },
		{ "dst",	required_argument, NULL, O_DST },
		{ "port",	required_argument, NULL, O_PORT },
		{ "event",	required_argument, NULL, O_EVENT },
		{ "since",	required_argument, NULL, O_SINCE },
		{ "until",	required_argument, NULL, O_UNTIL },
		{ "json",	no_argument,	   NULL, O_JSON },
		{ "csv",	no_argument,	   NULL, O_CSV },
		{ "summary",	no_argument,	   NULL, O_SUMMARY },
		{ "by",		required_argument, NULL, O_BY },
		{ "dir",	required_argument, NULL, O_DIR },
		{ "follow",	no_argument,	   NULL, 'f' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct log_query q;
	ag_usec now = now_usec();
	const char *what = NULL;
	int c, rc;

	if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
		optind = 0;
		return cmd_log_verify(argc - 1, argv + 1, env);
	}
	memset(&q, 0, sizeof(q));
	filter_init(&q.filter);
	tally_init(&q.counts);
	q.dir = env->log_dir;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case O_TASK:
			if (filter_set_task(&q.filter, optarg) == -1)
				what = "--task: empty task id";
			break;
		case O_OUTCOME:
			if (filter_set_outcome(&q.filter, optarg) == -1)
				what = "--outcome: expected allowed, denied or "
				    "pending";
			break;
		case O_DOMAIN:
			if (filter_set_domain(&q.filter, optarg) == -1)
				what = "--domain: not a valid name or *.suffix";
			break;
		case O_DST:
			if (filter_set_dst(&q.filter, optarg) == -1)
				what = "--dst: not an address or CIDR (host "
				    "bits must be zero)";
			break;
		case O_PORT:
			if (filter_set_port(&q.filter, optarg) == -1)
				what = "--port: expected 0..65535";
			break;
		case O_EVENT:
			if (filter_set_event(&q.filter, optarg) == -1)
				what = "--event: unknown event kind";
			break;
		case O_SINCE:
			if (filter_set_since(&q.filter, optarg, now) == -1)
				what = "--since: expected RFC 3339 or N"
				    "s/m/h/d/w";
			break;
		case O_UNTIL:
			if (filter_set_until(&q.filter, optarg, now) == -1)
				what = "--until: expected RFC 3339 or N"
				    "s/m/h/d/w";
			break;
		case O_JSON:
		case O_CSV:
			if (q.format != FMT_TABLE)
				what = "--json and --csv exclude each other";
			q.format = c == O_JSON ? FMT_JSON : FMT_CSV;
			break;
		case O_SUMMARY:
			q.summary = true;
			break;
		case O_BY:
			if (strcmp(optarg, "task") == 0)
				q.by_task = true;
			else if (strcmp(optarg, "destination") != 0)
				what = "--by: expected task or destination";
			break;
		case O_DIR:
			q.dir = optarg;
			break;
		case 'f':
			q.follow = true;
			break;
		case 'h':
			log_usage(stdout);
			return CTL_EXIT_OK;
		default:
			log_usage(stderr);
			return CTL_EXIT_USAGE;
		}
		if (what != NULL) {
			if (optarg != NULL)
				fprintf(stderr, "agentgatectl log: %s: '%s'\n",
				    what, optarg);
			else
				fprintf(stderr, "agentgatectl log: %s\n", what);
			log_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		what = "unexpected argument";
	else if (q.summary && q.follow)
		what = "--summary and --follow exclude each other";
	else if (q.summary && q.format == FMT_JSON)
		what = "--summary prints counts, not --json";
	else if (q.by_task && !q.summary)
		what = "--by needs --summary";
	if (what != NULL) {
		fprintf(stderr, "agentgatectl log: %s\n", what);
		log_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	/* Large writes: a query may print millions of lines. */
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	rc = log_run(&q);
	sbuf_free(&q.row);
	tally_free(&q.counts);
	return rc;
}
