/*
 * DNS message parser: queries from sandboxes and responses from upstream,
 * read without trusting any count, length or compression pointer, and the
 * in-place cut of an oversized response for UDP. The builders are in
 * dnsbuild.c.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dnsmsg.h"

#define DNS_OPCODE_QUERY	0
#define DNS_RR_FIXED		10	/* type, class, TTL, RDLENGTH */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/*
 * Read the name at *off into its uncompressed wire form and move *off past
 * the name as it sits in the message. A pointer must point below the start
 * of the run of labels it ends (the name's start, or the previous pointer's
 * target), and at or after the header: so every jump goes strictly
 * backwards, no loop is possible, and DNS_MAX_JUMPS only bounds chains.
 * Running off the end is DNS_TRUNCATED only before the first jump; after
 * one, the labels should lie in bytes already seen, so it is malformed.
 */
static enum dns_result
name_read(const uint8_t *msg, size_t len, size_t *off, bool allow_ptr,
    uint8_t *wire, size_t *wire_len)
{
	size_t pos = *off, seg = *off, after = 0, wlen = 0;
	unsigned int jumps = 0;
	uint8_t c;

	for (;;) {
		if (pos >= len)
			return jumps ? DNS_FORMERR : DNS_TRUNCATED;
		c = msg[pos];
		if (c == 0) {
			wire[wlen++] = 0;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (!allow_ptr)
				return DNS_FORMERR;
			if (pos + 1 >= len)
				return jumps ? DNS_FORMERR : DNS_TRUNCATED;
			target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
			if (target < DNS_HEADER_LEN || target >= seg ||
			    ++jumps > DNS_MAX_JUMPS)
				return DNS_FORMERR;
			if (jumps == 1)
				after = pos + 2;
			pos = seg = target;
			continue;
		}
		if (c & 0xc0)	/* 0x40 and 0x80: obsolete label types */
			return DNS_FORMERR;
		/* One more label plus the root must still fit in 255. */
		if (wlen + 1 + c + 1 > DNS_NAME_WIRE_MAX)
			return DNS_FORMERR;
		if (pos + 1 + c > len)
			return jumps ? DNS_FORMERR : DNS_TRUNCATED;
		memcpy(wire + wlen, msg + pos, 1 + (size_t)c);
		wlen += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
	*wire_len = wlen;
	*off = jumps ? after : pos + 1;
	return DNS_OK;
}

/* Move *off past a name without keeping it (same checks as name_read). */
static enum dns_result
name_skip(const uint8_t *msg, size_t len, size_t *off)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t wlen;

	return name_read(msg, len, off, true, wire, &wlen);
}

static bool
label_byte_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '.' && c != '\\';
}

/*
 * Presentation text of a wire name, into text (DNS_NAME_TEXT_MAX + 1
 * bytes). Returns false, with text "", when a label byte would need
 * escaping: such a name cannot be compared with a policy safely.
 */
static bool
name_text(const uint8_t *wire, size_t wlen, char *text)
{
	size_t i = 0, t = 0, j;

	text[0] = '\0';
	while (i < wlen && wire[i] != 0) {
		uint8_t n = wire[i++];

		if (t > 0)
			text[t++] = '.';
		for (j = 0; j < n; j++) {
			if (!label_byte_ok(wire[i + j])) {
				text[0] = '\0';
				return false;
			}
			text[t++] = (char)wire[i + j];
		}
		i += n;
	}
	text[t] = '\0';
	return true;
}

static void
name_fill(struct dns_name *n)
{
	n->valid = name_text(n->wire, n->wire_len, n->text);
}

static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Label lengths are below 64, so folding every byte leaves them intact. */
static bool
wire_equal_nocase(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (ascii_lower((char)a[i]) != ascii_lower((char)b[i]))
			return false;
	return true;
}

