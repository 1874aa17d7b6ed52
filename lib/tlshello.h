/*
 * TLS ClientHello parser for the proxy and the packet-only filter: it takes
 * the first bytes a client sent and says whether they hold a complete, well
 * formed hello and what it names (SNI, ALPN, ECH, TLS 1.3). No I/O, no state.
 */
#ifndef AG_TLSHELLO_H
#define AG_TLSHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSHELLO_MAX		65536	/* largest ClientHello body accepted */
#define TLSHELLO_RECORD_MAX	16384	/* largest plaintext record (RFC 8446 5.1) */
#define TLSHELLO_RECORDS_MAX	1024	/* records a hello may span; bounds re-parse cost */
#define TLSHELLO_SNI_MAX	255	/* host_name octets */
#define TLSHELLO_ALPN_MAX	8	/* protocols copied */
#define TLSHELLO_ALPN_LEN	32	/* octets of a copied protocol name */

enum tlshello_result {
	TLSHELLO_OK = 0,	/* a complete ClientHello; *out is filled */
	TLSHELLO_NEED_MORE,	/* well formed so far; call again once len >= *need */
	TLSHELLO_NOT_TLS,	/* first byte is not a handshake record: maybe HTTP */
	TLSHELLO_INVALID,	/* malformed or refused; out->error says why */
};

struct tls_hello {
	uint16_t	 legacy_version;	/* client_version field, e.g. 0x0303 */
	bool		 has_sni;		/* a server_name extension was present */
	char		 sni[TLSHELLO_SNI_MAX + 1];	/* raw host_name, NUL added */
	size_t		 sni_len;		/* may hold NULs: use this, not strlen */
	bool		 has_alpn;		/* an ALPN extension was present */
	size_t		 alpn_count;		/* protocols copied into alpn[] */
	bool		 alpn_truncated;	/* more, or longer, protocols were offered */
	char		 alpn[TLSHELLO_ALPN_MAX][TLSHELLO_ALPN_LEN + 1];
	uint8_t		 alpn_len[TLSHELLO_ALPN_MAX];
	bool		 ech;			/* encrypted_client_hello (0xfe0d) present */
	bool		 tls13;			/* supported_versions offers 0x0304 */
	size_t		 records;		/* records the hello spans */
	size_t		 hello_len;		/* bytes of buf those records occupy */
	const char	*error;			/* static reason, when INVALID */
};

/*
 * Parse the first len bytes a client sent. Stateless: call again with the
 * whole buffer when more bytes have arrived. On TLSHELLO_NEED_MORE, *need is
 * the total length required before another call can say more (always
 * > len: the next record header or the rest of the current record), so a
 * caller fed one byte at a time parses about twice per record. *need is 0
 * for every other result; need may be NULL.
 *
 * Refused (TLSHELLO_INVALID): a record other than handshake before the hello
 * is complete, record version major other than 3, empty or over-16384-byte
 * records, a hello spanning more than TLSHELLO_RECORDS_MAX records, a first
 * handshake message other than ClientHello or longer than TLSHELLO_MAX, any
 * length that overruns or leaves junk in its structure, a duplicate
 * extension, and a server_name extension without exactly one non-empty
 * host_name of at most 255 octets. Bytes after the hello are ignored.
 * *out is always written: on NEED_MORE only records (so far) is set, on
 * INVALID only error, on NOT_TLS nothing.
 */
enum tlshello_result tlshello_parse(const uint8_t *buf, size_t len,
    struct tls_hello *out, size_t *need);

/* "ok", "need more", "not tls", "invalid": for logs and tests. */
const char *tlshello_result_str(enum tlshello_result r);

#endif
