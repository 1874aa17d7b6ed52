# The policy language: parser and matcher (docs/policy.md).
noinst_LIBRARIES += rules/librules.a
rules_librules_a_SOURCES = \
	rules/policy.h rules/policy_int.h rules/policy.c \
	rules/build.c rules/parse.c rules/load.c \
	rules/nametable.c rules/nametable.h \
	rules/addrtable.c rules/addrtable.h \
	rules/portset.c rules/portset.h \
	rules/policycache.c rules/policycache.h
RULES_LIBS = rules/librules.a $(AG_LIBS)
