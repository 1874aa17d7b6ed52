# Unit tests for registry (see tests/local.mk).
check_PROGRAMS += tests/unit/test_registry
TESTS += tests/unit/test_registry
tests_unit_test_registry_SOURCES = tests/unit/test_registry.c
tests_unit_test_registry_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_registry_LDADD = $(RULES_LIBS) $(UNIT_LIBS)

# agentgatectl task, driven through the real binary.
TESTS += tests/ctl/task.test.sh
EXTRA_DIST += tests/ctl/task.test.sh
