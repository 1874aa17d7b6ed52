# Integration tests for launcher (TAP shell scripts in the test world, need root).
# agentgate-run with real tools through the real gateway: curl, git clone
# over HTTPS, pip download; their denied counterparts (docs/launcher.md).
INTEGRATION_TESTS += tests/launcher/tools.test.sh
EXTRA_DIST += tests/launcher/tools.test.sh
