#!/bin/bash
# Ways out of an agentgate-run sandbox, each refused with the expected error:
# raw and packet sockets, ping past the gateway, changing links, addresses or
# the firewall, entering or making namespaces, mounts, another sandbox's
# service, every gateway port but DNS and the proxy's, the host's abstract
# Unix sockets, DNS to another resolver. Real gateway (rules, proxy). Root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require run proxy ctl -- iptables-restore ip6tables-restore ss dig ping nsenter unshare

world_up || tap_bail "world_up failed"
world_gateway "sandbox-pool4 198.18.200.0/22" "sandbox-pool6 fd00:a9:c8::/48" ||
	tap_bail "the gateway did not start"
cat >"$WORLD_POLICIES/esc.rules" <<RULES
allow allowed.test
allow $WORLD_UPNET4 $WORLD_UPNET6
RULES
tel=$WORLD_TELDIR/egress-proxy.jsonl
tel_has()
{
	local lines
	lines=$(cat "$tel")
	for s in "$@"; do
		lines=$(grep -F -- "$s" <<<"$lines")
	done
	[ -n "$lines" ]
}
tel_wait() { world_wait "telemetry: $*" tel_has "$@"; }

# sandbox ID CMD...: CMD in a sandbox (task esc-ID) under the esc policy.
sandbox()
{
	local id=$1
	shift
	world_exec gw "$WORLD_RUN" --config "$WORLD_CONF" --task "esc-$id" \
	    --policy esc --timeout 60s -- "$@"
}
# sh_in ID SCRIPT: a shell script in a sandbox, stdout and stderr together.
sh_in() { sandbox "$1" sh -c "$2" 2>&1; }

# The probes, in Python: each prints what happened, errno names included.
probe=$WORLD_DIR/probe.py
cat >"$probe" <<'PY'
import errno, os, resource, select, socket, sys, time

def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))

def sockets():
    # Raw IPv4 and IPv6, packet (link layer), and the obsolete SOCK_PACKET.
    for name, args in (("raw4", (socket.AF_INET, socket.SOCK_RAW, 1)),
                       ("raw6", (socket.AF_INET6, socket.SOCK_RAW, 58)),
                       ("packet", (socket.AF_PACKET, socket.SOCK_RAW, 0x0300)),
                       ("packet-dgram", (socket.AF_PACKET, socket.SOCK_DGRAM, 0x0300)),
                       ("sock-packet", (socket.AF_INET, 10, 0x0300))):
        try:
            socket.socket(*args).close()
            print(name, "opened")
        except OSError as e:
            print(name, ename(e))

def scan(host, first, last):
    # Non-blocking connects in batches: open (connected), closed (reset),
    # silent (no answer within the wait: dropped).
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    batch = max(64, min(4000, soft - 64))
    opened, closed, silent = [], 0, 0
    t0 = time.time()
    ports = list(range(first, last + 1))
    for i in range(0, len(ports), batch):
        pending = {}
        for p in ports[i:i + batch]:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((host, p))
            pending[s.fileno()] = (s, p)
        poll = select.poll()
        for fd in pending:
            poll.register(fd, select.POLLOUT)
        end = time.time() + 0.4
        done = set()
        while len(done) < len(pending) and time.time() < end:
            for fd, _ in poll.poll(max(1, int((end - time.time()) * 1000))):
                if fd in done:
                    continue
                done.add(fd)
                poll.unregister(fd)
                s, p = pending[fd]
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    opened.append(p)
                else:
                    closed += 1
        silent += len(pending) - len(done)
        for s, _ in pending.values():
            s.close()
    print("open", " ".join(map(str, sorted(opened))) or "none",
          "closed", closed, "silent", silent)
    print("seconds %.1f" % (time.time() - t0), file=sys.stderr)

def udp(host, ports):
    # One connected socket per port: an ICMP port unreachable would show as
    # ECONNREFUSED, an answer as data. Silence means dropped on the way.
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks = []
    for p in ports:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.connect((host, p))
        s.setblocking(False)
        s.send(b"agentgate-probe")
        socks.append((s, p))
    time.sleep(1.5)
    res = {}
    for s, p in socks:
        try:
            s.recv(100)
            r = "answer"
        except BlockingIOError:
            r = "silent"
        except OSError as e:
            r = ename(e)
        res.setdefault(r, []).append(p)
    for r in sorted(res):
        print(r, len(res[r]))

