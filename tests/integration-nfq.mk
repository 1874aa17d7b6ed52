# Integration tests for nfq (TAP shell scripts in the test world, need root).
# Packet-only mode: TCP judged in the queue by learned address and SNI/Host.
INTEGRATION_TESTS += tests/nfq/packetonly.test.sh
EXTRA_DIST += tests/nfq/packetonly.test.sh
