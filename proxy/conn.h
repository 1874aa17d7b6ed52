/*
 * The transparent and explicit-proxy listeners and their connections: each
 * accepted connection is judged from its first bytes (TLS ClientHello SNI or
 * HTTP Host; CONNECT or absolute-URI host on the explicit port) by its
 * task's policy, then dialled to an address the gateway resolved itself
 * and relayed. One egress event per connection.
 */
#ifndef AG_CONN_H
#define AG_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "approval.h"

struct proxy;
struct conn_set;

/* Largest first bytes held before a decision: a ClientHello of
 * TLSHELLO_MAX in TLSHELLO_RECORDS_MAX records, headers included. */
#define CONN_FIRST_MAX	(72 * 1024)

/*
 * Bind the transparent listener on `port` and, unless explicit_port is 0,
 * the explicit proxy listener (HTTP CONNECT and absolute-URI requests) on
 * explicit_port, each for IPv4 (0.0.0.0) and IPv6 (::, V6ONLY), and watch
 * them on p's loop. Returns the set, or NULL with errno.
 */
struct conn_set *conn_set_open(struct proxy *p, uint16_t port,
    uint16_t explicit_port);
/* Stop listening and end every connection (each writes its event). */
void conn_set_stop(struct conn_set *s);
/* conn_set_stop, then free. */
void conn_set_free(struct conn_set *s);
/* Connections open now. */
size_t conn_set_count(const struct conn_set *s);

/* An approvals observer (arg: the struct proxy) that writes the
 * approval-decided events, expiries included; approval-requested is
 * written by the connection that opened the request (it knows the
 * addresses). */
void conn_approval_observer(void *arg, enum approval_event ev,
    const struct approval_info *info);

#endif
