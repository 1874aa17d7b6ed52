# Fuzz target tlshello (see fuzz/local.mk).
check_PROGRAMS += fuzz/replay_tlshello
TESTS += fuzz/replay_tlshello
fuzz_replay_tlshello_SOURCES = fuzz/fuzz_tlshello.c fuzz/replay.c
fuzz_replay_tlshello_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"tlshello"'
fuzz_replay_tlshello_LDADD = $(AG_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_tlshello
fuzz_fuzz_tlshello_SOURCES = fuzz/fuzz_tlshello.c
fuzz_fuzz_tlshello_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_tlshello_LDADD = $(AG_LIBS)
endif
