/*
 * Is the gateway up? Before a sandbox gets a link, the gateway's rules
 * (agentgatectl gateway up, docs/gateway.md) must be installed in this
 * network namespace: without them a sandbox's traffic would be routed
 * out unfiltered.
 */
#ifndef AG_GWCHECK_H
#define AG_GWCHECK_H

struct nlmsghdr;

/*
 * Whether the jump to AGENTGATE-PRE in nat PREROUTING and the jump to
 * AGENTGATE-FWD in filter FORWARD exist, for IPv4 and IPv6. Asks nf_tables
 * over netlink first (no fork); when that does not find all four, runs
 * `iptables -C` / `ip6tables -C` (fork/execvp from PATH, no shell), which
 * also covers the legacy backend and names what is missing. Returns 0 when
 * all four exist; -1 with errno ENOENT when one is missing, ENOEXEC when
 * iptables cannot be run, or the fork's errno. *what names the missing
 * piece or the program.
 */
int gwcheck_rules(const char **what);

/*
 * Parser of one NFT_MSG_NEWRULE message (no I/O): 1 when the rule is an
 * unconditional jump to chain `target` (its expressions are that jump and
 * nothing but counters and comment matches, which never narrow a rule),
 * else 0.
 */
int gwcheck_rule_jumps(const struct nlmsghdr *nlh, const char *target);

#endif
