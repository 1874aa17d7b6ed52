/*
 * `agentgatectl report --task ID`: one task's compliance summary from the
 * telemetry folder, as Markdown or as a self-contained HTML page with an
 * inline SVG chart of attempts per minute. Every log string is escaped.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "logfmt.h"
#include "logread.h"

#define REPORT_BARS	120	/* at most this many bars; wider buckets beyond */

struct approval {
	ag_usec	 ts;
	char	*action, *id, *name, *scope, *decider, *outcome;
};

struct report {
	const char	*task;
	bool		 have_start, have_end;
	ag_usec		 start, end;
	int64_t		 exit_code;
	char		*policy, *command;
	uint64_t	 events, allowed, denied, pending;
	struct tally	 t_allowed, t_denied, t_pending;
	struct approval	*appr;
	size_t		 nappr;
	uint32_t	(*minute)[2];	/* attempts per minute: allowed, denied */
	size_t		 nminutes;
	ag_usec		 t0;		/* start of minute 0 */
};

static char *
xstrdup(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		fatal("report");
	return p;
}

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

static void
report_minute(struct report *rp, ag_usec ts, int denied)
{
	uint32_t (*nm)[2];
	size_t i, n;

	if (rp->nminutes == 0)
		rp->t0 = ts - ((ts % 60000000) + 60000000) % 60000000;
	i = ts < rp->t0 ? 0 : (size_t)((ts - rp->t0) / 60000000);
	if (i >= rp->nminutes) {
		n = i + 1 > 2 * rp->nminutes ? i + 1 : 2 * rp->nminutes;
		if ((nm = reallocarray(rp->minute, n, sizeof(*nm))) == NULL)
			fatal("report");
		memset(nm + rp->nminutes, 0, (n - rp->nminutes) * sizeof(*nm));
		rp->minute = nm;
		rp->nminutes = n;
	}
	rp->minute[i][denied]++;
}

static void
report_add(struct report *rp, const struct log_rec *r)
{
	struct tally_ent *e;
	struct approval *a;
	const char *name, *act = or_dash(r->action);
	char rule[300];
	int64_t v;
	bool denied;

	rp->events++;
	if (strcmp(act, "task-started") == 0 && !rp->have_start) {
		rp->have_start = true;
		rp->start = r->ts;
		rp->policy = xstrdup(json_path_str(r->obj, "agentgate.policy"));
		rp->command = xstrdup(json_path_str(r->obj,
		    "process.command_line"));
	} else if (strcmp(act, "task-ended") == 0) {
		rp->have_end = true;
		rp->end = r->ts;
		rp->exit_code = json_path_int(r->obj, "process.exit_code");
	} else if (strcmp(act, "approval-requested") == 0 ||
	    strcmp(act, "approval-decided") == 0) {
		a = reallocarray(rp->appr, rp->nappr + 1, sizeof(*a));
		if (a == NULL)
			fatal("report");
		rp->appr = a;
		a = &rp->appr[rp->nappr++];
		a->ts = r->ts;
		a->action = xstrdup(act);
		a->id = xstrdup(json_path_str(r->obj, "agentgate.approval.id"));
		a->scope = xstrdup(json_path_str(r->obj,
		    "agentgate.approval.scope"));
		a->decider = xstrdup(json_path_str(r->obj,
		    "agentgate.approval.decider"));
		a->outcome = xstrdup(r->outcome);
		a->name = xstrdup(r->name);
	} else if (strcmp(act, "egress") == 0 && r->outcome != NULL) {
		name = r->name ? r->name : or_dash(r->dst_ip);
		if (strcmp(r->outcome, "allowed") == 0) {
			rp->allowed++;
			e = tally_get(&rp->t_allowed, name, "");
			if ((v = json_path_int(r->obj, "source.bytes")) > 0)
				e->sum[0] += (uint64_t)v;
			if ((v = json_path_int(r->obj, "destination.bytes")) > 0)
				e->sum[1] += (uint64_t)v;
			report_minute(rp, r->ts, 0);
		} else {
			denied = strcmp(r->outcome, "denied") == 0;
			if (r->rule_file != NULL)
				snprintf(rule, sizeof(rule), "%s:%lld",
				    r->rule_file, (long long)r->rule_line);
			else
				snprintf(rule, sizeof(rule), "(no rule: "
				    "default deny)");
			e = tally_get(denied ? &rp->t_denied : &rp->t_pending,
			    name, rule);
			if (e->note == NULL)
				e->note = xstrdup(r->reason);
			if (denied) {
				rp->denied++;
				report_minute(rp, r->ts, 1);
			} else
				rp->pending++;
		}
		if (e->count++ == 0)
			e->first = r->ts;
		e->last = r->ts;
	}
}

