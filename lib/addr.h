/*
 * IPv4/IPv6 addresses and CIDR prefixes as one value type, so that every
 * component filters IPv6 exactly as IPv4. IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) are always stored unmapped, as IPv4.
 */
#ifndef AG_ADDR_H
#define AG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* Longest text addr_format() writes, with the terminating NUL. */
#define AG_ADDR_STRLEN 46

struct ag_addr {
	sa_family_t	family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
		uint8_t		bytes[16];	/* network order; 4 used for AF_INET */
	} u;
};

struct ag_cidr {
	struct ag_addr	addr;		/* host bits are zero */
	uint8_t		len;		/* prefix length: 0..32 or 0..128 */
};

/* What kind of destination an address is; used to refuse answers that point
 * a public name at the inside (DNS rebinding, metadata services). */
enum addr_class {
	ADDR_PUBLIC = 0,
	ADDR_UNSPECIFIED,	/* 0.0.0.0/8, :: */
	ADDR_LOOPBACK,		/* 127/8, ::1 */
	ADDR_LINKLOCAL,		/* 169.254/16, fe80::/10 */
	ADDR_METADATA,		/* 169.254.169.254, fd00:ec2::254 */
	ADDR_PRIVATE,		/* 10/8, 172.16/12, 192.168/16, 100.64/10, 198.18/15, fc00::/7 */
	ADDR_MULTICAST,		/* 224/4, ff00::/8 */
	ADDR_RESERVED,		/* 240/4, 255.255.255.255, and other non-unicast */
};

/* Bytes that count for this family: 4 or 16. */
size_t addr_size(const struct ag_addr *a);

/* Strict textual forms only (inet_pton; no brackets, no zone ids). The
 * permissive spellings clients use (0x7f000001, 0177.1) are recognised by
 * canon_host() in canon.h. Returns 0, or -1 with errno EINVAL. */
int addr_parse(const char *s, struct ag_addr *out);

/* "addr/len", or a bare address meaning a host prefix. Host bits set below
 * the prefix are an error (EINVAL) so a typo cannot widen a rule silently. */
int cidr_parse(const char *s, struct ag_cidr *out);

/* Canonical text (inet_ntop); always NUL-terminated, never fails for a
 * valid family. Returns buf. */
const char *addr_format(const struct ag_addr *a, char *buf, size_t size);

/* Fill from a socket address; IPv4-mapped IPv6 becomes IPv4.
 * Returns 0, or -1 with errno EAFNOSUPPORT. */
int addr_from_sockaddr(const struct sockaddr *sa, struct ag_addr *out);
void addr_from_v4(uint32_t be, struct ag_addr *out);
void addr_from_v6(const uint8_t bytes[16], struct ag_addr *out);

bool addr_equal(const struct ag_addr *a, const struct ag_addr *b);
bool cidr_contains(const struct ag_cidr *c, const struct ag_addr *a);

/* IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96) addresses are judged
 * by the IPv4 address they embed; 198.18.0.0/15 and fec0::/10 are private. */
enum addr_class addr_classify(const struct ag_addr *a);
const char *addr_class_name(enum addr_class c);

#endif
