# Integration tests for approvals (TAP shell scripts in the test world, need root).
# Decided with agentgatectl, by the hook, and across a proxy restart
# (docs/approvals.md).
INTEGRATION_TESTS += tests/approvals/approvals.test.sh \
	tests/approvals/hook.test.sh tests/approvals/restart.test.sh
EXTRA_DIST += tests/approvals/lib.sh tests/approvals/approvals.test.sh \
	tests/approvals/hook.test.sh tests/approvals/restart.test.sh
