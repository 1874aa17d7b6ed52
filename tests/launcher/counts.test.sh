#!/bin/bash
# agentgate-run's task-ended counts (docs/launcher.md, "Telemetry"): a task
# that reaches an allowed name and is refused another, beside a second task
# running at the same time, ends with agentgate.attempts equal to the
# egress lines the real agentgate-proxy wrote for it; a task that does
# nothing ends with zeros. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require run ctl proxy -- iptables-restore ip6tables-restore curl ss

world_up || tap_bail "world_up failed"
# Pools of their own: the world makes no client here.
world_gateway "sandbox-pool4 198.18.200.0/22" "sandbox-pool6 fd00:a9:c8::/48" ||
	tap_bail "the gateway did not start"
# allowed.test and its server's addresses (the world's upstream is in
# ranges the rebinding check refuses without an address rule).
cat >"$WORLD_POLICIES/p.rules" <<RULES
allow allowed.test
allow $WORLD_UP4 $WORLD_UP6
RULES

tel_run=$WORLD_TELDIR/egress-run.jsonl
tel_proxy=$WORLD_TELDIR/egress-proxy.jsonl
sandbox() { world_exec gw "$WORLD_RUN" --config "$WORLD_CONF" "$@"; }
# ended ID: the task's task-ended line.
ended() { grep '"action":"task-ended"' "$tel_run" | grep -F "\"task\":{\"id\":\"$1\""; }
# attempts ID: "allowed denied pending" from its task-ended line.
attempts()
{
	ended "$1" | sed -n 's/.*"attempts":{"allowed":\([0-9]*\),"denied":\([0-9]*\),"pending":\([0-9]*\)}.*/\1 \2 \3/p'
}
# logged ID: the same three, counted in the proxy's stream with grep.
logged()
{
	local o n out=""
	for o in allowed denied pending; do
		n=$(grep '"action":"egress"' "$tel_proxy" |
		    grep -F "\"agentgate\":{\"outcome\":\"$o\"" |
		    grep -c -F "\"task\":{\"id\":\"$1\"}")
		out="$out${out:+ }$n"
	done
	echo "$out"
}

# Two tasks at once: t-busy reaches allowed.test and is refused evil.test;
# t-other is refused evil.test twice meanwhile.
curl_in="curl -sS --max-time 5 --connect-timeout 3 --cacert $WORLD_CA"
sandbox --task t-other --policy p -- sh -c \
    "$curl_in https://evil.test/; sleep 0.5; $curl_in https://evil.test/; true" \
    >/dev/null 2>&1 &
other=$!
out=$(sandbox --task t-busy --policy p -- sh -c \
    "$curl_in https://allowed.test/ && ! $curl_in https://evil.test/ 2>/dev/null" 2>&1)
# curl may take either family: the address is the server's v4 or v6 one.
tap_is "$?: $(sed "s/ addr=\($WORLD_UP4\|$WORLD_UP6\) / addr=UP /" <<<"$out")" \
    "0: vhost=allowed.test scheme=https addr=UP host=allowed.test" \
    "in the sandbox: allowed.test answers, evil.test is refused"
wait "$other"

counts=$(attempts t-busy)
log=$(logged t-busy)
tap_is "$counts" "$log" \
    "t-busy's task-ended counts (allowed denied pending) are its lines in the proxy's stream"
read -r a d p <<<"$counts"
tap_ok "$([ "${a:-0}" -ge 2 ] && [ "${d:-0}" -ge 1 ]; echo $?)" \
    "allowed counts the DNS query and the connection, denied the refused name ($counts)"
tap_is "$(attempts t-other)" "$(logged t-other)" \
    "t-other, running at the same time, has its own counts ($(logged t-other))"
tap_ok "$(read -r a d p <<<"$(attempts t-other)"; [ "$a" -eq 0 ] && [ "$d" -ge 2 ]; echo $?)" \
    "t-other's denials are not t-busy's and the other way round"

sandbox --task t-idle --policy p -- true 2>/dev/null
tap_is "$(attempts t-idle)" "0 0 0" "a task that makes no attempt ends with zeros"

world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" gateway down >/dev/null
tap_done
