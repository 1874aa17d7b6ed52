# Unit tests for proxy/ (see tests/local.mk).
check_PROGRAMS += tests/unit/test_loop
TESTS += tests/unit/test_loop
tests_unit_test_loop_SOURCES = tests/unit/test_loop.c
tests_unit_test_loop_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_loop_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_loop_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_resolve
TESTS += tests/unit/test_resolve
tests_unit_test_resolve_SOURCES = tests/unit/test_resolve.c
tests_unit_test_resolve_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_resolve_CFLAGS = $(UNIT_CFLAGS) $(CARES_CFLAGS)
tests_unit_test_resolve_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_dnsjudge
TESTS += tests/unit/test_dnsjudge
tests_unit_test_dnsjudge_SOURCES = tests/unit/test_dnsjudge.c
tests_unit_test_dnsjudge_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_dnsjudge_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dnsjudge_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_httpclose tests/unit/test_relay
TESTS += tests/unit/test_httpclose tests/unit/test_relay
tests_unit_test_httpclose_SOURCES = tests/unit/test_httpclose.c
tests_unit_test_httpclose_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_httpclose_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_httpclose_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)
tests_unit_test_relay_SOURCES = tests/unit/test_relay.c
tests_unit_test_relay_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_relay_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_relay_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_dnsfwd
TESTS += tests/unit/test_dnsfwd
tests_unit_test_dnsfwd_SOURCES = tests/unit/test_dnsfwd.c
tests_unit_test_dnsfwd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_dnsfwd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dnsfwd_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_proxy
TESTS += tests/unit/test_proxy
tests_unit_test_proxy_SOURCES = tests/unit/test_proxy.c
tests_unit_test_proxy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_proxy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_proxy_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_approval
TESTS += tests/unit/test_approval
tests_unit_test_approval_SOURCES = tests/unit/test_approval.c
tests_unit_test_approval_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_approval_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_approval_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)

# Approvals' deciders: the hook's output parser, the control protocol.
check_PROGRAMS += tests/unit/test_hook tests/unit/test_control
TESTS += tests/unit/test_hook tests/unit/test_control
tests_unit_test_hook_SOURCES = tests/unit/test_hook.c
tests_unit_test_hook_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_hook_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hook_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)
tests_unit_test_control_SOURCES = tests/unit/test_control.c
tests_unit_test_control_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
tests_unit_test_control_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_control_LDADD = $(PROXY_LIBS) $(UNIT_LIBS)
