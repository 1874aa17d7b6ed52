/*
 * IPv4/IPv6 and transport header parsing for agentgate-nfq. Every offset
 * is checked against the bytes given before it is read; length fields only
 * ever shrink what is looked at, never grow it.
 */
#include "config.h"

#include <string.h>
#include <netinet/in.h>

#include "packet.h"

#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define TCP_HLEN	20
#define UDP_HLEN	8
#define ICMP_HLEN	8	/* type, code, checksum and the 4-byte rest */

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)((b[0] << 8) | b[1]);
}

static bool
icmp_is_echo(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP)
		return type == 8 || type == 0;
	return type == 128 || type == 129;
}

/* The transport header at buf[0..len); len is what the IP layer says is
 * there, capped by the bytes given. */
static enum packet_result
packet_transport(const uint8_t *buf, size_t len, struct packet *p)
{
	size_t hlen, ulen;

	switch (p->proto) {
	case IPPROTO_TCP:
		if (len < TCP_HLEN)
			return PACKET_TRUNCATED;
		hlen = (size_t)(buf[12] >> 4) * 4;
		if (hlen < TCP_HLEN)
			return PACKET_BAD;
		if (hlen > len)
			return PACKET_TRUNCATED;
		p->sport = get16(buf);
		p->dport = get16(buf + 2);
		p->tcp_flags = buf[13];
		p->tcp_seq = (uint32_t)get16(buf + 4) << 16 | get16(buf + 6);
		p->payload = buf + hlen;
		p->payload_len = len - hlen;
		break;
	case IPPROTO_UDP:
		if (len < UDP_HLEN)
			return PACKET_TRUNCATED;
		ulen = get16(buf + 4);
		if (ulen < UDP_HLEN)
			return PACKET_BAD;
		p->sport = get16(buf);
		p->dport = get16(buf + 2);
		p->payload = buf + UDP_HLEN;
		p->payload_len = (ulen < len ? ulen : len) - UDP_HLEN;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len < ICMP_HLEN)
			return PACKET_TRUNCATED;
		p->icmp_type = buf[0];
		p->icmp_code = buf[1];
		if (icmp_is_echo(p->proto, p->icmp_type))
			p->sport = get16(buf + 4);
		p->payload = buf + ICMP_HLEN;
		p->payload_len = len - ICMP_HLEN;
		break;
	default:
		/* Another protocol: judged by address alone. */
		p->payload = buf;
		p->payload_len = len;
		break;
	}
	p->transport = true;
	return PACKET_OK;
}

static enum packet_result
packet_ipv4(const uint8_t *buf, size_t len, struct packet *p)
{
	size_t ihl, total;
	uint16_t frag;

	if (len < IPV4_HLEN)
		return PACKET_TRUNCATED;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < IPV4_HLEN)
		return PACKET_BAD;
	if (ihl > len)
		return PACKET_TRUNCATED;
	total = get16(buf + 2);
	if (total < ihl)
		return PACKET_BAD;
	if (total > len)
		total = len;		/* the copy range cut the packet */
	p->l3_len = total;
	p->ttl = buf[8];
	p->proto = buf[9];
	p->src.family = AF_INET;
	memcpy(&p->src.u.v4, buf + 12, 4);
	p->dst.family = AF_INET;
	memcpy(&p->dst.u.v4, buf + 16, 4);

	frag = get16(buf + 6);
	if ((frag & 0x3fff) != 0) {		/* MF or an offset */
		p->fragment = true;
		p->first_fragment = (frag & 0x1fff) == 0;
		if (!p->first_fragment)
			return PACKET_OK;
	}
	return packet_transport(buf + ihl, total - ihl, p);
}

static bool
ipv6_is_ext(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case 135:	/* mobility */
	case 139:	/* HIP */
	case 140:	/* shim6 */
		return true;
	default:
		return false;
	}
}

static enum packet_result
packet_ipv6(const uint8_t *buf, size_t len, struct packet *p)
{
	size_t off, total, hlen;
	uint16_t plen, frag;
	uint8_t nh;
	unsigned n;

	if (len < IPV6_HLEN)
		return PACKET_TRUNCATED;
	plen = get16(buf + 4);
	/* 0 is a jumbogram or a large GSO packet: the bytes given say. */
	total = plen == 0 ? len : IPV6_HLEN + (size_t)plen;
	if (total > len)
		total = len;
	p->l3_len = total;
	p->ttl = buf[7];
	addr_from_v6(buf + 8, &p->src);
	addr_from_v6(buf + 24, &p->dst);
	/* addr_from_v6 unmaps ::ffff:a.b.c.d; a mapped address on the wire
	 * is still judged as the IPv4 address it names, like everywhere. */

	nh = buf[6];
	off = IPV6_HLEN;
	for (n = 0; ipv6_is_ext(nh); n++) {
		if (n == PACKET_EXT_MAX)
			return PACKET_BAD;
		if (total - off < 8)
			return PACKET_TRUNCATED;
		if (nh == IPPROTO_FRAGMENT) {
			hlen = 8;
			frag = get16(buf + off + 2);
			p->fragment = true;
			if ((frag & 0xfff8) != 0) {
				/* Not the first: no transport header here. */
				p->first_fragment = false;
				p->proto = buf[off];
				return PACKET_OK;
			}
			p->first_fragment = true;
		} else if (nh == IPPROTO_AH)
			hlen = ((size_t)buf[off + 1] + 2) * 4;
		else
			hlen = ((size_t)buf[off + 1] + 1) * 8;
		if (hlen > total - off)
			return PACKET_TRUNCATED;
		nh = buf[off];
		off += hlen;
	}
	p->proto = nh;
	if (nh == IPPROTO_NONE || nh == IPPROTO_ESP) {
		/* Nothing to read past: judged by address alone. */
		p->transport = true;
		return PACKET_OK;
	}
	return packet_transport(buf + off, total - off, p);
}

enum packet_result
packet_parse(const uint8_t *buf, size_t len, struct packet *p)
{
	memset(p, 0, sizeof(*p));
	if (len < 1)
		return PACKET_TRUNCATED;
	switch (buf[0] >> 4) {
	case 4:
		return packet_ipv4(buf, len, p);
	case 6:
		return packet_ipv6(buf, len, p);
	default:
		return PACKET_BAD;
	}
}

const char *
packet_result_name(enum packet_result r)
{
	switch (r) {
	case PACKET_OK:
		return "OK";
	case PACKET_TRUNCATED:
		return "TRUNCATED";
	case PACKET_BAD:
		return "BAD";
	}
	return "?";
}
