# agentgate-proxy: transparent and explicit TLS-SNI/HTTP proxy and DNS
# forwarder. Its objects are a library so unit tests link what runs.
noinst_LIBRARIES += proxy/libproxy.a
proxy_libproxy_a_SOURCES = \
	proxy/loop.c proxy/loop.h \
	proxy/resolve.c proxy/resolve.h \
	proxy/proxy.c proxy/proxy.h \
	proxy/relay.c proxy/relay.h \
	proxy/conn.c proxy/conn.h \
	proxy/listener.c proxy/listener.h \
	proxy/httpclose.c proxy/httpclose.h
proxy_libproxy_a_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
PROXY_LIBS = proxy/libproxy.a $(RULES_LIBS) $(CARES_LIBS)
proxy_libproxy_a_SOURCES += proxy/dnsjudge.c proxy/dnsjudge.h

sbin_PROGRAMS += proxy/agentgate-proxy
proxy_agentgate_proxy_SOURCES = proxy/main.c
# main.c starts the DNS forwarder when its source is in the library.
proxy_agentgate_proxy_CPPFLAGS = $(AM_CPPFLAGS) \
	$(if $(filter proxy/dnsfwd.c,$(proxy_libproxy_a_SOURCES)),-DPROXY_HAVE_DNSFWD=1)
proxy_agentgate_proxy_LDADD = $(PROXY_LIBS)
proxy_libproxy_a_SOURCES += proxy/dnsfwd.c proxy/dnsfwd.h proxy/dnsfwd_int.h proxy/dnsconn.c
