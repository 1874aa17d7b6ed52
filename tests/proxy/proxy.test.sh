#!/bin/bash
# agentgate-proxy's transparent listener in the test world: allowed names
# reach their server over IPv4 and IPv6, denied ones fail fast with one
# telemetry line naming the rule, SNI spoofing lands on the allowed host,
# plain HTTP is judged by Host (and told to close after one response), IP
# literals, split ClientHellos and unregistered clients are handled, and the
# telemetry chain verifies. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require ctl proxy -- iptables-restore ip6tables-restore curl python3 ss

world_up || tap_bail "world_up failed"
world_client c1
world_client c2
c1v4=$(world_client_addr c1 4)
c1v6=$(world_client_addr c1 6)
c2v4=$(world_client_addr c2 4)
up4=$WORLD_UP4 up6=$WORLD_UP6 evil4=$WORLD_EVIL4 evil6=$WORLD_EVIL6

world_gateway "proxy-handshake-timeout 2s" "proxy-max-conns-per-task 8"
tap_ok $? "gateway up" || tap_bail "the gateway did not start"

# The policy: two names and the allowed server's own addresses (the world's
# upstream lives in benchmarking and ULA ranges, which the rebinding rule
# refuses without an address rule). evil.test's addresses are not allowed.
cat >"$WORLD_POLICIES/t1.rules" <<RULES
deny deny.test
allow allowed.test *.wild.test rebind-private.test rebind-gateway.test
allow $up4 $up6
RULES
agctl() { world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" "$@"; }
tel=$WORLD_TELDIR/egress-proxy.jsonl

tap_check "task t1 registered for c1" \
    agctl task add --id t1 --addr "$c1v4" --addr "$c1v6" --policy t1
tap_check "agentgate-proxy -n accepts the settings and t1's policy" \
    "$WORLD_PROXY" --config "$WORLD_CONF" -n

# The clients ask no DNS here (that is the forwarder's test): --resolve
# gives curl an address, and the gateway redirects the connection anyway.
c1() { world_curl c1 "$@"; }
# Telemetry since a mark: the egress lines holding a string.
tel_mark() { mark=$(wc -l <"$tel"); }
tel_since() { tail -n +"$((mark + 1))" "$tel"; }
tel_grep() { tel_since | grep '"action":"egress"' | grep -F -- "$1"; }
tel_wait() { world_wait "telemetry $1" sh -c "tail -n +$((mark + 1)) '$tel' | grep -F -q -- '$1'"; }
# has LINES STRING...: every STRING is in LINES
has() {
	local lines=$1
	shift
	for s in "$@"; do
		grep -F -q -- "$s" <<<"$lines" || { echo "missing: $s"; echo "$lines"; return 1; }
	done
}

# --- allowed HTTPS, both families ---
tel_mark
tap_is "$(c1 --resolve allowed.test:443:$up4 https://allowed.test/)" \
    "vhost=allowed.test scheme=https addr=$up4 host=allowed.test" \
    "allowed.test over IPv4 reaches allowed.test"
tap_is "$(c1 -6 --resolve "allowed.test:443:[$up6]" https://allowed.test/)" \
    "vhost=allowed.test scheme=https addr=$up6 host=allowed.test" \
    "allowed.test over IPv6 reaches allowed.test over IPv6"
tel_wait "\"ip\":\"$c1v6\""
tap_is "$(tel_grep '"server_name":"allowed.test"' | grep -c '"outcome":"allowed"')" 2 \
    "two allowed egress events with the SNI"
tap_check "the allowed event names the rule, the bytes and no mismatch" has \
    "$(tel_grep '"server_name":"allowed.test"' | head -1)" \
    '"line":2' '"destination_mismatch":false' "\"ip\":\"$c1v4\"" \
    '"task":{"id":"t1"}' '"policy":"t1"' "\"destination\":{\"ip\":\"$up4\",\"port\":443"

# --- wildcard ---
tap_is "$(c1 --resolve a.wild.test:443:$up4 https://a.wild.test/)" \
    "vhost=*.wild.test scheme=https addr=$up4 host=a.wild.test" \
    "a.wild.test is allowed by *.wild.test"
tap_check_not "wild.test itself is not below *.wild.test" \
    c1 --resolve wild.test:443:$up4 https://wild.test/

# --- denied names: fast, one line, the rule or the default deny ---
tel_mark
start=$(date +%s%N)
tap_check_not "evil.test is denied" c1 --resolve evil.test:443:$evil4 https://evil.test/
ms=$(( ($(date +%s%N) - start) / 1000000 ))
tap_ok "$([ "$ms" -lt 1000 ] && echo 0 || echo 1)" "the denial is fast (${ms} ms)"
tel_wait '"server_name":"evil.test"'
tap_is "$(tel_grep '"server_name":"evil.test"' | wc -l)" 1 \
    "exactly one telemetry line for the denied attempt"
tap_check "it says default deny, denied, no rule" has \
    "$(tel_grep '"server_name":"evil.test"')" \
    '"reason":"default deny"' '"outcome":"denied"' '"verdict":"deny"'
tap_check_not "... and names no rule" sh -c "tail -n +$((mark + 1)) '$tel' |
    grep '\"server_name\":\"evil.test\"' | grep -q '\"rule\"'"
tel_mark
tap_check_not "deny.test is denied by its rule" \
    c1 --resolve deny.test:443:$up4 https://deny.test/
tel_wait '"server_name":"deny.test"'
tap_check "the event names the deny rule's file and line" has \
    "$(tel_grep '"server_name":"deny.test"')" \
    "\"file\":\"$WORLD_POLICIES/t1.rules\"" '"line":1' '"text":"deny deny.test"'

# --- SNI spoofing: an allowed name sent to evil's address ---
tel_mark
tap_is "$(c1 --connect-to allowed.test:443:$evil4:443 https://allowed.test/)" \
    "vhost=allowed.test scheme=https addr=$up4 host=allowed.test" \
    "SNI spoofing over IPv4 reaches allowed.test, not evil"
tap_is "$(c1 -6 --connect-to "allowed.test:443:[$evil6]:443" https://allowed.test/)" \
    "vhost=allowed.test scheme=https addr=$up6 host=allowed.test" \
    "SNI spoofing over IPv6 reaches allowed.test, not evil"
tel_wait "\"requested\":{\"ip\":\"$evil6\""
tap_check "the event records evil's address as requested, mismatch true" has \
    "$(tel_grep "\"requested\":{\"ip\":\"$evil4\"")" \
    '"destination_mismatch":true' "\"destination\":{\"ip\":\"$up4\""

