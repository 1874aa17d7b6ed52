/*
 * One value type for IPv4 and IPv6 addresses and CIDR prefixes, with strict
 * parsing, formatting, prefix matching and the classification that keeps a
 * public name from being answered with an inside address.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

/* Longest text cidr_parse() accepts: an IPv6 address, '/', three digits. */
#define CIDR_TEXT_MAX	(INET6_ADDRSTRLEN + 4)

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

size_t
addr_size(const struct ag_addr *a)
{
	return a->family == AF_INET6 ? 16 : 4;
}

void
addr_from_v4(uint32_t be, struct ag_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->u.v4.s_addr = be;
}

void
addr_from_v6(const uint8_t bytes[16], struct ag_addr *out)
{
	memset(out, 0, sizeof(*out));
	/* Mapped addresses reach IPv4 sockets; filter them as the IPv4 they are. */
	if (memcmp(bytes, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		out->family = AF_INET;
		memcpy(out->u.bytes, bytes + 12, 4);
		return;
	}
	out->family = AF_INET6;
	memcpy(out->u.bytes, bytes, 16);
}

int
addr_parse(const char *s, struct ag_addr *out)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		addr_from_v4(v4.s_addr, out);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &v6) == 1) {
		addr_from_v6(v6.s6_addr, out);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/* Decimal prefix length without sign or leading zeros, at most `max`. */
static int
prefix_parse(const char *s, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -1;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* True when any bit at or after bit `len` of bytes[0..size) is set. */
static bool
host_bits_set(const uint8_t *bytes, size_t size, unsigned int len)
{
	size_t i;

	for (i = len / 8; i < size; i++) {
		uint8_t mask = 0xff;

		if (i == len / 8 && len % 8 != 0)
			mask = (uint8_t)(0xff >> (len % 8));
		if (bytes[i] & mask)
			return true;
	}
	return false;
}

int
cidr_parse(const char *s, struct ag_cidr *out)
{
	char buf[CIDR_TEXT_MAX + 1];
	const char *slash, *plen = NULL;
	struct in_addr v4;
	struct in6_addr v6;
	unsigned int len;
	size_t n;

	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		goto bad;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (slash != NULL)
		plen = slash + 1;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		len = 32;
		if (plen != NULL && prefix_parse(plen, 32, &len) == -1)
			goto bad;
		if (host_bits_set((const uint8_t *)&v4.s_addr, 4, len))
			goto bad;
		addr_from_v4(v4.s_addr, &out->addr);
		out->len = (uint8_t)len;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &v6) == 1) {
		len = 128;
		if (plen != NULL && prefix_parse(plen, 128, &len) == -1)
			goto bad;
		/* Checked on the raw bytes, so ::ffff:0:0/80 is refused. */
		if (host_bits_set(v6.s6_addr, 16, len))
			goto bad;
		addr_from_v6(v6.s6_addr, &out->addr);
		/*
		 * A mapped prefix can only be /96 or longer here (shorter ones
		 * have host bits in the ffff); it covers the IPv4 addresses
		 * that addr_from_v6() unmaps, so store it as IPv4.
		 */
		if (out->addr.family == AF_INET)
			len -= 96;
		out->len = (uint8_t)len;
		return 0;
	}
bad:
	errno = EINVAL;
	return -1;
}

const char *
addr_format(const struct ag_addr *a, char *buf, size_t size)
{
	int af = a->family == AF_INET6 ? AF_INET6 : AF_INET;

	if (size == 0)
		return buf;
	if (a->family != AF_INET && a->family != AF_INET6) {
		snprintf(buf, size, "?");
		return buf;
	}
	if (inet_ntop(af, a->u.bytes, buf, (socklen_t)size) == NULL)
		buf[0] = '\0';
	return buf;
}

int
addr_from_sockaddr(const struct sockaddr *sa, struct ag_addr *out)
{
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		addr_from_v4(sin->sin_addr.s_addr, out);
		return 0;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		addr_from_v6(sin6->sin6_addr.s6_addr, out);
		return 0;
	}
	default:
		errno = EAFNOSUPPORT;
		return -1;
	}
}

