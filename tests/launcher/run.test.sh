#!/bin/bash
# agentgate-run in the test world's gateway namespace: the command runs in a
# sandbox with only lo and one veth, its DNS and TCP go to the gateway, it
# cannot open raw sockets or make namespaces, its exit status and signals
# pass through, and nothing of it is left afterwards. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require run ctl -- iptables-restore ip6tables-restore

world_up || tap_bail "world_up failed"

# Pools of their own: the world makes no client here, so nothing else in
# the gateway uses 198.18.200.0/22 or fd00:a9:c8::/48.
rundir=$WORLD_DIR/run
conf=$WORLD_DIR/agentgate.conf
cat >"$conf" <<EOF
run-dir $rundir
policy-dir $WORLD_DIR/policies
log-dir $WORLD_DIR/log/telemetry
sandbox-pool4 198.18.200.0/22
sandbox-pool6 fd00:a9:c8::/48
proxy-port 3129
proxy-explicit-port 3128
dns-port 5353
EOF
mkdir -p "$WORLD_DIR/policies"
printf 'allow allowed.test\n' >"$WORLD_DIR/policies/ci.rules"
out=$(world_exec gw "$WORLD_RUN" --config "$conf" --task t-nogw --allow allowed.test -- true 2>&1)
tap_is "$?: $out" \
    "125: agentgate-run: the gateway is not up (IPv4 nat AGENTGATE-PRE is missing; run agentgatectl gateway up)" \
    "no gateway rules: 125, nothing run (fail closed)"
tap_ok "$([ -z "$(ls -A "$rundir/tasks" "$rundir/policies" 2>/dev/null | grep -v -e '^\.lock$' -e ':$' -e '^$')" ]; echo $?)" \
    "the refused task left no task file and no policy"
world_exec gw "$WORLD_CTL" --config "$conf" gateway up >/dev/null ||
	tap_bail "gateway up failed"

# A stand-in for the proxy's transparent listener: answers the first line.
cat >"$WORLD_DIR/proxy.py" <<'EOF'
import socket, threading
def serve(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, 3129)); s.listen(64)
    while True:
        c, _ = s.accept()
        line = c.makefile("rb").readline().decode().strip()
        c.sendall(("proxy-got %s\n" % line).encode()); c.close()
threading.Thread(target=serve, args=(socket.AF_INET6, "::"), daemon=True).start()
print("ready", flush=True)
serve(socket.AF_INET, "0.0.0.0")
EOF
world_spawn gw proxy "$WORLD_PYTHON" "$WORLD_DIR/proxy.py"
world_wait "proxy stand-in" grep -q ready "$WORLD_LOG/proxy.log" ||
	tap_bail "the proxy stand-in did not start"

# The client inside: connect, send a line, print the answer.
cat >"$WORLD_DIR/tcp.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(b"hello from the sandbox\n")
sys.stdout.write(s.makefile().readline())
EOF

# sandbox ARGS...: agentgate-run in the gateway namespace.
sandbox() { world_exec gw "$WORLD_RUN" --config "$conf" "$@"; }

# What a run may leave behind: the gateway's links, task files, inline
# policies, sandbox files, launcher processes.
leftovers()
{
	world_exec gw ip -o link | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
	# .lock is the registry writers' lock, made once and kept.
	ls -A "$rundir/tasks" "$rundir/policies" "$rundir/sandbox" 2>/dev/null |
	    grep -vx '\.lock'
	# Launchers in this world's gateway only: parallel runs do not count.
	for pid in $(ip netns pids "$WORLD_NS_GW"); do
		cat "/proc/$pid/comm" 2>/dev/null
	done | grep -c '^agentgate-run$'
}
mkdir -p "$rundir/tasks" "$rundir/policies" "$rundir/sandbox"
before=$(leftovers)

# --- exit status ----------------------------------------------------------
sandbox --allow allowed.test -- true 2>/dev/null
tap_is "$?" 0 "exit status 0 passes through"
sandbox --allow allowed.test -- sh -c 'exit 3' 2>/dev/null
tap_is "$?" 3 "exit status 3 passes through"
sandbox --allow allowed.test -- sh -c 'kill -9 $$' 2>/dev/null
tap_is "$?" 137 "a command killed by SIGKILL: 128+9"
out=$(sandbox --allow allowed.test -- no-such-command-here 2>&1)
tap_is "$?: $(tail -n 1 <<<"$out")" \
    "127: agentgate-run: no-such-command-here: No such file or directory" \
    "a missing command: 127 and a one-line reason"