# --- plain HTTP ---
tap_is "$(c1 --resolve allowed.test:80:$up4 http://allowed.test/)" \
    "vhost=allowed.test scheme=http addr=$up4 host=allowed.test" \
    "plain HTTP to allowed.test"
tap_is "$(c1 -o /dev/null -w '%{http_code}' --resolve evil.test:80:$evil4 http://evil.test/)" \
    403 "plain HTTP to evil.test: 403 from the gateway"
tap_check "the 403 says why" has \
    "$(c1 --resolve evil.test:80:$evil4 http://evil.test/)" "agentgate: default deny"
# Keep-alive is taken away: the origin closes after one response, so a
# second request (for another Host) never rides on a judged connection.
tap_check "the origin answers the first request with Connection: close" has \
    "$(c1 -v --resolve allowed.test:80:$up4 http://allowed.test/ 2>&1 | tr -d '\r')" \
    "< Connection: close"
out=$(world_exec c1 python3 - "$up4" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n"
          b"GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
print(data.count(b"HTTP/1.1 200"), b"vhost=evil" in data)
PY
)
tap_is "$out" "1 False" "a pipelined second request for another Host is never answered"

# --- IP literals ---
tap_check_not "an HTTPS IP-literal URL of evil's address is denied" c1 https://$evil4/
tap_check_not "a plain HTTP IP-literal URL of evil's address is denied" c1 -f http://$evil4/
tap_check_not "an IPv6 literal of evil is denied" c1 "https://[$evil6]/"

# --- a ClientHello one byte at a time ---
hello_test() { # NAME ADDR: did the server answer with a ServerHello?
	world_exec c1 python3 - "$1" "$2" <<'PY'
import socket, ssl, sys, time
name, addr = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname=name)
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
s = socket.create_connection((addr, 443), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
d = b""
try:
    # A denied hello may be closed on before its last byte: that is an answer.
    for b in hello:
        s.send(bytes([b]))
        time.sleep(0.001)
    d = s.recv(5)
except OSError:
    pass
print("server-hello" if d[:1] == b"\x16" else "closed")
PY
}
tap_is "$(hello_test allowed.test "$evil4")" server-hello \
    "a ClientHello for allowed.test sent 1 byte at a time is allowed"