bool
addr_equal(const struct ag_addr *a, const struct ag_addr *b)
{
	return a->family == b->family &&
	    memcmp(a->u.bytes, b->u.bytes, addr_size(a)) == 0;
}

bool
cidr_contains(const struct ag_cidr *c, const struct ag_addr *a)
{
	size_t whole = c->len / 8;
	unsigned int rest = c->len % 8;

	if (c->addr.family != a->family || c->len > addr_size(a) * 8)
		return false;
	if (memcmp(c->addr.u.bytes, a->u.bytes, whole) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((c->addr.u.bytes[whole] & mask) != (a->u.bytes[whole] & mask))
			return false;
	}
	return true;
}

static enum addr_class
classify_v4(const uint8_t b[4])
{
	if (b[0] == 0)
		return ADDR_UNSPECIFIED;
	if (b[0] == 127)
		return ADDR_LOOPBACK;
	/* The metadata address lies inside link-local, so it is tested first. */
	if (b[0] == 169 && b[1] == 254 && b[2] == 169 && b[3] == 254)
		return ADDR_METADATA;
	if (b[0] == 169 && b[1] == 254)
		return ADDR_LINKLOCAL;
	if (b[0] == 10 ||
	    (b[0] == 172 && (b[1] & 0xf0) == 16) ||
	    (b[0] == 192 && b[1] == 168) ||
	    (b[0] == 100 && (b[1] & 0xc0) == 64) ||
	    /* RFC 2544 benchmarking; the integration tests live there. */
	    (b[0] == 198 && (b[1] & 0xfe) == 18))
		return ADDR_PRIVATE;
	if ((b[0] & 0xf0) == 224)
		return ADDR_MULTICAST;
	if ((b[0] & 0xf0) == 240)	/* includes 255.255.255.255 */
		return ADDR_RESERVED;
	return ADDR_PUBLIC;
}

static enum addr_class
classify_v6(const uint8_t b[16])
{
	static const uint8_t zero12[12];
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t metadata[16] = {
		0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54
	};
	enum addr_class c;
	size_t i;

	if (memcmp(b, zero12, 12) == 0) {
		for (i = 12; i < 15 && b[i] == 0; i++)
			;
		if (i == 15 && b[15] == 0)
			return ADDR_UNSPECIFIED;
		if (i == 15 && b[15] == 1)
			return ADDR_LOOPBACK;
		/*
		 * Deprecated IPv4-compatible form: never a valid public
		 * destination, and one that embeds an inside IPv4 address
		 * is reported as that, so that the stricter refusal applies.
		 */
		c = classify_v4(b + 12);
		return c == ADDR_PUBLIC || c == ADDR_UNSPECIFIED ?
		    ADDR_RESERVED : c;
	}
	/* Normally unmapped by addr_from_v6(); a hand-built value may not be. */
	if (memcmp(b, v4mapped_prefix, 12) == 0)
		return classify_v4(b + 12);
	/* NAT64 (RFC 6052) would carry us to the embedded IPv4 address. */
	if (memcmp(b, nat64, 12) == 0)
		return classify_v4(b + 12);
	if (memcmp(b, metadata, 16) == 0)
		return ADDR_METADATA;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return ADDR_LINKLOCAL;
	/* fc00::/7 unique local, and the deprecated site-local fec0::/10 it replaced */
	if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))
		return ADDR_PRIVATE;
	if (b[0] == 0xff)
		return ADDR_MULTICAST;
	return ADDR_PUBLIC;
}

enum addr_class
addr_classify(const struct ag_addr *a)
{
	if (a->family == AF_INET)
		return classify_v4(a->u.bytes);
	if (a->family == AF_INET6)
		return classify_v6(a->u.bytes);
	return ADDR_RESERVED;
}

const char *
addr_class_name(enum addr_class c)
{
	switch (c) {
	case ADDR_PUBLIC:
		return "public";
	case ADDR_UNSPECIFIED:
		return "unspecified";
	case ADDR_LOOPBACK:
		return "loopback";
	case ADDR_LINKLOCAL:
		return "link-local";
	case ADDR_METADATA:
		return "metadata";
	case ADDR_PRIVATE:
		return "private";
	case ADDR_MULTICAST:
		return "multicast";
	case ADDR_RESERVED:
		return "reserved";
	}
	return "unknown";
}
