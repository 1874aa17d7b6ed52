#!/bin/bash
# agentgatectl gateway up|down|status in the test world's gateway namespace:
# sandbox TCP lands on the transparent listener with its original
# destination, every DNS query on the forwarder's port, other traffic and
# the gateway's other ports are dropped; up twice is harmless, status tells
# installed from partial or stale, and down leaves no trace. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require ctl -- iptables-restore ip6tables-restore iptables-save ip6tables-save setpriv

world_up || tap_bail "world_up failed"
world_client c1
world_client c2
c4=$(world_client_addr c1 4)
gw4=$(world_client_gw c1 4)
gw6=$(world_client_gw c1 6)

# Settings: the world's client ranges are the sandbox pools.
conf=$WORLD_DIR/agentgate.conf
cat >"$conf" <<EOF
sandbox-pool4 $WORLD_CLIENTNET4
sandbox-pool6 $WORLD_CLIENTNET6
proxy-port 3129
proxy-explicit-port 3128
dns-port 5353
EOF
gwctl() { world_exec gw "$WORLD_CTL" --config "$conf" gateway "$@"; }

# Stand-ins for the proxy and the DNS forwarder in gw: the transparent
# listener names the original destination (SO_ORIGINAL_DST, 80 on SOL_IP
# and, as IP6T_SO_ORIGINAL_DST, on SOL_IPV6), the others answer a fixed
# word. One more TCP and UDP service that sandboxes must not reach.
cat >"$WORLD_DIR/listeners.py" <<'EOF'
import selectors, socket, struct, sys
SO_ORIGINAL_DST = 80
sel = selectors.DefaultSelector()

def listen(family, kind, port, reply):
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    if kind == socket.SOCK_STREAM:
        s.listen(64)
    sel.register(s, selectors.EVENT_READ, (kind, reply))

def origdst(c):
    if c.family == socket.AF_INET:
        raw = c.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
        port, = struct.unpack("!H", raw[2:4])
        return "%s:%d" % (socket.inet_ntop(socket.AF_INET, raw[4:8]), port)
    raw = c.getsockopt(socket.IPPROTO_IPV6, SO_ORIGINAL_DST, 28)  # SOL_IPV6
    port, = struct.unpack("!H", raw[2:4])
    return "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, raw[8:24]), port)

for fam in (socket.AF_INET, socket.AF_INET6):
    listen(fam, socket.SOCK_STREAM, 3129, None)
    listen(fam, socket.SOCK_STREAM, 3128, b"explicit-got\n")
    listen(fam, socket.SOCK_DGRAM, 5353, b"dns-fixed")
    listen(fam, socket.SOCK_STREAM, 9999, b"private-service\n")
    listen(fam, socket.SOCK_DGRAM, 9998, b"private-udp")
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        kind, reply = key.data
        s = key.fileobj
        if kind == socket.SOCK_DGRAM:
            _, peer = s.recvfrom(4096)
            s.sendto(reply, peer)
            continue
        c, _ = s.accept()
        try:
            c.sendall(reply if reply else ("proxy-got %s\n" % origdst(c)).encode())
        except Exception as e:
            print("error:", e, flush=True)
        c.close()
EOF

# The client's side: tcp HOST PORT prints what the server sends; udp HOST
# PORT sends a datagram and prints the answer; dns HOST NAME sends a real
# query for NAME (A) and prints the answer's bytes; ping HOST - sends one
# ICMP echo request (raw socket: root in the namespace) and prints "pong".
# Exit 1 on no answer.
cat >"$WORLD_DIR/client.py" <<'EOF'
import os, select, socket, struct, sys, time
mode, host, arg = sys.argv[1:4]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

def ping():
    v6 = fam == socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_RAW,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xffff
    body = struct.pack("!HH", ident, 1) + b"agentgate"
    req, rep = (128, 129) if v6 else (8, 0)
    pkt = struct.pack("!BBH", req, 0, 0) + body
    if not v6:  # the kernel sums ICMPv6 itself
        pkt = struct.pack("!BBH", req, 0, csum(pkt)) + body
    s.sendto(pkt, (host, 0))
    end = time.time() + 1.5
    while time.time() < end:
        if not select.select([s], [], [], end - time.time())[0]:
            break
        data, _ = s.recvfrom(2048)
        if not v6:
            data = data[(data[0] & 15) * 4:]
        if data[0] == rep and data[4:6] == struct.pack("!H", ident):
            print("pong")
            return
    raise OSError("no echo reply")