static void
report_free(struct report *rp)
{
	size_t i;

	for (i = 0; i < rp->nappr; i++) {
		free(rp->appr[i].action);
		free(rp->appr[i].id);
		free(rp->appr[i].name);
		free(rp->appr[i].scope);
		free(rp->appr[i].decider);
		free(rp->appr[i].outcome);
	}
	free(rp->appr);
	free(rp->policy);
	free(rp->command);
	free(rp->minute);
	tally_free(&rp->t_allowed);
	tally_free(&rp->t_denied);
	tally_free(&rp->t_pending);
}

/* A cell: escaped for Markdown (html false) or HTML. */
static const char *
cell(struct sbuf *b, bool html, const char *s)
{
	sbuf_reset(b);
	s = or_dash(s);
	if (html)
		fmt_html(b, s, strlen(s));
	else
		fmt_md(b, s, strlen(s));
	return sbuf_str(b);
}

static const char *
when(ag_usec t, char *buf, size_t size)
{
	return time_format_ms(t, buf, size);
}

/* The parts both formats share, as tables: Markdown rows or HTML rows. */
static void
report_row(FILE *out, bool html, const char *const *cells, size_t n)
{
	size_t i;

	fputs(html ? "<tr>" : "|", out);
	for (i = 0; i < n; i++)
		fprintf(out, html ? "<td>%s</td>" : " %s |", cells[i]);
	fputs(html ? "</tr>\n" : "\n", out);
}

static void
report_head(FILE *out, bool html, const char *const *cells, size_t n)
{
	size_t i;

	if (html) {
		fputs("<table><tr>", out);
		for (i = 0; i < n; i++)
			fprintf(out, "<th>%s</th>", cells[i]);
		fputs("</tr>\n", out);
		return;
	}
	fputs("|", out);
	for (i = 0; i < n; i++)
		fprintf(out, " %s |", cells[i]);
	fputs("\n|", out);
	for (i = 0; i < n; i++)
		fputs("---|", out);
	fputs("\n", out);
}

static void
report_section(FILE *out, bool html, const char *title)
{
	fprintf(out, html ? "<h2>%s</h2>\n" : "\n## %s\n\n", title);
}

static void
report_none(FILE *out, bool html)
{
	fputs(html ? "<p>None.</p>\n" : "None.\n", out);
}

static void
report_tables(FILE *out, const struct report *rp, bool html)
{
	static const char *const h_allowed[] = { "Destination", "Attempts",
	    "Bytes sent", "Bytes received", "First", "Last" };
	static const char *const h_denied[] = { "Destination", "Attempts",
	    "Rule", "Reason", "First", "Last" };
	static const char *const h_appr[] = { "Time", "Event", "Approval",
	    "Destination", "Scope", "Decided by", "Outcome" };
	struct sbuf b[7];
	char n1[32], n2[32], n3[32], t1[32], t2[32];
	const char *c[7];
	const struct tally_ent *e;
	const struct approval *a;
	size_t i, k;

	memset(b, 0, sizeof(b));
	report_section(out, html, "Destinations reached (allowed)");
	if (rp->t_allowed.n == 0)
		report_none(out, html);
	else
		report_head(out, html, h_allowed, 6);
	for (i = 0; i < rp->t_allowed.n; i++) {
		e = &rp->t_allowed.ents[i];
		snprintf(n1, sizeof(n1), "%" PRIu64, e->count);
		snprintf(n2, sizeof(n2), "%" PRIu64, e->sum[0]);
		snprintf(n3, sizeof(n3), "%" PRIu64, e->sum[1]);
		c[0] = cell(&b[0], html, e->k1);
		c[1] = n1;
		c[2] = n2;
		c[3] = n3;
		c[4] = when(e->first, t1, sizeof(t1));
		c[5] = when(e->last, t2, sizeof(t2));
		report_row(out, html, c, 6);
	}
	if (html && rp->t_allowed.n > 0)
		fputs("</table>\n", out);

	for (k = 0; k < 2; k++) {
		const struct tally *t = k == 0 ? &rp->t_denied : &rp->t_pending;

		report_section(out, html, k == 0 ? "Denied" :
		    "Awaiting approval");
		if (t->n == 0)
			report_none(out, html);
		else
			report_head(out, html, h_denied, 6);
		for (i = 0; i < t->n; i++) {
			e = &t->ents[i];
			snprintf(n1, sizeof(n1), "%" PRIu64, e->count);
			c[0] = cell(&b[0], html, e->k1);
			c[1] = n1;
			c[2] = cell(&b[2], html, e->k2[0] ? e->k2 : NULL);
			c[3] = cell(&b[3], html, e->note);
			c[4] = when(e->first, t1, sizeof(t1));
			c[5] = when(e->last, t2, sizeof(t2));
			report_row(out, html, c, 6);
		}
		if (html && t->n > 0)
			fputs("</table>\n", out);
	}

	report_section(out, html, "Approvals");
	if (rp->nappr == 0)
		report_none(out, html);
	else
		report_head(out, html, h_appr, 7);
	for (i = 0; i < rp->nappr; i++) {
		a = &rp->appr[i];
		c[0] = when(a->ts, t1, sizeof(t1));
		c[1] = cell(&b[1], html, a->action);
		c[2] = cell(&b[2], html, a->id);
		c[3] = cell(&b[3], html, a->name);
		c[4] = cell(&b[4], html, a->scope);
		c[5] = cell(&b[5], html, a->decider);
		c[6] = cell(&b[6], html, a->outcome);
		report_row(out, html, c, 7);
	}
	if (html && rp->nappr > 0)
		fputs("</table>\n", out);
	for (i = 0; i < 7; i++)
		sbuf_free(&b[i]);
}

