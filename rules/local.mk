# The policy language: parser and matcher (docs/policy.md).
noinst_LIBRARIES += rules/librules.a
rules_librules_a_SOURCES = \
	rules/policy.h
RULES_LIBS = rules/librules.a $(AG_LIBS)