tap_is "$(hello_test evil.test "$up4")" closed \
    "a ClientHello for evil.test sent 1 byte at a time is denied"

# --- a client that is no task ---
tel_mark
tap_check_not "an unregistered client is denied" \
    world_curl c2 --resolve allowed.test:443:$up4 https://allowed.test/
tel_wait "\"ip\":\"$c2v4\""
tap_check "its event says no task" has "$(tel_grep "\"ip\":\"$c2v4\"")" \
    '"reason":"no task for the source address"' '"outcome":"denied"'

# --- answers the rebinding rule refuses ---
tel_mark
tap_check_not "an allowed name resolving to a private address is not dialled" \
    c1 --resolve rebind-private.test:443:$up4 https://rebind-private.test/
tap_check_not "an allowed name resolving to the gateway is not dialled" \
    c1 --resolve rebind-gateway.test:443:$up4 https://rebind-gateway.test/
tel_wait '"domain":"rebind-gateway.test"'
tap_check "the event says no usable address, verdict allow" has \
    "$(tel_grep '"domain":"rebind-private.test"')" \
    '"reason":"no usable address' '"verdict":"allow"' '"outcome":"denied"'

# --- the handshake timeout and the per-task limit (8) ---
tel_mark
out=$(world_exec c1 python3 - "$up4" <<'PY'
import socket, sys, time
socks = [socket.create_connection((sys.argv[1], 443), timeout=5) for _ in range(9)]
t0 = time.time()
# The ninth is over the limit: closed at once, without a byte.
socks[8].settimeout(1)
ninth = socks[8].recv(1)
first = socks[0].recv(1)   # silent: closed by the 2 s handshake timeout
print(ninth == b"", first == b"", round(time.time() - t0))
PY
)
tap_is "$out" "True True 2" "the 9th connection of a task is refused; silent ones close after 2 s"
tel_wait '"reason":"handshake timeout"'
tap_check "the refusal and the timeout are logged" has "$(tel_since)" \
    '"reason":"proxy-max-conns-per-task (8) reached"' '"reason":"handshake timeout"'

# --- a task registered while running (inotify), then SIGHUP with a broken policy ---
tap_check "task t2 registered for c2" agctl task add --id t2 --addr "$c2v4" --policy t1
world_wait "c2 allowed" sh -c "ip netns exec $(world_ns c2) curl -s --max-time 2 \
    --cacert $WORLD_CA --resolve allowed.test:443:$up4 https://allowed.test/ | grep -q vhost=allowed.test"
tap_ok $? "a task added while the proxy runs is used for its next connection"
echo "alow broken.test" >>"$WORLD_POLICIES/t1.rules"
tel_mark
kill -HUP "$(world_pid proxy)"
tel_wait '"action":"policy-rejected"'
tap_check "a broken policy on SIGHUP is rejected with its line" has \
    "$(tel_since | grep '"action":"policy-rejected"')" '"line":4' '"policy":"t1"'
tap_is "$(c1 --resolve allowed.test:443:$up4 https://allowed.test/)" \
    "vhost=allowed.test scheme=https addr=$up4 host=allowed.test" \
    "... and the policy loaded before stays in force"

# --- the end: a relay still open when the proxy stops writes its event ---
world_exec c1 python3 - "$up4" "$WORLD_CA" >"$WORLD_DIR/held.out" 2>&1 <<'PY' &
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], 443), timeout=10),
                    server_hostname="allowed.test")
print("connected", flush=True)
try:
    s.recv(1)      # nginx waits for a request; the proxy's stop ends this
except OSError:
    pass
print("closed", flush=True)
PY
held=$!
world_wait "held connection" grep -q connected "$WORLD_DIR/held.out"
tel_mark
world_stop proxy
wait "$held"
tap_check "a relay open at SIGTERM is closed and its event written" has \
    "$(tel_grep '"reason":"proxy stopping"')" '"outcome":"allowed"' '"server_name":"allowed.test"'
tap_check "daemon-started and daemon-stopped were written" has "$(cat "$tel")" \
    '"action":"daemon-started"' '"action":"daemon-stopped"'
tap_check "agentgatectl log verify: the chain is intact" \
    "$WORLD_CTL" --config "$WORLD_CONF" log verify --dir "$WORLD_TELDIR"
tap_check "gateway down" agctl gateway down
tap_done
