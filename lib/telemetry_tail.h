/*
 * Reading the end of a telemetry file without reading all of it: where a
 * writer that restarts finds the last complete line to continue its chain.
 * Internal to the writer (telemetry.c); no locking, no state.
 */
#ifndef AG_TELEMETRY_TAIL_H
#define AG_TELEMETRY_TAIL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#define TELEMETRY_HASH_HEX	65	/* 64 hex digits and NUL */

/* SHA-256 of line (without its '\n') as lowercase hex. ctx may be NULL;
 * a caller that hashes every line keeps one (and a fetched md) to skip
 * OpenSSL's per-call lookup. Returns 0, or -1 with errno EIO. */
int	tail_hash(EVP_MD_CTX *ctx, const EVP_MD *md, const char *line, size_t len,
	    char hex[TELEMETRY_HASH_HEX]);

/* The chain fields of a line this writer wrote for stream: 0 with *seq set,
 * -1 when the line does not end with them. Parses no I/O. */
int	tail_parse_seq(const char *line, size_t len, const char *stream,
	    uint64_t *seq);

/*
 * Scan the last complete lines of the open file fd (up to a few MiB back)
 * for the last one that carries stream's chain fields. Returns 1 with *seq
 * and hash set, 0 when there is none, -1 with errno on a read error.
 * *torn is set when the file does not end with '\n'.
 */
int	tail_last_line(int fd, const char *stream, uint64_t *seq,
	    char hash[TELEMETRY_HASH_HEX], bool *torn);

#endif
