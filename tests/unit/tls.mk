# Unit tests for tls (see tests/local.mk).
check_PROGRAMS += tests/unit/test_tlshello
TESTS += tests/unit/test_tlshello
tests_unit_test_tlshello_SOURCES = tests/unit/test_tlshello.c
tests_unit_test_tlshello_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tlshello_LDADD = $(AG_LIBS) $(UNIT_LIBS)
EXTRA_DIST += tests/data/tls
