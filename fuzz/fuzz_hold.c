/*
 * Fuzz target hold: agentgate-nfq's reassembly of a held TCP flow's first
 * payload and what it says. The input is a SYN sequence number, then
 * segments (offset from the first payload byte minus 64, length, bytes),
 * fed in order as the queue would, examined after each.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hold_table *ht;
	struct hold_flow *f;
	struct hold_hello h;
	struct flow_key k;
	struct packet p;
	enum hold_result r = HOLD_NEED_MORE;
	uint32_t isn, id = 0;
	size_t len;

	if (size < 4)
		return 0;
	isn = (uint32_t)get16(data) << 16 | get16(data + 2);
	data += 4;
	size -= 4;
	memset(&k, 0, sizeof(k));
	k.proto = IPPROTO_TCP;
	if ((ht = hold_table_new(1, 0)) == NULL)
		abort();
	if ((f = hold_insert(ht, &k, isn, 0)) == NULL)
		abort();
	while (size >= 4 && r == HOLD_NEED_MORE) {
		memset(&p, 0, sizeof(p));
		p.proto = IPPROTO_TCP;
		p.transport = true;
		p.tcp_seq = isn + 1 + get16(data) - 64;
		len = get16(data + 2);
		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		p.payload = data;
		p.payload_len = len;
		data += len;
		size -= len;
		if (hold_add(f, id++, false, &p, 1) == -1)
			f->overflow = true;
		r = hold_examine(f, &h);
		if (f->contig > HOLD_BYTES_MAX || f->npkts > HOLD_PACKETS_MAX ||
		    h.host_len > 255 || strlen(h.host) > h.host_len ||
		    (r == HOLD_NAMED && h.host_len == 0))
			abort();
	}
	(void)hold_expire(ht, 1 + HOLD_TIME_MS + HOLD_SYN_IDLE_MS, NULL, NULL);
	if (hold_count(ht) != 0)
		abort();
	hold_table_free(ht);
	return 0;
}
