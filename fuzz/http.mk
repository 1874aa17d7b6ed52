# Fuzz target http (see fuzz/local.mk).
