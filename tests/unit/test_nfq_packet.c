/*
 * nfq packet parser: hand-built IPv4 and IPv6 packets (the bytes written out
 * below, header by header) parsed to the fields and results stated beside
 * them; truncations, impossible lengths, extension header chains, fragments.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packet.h"

/* IPv4 198.18.0.2 -> 198.19.0.2, UDP 40000 -> 7, payload "ping". */
static const uint8_t v4_udp[] = {
	0x45, 0x00, 0x00, 0x20,		/* v4, IHL 5, total 32 */
	0x12, 0x34, 0x40, 0x00,		/* id, DF */
	0x40, 0x11, 0x00, 0x00,		/* TTL 64, UDP, checksum (unchecked) */
	198, 18, 0, 2,
	198, 19, 0, 2,
	0x9c, 0x40, 0x00, 0x07,		/* 40000 -> 7 */
	0x00, 0x0c, 0x00, 0x00,		/* length 12 */
	'p', 'i', 'n', 'g',
};

/* IPv4 with 4 bytes of options (IHL 6), TCP SYN 51000 -> 443 with a
 * 24-byte header (MSS option), no payload. */
static const uint8_t v4_tcp_opts[] = {
	0x46, 0x00, 0x00, 0x30,		/* IHL 6, total 48 */
	0x00, 0x01, 0x00, 0x00,
	0x40, 0x06, 0x00, 0x00,
	198, 18, 0, 2,
	198, 19, 0, 3,
	0x01, 0x01, 0x00, 0x00,		/* NOP NOP EOL EOL */
	0xc7, 0x38, 0x01, 0xbb,		/* 51000 -> 443 */
	0, 0, 0, 1,			/* seq */
	0, 0, 0, 0,			/* ack */
	0x60, 0x02, 0xff, 0xff,		/* data offset 6, SYN */
	0, 0, 0, 0,			/* checksum, urgent */
	0x02, 0x04, 0x05, 0xb4,		/* MSS 1460 */
};

/* IPv4 ICMP echo request, id 0x0abc, seq 1. */
static const uint8_t v4_icmp[] = {
	0x45, 0x00, 0x00, 0x1c,		/* total 28 */
	0, 0, 0, 0,
	0x40, 0x01, 0, 0,
	198, 18, 0, 2,
	198, 19, 0, 2,
	0x08, 0x00, 0x00, 0x00,		/* echo request */
	0x0a, 0xbc, 0x00, 0x01,
};

/* IPv6 fd00:a6e0::2 -> fd00:1::2, hop-by-hop (8) then destination options
 * (16) then UDP 5353 -> 7 with "hi". */
static const uint8_t v6_ext_udp[] = {
	0x60, 0, 0, 0,
	0x00, 0x22, 0x00, 0x40,		/* payload 34, next HBH, hop limit 64 */
	0xfd, 0x00, 0xa6, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0xfd, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	60, 0, 1, 4, 0, 0, 0, 0,	/* HBH: next DSTOPTS, len 0 (8 bytes), PadN */
	17, 1, 1, 12, 0, 0, 0, 0,	/* DSTOPTS: next UDP, len 1 (16 bytes) */
	0, 0, 0, 0, 0, 0, 0, 0,
	0x14, 0xe9, 0x00, 0x07,		/* 5353 -> 7 */
	0x00, 0x0a, 0x00, 0x00,		/* length 10 */
	'h', 'i',
};

/* IPv6 ICMPv6 echo request id 7. */
static const uint8_t v6_icmp[] = {
	0x60, 0, 0, 0,
	0x00, 0x08, 58, 0x40,
	0xfd, 0x00, 0xa6, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0xfd, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	128, 0, 0, 0, 0x00, 0x07, 0x00, 0x01,
};

/* IPv6 first fragment (offset 0, M) of UDP 1000 -> 53. */
static const uint8_t v6_frag_first[] = {
	0x60, 0, 0, 0,
	0x00, 0x10, 44, 0x40,		/* payload 16, next fragment */
	0xfd, 0x00, 0xa6, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0xfd, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	17, 0, 0x00, 0x01, 0, 0, 0, 9,	/* next UDP, offset 0, M, id 9 */
	0x03, 0xe8, 0x00, 0x35, 0x05, 0xdc, 0x00, 0x00,	/* length 1500 */
};

