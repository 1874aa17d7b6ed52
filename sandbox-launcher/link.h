/*
 * A sandbox's link to the gateway: a veth pair whose gateway side gets the
 * gateway addresses of the task's pool links, strict reverse-path filtering
 * and no duplicate address detection, and whose sandbox side (eth0, made
 * in the sandbox's network namespace) gets the sandbox addresses and the
 * default routes; lo comes up too.
 */
#ifndef AG_LINK_H
#define AG_LINK_H

#include <stdbool.h>

#include "pool.h"

/*
 * Build the link `ifname` (gateway side, in the caller's network namespace)
 * to the namespace `netns`. A link of that name left over is deleted and
 * made again: the caller owns the name. *made is set once the pair exists
 * (the caller removes it with link_remove). Returns 0, or -1 with errno and
 * *what saying which step failed ("create the veth pair", ...). Enters the
 * sandbox's namespace for its side and always comes back (or exits).
 */
int link_setup(const char *ifname, int netns, const struct pool_link *l4,
    const struct pool_link *l6, bool *made, const char **what);

/* Delete the pair by its gateway side. Gone already (with the sandbox's
 * namespace) is success. Returns 0, or -1 with errno. */
int link_remove(const char *ifname);

#endif
