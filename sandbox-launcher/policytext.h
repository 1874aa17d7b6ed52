/*
 * The one-task policy agentgate-run writes for --allow / --ask: each
 * TARGET[:PORT] becomes one rule of the policy language (docs/policy.md).
 * Text only; the caller writes it and checks it with policy_load_file().
 */
#ifndef AG_POLICYTEXT_H
#define AG_POLICYTEXT_H

#include <stddef.h>

/*
 * Append the rule for one command-line target to buf (NUL-terminated,
 * `*len` bytes used so far, updated). `action` is "allow" or "ask".
 * TARGET is a name, wildcard, address or CIDR; ":PORT" (1-65535) narrows it
 * to that TCP port, "[v6addr]:PORT" for IPv6; an IPv6 address without
 * brackets has no port. Returns 0, or -1 with errno EINVAL (empty target,
 * bad port, a blank, '#', '"' or control byte that would change the rule's
 * meaning) or ENAMETOOLONG (buf full).
 */
int policytext_add(char *buf, size_t size, size_t *len, const char *action,
    const char *target);

#endif
