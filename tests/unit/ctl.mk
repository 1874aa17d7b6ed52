# Unit tests for ctl (see tests/local.mk).

# agentgatectl policy, driven through the real binary.
TESTS += tests/ctl/policy.test.sh
EXTRA_DIST += tests/ctl/policy.test.sh

# agentgatectl log, log verify, report (docs/log.md): units, then the
# real binary on generated telemetry folders.
check_PROGRAMS += tests/unit/test_filter tests/unit/test_verify \
	tests/unit/test_logread
TESTS += tests/unit/test_filter tests/unit/test_verify tests/unit/test_logread
tests_unit_test_filter_SOURCES = tests/unit/test_filter.c
tests_unit_test_filter_CFLAGS = $(UNIT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_filter_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ctl
tests_unit_test_filter_LDADD = $(CTLLOG_LIBS) $(UNIT_LIBS)
tests_unit_test_verify_SOURCES = tests/unit/test_verify.c
tests_unit_test_verify_CFLAGS = $(UNIT_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_verify_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ctl
tests_unit_test_verify_LDADD = $(CTLLOG_LIBS) $(UNIT_LIBS)
tests_unit_test_logread_SOURCES = tests/unit/test_logread.c
tests_unit_test_logread_CFLAGS = $(UNIT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_logread_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ctl
tests_unit_test_logread_LDADD = $(CTLLOG_LIBS) $(UNIT_LIBS)
TESTS += tests/log/log.test.sh
EXTRA_DIST += tests/log/log.test.sh tests/log/logfix.py

# The telemetry library and agentgatectl log together (tests/log/emit writes).
check_PROGRAMS += tests/log/emit
tests_log_emit_SOURCES = tests/log/emit.c
tests_log_emit_LDADD = $(AG_LIBS)
TESTS += tests/log/writer.test.sh
EXTRA_DIST += tests/log/writer.test.sh

# agentgatectl gateway: the rule text and status's comparison (no root).
check_PROGRAMS += tests/unit/test_gateway_rules
TESTS += tests/unit/test_gateway_rules
tests_unit_test_gateway_rules_SOURCES = tests/unit/test_gateway_rules.c
tests_unit_test_gateway_rules_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_gateway_rules_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ctl
tests_unit_test_gateway_rules_LDADD = ctl/libctlgw.a $(AG_LIBS) $(UNIT_LIBS)
