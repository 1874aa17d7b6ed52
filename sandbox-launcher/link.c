/*
 * The sandbox's veth pair over rtnetlink (netlink.h): the gateway side here,
 * the sandbox side from inside its network namespace, which the launcher
 * enters for that and leaves again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "netlink.h"

/* The sandbox's side, from inside its network namespace. */
static int
link_inside(const struct pool_link *l4, const struct pool_link *l6,
    const char **what)
{
	struct nl nl;
	unsigned lo, eth;
	int ret = -1;

	*what = "open rtnetlink in the sandbox";
	if (nl_open(&nl) == -1)
		return -1;
	lo = if_nametoindex("lo");
	eth = if_nametoindex("eth0");
	*what = "find lo and eth0 in the sandbox";
	if (lo == 0 || eth == 0)
		goto out;
	/* Both ends are ours: no duplicate address detection (it would
	 * hold IPv6 back for a second). */
	nl_sysctl_write("net/ipv6/conf/eth0/accept_dad", "0");
	/* ping without CAP_NET_RAW: ICMP datagram sockets (echo only, no
	 * raw packets) for every group, in this namespace alone. A new
	 * namespace allows nobody ("1 0"), and raw sockets are refused,
	 * so ping could not even reach the gateway, which answers echo. */
	nl_sysctl_write("net/ipv4/ping_group_range", "0 2147483647");
	*what = "bring lo up";
	if (nl_link_up(&nl, lo) == -1)
		goto out;
	*what = "add the sandbox's addresses";
	if (nl_addr_add(&nl, eth, &l4->sandbox, l4->prefixlen) == -1 ||
	    nl_addr_add(&nl, eth, &l6->sandbox, l6->prefixlen) == -1)
		goto out;
	*what = "bring eth0 up";
	if (nl_link_up(&nl, eth) == -1)
		goto out;
	*what = "add the default routes";
	if (nl_route_default(&nl, eth, &l4->gw) == -1 ||
	    nl_route_default(&nl, eth, &l6->gw) == -1)
		goto out;
	ret = 0;
out:
	nl_close(&nl);
	return ret;
}

int
link_setup(const char *ifname, int netns, const struct pool_link *l4,
    const struct pool_link *l6, bool *made, const char **what)
{
	struct nl nl;
	char path[128];
	unsigned idx;
	int self = -1, ret = -1, saved;

	*made = false;
	*what = "open rtnetlink";
	if (nl_open(&nl) == -1)
		return -1;
	*what = "create the veth pair";
	if (nl_veth_create(&nl, ifname, "eth0", netns) == -1) {
		/* Our slot is ours under the registry: a link of this name
		 * is left from a launcher that died. */
		if (errno != EEXIST || nl_link_delete(&nl, ifname) == -1 ||
		    nl_veth_create(&nl, ifname, "eth0", netns) == -1)
			goto report;
	}
	*made = true;
	*what = "find the gateway side";
	if ((idx = if_nametoindex(ifname)) == 0)
		goto report;
	snprintf(path, sizeof(path), "net/ipv6/conf/%s/accept_dad", ifname);
	nl_sysctl_write(path, "0");
	/* Strict reverse-path filtering: the gateway drops what a sandbox
	 * sends from an address that is not routed back through its link. */
	*what = "set rp_filter on the gateway side";
	snprintf(path, sizeof(path), "net/ipv4/conf/%s/rp_filter", ifname);
	if (nl_sysctl_write(path, "1") == -1)
		goto report;
	*what = "add the gateway's addresses";
	if (nl_addr_add(&nl, idx, &l4->gw, l4->prefixlen) == -1 ||
	    nl_addr_add(&nl, idx, &l6->gw, l6->prefixlen) == -1)
		goto report;
	*what = "bring the gateway side up";
	if (nl_link_up(&nl, idx) == -1)
		goto report;

	*what = "enter the sandbox's network namespace";
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self == -1 || setns(netns, CLONE_NEWNET) == -1)
		goto report;
	ret = link_inside(l4, l6, what);
	saved = errno;
	/* Staying in the sandbox's namespace would build the next steps
	 * in the wrong place: better to stop here. */
	if (setns(self, CLONE_NEWNET) == -1)
		fatal("cannot return to the gateway's network namespace");
	errno = saved;
	goto out;
report:
	ret = -1;
out:
	saved = errno;
	if (self != -1)
		close(self);
	nl_close(&nl);
	errno = saved;
	return ret;
}

int
link_remove(const char *ifname)
{
	struct nl nl;
	int ret = 0, saved;

	if (nl_open(&nl) == -1)
		return -1;
	if (nl_link_delete(&nl, ifname) == -1 && errno != ENODEV)
		ret = -1;
	saved = errno;
	nl_close(&nl);
	errno = saved;
	return ret;
}