static bool
text_equal_nocase(const char *a, const char *b)
{
	while (*a != '\0' && ascii_lower(*a) == ascii_lower(*b)) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Name, type and class of a question at *off. */
static enum dns_result
question_read(const uint8_t *msg, size_t len, size_t *off, bool allow_ptr,
    struct dns_question *qn)
{
	enum dns_result res;

	res = name_read(msg, len, off, allow_ptr, qn->name.wire,
	    &qn->name.wire_len);
	if (res != DNS_OK)
		return res;
	if (*off + 4 > len)
		return DNS_TRUNCATED;
	qn->qtype = get16(msg + *off);
	qn->qclass = get16(msg + *off + 2);
	*off += 4;
	name_fill(&qn->name);
	return DNS_OK;
}

/* The fixed part of a resource record after its owner name. */
struct rr_head {
	uint16_t	type;
	uint16_t	rclass;
	uint32_t	ttl;
	size_t		rdata;		/* offset of RDATA */
	size_t		rdlen;
};

/*
 * Read one record's owner (into owner, when not NULL), fixed fields and
 * RDATA bounds; *off moves past the record.
 */
static enum dns_result
rr_read(const uint8_t *msg, size_t len, size_t *off, struct dns_name *owner,
    struct rr_head *h)
{
	enum dns_result res;

	if (owner != NULL)
		res = name_read(msg, len, off, true, owner->wire,
		    &owner->wire_len);
	else
		res = name_skip(msg, len, off);
	if (res != DNS_OK)
		return res;
	if (*off + DNS_RR_FIXED > len)
		return DNS_TRUNCATED;
	h->type = get16(msg + *off);
	h->rclass = get16(msg + *off + 2);
	h->ttl = get32(msg + *off + 4);
	h->rdlen = get16(msg + *off + 8);
	h->rdata = *off + DNS_RR_FIXED;
	if (h->rdata + h->rdlen > len)
		return DNS_TRUNCATED;
	*off = h->rdata + h->rdlen;
	return DNS_OK;
}

/* EDNS options are TLVs that must exactly fill the OPT RDATA. */
static enum dns_result
opt_check(const uint8_t *msg, const struct rr_head *h)
{
	size_t pos = h->rdata, end = h->rdata + h->rdlen;

	while (pos < end) {
		if (end - pos < 4)
			return DNS_FORMERR;
		pos += 4 + (size_t)get16(msg + pos + 2);
	}
	return pos == end ? DNS_OK : DNS_FORMERR;
}

enum dns_result
dns_parse_query(const uint8_t *buf, size_t len, struct dns_query *q)
{
	struct rr_head h;
	enum dns_result res;
	size_t off = DNS_HEADER_LEN;
	uint16_t qdcount, ancount, nscount, arcount;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HEADER_LEN)
		return DNS_TRUNCATED;
	if (len > DNS_MSG_MAX)
		return DNS_FORMERR;
	q->id = get16(buf);
	q->flags = get16(buf + 2);
	q->opcode = DNS_FLAGS_OPCODE(q->flags);
	if (q->flags & DNS_FLAG_QR)
		return DNS_IGNORE;
	if (q->opcode != DNS_OPCODE_QUERY)
		return DNS_NOTIMP;
	qdcount = get16(buf + 4);
	ancount = get16(buf + 6);
	nscount = get16(buf + 8);
	arcount = get16(buf + 10);
	if (qdcount != 1)
		return DNS_FORMERR;

	res = question_read(buf, len, &off, false, &q->question);
	if (res != DNS_OK)
		return res;
	q->has_question = true;
	q->qd_end = off;

	if (ancount != 0 || nscount != 0 || arcount > 1)
		return DNS_FORMERR;
	if (arcount == 1) {
		if ((res = rr_read(buf, len, &off, NULL, &h)) != DNS_OK)
			return res;
		/* The OPT pseudo-record belongs to the root, nothing else. */
		if (h.type != DNS_TYPE_OPT ||
		    h.rdata != q->qd_end + 1 + DNS_RR_FIXED)
			return DNS_FORMERR;
		if ((res = opt_check(buf, &h)) != DNS_OK)
			return res;
		q->has_edns = true;
		q->edns_udp_size = h.rclass;
		q->edns_version = (uint8_t)(h.ttl >> 16);
		q->edns_do = (h.ttl & 0x8000) != 0;
	}
	if (off != len)
		return DNS_FORMERR;
	if (q->question.qclass != DNS_CLASS_IN)
		return DNS_REFUSED;
	return DNS_OK;
}

