/*
 * Fuzz target for agentgate-nfq's packet parser: any bytes are parsed; on
 * success the payload must lie inside the input and the fields must agree
 * with each other. abort() marks a violation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet p;
	enum packet_result r;

	r = packet_parse(data, size, &p);
	if (packet_result_name(r)[0] == '?')
		abort();
	if (r != PACKET_OK)
		return 0;
	if (p.l3_len > size)
		abort();
	if (p.payload != NULL && (p.payload < data ||
	    p.payload + p.payload_len > data + p.l3_len))
		abort();
	if (p.fragment && !p.first_fragment && p.transport)
		abort();
	if (!p.fragment && p.first_fragment)
		abort();
	return 0;
}
