#!/bin/bash
# Approvals across a restart of agentgate-proxy, in the test world: a
# forever approval is written to the policy's approvals file with its
# provenance, shown by `policy explain`, and still lets the name through
# after a restart without a new request; requests pending when the proxy
# stops close their connections cleanly and are expired in telemetry.
# Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"
AP_NAMES="forever.ask.test pending.ask.test"
. "$here/lib.sh"

ap_up

# --- forever ---
ap_curl_bg forever https://forever.ask.test/
id=$(ap_wait_id forever.ask.test)
tap_ok $? "a pending request for forever.ask.test"
tap_check "approved forever" agctl approvals approve "$id" --scope forever \
    --reason "the team's mirror"
ap_curl_wait forever
tap_ok $? "curl succeeds"
file=$AP_STATE/approvals/ap.rules
tap_check "the approvals file has the rule" grep -q -x \
    "allow forever.ask.test port 443 proto tcp" "$file"
tap_check "... after its provenance comment" sh -c "grep -B1 -x 'allow forever.ask.test port 443 proto tcp' '$file' |
    head -1 | grep '^# approved by root (uid 0) at .*request $id' | grep -q 'the team'"
out=$(agctl --state-dir "$AP_STATE" policy explain "$WORLD_POLICIES/ap.rules" forever.ask.test)
tap_check "policy explain: allowed by the approval" grep -q \
    '^verdict: allow (the policy says ask; approved forever)' <<<"$out"
tap_check "... names the file and line" grep -q "^approval: $file:[0-9]*: allow forever.ask.test port 443 proto tcp" <<<"$out"
tap_check "... and who approved it" grep -q "# approved by root (uid 0)" <<<"$out"
out=$(agctl --state-dir "$AP_STATE" policy explain "$WORLD_POLICIES/ap.rules" other.ask.test)
tap_check "another ask name is still ask" grep -q -x 'verdict: ask' <<<"$out"

ap_restart
tel_mark
tap_check "after a restart, forever.ask.test goes through at once" grep -E -q -x \
    "vhost=forever.ask.test scheme=https addr=($WORLD_UP4|$WORLD_UP6) host=forever.ask.test" \
    <<<"$(world_curl c1 https://forever.ask.test/)"
tap_is "$(ap_list_json | grep -c forever.ask.test)" 0 "... without a new request"
tap_check_not "... and no approval-requested line" tel_has '"action":"approval-requested"' forever.ask.test

# --- a restart with requests pending ---
world_exec c1 python3 - "$WORLD_CA" >"$WORLD_DIR/pending.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[1])
addr = socket.getaddrinfo("pending.ask.test", 443, socket.AF_INET, socket.SOCK_STREAM)[0][4]
raw = socket.create_connection(addr, timeout=30)
print("connected", flush=True)
t0 = time.time()
try:
    ctx.wrap_socket(raw, server_hostname="pending.ask.test")
    print("handshake done?!", flush=True)
except (OSError, ssl.SSLError) as e:
    print("closed", type(e).__name__, round(time.time() - t0), flush=True)
PY
held=$!
id=$(ap_wait_id pending.ask.test)
tap_ok $? "a pending request for pending.ask.test holds a connection"
tel_mark
start=$(date +%s%N)
ap_restart
wait "$held"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
tap_check "the held connection was closed by the stop, not left hanging" \
    grep -q "^closed" "$WORLD_DIR/pending.out"
tap_ok "$([ "$ms" -lt 5000 ] && echo 0 || echo 1)" "... promptly (${ms} ms)"
tap_check "the request is expired in telemetry" tel_has "\"id\":\"$id\"" '"outcome":"denied"'
tap_is "$(ap_list_json | grep -c pending.ask.test)" 0 "the new proxy knows no such request"

tap_check "agentgatectl log verify: the chain is intact" \
    agctl log verify --dir "$WORLD_TELDIR"
tap_check "gateway down" agctl gateway down
tap_done
