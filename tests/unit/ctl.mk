# Unit tests for ctl (see tests/local.mk).
