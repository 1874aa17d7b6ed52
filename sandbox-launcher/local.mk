# agentgate-run: the sandbox launcher (docs/launcher.md). Its objects are a
# library so unit tests link what runs.
noinst_LIBRARIES += sandbox-launcher/liblauncher.a
sandbox_launcher_liblauncher_a_SOURCES = \
	sandbox-launcher/pool.c sandbox-launcher/pool.h \
	sandbox-launcher/policytext.c sandbox-launcher/policytext.h \
	sandbox-launcher/taskid.c sandbox-launcher/taskid.h \
	sandbox-launcher/seccomp.c sandbox-launcher/seccomp.h \
	sandbox-launcher/caps.c sandbox-launcher/caps.h \
	sandbox-launcher/netlink.c sandbox-launcher/netlink.h \
	sandbox-launcher/link.c sandbox-launcher/link.h \
	sandbox-launcher/gwcheck.c sandbox-launcher/gwcheck.h \
	sandbox-launcher/sandbox.c sandbox-launcher/sandbox.h \
	sandbox-launcher/taskcount.c sandbox-launcher/taskcount.h \
	sandbox-launcher/files.c sandbox-launcher/files.h \
	sandbox-launcher/env.c sandbox-launcher/env.h
sandbox_launcher_liblauncher_a_CFLAGS = $(AM_CFLAGS) $(MNL_CFLAGS) $(JSONC_CFLAGS)
# taskcount.c reads telemetry with agentgatectl's reader (ctl/logread.h).
sandbox_launcher_liblauncher_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ctl
LAUNCHER_LIBS = sandbox-launcher/liblauncher.a $(MNL_LIBS)

bin_PROGRAMS += sandbox-launcher/agentgate-run
sandbox_launcher_agentgate_run_SOURCES = sandbox-launcher/main.c
sandbox_launcher_agentgate_run_LDADD = $(LAUNCHER_LIBS) $(CTLLOG_LIBS) \
	$(RULES_LIBS)

# The launcher's page, installed beside the others of docs/local.mk (which
# sets dist_doc_DATA after this fragment is read).
launcherdocdir = $(docdir)
dist_launcherdoc_DATA = docs/launcher.md
