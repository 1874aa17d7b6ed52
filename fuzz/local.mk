# Fuzz targets. Each target X is fuzz/fuzz_X.c defining LLVMFuzzerTestOneInput.
# `make check` links it with replay.c as fuzz/replay_X and replays the
# committed seeds in fuzz/corpus/X/ (so they run without clang);
# --enable-fuzzers (CC=clang) also builds fuzz/fuzz_X for libFuzzer:
#   fuzz/fuzz_X -max_total_time=60 fuzz/corpus/X
# To add a target, copy one block below and rename.
EXTRA_DIST += fuzz/corpus
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer

include fuzz/canon.mk
include fuzz/policy.mk
include fuzz/telemetry.mk
include fuzz/tls.mk
include fuzz/http.mk
include fuzz/dns.mk
include fuzz/registry.mk
include fuzz/packet.mk
include fuzz/launcher.mk
include fuzz/approvals.mk