/* IPv6 later fragment (offset 1448 = 181 * 8, no M). */
static const uint8_t v6_frag_later[] = {
	0x60, 0, 0, 0,
	0x00, 0x10, 44, 0x40,
	0xfd, 0x00, 0xa6, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0xfd, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	17, 0, 0x05, 0xa8, 0, 0, 0, 9,	/* 181 << 3 */
	1, 2, 3, 4, 5, 6, 7, 8,
};

static uint8_t buf[256];

static const uint8_t *
mutate(const uint8_t *src, size_t len, size_t at, uint8_t val)
{
	memcpy(buf, src, len);
	buf[at] = val;
	return buf;
}

static void
test_v4_udp(void **state)
{
	struct packet p;
	char a[AG_ADDR_STRLEN];

	(void)state;
	assert_int_equal(packet_parse(v4_udp, sizeof(v4_udp), &p), PACKET_OK);
	assert_string_equal(addr_format(&p.src, a, sizeof(a)), "198.18.0.2");
	assert_string_equal(addr_format(&p.dst, a, sizeof(a)), "198.19.0.2");
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.ttl, 64);
	assert_true(p.transport);
	assert_false(p.fragment);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 7);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "ping", 4);
	assert_int_equal(p.l3_len, 32);
}

static void
test_v4_tcp_options(void **state)
{
	struct packet p;

	(void)state;
	assert_int_equal(packet_parse(v4_tcp_opts, sizeof(v4_tcp_opts), &p),
	    PACKET_OK);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.sport, 51000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_flags, 0x02);
	assert_int_equal(p.payload_len, 0);
}

static void
test_v4_icmp(void **state)
{
	struct packet p;

	(void)state;
	assert_int_equal(packet_parse(v4_icmp, sizeof(v4_icmp), &p), PACKET_OK);
	assert_int_equal(p.proto, IPPROTO_ICMP);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.sport, 0x0abc);
	assert_int_equal(p.dport, 0);
}

/* Every prefix shorter than the headers is TRUNCATED, never more. */
static void
test_truncated_prefixes(void **state)
{
	static const struct {
		const uint8_t	*pkt;
		size_t		 headers;	/* bytes up to the transport payload */
	} t[] = {
		{ v4_udp, 28 },
		{ v4_tcp_opts, 48 },
		{ v4_icmp, 28 },
		{ v6_ext_udp, 72 },
		{ v6_icmp, 48 },
		{ v6_frag_first, 56 },
	};
	struct packet p;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (n = 0; n < t[i].headers; n++)
			assert_int_equal(packet_parse(t[i].pkt, n, &p),
			    PACKET_TRUNCATED);
		assert_int_equal(packet_parse(t[i].pkt, t[i].headers, &p),
		    PACKET_OK);
	}
}

/* The copy range cut a UDP packet after its header: the payload is what
 * was given, the UDP length does not stretch it. */
static void
test_v4_copy_range_cut(void **state)
{
	struct packet p;

	(void)state;
	assert_int_equal(packet_parse(v4_udp, 30, &p), PACKET_OK);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.l3_len, 30);
}

