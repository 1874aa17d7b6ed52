# Fuzz target registry (see fuzz/local.mk): task files (json-c, strict) and
# the /proc/PID/stat fields the liveness check reads.
check_PROGRAMS += fuzz/replay_registry
TESTS += fuzz/replay_registry
fuzz_replay_registry_SOURCES = fuzz/fuzz_registry.c fuzz/replay.c
fuzz_replay_registry_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"registry"'
fuzz_replay_registry_LDADD = $(AG_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_registry
fuzz_fuzz_registry_SOURCES = fuzz/fuzz_registry.c
fuzz_fuzz_registry_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_registry_LDADD = $(AG_LIBS)
endif
