#!/bin/bash
# agentgate-nfq in the test world's gateway, behind `agentgatectl gateway up`
# with `nfq enable`: a task whose policy allows UDP port 7 to one upstream
# address reaches the world's echo server there and nowhere else (IPv4 and
# IPv6), ICMP upstream is dropped, each flow gets one telemetry line, the
# gateway's reject rule for the daemon's mark refuses denied UDP at once,
# the forwarder's answers teach bindings, and when the daemon is killed
# nothing passes until it is back. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require ctl nfq -- iptables-restore ip6tables-restore

world_up || tap_bail "world_up failed"
world_client c1
c4=$(world_client_addr c1 4)
c6=$(world_client_addr c1 6)

conf=$WORLD_DIR/agentgate.conf
cat >"$conf" <<CONF
sandbox-pool4 $WORLD_CLIENTNET4
sandbox-pool6 $WORLD_CLIENTNET6
nfq enable
nfq-queues 0
log-dir $WORLD_DIR/aglog
run-dir $WORLD_DIR/agrun
policy-dir $WORLD_DIR/policies
CONF
mkdir -p "$WORLD_DIR/policies"
cat >"$WORLD_DIR/policies/t1.rules" <<POLICY
allow $WORLD_UP4 $WORLD_UP6 port 7 proto udp
allow echo.test port 7 proto udp
POLICY
agctl() { world_exec gw "$WORLD_CTL" --config "$conf" "$@"; }
tel=$WORLD_DIR/aglog/egress-nfq.jsonl

# udp HOST PORT N [SIZE]: N datagrams (of SIZE bytes) from one socket (one
# flow), each answered within 1 s, else exit 1; "refused" when an ICMP port
# unreachable came. PORT 0: one ICMP echo request instead.
cat >"$WORLD_DIR/udp.py" <<'PY'
import os, select, socket, struct, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 0
if port == 0:
    # One ICMP / ICMPv6 echo request (raw socket: root in the namespace);
    # exit 0 on the reply. The kernel sums ICMPv6 itself.
    v6 = ":" in host
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET,
                      socket.SOCK_RAW,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xffff
    body = struct.pack("!HH", ident, 1) + b"agentgate"
    req, rep = (128, 129) if v6 else (8, 0)
    pkt = struct.pack("!BBH", req, 0, 0) + body
    if not v6:
        b = pkt
        c = sum(struct.unpack("!%dH" % (len(b) // 2), b + b"\0" * (len(b) % 2)))
        c = (c >> 16) + (c & 0xffff)
        c = ~(c + (c >> 16)) & 0xffff
        pkt = struct.pack("!BBH", req, 0, c) + body
    s.sendto(pkt, (host, 0))
    end = time.time() + 1.0
    while time.time() < end:
        if not select.select([s], [], [], max(0, end - time.time()))[0]:
            break
        data, _ = s.recvfrom(2048)
        if not v6:
            data = data[(data[0] & 15) * 4:]
        if data[0] == rep and data[4:6] == struct.pack("!H", ident):
            print("pong")
            sys.exit(0)
    sys.exit(1)
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.settimeout(1.0)
s.connect((host, port))
t0 = time.time()
try:
    for i in range(n):
        msg = (b"ping%d" % i).ljust(size, b".")
        s.send(msg)
        if s.recv(65536) != msg:
            sys.exit(1)
except ConnectionRefusedError:
    print("refused %.2f" % (time.time() - t0))
    sys.exit(2)
except OSError:
    sys.exit(1)
print("echo %d" % n)
PY
udp() { world_exec c1 "$WORLD_PYTHON" "$WORLD_DIR/udp.py" "$@"; }
ping1() { udp "$1" 0 1; }
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
start_nfq()
{
	world_spawn gw nfq "$WORLD_NFQ" -v --config "$conf"
	world_wait "agentgate-nfq bound" grep -q "queues 0-0 bound" \
	    "$WORLD_LOG/nfq.log"
}

tap_check "gateway up with nfq enabled" agctl gateway up
tap_check "task t1 registered for c1" \
    agctl task add --id t1 --addr "$c4" --addr "$c6" --policy t1
start_nfq || tap_bail "agentgate-nfq did not start"
tap_check "daemon-started on the nfq stream" grep -q '"daemon-started"' "$tel"

tel_mark
tap_is "$(udp "$WORLD_UP4" 7 3)" "echo 3" \
    "allowed: UDP echo to $WORLD_UP4:7 (3 datagrams, one flow)"
tap_is "$(tel_count "\"ip\":\"$WORLD_UP4\"" '"outcome":"allowed"')" 1 \
    "one allowed telemetry line for that flow, naming the rule"
tap_check "the line names t1's rule" sh -c \
    "tail -n +$((mark + 1)) '$tel' | grep -F '\"ip\":\"$WORLD_UP4\"' | grep -q 't1.rules'"
tap_is "$(udp "$WORLD_UP6" 7 2)" "echo 2" "allowed: UDP echo to [$WORLD_UP6]:7"

# Over the path MTU (1500): sent as fragments, reassembled by conntrack
# before the rules, judged whole (the copy range holds its headers).
tap_is "$(udp "$WORLD_UP4" 7 1 4000)" "echo 1" \
    "a 4000-byte UDP datagram (IPv4 fragments) to the allowed address passes"
tap_is "$(udp "$WORLD_UP6" 7 1 4000)" "echo 1" \
    "a 4000-byte UDP datagram (IPv6 fragments) to the allowed address passes"
tap_check_not "a 4000-byte UDP datagram to evil does not" \
    udp "$WORLD_EVIL4" 7 1 4000

tel_mark
tap_check_not "denied: UDP to evil $WORLD_EVIL4:7 gets no answer" \
    udp "$WORLD_EVIL4" 7 1
tap_check_not "denied: UDP to evil [$WORLD_EVIL6]:7 gets no answer" \
    udp "$WORLD_EVIL6" 7 1
tap_check_not "denied: UDP to an allowed address on port 8" udp "$WORLD_UP4" 8 1
tap_is "$(tel_count "\"ip\":\"$WORLD_EVIL4\"" '"outcome":"denied"')" 1 \
    "one denied telemetry line for the evil IPv4 flow"
tap_is "$(tel_count "\"ip\":\"$WORLD_EVIL6\"" '"outcome":"denied"')" 1 \
    "one denied telemetry line for the evil IPv6 flow"
