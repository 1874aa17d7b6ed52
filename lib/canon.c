/*
 * The one host name canonicaliser: IP literals in every spelling a resolver
 * or browser accepts become addresses, everything else becomes a lowercase
 * A-label name or an error. Policy decisions compare only what this returns.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <idn2.h>

#include "canon.h"

/*
 * Longest input looked at. UTS#46 may delete characters (soft hyphens), so
 * the raw input may exceed CANON_NAME_MAX and still map to a valid name;
 * anything this long cannot be an honest host name.
 */
#define CANON_INPUT_MAX	1024

#define CANON_IDN2_FLAGS	(IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL)

static bool
byte_allowed(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * WHATWG URL "ends in a number": the last label (lowercased, trailing dot
 * already gone) is all digits, or 0x with hex digits. Such a host can only
 * be an IPv4 literal, never a name.
 */
static bool
ends_in_number(const char *s, size_t n)
{
	size_t start = n, i;

	while (start > 0 && s[start - 1] != '.')
		start--;
	if (start == n)
		return false;
	if (n - start >= 2 && s[start] == '0' && s[start + 1] == 'x') {
		for (i = start + 2; i < n; i++)
			if (hex_value(s[i]) < 0)
				return false;
		return true;
	}
	for (i = start; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One inet_aton part: decimal, 0-prefixed octal or 0x hex (0x alone is 0). */
static int
ipv4_part(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10;
	size_t i = 0;

	if (n == 0)
		return -1;
	if (n >= 2 && s[0] == '0' && s[1] == 'x') {
		base = 16;
		i = 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	for (; i < n; i++) {
		int d = hex_value(s[i]);

		if (d < 0 || (unsigned int)d >= base)
			return -1;
		v = v * base + (unsigned int)d;
		if (v > UINT32_MAX)	/* also stops overflow of v */
			return -1;
	}
	*out = v;
	return 0;
}

/* inet_aton grammar without its trailing-junk leniency: 1 to 4 parts, the
 * last filling the remaining bytes. Returns 0 and the address in host order. */
static int
ipv4_parse(const char *s, size_t n, uint32_t *out)
{
	uint64_t parts[4], last;
	size_t count = 0, start = 0, i;
	uint32_t v = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (count == 4)
			return -1;
		if (ipv4_part(s + start, i - start, &parts[count]) == -1)
			return -1;
		count++;
		start = i + 1;
	}
	for (i = 0; i + 1 < count; i++) {
		if (parts[i] > 255)
			return -1;
		v |= (uint32_t)parts[i] << (24 - 8 * i);
	}
	last = parts[count - 1];
	if (last > (UINT32_MAX >> (8 * (count - 1))))
		return -1;
	*out = v | (uint32_t)last;
	return 0;
}

/* An xn-- label must be exactly what IDNA would produce for its U-label;
 * otherwise two spellings could reach one host past a policy. */
static enum canon_result
alabel_check(const char *label, size_t n)
{
	char buf[CANON_LABEL_MAX + 1];
	char *ulabel = NULL;
	uint8_t *alabel = NULL;
	enum canon_result r = CANON_ERR_IDNA;

	if (n > CANON_LABEL_MAX)
		return CANON_ERR_LABEL_LONG;
	memcpy(buf, label, n);
	buf[n] = '\0';
	if (idn2_to_unicode_8z8z(buf, &ulabel, 0) != IDN2_OK || ulabel == NULL)
		goto out;
	if (idn2_lookup_u8((const uint8_t *)ulabel, &alabel,
	    CANON_IDN2_FLAGS) != IDN2_OK || alabel == NULL)
		goto out;
	if (strcmp((const char *)alabel, buf) == 0)
		r = CANON_NAME;
out:
	idn2_free(ulabel);
	idn2_free(alabel);
	return r;
}

/*
 * The checks every name passes, whether it came in as ASCII or out of IDNA,
 * so that IDNA output can never carry a byte the ASCII rules forbid.
 */
static enum canon_result
canon_ascii(const char *s, size_t n, struct canon_out *out)
{
	char buf[CANON_INPUT_MAX];
	size_t i, start;
	uint32_t v4;
	enum canon_result r;

	if (n == 0 || (n == 1 && s[0] == '.'))
		return CANON_ERR_EMPTY;
	if (n > CANON_INPUT_MAX)
		return CANON_ERR_NAME_LONG;
	if (s[n - 1] == '.')
		n--;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!byte_allowed(c))
			return CANON_ERR_CHAR;
		buf[i] = (char)c;
	}

	if (ends_in_number(buf, n)) {
		if (ipv4_parse(buf, n, &v4) == -1)
			return CANON_ERR_NUMERIC;
		addr_from_v4(htonl(v4), &out->addr);
		return CANON_ADDRESS;
	}

	for (start = 0; start <= n; start = i + 1) {
		for (i = start; i < n && buf[i] != '.'; i++)
			;
		if (i == start)
			return CANON_ERR_LABEL_EMPTY;
		if (i - start > CANON_LABEL_MAX)
			return CANON_ERR_LABEL_LONG;
		if (buf[start] == '-' || buf[i - 1] == '-')
			return CANON_ERR_HYPHEN;
	}
	if (n > CANON_NAME_MAX)
		return CANON_ERR_NAME_LONG;
	for (start = 0; start <= n; start = i + 1) {
		for (i = start; i < n && buf[i] != '.'; i++)
			;
		if (i - start >= 4 && memcmp(buf + start, "xn--", 4) == 0 &&
		    (r = alabel_check(buf + start, i - start)) != CANON_NAME)
			return r;
	}

	memcpy(out->name, buf, n);
	out->name[n] = '\0';
	out->len = n;
	return CANON_NAME;
}

/* Text between brackets or with a colon: an IPv6 literal or nothing. */
static enum canon_result
canon_v6(const char *s, size_t n, struct canon_out *out)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr v6;

	/* inet_pton refuses zone ids already; say so rather than rely on it. */
	if (n == 0 || n >= sizeof(buf) || memchr(s, '%', n) != NULL)
		return CANON_ERR_CHAR;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, &v6) != 1)
		return CANON_ERR_CHAR;
	addr_from_v6(v6.s6_addr, &out->addr);
	return CANON_ADDRESS;
}

/* Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, more;
	unsigned char lo, hi;

	while (i < n) {
		unsigned char c = s[i];

		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (n - i - 1 < more)
			return false;
		for (k = 1; k <= more; k++) {
			unsigned char cc = s[i + k];

			if (k == 1 ? (cc < lo || cc > hi) : (cc < 0x80 || cc > 0xbf))
				return false;
		}
		i += more + 1;
	}
	return true;
}

static enum canon_result
canon_idna(const char *in, size_t len, struct canon_out *out)
{
	char buf[CANON_INPUT_MAX + 1];
	uint8_t *ascii = NULL;
	enum canon_result r;
	size_t n, i;
	int rc;

	if (!utf8_valid((const unsigned char *)in, len))
		return CANON_ERR_IDNA;
	memcpy(buf, in, len);
	buf[len] = '\0';
	rc = idn2_lookup_u8((const uint8_t *)buf, &ascii, CANON_IDN2_FLAGS);
	switch (rc) {
	case IDN2_OK:
		break;
	case IDN2_TOO_BIG_LABEL:
	case IDN2_PUNYCODE_BIG_OUTPUT:	/* an A-label past 63 octets */
		r = CANON_ERR_LABEL_LONG;
		goto out;
	case IDN2_TOO_BIG_DOMAIN:
		r = CANON_ERR_NAME_LONG;
		goto out;
	case IDN2_HYPHEN_STARTEND:
		r = CANON_ERR_HYPHEN;
		goto out;
	default:
		r = CANON_ERR_IDNA;
		goto out;
	}
	r = CANON_ERR_IDNA;
	if (ascii == NULL)
		goto out;
	n = strlen((const char *)ascii);
	for (i = 0; i < n; i++)
		if (ascii[i] >= 0x80)
			goto out;
	/* Fullwidth digits and dots map to ASCII: an address may appear only now. */
	r = canon_ascii((const char *)ascii, n, out);
out:
	idn2_free(ascii);
	return r;
}

enum canon_result
canon_host(const char *in, size_t len, struct canon_out *out)
{
	size_t i;
	bool ascii = true;

	if (len == 0)
		return CANON_ERR_EMPTY;
	if (memchr(in, '\0', len) != NULL)
		return CANON_ERR_CHAR;
	if (len > CANON_INPUT_MAX)
		return CANON_ERR_NAME_LONG;
	if (in[0] == '[') {
		if (len < 2 || in[len - 1] != ']')
			return CANON_ERR_CHAR;
		return canon_v6(in + 1, len - 2, out);
	}
	if (memchr(in, ':', len) != NULL)
		return canon_v6(in, len, out);
	for (i = 0; i < len; i++) {
		if ((unsigned char)in[i] >= 0x80) {
			ascii = false;
			break;
		}
	}
	if (ascii)
		return canon_ascii(in, len, out);
	return canon_idna(in, len, out);
}

const char *
canon_strerror(enum canon_result r)
{
	switch (r) {
	case CANON_NAME:
		return "name";
	case CANON_ADDRESS:
		return "address";
	case CANON_ERR_EMPTY:
		return "empty name";
	case CANON_ERR_CHAR:
		return "forbidden character";
	case CANON_ERR_LABEL_EMPTY:
		return "empty label";
	case CANON_ERR_LABEL_LONG:
		return "label too long";
	case CANON_ERR_NAME_LONG:
		return "name too long";
	case CANON_ERR_IDNA:
		return "invalid internationalised name";
	case CANON_ERR_NUMERIC:
		return "numeric label but no valid ipv4 address";
	case CANON_ERR_HYPHEN:
		return "label starts or ends with a hyphen";
	}
	return "unknown result";
}
