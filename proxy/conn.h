/*
 * The transparent listener and its connections: each accepted connection
 * is judged from its first bytes (TLS ClientHello SNI or HTTP Host) by its
 * task's policy, then dialled to an address the gateway resolved itself
 * and relayed. One egress event per connection.
 */
#ifndef AG_CONN_H
#define AG_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proxy;
struct conn_set;

/* Largest first bytes held before a decision: a ClientHello of
 * TLSHELLO_MAX in TLSHELLO_RECORDS_MAX records, headers included. */
#define CONN_FIRST_MAX	(72 * 1024)

/*
 * Bind the transparent listener on `port` for IPv4 (0.0.0.0) and IPv6 (::,
 * V6ONLY) and watch it on p's loop. Returns the set, or NULL with errno.
 */
struct conn_set *conn_set_open(struct proxy *p, uint16_t port);
/* Stop listening and end every connection (each writes its event). */
void conn_set_stop(struct conn_set *s);
/* conn_set_stop, then free. */
void conn_set_free(struct conn_set *s);
/* Connections open now. */
size_t conn_set_count(const struct conn_set *s);

/*
 * The head of the first HTTP request with its keep-alive taken away: every
 * Connection, Keep-Alive and Proxy-Connection header is dropped and one
 * "Connection: close" is put before the blank line, so that the origin
 * closes after its one response and no second request (perhaps for
 * another Host) can follow unjudged on the same connection. `head` is the
 * request's head_len bytes (from httphead_parse). No I/O. Returns the
 * length written to out, or -1 with errno EINVAL (no blank line) or
 * ENOSPC (outsize below head_len + CONN_CLOSE_EXTRA is never short).
 */
#define CONN_CLOSE_EXTRA	19	/* strlen("Connection: close\r\n") */
ssize_t conn_http_close_head(const char *head, size_t head_len, char *out,
    size_t outsize);

#endif
