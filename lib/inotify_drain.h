/*
 * Reading an inotify descriptor to the end: the one loop the registry
 * watch and the policy cache's watch share. The caller judges each event.
 */
#ifndef AG_INOTIFY_DRAIN_H
#define AG_INOTIFY_DRAIN_H

#include <stdbool.h>
#include <sys/inotify.h>

/*
 * Read every event queued on the non-blocking inotify descriptor fd and
 * call fn for each. Returns 1 when fn returned true for any event, 0 when
 * none did (or nothing was queued), -1 with errno on a read error.
 */
int inotify_drain(int fd,
    bool (*fn)(void *arg, const struct inotify_event *ev), void *arg);

#endif
