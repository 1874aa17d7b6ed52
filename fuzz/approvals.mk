# Fuzz target approvals (see fuzz/local.mk): the hook's output ('H' + text)
# and the control socket's request line (any other first byte + line).
check_PROGRAMS += fuzz/replay_approvals
TESTS += fuzz/replay_approvals
fuzz_replay_approvals_SOURCES = fuzz/fuzz_approvals.c fuzz/replay.c
fuzz_replay_approvals_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"approvals"' \
	-I$(top_srcdir)/proxy
fuzz_replay_approvals_LDADD = $(PROXY_LIBS)
if ENABLE_FUZZERS
noinst_PROGRAMS += fuzz/fuzz_approvals
fuzz_fuzz_approvals_SOURCES = fuzz/fuzz_approvals.c
fuzz_fuzz_approvals_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proxy
fuzz_fuzz_approvals_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_approvals_LDADD = $(PROXY_LIBS)
endif