out=$(sandbox --allow allowed.test -- "$WORLD_DIR/agentgate.conf" 2>&1)
tap_is "$?" 126 "a command that cannot be executed: 126"
out=$(sandbox --policy no-such-policy -- true 2>&1)
tap_ok "$([ $? -eq 125 ] && grep -q 'no-such-policy' <<<"$out"; echo $?)" \
    "a missing named policy: 125, nothing run"
out=$(sandbox --allow 'bad target' -- true 2>&1)
tap_is "$?: $out" "125: agentgate-run: bad target 'bad target'" \
    "a target with a blank is refused (125)"
out=$(sandbox --task t-named --policy ci -- sh -c 'echo ran' 2>&1)
tap_is "$?: $out" "0: ran" "a named policy: runs, no task id printed when given"
out=$(sandbox --allow allowed.test -- true 2>&1)
tap_ok "$(grep -qE '^agentgate-run: task run-[0-9a-f]{12}$' <<<"$out"; echo $?)" \
    "a generated task id is printed on stderr"

out=$(FOO=old BAZ=kept sandbox --task t-env --env FOO=a --env BAR=b --env FOO=c \
    --allow allowed.test -- sh -c 'echo "$FOO $BAR $BAZ"' 2>&1)
tap_is "$out" "c b kept" "--env sets and replaces variables (the last one wins)"
out=$(sandbox --task t-clear --clear-env --env ONLY=1 --allow allowed.test -- /usr/bin/env 2>&1)
tap_is "$out" "ONLY=1" "--clear-env: only the --env variables"

out=$(sandbox --task t-user --user nobody --cwd /tmp --allow allowed.test -- \
    sh -c 'echo "$(id -u):$(id -g) $(pwd)"; grep "^CapBnd" /proc/self/status | tr -s "\t" " "' 2>&1)
tap_is "$(tr '\n' ' ' <<<"$out")" "$(id -u nobody):$(id -g nobody) /tmp CapBnd: 0000000000000000 " \
    "--user and --cwd: the command runs as that user, there, without capabilities"
out=$(sandbox --task t-nocwd --cwd /no/such/dir --allow allowed.test -- true 2>&1)
tap_is "$?: $out" "125: agentgate-run: --cwd /no/such/dir: No such file or directory" \
    "a missing --cwd: 125 and a one-line reason"
out=$(sandbox --task t-nouser --user no-such-user-here --allow allowed.test -- true 2>&1)
tap_is "$?: $out" "125: agentgate-run: no such user 'no-such-user-here'" \
    "an unknown --user: 125 and a one-line reason"

out=$(sandbox --allow '*foo.test' -- true 2>&1)
tap_ok "$([ $? -eq 125 ] && grep -q 'the inline policy is invalid' <<<"$out"; echo $?)" \
    "an inline target the policy parser refuses: 125, nothing run"

# A pool with room for one task: the second is refused while the first runs.
sed 's|^sandbox-pool4 .*|sandbox-pool4 198.18.204.0/30|' "$conf" >"$conf.one"
ip netns exec "$WORLD_NS_GW" "$WORLD_RUN" --config "$conf.one" --task t-one \
    --allow allowed.test -- sleep 3 2>/dev/null &
one=$!
world_wait "task t-one registered" test -e "$rundir/tasks/t-one.json"
out=$(world_exec gw "$WORLD_RUN" --config "$conf.one" --task t-two --allow allowed.test -- true 2>&1)
tap_is "$?: $out" \
    "125: agentgate-run: the sandbox pools are exhausted (sandbox-pool4, sandbox-pool6)" \
    "pool exhausted: 125 and a one-line reason"
tap_ok "$([ ! -e "$rundir/tasks/t-two.json" ] && [ ! -e "$rundir/policies/t-two.rules" ]; echo $?)" \
    "the refused task left no task file and no policy"
