# Fuzz target policy (see fuzz/local.mk).
