# The internal library every agentgate program, test and fuzzer links.
noinst_LIBRARIES += lib/libagentgate.a
lib_libagentgate_a_SOURCES = \
	lib/log.c lib/log.h \
	lib/addr.c lib/addr.h \
	lib/canon.c lib/canon.h \
	lib/units.c lib/units.h \
	lib/conf.c lib/conf_keys.c lib/conf.h lib/conf_int.h \
	lib/json.c lib/json.h \
	lib/event.c lib/event.h \
	lib/telemetry.c lib/telemetry.h \
	lib/telemetry_tail.c lib/telemetry_tail.h \
	lib/geoip.c lib/geoip.h \
	lib/registry.c lib/registry_file.c lib/registry_watch.c \
	lib/inotify_drain.c lib/inotify_drain.h \
	lib/registry.h lib/registry_int.h \
	lib/dnsmsg.c lib/dnsbuild.c lib/dnsmsg.h \
	lib/tlshello.c lib/tlshello.h \
	lib/httphead.c lib/httphead.h
lib_libagentgate_a_CFLAGS = $(AM_CFLAGS) $(IDN2_CFLAGS) $(CRYPTO_CFLAGS) \
	$(MAXMINDDB_CFLAGS) $(JSONC_CFLAGS) -pthread

# What a program needs to link libagentgate.a.
AG_LIBS = lib/libagentgate.a $(IDN2_LIBS) $(CRYPTO_LIBS) $(MAXMINDDB_LIBS) \
	$(JSONC_LIBS) -lpthread
