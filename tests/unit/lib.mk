# Unit tests for lib (see tests/local.mk).
check_PROGRAMS += tests/unit/test_addr tests/unit/test_canon
TESTS += tests/unit/test_addr tests/unit/test_canon

tests_unit_test_addr_SOURCES = tests/unit/test_addr.c
tests_unit_test_addr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_addr_LDADD = $(AG_LIBS) $(UNIT_LIBS)

tests_unit_test_canon_SOURCES = tests/unit/test_canon.c
tests_unit_test_canon_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_canon_LDADD = $(AG_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_conf
TESTS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_LDADD = $(AG_LIBS) $(UNIT_LIBS)
