/*
 * The gateway's rule text (ctl/gateway_rules.c): the restore input for the
 * default settings, custom pools and ports, nfq with one queue and a range
 * (reject-by-mark, connmark fast path, DNS answers queued), written out here
 * by hand; status's comparison of iptables-save dumps; queue counter lines.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "conf.h"
#include "gateway_rules.h"

#define RULES_MAX	16384

static const char want_default4[] =
    "# agentgate gateway rules, IPv4 (agentgatectl gateway up)\n"
    "*nat\n"
    ":AGENTGATE-PRE - [0:0]\n"
    "-A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 3128 -m comment --comment \"agentgate: explicit proxy reaches its listener\" -j RETURN\n"
    "-A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m addrtype --dst-type LOCAL -m tcp ! --dport 53 -m comment --comment \"agentgate: TCP to the gateway itself is judged in AGENTGATE-IN\" -j RETURN\n"
    "-A AGENTGATE-PRE -s 198.18.0.0/16 -p udp -m udp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5353\n"
    "-A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m tcp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5353\n"
    "-A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m comment --comment \"agentgate: TCP to the transparent proxy\" -j REDIRECT --to-ports 3129\n"
    "COMMIT\n"
    "*filter\n"
    ":AGENTGATE-FWD - [0:0]\n"
    ":AGENTGATE-IN - [0:0]\n"
    ":AGENTGATE-OUT - [0:0]\n"
    "-A AGENTGATE-IN -s 198.18.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.18.0.0/16 -p tcp -m multiport --dports 3129,3128,5353 -m comment --comment \"agentgate: proxy and DNS over TCP\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.18.0.0/16 -p udp -m udp --dport 5353 -m comment --comment \"agentgate: DNS\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.18.0.0/16 -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -m comment --comment \"agentgate: ping the gateway, rate-limited\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.18.0.0/16 -m comment --comment \"agentgate: sandboxes reach the gateway only on DNS and the proxy\" -j DROP\n"
    "-A AGENTGATE-FWD -d 198.18.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies to sandboxes\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -d 198.18.0.0/16 -m comment --comment \"agentgate: nothing new reaches a sandbox\" -j DROP\n"
    "-A AGENTGATE-FWD -s 198.18.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: flows already judged\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -s 198.18.0.0/16 -m comment --comment \"agentgate: other traffic dropped (nfq disabled)\" -j DROP\n"
    "COMMIT\n"
    "*mangle\n"
    ":AGENTGATE-MARK - [0:0]\n"
    "COMMIT\n";

static const char want_default6[] =
    "# agentgate gateway rules, IPv6 (agentgatectl gateway up)\n"
    "*nat\n"
    ":AGENTGATE-PRE - [0:0]\n"
    "-A AGENTGATE-PRE -s fd00:a6e0::/48 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 3128 -m comment --comment \"agentgate: explicit proxy reaches its listener\" -j RETURN\n"
    "-A AGENTGATE-PRE -s fd00:a6e0::/48 -p tcp -m addrtype --dst-type LOCAL -m tcp ! --dport 53 -m comment --comment \"agentgate: TCP to the gateway itself is judged in AGENTGATE-IN\" -j RETURN\n"
    "-A AGENTGATE-PRE -s fd00:a6e0::/48 -p udp -m udp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5353\n"
    "-A AGENTGATE-PRE -s fd00:a6e0::/48 -p tcp -m tcp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5353\n"
    "-A AGENTGATE-PRE -s fd00:a6e0::/48 -p tcp -m comment --comment \"agentgate: TCP to the transparent proxy\" -j REDIRECT --to-ports 3129\n"
    "COMMIT\n"
    "*filter\n"
    ":AGENTGATE-FWD - [0:0]\n"
    ":AGENTGATE-IN - [0:0]\n"
    ":AGENTGATE-OUT - [0:0]\n"
    "-A AGENTGATE-IN -s fd00:a6e0::/48 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:a6e0::/48 -p tcp -m multiport --dports 3129,3128,5353 -m comment --comment \"agentgate: proxy and DNS over TCP\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:a6e0::/48 -p udp -m udp --dport 5353 -m comment --comment \"agentgate: DNS\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:a6e0::/48 -p ipv6-icmp -m icmp6 --icmpv6-type 133 -m comment --comment \"agentgate: router solicitation\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:a6e0::/48 -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m comment --comment \"agentgate: neighbour solicitation\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:a6e0::/48 -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m comment --comment \"agentgate: neighbour advertisement\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:a6e0::/48 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m limit --limit 10/sec --limit-burst 20 -m comment --comment \"agentgate: ping the gateway, rate-limited\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:a6e0::/48 -m comment --comment \"agentgate: sandboxes reach the gateway only on DNS and the proxy\" -j DROP\n"
    "-A AGENTGATE-FWD -d fd00:a6e0::/48 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies to sandboxes\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -d fd00:a6e0::/48 -m comment --comment \"agentgate: nothing new reaches a sandbox\" -j DROP\n"
    "-A AGENTGATE-FWD -s fd00:a6e0::/48 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: flows already judged\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -s fd00:a6e0::/48 -m comment --comment \"agentgate: other traffic dropped (nfq disabled)\" -j DROP\n"
    "COMMIT\n"
    "*mangle\n"
    ":AGENTGATE-MARK - [0:0]\n"
    "COMMIT\n";

/* Custom pools and ports; nfq on with queue 7 alone. */
static const char want_custom4_q7[] =
    "# agentgate gateway rules, IPv4 (agentgatectl gateway up)\n"
    "*nat\n"
    ":AGENTGATE-PRE - [0:0]\n"
    "-A AGENTGATE-PRE -s 198.19.128.0/17 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8080 -m comment --comment \"agentgate: explicit proxy reaches its listener\" -j RETURN\n"
    "-A AGENTGATE-PRE -s 198.19.128.0/17 -p tcp -m addrtype --dst-type LOCAL -m tcp ! --dport 53 -m comment --comment \"agentgate: TCP to the gateway itself is judged in AGENTGATE-IN\" -j RETURN\n"
    "-A AGENTGATE-PRE -s 198.19.128.0/17 -p udp -m udp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5300\n"
    "-A AGENTGATE-PRE -s 198.19.128.0/17 -p tcp -m tcp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5300\n"
    "-A AGENTGATE-PRE -s 198.19.128.0/17 -p tcp -m comment --comment \"agentgate: TCP to the transparent proxy\" -j REDIRECT --to-ports 40000\n"
    "COMMIT\n"
    "*filter\n"
    ":AGENTGATE-FWD - [0:0]\n"
    ":AGENTGATE-IN - [0:0]\n"
    ":AGENTGATE-OUT - [0:0]\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -p tcp -m multiport --dports 40000,8080,5300 -m comment --comment \"agentgate: proxy and DNS over TCP\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -p udp -m udp --dport 5300 -m comment --comment \"agentgate: DNS\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -m comment --comment \"agentgate: ping the gateway, rate-limited\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -m comment --comment \"agentgate: sandboxes reach the gateway only on DNS and the proxy\" -j DROP\n"
    "-A AGENTGATE-FWD -d 198.19.128.0/17 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies to sandboxes\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -d 198.19.128.0/17 -m comment --comment \"agentgate: nothing new reaches a sandbox\" -j DROP\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: flows already judged\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 -m mark --mark 0x61670002 -m comment --comment \"agentgate: refused by agentgate-nfq\" -j REJECT --reject-with icmp-port-unreachable\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 -m connmark --mark 0x61670001 -m comment --comment \"agentgate: accepted by agentgate-nfq\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 -m comment --comment \"agentgate: other traffic to agentgate-nfq\" -j NFQUEUE --queue-num 7\n"
    "-A AGENTGATE-OUT -d 198.19.128.0/17 -p udp -m udp --sport 5300 -m comment --comment \"agentgate: DNS answers to agentgate-nfq\" -j NFQUEUE --queue-num 7\n"
    "-A AGENTGATE-OUT -d 198.19.128.0/17 -p tcp -m tcp --sport 5300 -m comment --comment \"agentgate: DNS answers over TCP to agentgate-nfq\" -j NFQUEUE --queue-num 7\n"
    "COMMIT\n"
    "*mangle\n"
    ":AGENTGATE-MARK - [0:0]\n"
    "-A AGENTGATE-MARK -s 198.19.128.0/17 -m mark --mark 0x61670001 -m comment --comment \"agentgate: accepted flows keep the mark\" -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff\n"
    "COMMIT\n";