static void
test_v4_bad(void **state)
{
	static const struct {
		size_t	at;
		uint8_t	val;
		int	want;
		const char *why;
	} t[] = {
		{ 0, 0x44, PACKET_BAD, "IHL 4" },
		{ 0, 0x40, PACKET_BAD, "IHL 0" },
		{ 0, 0x4f, PACKET_TRUNCATED, "IHL 15 past the bytes" },
		{ 0, 0x55, PACKET_BAD, "version 5" },
		{ 3, 0x13, PACKET_BAD, "total 19 under the header" },
		{ 3, 0x1b, PACKET_TRUNCATED, "total 27 cuts the UDP header" },
		{ 25, 0x07, PACKET_BAD, "UDP length 7" },
	};
	struct packet p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mutate(v4_udp, sizeof(v4_udp), t[i].at, t[i].val);
		if ((int)packet_parse(buf, sizeof(v4_udp), &p) != t[i].want)
			fail_msg("%s: got %s", t[i].why,
			    packet_result_name(packet_parse(buf,
			    sizeof(v4_udp), &p)));
	}
	/* TCP data offset 4 and 15. */
	mutate(v4_tcp_opts, sizeof(v4_tcp_opts), 36, 0x40);
	assert_int_equal(packet_parse(buf, sizeof(v4_tcp_opts), &p), PACKET_BAD);
	mutate(v4_tcp_opts, sizeof(v4_tcp_opts), 36, 0xf0);
	assert_int_equal(packet_parse(buf, sizeof(v4_tcp_opts), &p),
	    PACKET_TRUNCATED);
	/* Total length larger than the bytes: the bytes win. */
	mutate(v4_udp, sizeof(v4_udp), 2, 0xff);
	assert_int_equal(packet_parse(buf, sizeof(v4_udp), &p), PACKET_OK);
	assert_int_equal(p.l3_len, sizeof(v4_udp));
	assert_int_equal(p.payload_len, 4);
	/* Shorter total length: trailing bytes are not payload. */
	mutate(v4_udp, sizeof(v4_udp), 3, 0x1e);
	assert_int_equal(packet_parse(buf, sizeof(v4_udp), &p), PACKET_OK);
	assert_int_equal(p.payload_len, 2);
}

static void
test_v4_fragments(void **state)
{
	struct packet p;

	(void)state;
	/* MF, offset 0: the first fragment, ports read. */
	mutate(v4_udp, sizeof(v4_udp), 6, 0x20);
	buf[7] = 0;
	assert_int_equal(packet_parse(buf, sizeof(v4_udp), &p), PACKET_OK);
	assert_true(p.fragment);
	assert_true(p.first_fragment);
	assert_true(p.transport);
	assert_int_equal(p.dport, 7);
	/* Offset 185 (1480 bytes), no MF: a later one, no transport. */
	mutate(v4_udp, sizeof(v4_udp), 6, 0x00);
	buf[7] = 0xb9;
	assert_int_equal(packet_parse(buf, sizeof(v4_udp), &p), PACKET_OK);
	assert_true(p.fragment);
	assert_false(p.first_fragment);
	assert_false(p.transport);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.dport, 0);
	/* A later fragment too short for a UDP header is still OK. */
	assert_int_equal(packet_parse(buf, 22, &p), PACKET_OK);
	/* DF alone is no fragment. */
	assert_int_equal(packet_parse(v4_udp, sizeof(v4_udp), &p), PACKET_OK);
	assert_false(p.fragment);
}

static void
test_v6_ext_chain(void **state)
{
	struct packet p;
	char a[AG_ADDR_STRLEN];

	(void)state;
	assert_int_equal(packet_parse(v6_ext_udp, sizeof(v6_ext_udp), &p),
	    PACKET_OK);
	assert_string_equal(addr_format(&p.src, a, sizeof(a)), "fd00:a6e0::2");
	assert_string_equal(addr_format(&p.dst, a, sizeof(a)), "fd00:1::2");
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 7);
	assert_int_equal(p.payload_len, 2);
	assert_memory_equal(p.payload, "hi", 2);
	/* DSTOPTS claiming 255 * 8 + 8 bytes: past the packet. */
	mutate(v6_ext_udp, sizeof(v6_ext_udp), 49, 0xff);
	assert_int_equal(packet_parse(buf, sizeof(v6_ext_udp), &p),
	    PACKET_TRUNCATED);
	/* Payload length 10 ends inside the DSTOPTS header. */
	mutate(v6_ext_udp, sizeof(v6_ext_udp), 5, 10);
	assert_int_equal(packet_parse(buf, sizeof(v6_ext_udp), &p),
	    PACKET_TRUNCATED);
	/* HBH's next header NONE (59): nothing after, judged by address. */
	mutate(v6_ext_udp, sizeof(v6_ext_udp), 40, 59);
	assert_int_equal(packet_parse(buf, sizeof(v6_ext_udp), &p), PACKET_OK);
	assert_int_equal(p.proto, 59);
	assert_int_equal(p.dport, 0);
}

