/*
 * Is the gateway up? Before a sandbox gets a link, the gateway's rules
 * (agentgatectl gateway up, docs/gateway.md) must be installed in this
 * network namespace: without them a sandbox's traffic would be routed
 * out unfiltered.
 */
#ifndef AG_GWCHECK_H
#define AG_GWCHECK_H

/*
 * Whether the jump to AGENTGATE-PRE in nat PREROUTING and the jump to
 * AGENTGATE-FWD in filter FORWARD exist, for IPv4 and IPv6 (`iptables -C`,
 * run with fork/execvp from PATH, no shell). Returns 0 when all four do;
 * -1 with errno ENOENT when one is missing, ENOEXEC when iptables cannot be
 * run, or the fork's errno. *what names the missing piece or the program.
 */
int gwcheck_rules(const char **what);

#endif
