# Fuzz target launcher (see fuzz/local.mk): agentgate-run's parsers, the
# telemetry line of the attempt counts ('L' + line) and the nf_tables rule
# message of the gateway check ('R' + attributes).
check_PROGRAMS += fuzz/replay_launcher
TESTS += fuzz/replay_launcher
fuzz_replay_launcher_SOURCES = fuzz/fuzz_launcher.c fuzz/replay.c
fuzz_replay_launcher_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(MNL_CFLAGS)
fuzz_replay_launcher_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"launcher"' \
	-I$(top_srcdir)/sandbox-launcher -I$(top_srcdir)/ctl
fuzz_replay_launcher_LDADD = $(LAUNCHER_LIBS) $(CTLLOG_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_launcher
fuzz_fuzz_launcher_SOURCES = fuzz/fuzz_launcher.c
fuzz_fuzz_launcher_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(MNL_CFLAGS)
fuzz_fuzz_launcher_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/sandbox-launcher \
	-I$(top_srcdir)/ctl
fuzz_fuzz_launcher_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_launcher_LDADD = $(LAUNCHER_LIBS) $(CTLLOG_LIBS)
endif
