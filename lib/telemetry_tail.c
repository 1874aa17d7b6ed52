/*
 * The end of a telemetry file, read backwards in growing windows so that a
 * restart costs a few reads whatever the file size.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "telemetry_tail.h"

/* Lines longer than this at the end of a file are not searched further. */
#define TAIL_MAX_WINDOW	(8U * 1024 * 1024)

int
tail_hash(EVP_MD_CTX *ctx, const EVP_MD *md, const char *line, size_t len,
    char hex[TELEMETRY_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int outlen = 0, i;
	int ok;

	if (ctx != NULL && md != NULL)
		ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
		    EVP_DigestUpdate(ctx, line, len) == 1 &&
		    EVP_DigestFinal_ex(ctx, out, &outlen) == 1;
	else
		ok = EVP_Digest(line, len, out, &outlen, EVP_sha256(), NULL) == 1;
	if (!ok || outlen != 32) {
		errno = EIO;
		return -1;
	}
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[out[i] >> 4];
		hex[2 * i + 1] = digits[out[i] & 0xf];
	}
	hex[64] = '\0';
	return 0;
}

/* The writer puts the chain fields last, in a fixed form:
 *   ...,"stream":"S","seq":N,"prev_hash":"<64 hex>"}}
 * A '"' inside any string is escaped, so this suffix cannot be forged by
 * event content. */
int
tail_parse_seq(const char *line, size_t len, const char *stream,
    uint64_t *seq)
{
	char want[64];
	const char *p, *end = line + len, *digits;
	uint64_t v = 0;
	size_t n, i;

	/* "prev_hash":"<64>"}} is 80 bytes. */
	if (len < 80 || memcmp(end - 2, "}}", 2) != 0)
		return -1;
	p = end - 80;
	if (memcmp(p, "\"prev_hash\":\"", 13) != 0 || p[13 + 64] != '"')
		return -1;
	for (i = 0; i < 64; i++)
		if (strchr("0123456789abcdef", p[13 + i]) == NULL || p[13 + i] == '\0')
			return -1;
	/* Back over ,"seq":N, */
	if (p <= line || p[-1] != ',')
		return -1;
	p--;
	digits = p;
	while (digits > line && digits[-1] >= '0' && digits[-1] <= '9')
		digits--;
	if (digits == p || p - digits > 20)
		return -1;
	for (const char *d = digits; d < p; d++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*d - '0');
	}
	n = (size_t)snprintf(want, sizeof(want), "\"stream\":\"%s\",\"seq\":", stream);
	if (n >= sizeof(want) || (size_t)(digits - line) < n ||
	    memcmp(digits - n, want, n) != 0)
		return -1;
	*seq = v;
	return 0;
}

int
tail_last_line(int fd, const char *stream, uint64_t *seq,
    char hash[TELEMETRY_HASH_HEX], bool *torn)
{
	struct stat st;
	size_t window = 16 * 1024, have, end, start;
	off_t off;
	ssize_t n;
	char *buf = NULL, *nb;
	int rc = -1;

	*torn = false;
	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size == 0)
		return 0;
	for (;;) {
		if ((off_t)window > st.st_size)
			window = (size_t)st.st_size;
		if ((nb = realloc(buf, window)) == NULL)
			goto out;
		buf = nb;
		off = st.st_size - (off_t)window;
		for (have = 0; have < window; have += (size_t)n) {
			n = pread(fd, buf + have, window - have, off + (off_t)have);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0) {
				if (n == 0)
					errno = EIO;	/* file shrank under us */
				goto out;
			}
		}
		*torn = buf[window - 1] != '\n';
		/* Walk complete lines backwards; the first line of the
		 * window counts only if the window starts the file. */
		end = window;
		while (end > 0 && buf[end - 1] != '\n')
			end--;		/* drop a torn tail */
		while (end > 0) {
			end--;		/* at the '\n' */
			start = end;
			while (start > 0 && buf[start - 1] != '\n')
				start--;
			if (start == 0 && off > 0)
				break;	/* may be cut: widen the window */
			if (tail_parse_seq(buf + start, end - start, stream, seq) == 0) {
				rc = tail_hash(NULL, NULL, buf + start, end - start, hash) == 0 ?
				    1 : -1;
				goto out;
			}
			end = start;
		}
		if (off == 0 || window >= TAIL_MAX_WINDOW) {
			rc = 0;
			goto out;
		}
		window *= 4;
	}
out:
	free(buf);
	return rc;
}
