#!/bin/bash
# The approval hook in the test world: one hook script answers by name.
# A hook that allows lets curl through with no human; one that denies
# fails it promptly; one that hangs is killed with its process group at
# approval-hook-timeout, one that crashes, exits non-zero or prints garbage
# all defer (the request stays pending, a human decides, the proxy's log
# says why). The hook sees only the documented environment. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"
AP_NAMES="allow.ask.test deny.ask.test hang.ask.test crash.ask.test garbage.ask.test fail.ask.test"
. "$here/lib.sh"

ap_world
hooks=$WORLD_DIR/hooks
mkdir -p "$hooks/env"
chmod 1777 "$hooks/env"	# the hook runs as proxy-user (nobody)
# "sleep 4321": a marker no other process has, so the test can see that
# the hang's background child did not survive the kill of its group.
cat >"$hooks/byname" <<EOF
#!/bin/sh
env | sort >"$hooks/env/\$AGENTGATE_NAME"
case \$AGENTGATE_NAME in
allow.ask.test) echo "allow once" ;;
deny.ask.test) echo "deny task blocked by the hook" ;;
hang.ask.test) sleep 4321 & sleep 4321 ;;
crash.ask.test) kill -SEGV \$\$ ;;
garbage.ask.test) echo "yes, go ahead" ;;
fail.ask.test) echo "allow forever"; exit 3 ;;
*) echo defer ;;
esac
EOF
chmod 755 "$hooks/byname"
ap_gateway "approval-hook $hooks/byname" "approval-hook-timeout 1s" \
    "approval-timeout 20s"

# --- allow ---
tel_mark
ap_curl_bg allow https://allow.ask.test/
ap_curl_wait allow
tap_ok $? "the hook's allow lets curl through, no human involved"
tap_check "... to allow.ask.test's server" grep -E -q -x \
    "vhost=allow.ask.test scheme=https addr=($WORLD_UP4|$WORLD_UP6) host=allow.ask.test" \
    "$WORLD_DIR/allow.out"
tap_is "$(ap_list_json | grep '"name":"allow.ask.test"' | grep -o '"decider":"[^"]*"')" \
    "\"decider\":\"hook $hooks/byname\"" "the decider is the hook"
tel_wait '"action":"approval-decided"' "hook $hooks/byname"
tap_ok $? "approval-decided in telemetry names the hook"
tap_is "$(cat "$hooks/env/allow.ask.test" | cut -d= -f1 | tr '\n' ' ')" \
    "AGENTGATE_NAME AGENTGATE_POLICY AGENTGATE_PORT AGENTGATE_PROTO AGENTGATE_REQUEST_ID AGENTGATE_TASK AGENTGATE_TRACE_ID PATH PWD " \
    "the hook's environment is the documented one (PWD is the shell's own)"
tap_check "... with the request's values" grep -q -x "AGENTGATE_NAME=allow.ask.test" "$hooks/env/allow.ask.test"
tap_check "... the task" grep -q -x "AGENTGATE_TASK=t1" "$hooks/env/allow.ask.test"
tap_check "... the port" grep -q -x "AGENTGATE_PORT=443" "$hooks/env/allow.ask.test"
tap_check "... the policy" grep -q -x "AGENTGATE_POLICY=ap" "$hooks/env/allow.ask.test"

# --- deny ---
ap_curl_bg deny https://deny.ask.test/
ap_curl_wait deny
rc=$?
tap_ok "$([ "$rc" != 0 ] && [ "$(cat "$WORLD_DIR/deny.ms")" -lt 3000 ] && echo 0 || echo 1)" \
    "the hook's deny fails curl promptly ($(cat "$WORLD_DIR/deny.ms") ms)"
tap_is "$(ap_list_json | grep '"name":"deny.ask.test"' | grep -o '"reason":"[^"]*"')" \
    '"reason":"blocked by the hook"' "the reason is the rest of the hook's line"

# --- hang: killed at 1 s with its group, the request waits for a human ---
ap_curl_bg hang https://hang.ask.test/
id=$(ap_wait_id hang.ask.test)
tap_ok $? "a pending request for hang.ask.test"
world_wait "the hang is reported" proxy_log_has "request $id: timed out, killed: defer to a human"
tap_ok $? "the proxy logs that the hook timed out and defers"
tap_is "$(pgrep -f -c 'sleep 4321')" 0 "the hook and its background child were killed"
tap_is "$(ap_id hang.ask.test)" "$id" "the request is still pending"
agctl approvals approve "$id" >/dev/null
ap_curl_wait hang
tap_ok $? "a human approves it: curl goes through"

# --- crash, non-zero exit, garbage: defer ---
for n in crash fail garbage; do
	ap_curl_bg "$n" "https://$n.ask.test/"
	id=$(ap_wait_id "$n.ask.test")
	case $n in
	crash) why="killed by signal 11" what="crashes" ;;
	fail) why="exit status 3" what="prints allow but exits 3" ;;
	garbage) why="unknown verb" what="prints garbage" ;;
	esac
	world_wait "hook $n reported" proxy_log_has "request $id: $why"
	tap_ok $? "a hook that $what defers, and the log says why ($why)"
	sleep 0.3
	tap_is "$(ap_id "$n.ask.test")" "$id" "... the request stays pending"
	agctl approvals deny "$id" >/dev/null
	ap_curl_wait "$n"
	tap_ok "$([ "$(cat "$WORLD_DIR/$n.rc")" != 0 ] && echo 0 || echo 1)" \
	    "... and a human's denial ends it"
done
tap_check_not "the failed hook's 'allow forever' was not written" \
    test -e "$AP_STATE/approvals/ap.rules"

tap_check "gateway down" agctl gateway down
tap_done
