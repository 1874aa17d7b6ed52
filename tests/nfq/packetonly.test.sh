#!/bin/bash
# agentgate-nfq in packet-only mode (nfq-mode packet-only): no TCP goes to
# the proxy; sandbox TCP is judged in the queue by the addresses DNS gave
# the task (agentgate-proxy runs as the DNS forwarder only, its answers over
# UDP and TCP are learned) and by the SNI or Host of the first payload,
# which must name an allowed name bound to the destination. IPv4 and IPv6:
# allowed SNI and Host pass, denied ones and an allowed SNI aimed at another
# name's address fail, a ClientHello split over several segments is judged
# whole, an incomplete one is denied by the hold timer, a SYN to an
# unlearned address is refused, and bulk data of an allowed flow passes the
# connmark fast path, not the daemon. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require ctl nfq proxy -- iptables-restore ip6tables-restore curl dig ss

world_up || tap_bail "world_up failed"
world_client c1
c4=$(world_client_addr c1 4)
c6=$(world_client_addr c1 6)
up4=$WORLD_UP4 up6=$WORLD_UP6 evil4=$WORLD_EVIL4 evil6=$WORLD_EVIL6

conf=$WORLD_DIR/agentgate.conf
cat >"$conf" <<CONF
sandbox-pool4 $WORLD_CLIENTNET4
sandbox-pool6 ${c6%::2}::/64
nfq enable
nfq-mode packet-only
nfq-queues 0
dns-port 5353
dns-upstream $WORLD_DNS4
log-dir $WORLD_DIR/aglog
run-dir $WORLD_DIR/agrun
policy-dir $WORLD_DIR/policies
proxy-user nobody
CONF
# The policy: two names (evil.test has its own addresses, so an allowed
# SNI can be aimed at the address of the other allowed name), and TCP echo
# on up's addresses by address rule for the bulk flow. The last rule is
# the test world's: its upstream lives in benchmarking and ULA ranges,
# whose answers the forwarder refuses (rebinding) unless a rule allows the
# range; UDP 443 is one it looks at and no test here uses.
mkdir -p "$WORLD_DIR/policies"
cat >"$WORLD_DIR/policies/t1.rules" <<POLICY
allow allowed.test evil.test
allow $up4 $up6 port 7
allow $WORLD_UPNET4 $WORLD_UPNET6 port 443 proto udp
POLICY
agctl() { world_exec gw "$WORLD_CTL" --config "$conf" "$@"; }
tel=$WORLD_DIR/aglog/egress-nfq.jsonl
c1() { world_curl c1 "$@"; }

tel_mark() { mark=$(wc -l <"$tel"); }
tel_since() { tail -n +"$((mark + 1))" "$tel"; }
# tel_count STRING...: egress lines since the mark holding every STRING
tel_count()
{
	local lines
	lines=$(tel_since | grep '"action":"egress"')
	for s in "$@"; do
		lines=$(printf '%s\n' "$lines" | grep -F -- "$s")
	done
	printf '%s\n' "$lines" | grep -c .
}

