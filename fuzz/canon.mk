# Fuzz target canon (see fuzz/local.mk).
check_PROGRAMS += fuzz/replay_canon
TESTS += fuzz/replay_canon
fuzz_replay_canon_SOURCES = fuzz/fuzz_canon.c fuzz/replay.c
fuzz_replay_canon_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"canon"'
fuzz_replay_canon_LDADD = $(AG_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_canon
fuzz_fuzz_canon_SOURCES = fuzz/fuzz_canon.c
fuzz_fuzz_canon_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_canon_LDADD = $(AG_LIBS)
endif
