# The internal library every agentgate program, test and fuzzer links.
noinst_LIBRARIES += lib/libagentgate.a
lib_libagentgate_a_SOURCES = \
	lib/log.c lib/log.h \
	lib/addr.c lib/addr.h \
	lib/canon.c lib/canon.h
lib_libagentgate_a_CFLAGS = $(AM_CFLAGS) $(IDN2_CFLAGS)

# What a program needs to link libagentgate.a.
AG_LIBS = lib/libagentgate.a $(IDN2_LIBS)