/* The same settings, IPv6 pool fd00:1234:5600::/40, queues 2-5. */
static const char want_custom6_q2_5[] =
    "# agentgate gateway rules, IPv6 (agentgatectl gateway up)\n"
    "*nat\n"
    ":AGENTGATE-PRE - [0:0]\n"
    "-A AGENTGATE-PRE -s fd00:1234:5600::/40 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8080 -m comment --comment \"agentgate: explicit proxy reaches its listener\" -j RETURN\n"
    "-A AGENTGATE-PRE -s fd00:1234:5600::/40 -p tcp -m addrtype --dst-type LOCAL -m tcp ! --dport 53 -m comment --comment \"agentgate: TCP to the gateway itself is judged in AGENTGATE-IN\" -j RETURN\n"
    "-A AGENTGATE-PRE -s fd00:1234:5600::/40 -p udp -m udp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5300\n"
    "-A AGENTGATE-PRE -s fd00:1234:5600::/40 -p tcp -m tcp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5300\n"
    "-A AGENTGATE-PRE -s fd00:1234:5600::/40 -p tcp -m comment --comment \"agentgate: TCP to the transparent proxy\" -j REDIRECT --to-ports 40000\n"
    "COMMIT\n"
    "*filter\n"
    ":AGENTGATE-FWD - [0:0]\n"
    ":AGENTGATE-IN - [0:0]\n"
    ":AGENTGATE-OUT - [0:0]\n"
    "-A AGENTGATE-IN -s fd00:1234:5600::/40 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:1234:5600::/40 -p tcp -m multiport --dports 40000,8080,5300 -m comment --comment \"agentgate: proxy and DNS over TCP\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:1234:5600::/40 -p udp -m udp --dport 5300 -m comment --comment \"agentgate: DNS\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:1234:5600::/40 -p ipv6-icmp -m icmp6 --icmpv6-type 133 -m comment --comment \"agentgate: router solicitation\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:1234:5600::/40 -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m comment --comment \"agentgate: neighbour solicitation\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:1234:5600::/40 -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m comment --comment \"agentgate: neighbour advertisement\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:1234:5600::/40 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m limit --limit 10/sec --limit-burst 20 -m comment --comment \"agentgate: ping the gateway, rate-limited\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s fd00:1234:5600::/40 -m comment --comment \"agentgate: sandboxes reach the gateway only on DNS and the proxy\" -j DROP\n"
    "-A AGENTGATE-FWD -d fd00:1234:5600::/40 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies to sandboxes\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -d fd00:1234:5600::/40 -m comment --comment \"agentgate: nothing new reaches a sandbox\" -j DROP\n"
    "-A AGENTGATE-FWD -s fd00:1234:5600::/40 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: flows already judged\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -s fd00:1234:5600::/40 -m mark --mark 0x61670002 -m comment --comment \"agentgate: refused by agentgate-nfq\" -j REJECT --reject-with icmp6-port-unreachable\n"
    "-A AGENTGATE-FWD -s fd00:1234:5600::/40 -m connmark --mark 0x61670001 -m comment --comment \"agentgate: accepted by agentgate-nfq\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -s fd00:1234:5600::/40 -m comment --comment \"agentgate: other traffic to agentgate-nfq\" -j NFQUEUE --queue-balance 2:5\n"
    "-A AGENTGATE-OUT -d fd00:1234:5600::/40 -p udp -m udp --sport 5300 -m comment --comment \"agentgate: DNS answers to agentgate-nfq\" -j NFQUEUE --queue-balance 2:5\n"
    "-A AGENTGATE-OUT -d fd00:1234:5600::/40 -p tcp -m tcp --sport 5300 -m comment --comment \"agentgate: DNS answers over TCP to agentgate-nfq\" -j NFQUEUE --queue-balance 2:5\n"
    "COMMIT\n"
    "*mangle\n"
    ":AGENTGATE-MARK - [0:0]\n"
    "-A AGENTGATE-MARK -s fd00:1234:5600::/40 -m mark --mark 0x61670001 -m comment --comment \"agentgate: accepted flows keep the mark\" -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff\n"
    "COMMIT\n";