kill -TERM "$one"
wait "$one"

# --- the sandbox's view ---------------------------------------------------
out=$(sandbox --task t-view --trace-id 4bf92f35 --allow allowed.test -- sh -c '
	cat /etc/resolv.conf
	ip -4 route show default
	ip -o link | awk -F": " "{ sub(/@.*/, \"\", \$2); print \$2 }" | tr "\n" " "; echo
	hostname
	grep "^CapBnd\|^CapEff\|^CapPrm\|^NoNewPrivs\|^Seccomp:" /proc/self/status | tr -s "\t" " "
	cat '"$rundir"'/tasks/t-view.json; echo
	ip -o -4 addr show dev eth0' 2>&1)
gw4=$(sed -n 's/^default via \([0-9.]*\) .*/\1/p' <<<"$out")
tap_ok "$([[ "$gw4" =~ ^198\.18\.20[0-3]\.[0-9]+$ ]]; echo $?)" \
    "a default route via the gateway side, from the pool ($gw4)"
tap_is "$(head -n 1 <<<"$out")" "nameserver $gw4" \
    "/etc/resolv.conf inside names the gateway side"
tap_is "$(sed -n 3p <<<"$out")" "lo eth0 " "only lo and one veth inside"
tap_is "$(sed -n 4p <<<"$out")" "t-view" "the hostname is the task id"
tap_is "$(sed -n 5,9p <<<"$out" | tr '\n' ' ')" \
    "CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 " \
    "no capabilities, no_new_privs, a seccomp filter"
sb4=$(sed -n 's/.* inet \([0-9.]*\)\/30 .*/\1/p' <<<"$out")
tap_ok "$(grep -q "\"id\":\"t-view\",\"addresses\":\[\"$sb4\",\"fd00:a9:c8::" <<<"$out" &&
    grep -q '"trace_id":"4bf92f35"' <<<"$out"; echo $?)" \
    "the task is registered with the sandbox's addresses and trace id while it runs"
tap_ok "$([ ! -e "$rundir/tasks/t-view.json" ]; echo $?)" "and unregistered after"

# --- what the command may not do ------------------------------------------
out=$(sandbox --task t-raw --allow allowed.test -- "$WORLD_PYTHON" -c '
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)
    print("raw socket opened")
except PermissionError:
    print("PermissionError")' 2>&1)
tap_is "$out" "PermissionError" "a raw socket cannot be opened inside"
out=$(sandbox --task t-packet --allow allowed.test -- "$WORLD_PYTHON" -c '
import socket
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    print("packet socket opened")
except PermissionError:
    print("PermissionError")' 2>&1)
tap_is "$out" "PermissionError" "a packet socket cannot be opened inside"
tap_check_not "unshare -n true fails inside" sandbox --allow allowed.test -- unshare -n true
tap_check_not "ip link add fails inside" \
    sandbox --allow allowed.test -- ip link add dummy0 type dummy
tap_check_not "mounting a tmpfs fails inside" \
    sandbox --allow allowed.test -- mount -t tmpfs none /mnt

tap_check_not "nsenter -t 1 -n fails inside" \
    sandbox --allow allowed.test -- nsenter -t 1 -n true
tap_check_not "iptables -F fails inside" \
    sandbox --allow allowed.test -- env PATH=/usr/sbin:/sbin:/usr/bin:/bin iptables -F

# An abstract Unix socket of the gateway's namespace is not there inside.
world_spawn gw abstract "$WORLD_PYTHON" -c '
import socket
s = socket.socket(socket.AF_UNIX); s.bind("\0agentgate-test-'"$$"'"); s.listen(1)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"host-socket\n"); c.close()'
world_wait "abstract socket in gw" grep -q ready "$WORLD_LOG/abstract.log"
tap_is "$(world_exec gw "$WORLD_PYTHON" -c '
import socket
s = socket.socket(socket.AF_UNIX); s.connect("\0agentgate-test-'"$$"'")
print(s.recv(100).decode().strip())' 2>&1)" "host-socket" \
    "(the gateway's own abstract socket answers in its namespace)"
