# Unit tests for dns (see tests/local.mk).
check_PROGRAMS += tests/unit/test_dnsmsg
TESTS += tests/unit/test_dnsmsg
EXTRA_DIST += tests/data/dns
tests_unit_test_dnsmsg_SOURCES = tests/unit/test_dnsmsg.c
tests_unit_test_dnsmsg_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dnsmsg_LDADD = $(AG_LIBS) $(UNIT_LIBS)
