/*
 * Fuzz target for the DNS message code: any input is parsed as a query and
 * as a response; a query that parses has error and answer responses built
 * for it, which must parse back and echo its question. abort() marks a
 * violation.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Large, so kept off the stack; libFuzzer runs one input at a time. */
static struct dns_response fuzz_resp;
static uint8_t fuzz_out[DNS_MSG_MAX];

static void
check_text(const struct dns_name *n)
{
	size_t len = strlen(n->text);

	if (!n->valid) {
		if (len != 0)
			abort();
		return;
	}
	/* Presentation text is the wire length minus the first length byte
	 * and the root, or empty for the root itself. */
	if (n->wire_len == 0 || n->wire_len > DNS_NAME_WIRE_MAX ||
	    len != (n->wire_len == 1 ? 0 : n->wire_len - 2))
		abort();
}

/* A response we built must parse, echo the question and be cut for UDP. */
static void
check_built(const struct dns_query *q, ssize_t n, uint16_t ancount)
{
	ssize_t cut;

	if (n < DNS_HEADER_LEN)
		abort();
	if (!q->has_question)
		return;
	if (dns_parse_response(fuzz_out, (size_t)n, &fuzz_resp) != DNS_OK ||
	    !dns_response_matches(q, &fuzz_resp) ||
	    fuzz_resp.n_answers + fuzz_resp.n_dropped != ancount ||
	    fuzz_resp.has_edns != q->has_edns)
		abort();
	cut = dns_truncate_for_udp(fuzz_out, (size_t)n, dns_udp_limit(q));
	if (cut < DNS_HEADER_LEN || (size_t)cut > dns_udp_limit(q) ||
	    dns_parse_response(fuzz_out, (size_t)cut, &fuzz_resp) != DNS_OK ||
	    !dns_response_matches(q, &fuzz_resp))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_addr addrs[3];
	struct dns_query q;
	enum dns_result res;
	ssize_t n;
	uint16_t want;
	size_t i;

	res = dns_parse_query(data, size, &q);
	if (dns_result_name(res) == NULL)
		abort();
	if (q.has_question)
		check_text(&q.question.name);

	if (dns_parse_response(data, size, &fuzz_resp) == DNS_OK) {
		check_text(&fuzz_resp.question.name);
		if (fuzz_resp.n_answers > DNS_MAX_ANSWERS)
			abort();
		for (i = 0; i < fuzz_resp.n_answers; i++)
			if (fuzz_resp.answers[i].in_chain &&
			    !fuzz_resp.answers[i].name_valid)
				abort();
	}

	if (size >= DNS_HEADER_LEN && res != DNS_IGNORE) {
		n = dns_build_error(data, size, DNS_RCODE_REFUSED, fuzz_out,
		    sizeof(fuzz_out));
		check_built(&q, n, 0);
	}
	if (res != DNS_OK)
		return 0;

	addr_from_v4(htonl(0xc6120001), &addrs[0]);
	addr_from_v6((const uint8_t *)"\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1",
	    &addrs[1]);
	addr_from_v4(htonl(0xc6120002), &addrs[2]);
	n = dns_build_answer(data, size, addrs, 3, 60, fuzz_out,
	    sizeof(fuzz_out));
	want = q.question.qtype == DNS_TYPE_A ? 2 :
	    q.question.qtype == DNS_TYPE_AAAA ? 1 : 0;
	check_built(&q, n, want);
	return 0;
}
