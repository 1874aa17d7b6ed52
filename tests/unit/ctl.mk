# Unit tests for ctl (see tests/local.mk).

# agentgatectl policy, driven through the real binary.
TESTS += tests/ctl/policy.test.sh
EXTRA_DIST += tests/ctl/policy.test.sh
