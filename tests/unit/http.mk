# Unit tests for http (see tests/local.mk).
check_PROGRAMS += tests/unit/test_httphead
TESTS += tests/unit/test_httphead
tests_unit_test_httphead_SOURCES = tests/unit/test_httphead.c
tests_unit_test_httphead_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_httphead_LDADD = $(AG_LIBS) $(UNIT_LIBS)
