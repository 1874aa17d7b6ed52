/*
 * DNS wire format (RFC 1035, EDNS from RFC 6891) for the gateway's forwarder,
 * the NFQUEUE filter's binding learner and the approval broker's synthetic
 * answers. Bytes in, structures or bytes out: no I/O, no global state.
 */
#ifndef AG_DNSMSG_H
#define AG_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define DNS_HEADER_LEN		12
#define DNS_MSG_MAX		65535	/* a TCP length prefix cannot say more */
#define DNS_NAME_WIRE_MAX	255	/* octets, length bytes and root included */
#define DNS_NAME_TEXT_MAX	253	/* presentation form, no trailing dot */
#define DNS_MAX_JUMPS		128	/* compression pointers followed per name */
#define DNS_MAX_ANSWERS		64	/* A, AAAA and CNAME records kept per response */
#define DNS_UDP_PLAIN		512	/* UDP payload without EDNS */
#define DNS_EDNS_PAYLOAD	1232	/* what we advertise, and the most we send */

/* Header flags word (the 16 bits after the id). */
#define DNS_FLAG_QR		0x8000
#define DNS_FLAG_AA		0x0400
#define DNS_FLAG_TC		0x0200
#define DNS_FLAG_RD		0x0100
#define DNS_FLAG_RA		0x0080
#define DNS_FLAG_AD		0x0020
#define DNS_FLAG_CD		0x0010
#define DNS_FLAGS_OPCODE(f)	(((f) >> 11) & 0xf)
#define DNS_FLAGS_RCODE(f)	((f) & 0xf)

#define DNS_CLASS_IN		1
#define DNS_TYPE_A		1
#define DNS_TYPE_NS		2
#define DNS_TYPE_CNAME		5
#define DNS_TYPE_SOA		6
#define DNS_TYPE_MX		15
#define DNS_TYPE_TXT		16
#define DNS_TYPE_AAAA		28
#define DNS_TYPE_OPT		41
#define DNS_TYPE_ANY		255

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

/*
 * What a parser found. For a query, each value but DNS_OK and DNS_IGNORE
 * names the answer to give: dns_result_rcode() maps it, dns_build_error()
 * builds it.
 */
enum dns_result {
	DNS_OK = 0,	/* well formed; every output field is set */
	DNS_FORMERR,	/* malformed: bad counts, label type, pointer (a
			 * forward one, a loop, one into the header, any in a
			 * query's question), name over 255 octets, RDLENGTH
			 * that does not fit its type, trailing bytes, an
			 * additional record other than one OPT in a query */
	DNS_TRUNCATED,	/* the message ends inside the header or inside a
			 * record its counts announce; answered FORMERR */
	DNS_NOTIMP,	/* a query with an opcode other than QUERY; nothing
			 * after the header is read */
	DNS_REFUSED,	/* a well-formed query for a class other than IN
			 * (CHAOS version.bind probes, ANY): the gateway only
			 * serves the Internet class, and saying REFUSED rather
			 * than NOTIMP tells the client not to retry elsewhere
			 * through us */
	DNS_IGNORE,	/* QR=1 where a query was expected: never answer, or
			 * two servers could bounce errors at each other */
};

/* A domain name as read from a message. */
struct dns_name {
	uint8_t	wire[DNS_NAME_WIRE_MAX];	/* uncompressed, ends in the root */
	size_t	wire_len;
	/*
	 * Labels joined by '.', no trailing dot, "" for the root; set only
	 * when `valid`: every label byte printable ASCII (0x21-0x7e) other
	 * than '.' and '\\'. Invalid names must be denied by the caller;
	 * valid ones still go through canon_host() before any decision.
	 */
	char	text[DNS_NAME_TEXT_MAX + 1];
	bool	valid;
};

struct dns_question {
	struct dns_name	name;
	uint16_t	qtype;
	uint16_t	qclass;
};

struct dns_query {
	uint16_t	id;
	uint16_t	flags;		/* header flags word as sent */
	uint16_t	opcode;
	bool		has_question;	/* question decoded; see qd_end */
	struct dns_question question;
	size_t		qd_end;		/* offset after the question */
	bool		has_edns;	/* one OPT record, fully read */
	uint16_t	edns_udp_size;	/* as the client sent it */
	uint8_t		edns_version;
	bool		edns_do;	/* DNSSEC OK bit */
};

/* One A, AAAA or CNAME record of the answer section (class IN). */
struct dns_rr {
	uint16_t	type;		/* DNS_TYPE_A, _AAAA or _CNAME */
	uint32_t	ttl;		/* TTLs with the top bit set read as 0 (RFC 2181) */
	char		name[DNS_NAME_TEXT_MAX + 1];	/* owner, "" unless name_valid */
	bool		name_valid;
	struct ag_addr	addr;		/* A and AAAA */
	char		target[DNS_NAME_TEXT_MAX + 1];	/* CNAME, "" unless target_valid */
	bool		target_valid;
	/*
	 * The owner is the question name or reached from it through CNAMEs
	 * of this answer (compared case-insensitively). Only such address
	 * records bind an address to the name that was asked.
	 */
	bool		in_chain;
};

