# Fuzz target httphead (see fuzz/local.mk).
check_PROGRAMS += fuzz/replay_httphead
TESTS += fuzz/replay_httphead
fuzz_replay_httphead_SOURCES = fuzz/fuzz_httphead.c fuzz/replay.c
fuzz_replay_httphead_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"httphead"'
fuzz_replay_httphead_LDADD = $(AG_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_httphead
fuzz_fuzz_httphead_SOURCES = fuzz/fuzz_httphead.c
fuzz_fuzz_httphead_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_httphead_LDADD = $(AG_LIBS)
endif
