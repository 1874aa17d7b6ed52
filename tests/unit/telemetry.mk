# Unit tests for telemetry (see tests/local.mk).
