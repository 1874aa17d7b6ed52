/*
 * The DNS forwarder of agentgate-proxy: UDP and TCP listeners on dns-port
 * for the sandboxes. Each query is judged by its task's policy (dnsjudge.h);
 * only resolvable questions go upstream, through the proxy's resolver.
 */
#ifndef AG_DNSFWD_H
#define AG_DNSFWD_H

#include <stddef.h>

struct proxy;
struct dnsfwd;

/* TCP clients at once (more are closed), the idle time after which one
 * is closed, and its queries upstream at once (reading waits beyond). */
#define DNSFWD_TCP_MAX		256
#define DNSFWD_TCP_IDLE_MS	10000
#define DNSFWD_TCP_PIPELINE	16
/* Queries upstream in all; beyond, SERVFAIL. */
#define DNSFWD_PENDING_MAX	4096

/*
 * Bind UDP and TCP on p->conf->dns_port, IPv4 0.0.0.0 and IPv6 :: (V6ONLY;
 * IPv6 is skipped with a warning when the host has none) and watch them on
 * p->loop. Call before dropping privileges. Returns the forwarder, or NULL
 * with errno (the bind error, ENOMEM).
 */
struct dnsfwd *dnsfwd_open(struct proxy *p);

/* Stop: cancel queries upstream, close clients and listeners, free. */
void dnsfwd_close(struct dnsfwd *f);

/* Queries waiting for upstream and TCP clients connected (tests, status). */
size_t dnsfwd_pending(const struct dnsfwd *f);
size_t dnsfwd_clients(const struct dnsfwd *f);

#endif
