# agentgate-proxy: transparent and explicit TLS-SNI/HTTP proxy and DNS
# forwarder (docs/proxy.md). Its objects are a library so unit tests link
# what runs.
noinst_LIBRARIES += proxy/libproxy.a
proxy_libproxy_a_SOURCES = \
	proxy/loop.c proxy/loop.h \
	proxy/resolve.c proxy/resolve.h \
	proxy/proxy.c proxy/proxy.h \
	proxy/relay.c proxy/relay.h \
	proxy/conn.c proxy/conn_set.c proxy/conn_dial.c proxy/conn_hold.c proxy/conn.h \
	proxy/conn_int.h \
	proxy/listener.c proxy/listener.h \
	proxy/httpclose.c proxy/httpclose.h \
	proxy/dnsjudge.c proxy/dnsjudge.h \
	proxy/dnsfwd.c proxy/dnsconn.c proxy/dnsfwd.h proxy/dnsfwd_int.h \
	proxy/approval.c proxy/approval_grant.c proxy/approval.h \
	proxy/approval_int.h \
	proxy/approval_file.c proxy/approval_file.h \
	proxy/approval_pool.c proxy/approval_pool.h
proxy_libproxy_a_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS)
PROXY_LIBS = proxy/libproxy.a $(RULES_LIBS) $(CARES_LIBS)

sbin_PROGRAMS += proxy/agentgate-proxy
proxy_agentgate_proxy_SOURCES = proxy/main.c
proxy_agentgate_proxy_LDADD = $(PROXY_LIBS)

# Approvals' deciders: the control socket and the hook (docs/approvals.md).
proxy_libproxy_a_SOURCES += proxy/control.c proxy/control.h \
	proxy/hook.c proxy/hook.h
PROXY_LIBS += $(JSONC_LIBS)
