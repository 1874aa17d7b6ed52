# Unit tests for rules (see tests/local.mk).
EXTRA_DIST += tests/data/policies

check_PROGRAMS += tests/unit/test_policy_parse
TESTS += tests/unit/test_policy_parse
tests_unit_test_policy_parse_SOURCES = tests/unit/test_policy_parse.c
tests_unit_test_policy_parse_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_test_policy_parse_LDADD = $(RULES_LIBS) $(UNIT_LIBS) -lpthread

check_PROGRAMS += tests/unit/test_policy_match
TESTS += tests/unit/test_policy_match
tests_unit_test_policy_match_SOURCES = tests/unit/test_policy_match.c
tests_unit_test_policy_match_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_match_LDADD = $(RULES_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_policycache
TESTS += tests/unit/test_policycache
tests_unit_test_policycache_SOURCES = tests/unit/test_policycache.c
tests_unit_test_policycache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policycache_LDADD = $(RULES_LIBS) $(UNIT_LIBS)
