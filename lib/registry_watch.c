/*
 * Change notification for the task registry folder: one inotify descriptor
 * watching the folder and its parent, so that a folder removed and made
 * again (rm -rf, a tmpfs remounted, a launcher that recreates it) is watched
 * again instead of being lost with its watch.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "inotify_drain.h"
#include "registry.h"
#include "registry_int.h"

#define DIR_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
			 IN_DELETE | IN_CREATE | IN_DELETE_SELF | \
			 IN_MOVE_SELF | IN_ONLYDIR)
/* The parent only tells when the folder appears (made, or moved in). */
#define PARENT_MASK	(IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)

struct registry_watch {
	int	 fd;
	int	 dir_wd;		/* -1 while DIR is missing */
	int	 parent_wd;
	char	 dir[PATH_MAX];
	char	 parent[PATH_MAX];
	char	 base[NAME_MAX + 1];	/* DIR's name in its parent */
};

/* Split DIR (trailing slashes dropped) into parent and name. */
static int
watch_paths(struct registry_watch *w, const char *dir)
{
	size_t len = strlen(dir);
	const char *slash;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 0 || len >= sizeof(w->dir)) {
		errno = len == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	memcpy(w->dir, dir, len);
	w->dir[len] = '\0';
	if ((slash = strrchr(w->dir, '/')) == NULL) {
		snprintf(w->parent, sizeof(w->parent), ".");
		slash = w->dir - 1;
	} else if (slash == w->dir)
		snprintf(w->parent, sizeof(w->parent), "/");
	else
		snprintf(w->parent, sizeof(w->parent), "%.*s",
		    (int)(slash - w->dir), w->dir);
	if (strlen(slash + 1) == 0 || strlen(slash + 1) >= sizeof(w->base)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(w->base, sizeof(w->base), "%s", slash + 1);
	return 0;
}

/* Watch DIR if it exists now. Returns 1 when newly armed, 0 when not. */
static int
watch_arm(struct registry_watch *w)
{
	if (w->dir_wd != -1)
		return 0;
	if ((w->dir_wd = inotify_add_watch(w->fd, w->dir, DIR_MASK)) == -1)
		return 0;
	return 1;
}

struct registry_watch *
registry_watch_open(const char *dir)
{
	struct registry_watch *w;
	int saved;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->fd = w->dir_wd = w->parent_wd = -1;
	if (watch_paths(w, dir) == -1 || registry_mkdir_p(w->dir) == -1)
		goto fail;
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		goto fail;
	/* Parent first: a folder removed between the two calls is then
	 * either watched or announced. */
	if ((w->parent_wd = inotify_add_watch(w->fd, w->parent,
	    PARENT_MASK)) == -1)
		goto fail;
	if ((w->dir_wd = inotify_add_watch(w->fd, w->dir, DIR_MASK)) == -1)
		goto fail;
	return w;
fail:
	saved = errno;
	registry_watch_close(w);
	errno = saved;
	return NULL;
}

int
registry_watch_fd(const struct registry_watch *w)
{
	return w->fd;
}

bool
registry_watch_armed(const struct registry_watch *w)
{
	return w->dir_wd != -1;
}

void
registry_watch_close(struct registry_watch *w)
{
	if (w == NULL)
		return;
	if (w->fd != -1)
		close(w->fd);
	free(w);
}

/* One event; whether the snapshot may be stale now. */
static bool
watch_event(void *arg, const struct inotify_event *ev)
{
	struct registry_watch *w = arg;
	char id[REG_ID_MAX + 1];

	if (ev->mask & IN_Q_OVERFLOW)
		return true;
	if (ev->wd == w->parent_wd) {
		if (ev->mask & IN_IGNORED)
			w->parent_wd = -1;	/* only SIGHUP or a restart */
		/* DIR appeared: armed below, after the whole read. */
		return false;
	}
	if (ev->wd != w->dir_wd || w->dir_wd == -1)
		return false;	/* a watch dropped earlier */
	if (ev->mask & IN_MOVE_SELF) {
		/* The watch would follow the folder to its new name. */
		(void)inotify_rm_watch(w->fd, w->dir_wd);
		w->dir_wd = -1;
		return true;
	}
	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF)) {
		w->dir_wd = -1;
		return true;
	}
	return ev->len > 0 && ev->name[0] != '.' &&
	    registry_file_name(ev->name, id);
}

int
registry_watch_drain(struct registry_watch *w)
{
	int changed;

	if ((changed = inotify_drain(w->fd, watch_event, w)) == -1)
		return -1;
	/* Missing, or just made again: whatever it holds now is news, files
	 * written before the watch was armed included. */
	if (w->dir_wd == -1 && watch_arm(w) == 1)
		changed = 1;
	if (w->parent_wd == -1)
		w->parent_wd = inotify_add_watch(w->fd, w->parent, PARENT_MASK);
	return changed;
}
