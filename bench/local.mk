# Benchmarks: built by `make bench`, never run by `make check`.
# `make bench-matcher` builds and runs the policy matcher benchmark
# (figures in docs/performance.md).
EXTRA_PROGRAMS = bench/matcher
CLEANFILES += $(EXTRA_PROGRAMS)

bench_matcher_SOURCES = bench/matcher.c
bench_matcher_LDADD = $(RULES_LIBS)

bench: $(EXTRA_PROGRAMS)
bench-matcher: bench/matcher
	./bench/matcher
.PHONY: bench bench-matcher

# `make bench-telemetry`: the telemetry writer (docs/performance.md,
# "Telemetry writer").
EXTRA_PROGRAMS += bench/telemetry
bench_telemetry_SOURCES = bench/telemetry.c
bench_telemetry_CFLAGS = $(AM_CFLAGS) -pthread
bench_telemetry_LDADD = $(AG_LIBS)
bench-telemetry: bench/telemetry
	./bench/telemetry
.PHONY: bench-telemetry

# `make bench-log`: agentgatectl log beside jq on 1,000,000 events, same run
# (docs/performance.md, "Log queries"). EVENTS=N for another count.
EXTRA_DIST += bench/log.sh
bench-log: ctl/agentgatectl
	$(SHELL) $(top_srcdir)/bench/log.sh ctl/agentgatectl $(EVENTS)
.PHONY: bench-log

# `make bench-parsers`: ClientHello and HTTP request-head parse times.
EXTRA_PROGRAMS += bench/parsers
bench_parsers_SOURCES = bench/parsers.c
bench_parsers_LDADD = $(AG_LIBS)
bench-parsers: bench/parsers
	./bench/parsers
.PHONY: bench-parsers
include bench/proxy.mk
include bench/launch.mk
include bench/nfq.mk
