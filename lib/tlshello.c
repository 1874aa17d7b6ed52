/*
 * TLS ClientHello parser. Records are checked first, then the handshake
 * message is read in place through a cursor that steps over record headers,
 * so a hello split across records needs no reassembly buffer.
 */
#include "config.h"

#include <string.h>

#include "tlshello.h"

#define REC_HDR		5
#define REC_HANDSHAKE	22
#define HS_HDR		4
#define HS_CLIENT_HELLO	1
/* version(2) random(32) session_id(1) suites(2+2) compression(1+1) */
#define HELLO_MIN	41

#define EXT_SERVER_NAME		0
#define EXT_ALPN		16
#define EXT_SUPPORTED_VERSIONS	43
#define EXT_ECH			0xfe0d
#define SNI_HOST_NAME		0

/*
 * Reads the handshake message as one byte string although its bytes lie in
 * the payloads of consecutive records. Only used after the records covering
 * the whole message were validated, so stepping over a header is safe.
 */
struct hs_cursor {
	const uint8_t	*buf;
	size_t		 pos;	/* offset in buf of the next message byte */
	size_t		 end;	/* offset in buf where this record's payload ends */
	size_t		 off;	/* offset in the message of the next byte */
};

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Step over record headers while taking n bytes; the rare, split case. */
static void
cur_take_split(struct hs_cursor *c, uint8_t *dst, size_t n)
{
	size_t chunk;

	while (n > 0) {
		if (c->pos == c->end) {
			c->pos = c->end + REC_HDR;
			c->end = c->pos + be16(c->buf + c->pos - 2);
		}
		chunk = c->end - c->pos;
		if (chunk > n)
			chunk = n;
		if (dst != NULL) {
			memcpy(dst, c->buf + c->pos, chunk);
			dst += chunk;
		}
		c->pos += chunk;
		n -= chunk;
	}
}

/* Take n bytes (dst may be NULL to skip) if the structure ending at lim has them. */
static inline int
cur_take(struct hs_cursor *c, size_t lim, uint8_t *dst, size_t n)
{
	if (lim < c->off || n > lim - c->off)
		return -1;
	c->off += n;
	if (n < c->end - c->pos) {
		if (dst != NULL)
			memcpy(dst, c->buf + c->pos, n);
		c->pos += n;
	} else
		cur_take_split(c, dst, n);
	return 0;
}

static inline int
cur_u8(struct hs_cursor *c, size_t lim, size_t *v)
{
	uint8_t b[1];

	if (cur_take(c, lim, b, 1) == -1)
		return -1;
	*v = b[0];
	return 0;
}

static inline int
cur_u16(struct hs_cursor *c, size_t lim, size_t *v)
{
	uint8_t b[2];

	if (cur_take(c, lim, b, 2) == -1)
		return -1;
	*v = be16(b);
	return 0;
}

/*
 * Extension types seen, for the duplicate check: a bitmap of all 65536
 * types in 256 pages, a page cleared only when first used, so that a hello
 * with a dozen extensions does not clear 8 KiB.
 */
struct ext_seen {
	uint16_t	page[256];	/* 0: no type of this page seen, else 1 + pool index */
	uint16_t	used;
	uint8_t		pool[256][32];
};

/* Marks type as seen; returns whether it had been seen before. */
static bool
ext_seen_set(struct ext_seen *s, size_t type)
{
	uint8_t *bits;
	size_t hi = type >> 8, lo = type & 0xff;
	bool was;

	if (s->page[hi] == 0) {
		memset(s->pool[s->used], 0, sizeof(s->pool[0]));
		s->page[hi] = ++s->used;
	}
	bits = s->pool[s->page[hi] - 1];
	was = (bits[lo / 8] & (1u << (lo % 8))) != 0;
	bits[lo / 8] |= (uint8_t)(1u << (lo % 8));
	return was;
}

/* server_name: exactly one non-empty host_name; other name types are refused
 * because no other type exists and we could not judge one. */
