#!/bin/bash
# agentgate-proxy's explicit listener (proxy-explicit-port) in the test world:
# clients configured with a proxy (curl -x, openssl s_client -proxy) reach
# allowed names through CONNECT and absolute-URI requests; denied names,
# ports not allowed and a tunnel whose SNI is not the CONNECT host are
# refused, each with one telemetry line. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require ctl proxy -- iptables-restore ip6tables-restore curl openssl python3 ss

world_up || tap_bail "world_up failed"
world_client c1
world_client c2
c1v4=$(world_client_addr c1 4)
c1v6=$(world_client_addr c1 6)
c2v4=$(world_client_addr c2 4)
gw4=$(world_client_gw c1 4)
gw6=$(world_client_gw c1 6)
gw4c2=$(world_client_gw c2 4)
up4=$WORLD_UP4 up6=$WORLD_UP6

world_gateway "proxy-handshake-timeout 2s"
tap_ok $? "gateway up" || tap_bail "the gateway did not start"

# The policy: allowed.test on the default ports (TCP 80 and 443), the
# allowed server's own addresses (the world lives in ranges the rebinding
# rule refuses without an address rule) and, for the stand-in origins,
# ports 8081 and 8082 of its IPv4 address. evil.test is denied by default.
cat >"$WORLD_POLICIES/t1.rules" <<RULES
deny deny.test
allow allowed.test
allow $up4 $up6
allow $up4 port 8081,8082
RULES
agctl() { world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" "$@"; }
tel=$WORLD_TELDIR/egress-proxy.jsonl

tap_check "task t1 registered for c1" \
    agctl task add --id t1 --addr "$c1v4" --addr "$c1v6" --policy t1

# The clients resolve nothing: the proxy resolves the names it is given.
c1() { world_curl c1 -x "http://$gw4:3128" "$@"; }
tel_mark() { mark=$(wc -l <"$tel"); }
tel_since() { tail -n +"$((mark + 1))" "$tel"; }
tel_grep() { tel_since | grep '"action":"egress"' | grep -F -- "$1"; }
tel_wait() { world_wait "telemetry $1" sh -c "tail -n +$((mark + 1)) '$tel' | grep -F -q -- '$1'"; }
has() {
	local lines=$1
	shift
	for s in "$@"; do
		grep -F -q -- "$s" <<<"$lines" || { echo "missing: $s"; echo "$lines"; return 1; }
	done
}

# --- CONNECT to an allowed name, both families ---
tel_mark
tap_is "$(c1 https://allowed.test/)" \
    "vhost=allowed.test scheme=https addr=$up4 host=allowed.test" \
    "curl -x https://allowed.test/ through CONNECT reaches allowed.test"
tap_is "$(world_curl c1 -x "http://[$gw6]:3128" https://allowed.test/ | cut -d' ' -f1)" \
    "vhost=allowed.test" "the same through the gateway's IPv6 address"
tel_wait "\"ip\":\"$c1v6\""
tap_check "the allowed CONNECT's event: method, SNI, rule, destination" has \
    "$(tel_grep "\"ip\":\"$c1v4\"" | grep '"server_name":"allowed.test"')" \
    '"outcome":"allowed"' '"method":"CONNECT"' '"line":2' '"task":{"id":"t1"}' \
    "\"destination\":{\"ip\":\"$up4\",\"port\":443" '"destination_mismatch":false'

# --- CONNECT to a denied name: 403, one line ---
tel_mark
out=$(c1 -o /dev/null -w '%{http_connect}' https://evil.test/ 2>/dev/null)
rc=$?
tap_is "$rc $out" "56 403" "CONNECT evil.test:443: curl exit 56, CONNECT answered 403"
tel_wait '"domain":"evil.test"'
tap_is "$(tel_grep '"domain":"evil.test"' | wc -l)" 1 "exactly one telemetry line"
tap_check "it says default deny" has "$(tel_grep '"domain":"evil.test"')" \
    '"reason":"default deny"' '"outcome":"denied"' '"method":"CONNECT"'
tap_check "the 403 names the reason" has \
    "$(world_exec c1 python3 - "$gw4" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 3128), timeout=5)
s.sendall(b"CONNECT deny.test:443 HTTP/1.1\r\nHost: deny.test:443\r\n\r\n")
print(s.recv(4096).decode())
PY
)" "HTTP/1.1 403 Forbidden" "agentgate: denied by rule"

