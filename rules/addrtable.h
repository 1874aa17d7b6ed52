/*
 * The address side of a compiled policy: host and CIDR rules, IPv4 and IPv6
 * alike, in a hash table keyed by (masked address, prefix length). A lookup
 * probes once per prefix length the policy uses. Immutable once built.
 */
#ifndef AG_ADDRTABLE_H
#define AG_ADDRTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "portset.h"

#define ADDRTABLE_NONE	UINT32_MAX

struct addr_key {
	struct ag_cidr	cidr;		/* host bits zero; IPv4 never mapped */
	uint8_t		protos;
	uint8_t		action;		/* enum policy_action of the rule */
	uint32_t	ports;		/* port set id */
	uint32_t	rule;
};

struct addr_entry;

struct addrtable {
	struct addr_entry	*slots;
	size_t			 mask;
	size_t			 count;
	uint8_t			 lens4[33], nlens4;	/* prefix lengths in use, longest first */
	uint8_t			 lens6[129], nlens6;
};

/* Build from keys in ascending rule order. Returns 0 or -1 (ENOMEM). */
int addrtable_build(struct addrtable *t, const struct addr_key *keys, size_t n);
void addrtable_free(struct addrtable *t);

/* The lowest rule index covering `a` whose protocols and ports accept
 * proto/port (one enum policy_proto bit), and its action in *action; or
 * ADDRTABLE_NONE. */
uint32_t addrtable_lookup(const struct addrtable *t,
    const struct portset_table *ports, const struct ag_addr *a,
    unsigned proto, uint16_t port, unsigned *action);

size_t addrtable_memory(const struct addrtable *t);

#endif
