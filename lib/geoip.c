/*
 * libmaxminddb lookups for telemetry enrichment. The databases are opened
 * once (mmap) and only read afterwards, so one handle serves every thread.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#include "geoip.h"
#include "log.h"

struct geoip {
	MMDB_s	country;
	MMDB_s	asn;
	int	has_country;
	int	has_asn;
};

static int
geoip_open_one(const char *path, MMDB_s *db)
{
	int rc;

	rc = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (rc == MMDB_SUCCESS)
		return 0;
	if (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) {
		/* libmaxminddb keeps errno from open(2) here. */
		if (errno == 0)
			errno = ENOENT;
	} else
		errno = EPROTO;
	log_warnx("geoip: %s: %s", path, MMDB_strerror(rc));
	return -1;
}

struct geoip *
geoip_open(const char *country_path, const char *asn_path)
{
	struct geoip *g;
	int saved;

	if (country_path == NULL && asn_path == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if (country_path != NULL) {
		errno = 0;
		if (geoip_open_one(country_path, &g->country) == -1)
			goto fail;
		g->has_country = 1;
	}
	if (asn_path != NULL) {
		errno = 0;
		if (geoip_open_one(asn_path, &g->asn) == -1)
			goto fail;
		g->has_asn = 1;
	}
	return g;
fail:
	saved = errno;
	geoip_close(g);
	errno = saved;
	return NULL;
}

void
geoip_close(struct geoip *g)
{
	if (g == NULL)
		return;
	if (g->has_country)
		MMDB_close(&g->country);
	if (g->has_asn)
		MMDB_close(&g->asn);
	free(g);
}

/* 1 found, 0 not found, -1 error. */
static int
geoip_find(const MMDB_s *db, const struct sockaddr *sa,
    MMDB_lookup_result_s *res)
{
	int mmdb_err = MMDB_SUCCESS;

	*res = MMDB_lookup_sockaddr(db, sa, &mmdb_err);
	if (mmdb_err != MMDB_SUCCESS) {
		errno = EIO;
		return -1;
	}
	return res->found_entry ? 1 : 0;
}

/* A string at path into buf; 1 copied, 0 absent, -1 corrupt. */
static int
geoip_string(MMDB_entry_s *entry, char *buf, size_t size, const char *const *path)
{
	MMDB_entry_data_s data;
	size_t n;

	if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS)
		return 0;
	if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING)
		return 0;
	n = data.data_size < size - 1 ? data.data_size : size - 1;
	memcpy(buf, data.utf8_string, n);
	buf[n] = '\0';
	return 1;
}

int
geoip_lookup(const struct geoip *g, const struct ag_addr *a,
    struct geoip_result *out)
{
	static const char *const p_country[] = { "country", "iso_code", NULL };
	static const char *const p_asn[] = { "autonomous_system_number", NULL };
	static const char *const p_org[] = { "autonomous_system_organization", NULL };
	MMDB_lookup_result_s res;
	MMDB_entry_data_s data;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	int found = 0, rc;

	out->country[0] = '\0';
	out->as_org[0] = '\0';
	out->as_number = -1;
	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr = a->u.v4;
	} else if (a->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a->u.v6;
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (g->has_country) {
		if ((rc = geoip_find(&g->country, (struct sockaddr *)&ss, &res)) == -1)
			return -1;
		if (rc == 1 && geoip_string(&res.entry, out->country,
		    sizeof(out->country), p_country) == 1)
			found = 1;
	}
	if (g->has_asn) {
		if ((rc = geoip_find(&g->asn, (struct sockaddr *)&ss, &res)) == -1)
			return -1;
		if (rc == 1) {
			if (MMDB_aget_value(&res.entry, &data, p_asn) == MMDB_SUCCESS &&
			    data.has_data && data.type == MMDB_DATA_TYPE_UINT32) {
				out->as_number = data.uint32;
				found = 1;
			}
			if (geoip_string(&res.entry, out->as_org,
			    sizeof(out->as_org), p_org) == 1)
				found = 1;
		}
	}
	return found;
}