# tls.py ADDR SNI PIECES CA [partial]: a TLS client whose ClientHello goes
# out in PIECES segments (the first 3 bytes alone, inside the record
# header; TCP_NODELAY and 50 ms between them), then GET / over HTTP/1.1;
# prints the body. "partial": only the first half of the hello, then wait
# for the gateway to end it; prints how long that took.
cat >"$WORLD_DIR/tls.py" <<'PY'
import socket, ssl, sys, time
addr, sni, pieces, ca = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
partial = len(sys.argv) > 5
ctx = ssl.create_default_context(cafile=ca)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname=sni)
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(6 if partial else 3)
s.connect((addr, 443))
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
if partial:
    s.send(hello[:len(hello) // 2])
    t0 = time.time()
    try:
        data = s.recv(100)
    except ConnectionResetError:
        print("reset after %.1f s" % (time.time() - t0))
        sys.exit(0)
    print("got %r" % data)
    sys.exit(1)
chunks = [hello[:3]]
step = -(-(len(hello) - 3) // (pieces - 1))
chunks += [hello[i:i + step] for i in range(3, len(hello), step)]
for c in chunks:
    s.send(c)
    time.sleep(0.05)
def pump():
    d = out.read()
    if d:
        s.sendall(d)
def feed():
    d = s.recv(65536)
    if not d:
        sys.exit(1)
    inc.write(d)
while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        pump()
        feed()
pump()
tls.write(b"GET / HTTP/1.1\r\nHost: " + sni.encode() + b"\r\nConnection: close\r\n\r\n")
pump()
resp = b""
while True:
    try:
        d = tls.read(65536)
        if not d:
            break
        resp += d
    except ssl.SSLWantReadError:
        try:
            feed()
        except SystemExit:
            break
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
        break
print(resp.split(b"\r\n\r\n", 1)[-1].decode().strip())
PY
tls() { world_exec c1 "$WORLD_PYTHON" "$WORLD_DIR/tls.py" "$1" "$2" "$3" "$WORLD_CA" ${4:+"$4"}; }

# pingpong.py ADDR N: N 100-byte messages to TCP echo, each awaited: a
# flow of 2N+ packets from the client that no coalescing can shrink.
cat >"$WORLD_DIR/pingpong.py" <<'PY'
import socket, sys
addr, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(3)
s.connect((addr, 7))
msg = b"x" * 100
for i in range(n):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        d = s.recv(100 - len(got))
        if not d:
            sys.exit(1)
        got += d
print("echo %d" % n)
PY

tap_check "gateway up in packet-only mode" agctl gateway up
tap_check "gateway status: installed as the settings say" agctl gateway status
tap_check "no TCP redirect to the proxy in nat" sh -c \
    "! ip netns exec '$WORLD_NS_GW' iptables-save -t nat | grep -q 'transparent proxy'"
tap_check "task t1 registered for c1" \
    agctl task add --id t1 --addr "$c4" --addr "$c6" --policy t1
world_spawn gw proxy "$WORLD_PROXY" -f -v --config "$conf"
world_wait "forwarder listening" world_exec gw sh -c 'ss -lun | grep -q ":5353 "' ||
	tap_bail "agentgate-proxy (forwarder) did not start"
world_spawn gw nfq "$WORLD_NFQ" -v --config "$conf"
world_wait "agentgate-nfq bound" grep -q "queues 0-0 bound.*mode packet-only" \
    "$WORLD_LOG/nfq.log" || tap_bail "agentgate-nfq did not start"

# --- no DNS answer, no connection: SYN to an unlearned address ---
tel_mark
tap_check_not "SYN to evil's address before any answer named it: refused" \
    c1 -k "https://$evil4/"
tap_check_not "... over IPv6 too" c1 -k "https://[$evil6]/"
tap_is "$(tel_count "\"ip\":\"$evil4\",\"port\":443" '"outcome":"denied"' '"reason":"policy"')" 1 \
    "one denied line for the IPv4 SYN (default deny)"
tap_is "$(tel_count "\"ip\":\"$evil6\",\"port\":443" '"outcome":"denied"')" 1 \
    "one denied line for the IPv6 SYN"

# --- allowed names through the forwarder's answers ---
tel_mark
tap_is "$(c1 -4 https://allowed.test/)" \
    "vhost=allowed.test scheme=https addr=$up4 host=allowed.test" \
    "allowed SNI over IPv4: curl https://allowed.test/ reaches it"
tap_is "$(c1 -6 https://allowed.test/)" \
    "vhost=allowed.test scheme=https addr=$up6 host=allowed.test" \
    "allowed SNI over IPv6"
tap_is "$(tel_count '"server_name":"allowed.test"' '"outcome":"allowed"' '"domain":"allowed.test"' 't1.rules' '"line":1')" 2 \
    "two allowed lines naming the SNI and t1.rules:1"
tap_is "$(c1 -4 http://allowed.test/)" \
    "vhost=allowed.test scheme=http addr=$up4 host=allowed.test" \
    "plain HTTP, allowed Host over IPv4"
tap_is "$(c1 -6 http://allowed.test/)" \
    "vhost=allowed.test scheme=http addr=$up6 host=allowed.test" \
    "plain HTTP, allowed Host over IPv6"
tap_is "$(tel_count '"protocol":"http"' '"domain":"allowed.test"' '"outcome":"allowed"')" 2 \
    "two allowed HTTP lines with the Host as url.domain"

# --- denied names on a learned address ---
tel_mark
tap_check_not "denied SNI other.test on allowed.test's address (IPv4)" \
    c1 --resolve "other.test:443:$up4" https://other.test/
tap_check_not "denied SNI other.test (IPv6)" \
    c1 --resolve "other.test:443:[$up6]" https://other.test/
tap_check_not "denied Host other.test over plain HTTP" \
    c1 --resolve "other.test:80:$up4" http://other.test/
tap_is "$(tel_count '"server_name":"other.test"' '"outcome":"denied"' '"reason":"policy"')" 2 \
    "two denied lines naming the SNI"
tap_is "$(tel_count '"domain":"other.test"' '"protocol":"http"' '"outcome":"denied"')" 1 \
    "one denied line naming the Host"
tap_check_not "no request of other.test reached nginx" \
    grep -q "host=other.test" "$WORLD_NGINX_LOG"

# --- answers over TCP; an allowed SNI aimed at another name's address ---
tap_is "$(world_dig c1 +tcp +short evil.test A)" "$evil4" "evil.test asked over TCP"
tap_is "$(world_dig c1 +tcp +short evil.test AAAA)" "$evil6" "... and its AAAA over TCP"
tel_mark
tap_is "$(c1 --resolve "evil.test:443:$evil4" https://evil.test/)" \
    "vhost=evil.test scheme=https addr=$evil4 host=evil.test" \
    "learned from the TCP answer: evil.test at $evil4 passes"
tap_is "$(c1 -6 --resolve "evil.test:443:[$evil6]" https://evil.test/)" \
    "vhost=evil.test scheme=https addr=$evil6 host=evil.test" \
    "... and at $evil6"
tap_check_not "allowed SNI allowed.test sent to evil.test's address: denied (IPv4)" \
    c1 --resolve "allowed.test:443:$evil4" https://allowed.test/
tap_check_not "... and over IPv6" \
    c1 --resolve "allowed.test:443:[$evil6]" https://allowed.test/
tap_check_not "allowed Host allowed.test sent to evil.test's address: denied" \
    c1 --resolve "allowed.test:80:$evil4" http://allowed.test/
tap_is "$(tel_count '"domain":"allowed.test"' '"reason":"name-not-bound-to-address"' '"outcome":"denied"')" 3 \
    "three denied lines: name not bound to the address"
tap_check_not "evil's nginx never saw a request for allowed.test" \
    grep -qE -- "-> ($evil4|\\[?$evil6\\]?):(443|80) .*(sni|host)=allowed.test" "$WORLD_NGINX_LOG"

# --- a ClientHello in pieces ---
# The fast path rule's IPv4 packet counter.
fast() { world_gw_iptables -vnxL AGENTGATE-FWD | awk '/accepted by agentgate-nfq/ { print $1 }'; }
tel_mark
f0=$(fast)
tap_is "$(tls "$up4" allowed.test 5)" \
    "vhost=allowed.test scheme=https addr=$up4 host=allowed.test" \
    "allowed SNI in a ClientHello split over 5 segments (IPv4)"
f1=$(fast)
# Held and then accepted with the mark, the hello's packets had the
# connmark saved: the rest of the handshake, the request and the close
# went by the fast path.
tap_ok "$([ $((f1 - f0)) -ge 3 ] && echo 0 || echo 1)" \
    "after the held hello, the flow's later packets took the fast path ($((f1 - f0)))"
tap_is "$(tls "$up6" allowed.test 4)" \
    "vhost=allowed.test scheme=https addr=$up6 host=allowed.test" \
    "allowed SNI in a ClientHello split over 4 segments (IPv6)"
tap_check_not "denied SNI other.test split over 5 segments" tls "$up4" other.test 5
tap_check_not "denied SNI other.test split over 4 segments (IPv6)" tls "$up6" other.test 4
tap_is "$(tel_count '"server_name":"allowed.test"' '"outcome":"allowed"')" 2 \
    "the split hellos: one allowed line each"
tap_is "$(tel_count '"server_name":"other.test"' '"outcome":"denied"')" 2 \
    "... one denied line each"
out=$(tls "$up4" allowed.test 2 partial)
tap_ok "$(case "$out" in "reset after "[2-4].*) echo 0 ;; *) echo 1 ;; esac)" \
    "half a ClientHello is denied by the hold timer ($out)"
tap_is "$(tel_count '"reason":"hello-incomplete"' '"outcome":"denied"')" 1 \
    "its line says hello-incomplete"

# --- the connmark fast path ---
judged()
{
	local n
	n=$(grep -c "queue 0: packets" "$WORLD_LOG/nfq.log")
	kill -USR1 "$(world_pid nfq)"
	world_wait "counters logged" sh -c \
	    "[ \$(grep -c 'queue 0: packets' '$WORLD_LOG/nfq.log') -gt $n ]" &&
	grep "queue 0: packets" "$WORLD_LOG/nfq.log" | tail -1 |
	    sed 's/.*packets \([0-9]*\).*/\1/'
}
f0=$(fast) j0=$(judged)
tap_is "$(world_exec c1 "$WORLD_PYTHON" "$WORLD_DIR/pingpong.py" "$up4" 2000)" \
    "echo 2000" "an allowed TCP flow (echo, by address rule) moves 2000 messages"
f1=$(fast) j1=$(judged)
fd=$((f1 - f0)) jd=$((j1 - j0))
tap_ok "$([ "$fd" -ge 2000 ] && [ "$jd" -le 20 ] && [ "$fd" -gt $((50 * jd)) ] && echo 0 || echo 1)" \
    "the connmark fast path took $fd of its packets, the daemon judged $jd"

tap_check "nothing left held or lost" sh -c \
    "grep 'queue 0: packets' '$WORLD_LOG/nfq.log' | tail -1 | grep -q 'enobufs 0'"
world_stop nfq
world_stop proxy
tap_done