try:
    if mode == "ping":
        ping()
    elif mode == "tcp":
        s = socket.create_connection((host, int(arg)), timeout=2)
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        sys.stdout.write(data.decode(errors="replace"))
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(1.5)
        if mode == "dns":
            q = struct.pack("!HHHHHH", 0x4147, 0x0100, 1, 0, 0, 0)
            for label in arg.split("."):
                q += bytes([len(label)]) + label.encode()
            q += b"\0" + struct.pack("!HH", 1, 1)
            s.sendto(q, (host, 53))
        else:
            s.sendto(b"ping", (host, int(arg)))
        data, _ = s.recvfrom(4096)
        sys.stdout.write(data.decode(errors="replace") + "\n")
except OSError as e:
    sys.stderr.write("%s %s %s: %s\n" % (mode, host, arg, e))
    sys.exit(1)
EOF
client() { world_exec c1 "$WORLD_PYTHON" "$WORLD_DIR/client.py" "$@"; }
client_in() { local ns=$1; shift; world_exec "$ns" "$WORLD_PYTHON" "$WORLD_DIR/client.py" "$@"; }

# Rules of the host's own in every table and family, so that the tables
# exist before and the comparison shows we touch nothing else.
for ipt in iptables ip6tables; do
	world_exec gw "$ipt" -w -A INPUT -p tcp --dport 9 -m comment --comment "host rule" -j ACCEPT &&
	world_exec gw "$ipt" -w -A FORWARD -o lo -j ACCEPT &&
	world_exec gw "$ipt" -w -t nat -A PREROUTING -p tcp --dport 9 -j RETURN &&
	world_exec gw "$ipt" -w -t mangle -A POSTROUTING -p tcp --dport 9 -j RETURN ||
		tap_bail "cannot add the host's rules"
done
# Both families' dumps, counters and iptables-save's comment lines removed.
gw_save()
{
	{ world_exec gw iptables-save; world_exec gw ip6tables-save; } |
	    sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//g'
}
before=$(gw_save)

world_spawn gw listeners "$WORLD_PYTHON" "$WORLD_DIR/listeners.py"
world_wait "listeners in gw" grep -q ready "$WORLD_LOG/listeners.log" ||
	tap_bail "listeners did not start"
# A service inside sandbox c1 that nothing from outside may reach.
world_spawn c1 sandbox-service "$WORLD_PYTHON" -c '
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 2222)); s.listen(8)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
u.bind(("::", 2222))
import threading
def udp():
    while True:
        _, p = u.recvfrom(100); u.sendto(b"sandbox-udp", p)
threading.Thread(target=udp, daemon=True).start()
while True:
    c, _ = s.accept(); c.sendall(b"sandbox-service\n"); c.close()
'
world_wait_tcp c1 "$c4" 2222 || tap_bail "sandbox service did not start"

# --- before up: the world routes everything ------------------------------
tap_is "$(client udp "$WORLD_UP4" "$WORLD_ECHO_PORT" 2>&1)" "ping" \
    "before up: UDP echo to upstream answers (the drop below is the rules')"
tap_is "$(client ping "$WORLD_UP6" - 2>&1)" pong "before up: ping6 to upstream answers"
tap_check "before up: TCP to upstream reaches nginx itself" \
    world_curl c1 -o /dev/null "http://$WORLD_UP4/"
tap_is "$(client_in up tcp "$c4" 2222 2>&1)" "sandbox-service" \
    "before up: upstream reaches a service in a sandbox"
tap_is "$(client_in c2 udp "$c4" 2222 2>&1)" "sandbox-udp" \
    "before up: another sandbox reaches it over UDP"

# --- errors --------------------------------------------------------------
out=$(world_exec gw setpriv --reuid=65534 --regid=65534 --clear-groups \
    --inh-caps=-all --bounding-set=-all "$WORLD_CTL" --config "$conf" gateway up 2>&1)
st=$?
tap_is "$st: $out" "1: agentgatectl: gateway up needs root (CAP_NET_ADMIN)" \
    "up without CAP_NET_ADMIN: a clear error, exit 1"
out=$(world_exec gw env PATH=/nonexistent "$WORLD_CTL" --config "$conf" gateway up 2>&1)
st=$?
tap_ok "$([ "$st" -eq 1 ] && grep -q 'iptables.* not found' <<<"$out"; echo $?)" \
    "up without iptables on PATH: 'not found', exit 1"
tap_is "$(gw_save)" "$before" "the failed attempts changed nothing"

out=$(gwctl up --dry-run)
tap_ok "$(grep -qx -- '-A AGENTGATE-PRE -s 198.18.0.0/16 -p tcp -m comment --comment "agentgate: TCP to the transparent proxy" -j REDIRECT --to-ports 3129' <<<"$out" &&
    grep -q -- '-A AGENTGATE-FWD -s fd00:a9::/32 .* -j DROP$' <<<"$out"; echo $?)" \
    "up --dry-run prints the restore input for both families"
