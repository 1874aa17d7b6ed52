# Fuzz target canon (see fuzz/local.mk).
