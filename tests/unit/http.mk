# Unit tests for http (see tests/local.mk).