/* Decode one answer record of a type we keep into rr. */
static enum dns_result
answer_decode(const uint8_t *msg, const struct rr_head *h,
    const struct dns_name *owner, struct dns_rr *rr)
{
	struct dns_name target;
	enum dns_result res;
	uint32_t be;
	size_t pos;

	memset(rr, 0, sizeof(*rr));
	rr->type = h->type;
	rr->ttl = h->ttl > INT32_MAX ? 0 : h->ttl;
	rr->name_valid = name_text(owner->wire, owner->wire_len, rr->name);
	switch (h->type) {
	case DNS_TYPE_A:
		if (h->rdlen != 4)
			return DNS_FORMERR;
		memcpy(&be, msg + h->rdata, 4);
		addr_from_v4(be, &rr->addr);
		break;
	case DNS_TYPE_AAAA:
		if (h->rdlen != 16)
			return DNS_FORMERR;
		addr_from_v6(msg + h->rdata, &rr->addr);
		break;
	case DNS_TYPE_CNAME:
		/* The target may point back into the message, but its own
		 * bytes must end exactly where RDATA does. */
		pos = h->rdata;
		res = name_read(msg, h->rdata + h->rdlen, &pos, true,
		    target.wire, &target.wire_len);
		if (res != DNS_OK || pos != h->rdata + h->rdlen)
			return DNS_FORMERR;
		rr->target_valid = name_text(target.wire, target.wire_len,
		    rr->target);
		break;
	}
	return DNS_OK;
}

/*
 * Mark the records whose owner is the question name or a CNAME target
 * reached from it. Each pass adds at least one record or stops, so at most
 * n passes.
 */
static void
chain_mark(struct dns_response *r)
{
	bool grew = true;
	size_t i, j;

	if (!r->question.name.valid)
		return;
	for (i = 0; i < r->n_answers; i++)
		r->answers[i].in_chain = r->answers[i].name_valid &&
		    text_equal_nocase(r->answers[i].name, r->question.name.text);
	while (grew) {
		grew = false;
		for (i = 0; i < r->n_answers; i++) {
			const struct dns_rr *c = &r->answers[i];

			if (!c->in_chain || c->type != DNS_TYPE_CNAME ||
			    !c->target_valid)
				continue;
			for (j = 0; j < r->n_answers; j++) {
				struct dns_rr *o = &r->answers[j];

				if (!o->in_chain && o->name_valid &&
				    text_equal_nocase(o->name, c->target)) {
					o->in_chain = true;
					grew = true;
				}
			}
		}
	}
}

enum dns_result
dns_parse_response(const uint8_t *buf, size_t len, struct dns_response *r)
{
	struct dns_name owner;
	struct rr_head h;
	enum dns_result res;
	size_t off = DNS_HEADER_LEN;
	uint32_t i, counts[3];

	/* answers[] is last and large: each kept entry is cleared when used. */
	memset(r, 0, offsetof(struct dns_response, answers));
	if (len < DNS_HEADER_LEN)
		return DNS_TRUNCATED;
	if (len > DNS_MSG_MAX)
		return DNS_FORMERR;
	r->id = get16(buf);
	r->flags = get16(buf + 2);
	r->rcode = DNS_FLAGS_RCODE(r->flags);
	if (!(r->flags & DNS_FLAG_QR) ||
	    DNS_FLAGS_OPCODE(r->flags) != DNS_OPCODE_QUERY ||
	    get16(buf + 4) != 1)
		return DNS_FORMERR;
	counts[0] = get16(buf + 6);
	counts[1] = get16(buf + 8);
	counts[2] = get16(buf + 10);

	if ((res = question_read(buf, len, &off, true, &r->question)) != DNS_OK)
		return res;

	for (i = 0; i < counts[0]; i++) {
		if ((res = rr_read(buf, len, &off, &owner, &h)) != DNS_OK)
			return res;
		if (h.rclass != DNS_CLASS_IN || (h.type != DNS_TYPE_A &&
		    h.type != DNS_TYPE_AAAA && h.type != DNS_TYPE_CNAME)) {
			r->n_other++;
			continue;
		}
		if (r->n_answers == DNS_MAX_ANSWERS) {
			/* Still checked: a bad record spoils the message. */
			struct dns_rr scratch;

			if ((res = answer_decode(buf, &h, &owner, &scratch)) != DNS_OK)
				return res;
			r->n_dropped++;
			continue;
		}
		res = answer_decode(buf, &h, &owner, &r->answers[r->n_answers]);
		if (res != DNS_OK)
			return res;
		r->n_answers++;
	}
	for (i = 0; i < counts[1]; i++)
		if ((res = rr_read(buf, len, &off, NULL, &h)) != DNS_OK)
			return res;
	for (i = 0; i < counts[2]; i++) {
		if ((res = rr_read(buf, len, &off, &owner, &h)) != DNS_OK)
			return res;
		if (h.type != DNS_TYPE_OPT)
			continue;
		if (r->has_edns || owner.wire_len != 1 ||
		    opt_check(buf, &h) != DNS_OK)
			return DNS_FORMERR;
		r->has_edns = true;
		r->edns_udp_size = h.rclass;
	}
	if (off != len)
		return DNS_FORMERR;
	chain_mark(r);
	return DNS_OK;
}

