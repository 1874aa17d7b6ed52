# agentgate-nfq: the NFQUEUE filter for sandbox traffic the proxy does not
# take (docs/nfq.md). Its objects are a library so unit tests and the fuzzer
# link what runs.
noinst_LIBRARIES += nfq-filter/libnfq.a
nfq_filter_libnfq_a_SOURCES = \
	nfq-filter/packet.c nfq-filter/packet.h \
	nfq-filter/flow.c nfq-filter/flow.h \
	nfq-filter/hold.c nfq-filter/hold.h \
	nfq-filter/bindings.c nfq-filter/bindings.h \
	nfq-filter/judge.c nfq-filter/judge.h \
	nfq-filter/state.c nfq-filter/state.h \
	nfq-filter/queue.c nfq-filter/queue.h
nfq_filter_libnfq_a_CFLAGS = $(AM_CFLAGS) $(NFQ_CFLAGS) $(MNL_CFLAGS) -pthread
NFQ_FILTER_LIBS = nfq-filter/libnfq.a $(RULES_LIBS) $(NFQ_LIBS) $(MNL_LIBS)

sbin_PROGRAMS += nfq-filter/agentgate-nfq
nfq_filter_agentgate_nfq_SOURCES = nfq-filter/main.c
nfq_filter_agentgate_nfq_CFLAGS = $(AM_CFLAGS) -pthread
nfq_filter_agentgate_nfq_LDADD = $(NFQ_FILTER_LIBS)
