# `make bench-launch`: agentgate-run's launch time beside unshare -n and
# bwrap, same run (docs/performance.md, "Launcher"). Needs root; RUNS=N for
# another count than 200.
EXTRA_PROGRAMS += bench/launch
bench_launch_SOURCES = bench/launch.c
EXTRA_DIST += bench/launch.sh
bench-launch: bench/launch sandbox-launcher/agentgate-run ctl/agentgatectl
	$(SHELL) $(top_srcdir)/bench/launch.sh . $(RUNS)
.PHONY: bench-launch
