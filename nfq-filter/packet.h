/*
 * The headers of one IP packet as the kernel queues it: IPv4 or IPv6 (with
 * its extension header chain), then TCP, UDP, ICMP or ICMPv6. Bytes in, a
 * struct out: no I/O, and no length field is trusted beyond the bytes given.
 */
#ifndef AG_NFQ_PACKET_H
#define AG_NFQ_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* IPv6 extension headers followed before the transport header gives up. */
#define PACKET_EXT_MAX	8

enum packet_result {
	PACKET_OK = 0,		/* every field of struct packet is set */
	PACKET_TRUNCATED,	/* a header runs past the bytes given (the
				 * copy range never cuts a header short) */
	PACKET_BAD,		/* impossible: IP version, IHL under 5, total
				 * length under the header, TCP data offset
				 * under 5, UDP length under 8, more than
				 * PACKET_EXT_MAX extension headers */
};

struct packet {
	struct ag_addr	 src, dst;
	uint8_t		 proto;		/* IPPROTO_* after the extension headers */
	uint8_t		 ttl;		/* TTL or hop limit */
	/*
	 * Part of a fragmented datagram (IPv4 MF or offset, or an IPv6
	 * fragment header). Only the first fragment carries the transport
	 * header: for the others `transport` is false.
	 */
	bool		 fragment;
	bool		 first_fragment;
	bool		 transport;	/* ports / ICMP fields below are set */
	uint16_t	 sport, dport;	/* TCP, UDP; ICMP echo: sport = id */
	uint8_t		 tcp_flags;	/* TH_SYN, ... */
	uint32_t	 tcp_seq;	/* sequence number (packet-only reassembly) */
	uint8_t		 icmp_type, icmp_code;
	/* The transport payload within the bytes given (the packet may be
	 * longer than the copy range); NULL and 0 without transport. */
	const uint8_t	*payload;
	size_t		 payload_len;
	size_t		 l3_len;	/* what the IP header says, capped by the bytes given */
};

/* Parse buf[0..len). p is always initialised; its fields are meaningful
 * only for PACKET_OK. */
enum packet_result packet_parse(const uint8_t *buf, size_t len,
    struct packet *p);

/* "OK", "TRUNCATED", "BAD". */
const char *packet_result_name(enum packet_result r);

#endif