def tcp(host, port):
    try:
        s = socket.create_connection((host, port), timeout=3)
    except OSError as e:
        print("connect", ename(e))
        return
    # A whole request, so that whoever answers can answer at once.
    s.sendall(b"GET / HTTP/1.1\r\nHost: neighbour.test\r\n\r\n")
    try:
        print("got %r" % s.makefile("rb").readline().strip())
    except OSError as e:
        print("recv", ename(e))

def abstract(name):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect("\0" + name)
        print("got %r" % s.recv(100))
    except OSError as e:
        print("connect", ename(e))

def mount(src, dst, fstype=None):
    # The system call itself, not mount(8)'s reading of its error: a bind
    # mount, or a new mount of FSTYPE.
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    MS_BIND = 4096
    flags = 0 if fstype else MS_BIND
    if libc.mount(src.encode(), dst.encode(),
                  fstype.encode() if fstype else None, flags, None) == 0:
        print("mount done")
    else:
        print("mount", errno.errorcode[ctypes.get_errno()])

cmd = sys.argv[1]
if cmd == "sockets":
    sockets()
elif cmd == "scan":
    scan(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
elif cmd == "udp":
    ports = []
    for a in sys.argv[3:]:
        lo, _, hi = a.partition("-")
        ports += range(int(lo), int(hi or lo) + 1)
    udp(sys.argv[2], ports)
elif cmd == "tcp":
    tcp(sys.argv[2], int(sys.argv[3]))
elif cmd == "mount":
    mount(*sys.argv[2:5])
elif cmd == "abstract":
    abstract(sys.argv[2])
PY
probe() { sandbox "$1" "$WORLD_PYTHON" "$probe" "${@:2}" 2>&1; }

# The gateway side of a sandbox's link: its default routes.
out=$(sh_in view 'ip -4 route show default; ip -6 route show default')
gw4=$(sed -n 's/^default via \([0-9.]*\) .*/\1/p' <<<"$out")
gw6=$(sed -n 's/^default via \([0-9a-f:]*\) .*/\1/p' <<<"$out")
[ -n "$gw4" ] && [ -n "$gw6" ] || tap_bail "no default routes inside: $out"
# Slots are random: every sandbox's gateway side is .1 of its /30, so the
# checks below use each sandbox's own (read inside, as $gw).
route4='$(ip -4 route show default | cut -d" " -f3)'
route6='$(ip -6 route show default | cut -d" " -f3)'

# --- sockets and ping ---------------------------------------------------------
tap_is "$(probe sockets sockets | tr '\n' ' ')" \
    "raw4 EPERM raw6 EPERM packet EPERM packet-dgram EPERM sock-packet EPERM " \
    "raw, packet and SOCK_PACKET sockets: EPERM (seccomp)"
# The system's ping carries cap_net_raw=ep; without the capability to
# grant, the kernel refuses to execute it at all.
tap_is "$(sh_in ping0 'ping -c1 -W1 '"$route4"'; echo "status $?"' | tr '\n' ' ')" \
    "sh: 1: ping: Operation not permitted status 126 " \
    "the system's ping (file capability cap_net_raw) cannot be executed: EPERM, 126"
# A copy without the file capability uses an ICMP datagram socket, which
# the launcher allows in the sandbox's namespace (ping_group_range).
cp /usr/bin/ping "$WORLD_DIR/ping" && chmod 755 "$WORLD_DIR/ping"
ping1() { echo "$WORLD_DIR/ping -n -c1 -W1 $1 >/dev/null 2>&1; echo \$?"; }
tap_is "$(sh_in ping1 "$(ping1 "$route4"); $(ping1 "-6 $route6")" | tr '\n' ' ')" "0 0 " \
    "ping (ICMP datagram socket) to the gateway answers, IPv4 and IPv6"
tap_is "$(sh_in ping2 "$(ping1 "$WORLD_UP4"); $(ping1 "-6 $WORLD_UP6"); $(ping1 "$WORLD_DNS4")" |
    tr '\n' ' ')" "1 1 1 " \
    "ping to upstream hosts gets no answer (dropped at the gateway; nfq disabled)"
tap_is "$(sh_in ping3 "$WORLD_DIR/ping -n -c1 -W1 $WORLD_UP4 2>&1 | grep -o '1 packets transmitted, 0 received'")" \
    "1 packets transmitted, 0 received" "... one sent, none received"

# --- links, addresses, firewall, namespaces, mounts ----------------------------
tap_is "$(sh_in link 'ip link set lo down; echo "status $?"' | tr '\n' ' ')" \
    "RTNETLINK answers: Operation not permitted status 2 " \
    "ip link set lo down: EPERM"