tap_check_not "ICMP echo upstream dropped" ping1 "$WORLD_UP4"
tap_check_not "ICMPv6 echo upstream dropped" ping1 "$WORLD_UP6"
tap_check_not "DNS to dnsmasq on 853 dropped" udp "$WORLD_DNS4" 853 1
tap_check "its line says why" sh -c \
    "tail -n +$((mark + 1)) '$tel' | grep -q 'dns-not-through-gateway'"

# The reject-by-mark rule `gateway up` puts before the queue rule: denied
# UDP handed back with the daemon's reject mark is refused at once.
out=$(udp "$WORLD_EVIL4" 7 1)
tap_ok "$([ "${out%% *}" = refused ] && echo 0 || echo 1)" \
    "by the reject rule, UDP to evil is refused ($out)"
out=$(udp "$WORLD_EVIL6" 7 1)
tap_ok "$([ "${out%% *}" = refused ] && echo 0 || echo 1)" \
    "by the reject rule, IPv6 UDP to evil is refused ($out)"

# Bindings from DNS answers: a stand-in for the forwarder on the gateway's
# dns-port answers echo.test with evil's address; with the forwarder's
# output queued (AGENTGATE-OUT, from `gateway up`), the answer teaches the
# daemon that echo.test is $WORLD_EVIL4 for t1, and the name rule then
# lets UDP port 7 there through.
cat >"$WORLD_DIR/fwd.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    qd_end = 12
    while q[qd_end] != 0:
        qd_end += 1 + q[qd_end]
    qd_end += 5
    a = socket.inet_aton(sys.argv[1])
    r = q[:2] + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0) + q[12:qd_end]
    r += struct.pack("!HHHIH", 0xc00c, 1, 1, 60, 4) + a
    s.sendto(r, peer)
PY
world_spawn gw fwd "$WORLD_PYTHON" "$WORLD_DIR/fwd.py" "$WORLD_EVIL4"
world_wait "stand-in forwarder" grep -q ready "$WORLD_LOG/fwd.log" ||
	tap_bail "stand-in forwarder did not start"
cat >"$WORLD_DIR/ask.py" <<'PY'
import socket, struct, sys
q = struct.pack("!HHHHHH", 0x4147, 0x0100, 1, 0, 0, 0)
for label in sys.argv[2].split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
s.sendto(q, (sys.argv[1], 53))
r = s.recv(512)
print(socket.inet_ntoa(r[-4:]))
PY
tap_is "$(world_exec c1 "$WORLD_PYTHON" "$WORLD_DIR/ask.py" \
    "$(world_client_gw c1 4)" echo.test)" "$WORLD_EVIL4" \
    "the forwarder's answer for echo.test reaches c1 through the queue"
tel_mark
tap_is "$(udp "$WORLD_EVIL4" 7 1)" "echo 1" \
    "bound by that answer: UDP to echo.test's address passes"
tap_is "$(tel_count '"domain":"echo.test"' '"outcome":"allowed"')" 1 \
    "its line names echo.test and the name rule"
world_stop fwd

# Fail closed: the queue has no bypass.
kill -KILL "$(world_pid nfq)"
world_wait "agentgate-nfq gone" sh -c "! kill -0 $(world_pid nfq)"
tap_check_not "daemon killed: allowed UDP no longer passes" udp "$WORLD_UP4" 7 1
tap_check_not "daemon killed: allowed IPv6 UDP no longer passes" udp "$WORLD_UP6" 7 1
start_nfq || tap_bail "agentgate-nfq did not restart"
tap_is "$(udp "$WORLD_UP4" 7 1)" "echo 1" "restarted: allowed UDP passes again"
tap_is "$(udp "$WORLD_UP6" 7 1)" "echo 1" "restarted: allowed IPv6 UDP passes again"

out=$(agctl gateway status)
tap_ok "$(grep -qE '^  queue 0: portid [1-9][0-9]*, queued [0-9]+, dropped \(queue full\) 0, user drops [0-9]+, id sequence [1-9][0-9]*$' <<<"$out"; echo $?)" \
    "gateway status shows queue 0 bound, with its counters"

kill -USR1 "$(world_pid nfq)"
world_wait "counters logged" grep -q "queue 0: packets [1-9]" "$WORLD_LOG/nfq.log"
tap_ok $? "SIGUSR1 logs the queue's counters"
world_stop nfq
tap_check "daemon-stopped on SIGTERM" sh -c "tail -n 3 '$tel' | grep -q daemon-stopped"
tap_done
