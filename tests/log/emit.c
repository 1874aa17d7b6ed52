/*
 * Test helper: writes deterministic egress events through the real
 * telemetry writer, so tests/log/writer.test.sh can query and verify what
 * the library (not a fixture script) wrote. Event i (0-based) has task
 * "task-(i%5)", outcome denied when i%3 == 0 else allowed, domain
 * "host(i%7).example.test", destination 198.18.0.(i%250+1):443.
 *
 *   emit DIR STREAM COUNT [ROTATE_BYTES]
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "log.h"
#include "telemetry.h"

int
main(int argc, char **argv)
{
	struct telemetry_config cfg;
	struct telemetry *t;
	char domain[64], task[16];
	long i, count;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: emit DIR STREAM COUNT [ROTATE_BYTES]\n");
		return 2;
	}
	log_init("emit", LOG_LEVEL_WARN, 0);
	count = strtol(argv[3], NULL, 10);
	telemetry_config_init(&cfg);
	cfg.dir = argv[1];
	cfg.service = "agentgate-test";
	cfg.hostname = "testhost";
	cfg.fsync = TELEMETRY_FSYNC_NEVER;
	if (argc == 5)
		cfg.rotate_size = strtoull(argv[4], NULL, 10);
	if ((t = telemetry_open(&cfg, argv[2])) == NULL)
		fatal("telemetry_open %s", argv[1]);
	for (i = 0; i < count; i++) {
		struct ag_event ev;

		event_init(&ev, EVENT_EGRESS);
		snprintf(task, sizeof(task), "task-%ld", i % 5);
		snprintf(domain, sizeof(domain), "host%ld.example.test", i % 7);
		ev.task_id = task;
		ev.policy = "ci";
		ev.outcome = i % 3 == 0 ? OUTCOME_DENIED : OUTCOME_ALLOWED;
		ev.verdict = i % 3 == 0 ? VERDICT_DENY : VERDICT_ALLOW;
		ev.transport = TRANSPORT_TCP;
		ev.protocol = PROTOCOL_TLS;
		ev.dst_domain = domain;
		ev.tls_server_name = domain;
		addr_from_v4(htonl(0xc6120000u | (uint32_t)(i % 250 + 1)), &ev.dst_ip);
		ev.dst_port = 443;
		if (ev.outcome == OUTCOME_DENIED)
			ev.reason = "no rule matched";
		if (telemetry_emit(t, &ev) != TELEMETRY_WRITTEN)
			fatal("event %ld not written", i);
	}
	telemetry_close(t);
	return 0;
}