tap_is "$(sh_in addr 'ip addr add 198.18.250.1/32 dev eth0; echo "status $?"' | tr '\n' ' ')" \
    "RTNETLINK answers: Operation not permitted status 2 " \
    "ip addr add: EPERM"
tap_is "$(sh_in route 'ip route add 198.19.9.0/24 dev eth0; echo "status $?"' | tr '\n' ' ')" \
    "RTNETLINK answers: Operation not permitted status 2 " \
    "ip route add: EPERM"
tap_is "$(sh_in ipt 'PATH=/usr/sbin:/sbin:$PATH iptables -F; echo "status $?"' | tr '\n' ' ')" \
    "iptables: Failed to initialize nft: Operation not permitted status 1 " \
    "iptables -F: netfilter netlink refused (EPERM)"
tap_is "$(sh_in ipt6 'PATH=/usr/sbin:/sbin:$PATH ip6tables -F; echo "status $?"' | tr '\n' ' ')" \
    "ip6tables: Failed to initialize nft: Operation not permitted status 1 " \
    "ip6tables -F: the same"
tap_is "$(sh_in nsenter1 'nsenter -t 1 -n true; echo "status $?"' | tr '\n' ' ')" \
    "nsenter: cannot open /proc/1/ns/net: Permission denied status 1 " \
    "nsenter -t 1 -n: pid 1 is the sandbox's init, whose namespaces cannot be opened"
tap_is "$(sh_in nsenter2 'nsenter --net=/proc/self/ns/net true; echo "status $?"' | tr '\n' ' ')" \
    "nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted status 1 " \
    "nsenter --net with a namespace file it can open: setns EPERM"
tap_is "$(sh_in unshare 'unshare -n true; echo "status $?"' | tr '\n' ' ')" \
    "unshare: unshare failed: Operation not permitted status 1 " \
    "unshare -n: EPERM"
tap_is "$(sh_in unshare2 'unshare -U -r -n true; echo "status $?"' | tr '\n' ' ')" \
    "unshare: unshare failed: Operation not permitted status 1 " \
    "unshare -U -r -n (a user namespace first): EPERM"
tap_is "$(sh_in mountproc 'mount -t proc proc /mnt 2>&1 | head -n 1; echo "status $?"' | tr '\n' ' ')" \
    "mount: /mnt: permission denied. status 0 " \
    "mount -t proc: permission denied"
tap_is "$(sh_in mounttmp 'mount -t tmpfs none /etc 2>&1 | head -n 1' | tr '\n' ' ')" \
    "mount: /etc: permission denied. " \
    "a tmpfs over /etc (to replace resolv.conf): permission denied"
echo "nameserver $WORLD_DNS4" >"$WORLD_DIR/resolv.evil"
tap_is "$(sh_in mountbind "mount --bind $WORLD_DIR/resolv.evil /etc/resolv.conf >/dev/null 2>&1
    echo \"status \$?\"; [ \"\$(cat /etc/resolv.conf)\" = \"nameserver $route4\" ] && echo kept" |
    tr '\n' ' ')" "status 32 kept " \
    "mount --bind over /etc/resolv.conf fails; it still names the gateway"
tap_is "$(probe mountsys mount "$WORLD_DIR/resolv.evil" /etc/resolv.conf)" "mount EPERM" \
    "mount(2) MS_BIND over /etc/resolv.conf itself: EPERM"
tap_is "$(probe mountsys2 mount none /etc/resolv.conf tmpfs)" "mount EPERM" \
    "mount(2) of a tmpfs on /etc/resolv.conf: EPERM (mount(8) says 'not a directory' first)"
tap_is "$(probe mountsys3 mount proc /mnt proc)" "mount EPERM" \
    "mount(2) of a proc: EPERM"
tap_is "$(sh_in resolvw 'echo "nameserver '"$WORLD_DNS4"'" >/etc/resolv.conf; echo "status $?"' | tr '\n' ' ')" \
    "sh: 1: cannot create /etc/resolv.conf: Read-only file system status 2 " \
    "writing /etc/resolv.conf: read-only"

# --- another sandbox ------------------------------------------------------------
# Sandbox A serves TCP and UDP port 2222 and logs every connection it
# accepts; sandbox B tries to reach it.
peer=$WORLD_DIR/peer
mkdir -p "$peer"
ip netns exec "$WORLD_NS_GW" "$WORLD_RUN" --config "$WORLD_CONF" --task esc-peer \
    --policy esc --timeout 60s -- "$WORLD_PYTHON" -c '
