# Fuzz target policy (see fuzz/local.mk).
check_PROGRAMS += fuzz/replay_policy
TESTS += fuzz/replay_policy
fuzz_replay_policy_SOURCES = fuzz/fuzz_policy.c fuzz/replay.c
fuzz_replay_policy_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"policy"'
fuzz_replay_policy_LDADD = $(RULES_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_policy
fuzz_fuzz_policy_SOURCES = fuzz/fuzz_policy.c
fuzz_fuzz_policy_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_policy_LDADD = $(RULES_LIBS)
endif
