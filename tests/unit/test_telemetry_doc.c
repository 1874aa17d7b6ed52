/*
 * docs/telemetry.md cannot drift: every ```json example line in it must be
 * exactly what event_serialize() + event_finish() write for the inputs
 * below (same order as in the document), and every kind has an example.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "event.h"
#include "json.h"

#define TS	1795812527	/* 2026-11-27T20:48:47Z */
#define H1	"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define H0	"0000000000000000000000000000000000000000000000000000000000000000"

static void
addr(struct ag_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a->u.v6) == 1)
		a->family = AF_INET6;
}

static const struct event_dns_answer dns_answers[] = {
	{ "198.19.0.10", "A", 300 },
};

/* Fill ev for example i and its stamp; false past the last example. */
static bool
example(size_t i, struct ag_event *ev, struct event_stamp *st)
{
	struct event_stamp proxy = { "agentgate-proxy", "gw1", "proxy", 1042, H1, 0 };

	*st = proxy;
	switch (i) {
	case 0:		/* egress: TLS connection allowed */
		event_init(ev, EVENT_EGRESS);
		ev->ts.tv_sec = TS;
		ev->ts.tv_nsec = 123456000;
		ev->duration_ns = 1532000000;
		ev->outcome = OUTCOME_ALLOWED;
		ev->verdict = VERDICT_ALLOW;
		ev->task_id = "t-42";
		ev->policy = "default";
		ev->rule_file = "/etc/agentgate/policies/default.rules";
		ev->rule_line = 3;
		ev->rule_text = "allow *.example.test";
		addr(&ev->requested_ip, "198.19.0.10");
		ev->requested_port = 443;
		ev->destination_mismatch = 0;
		addr(&ev->src_ip, "198.18.1.2");
		ev->src_port = 40512;
		ev->src_bytes = 517;
		addr(&ev->dst_ip, "198.19.0.10");
		ev->dst_port = 443;
		ev->dst_domain = "api.example.test";
		ev->dst_bytes = 4096;
		ev->dst_country = "ZZ";
		ev->dst_as_number = 64500;
		ev->dst_as_org = "Example Transit";
		ev->transport = TRANSPORT_TCP;
		ev->protocol = PROTOCOL_TLS;
		ev->tls_server_name = "api.example.test";
		return true;
	case 1:		/* egress: DNS query allowed and answered */
		event_init(ev, EVENT_EGRESS);
		ev->ts.tv_sec = TS;
		ev->ts.tv_nsec = 100000;
		ev->outcome = OUTCOME_ALLOWED;
		ev->verdict = VERDICT_ALLOW;
		ev->task_id = "t-42";
		ev->policy = "default";
		ev->rule_file = "/etc/agentgate/policies/default.rules";
		ev->rule_line = 3;
		ev->rule_text = "allow *.example.test";
		addr(&ev->src_ip, "198.18.1.2");
		ev->src_port = 53111;
		addr(&ev->dst_ip, "198.18.1.1");
		ev->dst_port = 53;
		ev->dst_domain = "api.example.test";
		ev->transport = TRANSPORT_UDP;
		ev->protocol = PROTOCOL_DNS;
		ev->dns_question_name = "api.example.test";
		ev->dns_question_type = "A";
		ev->dns_answers = dns_answers;
		ev->dns_answers_count = 1;
		st->seq = 1041;
		return true;
	case 2:		/* egress: HTTP denied (default deny) */
		event_init(ev, EVENT_EGRESS);
		ev->ts.tv_sec = TS + 1;
		ev->outcome = OUTCOME_DENIED;
		ev->verdict = VERDICT_DENY;
		ev->reason = "no rule matches";
		ev->task_id = "t-42";
		ev->policy = "default";
		addr(&ev->requested_ip, "198.19.0.66");
		ev->requested_port = 80;
		addr(&ev->src_ip, "198.18.1.2");
		ev->src_port = 40514;
		ev->dst_port = 80;
		ev->dst_domain = "paste.example.net";
		ev->transport = TRANSPORT_TCP;
		ev->protocol = PROTOCOL_HTTP;
		ev->http_request_method = "POST";
		ev->url_domain = "paste.example.net";
		st->seq = 1043;
		return true;
	case 3:		/* egress: UDP flow denied by the nfq daemon */
		event_init(ev, EVENT_EGRESS);
		ev->ts.tv_sec = TS + 2;
		ev->outcome = OUTCOME_DENIED;
		ev->verdict = VERDICT_DENY;
		ev->reason = "quic rejected";
		ev->task_id = "t-42";
		ev->policy = "default";
		addr(&ev->src_ip, "fd00:a9:1::2");
		ev->src_port = 50000;
		addr(&ev->dst_ip, "fd00:a9:ff::10");
		ev->dst_port = 443;
		ev->transport = TRANSPORT_UDP;
		st->service = "agentgate-nfq";
		st->stream = "nfq";
		st->seq = 77;
		return true;
	case 4:	/* egress after the backlog overflowed while the disk was full */
		event_init(ev, EVENT_EGRESS);
		ev->ts.tv_sec = TS + 30;
		ev->outcome = OUTCOME_DENIED;
		ev->verdict = VERDICT_DENY;
		ev->task_id = "t-42";
		ev->policy = "default";
		ev->dst_domain = "exfil.example.net";
		ev->dst_port = 443;
		ev->transport = TRANSPORT_TCP;
		ev->protocol = PROTOCOL_TLS;
		ev->tls_server_name = "exfil.example.net";
		st->seq = 11048;
		st->lost = 312;
		return true;
	case 5:		/* approval-requested */
		event_init(ev, EVENT_APPROVAL_REQUESTED);
		ev->ts.tv_sec = TS + 3;
		ev->outcome = OUTCOME_PENDING;
		ev->verdict = VERDICT_ASK;
		ev->task_id = "t-42";
		ev->policy = "default";
		ev->rule_file = "/etc/agentgate/policies/default.rules";
		ev->rule_line = 7;
		ev->rule_text = "ask *.pypi.example.test";
		ev->approval_id = "a1b2c3d4";
		ev->trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
		/* the first connection: to the name's synthetic address */
		addr(&ev->src_ip, "198.18.1.2");
		ev->src_port = 40112;
		addr(&ev->dst_ip, "198.19.254.7");
		ev->dst_domain = "files.pypi.example.test";
		ev->dst_port = 443;
		ev->transport = TRANSPORT_TCP;
		st->seq = 1044;
		return true;
	case 6:		/* approval-decided */
		event_init(ev, EVENT_APPROVAL_DECIDED);
		ev->ts.tv_sec = TS + 40;
		ev->duration_ns = 37000000000;	/* seconds waited */
		ev->outcome = OUTCOME_ALLOWED;
		ev->verdict = VERDICT_ASK;
		ev->task_id = "t-42";
		ev->policy = "default";
		ev->trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
		ev->approval_id = "a1b2c3d4";
		ev->approval_scope = "task";
		ev->approval_decider = "alice (uid 1000)";
		ev->reason = "build needs the mirror";
		ev->dst_domain = "files.pypi.example.test";
		ev->dst_port = 443;
		ev->transport = TRANSPORT_TCP;
		st->seq = 1045;
		return true;
	case 7:		/* task-started */
		event_init(ev, EVENT_TASK_STARTED);
		ev->ts.tv_sec = TS - 60;
		ev->task_id = "t-42";
		ev->policy = "default";
		addr(&ev->src_ip, "198.18.1.2");
		ev->process_pid = 31337;
		ev->process_name = "agentgate-run";
		ev->process_command_line = "agentgate-run --policy default -- make test";
		st->service = "agentgate-run";
		st->stream = "run";
		st->seq = 5;
		return true;
	case 8:		/* task-ended */
		event_init(ev, EVENT_TASK_ENDED);
		ev->ts.tv_sec = TS + 300;
		ev->duration_ns = 360000000000;
		ev->task_id = "t-42";
		ev->policy = "default";
		ev->process_pid = 31337;
		ev->process_name = "agentgate-run";
		ev->process_exit_code = 2;
		ev->attempts_allowed = 41;
		ev->attempts_denied = 2;
		ev->attempts_pending = 1;
		st->service = "agentgate-run";
		st->stream = "run";
		st->seq = 6;
		return true;
	case 9:		/* policy-loaded */
		event_init(ev, EVENT_POLICY_LOADED);
		ev->ts.tv_sec = TS - 3600;
		ev->policy = "default";
		ev->rule_file = "/etc/agentgate/policies/default.rules";
		ev->reason = "12 rules";
		st->seq = 2;
		return true;
	case 10:		/* policy-rejected */
		event_init(ev, EVENT_POLICY_REJECTED);
		ev->ts.tv_sec = TS - 1800;
		ev->policy = "default";
		ev->rule_file = "/etc/agentgate/policies/default.rules";
		ev->rule_line = 9;
		ev->reason = "unknown action 'alow'";
		st->seq = 900;
		return true;
	case 11:	/* daemon-started */
		event_init(ev, EVENT_DAEMON_STARTED);
		ev->ts.tv_sec = TS - 3600;
		ev->process_pid = 812;
		ev->process_name = "agentgate-proxy";
		ev->reason = "version 0.1.0";
		st->seq = 3;
		return true;
	case 12:	/* daemon-stopped */
		event_init(ev, EVENT_DAEMON_STOPPED);
		ev->ts.tv_sec = TS + 7200;
		ev->process_pid = 812;
		ev->process_name = "agentgate-proxy";
		ev->reason = "SIGTERM";
		st->seq = 2000;
		return true;
	case 13:	/* log-opened: a brand-new stream */
		event_init(ev, EVENT_LOG_OPENED);
		ev->ts.tv_sec = TS - 3600;
		ev->log_reason = LOG_REASON_START;
		st->seq = 1;
		st->prev_hash = H0;
		return true;
	case 14:	/* log-opened: after rotation */
		event_init(ev, EVENT_LOG_OPENED);
		ev->ts.tv_sec = TS + 10;
		ev->log_reason = LOG_REASON_ROTATE;
		ev->log_previous_file = "egress-proxy.jsonl.20261127T204857Z";
		st->seq = 1046;
		return true;
	case 15:	/* log-opened: restart after a crash left a torn line */
		event_init(ev, EVENT_LOG_OPENED);
		ev->ts.tv_sec = TS + 20;
		ev->log_reason = LOG_REASON_START;
		ev->log_repaired = true;
		st->seq = 1047;
		return true;
	default:
		return false;
	}
}

