/*
 * Dropping privileges for the sandboxed command: the user (when asked),
 * every capability in every set, and no_new_privs so that nothing executed
 * later gets any back.
 */
#ifndef AG_CAPS_H
#define AG_CAPS_H

#include <stdbool.h>
#include <sys/types.h>

/* Who the command runs as (--user). */
struct caps_user {
	bool	set;		/* false: stay as the launcher's user */
	uid_t	uid;
	gid_t	gid;
	char	name[64];	/* for initgroups; empty for a numeric uid */
};

/* Resolve --user NAME or UID (getpwnam / getpwuid). Returns 0, or -1 with
 * errno ENOENT (no such user) or another errno. */
int caps_user_lookup(const char *spec, struct caps_user *u);

/*
 * Empty the bounding set, clear the ambient set, switch user (groups, gid,
 * uid), empty the permitted, effective and inheritable sets, and set
 * no_new_privs. On error (-1, errno) the caller must not run the command.
 */
int caps_drop(const struct caps_user *u);

#endif