static void
report_facts(FILE *out, const struct report *rp, bool html)
{
	struct sbuf b = { NULL, 0, 0 };
	char t[32], code[32], att[96];
	const char *c[2];
	static const char *const head[] = { "", "" };

	snprintf(code, sizeof(code), "%lld", (long long)rp->exit_code);
	snprintf(att, sizeof(att), "%" PRIu64 " (%" PRIu64 " allowed, %"
	    PRIu64 " denied, %" PRIu64 " pending)", rp->allowed + rp->denied +
	    rp->pending, rp->allowed, rp->denied, rp->pending);
	report_head(out, html, head, 2);
	c[0] = "Started";
	c[1] = rp->have_start ? when(rp->start, t, sizeof(t)) : "not logged";
	report_row(out, html, c, 2);
	c[0] = "Ended";
	c[1] = rp->have_end ? when(rp->end, t, sizeof(t)) : "not logged";
	report_row(out, html, c, 2);
	c[0] = "Exit status";
	c[1] = rp->have_end && rp->exit_code >= 0 ? code : "-";
	report_row(out, html, c, 2);
	c[0] = "Policy";
	c[1] = cell(&b, html, rp->policy);
	report_row(out, html, c, 2);
	c[0] = "Command";
	c[1] = cell(&b, html, rp->command);
	report_row(out, html, c, 2);
	c[0] = "Egress attempts";
	c[1] = att;
	report_row(out, html, c, 2);
	if (html)
		fputs("</table>\n", out);
	sbuf_free(&b);
}

/* Stacked bars, allowed under denied, one per bucket of minutes. */
static void
report_svg(FILE *out, const struct report *rp)
{
	size_t per, nb, i, j;
	uint32_t max = 1, a, d;
	double w, x, ha, hd;
	char t[32];

	if (rp->nminutes == 0) {
		fputs("<p>No egress attempts.</p>\n", out);
		return;
	}
	per = (rp->nminutes + REPORT_BARS - 1) / REPORT_BARS;
	nb = (rp->nminutes + per - 1) / per;
	for (i = 0; i < nb; i++) {
		for (a = d = 0, j = i * per; j < (i + 1) * per &&
		    j < rp->nminutes; j++) {
			a += rp->minute[j][0];
			d += rp->minute[j][1];
		}
		if (a + d > max)
			max = a + d;
	}
	w = 720.0 / (double)nb;
	fprintf(out, "<p>Attempts per %zu minute%s from %s; highest bar: %"
	    PRIu32 ".</p>\n", per, per == 1 ? "" : "s",
	    when(rp->t0, t, sizeof(t)), max);
	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" "
	    "height=\"230\" role=\"img\" aria-label=\"attempts per minute\">\n"
	    "<line x1=\"20\" y1=\"200\" x2=\"740\" y2=\"200\" "
	    "stroke=\"#888\"/>\n", out);
	for (i = 0; i < nb; i++) {
		for (a = d = 0, j = i * per; j < (i + 1) * per &&
		    j < rp->nminutes; j++) {
			a += rp->minute[j][0];
			d += rp->minute[j][1];
		}
		x = 20.0 + w * (double)i;
		ha = 180.0 * a / max;
		hd = 180.0 * d / max;
		if (a > 0)
			fprintf(out, "<rect class=\"a\" x=\"%.1f\" y=\"%.1f\" "
			    "width=\"%.1f\" height=\"%.1f\"><title>%" PRIu32
			    " allowed</title></rect>\n", x, 200.0 - ha,
			    w * 0.9, ha, a);
		if (d > 0)
			fprintf(out, "<rect class=\"d\" x=\"%.1f\" y=\"%.1f\" "
			    "width=\"%.1f\" height=\"%.1f\"><title>%" PRIu32
			    " denied</title></rect>\n", x, 200.0 - ha - hd,
			    w * 0.9, hd, d);
	}
	fputs("<rect class=\"a\" x=\"20\" y=\"212\" width=\"10\" "
	    "height=\"10\"/><text x=\"34\" y=\"221\">allowed</text>\n"
	    "<rect class=\"d\" x=\"100\" y=\"212\" width=\"10\" height=\"10\"/>"
	    "<text x=\"114\" y=\"221\">denied</text>\n</svg>\n", out);
}

