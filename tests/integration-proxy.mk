# Integration tests for proxy (TAP shell scripts in the test world, need root).

# Policy and registry changes followed without SIGHUP; dead launchers pruned.
INTEGRATION_TESTS += tests/proxy/reload.test.sh
EXTRA_DIST += tests/proxy/reload.test.sh

# The resolver a client asked, in DNS events (TCP: SO_ORIGINAL_DST).
INTEGRATION_TESTS += tests/proxy/dnsdest.test.sh
EXTRA_DIST += tests/proxy/dnsdest.test.sh
