# Unit tests for agentgate-nfq (see tests/local.mk).
check_PROGRAMS += tests/unit/test_nfq_packet
TESTS += tests/unit/test_nfq_packet
tests_unit_test_nfq_packet_SOURCES = tests/unit/test_nfq_packet.c
tests_unit_test_nfq_packet_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
tests_unit_test_nfq_packet_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nfq_packet_LDADD = $(NFQ_FILTER_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_nfq_flow
TESTS += tests/unit/test_nfq_flow
tests_unit_test_nfq_flow_SOURCES = tests/unit/test_nfq_flow.c
tests_unit_test_nfq_flow_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
tests_unit_test_nfq_flow_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nfq_flow_LDADD = $(NFQ_FILTER_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_nfq_bindings
TESTS += tests/unit/test_nfq_bindings
tests_unit_test_nfq_bindings_SOURCES = tests/unit/test_nfq_bindings.c
tests_unit_test_nfq_bindings_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
tests_unit_test_nfq_bindings_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nfq_bindings_LDADD = $(NFQ_FILTER_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_nfq_judge
TESTS += tests/unit/test_nfq_judge
tests_unit_test_nfq_judge_SOURCES = tests/unit/test_nfq_judge.c \
	tests/unit/nfq_fixture.c tests/unit/nfq_fixture.h
tests_unit_test_nfq_judge_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
tests_unit_test_nfq_judge_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nfq_judge_LDADD = $(NFQ_FILTER_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_nfq_hold
TESTS += tests/unit/test_nfq_hold
tests_unit_test_nfq_hold_SOURCES = tests/unit/test_nfq_hold.c
tests_unit_test_nfq_hold_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
tests_unit_test_nfq_hold_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nfq_hold_LDADD = $(NFQ_FILTER_LIBS) $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_nfq_tcp
TESTS += tests/unit/test_nfq_tcp
tests_unit_test_nfq_tcp_SOURCES = tests/unit/test_nfq_tcp.c \
	tests/unit/nfq_fixture.c tests/unit/nfq_fixture.h
tests_unit_test_nfq_tcp_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
tests_unit_test_nfq_tcp_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nfq_tcp_LDADD = $(NFQ_FILTER_LIBS) $(UNIT_LIBS)