static const char *
ext_server_name(struct hs_cursor *c, size_t lim, struct tls_hello *out)
{
	size_t list, type, n;

	if (cur_u16(c, lim, &list) == -1 || list != lim - c->off)
		return "server_name list length mismatch";
	if (list == 0)
		return "server_name list empty";
	while (c->off < lim) {
		if (cur_u8(c, lim, &type) == -1 || cur_u16(c, lim, &n) == -1)
			return "server_name entry truncated";
		if (type != SNI_HOST_NAME)
			return "server_name type other than host_name";
		if (out->has_sni)
			return "two host names";
		if (n == 0)
			return "empty host name";
		if (n > TLSHELLO_SNI_MAX)
			return "host name too long";
		if (cur_take(c, lim, (uint8_t *)out->sni, n) == -1)
			return "host name overruns its list";
		out->sni[n] = '\0';
		out->sni_len = n;
		out->has_sni = true;
	}
	return NULL;
}

static const char *
ext_alpn(struct hs_cursor *c, size_t lim, struct tls_hello *out)
{
	size_t list, n, i;

	if (cur_u16(c, lim, &list) == -1 || list != lim - c->off)
		return "ALPN list length mismatch";
	if (list == 0)
		return "ALPN list empty";
	out->has_alpn = true;
	while (c->off < lim) {
		if (cur_u8(c, lim, &n) == -1 || n == 0)
			return "empty ALPN protocol";
		if (n > TLSHELLO_ALPN_LEN || out->alpn_count == TLSHELLO_ALPN_MAX) {
			out->alpn_truncated = true;
			if (cur_take(c, lim, NULL, n) == -1)
				return "ALPN protocol overruns its list";
			continue;
		}
		i = out->alpn_count;
		if (cur_take(c, lim, (uint8_t *)out->alpn[i], n) == -1)
			return "ALPN protocol overruns its list";
		out->alpn[i][n] = '\0';
		out->alpn_len[i] = (uint8_t)n;
		out->alpn_count++;
	}
	return NULL;
}

static const char *
ext_supported_versions(struct hs_cursor *c, size_t lim, struct tls_hello *out)
{
	size_t list, v;

	if (cur_u8(c, lim, &list) == -1 || list != lim - c->off)
		return "supported_versions length mismatch";
	if (list < 2 || list % 2 != 0)
		return "supported_versions list malformed";
	while (c->off < lim) {
		if (cur_u16(c, lim, &v) == -1)
			return "supported_versions list malformed";
		if (v == 0x0304)
			out->tls13 = true;
	}
	return NULL;
}

static const char *
hello_extensions(struct hs_cursor *c, size_t lim, struct tls_hello *out)
{
	struct ext_seen seen;
	size_t total, type, n, ext_end;
	const char *err;

	if (cur_u16(c, lim, &total) == -1 || total != lim - c->off)
		return "extensions length mismatch";
	memset(seen.page, 0, sizeof(seen.page));
	seen.used = 0;
	while (c->off < lim) {
		if (cur_u16(c, lim, &type) == -1 || cur_u16(c, lim, &n) == -1)
			return "extension header truncated";
		if (n > lim - c->off)
			return "extension overruns the hello";
		if (ext_seen_set(&seen, type))
			return "duplicate extension";
		ext_end = c->off + n;
		err = NULL;
		switch (type) {
		case EXT_SERVER_NAME:
			err = ext_server_name(c, ext_end, out);
			break;
		case EXT_ALPN:
			err = ext_alpn(c, ext_end, out);
			break;
		case EXT_SUPPORTED_VERSIONS:
			err = ext_supported_versions(c, ext_end, out);
			break;
		case EXT_ECH:
			out->ech = true;
			break;
		}
		if (err != NULL)
			return err;
		/* Known extensions were read to their end; others are skipped. */
		if (cur_take(c, ext_end, NULL, ext_end - c->off) == -1)
			return "extension overruns the hello";
	}
	return NULL;
}

/* The ClientHello body, from legacy_version to the end of the message. */
static const char *
hello_body(struct hs_cursor *c, size_t lim, struct tls_hello *out)
{
	size_t n;

	if (cur_u16(c, lim, &n) == -1)
		return "hello truncated";
	out->legacy_version = (uint16_t)n;
	if (cur_take(c, lim, NULL, 32) == -1)
		return "hello truncated in random";
	if (cur_u8(c, lim, &n) == -1 || n > 32)
		return "session_id too long";
	if (cur_take(c, lim, NULL, n) == -1)
		return "session_id overruns the hello";
	if (cur_u16(c, lim, &n) == -1 || n < 2 || n % 2 != 0)
		return "cipher_suites length malformed";
	if (cur_take(c, lim, NULL, n) == -1)
		return "cipher_suites overrun the hello";
	if (cur_u8(c, lim, &n) == -1 || n < 1)
		return "compression_methods empty";
	if (cur_take(c, lim, NULL, n) == -1)
		return "compression_methods overrun the hello";
	if (c->off == lim)
		return NULL;
	return hello_extensions(c, lim, out);
}