tap_is "$(gw_save)" "$before" "up --dry-run changes nothing"
gwctl status >/dev/null 2>&1
tap_is "$?" 1 "status before up: exit 1"

# --- up ------------------------------------------------------------------
tap_check "gateway up" gwctl up
tap_check "gateway up again (harmless)" gwctl up
jumps=$(world_exec gw iptables-save | grep -c -- '-j AGENTGATE-')
jumps6=$(world_exec gw ip6tables-save | grep -c -- '-j AGENTGATE-')
tap_is "$jumps $jumps6" "5 5" "after up twice: one jump per built-in chain (IPv4, IPv6)"
out=$(gwctl status)
st=$?
tap_is "$st $(grep -c ': installed$' <<<"$out")" "0 2" "status: both families installed, exit 0"

tap_is "$(client tcp "$WORLD_UP4" 443 2>&1)" "proxy-got $WORLD_UP4:443" \
    "TCP to upstream (IPv4) lands on the transparent listener, original destination kept"
tap_is "$(client tcp "$WORLD_UP6" 80 2>&1)" "proxy-got [$WORLD_UP6]:80" \
    "TCP to upstream (IPv6) lands on the transparent listener, original destination kept"
tap_is "$(client tcp "$WORLD_EVIL4" 8443 2>&1)" "proxy-got $WORLD_EVIL4:8443" \
    "TCP to any port of any address goes to the proxy"

world_dns_mark
tap_is "$(client dns "$WORLD_DNS4" gw-probe.test 2>&1)" "dns-fixed" \
    "UDP DNS to upstream's server (IPv4) is answered by the gateway's forwarder port"
tap_is "$(client dns "$WORLD_DNS6" gw-probe6.test 2>&1)" "dns-fixed" \
    "UDP DNS to upstream's server (IPv6) is answered by the gateway's forwarder port"
tap_is "$(client dns 198.19.0.99 gw-probe-any.test 2>&1)" "dns-fixed" \
    "DNS to an address where no server runs is answered too"
tap_check_not "upstream's dnsmasq never saw the queries" \
    world_dns_asked 'gw-probe[-a-z0-9]*.test'

tap_check_not "UDP echo to upstream (IPv4) is dropped" client udp "$WORLD_UP4" "$WORLD_ECHO_PORT"
tap_check_not "UDP echo to upstream (IPv6) is dropped" client udp "$WORLD_UP6" "$WORLD_ECHO_PORT"
tap_check_not "ping to upstream is dropped" client ping "$WORLD_UP4" -
tap_check_not "ping6 to upstream is dropped" client ping "$WORLD_UP6" -
tap_is "$(client ping "$gw4" - 2>&1)" pong "ping to the gateway is allowed"
tap_is "$(client ping "$gw6" - 2>&1)" pong \
    "ping6 to the gateway is allowed (neighbour discovery works)"

tap_check_not "TCP to a gateway port that is not a proxy port (IPv4) is dropped" \
    client tcp "$gw4" 9999
tap_check_not "TCP to a gateway port that is not a proxy port (IPv6) is dropped" \
    client tcp "$gw6" 9999
tap_check_not "TCP to the gateway's upstream-side address is dropped" \
    client tcp "$WORLD_GW_UP4" 9999
tap_check_not "UDP to a gateway port that is not DNS is dropped" client udp "$gw4" 9998
tap_is "$(client tcp "$gw4" 3128 2>&1)" "explicit-got" \
    "TCP to the gateway's explicit proxy port reaches that listener directly"
tap_is "$(client tcp "$gw6" 3128 2>&1)" "explicit-got" \
    "the same over IPv6"
tap_is "$(client udp "$gw4" 5353 2>&1)" "dns-fixed" "UDP to the gateway's DNS port is allowed"

# Nothing new reaches a sandbox, from upstream or another sandbox.
tap_check_not "upstream cannot connect to a sandbox" client_in up tcp "$c4" 2222
tap_check_not "another sandbox's UDP does not reach a sandbox" client_in c2 udp "$c4" 2222
tap_is "$(client_in c2 tcp "$c4" 2222 2>&1)" "proxy-got $c4:2222" \
    "another sandbox's TCP goes to the proxy, not to the sandbox"

# --- status tells stale and partial rules -------------------------------
out=$(gwctl status)
tap_ok "$(grep -qE '^  \[[1-9][0-9]*:[0-9]+\] -A AGENTGATE-PRE .*--to-ports 3129$' <<<"$out"; echo $?)" \
    "status shows the rules with packet counters"
