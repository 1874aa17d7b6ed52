# Fuzz target tls (see fuzz/local.mk).