enum tlshello_result
tlshello_parse(const uint8_t *buf, size_t len, struct tls_hello *out,
    size_t *need)
{
	uint8_t hs[HS_HDR] = { 0 };
	size_t pos = 0, seen = 0, total = 0, rec_len, avail, i;
	size_t want = 0;
	struct hs_cursor c;
	enum tlshello_result r = TLSHELLO_INVALID;

	memset(out, 0, sizeof(*out));
	if (len > 0 && buf[0] != REC_HANDSHAKE) {
		r = TLSHELLO_NOT_TLS;
		goto out;
	}
	/* Walk records until the message they carry is complete. */
	for (;;) {
		if (out->records == TLSHELLO_RECORDS_MAX) {
			out->error = "hello spans too many records";
			goto out;
		}
		if (pos < len && buf[pos] != REC_HANDSHAKE) {
			out->error = "non-handshake record before the hello ends";
			goto out;
		}
		if (pos + 1 < len && buf[pos + 1] != 3) {
			out->error = "record version major is not 3";
			goto out;
		}
		if (len - pos < REC_HDR) {
			want = pos + REC_HDR;
			r = TLSHELLO_NEED_MORE;
			goto out;
		}
		rec_len = be16(buf + pos + 3);
		if (rec_len == 0) {
			out->error = "empty record";
			goto out;
		}
		if (rec_len > TLSHELLO_RECORD_MAX) {
			out->error = "record longer than 16384";
			goto out;
		}
		avail = len - pos - REC_HDR;
		if (avail > rec_len)
			avail = rec_len;
		/* The message header may itself be split across records. */
		for (i = 0; i < avail && seen + i < HS_HDR; i++)
			hs[seen + i] = buf[pos + REC_HDR + i];
		if (seen + avail >= 1 && hs[0] != HS_CLIENT_HELLO) {
			out->error = "first handshake message is not a ClientHello";
			goto out;
		}
		if (seen < HS_HDR && seen + avail >= HS_HDR) {
			total = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];
			if (total > TLSHELLO_MAX) {
				out->error = "hello longer than TLSHELLO_MAX";
				goto out;
			}
			if (total < HELLO_MIN) {
				out->error = "hello too short";
				goto out;
			}
			total += HS_HDR;
		}
		out->records++;
		if (avail < rec_len) {
			want = pos + REC_HDR + rec_len;
			r = TLSHELLO_NEED_MORE;
			goto out;
		}
		pos += REC_HDR + rec_len;
		seen += rec_len;
		if (total != 0 && seen >= total)
			break;
	}
	out->hello_len = pos;

	c.buf = buf;
	c.pos = REC_HDR;
	c.end = REC_HDR + be16(buf + 3);
	c.off = 0;
	(void)cur_take(&c, total, NULL, HS_HDR);
	if ((out->error = hello_body(&c, total, out)) == NULL)
		r = TLSHELLO_OK;
out:
	if (r != TLSHELLO_OK) {
		/* Keep nothing half-read from a hello that is not whole. */
		const char *err = out->error;
		size_t records = out->records;

		memset(out, 0, sizeof(*out));
		out->error = r == TLSHELLO_INVALID ? err : NULL;
		out->records = r == TLSHELLO_NEED_MORE ? records : 0;
	}
	if (need != NULL)
		*need = r == TLSHELLO_NEED_MORE ? want : 0;
	return r;
}

const char *
tlshello_result_str(enum tlshello_result r)
{
	switch (r) {
	case TLSHELLO_OK:
		return "ok";
	case TLSHELLO_NEED_MORE:
		return "need more";
	case TLSHELLO_NOT_TLS:
		return "not tls";
	case TLSHELLO_INVALID:
		return "invalid";
	}
	return "unknown";
}
