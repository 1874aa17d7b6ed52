# Fuzz target dns (see fuzz/local.mk).
