# Integration tests for launcher (TAP shell scripts in the test world, need root).
# agentgate-run with real tools through the real gateway: curl, git clone
# over HTTPS, pip download; their denied counterparts (docs/launcher.md).
INTEGRATION_TESTS += tests/launcher/tools.test.sh
EXTRA_DIST += tests/launcher/tools.test.sh
# agentgate-run's task-ended attempt counts against the real proxy's lines.
INTEGRATION_TESTS += tests/launcher/counts.test.sh
EXTRA_DIST += tests/launcher/counts.test.sh
# Escapes from an agentgate-run sandbox refused with the expected errors.
INTEGRATION_TESTS += tests/launcher/escape.test.sh
EXTRA_DIST += tests/launcher/escape.test.sh
# 200 tasks, 50 at a time, through the real gateway; nothing left afterwards.
INTEGRATION_TESTS += tests/launcher/teardown.test.sh
EXTRA_DIST += tests/launcher/teardown.test.sh
