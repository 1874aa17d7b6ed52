/*
 * DNS responses the gateway writes itself: errors for refused or malformed
 * queries and the synthetic answers of the approval broker. Each re-parses
 * the query it answers, so a response never echoes bytes the parser refused.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dnsmsg.h"

#define DNS_OPT_LEN		11	/* root owner, type, class, TTL, RDLENGTH */
#define DNS_PTR_QNAME		0xc00c	/* the question name, right after the header */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/*
 * Header, question (when decoded) and room noted for the OPT record; the
 * caller fills answers from *off and ends with put_opt().
 */
static int
put_head(const uint8_t *query, const struct dns_query *q, enum dns_rcode rcode,
    uint8_t *out, size_t outsize, size_t *off)
{
	size_t qlen = q->has_question ? q->qd_end - DNS_HEADER_LEN : 0;
	uint16_t flags;

	if (outsize < DNS_HEADER_LEN + qlen + (q->has_edns ? DNS_OPT_LEN : 0)) {
		errno = ENOSPC;
		return -1;
	}
	flags = DNS_FLAG_QR | DNS_FLAG_RA | (uint16_t)(q->opcode << 11) |
	    (q->flags & (DNS_FLAG_RD | DNS_FLAG_CD)) | (uint16_t)rcode;
	put16(out, q->id);
	put16(out + 2, flags);
	put16(out + 4, q->has_question ? 1 : 0);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, q->has_edns ? 1 : 0);
	/* The question was read without compression: its bytes stand alone. */
	memcpy(out + DNS_HEADER_LEN, query + DNS_HEADER_LEN, qlen);
	*off = DNS_HEADER_LEN + qlen;
	return 0;
}

/* Our OPT: payload DNS_EDNS_PAYLOAD, version 0, the DO bit copied (RFC 3225). */
static int
put_opt(const struct dns_query *q, uint8_t *out, size_t outsize, size_t *off)
{
	uint8_t *p;

	if (!q->has_edns)
		return 0;
	if (outsize - *off < DNS_OPT_LEN) {
		errno = ENOSPC;
		return -1;
	}
	p = out + *off;
	p[0] = 0;
	put16(p + 1, DNS_TYPE_OPT);
	put16(p + 3, DNS_EDNS_PAYLOAD);
	put32(p + 5, q->edns_do ? 0x8000 : 0);
	put16(p + 9, 0);
	*off += DNS_OPT_LEN;
	return 0;
}

ssize_t
dns_build_error(const uint8_t *query, size_t qlen, enum dns_rcode rcode,
    uint8_t *out, size_t outsize)
{
	struct dns_query q;
	size_t off;

	switch (rcode) {
	case DNS_RCODE_FORMERR:
	case DNS_RCODE_SERVFAIL:
	case DNS_RCODE_NXDOMAIN:
	case DNS_RCODE_NOTIMP:
	case DNS_RCODE_REFUSED:
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (qlen < DNS_HEADER_LEN ||
	    dns_parse_query(query, qlen, &q) == DNS_IGNORE) {
		errno = EINVAL;
		return -1;
	}
	if (put_head(query, &q, rcode, out, outsize, &off) == -1 ||
	    put_opt(&q, out, outsize, &off) == -1)
		return -1;
	return (ssize_t)off;
}

ssize_t
dns_build_answer(const uint8_t *query, size_t qlen,
    const struct ag_addr *addrs, size_t n, uint32_t ttl,
    uint8_t *out, size_t outsize)
{
	struct dns_query q;
	size_t off, i, alen, count = 0;
	int family;

	if (dns_parse_query(query, qlen, &q) != DNS_OK) {
		errno = EINVAL;
		return -1;
	}
	if (outsize > DNS_MSG_MAX)
		outsize = DNS_MSG_MAX;
	if (put_head(query, &q, DNS_RCODE_NOERROR, out, outsize, &off) == -1)
		return -1;
	switch (q.question.qtype) {
	case DNS_TYPE_A:
		family = AF_INET;
		alen = 4;
		break;
	case DNS_TYPE_AAAA:
		family = AF_INET6;
		alen = 16;
		break;
	default:
		family = AF_UNSPEC;	/* NODATA */
		alen = 0;
		break;
	}
	if (ttl > INT32_MAX)
		ttl = INT32_MAX;
	for (i = 0; i < n && family != AF_UNSPEC; i++) {
		uint8_t *p;

		if (addrs[i].family != family)
			continue;
		/* Keep room for the OPT that put_opt() adds after us. */
		if (outsize - off < 12 + alen + (q.has_edns ? DNS_OPT_LEN : 0)) {
			errno = ENOSPC;
			return -1;
		}
		p = out + off;
		put16(p, DNS_PTR_QNAME);
		put16(p + 2, q.question.qtype);
		put16(p + 4, DNS_CLASS_IN);
		put32(p + 6, ttl);
		put16(p + 10, (uint16_t)alen);
		memcpy(p + 12, addrs[i].u.bytes, alen);
		off += 12 + alen;
		count++;
	}
	/* Within DNS_MSG_MAX fit under 4,100 records: the count never wraps. */
	put16(out + 6, (uint16_t)count);
	if (put_opt(&q, out, outsize, &off) == -1)
		return -1;
	return (ssize_t)off;
}
