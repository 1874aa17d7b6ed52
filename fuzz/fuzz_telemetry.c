/*
 * Fuzz target for the telemetry encoder and the chain-suffix parser: any
 * bytes in a wire string (SNI, domain, command line) must give exactly one
 * line of valid JSON with valid UTF-8 and no control bytes, and the parser
 * the writer uses on restart must accept any file tail without harm.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "event.h"
#include "json.h"
#include "telemetry_tail.h"

/* Strict UTF-8 (RFC 3629), written independently of json.c. */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1; cp = s[i] & 0x1f; min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2; cp = s[i] & 0x0f; min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3; cp = s[i] & 0x07; min = 0x10000;
		} else
			return 0;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static void
check_line(const char *p, size_t n)
{
	json_tokener *tok;
	json_object *o;
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			abort();
	if (!utf8_valid((const unsigned char *)p, n))
		abort();
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, p, (int)n);
	if (o == NULL || json_tokener_get_parse_end(tok) != n)
		abort();
	json_object_put(o);
	json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct event_stamp stamp = { "agentgate-proxy", "gw1",
	    "proxy", 1, "0000000000000000000000000000000000000000000000000000000000000000", 0 };
	const char *s = (const char *)data;
	struct json_buf j;
	struct ag_event ev;
	uint64_t seq;

	if (size > 65536)
		return 0;
	json_init(&j, NULL, 0);
	if (json_str(&j, s, size) == 0)
		check_line(j.data, j.len);
	json_free(&j);

	event_init(&ev, EVENT_EGRESS);
	if (size > 0) {
		ev.tls_server_name = s;
		ev.tls_server_name_len = size;
		ev.dst_domain = s;
		ev.dst_domain_len = size;
		ev.process_command_line = s;
		ev.process_command_line_len = size;
	}
	json_init(&j, NULL, 0);
	if (event_serialize(&ev, &stamp, &j) == 0 && event_finish(&stamp, &j) == 0) {
		check_line(j.data, j.len);
		/* The writer must find its own chain fields again. */
		if (tail_parse_seq(j.data, j.len, "proxy", &seq) != 0 || seq != 1)
			abort();
	}
	json_free(&j);

	/* Any tail of a (tampered) file. */
	if (tail_parse_seq(s, size, "proxy", &seq) == 0 &&
	    (size < 80 || memcmp(s + size - 2, "}}", 2) != 0))
		abort();
	return 0;
}