/* The ```json blocks of the document, one line each. */
static size_t
doc_examples(char ***out)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *line = NULL, **v = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	int in_block = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/telemetry.md", top ? top : "..");
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s (set top_srcdir)", path);
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strcmp(line, "```json") == 0) {
			in_block = 1;
			continue;
		}
		if (strncmp(line, "```", 3) == 0) {
			if (in_block == 1)
				fail_msg("empty ```json block in the document");
			in_block = 0;
			continue;
		}
		if (in_block == 2)
			fail_msg("a ```json block holds more than one line");
		if (in_block == 1) {
			v = realloc(v, (n + 1) * sizeof(*v));
			v[n++] = strdup(line);
			in_block = 2;
		}
	}
	free(line);
	fclose(f);
	*out = v;
	return n;
}

static void
test_doc_examples(void **state)
{
	bool seen[EVENT_KIND_COUNT] = { false };
	struct event_stamp st;
	struct ag_event ev;
	struct json_buf j;
	char **lines;
	size_t n, i, k;

	n = doc_examples(&lines);
	for (i = 0; example(i, &ev, &st); i++) {
		if (i >= n)
			fail_msg("docs/telemetry.md has %zu examples, the test %zu+", n, i + 1);
		json_init(&j, NULL, 0);
		assert_int_equal(event_serialize(&ev, &st, &j), 0);
		assert_int_equal(event_finish(&st, &j), 0);
		if (strlen(lines[i]) != j.len || memcmp(lines[i], j.data, j.len) != 0)
			fail_msg("example %zu differs\ndoc:  %s\ncode: %.*s", i + 1,
			    lines[i], (int)j.len, j.data);
		/* And it is valid JSON. */
		json_raw(&j, "", 1);
		json_object *o = json_tokener_parse(j.data);
		assert_non_null(o);
		json_object_put(o);
		json_free(&j);
		seen[ev.kind] = true;
	}
	assert_int_equal(i, n);
	for (k = 0; k < EVENT_KIND_COUNT; k++)
		if (!seen[k])
			fail_msg("no example for %s", event_kind_name((enum event_kind)k));
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_examples),
	};

	return cmocka_run_group_tests_name("telemetry_doc", tests, NULL, NULL);
}
