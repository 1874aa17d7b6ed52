# Unit tests for tls (see tests/local.mk).
