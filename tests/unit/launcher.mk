# agentgate-run's pure parts: pools, inline policy text, task ids, attempt
# counts from telemetry files (a temporary folder), the gateway check's
# nf_tables rule parser, and the
# seccomp filter (installed in a forked child: no root needed).
check_PROGRAMS += tests/unit/test_pool tests/unit/test_launchtext
TESTS += tests/unit/test_pool tests/unit/test_launchtext
tests_unit_test_pool_SOURCES = tests/unit/test_pool.c
tests_unit_test_pool_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pool_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sandbox-launcher
tests_unit_test_pool_LDADD = $(LAUNCHER_LIBS) $(AG_LIBS) $(UNIT_LIBS)
tests_unit_test_launchtext_SOURCES = tests/unit/test_launchtext.c
tests_unit_test_launchtext_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_launchtext_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sandbox-launcher
tests_unit_test_launchtext_LDADD = $(LAUNCHER_LIBS) $(RULES_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/test_seccomp
TESTS += tests/unit/test_seccomp
tests_unit_test_seccomp_SOURCES = tests/unit/test_seccomp.c
tests_unit_test_seccomp_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_seccomp_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sandbox-launcher
tests_unit_test_seccomp_LDADD = $(LAUNCHER_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/test_taskcount
TESTS += tests/unit/test_taskcount
tests_unit_test_taskcount_SOURCES = tests/unit/test_taskcount.c
tests_unit_test_taskcount_CFLAGS = $(UNIT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_taskcount_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sandbox-launcher -I$(top_srcdir)/ctl
tests_unit_test_taskcount_LDADD = $(LAUNCHER_LIBS) $(CTLLOG_LIBS) $(UNIT_LIBS)
check_PROGRAMS += tests/unit/test_gwcheck
TESTS += tests/unit/test_gwcheck
tests_unit_test_gwcheck_SOURCES = tests/unit/test_gwcheck.c
tests_unit_test_gwcheck_CFLAGS = $(UNIT_CFLAGS) $(MNL_CFLAGS)
tests_unit_test_gwcheck_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sandbox-launcher
tests_unit_test_gwcheck_LDADD = $(LAUNCHER_LIBS) $(UNIT_LIBS)
