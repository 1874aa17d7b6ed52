#!/bin/bash
# Approvals decided by a human with agentgatectl, in the test world: a curl
# held on an ask name goes through once approved and fails promptly once
# denied; an undecided request expires; 100 connections to one pending name
# make one request; the name never reaches the upstream DNS server before
# its approval; a client that speaks no TLS or HTTP (an ssh-like banner on
# port 2222) is approved by name; the control socket refuses strangers.
# Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"
AP_NAMES="approve.ask.test deny.ask.test timeout.ask.test many.ask.test dns.ask.test ssh.ask.test"
. "$here/lib.sh"

ap_up "approval-timeout 6s"

# --- the socket ---
tap_is "$(stat -c %a "$AP_SOCK")" \
    "$(getent group agentgate >/dev/null && echo 660 || echo 600)" \
    "the control socket is 0660 with the agentgate group, else 0600"
tap_is "$(agctl approvals list)" "no approval requests" "nothing pending at start"

# --- approve while curl waits ---
tel_mark
ap_curl_bg approve https://approve.ask.test/
id=$(ap_wait_id approve.ask.test)
tap_ok $? "a pending request for approve.ask.test appears ($id)"
tap_is "$(cat "$WORLD_DIR/approve.rc" 2>/dev/null)" "" "curl is still waiting"
tap_check "approval-requested in telemetry" tel_has '"action":"approval-requested"' \
    '"domain":"approve.ask.test"' "\"id\":\"$id\""
tap_is "$(agctl approvals approve "$id" --reason 'needed for the test')" \
    "approved $id (once)" "agentgatectl approvals approve"
ap_curl_wait approve
tap_ok $? "curl succeeds after the approval"
tap_check "... and reached approve.ask.test's real server" grep -E -q -x \
    "vhost=approve.ask.test scheme=https addr=($WORLD_UP4|$WORLD_UP6) host=approve.ask.test" \
    "$WORLD_DIR/approve.out"
tel_wait '"action":"approval-decided"' "\"id\":\"$id\""
tap_check "approval-decided names the decider and scope" tel_has \
    '"action":"approval-decided"' "\"id\":\"$id\"" '"scope":"once"' 'root (uid 0)'
agctl approvals approve "$id" 2>"$WORLD_DIR/again.err"
tap_is "$?" 3 "a second decision: exit 3"
tap_check "... saying already decided" grep -q "already decided" "$WORLD_DIR/again.err"
agctl approvals deny 00000000 2>/dev/null
tap_is "$?" 4 "an unknown id: exit 4"
agctl approvals approve "$id" --scope sometimes 2>/dev/null
tap_is "$?" 2 "a bad scope: exit 2, before asking"
tap_check "list shows it allowed by root" sh -c \
    "'$WORLD_CTL' --config '$WORLD_CONF' approvals list | grep '^$id ' | grep allowed | grep -q 'root (uid 0)'"

# --- deny: curl fails promptly, DNS refused for the task ---
ap_curl_bg deny https://deny.ask.test/
id=$(ap_wait_id deny.ask.test)
tap_ok $? "a pending request for deny.ask.test"
start=$(date +%s%N)
tap_check "agentgatectl approvals deny --scope task" \
    agctl approvals deny "$id" --scope task --reason "not for this task"
ap_curl_wait deny
tap_ok "$([ "$(cat "$WORLD_DIR/deny.rc")" != 0 ] && echo 0 || echo 1)" "curl fails once denied"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
tap_ok "$([ "$ms" -lt 1500 ] && echo 0 || echo 1)" "... promptly (${ms} ms after the denial)"
tap_is "$(world_dig c1 deny.ask.test A | grep -o 'status: [A-Z]*')" \
    "status: REFUSED" "DNS answers REFUSED for a name denied for the task"
tap_check "list shows the reason" sh -c \
    "'$WORLD_CTL' --config '$WORLD_CONF' approvals list | grep '^$id ' | grep -q 'not for this task'"

# --- timeout (approval-timeout 6s) ---
tel_mark
ap_curl_bg timeout https://timeout.ask.test/
id=$(ap_wait_id timeout.ask.test)
tap_ok $? "a pending request for timeout.ask.test"
ap_curl_wait timeout
rc=$?
ms=$(cat "$WORLD_DIR/timeout.ms")
tap_ok "$([ "$rc" != 0 ] && [ "$ms" -ge 5000 ] && [ "$ms" -lt 12000 ] && echo 0 || echo 1)" \
    "undecided, curl fails after the 6 s timeout (${ms} ms, exit $rc)"
tap_is "$(ap_id timeout.ask.test expired)" "$id" "the request is expired"
agctl approvals approve "$id" 2>/dev/null
tap_is "$?" 3 "approving an expired request: exit 3"

