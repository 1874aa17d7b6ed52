# Unit tests for registry (see tests/local.mk).