import os, socket, subprocess, sys, threading
d = sys.argv[1]
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", 2222)); t.listen(8)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 2222))
def udp():
    while True:
        _, p = u.recvfrom(100); u.sendto(b"peer-udp", p)
        open(d + "/log", "a").write("udp %s\n" % p[0])
threading.Thread(target=udp, daemon=True).start()
addr = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", "eth0"],
    capture_output=True, text=True).stdout.split()[3].split("/")[0]
open(d + "/addr.tmp", "w").write(addr); os.rename(d + "/addr.tmp", d + "/addr")
while True:
    c, p = t.accept(); c.sendall(b"peer-service\n"); c.close()
    open(d + "/log", "a").write("tcp %s\n" % p[0])' "$peer" \
    >"$WORLD_LOG/peer.log" 2>&1 &
echo $! >"$WORLD_DIR/pid/peer.pid"
world_wait "the peer sandbox's service" test -s "$peer/addr" ||
	tap_bail "the peer sandbox did not start"
other=$(cat "$peer/addr")
tap_is "$(probe neighbour tcp "$other" 2222)" "got b'HTTP/1.1 403 Forbidden'" \
    "TCP to another sandbox ($other:2222) lands on the proxy, which refuses it"
tap_check "... the proxy's denial names the other sandbox's address" \
    tel_wait "\"requested\":{\"ip\":\"$other\",\"port\":2222}" '"outcome":"denied"'
tap_is "$(probe neighbour-udp udp "$other" 2222)" "silent 1" \
    "UDP to another sandbox: no answer, no error (dropped)"
tap_is "$(sh_in neighbour-ping "$(ping1 "$other")")" 1 "ping to another sandbox: no answer"
tap_is "$(cat "$peer/log" 2>/dev/null)" "" "the other sandbox's service saw nothing"
tap_is "$(probe neighbour-self tcp 127.0.0.1 2222)" "connect ECONNREFUSED" \
    "(its loopback is its own: nothing listens on 2222 in the probing sandbox)"
world_stop peer

# --- the gateway's ports -----------------------------------------------------------
# A service on the gateway that the sandbox must not reach: TCP and UDP 7777.
world_spawn gw gwsvc "$WORLD_PYTHON" -c '
import socket, threading
def udp(fam, addr):
    u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((addr, 7777))
    while True:
        _, p = u.recvfrom(100); u.sendto(b"gw-udp", p)
t = socket.socket(socket.AF_INET6); t.bind(("::", 7777)); t.listen(8)
threading.Thread(target=udp, args=(socket.AF_INET, "0.0.0.0"), daemon=True).start()
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
u6.bind(("::", 7777))
threading.Thread(target=lambda: [u6.sendto(b"gw-udp", u6.recvfrom(100)[1]) for _ in iter(int, 1)], daemon=True).start()
print("ready", flush=True)
while True:
    c, _ = t.accept(); c.sendall(b"gw-tcp\n"); c.close()'
world_wait "the gateway's own service" grep -q ready "$WORLD_LOG/gwsvc.log" ||
	tap_bail "the gateway's service did not start"
tap_is "$(world_exec gw "$WORLD_PYTHON" "$probe" udp "$WORLD_GW_UP4" 7777)" "answer 1" \
    "(the gateway's UDP service answers inside the gateway)"
tap_check "(and its TCP service)" world_tcp_open gw "$WORLD_GW_UP4" 7777

# Every TCP port of the gateway's side of the link: only DNS and the proxy.
ports=$(sed -n 's/^\(proxy-port\|proxy-explicit-port\|dns-port\) //p' "$WORLD_CONF" |
    sort -n | tr '\n' ' ')
want="open 53 ${ports% } closed 0 silent $((65535 - 4))"
t0=$(date +%s)
out=$(sandbox scan4 sh -c "exec $WORLD_PYTHON $probe scan $route4 1 65535" 2>>"$WORLD_LOG/scan.log")
tap_is "$out" "$want" "TCP scan of the gateway (IPv4, 1-65535): only 53 and ${ports% }"
out=$(sandbox scan6 sh -c "exec $WORLD_PYTHON $probe scan $route6 1 65535" 2>>"$WORLD_LOG/scan.log")
tap_is "$out" "$want" "TCP scan of the gateway (IPv6, 1-65535): the same"
tap_diag "two full scans took $(($(date +%s) - t0)) s (the gateway drops: each batch waits)"
# UDP: the forwarder on 53 (and dns-port) only; nothing else answers or
# even sends an ICMP error, so the packets never reached a socket.
dnsport=$(sed -n 's/^dns-port //p' "$WORLD_CONF")
tap_is "$(sandbox udp4 sh -c "exec $WORLD_PYTHON $probe udp $route4 1-52 54-1024 3128 3129 7777 8080 $((dnsport + 1))" 2>&1)" \
    "silent 1028" "UDP to 1028 other gateway ports (IPv4, 7777 has a service): all silent"
