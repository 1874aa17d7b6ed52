# Integration tests: TAP shell scripts run in the namespace test world
# (tests/world/world.sh, docs/testing.md). They need root and skip without it.
INTEGRATION_TESTS += tests/world/world.test.sh
# Files, not the folder: `make check` writes its .log/.trs files into the
# build tree's tests/world, and a folder in EXTRA_DIST would ship them.
EXTRA_DIST += tests/world/world.sh tests/world/tap.sh tests/world/echo.py \
	tests/world/world-clean tests/world/world.test.sh
# agentgatectl gateway up|down|status (docs/gateway.md).
INTEGRATION_TESTS += tests/gateway/gateway.test.sh
EXTRA_DIST += tests/gateway/gateway.test.sh
# agentgate-proxy's transparent TCP side (docs/proxy.md).
INTEGRATION_TESTS += tests/proxy/proxy.test.sh
EXTRA_DIST += tests/proxy/proxy.test.sh
# agentgate-proxy's DNS forwarder (docs/proxy.md, "DNS forwarder").
INTEGRATION_TESTS += tests/proxy/dns.test.sh
EXTRA_DIST += tests/proxy/dns.test.sh
# agentgate-run: the sandbox, its teardown, escapes refused (docs/launcher.md).
INTEGRATION_TESTS += tests/launcher/run.test.sh
EXTRA_DIST += tests/launcher/run.test.sh
# agentgate-nfq: UDP/ICMP judged by the queue, fail closed (docs/nfq.md).
INTEGRATION_TESTS += tests/nfq/nfq.test.sh
EXTRA_DIST += tests/nfq/nfq.test.sh
# agentgate-proxy's explicit listener: CONNECT and absolute-URI (docs/proxy.md).
INTEGRATION_TESTS += tests/proxy/explicit.test.sh
EXTRA_DIST += tests/proxy/explicit.test.sh