bool
dns_question_equal(const struct dns_question *a, const struct dns_question *b)
{
	return a->qtype == b->qtype && a->qclass == b->qclass &&
	    wire_equal_nocase(a->name.wire, a->name.wire_len, b->name.wire,
	    b->name.wire_len);
}

bool
dns_response_matches(const struct dns_query *q, const struct dns_response *r)
{
	return q->has_question && q->id == r->id &&
	    dns_question_equal(&q->question, &r->question);
}

int
dns_result_rcode(enum dns_result res)
{
	switch (res) {
	case DNS_FORMERR:
	case DNS_TRUNCATED:
		return DNS_RCODE_FORMERR;
	case DNS_NOTIMP:
		return DNS_RCODE_NOTIMP;
	case DNS_REFUSED:
		return DNS_RCODE_REFUSED;
	case DNS_OK:
	case DNS_IGNORE:
		break;
	}
	return -1;
}

const char *
dns_result_name(enum dns_result res)
{
	switch (res) {
	case DNS_OK:
		return "OK";
	case DNS_FORMERR:
		return "FORMERR";
	case DNS_TRUNCATED:
		return "TRUNCATED";
	case DNS_NOTIMP:
		return "NOTIMP";
	case DNS_REFUSED:
		return "REFUSED";
	case DNS_IGNORE:
		return "IGNORE";
	}
	return "unknown";
}

size_t
dns_udp_limit(const struct dns_query *q)
{
	if (!q->has_edns || q->edns_udp_size <= DNS_UDP_PLAIN)
		return DNS_UDP_PLAIN;
	if (q->edns_udp_size >= DNS_EDNS_PAYLOAD)
		return DNS_EDNS_PAYLOAD;
	return q->edns_udp_size;
}

ssize_t
dns_truncate_for_udp(uint8_t *resp, size_t len, size_t max)
{
	struct rr_head h;
	size_t off = DNS_HEADER_LEN, qd_end, opt_start = 0, opt_len = 0, rec;
	uint32_t i, qdcount, total;

	if (len < DNS_HEADER_LEN || len > DNS_MSG_MAX)
		goto bad;
	if (len <= max)
		return (ssize_t)len;
	qdcount = get16(resp + 4);
	total = (uint32_t)get16(resp + 6) + get16(resp + 8) + get16(resp + 10);
	for (i = 0; i < qdcount; i++) {
		if (name_skip(resp, len, &off) != DNS_OK || off + 4 > len)
			goto bad;
		off += 4;
	}
	qd_end = off;
	for (i = 0; i < total; i++) {
		rec = off;
		if (rr_read(resp, len, &off, NULL, &h) != DNS_OK)
			goto bad;
		/* Only an OPT owned by the root (one zero byte) is kept, so
		 * moving it cannot break a compression pointer. */
		if (h.type == DNS_TYPE_OPT && resp[rec] == 0 && opt_len == 0) {
			opt_start = rec;
			opt_len = off - rec;
		}
	}
	if (off != len)
		goto bad;
	if (qd_end > max) {
		errno = EMSGSIZE;
		return -1;
	}
	if (qd_end + opt_len > max)
		opt_len = 0;
	memmove(resp + qd_end, resp + opt_start, opt_len);
	resp[2] |= DNS_FLAG_TC >> 8;
	memset(resp + 6, 0, 4);
	resp[10] = 0;
	resp[11] = opt_len ? 1 : 0;
	return (ssize_t)(qd_end + opt_len);
bad:
	errno = EINVAL;
	return -1;
}
