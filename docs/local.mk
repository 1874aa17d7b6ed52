# The documentation is installed with the programs (share/doc/agentgate);
# every page in docs/ is listed here so `make dist` and `make install` carry it.
dist_doc_DATA = README.md \
	docs/agentgatectl.md docs/approvals.md docs/configuration.md docs/gateway.md \
	docs/launcher.md docs/log.md docs/nfq.md docs/parsers.md \
	docs/performance.md docs/policy.md docs/proxy.md docs/registry.md \
	docs/telemetry.md docs/testing.md
