# Fuzz target telemetry (see fuzz/local.mk): the JSON encoder on hostile
# wire strings and the writer's chain-suffix parser.
check_PROGRAMS += fuzz/replay_telemetry
TESTS += fuzz/replay_telemetry
fuzz_replay_telemetry_SOURCES = fuzz/fuzz_telemetry.c fuzz/replay.c
fuzz_replay_telemetry_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS) -DFUZZ_CORPUS='"telemetry"'
fuzz_replay_telemetry_LDADD = $(AG_LIBS) $(JSONC_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_telemetry
fuzz_fuzz_telemetry_SOURCES = fuzz/fuzz_telemetry.c
fuzz_fuzz_telemetry_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS)
fuzz_fuzz_telemetry_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_telemetry_LDADD = $(AG_LIBS) $(JSONC_LIBS)
endif
