# Unit tests for telemetry (see tests/local.mk): the JSON encoder, events,
# the doc examples, the writer and geoip enrichment.
TELEMETRY_TEST_CFLAGS = $(UNIT_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS) \
	$(MAXMINDDB_CFLAGS) -pthread
TELEMETRY_TEST_LIBS = $(AG_LIBS) $(JSONC_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_json tests/unit/test_event \
	tests/unit/test_telemetry_doc tests/unit/test_telemetry \
	tests/unit/test_geoip
TESTS += tests/unit/test_json tests/unit/test_event \
	tests/unit/test_telemetry_doc tests/unit/test_telemetry \
	tests/unit/test_geoip
EXTRA_DIST += tests/unit/make-geoip-db.pl

tests_unit_test_json_SOURCES = tests/unit/test_json.c
tests_unit_test_json_CFLAGS = $(TELEMETRY_TEST_CFLAGS)
tests_unit_test_json_LDADD = $(TELEMETRY_TEST_LIBS)

tests_unit_test_event_SOURCES = tests/unit/test_event.c
tests_unit_test_event_CFLAGS = $(TELEMETRY_TEST_CFLAGS)
tests_unit_test_event_LDADD = $(TELEMETRY_TEST_LIBS)

tests_unit_test_telemetry_doc_SOURCES = tests/unit/test_telemetry_doc.c
tests_unit_test_telemetry_doc_CFLAGS = $(TELEMETRY_TEST_CFLAGS)
tests_unit_test_telemetry_doc_LDADD = $(TELEMETRY_TEST_LIBS)

tests_unit_test_telemetry_SOURCES = tests/unit/test_telemetry.c \
	tests/unit/chaincheck.c tests/unit/chaincheck.h
tests_unit_test_telemetry_CFLAGS = $(TELEMETRY_TEST_CFLAGS)
tests_unit_test_telemetry_LDADD = $(TELEMETRY_TEST_LIBS)

tests_unit_test_geoip_SOURCES = tests/unit/test_geoip.c \
	tests/unit/chaincheck.c tests/unit/chaincheck.h
tests_unit_test_geoip_CFLAGS = $(TELEMETRY_TEST_CFLAGS)
tests_unit_test_geoip_LDADD = $(TELEMETRY_TEST_LIBS)
