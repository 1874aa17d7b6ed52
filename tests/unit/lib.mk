# Unit tests for lib (see tests/local.mk).