out=$(sandbox --task t-abstract --allow allowed.test -- "$WORLD_PYTHON" -c '
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\0agentgate-test-'"$$"'"); print("connected")
except ConnectionRefusedError:
    print("refused")' 2>&1)
tap_is "$out" "refused" "the gateway's abstract Unix socket cannot be reached inside"

# --- traffic goes to the gateway -------------------------------------------
out=$(sandbox --task t-tcp4 --allow allowed.test -- "$WORLD_PYTHON" "$WORLD_DIR/tcp.py" "$WORLD_UP4" 443 2>&1)
tap_is "$out" "proxy-got hello from the sandbox" \
    "TCP to upstream (IPv4) reaches the gateway's proxy port (REDIRECT)"
out=$(sandbox --task t-tcp6 --allow allowed.test -- "$WORLD_PYTHON" "$WORLD_DIR/tcp.py" "$WORLD_UP6" 443 2>&1)
tap_is "$out" "proxy-got hello from the sandbox" \
    "TCP to upstream (IPv6) reaches the gateway's proxy port (REDIRECT)"

# Another sandbox's service: TCP to it lands on the proxy, UDP is dropped.
ip netns exec "$WORLD_NS_GW" "$WORLD_RUN" --config "$conf" --task t-server \
    --allow allowed.test -- "$WORLD_PYTHON" -c '
import socket, subprocess, threading
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", 2222)); t.listen(8)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 2222))
def udp():
    while True:
        _, p = u.recvfrom(100); u.sendto(b"sandbox-udp", p)
threading.Thread(target=udp, daemon=True).start()
addr = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", "eth0"],
    capture_output=True, text=True).stdout.split()[3].split("/")[0]
open("'"$WORLD_DIR"'/server-addr.tmp", "w").write(addr)
import os; os.rename("'"$WORLD_DIR"'/server-addr.tmp", "'"$WORLD_DIR"'/server-addr")
for _ in range(2):
    c, _ = t.accept(); c.sendall(b"sandbox-service\n"); c.close()' 2>/dev/null &
server=$!
world_wait "the other sandbox's service" test -s "$WORLD_DIR/server-addr"
other=$(cat "$WORLD_DIR/server-addr")
out=$(sandbox --task t-neighbour --allow allowed.test -- "$WORLD_PYTHON" "$WORLD_DIR/tcp.py" "$other" 2222 2>&1)
tap_is "$out" "proxy-got hello from the sandbox" \
    "TCP to another sandbox ($other) lands on the proxy, not on its service"
