/*
 * What the nfq judge tests share: a policy written out in the test, an
 * empty binding table and task "t1", and packets from the sandbox address
 * 198.18.0.2 (fd00:a6e0::2 for IPv6 destinations) described field by field.
 */
#ifndef AG_TEST_NFQ_FIXTURE_H
#define AG_TEST_NFQ_FIXTURE_H

#include <stdint.h>

#include "judge.h"

struct nfq_fixture {
	struct policy	*pol;
	struct bindings	*b;
	struct reg_task	 task;
};

/* Fill f from policy_text (file "t.rules", policy "t"); 0 or -1. */
int nfq_fixture_init(struct nfq_fixture *f, const char *policy_text);
/* cmocka teardown for *state == a struct nfq_fixture. */
int nfq_fixture_teardown(void **state);
/* A parsed packet to dst (an address literal) with the transport ports
 * 40000 -> dport and, for TCP, the given flags. */
struct packet nfq_fixture_packet(const char *dst, uint8_t proto,
    uint16_t dport, uint8_t tcp_flags);

#endif