# --- the name does not leave the gateway before its approval ---
world_dns_mark
addr=$(world_dig c1 +short dns.ask.test A)
tap_ok "$(case $addr in "$AP_POOL4_PREFIX"*) echo 0 ;; *) echo 1 ;; esac)" \
    "dns.ask.test resolves to a synthetic address ($addr)"
addr6=$(world_dig c1 +short dns.ask.test AAAA)
tap_ok "$(case $addr6 in fd00:a6e1:*) echo 0 ;; *) echo 1 ;; esac)" \
    "... and to a synthetic IPv6 address ($addr6)"
ap_curl_bg dns https://dns.ask.test/
id=$(ap_wait_id dns.ask.test)
tap_check_not "dnsmasq was not asked for dns.ask.test before the approval" \
    world_dns_asked dns.ask.test
agctl approvals approve "$id" >/dev/null
ap_curl_wait dns
tap_ok $? "curl to the synthetic address succeeds once approved"
tap_check "the gateway asked dnsmasq only after the approval" world_dns_asked dns.ask.test

# --- 100 connections to one pending name: one request ---
world_exec c1 python3 - "$WORLD_CA" >"$WORLD_DIR/many.out" 2>&1 <<'PY' &
import socket, ssl, sys, threading
ctx = ssl.create_default_context(cafile=sys.argv[1])
addr = socket.getaddrinfo("many.ask.test", 443, socket.AF_INET, socket.SOCK_STREAM)[0][4]
ok = []
def one():
    try:
        s = ctx.wrap_socket(socket.create_connection(addr, timeout=30),
                            server_hostname="many.ask.test")
        s.sendall(b"GET / HTTP/1.1\r\nHost: many.ask.test\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
        if b"vhost=many.ask.test" in data:
            ok.append(1)
    except OSError as e:
        print(e, flush=True)
ts = [threading.Thread(target=one) for _ in range(100)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("ok", len(ok), flush=True)
PY
many=$!
id=$(ap_wait_id many.ask.test 100)
tap_ok $? "100 held connections join one pending request"
tap_is "$(ap_list_json | grep -c '"name":"many.ask.test"')" 1 "exactly one request for many.ask.test"
agctl approvals approve "$id" >/dev/null
wait "$many"
tap_is "$(tail -1 "$WORLD_DIR/many.out")" "ok 100" "all 100 connections go through once approved"

# --- plain TCP, the server speaks first (ssh-like), approved by name ---
world_spawn up sshlike python3 -c '
import socket, threading
def serve(c):
    c.sendall(b"SSH-2.0-agentgate-world\r\n")
    c.sendall(b"echo " + c.recv(100))
    c.close()
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 2222))
s.listen(16)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],)).start()
'
world_wait "ssh-like server" world_exec up sh -c 'ss -ltn | grep -q ":2222 "'
world_exec c1 python3 - >"$WORLD_DIR/ssh.out" 2>&1 <<'PY' &
import socket
s = socket.create_connection(("ssh.ask.test", 2222), timeout=20)
banner = s.recv(100).strip()
s.sendall(b"hello")
print(banner.decode(), s.recv(100).decode(), flush=True)
PY
ssh=$!
id=$(ap_wait_id ssh.ask.test)
tap_ok $? "a connection that sends nothing first makes a request for ssh.ask.test"
tap_is "$(ap_list_json | grep -F "\"id\":\"$id\"" | grep -o '"port":[0-9]*')" \
    '"port":2222' "... for port 2222"
agctl approvals approve "$id" >/dev/null
wait "$ssh"
tap_is "$(cat "$WORLD_DIR/ssh.out")" "SSH-2.0-agentgate-world echo hello" \
    "the banner and the echo arrive once approved by name"

# --- watch ---
agctl approvals watch >"$WORLD_DIR/watch.out" 2>&1 &
watch=$!
world_atexit "kill $watch 2>/dev/null"
ap_curl_bg watched https://approve.ask.test/
id=$(ap_wait_id approve.ask.test)
agctl approvals deny "$id" >/dev/null
world_wait "watch saw the decision" grep -q "decided .*$id" "$WORLD_DIR/watch.out"
tap_ok $? "watch prints the request and its decision as they happen"
tap_check "... the request first" grep -q "requested .*$id.*approve.ask.test:443/tcp" "$WORLD_DIR/watch.out"
kill "$watch"
ap_curl_wait watched

# --- strangers ---
chmod 666 "$AP_SOCK"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$WORLD_CTL" --config /dev/null approvals list --socket "$AP_SOCK" 2>&1)
tap_is "$?" 1 "a user neither root nor in the group is refused (exit 1)"
tap_check "... with permission denied" grep -q "permission denied" <<<"$out"
tap_check "... and the proxy logs it" proxy_log_has "is neither root nor in the control group"
chmod 600 "$AP_SOCK"

tap_check "agentgatectl log verify: the chain is intact" \
    agctl log verify --dir "$WORLD_TELDIR"
tap_check "gateway down" agctl gateway down
tap_done
