/*
 * Unit tests for geoip enrichment against tiny databases built at test
 * time by tests/unit/make-geoip-db.pl (Debian's libmaxmind-db-writer-perl),
 * and the writer filling destination.geo/as from them. The whole plan is
 * skipped (TAP "1..0 # SKIP") only when that perl module is missing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chaincheck.h"
#include "geoip.h"
#include "log.h"
#include "telemetry.h"

struct geo_fixture {
	char	dir[64];
	char	country[128];
	char	asn[128];
};

static int
group_setup(void **state)
{
	struct geo_fixture *g = calloc(1, sizeof(*g));
	const char *top = getenv("top_srcdir");
	char cmd[512];

	snprintf(g->dir, sizeof(g->dir), "/tmp/ag-geoip-XXXXXX");
	if (mkdtemp(g->dir) == NULL)
		return -1;
	snprintf(g->country, sizeof(g->country), "%s/country.mmdb", g->dir);
	snprintf(g->asn, sizeof(g->asn), "%s/asn.mmdb", g->dir);
	snprintf(cmd, sizeof(cmd), "perl '%s/tests/unit/make-geoip-db.pl' '%s'",
	    top ? top : "..", g->dir);
	if (system(cmd) != 0)
		return -1;	/* the module is there (main checked): a bug */
	*state = g;
	return 0;
}

static int
group_teardown(void **state)
{
	struct geo_fixture *g = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g->dir);
	if (system(cmd) != 0)
		return -1;
	free(g);
	return 0;
}

static void
addr(struct ag_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1)
		a->family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, s, &a->u.v6), 1);
		a->family = AF_INET6;
	}
}

struct lookup_case {
	const char	*ip;
	int		 rc;
	const char	*country;
	int64_t		 as_number;
	const char	*as_org;
};

/* From the networks make-geoip-db.pl inserts. */
static const struct lookup_case lookup_cases[] = {
	{ "198.18.0.1", 1, "DE", -1, "" },
	{ "198.18.255.255", 1, "DE", -1, "" },
	{ "198.19.0.10", 1, "JP", 64500, "Example Transit" },
	{ "198.19.1.10", 1, "JP", -1, "" },
	{ "fd00:a9:1::2", 1, "NL", -1, "" },
	{ "fd00:a9:ff::10", 1, "NL", 64501, "Upstream \xe2\x98\x83 Org" },
	{ "fd00:aa::1", 0, "", -1, "" },
	{ "127.0.0.1", 0, "", -1, "" },
	{ "::1", 0, "", -1, "" },
};

static void
test_lookup_table(void **state)
{
	struct geo_fixture *g = *state;
	struct geoip_result r;
	struct geoip *db;
	struct ag_addr a;
	size_t i;

	assert_non_null(db = geoip_open(g->country, g->asn));
	for (i = 0; i < sizeof(lookup_cases) / sizeof(lookup_cases[0]); i++) {
		const struct lookup_case *c = &lookup_cases[i];

		addr(&a, c->ip);
		if (geoip_lookup(db, &a, &r) != c->rc)
			fail_msg("%s: want rc %d", c->ip, c->rc);
		if (strcmp(r.country, c->country) != 0 || r.as_number != c->as_number ||
		    strcmp(r.as_org, c->as_org) != 0)
			fail_msg("%s: got %s/%lld/%s", c->ip, r.country,
			    (long long)r.as_number, r.as_org);
	}
	geoip_close(db);
}

static void
test_one_database_only(void **state)
{
	struct geo_fixture *g = *state;
	struct geoip_result r;
	struct geoip *db;
	struct ag_addr a;

	addr(&a, "198.19.0.10");
	assert_non_null(db = geoip_open(NULL, g->asn));
	assert_int_equal(geoip_lookup(db, &a, &r), 1);
	assert_string_equal(r.country, "");
	assert_int_equal(r.as_number, 64500);
	geoip_close(db);
	assert_non_null(db = geoip_open(g->country, NULL));
	assert_int_equal(geoip_lookup(db, &a, &r), 1);
	assert_string_equal(r.country, "JP");
	assert_int_equal(r.as_number, -1);
	geoip_close(db);
}

static void
test_open_errors(void **state)
{
	struct geo_fixture *g = *state;
	char bad[160];
	FILE *f;

	errno = 0;
	assert_null(geoip_open(NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(geoip_open("/nonexistent/country.mmdb", NULL));
	assert_int_equal(errno, ENOENT);
	snprintf(bad, sizeof(bad), "%s/garbage.mmdb", g->dir);
	assert_non_null(f = fopen(bad, "w"));
	fputs("not a maxmind database\n", f);
	fclose(f);
	assert_null(geoip_open(bad, NULL));
	assert_int_equal(errno, EPROTO);
}

/* The writer enriches egress events with a destination address, and does
 * not overwrite fields the caller set. */
static void
test_writer_enriches(void **state)
{
	struct geo_fixture *g = *state;
	struct telemetry_config cfg;
	struct telemetry *t;
	struct ag_event ev;
	struct geoip *db;
	struct chain c;
	char dir[160];

	assert_non_null(db = geoip_open(g->country, g->asn));
	snprintf(dir, sizeof(dir), "%s/logs", g->dir);
	telemetry_config_init(&cfg);
	cfg.dir = dir;
	cfg.service = "agentgate-test";
	cfg.fsync = TELEMETRY_FSYNC_NEVER;
	cfg.geoip = db;
	assert_non_null(t = telemetry_open(&cfg, "proxy"));
	event_init(&ev, EVENT_EGRESS);
	addr(&ev.dst_ip, "fd00:a9:ff::10");
	assert_int_equal(telemetry_emit(t, &ev), TELEMETRY_WRITTEN);
	event_init(&ev, EVENT_EGRESS);
	addr(&ev.dst_ip, "198.19.0.10");
	ev.dst_country = "XX";		/* the caller knows better */
	assert_int_equal(telemetry_emit(t, &ev), TELEMETRY_WRITTEN);
	event_init(&ev, EVENT_EGRESS);	/* no address: nothing to look up */
	ev.dst_domain = "x.example.test";
	assert_int_equal(telemetry_emit(t, &ev), TELEMETRY_WRITTEN);
	telemetry_close(t);
	geoip_close(db);

	if (chain_load(dir, "proxy", &c) != 0)
		fail_msg("%s", c.err);
	assert_int_equal(c.nlines, 4);
	assert_string_equal(chain_str(c.obj[1], "destination.geo.country_iso_code"), "NL");
	assert_int_equal(chain_int(c.obj[1], "destination.as.number", 0), 64501);
	assert_string_equal(chain_str(c.obj[1], "destination.as.organization.name"),
	    "Upstream \xe2\x98\x83 Org");
	assert_string_equal(chain_str(c.obj[2], "destination.geo.country_iso_code"), "XX");
	assert_int_equal(chain_int(c.obj[2], "destination.as.number", 0), 0);
	assert_null(chain_str(c.obj[3], "destination.geo.country_iso_code"));
	chain_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_table),
		cmocka_unit_test(test_one_database_only),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_writer_enriches),
	};

	log_init("test_geoip", LOG_LEVEL_WARN, 0);
	/* cmocka 1.1.5 prints "not ok # SKIP", which automake counts as a
	 * failure: skip the whole plan in plain TAP instead. */
	if (system("perl -MMaxMind::DB::Writer::Tree -e 1 >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP perl MaxMind::DB::Writer::Tree (Debian "
		    "libmaxmind-db-writer-perl) is not installed\n");
		return 0;
	}
	return cmocka_run_group_tests_name("geoip", tests, group_setup,
	    group_teardown);
}
