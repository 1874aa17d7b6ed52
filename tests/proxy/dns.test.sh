#!/bin/bash
# agentgate-proxy's DNS forwarder in the test world: allowed names are
# answered over UDP and TCP, IPv4 and IPv6; denied names (A, TXT, ANY, long
# random labels) are REFUSED and never reach the upstream server; answers
# that rebind a name to internal addresses are refused; every query is one
# telemetry line. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require ctl proxy -- iptables-restore ip6tables-restore dig ss

world_up || tap_bail "world_up failed"
world_client c1
world_client c2
c1v4=$(world_client_addr c1 4)
c1v6=$(world_client_addr c1 6)
gw4=$(world_client_gw c1 4)
gw6=$(world_client_gw c1 6)
gw24=$(world_client_gw c2 4)

world_gateway "dns-timeout 1s"
tap_ok $? "gateway up" || tap_bail "the gateway did not start"

# The policy: allowed.test (and its alias) for the usual ports, ssh.test
# for SSH only (still resolvable), denied.test denied first, the rebinding
# names allowed as names, and the upstream server's own addresses allowed
# (the world lives in benchmarking and ULA ranges).
cat >"$WORLD_POLICIES/t1.rules" <<RULES
deny denied.test
allow allowed.test alias.test
allow ssh.test port 22
allow rebind-loopback.test rebind-private.test rebind-linklocal.test
allow rebind-metadata.test rebind-gateway.test
allow $WORLD_UP4 $WORLD_UP6
RULES
agctl() { world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" "$@"; }
tel=$WORLD_TELDIR/egress-proxy.jsonl

tap_check "task t1 registered for c1 (c2 has none)" \
    agctl task add --id t1 --addr "$c1v4" --addr "$c1v6" --policy t1

# status CLIENT ARGS...: the status dig reports (NOERROR, REFUSED...).
status() {
	local c=$1
	shift
	world_dig "$c" "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
short() { world_dig c1 +short "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
tel_mark() { mark=$(wc -l <"$tel"); }
tel_since() { tail -n +"$((mark + 1))" "$tel" | grep '"protocol":"dns"'; }
not_asked() {
	if world_dns_asked "$@"; then
		echo "upstream was asked:"; world_dns_log
		return 1
	fi
}

world_dns_mark
tel_mark
queries=0
q() { queries=$((queries + 1)); }

# Allowed, over UDP, IPv4 and IPv6 transport.
tap_is "$(short "@$gw4" allowed.test A)" "$WORLD_UP4" "allowed.test A answered over UDP/IPv4"; q
tap_is "$(short "@$gw4" allowed.test AAAA)" "$WORLD_UP6" "allowed.test AAAA answered"; q
tap_is "$(short "@$gw6" allowed.test AAAA)" "$WORLD_UP6" "allowed.test AAAA answered over UDP/IPv6"; q
tap_is "$(short "@$gw4" alias.test A)" "$WORLD_UP4 allowed.test." \
    "a CNAME is passed on, its target not judged"; q
tap_is "$(status c1 "@$gw4" ssh.test A)" NXDOMAIN \
    "a name allowed for port 22 only is resolvable (upstream says NXDOMAIN)"; q
tap_check "ssh.test reached upstream" world_dns_asked ssh.test A

# Denied: REFUSED here, never upstream.
long=$(head -c 200 /dev/urandom | tr -dc 'a-z0-9' | head -c 60)
tap_is "$(status c1 "@$gw4" denied.test A)" REFUSED "denied.test A: REFUSED"; q
tap_is "$(status c1 "@$gw4" denied.test TXT)" REFUSED "denied.test TXT: REFUSED"; q
tap_is "$(status c1 "@$gw4" denied.test ANY)" REFUSED "denied.test ANY: REFUSED"; q
tap_is "$(status c1 "@$gw6" denied.test AAAA)" REFUSED "denied.test AAAA over IPv6: REFUSED"; q
tap_is "$(status c1 "@$gw4" other.test A)" REFUSED "other.test (no rule): REFUSED"; q
tap_is "$(status c1 "@$gw4" "$long.other.test" TXT)" REFUSED \
    "a long random label under a denied name: REFUSED"; q
tap_is "$(status c1 "@$gw4" "$long.allowed.test" A)" REFUSED \
    "a name below an allowed exact name: REFUSED"; q
tap_check "denied.test never reached upstream (A, TXT, ANY, AAAA)" not_asked denied.test
tap_check "other.test never reached upstream" not_asked other.test
long_not_asked() { not_asked "$long.other.test" && not_asked "$long.allowed.test"; }
tap_check "the long random labels never reached upstream" long_not_asked

# TCP, judged the same.
tap_is "$(short +tcp "@$gw4" allowed.test A)" "$WORLD_UP4" "allowed.test over TCP/IPv4"; q
tap_is "$(short +tcp "@$gw6" allowed.test AAAA)" "$WORLD_UP6" "allowed.test over TCP/IPv6"; q
tap_is "$(status c1 +tcp "@$gw4" denied.test TXT)" REFUSED "denied.test over TCP: REFUSED"; q
tap_is "$(status c1 +tcp "@$gw6" other.test A)" REFUSED "other.test over TCP/IPv6: REFUSED"; q
tap_check "nothing denied over TCP reached upstream" not_asked denied.test TXT

# Rebinding: allowed names whose answers point inside are refused.
for n in loopback private linklocal metadata gateway; do
	tap_is "$(status c1 "@$gw4" "rebind-$n.test" A)" REFUSED "rebind-$n.test A: REFUSED"; q
done
tap_is "$(status c1 "@$gw4" rebind-metadata.test AAAA)" REFUSED "rebind-metadata.test AAAA: REFUSED"; q
tap_is "$(status c1 +tcp "@$gw6" rebind-private.test AAAA)" REFUSED \
    "rebind-private.test AAAA over TCP/IPv6: REFUSED"; q

# A client without a task.
world_dns_mark
tap_is "$(status c2 "@$gw24" allowed.test A)" REFUSED "a client with no task: REFUSED"; q
tap_check "its question never reached upstream" not_asked allowed.test A

# Telemetry: one line per query, with the rule.
world_wait "telemetry for every query" sh -c \
    "[ \$(tail -n +$((mark + 1)) '$tel' | grep -c '\"protocol\":\"dns\"') -ge $queries ]"
tap_is "$(tel_since | wc -l)" "$queries" "one telemetry line per query ($queries)"
tap_check "denied.test TXT: outcome denied by rule 1" sh -c \
    "tail -n +$((mark + 1)) '$tel' | grep -F '\"name\":\"denied.test\",\"type\":\"TXT\"' |
    grep -F '\"outcome\":\"denied\"' | grep -F '\"verdict\":\"deny\"' | grep -q -F '\"line\":1'"
tap_check "allowed.test A over UDP: answers with TTL in the line" sh -c \
    "tail -n +$((mark + 1)) '$tel' | grep -F '\"transport\":\"udp\"' |
    grep -F '\"answers\":[{\"data\":\"$WORLD_UP4\",\"type\":\"A\",\"ttl\":' | grep -q -F '\"task\":{\"id\":\"t1\"}'"
tap_check "rebinding refusal names its reason" sh -c \
    "tail -n +$((mark + 1)) '$tel' | grep -F '\"name\":\"rebind-loopback.test\"' | grep -q 'internal address'"
tap_check "the no-task query is in the telemetry with c2's address" sh -c \
    "tail -n +$((mark + 1)) '$tel' | grep -F '\"protocol\":\"dns\"' | grep -q -F '\"ip\":\"$(world_client_addr c2 4)\"'"
tap_check "agentgatectl log verify: the chain is intact" \
    "$WORLD_CTL" --config "$WORLD_CONF" log verify --dir "$WORLD_TELDIR"

tap_done
