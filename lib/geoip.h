/*
 * Destination enrichment from MaxMind-format databases (GeoLite2-Country
 * and GeoLite2-ASN layouts): country ISO code, AS number and organisation.
 * Both databases are optional; lookups are thread-safe (read-only mmap).
 */
#ifndef AG_GEOIP_H
#define AG_GEOIP_H

#include <stdint.h>

#include "addr.h"

struct geoip;

struct geoip_result {
	char	 country[8];	/* country.iso_code; "" when unknown */
	int64_t	 as_number;	/* autonomous_system_number; -1 when unknown */
	char	 as_org[256];	/* autonomous_system_organization; "" when unknown */
};

/* Open either database or both (a NULL path skips it). Returns a handle, or
 * NULL with errno: EINVAL when both paths are NULL, ENOENT/EACCES when a
 * file cannot be opened, EPROTO when it is not a valid MaxMind database. */
struct geoip *geoip_open(const char *country_path, const char *asn_path);
void	geoip_close(struct geoip *g);

/* Fill *out (fields not found stay "unknown"). Returns 1 when anything was
 * found, 0 when the address is in neither database, -1 with errno EIO on a
 * corrupt database or EAFNOSUPPORT for a bad address. */
int	geoip_lookup(const struct geoip *g, const struct ag_addr *a,
	    struct geoip_result *out);

#endif
