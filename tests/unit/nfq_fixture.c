/*
 * The nfq judge tests' shared fixture (nfq_fixture.h).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nfq_fixture.h"

int
nfq_fixture_init(struct nfq_fixture *f, const char *policy_text)
{
	f->pol = policy_load_buffer("t.rules", "t", policy_text,
	    strlen(policy_text), NULL, NULL, NULL);
	if (f->pol == NULL)
		return -1;
	if ((f->b = bindings_new(64)) == NULL)
		return -1;
	registry_task_init(&f->task);
	snprintf(f->task.id, sizeof(f->task.id), "t1");
	return 0;
}

int
nfq_fixture_teardown(void **state)
{
	struct nfq_fixture *f = *state;

	policy_unref(f->pol);
	bindings_free(f->b);
	return 0;
}

struct packet
nfq_fixture_packet(const char *dst, uint8_t proto, uint16_t dport,
    uint8_t tcp_flags)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(addr_parse(strchr(dst, ':') ? "fd00:a6e0::2" :
	    "198.18.0.2", &p.src), 0);
	assert_int_equal(addr_parse(dst, &p.dst), 0);
	p.proto = proto;
	p.sport = 40000;
	p.dport = dport;
	p.tcp_flags = tcp_flags;
	p.transport = true;
	return p;
}
