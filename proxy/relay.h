/*
 * A relay moves bytes between an accepted client and the server the proxy
 * dialled, each way through a pipe with splice(2) so that payload never
 * enters user space; a pipe is held only while bytes wait in it. Half-closes
 * are passed on; idle relays are ended.
 */
#ifndef AG_RELAY_H
#define AG_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct relay;

/* What a direction's pipe is grown to once it fills (bulk is flowing);
 * it goes back to the loop's pool at that size. */
#define RELAY_PIPE_BULK	(256 * 1024)

enum relay_end {
	RELAY_END_EOF = 0,	/* both sides finished sending */
	RELAY_END_IDLE,		/* no byte either way for idle_ms */
	RELAY_END_ERROR,	/* a side failed (reset, ...), or no pipe could
				 * be had (EMFILE); see error */
	RELAY_END_STOPPED,	/* relay_stop(): the daemon is stopping */
};

struct relay_stats {
	uint64_t	up;		/* bytes the server received (first bytes included) */
	uint64_t	down;		/* bytes the client received */
	enum relay_end	end;
	int		error;		/* errno, when RELAY_END_ERROR */
};

/* Called once, when the relay ends; the owner frees the relay from it
 * (relay_free) and closes both descriptors. */
typedef void (*relay_done_fn)(void *arg, const struct relay_stats *st);

/*
 * Relay between cfd (client) and sfd (server), both non-blocking and
 * connected, on loop l; `first` (len bytes, copied) goes to the server
 * before anything else the client sends (written at once when the socket
 * takes it). The descriptors stay the caller's to close; either may still
 * be watched on l by the caller, the relay takes the watch over (loop_set)
 * and relay_free ends it. Both get TCP_NODELAY. Returns the relay, or NULL with errno
 * (ENOMEM, or the loop's error). done never runs from inside relay_new.
 */
struct relay *relay_new(struct loop *l, int cfd, int sfd, const uint8_t *first,
    size_t len, uint64_t idle_ms, relay_done_fn done, void *arg);

/* End the relay now: done runs with RELAY_END_STOPPED. */
void relay_stop(struct relay *r);

/* Unregister from the loop, close the pipes, free. No callback runs. */
void relay_free(struct relay *r);

#endif
