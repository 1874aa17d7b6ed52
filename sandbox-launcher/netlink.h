/*
 * The few rtnetlink requests a sandbox link needs (libmnl, no ip(8)): a veth
 * pair whose peer starts life in another network namespace, addresses,
 * link up, default routes, link removal. Each acts in the network namespace
 * the socket was opened in.
 */
#ifndef AG_NETLINK_H
#define AG_NETLINK_H

#include <stdint.h>

#include "addr.h"

struct mnl_socket;

struct nl {
	struct mnl_socket	*sock;
	unsigned		 portid;
	unsigned		 seq;
};

/* Open an rtnetlink socket in the caller's current network namespace.
 * Returns 0, or -1 with errno. */
int nl_open(struct nl *nl);
void nl_close(struct nl *nl);

/* Create veth `name` here with peer `peer` in the namespace of netns_fd.
 * Returns 0, or -1 with errno (EEXIST: `name` exists). */
int nl_veth_create(struct nl *nl, const char *name, const char *peer,
    int netns_fd);

/* Delete link `name` (and so its veth peer). Returns 0, or -1 with errno
 * (ENODEV: no such link). */
int nl_link_delete(struct nl *nl, const char *name);

/* Set link `ifindex` up. Returns 0, or -1 with errno. */
int nl_link_up(struct nl *nl, unsigned ifindex);

/* Add addr/prefixlen to link `ifindex`; IPv6 without duplicate address
 * detection (the link has two ends, both ours). Returns 0, or -1 with errno. */
int nl_addr_add(struct nl *nl, unsigned ifindex, const struct ag_addr *addr,
    uint8_t prefixlen);

/* Add a default route of gw's family via gw on link `ifindex`.
 * Returns 0, or -1 with errno. */
int nl_route_default(struct nl *nl, unsigned ifindex, const struct ag_addr *gw);

/* Write `value` to /proc/sys/PATH (resolved in the caller's network
 * namespace for net/ keys). Returns 0, or -1 with errno. */
int nl_sysctl_write(const char *path, const char *value);

#endif