static void
report_write(FILE *out, const struct report *rp, bool html)
{
	struct sbuf b = { NULL, 0, 0 };

	if (html) {
		fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		    "<meta charset=\"utf-8\">\n<title>agentgate task report: "
		    "%s</title>\n<style>\n"
		    "body{font-family:sans-serif;margin:2em;color:#222}\n"
		    "table{border-collapse:collapse;margin:.5em 0}\n"
		    "td,th{border:1px solid #ccc;padding:.2em .6em;"
		    "text-align:left;font-size:90%%}\n"
		    "th{background:#f3f3f3}\n"
		    ".a{fill:#3a8d3a}.d{fill:#c0392b}text{font-size:12px}\n"
		    "</style></head><body>\n<h1>Task report: %s</h1>\n",
		    cell(&b, true, rp->task), sbuf_str(&b));
		report_facts(out, rp, true);
		report_section(out, true, "Attempts over time");
		report_svg(out, rp);
		report_tables(out, rp, true);
		fputs("</body></html>\n", out);
	} else {
		fprintf(out, "# Task report: %s\n\n",
		    cell(&b, false, rp->task));
		report_facts(out, rp, false);
		report_tables(out, rp, false);
	}
	sbuf_free(&b);
}

static void
report_usage(FILE *out)
{
	fprintf(out,
	    "usage: agentgatectl report --task ID [--format md|html] "
	    "[--output FILE] [--dir DIR]\n"
	    "\n"
	    "One task's compliance summary from the telemetry folder: start,\n"
	    "end and exit status, destinations reached (attempts, bytes),\n"
	    "denied attempts with rule and reason, approvals (who, scope,\n"
	    "when). Markdown by default; html is one self-contained page with\n"
	    "a chart of attempts per minute.\n"
	    "  --task ID        the task (agentgate.task.id); required\n"
	    "  --format FMT     md (default) or html\n"
	    "  --output FILE    write there instead of standard output\n"
	    "  --dir DIR        telemetry folder (default: agentgatectl's "
	    "--log-dir)\n"
	    "  -h, --help       this help\n"
	    "Exit status: 0 report written, 1 no event of that task or an "
	    "error, 2 usage.\n");
}

int
cmd_report(int argc, char **argv, const struct ctl_env *env)
{
	static const struct option opts[] = {
		{ "task",	required_argument, NULL, 't' },
		{ "format",	required_argument, NULL, 'F' },
		{ "output",	required_argument, NULL, 'o' },
		{ "dir",	required_argument, NULL, 'd' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct lr_head *h;
	struct log_filter f;
	struct lr_merge m;
	struct lr_dir d;
	struct report rp;
	const char *dir = env->log_dir, *output = NULL, *what = NULL;
	bool html = false;
	FILE *out = stdout;
	int c, rc = CTL_EXIT_FAIL;

	memset(&rp, 0, sizeof(rp));
	filter_init(&f);
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (filter_set_task(&f, optarg) == -1)
				what = "--task: empty task id";
			rp.task = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "html") == 0)
				html = true;
			else if (strcmp(optarg, "md") == 0)
				html = false;
			else
				what = "--format: expected md or html";
			break;
		case 'o':
			output = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return CTL_EXIT_OK;
		default:
			report_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (what == NULL && rp.task == NULL)
		what = "--task is required";
	if (what == NULL && optind < argc)
		what = "unexpected argument";
	if (what != NULL) {
		fprintf(stderr, "agentgatectl report: %s\n", what);
		report_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (lr_dir_scan(dir, &d) == -1) {
		log_warn("%s", dir);
		return CTL_EXIT_FAIL;
	}
	if (lr_merge_init(&m, &d, &f, false) == -1)
		fatal("merge");
	while ((h = lr_merge_next(&m)) != NULL)
		report_add(&rp, &h->rec);
	lr_merge_free(&m);
	lr_dir_free(&d);
	if (rp.events == 0) {
		log_warnx("no event of task '%s' in %s", rp.task, dir);
		goto out;
	}
	tally_sort(&rp.t_allowed);
	tally_sort(&rp.t_denied);
	tally_sort(&rp.t_pending);
	if (output != NULL && (out = fopen(output, "w")) == NULL) {
		log_warn("%s", output);
		goto out;
	}
	report_write(out, &rp, html);
	if (out != stdout ? fclose(out) == EOF : fflush(out) == EOF) {
		log_warn("%s", output ? output : "stdout");
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	report_free(&rp);
	return rc;
}
