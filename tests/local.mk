# Tests mirror the source folders. Unit tests are cmocka programs (TAP
# output); each links only the libraries it tests. Fragments per area keep
# the lists apart.
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LIBS = $(CMOCKA_LIBS)

include tests/unit/lib.mk
include tests/unit/rules.mk
include tests/unit/telemetry.mk
include tests/unit/ctl.mk
include tests/integration.mk
include tests/unit/tls.mk
include tests/unit/http.mk
include tests/unit/dns.mk
include tests/unit/registry.mk
include tests/unit/proxy.mk
include tests/unit/launcher.mk
include tests/unit/nfq.mk
include tests/integration-proxy.mk
include tests/integration-launcher.mk
include tests/integration-nfq.mk
include tests/integration-approvals.mk
