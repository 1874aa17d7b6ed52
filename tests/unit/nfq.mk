# Unit tests for agentgate-nfq (see tests/local.mk).
check_PROGRAMS += tests/unit/test_nfq_packet
TESTS += tests/unit/test_nfq_packet
tests_unit_test_nfq_packet_SOURCES = tests/unit/test_nfq_packet.c
tests_unit_test_nfq_packet_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
tests_unit_test_nfq_packet_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nfq_packet_LDADD = $(NFQ_FILTER_LIBS) $(UNIT_LIBS)
