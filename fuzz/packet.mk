# Fuzz target packet: agentgate-nfq's IP packet parser (see fuzz/local.mk).
check_PROGRAMS += fuzz/replay_packet
TESTS += fuzz/replay_packet
fuzz_replay_packet_SOURCES = fuzz/fuzz_packet.c fuzz/replay.c
fuzz_replay_packet_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter \
	-DFUZZ_CORPUS='"packet"'
fuzz_replay_packet_LDADD = $(NFQ_FILTER_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_packet
fuzz_fuzz_packet_SOURCES = fuzz/fuzz_packet.c
fuzz_fuzz_packet_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
fuzz_fuzz_packet_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_packet_LDADD = $(NFQ_FILTER_LIBS)
endif

# Fuzz target hold: packet-only mode's reassembly of a held TCP flow.
check_PROGRAMS += fuzz/replay_hold
TESTS += fuzz/replay_hold
fuzz_replay_hold_SOURCES = fuzz/fuzz_hold.c fuzz/replay.c
fuzz_replay_hold_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter \
	-DFUZZ_CORPUS='"hold"'
fuzz_replay_hold_LDADD = $(NFQ_FILTER_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_hold
fuzz_fuzz_hold_SOURCES = fuzz/fuzz_hold.c
fuzz_fuzz_hold_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
fuzz_fuzz_hold_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_hold_LDADD = $(NFQ_FILTER_LIBS)
endif
