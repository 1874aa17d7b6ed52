/*
 * The proxy judges only the first request of a plain-HTTP connection, so
 * it takes keep-alive away from that request: the origin then closes after
 * one response and no second request (perhaps for another Host) follows
 * unjudged on the same connection. Bytes in, bytes out; no I/O.
 */
#ifndef AG_HTTPCLOSE_H
#define AG_HTTPCLOSE_H

#include <stddef.h>
#include <sys/types.h>

#define HTTPCLOSE_EXTRA	19	/* strlen("Connection: close\r\n") */

/*
 * Rewrite the head of a request (its head_len bytes from httphead_parse,
 * blank line included): every Connection, Keep-Alive and Proxy-Connection
 * header is dropped and one "Connection: close" goes before the blank line;
 * nothing else changes. outsize of head_len + HTTPCLOSE_EXTRA always
 * suffices. Returns the length written to out, or -1 with errno EINVAL (no
 * blank line) or ENOSPC (out too small).
 */
ssize_t httpclose_head(const char *head, size_t head_len, char *out,
    size_t outsize);

#endif
