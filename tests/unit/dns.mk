# Unit tests for dns (see tests/local.mk).