tap_is "$(sandbox udp6 sh -c "exec $WORLD_PYTHON $probe udp $route6 1-52 54-1024 7777" 2>&1)" \
    "silent 1024" "UDP to 1024 other gateway ports (IPv6): all silent"
tap_is "$(sandbox dns-gw sh -c "dig +time=1 +tries=2 +short @$route4 allowed.test; dig +time=1 +tries=2 +short -p $dnsport @$route4 allowed.test" 2>&1 | tr '\n' ' ')" \
    "$WORLD_UP4 $WORLD_UP4 " "(UDP DNS to the gateway, on 53 and on dns-port, is answered)"

# --- the host's abstract Unix sockets ------------------------------------------------
# Made in the host's own namespace (not the gateway's), named per run.
abs=agentgate-escape-$$
"$WORLD_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind("\0" + sys.argv[1]); s.listen(4)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"host-socket"); c.close()' "$abs" \
    >"$WORLD_LOG/hostabs.log" 2>&1 </dev/null &
echo $! >"$WORLD_DIR/pid/hostabs.pid"
world_wait "the host's abstract socket" grep -q ready "$WORLD_LOG/hostabs.log"
tap_is "$("$WORLD_PYTHON" "$probe" abstract "$abs")" "got b'host-socket'" \
    "(the host's abstract socket answers on the host)"
tap_is "$(probe abstract abstract "$abs")" "connect ECONNREFUSED" \
    "the host's abstract Unix socket from the sandbox: ECONNREFUSED"
world_stop hostabs

# --- DNS to any resolver but the gateway ------------------------------------------------
dnsq() { sandbox "$1" dig +time=1 +tries=1 "${@:2}" 2>&1; }
status() { sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
world_dns_mark
tap_is "$(dnsq dns1 "@$WORLD_DNS4" other.test | status)" REFUSED \
    "dig @upstream-dns other.test: REFUSED (the gateway's forwarder answered)"
tap_is "$(dnsq dns2 +tcp "@$WORLD_DNS4" other.test | status)" REFUSED \
    "dig +tcp @upstream-dns other.test: REFUSED"
tap_is "$(dnsq dns3 "@$WORLD_DNS6" other.test | status)" REFUSED \
    "dig @upstream-dns over IPv6: REFUSED"
tap_is "$(dnsq dns4 "@$WORLD_EVIL4" other.test | status)" REFUSED \
    "dig @any-address other.test: REFUSED (every port 53 is the forwarder)"
tap_check_not "the upstream resolver never saw other.test" world_dns_asked other.test
tap_is "$(dnsq dns5 +short "@$WORLD_DNS4" allowed.test)" "$WORLD_UP4" \
    "dig @upstream-dns allowed.test: answered"
tap_is "$(world_dns_log | grep ' allowed\.test from ' | sed 's/.* from //' | sort -u)" \
    "$WORLD_GW_UP4" "... but the upstream resolver was asked by the gateway, not the sandbox"
tap_is "$(dnsq dns6 -p 5353 "@$WORLD_DNS4" allowed.test | grep -c 'timed out')" 1 \
    "DNS to upstream-dns on another UDP port (5353): no answer (dropped)"
out=$(dnsq dns7 +tls "@$WORLD_DNS4" allowed.test)
tap_ok "$(! grep -q 'status: NOERROR' <<<"$out"; echo $?)" \
    "DNS over TLS (TCP 853) to upstream-dns: no answer"
tap_check "... the proxy refused it: no name, and 198.19.0.53:853 is no allowed port" \
    tel_wait "\"requested\":{\"ip\":\"$WORLD_DNS4\",\"port\":853}" '"outcome":"denied"'

tap_check "the proxy's telemetry chain verifies" \
    "$WORLD_CTL" --log-dir "$WORLD_TELDIR" log verify
world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" gateway down >/dev/null
tap_done