sed 's/^dns-port 5353$/dns-port 5354/' "$conf" >"$conf.new"
out=$(world_exec gw "$WORLD_CTL" --config "$conf.new" gateway status)
st=$?
tap_is "$st $(grep -c ': installed but differs from the settings (run up)$' <<<"$out")" "1 2" \
    "status with changed settings: differs, exit 1"
world_exec gw iptables -w -D INPUT -m comment --comment "agentgate: sandbox traffic" -j AGENTGATE-IN
out=$(gwctl status)
st=$?
tap_ok "$([ "$st" -eq 1 ] && grep -qx 'IPv4: partial' <<<"$out" &&
    grep -qx 'IPv6: installed' <<<"$out"; echo $?)" "status with a jump removed: IPv4 partial, exit 1"
tap_check "up repairs it" gwctl up
gwctl status >/dev/null
tap_is "$?" 0 "status after the repair: exit 0"

# A settings change replaces the rules: nfq with one queue, then a range.
printf 'nfq enable\nnfq-queues 3\n' >>"$conf.new"
tap_check "up with new settings (nfq, queue 3)" world_exec gw "$WORLD_CTL" --config "$conf.new" gateway up
tap_ok "$(world_exec gw iptables-save | grep -q -- '-j NFQUEUE --queue-num 3$' &&
    world_exec gw iptables-save -t nat | grep -q -- '--to-ports 5354$' &&
    ! world_exec gw iptables-save -t nat | grep -q -- '--to-ports 5353$'; echo $?)" \
    "the rules are replaced, not added to"
world_exec gw "$WORLD_CTL" --config "$conf.new" gateway status >/dev/null
tap_is "$?" 0 "status with the new settings: installed"
tap_check_not "no daemon on the queue: UDP to upstream stops (fail closed)" \
    client udp "$WORLD_UP4" "$WORLD_ECHO_PORT"
sed -i 's/^nfq-queues 3$/nfq-queues 2-5/' "$conf.new"
world_exec gw "$WORLD_CTL" --config "$conf.new" gateway up &&
    world_exec gw "$WORLD_CTL" --config "$conf.new" gateway status >/dev/null
tap_ok $? "a queue range: up, and status says installed"
tap_ok "$(world_exec gw ip6tables-save | grep -q -- '-j NFQUEUE --queue-balance 2:5$' &&
    ! world_exec gw ip6tables-save | grep -q -- 'queue-bypass'; echo $?)" \
    "IPv6 queues balanced, never bypassed"
tap_is "$(world_exec gw iptables-save | grep -c -- '-j AGENTGATE-')" 5 \
    "still one jump per built-in chain"
out=$(world_exec gw "$WORLD_CTL" --config "$conf.new" gateway status)
tap_ok "$(grep -qx '  queue 2: not bound (agentgate-nfq not running?)' <<<"$out" &&
    grep -qx '  queue 5: not bound (agentgate-nfq not running?)' <<<"$out"; echo $?)" \
    "status names each queue of the range, none bound"
tap_ok "$(world_exec gw ip6tables-save -t filter | grep -q -- '-m mark --mark 0x61670002 .*-j REJECT --reject-with icmp6-port-unreachable$' &&
    world_exec gw iptables-save -t filter | grep -q -- '-A AGENTGATE-OUT -d 198.18.0.0/16 -p udp -m udp --sport 5354 .*-j NFQUEUE --queue-balance 2:5$' &&
    world_exec gw iptables-save -t mangle | grep -q -- '-A AGENTGATE-MARK .*-j CONNMARK --save-mark'; echo $?)" \
    "with nfq: reject-by-mark, DNS answers queued, the mark saved to the connection"

# --- down ----------------------------------------------------------------
tap_check "gateway down" gwctl down
tap_is "$(gw_save)" "$before" "after down the dumps equal the ones before up (mangle too)"
tap_check "gateway down again (harmless)" gwctl down
out=$(gwctl status)
st=$?
tap_is "$st $(grep -c ': not installed$' <<<"$out")" "1 2" "status after down: not installed, exit 1"
tap_is "$(client udp "$WORLD_UP4" "$WORLD_ECHO_PORT" 2>&1)" "ping" \
    "after down: traffic is routed as before"

# A copy of a jump added by hand goes too.
gwctl up >/dev/null
world_exec gw iptables -w -A FORWARD -j AGENTGATE-FWD
gwctl down
tap_is "$?:$(gw_save)" "0:$before" "down removes every copy of a jump"

tap_done
