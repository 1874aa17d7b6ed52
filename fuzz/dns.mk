# Fuzz target dnsmsg (see fuzz/local.mk).
check_PROGRAMS += fuzz/replay_dnsmsg
TESTS += fuzz/replay_dnsmsg
fuzz_replay_dnsmsg_SOURCES = fuzz/fuzz_dnsmsg.c fuzz/replay.c
fuzz_replay_dnsmsg_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"dnsmsg"'
fuzz_replay_dnsmsg_LDADD = $(AG_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_dnsmsg
fuzz_fuzz_dnsmsg_SOURCES = fuzz/fuzz_dnsmsg.c
fuzz_fuzz_dnsmsg_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_dnsmsg_LDADD = $(AG_LIBS)
endif