struct dns_response {
	uint16_t	id;
	uint16_t	flags;
	uint16_t	rcode;		/* header RCODE (extended bits not applied) */
	struct dns_question question;
	size_t		n_answers;	/* kept in answers[] */
	size_t		n_dropped;	/* A/AAAA/CNAME beyond DNS_MAX_ANSWERS */
	size_t		n_other;	/* answer records of other types or classes */
	bool		has_edns;
	uint16_t	edns_udp_size;
	struct dns_rr	answers[DNS_MAX_ANSWERS];	/* last: about 34 KiB */
};

/*
 * Parse a query a client sent. Exactly one question, class IN, no answer or
 * authority records, at most one additional record which must be an OPT.
 * A compression pointer in the question is FORMERR (no honest client sends
 * one). The qtype is reported, not judged. The whole message must be used.
 * On every result but DNS_TRUNCATED for len < 12, id and flags are set;
 * has_question and has_edns say what else is. q is always initialised.
 */
enum dns_result dns_parse_query(const uint8_t *buf, size_t len, struct dns_query *q);

/*
 * Parse a response from upstream (or one we built). QR must be 1, the
 * opcode QUERY, QDCOUNT 1. Answer records of class IN and type A, AAAA and
 * CNAME are decoded (A RDLENGTH 4, AAAA 16, a CNAME's target must end
 * exactly at its RDLENGTH); others are counted and skipped; the authority
 * and additional sections are walked for framing only (at most one OPT,
 * owned by the root). Returns DNS_OK, DNS_FORMERR or DNS_TRUNCATED; the
 * contents of r are meaningful only for DNS_OK.
 */
enum dns_result dns_parse_response(const uint8_t *buf, size_t len, struct dns_response *r);

/* Same type, class and name, the name compared ASCII case-insensitively
 * (0x20 mixed case) on its wire form. */
bool dns_question_equal(const struct dns_question *a, const struct dns_question *b);

/* The response answers this query: same id and dns_question_equal(). */
bool dns_response_matches(const struct dns_query *q, const struct dns_response *r);

/* The RCODE a query result calls for, or -1 for DNS_OK and DNS_IGNORE. */
int dns_result_rcode(enum dns_result res);

/* A short name for logs ("FORMERR", ...). */
const char *dns_result_name(enum dns_result res);

/*
 * Largest UDP response this client takes: 512 without EDNS, else its
 * payload size clamped to [512, DNS_EDNS_PAYLOAD] (larger would fragment).
 */
size_t dns_udp_limit(const struct dns_query *q);

/*
 * Builders write into the caller's buffer and return the length, or -1
 * with errno EINVAL (input unusable as said below) or ENOSPC (outsize too
 * small). The query is parsed again with dns_parse_query(). Responses
 * carry QR=1, RA=1, AA=0, the query's id, opcode, RD and CD, and an OPT
 * record (payload DNS_EDNS_PAYLOAD, DO copied) when the query had one.
 */

/*
 * An error answer (rcode FORMERR, SERVFAIL, NXDOMAIN, NOTIMP or REFUSED)
 * with the question echoed when it could be decoded, else the header only.
 * EINVAL for a query under 12 bytes, one with QR=1, or another rcode.
 */
ssize_t dns_build_error(const uint8_t *query, size_t qlen, enum dns_rcode rcode,
    uint8_t *out, size_t outsize);

/*
 * A NOERROR answer to a well-formed (DNS_OK) query: for an A question one A
 * record per AF_INET address in addrs, for AAAA one per AF_INET6 address,
 * owner a compression pointer to the question name; addresses of the other
 * family are skipped, so the answer may be empty (NODATA), as it always is
 * for other question types. ttl is capped at 2^31-1. EINVAL when the query
 * does not parse as DNS_OK.
 */
ssize_t dns_build_answer(const uint8_t *query, size_t qlen,
    const struct ag_addr *addrs, size_t n, uint32_t ttl,
    uint8_t *out, size_t outsize);

/*
 * Fit a response into a UDP datagram of max bytes. A response that fits is
 * left alone; a larger one is cut in place to its header, question and OPT
 * record (the OPT dropped too if it still does not fit) with TC=1 so the
 * client retries over TCP. Returns the new length, or -1 with EINVAL when
 * the response is malformed, EMSGSIZE when not even header and question fit.
 */
ssize_t dns_truncate_for_udp(uint8_t *resp, size_t len, size_t max);

#endif