/*
 * Packet-only mode, IPv4, queue 7: no TCP redirect and no explicit-proxy
 * exception, only DNS over TCP reaches the gateway, established TCP is not
 * accepted before the queue (only the connmark fast path skips it), and a
 * refused TCP flow gets a reset.
 */
static const char want_packet_only4[] =
    "# agentgate gateway rules, IPv4 (agentgatectl gateway up)\n"
    "*nat\n"
    ":AGENTGATE-PRE - [0:0]\n"
    "-A AGENTGATE-PRE -s 198.19.128.0/17 -p tcp -m addrtype --dst-type LOCAL -m tcp ! --dport 53 -m comment --comment \"agentgate: TCP to the gateway itself is judged in AGENTGATE-IN\" -j RETURN\n"
    "-A AGENTGATE-PRE -s 198.19.128.0/17 -p udp -m udp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5300\n"
    "-A AGENTGATE-PRE -s 198.19.128.0/17 -p tcp -m tcp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5300\n"
    "COMMIT\n"
    "*filter\n"
    ":AGENTGATE-FWD - [0:0]\n"
    ":AGENTGATE-IN - [0:0]\n"
    ":AGENTGATE-OUT - [0:0]\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -p tcp -m tcp --dport 5300 -m comment --comment \"agentgate: DNS over TCP\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -p udp -m udp --dport 5300 -m comment --comment \"agentgate: DNS\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -m comment --comment \"agentgate: ping the gateway, rate-limited\" -j ACCEPT\n"
    "-A AGENTGATE-IN -s 198.19.128.0/17 -m comment --comment \"agentgate: sandboxes reach the gateway only on DNS and the proxy\" -j DROP\n"
    "-A AGENTGATE-FWD -d 198.19.128.0/17 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies to sandboxes\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -d 198.19.128.0/17 -m comment --comment \"agentgate: nothing new reaches a sandbox\" -j DROP\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 ! -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: flows already judged\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 -p tcp -m mark --mark 0x61670002 -m comment --comment \"agentgate: refused by agentgate-nfq\" -j REJECT --reject-with tcp-reset\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 -m mark --mark 0x61670002 -m comment --comment \"agentgate: refused by agentgate-nfq\" -j REJECT --reject-with icmp-port-unreachable\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 -m connmark --mark 0x61670001 -m comment --comment \"agentgate: accepted by agentgate-nfq\" -j ACCEPT\n"
    "-A AGENTGATE-FWD -s 198.19.128.0/17 -m comment --comment \"agentgate: other traffic to agentgate-nfq\" -j NFQUEUE --queue-num 7\n"
    "-A AGENTGATE-OUT -d 198.19.128.0/17 -p udp -m udp --sport 5300 -m comment --comment \"agentgate: DNS answers to agentgate-nfq\" -j NFQUEUE --queue-num 7\n"
    "-A AGENTGATE-OUT -d 198.19.128.0/17 -p tcp -m tcp --sport 5300 -m comment --comment \"agentgate: DNS answers over TCP to agentgate-nfq\" -j NFQUEUE --queue-num 7\n"
    "COMMIT\n"
    "*mangle\n"
    ":AGENTGATE-MARK - [0:0]\n"
    "-A AGENTGATE-MARK -s 198.19.128.0/17 -m mark --mark 0x61670001 -m comment --comment \"agentgate: accepted flows keep the mark\" -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff\n"
    "COMMIT\n";