/* A chain of PACKET_EXT_MAX + 1 destination option headers is refused;
 * PACKET_EXT_MAX of them are fine. */
static void
test_v6_ext_limit(void **state)
{
	struct packet p;
	size_t n, len, i;

	(void)state;
	for (n = PACKET_EXT_MAX; n <= PACKET_EXT_MAX + 1; n++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, v6_icmp, 40);
		buf[6] = 60;
		for (i = 0; i < n; i++)
			buf[40 + i * 8] = i + 1 < n ? 60 : 58;
		len = 40 + n * 8;
		memcpy(buf + len, v6_icmp + 40, 8);
		len += 8;
		buf[4] = 0;
		buf[5] = (uint8_t)(len - 40);
		assert_int_equal(packet_parse(buf, len, &p),
		    n == PACKET_EXT_MAX ? PACKET_OK : PACKET_BAD);
	}
}

static void
test_v6_icmp_and_fragments(void **state)
{
	struct packet p;

	(void)state;
	assert_int_equal(packet_parse(v6_icmp, sizeof(v6_icmp), &p), PACKET_OK);
	assert_int_equal(p.proto, IPPROTO_ICMPV6);
	assert_int_equal(p.icmp_type, 128);
	assert_int_equal(p.sport, 7);

	assert_int_equal(packet_parse(v6_frag_first, sizeof(v6_frag_first),
	    &p), PACKET_OK);
	assert_true(p.fragment);
	assert_true(p.first_fragment);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 0);	/* UDP says 1500, 0 given */

	assert_int_equal(packet_parse(v6_frag_later, sizeof(v6_frag_later),
	    &p), PACKET_OK);
	assert_true(p.fragment);
	assert_false(p.first_fragment);
	assert_false(p.transport);
	assert_int_equal(p.proto, IPPROTO_UDP);
}

static void
test_v6_lengths(void **state)
{
	struct packet p;

	(void)state;
	/* Payload length 0 (jumbo / GSO): the bytes given count. */
	mutate(v6_icmp, sizeof(v6_icmp), 5, 0);
	assert_int_equal(packet_parse(buf, sizeof(v6_icmp), &p), PACKET_OK);
	assert_int_equal(p.l3_len, sizeof(v6_icmp));
	/* Payload length 4: cuts the ICMPv6 header. */
	mutate(v6_icmp, sizeof(v6_icmp), 5, 4);
	assert_int_equal(packet_parse(buf, sizeof(v6_icmp), &p),
	    PACKET_TRUNCATED);
	/* Mapped source: judged as IPv4. */
	memcpy(buf, v6_icmp, sizeof(v6_icmp));
	memset(buf + 8, 0, 10);
	buf[18] = buf[19] = 0xff;
	buf[20] = 198; buf[21] = 18; buf[22] = 0; buf[23] = 2;
	assert_int_equal(packet_parse(buf, sizeof(v6_icmp), &p), PACKET_OK);
	assert_int_equal(p.src.family, AF_INET);
	/* Version 0 and an empty buffer. */
	mutate(v6_icmp, sizeof(v6_icmp), 0, 0x00);
	assert_int_equal(packet_parse(buf, sizeof(v6_icmp), &p), PACKET_BAD);
	assert_int_equal(packet_parse(buf, 0, &p), PACKET_TRUNCATED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_udp),
		cmocka_unit_test(test_v4_tcp_options),
		cmocka_unit_test(test_v4_icmp),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_v4_copy_range_cut),
		cmocka_unit_test(test_v4_bad),
		cmocka_unit_test(test_v4_fragments),
		cmocka_unit_test(test_v6_ext_chain),
		cmocka_unit_test(test_v6_ext_limit),
		cmocka_unit_test(test_v6_icmp_and_fragments),
		cmocka_unit_test(test_v6_lengths),
	};

	return cmocka_run_group_tests_name("nfq_packet", tests, NULL, NULL);
}
