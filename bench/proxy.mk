# `make bench-proxy`: agentgate-proxy beside a direct path, HAProxy and
# sniproxy in one namespace world (docs/performance.md, "Proxy"). Needs
# root. RUNS=N (default 5) runs per figure, QUICK=1 for a short smoke run.
EXTRA_PROGRAMS += bench/proxyload
EXTRA_DIST += bench/proxy.sh
bench_proxyload_SOURCES = bench/proxyload.c
bench_proxyload_CFLAGS = $(AM_CFLAGS) -pthread
bench_proxyload_LDADD = -lssl $(CRYPTO_LIBS)
bench-proxy: bench/proxyload proxy/agentgate-proxy ctl/agentgatectl
	RUNS=$(RUNS) QUICK=$(QUICK) bash $(top_srcdir)/bench/proxy.sh \
	    $(abs_top_builddir)
.PHONY: bench-proxy