static void
custom_conf(struct ag_conf *c)
{
	assert_int_equal(conf_init(c), 0);
	assert_int_equal(cidr_parse("198.19.128.0/17", &c->sandbox_pool4), 0);
	assert_int_equal(cidr_parse("fd00:1234:5600::/40", &c->sandbox_pool6), 0);
	c->proxy_port = 40000;
	c->proxy_explicit_port = 8080;
	c->dns_port = 5300;
	c->nfq_enable = true;
	c->nfq_queue_first = c->nfq_queue_last = 7;
}

static void
check_render(const struct ag_conf *c, int family, const char *want)
{
	char *buf = malloc(RULES_MAX);
	int n;

	assert_non_null(buf);
	n = gateway_rules_render(c, family, buf, RULES_MAX);
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
	free(buf);
}

static void
test_render_default(void **state)
{
	struct ag_conf c;

	assert_int_equal(conf_init(&c), 0);
	check_render(&c, 4, want_default4);
	check_render(&c, 6, want_default6);
	conf_free(&c);
}

static void
test_render_custom_one_queue(void **state)
{
	struct ag_conf c;

	custom_conf(&c);
	check_render(&c, 4, want_custom4_q7);
	conf_free(&c);
}

static void
test_render_custom_queue_range(void **state)
{
	struct ag_conf c;

	custom_conf(&c);
	c.nfq_queue_first = 2;
	c.nfq_queue_last = 5;
	check_render(&c, 6, want_custom6_q2_5);
	conf_free(&c);
}