out=$(sandbox --task t-neighbour-udp --allow allowed.test -- "$WORLD_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5)
s.sendto(b"x", (sys.argv[1], 2222))
try:
    print(s.recv(100).decode())
except socket.timeout:
    print("no answer")' "$other" 2>&1)
tap_is "$out" "no answer" "UDP to another sandbox gets no answer"
kill -TERM "$server"
wait "$server"

# --- while it runs, signals, timeout ----------------------------------------
# Not through a shell function: $! must be the launcher itself.
ip netns exec "$WORLD_NS_GW" "$WORLD_RUN" --config "$conf" --task t-live \
    --allow allowed.test -- sh -c 'trap "exit 7" TERM; sleep 10 & wait' &
live=$!
world_wait "task t-live registered" test -e "$rundir/tasks/t-live.json"
tap_ok "$([ -s "$rundir/policies/t-live.rules" ]; echo $?)" \
    "the inline policy is written under RUN_DIR/policies while the task runs"
ifname=$(world_exec gw ip -o link | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^agr' | head -n 1)
tap_is "$(world_exec gw cat "/proc/sys/net/ipv4/conf/$ifname/rp_filter" 2>&1)" 1 \
    "strict rp_filter on the gateway side ($ifname)"
sleep 0.3
kill -TERM "$live"
wait "$live"
tap_is "$?" 7 "SIGTERM to the launcher reaches the command (it exits 7)"
# ^C on a terminal: the command gets SIGINT once (from the terminal), not
# again through the launcher and the init.
cat >"$WORLD_DIR/terminal.py" <<'EOF'
import os, pty, re, select, sys, time
# The terminal echoes ^C wherever it falls: look for the line's words.
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out, sent, end = b"", False, time.time() + 10
while time.time() < end:
    if select.select([fd], [], [], 0.1)[0]:
        try:
            d = os.read(fd, 1000)
        except OSError:
            break
        if not d:
            break
        out += d
    if b"ready" in out and not sent:
        os.write(fd, b"\x03")
        sent = True
os.waitpid(pid, 0)
print(" ".join(re.findall(r"SIGINT x[0-9]+", out.decode(errors="replace"))))
EOF
out=$("$WORLD_PYTHON" "$WORLD_DIR/terminal.py" ip netns exec "$WORLD_NS_GW" "$WORLD_RUN" \
    --config "$conf" --task t-tty --allow allowed.test -- "$WORLD_PYTHON" -c '
import signal, time
n = 0
def count(s, f):
    global n
    n += 1
signal.signal(signal.SIGINT, count)
print("ready", flush=True)
time.sleep(1)
print("SIGINT x%d" % n, flush=True)' 2>&1)
tap_is "$out" "SIGINT x1" "^C on a terminal reaches the command once"
out=$(sandbox --timeout 500ms --allow allowed.test -- sleep 10 2>&1)
tap_ok "$([ $? -eq 124 ] && grep -q 'timed out after 500 ms$' <<<"$out"; echo $?)" \
    "--timeout kills the sandbox: 124 and a one-line reason"
out=$(sandbox --task t-orphan --allow allowed.test -- sh -c "sleep 31.$$ & echo started" 2>&1)
tap_is "$?:$out" "0:started" "a command that leaves a background process: its status"

# --- 20 at once -------------------------------------------------------------
mkdir -p "$WORLD_DIR/many"
pids=""
for i in $(seq 20); do
	sandbox --task "t-many-$i" --allow allowed.test -- sh -c \
	    'ip -o -4 addr show dev eth0 | sed "s/.* inet \([0-9.]*\)\/.*/\1/"; sleep 1' \
	    >"$WORLD_DIR/many/$i.out" 2>"$WORLD_DIR/many/$i.err" &
	pids="$pids $!"
done
fails=0
for job in $pids; do
	wait "$job" || fails=$((fails + 1))
done
tap_is "$fails" 0 "20 concurrent tasks all exit 0"
tap_is "$(cat "$WORLD_DIR"/many/*.out | sort -u | grep -c '^198\.18\.20[0-3]\.')" 20 \
    "20 concurrent tasks get 20 distinct addresses from the pool"

# --- telemetry ---------------------------------------------------------------
tel=$WORLD_DIR/log/telemetry/egress-run.jsonl
tap_ok "$(grep '"action":"task-ended"' "$tel" | grep '"task":{"id":"t-many-' |
    grep -c '"exit_code":0' | grep -qx 20; echo $?)" \
    "20 task-ended events with exit code 0 for the concurrent tasks"
line=$(grep '"action":"task-started"' "$tel" | grep '"task":{"id":"t-view"[,}]')
tap_ok "$(grep -q "\"source\":{\"ip\":\"$sb4\"}" <<<"$line" &&
    grep -q '"name":"agentgate-run"' <<<"$line" &&
    grep -q '"trace":{"id":"4bf92f35"}' <<<"$line"; echo $?)" \
    "task-started names the task, its address, the launcher and the trace id"
line=$(grep '"action":"task-ended"' "$tel" | grep '"task":{"id":"t-live"[,}]')
tap_ok "$(grep -q '"exit_code":7' <<<"$line" && grep -q '"duration":[0-9]' <<<"$line"; echo $?)" \
    "task-ended carries the exit code and the duration"
tap_check "the run stream's hash chain verifies (20 writers shared it)" \
    "$WORLD_CTL" --log-dir "$WORLD_DIR/log/telemetry" log verify

# --- nothing left -------------------------------------------------------------
sleep 0.2
tap_is "$(leftovers)" "$before" \
    "after every run: no veth, no task file, no inline policy, no sandbox file, no launcher"
# The number is this test's pid: parallel runs of this test do not count.
tap_is "$(pgrep -c -f "sleep 31.$$" || true)" 0 "the orphan the command left was killed"

world_exec gw "$WORLD_CTL" --config "$conf" gateway down >/dev/null
tap_done
