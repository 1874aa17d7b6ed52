# agentgatectl: the admin's and incident responder's tool (docs/agentgatectl.md).
sbin_PROGRAMS += ctl/agentgatectl
ctl_agentgatectl_SOURCES = \
	ctl/main.c ctl/ctl.h \
	ctl/approvals.c \
	ctl/policy.c \
	ctl/task.c \
	ctl/gateway.c
ctl_agentgatectl_LDADD = $(CTLLOG_LIBS) ctl/libctlgw.a $(RULES_LIBS)

# log, log verify, report (docs/log.md) and the gateway's rule text
# (docs/gateway.md) are libraries, so that unit tests link the very objects
# the program runs.
noinst_LIBRARIES += ctl/libctllog.a ctl/libctlgw.a
ctl_libctllog_a_SOURCES = \
	ctl/log.c ctl/logread.c ctl/logread.h ctl/logmerge.c \
	ctl/filter.c ctl/filter.h ctl/logfmt.c ctl/logfmt.h \
	ctl/verify.c ctl/verify.h ctl/report.c
ctl_libctllog_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
CTLLOG_LIBS = ctl/libctllog.a $(AG_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS)

ctl_libctlgw_a_SOURCES = ctl/gateway_rules.c ctl/gateway_rules.h