static void
test_render_packet_only(void **state)
{
	struct ag_conf c;
	char buf[64];

	custom_conf(&c);
	c.nfq_packet_only = true;
	check_render(&c, 4, want_packet_only4);
	/* Packet-only without the queue would send TCP nowhere. */
	c.nfq_enable = false;
	errno = 0;
	assert_int_equal(gateway_rules_render(&c, 4, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
	conf_free(&c);
}

/* snprintf's contract: a short buffer gets a NUL-terminated prefix and the
 * full length comes back, so the caller can tell. */
static void
test_render_short_buffer(void **state)
{
	struct ag_conf c;
	char small[40];
	int n;

	assert_int_equal(conf_init(&c), 0);
	n = gateway_rules_render(&c, 4, small, sizeof(small));
	assert_int_equal(n, (int)strlen(want_default4));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, want_default4, sizeof(small) - 1);
	assert_int_equal(gateway_rules_render(&c, 4, NULL, 0), (int)strlen(want_default4));
	conf_free(&c);
}

static void
test_render_refused(void **state)
{
	struct ag_conf c;
	char buf[64];

	assert_int_equal(conf_init(&c), 0);
	errno = 0;
	assert_int_equal(gateway_rules_render(&c, 5, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
	/* A pool of the wrong family. */
	assert_int_equal(cidr_parse("fd00::/8", &c.sandbox_pool4), 0);
	assert_int_equal(gateway_rules_render(&c, 4, buf, sizeof(buf)), -1);
	assert_int_equal(gateway_rules_render(&c, 6, buf, sizeof(buf)) > 0, 1);
	conf_free(&c);

	/* Two services on one port: the accept list and the RETURN overlap. */
	assert_int_equal(conf_init(&c), 0);
	c.proxy_port = c.proxy_explicit_port;
	assert_int_equal(gateway_rules_render(&c, 4, buf, sizeof(buf)), -1);
	c.proxy_port = 3129;
	c.dns_port = 3129;
	assert_int_equal(gateway_rules_render(&c, 6, buf, sizeof(buf)), -1);
	conf_free(&c);
}

/* An iptables-save -c dump of both tables, as `gateway up` leaves it with
 * the default settings, beside a foreign rule of the host's. */
static const char saved_default4[] =
    "# Generated by iptables-save v1.8.9 (nf_tables) on Fri Nov 27 21:32:34 2026\n"
    "*nat\n"
    ":PREROUTING ACCEPT [10:600]\n"
    ":INPUT ACCEPT [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":POSTROUTING ACCEPT [0:0]\n"
    ":AGENTGATE-PRE - [0:0]\n"
    "[4:240] -A PREROUTING -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-PRE\n"
    "[0:0] -A PREROUTING -i eth9 -j ACCEPT\n"
    "[0:0] -A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 3128 -m comment --comment \"agentgate: explicit proxy reaches its listener\" -j RETURN\n"
    "[3:180] -A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m addrtype --dst-type LOCAL -m tcp ! --dport 53 -m comment --comment \"agentgate: TCP to the gateway itself is judged in AGENTGATE-IN\" -j RETURN\n"
    "[2:120] -A AGENTGATE-PRE -s 198.18.0.0/16 -p udp -m udp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5353\n"
    "[0:0] -A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m tcp --dport 53 -m comment --comment \"agentgate: every DNS query to the forwarder\" -j REDIRECT --to-ports 5353\n"
    "[2:120] -A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m comment --comment \"agentgate: TCP to the transparent proxy\" -j REDIRECT --to-ports 3129\n"
    "COMMIT\n"
    "# Completed on Fri Nov 27 21:32:34 2026\n"
    "*filter\n"
    ":INPUT ACCEPT [0:0]\n"
    ":FORWARD DROP [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":AGENTGATE-FWD - [0:0]\n"
    ":AGENTGATE-IN - [0:0]\n"
    ":AGENTGATE-OUT - [0:0]\n"
    "[9:900] -A INPUT -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-IN\n"
    "[1:60] -A FORWARD -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-FWD\n"
    "[30:2000] -A OUTPUT -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-OUT\n"
    "[0:0] -A AGENTGATE-FWD -d 198.18.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies to sandboxes\" -j ACCEPT\n"
    "[0:0] -A AGENTGATE-FWD -d 198.18.0.0/16 -m comment --comment \"agentgate: nothing new reaches a sandbox\" -j DROP\n"
    "[0:0] -A AGENTGATE-FWD -s 198.18.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: flows already judged\" -j ACCEPT\n"
    "[1:60] -A AGENTGATE-FWD -s 198.18.0.0/16 -m comment --comment \"agentgate: other traffic dropped (nfq disabled)\" -j DROP\n"
    "[5:500] -A AGENTGATE-IN -s 198.18.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"agentgate: replies\" -j ACCEPT\n"
    "[4:400] -A AGENTGATE-IN -s 198.18.0.0/16 -p tcp -m multiport --dports 3129,3128,5353 -m comment --comment \"agentgate: proxy and DNS over TCP\" -j ACCEPT\n"
    "[0:0] -A AGENTGATE-IN -s 198.18.0.0/16 -p udp -m udp --dport 5353 -m comment --comment \"agentgate: DNS\" -j ACCEPT\n"
    "[0:0] -A AGENTGATE-IN -s 198.18.0.0/16 -p icmp -m icmp --icmp-type 8 -m limit --limit 10/sec --limit-burst 20 -m comment --comment \"agentgate: ping the gateway, rate-limited\" -j ACCEPT\n"
    "[0:0] -A AGENTGATE-IN -s 198.18.0.0/16 -m comment --comment \"agentgate: sandboxes reach the gateway only on DNS and the proxy\" -j DROP\n"
    "COMMIT\n"
    "*mangle\n"
    ":PREROUTING ACCEPT [0:0]\n"
    ":INPUT ACCEPT [0:0]\n"
    ":FORWARD ACCEPT [0:0]\n"
    ":OUTPUT ACCEPT [0:0]\n"
    ":POSTROUTING ACCEPT [0:0]\n"
    ":AGENTGATE-MARK - [0:0]\n"
    "[40:3000] -A POSTROUTING -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-MARK\n"
    "COMMIT\n";

/* Copy of `text` with the first occurrence of `from` replaced by `to`. */
static char *
edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t fl = strlen(from), tl = strlen(to), n = strlen(text);
	char *s;

	assert_non_null(at);
	s = malloc(n - fl + tl + 1);
	assert_non_null(s);
	memcpy(s, text, (size_t)(at - text));
	memcpy(s + (at - text), to, tl);
	strcpy(s + (at - text) + tl, at + fl);
	return s;
}

static void
test_compare(void **state)
{
	static const char fwd_jump[] =
	    "[1:60] -A FORWARD -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-FWD\n";
	struct gateway_state st;
	char *s, *t;

	/* As rendered, counters and foreign rules ignored. */
	assert_int_equal(gateway_rules_compare(saved_default4, want_default4, &st),
	    GATEWAY_INSTALLED);
	assert_int_equal(st.chains, 5);
	assert_int_equal(st.jumps[0], 1);
	assert_int_equal(st.jumps[1], 1);
	assert_int_equal(st.jumps[2], 1);
	assert_int_equal(st.jumps[3], 1);
	assert_int_equal(st.jumps[4], 1);
	assert_true(st.rules_match);

	/* Nothing of ours. */
	assert_int_equal(gateway_rules_compare(
	    "*nat\n:PREROUTING ACCEPT [0:0]\n[0:0] -A PREROUTING -i eth9 -j ACCEPT\nCOMMIT\n"
	    "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", want_default4, &st),
	    GATEWAY_NOT_INSTALLED);
	assert_int_equal(st.chains, 0);
	assert_int_equal(gateway_rules_compare("", want_default4, NULL), GATEWAY_NOT_INSTALLED);

	/* One jump missing. */
	s = edit(saved_default4, fwd_jump, "");
	assert_int_equal(gateway_rules_compare(s, want_default4, &st), GATEWAY_PARTIAL);
	assert_int_equal(st.jumps[2], 0);
	free(s);

	/* One chain missing (its jump gone with it). */
	s = edit(saved_default4, ":AGENTGATE-PRE - [0:0]\n", "");
	assert_int_equal(gateway_rules_compare(s, want_default4, &st), GATEWAY_PARTIAL);
	assert_int_equal(st.chains, 4);
	free(s);

	/* A dump from before the nfq chains (three chains only): partial. */
	s = edit(saved_default4, "[40:3000] -A POSTROUTING -m comment --comment "
	    "\"agentgate: sandbox traffic\" -j AGENTGATE-MARK\n", "");
	t = edit(s, ":AGENTGATE-MARK - [0:0]\n", "");
	assert_int_equal(gateway_rules_compare(t, want_default4, &st), GATEWAY_PARTIAL);
	assert_int_equal(st.chains, 4);
	assert_int_equal(st.jumps[4], 0);
	free(t);
	free(s);

	/* nfq turned off but the mangle chain still saves marks: differs. */
	s = edit(saved_default4, ":AGENTGATE-MARK - [0:0]\n",
	    ":AGENTGATE-MARK - [0:0]\n[0:0] -A AGENTGATE-MARK -s 198.18.0.0/16 -m mark --mark "
	    "0x61670001 -m comment --comment \"agentgate: accepted flows keep the mark\" -j "
	    "CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff\n");
	assert_int_equal(gateway_rules_compare(s, want_default4, &st), GATEWAY_DIFFERS);
	assert_false(st.rules_match);
	free(s);

	/* Installed with other settings: the ports or the pool differ. */
	assert_int_equal(gateway_rules_compare(saved_default4, want_custom4_q7, &st),
	    GATEWAY_DIFFERS);
	assert_false(st.rules_match);

	/* One rule's target changed by hand. */
	s = edit(saved_default4, "\"agentgate: nothing new reaches a sandbox\" -j DROP",
	    "\"agentgate: nothing new reaches a sandbox\" -j ACCEPT");
	assert_int_equal(gateway_rules_compare(s, want_default4, NULL), GATEWAY_DIFFERS);
	free(s);

	/* A rule added at the end of one of our chains. */
	s = edit(saved_default4, "COMMIT\n# Completed",
	    "[0:0] -A AGENTGATE-PRE -j ACCEPT\nCOMMIT\n# Completed");
	assert_int_equal(gateway_rules_compare(s, want_default4, NULL), GATEWAY_DIFFERS);
	free(s);

	/* Two copies of a jump. */
	s = edit(saved_default4, fwd_jump,
	    "[1:60] -A FORWARD -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-FWD\n"
	    "[0:0] -A FORWARD -j AGENTGATE-FWD\n");
	assert_int_equal(gateway_rules_compare(s, want_default4, &st), GATEWAY_DIFFERS);
	assert_int_equal(st.jumps[2], 2);
	assert_true(st.rules_match);
	free(s);

	/* Our chain name in the wrong table is not ours. */
	t = edit(saved_default4, ":AGENTGATE-PRE - [0:0]\n", "");
	s = edit(t, ":AGENTGATE-IN - [0:0]\n", ":AGENTGATE-IN - [0:0]\n:AGENTGATE-PRE - [0:0]\n");
	assert_int_equal(gateway_rules_compare(s, want_default4, &st), GATEWAY_PARTIAL);
	assert_int_equal(st.chains, 4);
	free(s);
	free(t);
}

static void
test_is_ours(void **state)
{
	static const struct {
		const char	*line;
		bool		 ours;
	} cases[] = {
		{ ":AGENTGATE-PRE - [0:0]", true },
		{ ":AGENTGATE-PREX - [0:0]", false },
		{ ":PREROUTING ACCEPT [0:0]", false },
		{ "[3:180] -A AGENTGATE-IN -s 198.18.0.0/16 -j DROP", true },
		{ "-A AGENTGATE-FWD -j DROP", true },
		{ "-A AGENTGATE-FWDX -j DROP", false },
		{ "[1:2] -A FORWARD -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-FWD", true },
		{ "-A MYCHAIN -j AGENTGATE-IN", true },
		{ ":AGENTGATE-MARK - [0:0]", true },
		{ "[0:0] -A AGENTGATE-OUT -d 198.18.0.0/16 -j NFQUEUE --queue-num 0", true },
		{ "-A POSTROUTING -m comment --comment \"agentgate: sandbox traffic\" -j AGENTGATE-MARK", true },
		{ "-A POSTROUTING -j AGENTGATE-MARKS", false },
		{ "-A FORWARD -j AGENTGATE-FWD2", false },
		{ "-A FORWARD -m comment --comment \"-j AGENTGATE-FWD\" -j ACCEPT", false },
		{ "-A INPUT -i lo -j ACCEPT", false },
		{ "*filter", false },
		{ "COMMIT", false },
		{ "", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (gateway_rules_is_ours(cases[i].line, strlen(cases[i].line)) != cases[i].ours)
			fail_msg("'%s': expected %s", cases[i].line, cases[i].ours ? "ours" : "not ours");
	}
}

/* Lines as the kernel prints them ("%5u %6u %5u %1u %5u %5u %5u %8u %2d"). */
static void
test_queue_parse(void **state)
{
	static const struct {
		const char			*line;
		int				 rc;
		struct gateway_queue_stat	 want;
	} cases[] = {
		{ "    0  12345     0 2  2048     0     0       17  1", 0,
		    { 0, 12345, 0, 2, 2048, 0, 0, 17 } },
		{ "    3 4294967295  8192 2  2048    91     4 123456789  1\n", 0,
		    { 3, 4294967295u, 8192, 2, 2048, 91, 4, 123456789 } },
		{ "65535      1     5 1    64     0     2        9  1  ", 0,
		    { 65535, 1, 5, 1, 64, 0, 2, 9 } },
		{ "    0  12345     0 2  2048     0     0       17  2", -1, { 0 } },
		{ "    0  12345     0 2  2048     0     0       17", -1, { 0 } },
		{ "    0  12345     0 2  2048     0     0       17  1 7", -1, { 0 } },
		{ "    0  -1     0 2  2048     0     0       17  1", -1, { 0 } },
		{ "    0  4294967296     0 2  2048     0     0       17  1", -1, { 0 } },
		{ "    0  12x45     0 2  2048     0     0       17  1", -1, { 0 } },
		{ "", -1, { 0 } },
	};
	struct gateway_queue_stat qs;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strcspn(cases[i].line, "\n");

		memset(&qs, 0xa5, sizeof(qs));
		errno = 0;
		if (gateway_queue_parse(cases[i].line, len, &qs) != cases[i].rc)
			fail_msg("'%s': expected %d", cases[i].line, cases[i].rc);
		if (cases[i].rc == -1) {
			assert_int_equal(errno, EINVAL);
			continue;
		}
		assert_int_equal(qs.queue, cases[i].want.queue);
		assert_int_equal(qs.portid, cases[i].want.portid);
		assert_int_equal(qs.queued, cases[i].want.queued);
		assert_int_equal(qs.copy_mode, cases[i].want.copy_mode);
		assert_int_equal(qs.copy_range, cases[i].want.copy_range);
		assert_int_equal(qs.dropped, cases[i].want.dropped);
		assert_int_equal(qs.user_dropped, cases[i].want.user_dropped);
		assert_int_equal(qs.id_sequence, cases[i].want.id_sequence);
	}
}

static void
test_status_names(void **state)
{
	assert_string_equal(gateway_status_name(GATEWAY_INSTALLED), "installed");
	assert_string_equal(gateway_status_name(GATEWAY_NOT_INSTALLED), "not installed");
	assert_string_equal(gateway_status_name(GATEWAY_PARTIAL), "partial");
	assert_string_equal(gateway_status_name(GATEWAY_DIFFERS),
	    "installed but differs from the settings (run up)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_default),
		cmocka_unit_test(test_render_custom_one_queue),
		cmocka_unit_test(test_render_custom_queue_range),
		cmocka_unit_test(test_render_packet_only),
		cmocka_unit_test(test_render_short_buffer),
		cmocka_unit_test(test_render_refused),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_is_ours),
		cmocka_unit_test(test_queue_parse),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests_name("gateway_rules", tests, NULL, NULL);
}
