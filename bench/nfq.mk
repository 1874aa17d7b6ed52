# `make bench-nfq`: agentgate-nfq beside a minimal accept-everything NFQUEUE
# program (bench/nfqmin.c), driven by bench/nfqload.c through namespaces
# (docs/performance.md, "Packet filter"). Root. RUNS=N (default 5), QUICK=1.
EXTRA_PROGRAMS += bench/nfqmin bench/nfqload
bench_nfqmin_SOURCES = bench/nfqmin.c
bench_nfqmin_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nfq-filter
bench_nfqmin_CFLAGS = $(AM_CFLAGS) $(NFQ_CFLAGS) $(MNL_CFLAGS) -pthread
bench_nfqmin_LDADD = $(AG_LIBS) $(NFQ_LIBS) $(MNL_LIBS)
bench_nfqload_SOURCES = bench/nfqload.c
EXTRA_DIST += bench/nfq.sh
bench-nfq: bench/nfqmin bench/nfqload nfq-filter/agentgate-nfq ctl/agentgatectl
	RUNS=$(RUNS) QUICK=$(QUICK) $(SHELL) $(top_srcdir)/bench/nfq.sh
.PHONY: bench-nfq