# --- CONNECT to an allowed name on a port the policy does not allow ---
tel_mark
out=$(c1 -o /dev/null -w '%{http_connect}' https://allowed.test:8443/ 2>/dev/null)
rc=$?
tap_is "$rc $out" "56 403" "CONNECT allowed.test:8443 (port not allowed): 403"
tel_wait '"port":8443'
tap_check "its event: default deny on port 8443" has \
    "$(tel_grep '"domain":"allowed.test"')" '"port":8443' '"reason":"default deny"'

# --- a tunnel whose ClientHello names another host ---
tel_mark
out=$(world_exec c1 timeout 10 openssl s_client -proxy "$gw4:3128" \
    -connect allowed.test:443 -servername evil.test </dev/null 2>&1)
rc=$?
tap_ok "$([ $rc -ne 0 ] && ! grep -q "^Server certificate" <<<"$out" && echo 0 || echo 1)" \
    "openssl s_client CONNECT allowed.test:443 with SNI evil.test gets no handshake"
tel_wait 'SNI does not match CONNECT host'
tap_check "its event: the reason, both names" has \
    "$(tel_grep 'SNI does not match CONNECT host')" '"outcome":"denied"' \
    '"domain":"allowed.test"' '"server_name":"evil.test"'
tap_check "with SNI allowed.test the same tunnel works" sh -c \
    "ip netns exec $(world_ns c1) timeout 10 openssl s_client -proxy $gw4:3128 \
    -connect allowed.test:443 -servername allowed.test -CAfile $WORLD_CA \
    -verify_return_error </dev/null 2>&1 | grep -q 'Verify return code: 0'"

# --- absolute-URI requests ---
tel_mark
tap_is "$(c1 http://allowed.test/)" \
    "vhost=allowed.test scheme=http addr=$up4 host=allowed.test" \
    "curl -x http://allowed.test/ (absolute-URI) reaches allowed.test"
tel_wait '"method":"GET"'
tap_check "its event: allowed, GET, the rule" has \
    "$(tel_grep '"method":"GET"')" '"outcome":"allowed"' '"domain":"allowed.test"' '"line":2'
tap_is "$(c1 -o /dev/null -w '%{http_code}' http://evil.test/)" 403 \
    "an absolute-URI request for evil.test: 403"
# The origin sees origin-form and Connection: close.
world_spawn up origin python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$up4"'", 8081)); s.listen(4)
while True:
    c, _ = s.accept()
    d = b""
    while b"\r\n\r\n" not in d:
        x = c.recv(4096)
        if not x:
            break
        d += x
    lines = d.decode().split("\r\n")
    body = (lines[0] + "|" + ",".join(l for l in lines if l.lower().startswith("connection")) + "\n").encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    c.close()
'
world_wait "origin 8081" world_exec up sh -c 'ss -ltn | grep -q ":8081 "'
tap_is "$(c1 "http://$up4:8081/a/b?c=d")" "GET /a/b?c=d HTTP/1.1|Connection: close" \
    "the origin gets origin-form and Connection: close"
# curl would add the '/' itself: these bytes are written by hand.
tap_is "$(world_exec c1 python3 - "$gw4" "$up4" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 3128), timeout=5)
a = sys.argv[2] + ":8081"
s.sendall(("GET http://%s?q HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n"
           % (a, a)).encode())
d = b""
while True:
    x = s.recv(4096)
    if not x:
        break
    d += x
print(d.split(b"\r\n\r\n", 1)[-1].decode().strip())
PY
)" "GET /?q HTTP/1.1|Connection: close" \
    "an absolute-URI with no path becomes /, keep-alive is replaced"

# --- tunnels that are not TLS ---
# Bytes sent with the CONNECT head are the tunnel's first bytes, relayed
# unchanged (no Connection: close inside a tunnel).
tap_is "$(world_exec c1 python3 - "$gw4" "$up4" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 3128), timeout=5)
a = sys.argv[2] + ":8081"
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
           "GET /in-tunnel HTTP/1.1\r\nHost: x\r\n\r\n" % (a, a)).encode())
d = b""
while True:
    x = s.recv(4096)
    if not x:
        break
    d += x
print(d.split(b"\r\n", 1)[0].decode(), "/", d.split(b"\r\n\r\n")[-1].decode().strip())
PY
)" "HTTP/1.1 200 Connection established / GET /in-tunnel HTTP/1.1|" \
    "a plain-text tunnel with bytes sent along with CONNECT is relayed"
# A server that speaks first (SSH, SMTP) is relayed when the client waits.
world_spawn up banner python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$up4"'", 8082)); s.listen(4)
while True:
    c, _ = s.accept()
    c.sendall(b"SSH-2.0-world\r\n")
    c.close()
'
world_wait "banner 8082" world_exec up sh -c 'ss -ltn | grep -q ":8082 "'
tap_is "$(world_exec c1 python3 - "$gw4" "$up4" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 3128), timeout=5)
a = sys.argv[2] + ":8082"
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (a, a)).encode())
d = b""
while True:
    x = s.recv(4096)
    if not x:
        break
    d += x
print(d.split(b"\r\n\r\n", 1)[-1].decode().strip())
PY
)" "SSH-2.0-world" "a server-first protocol through CONNECT gets its banner through"

# --- what the explicit port refuses ---
raw() { # ADDR BYTES: the status line the proxy answers with
	world_exec c1 python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 3128), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
d = s.recv(4096)
print(d.split(b"\r\n")[0].decode() if d else "closed")
PY
}
tap_is "$(raw "$gw4" '\x16\x03\x01\x00\x05hello')" "HTTP/1.1 400 Bad Request" \
    "first bytes that are not HTTP: 400"
tap_is "$(raw "$gw4" 'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n')" \
    "HTTP/1.1 400 Bad Request" "an origin-form request: 400"
tap_is "$(raw "$gw4" 'GET https://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n')" \
    "HTTP/1.1 400 Bad Request" "an https absolute-URI (needs CONNECT): 400"
tap_is "$(raw "$gw4" 'GET http://allowed.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n')" \
    "HTTP/1.1 400 Bad Request" "absolute-URI and Host disagree: 400"
tel_mark
tap_check_not "an unregistered client gets nothing through" \
    world_curl c2 -x "http://$gw4c2:3128" https://allowed.test/
tel_wait "\"ip\":\"$c2v4\""
tap_check "its event says no task" has "$(tel_grep "\"ip\":\"$c2v4\"")" \
    '"reason":"no task for the source address"'

world_stop origin
world_stop banner
world_stop proxy
tap_check "agentgatectl log verify: the chain is intact" \
    "$WORLD_CTL" --config "$WORLD_CONF" log verify --dir "$WORLD_TELDIR"
tap_check "gateway down" agctl gateway down
tap_done
