/*
 * inotify_drain(): read a non-blocking inotify descriptor until EAGAIN and
 * hand each event to the caller. Events are never split across reads, so a
 * buffer of 4096 bytes (larger than one event with a NAME_MAX name) walks
 * them whole.
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "inotify_drain.h"

int
inotify_drain(int fd, bool (*fn)(void *arg, const struct inotify_event *ev),
    void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	int any = 0;
	ssize_t n;
	char *p;

	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		if (n == 0)
			break;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (fn(arg, ev))
				any = 1;
		}
	}
	return any;
}
