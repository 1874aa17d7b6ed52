/*
 * A TCP listener on one port for both families (0.0.0.0 and [::] with
 * IPV6_V6ONLY), watched on the loop; each accepted connection is handed to
 * the owner non-blocking and close-on-exec.
 */
#ifndef AG_LISTENER_H
#define AG_LISTENER_H

#include <stdint.h>

struct loop;
struct listener;

/* fd is the owner's from now on; family is the listener's (AF_INET or
 * AF_INET6), which says how to ask for the original destination. */
typedef void (*listener_fn)(void *arg, int fd, int family);

/* Bind and listen. Returns the listener, or NULL with errno (the bind
 * error, e.g. EADDRINUSE or EACCES, or ENOMEM). */
struct listener *listener_open(struct loop *l, uint16_t port, listener_fn fn,
    void *arg);
/* Stop accepting and close both sockets. NULL is ignored. */
void listener_close(struct listener *ls);

#endif
