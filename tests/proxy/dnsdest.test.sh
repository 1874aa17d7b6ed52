#!/bin/bash
# Which resolver a sandbox asked, in the forwarder's events: over TCP the
# original destination (SO_ORIGINAL_DST) is agentgate.requested, with
# destination_mismatch true when it was not the gateway; over UDP the
# REDIRECT hides it (no conntrack netlink), so it is absent. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require ctl proxy -- iptables-restore ip6tables-restore dig ss

world_up || tap_bail "world_up failed"
world_client c1
c1v4=$(world_client_addr c1 4)
c1v6=$(world_client_addr c1 6)
gw4=$(world_client_gw c1 4)
gw6=$(world_client_gw c1 6)

world_gateway || tap_bail "gateway did not start"
cat >"$WORLD_POLICIES/t1.rules" <<RULES
allow allowed.test
allow $WORLD_UP4 $WORLD_UP6
RULES
agctl() { world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" "$@"; }
tap_check "task t1 registered for c1" \
    agctl task add --id t1 --addr "$c1v4" --addr "$c1v6" --policy t1
tel=$WORLD_TELDIR/egress-proxy.jsonl

# ask NAME DIGARGS...: one query from c1, then the event it made (each
# query asks a name of its own, so the event is found by it).
ask() {
	local name=$1
	shift
	world_dig c1 "$@" "$name" A >/dev/null
	world_wait "event for $name" grep -qF "\"name\":\"$name\"" "$tel" &&
	    grep -F "\"name\":\"$name\"" "$tel" | tail -1
}
has() {
	local lines=$1
	shift
	for s in "$@"; do
		grep -F -q -- "$s" <<<"$lines" || { echo "missing: $s"; echo "$lines"; return 1; }
	done
}

ev=$(ask allowed.test +tcp "@$gw4")
tap_check "TCP to the gateway: requested is the gateway, no mismatch" has "$ev" \
    '"transport":"tcp"' "\"requested\":{\"ip\":\"$gw4\",\"port\":53}" \
    '"destination_mismatch":false'

ev=$(ask deny1.test +tcp "@$WORLD_DNS4")
tap_check "TCP to another resolver (redirected): requested is that resolver, mismatch" \
    has "$ev" '"transport":"tcp"' \
    "\"requested\":{\"ip\":\"$WORLD_DNS4\",\"port\":53}" \
    '"destination_mismatch":true' '"outcome":"denied"'

ev=$(ask deny2.test +tcp -6 "@$WORLD_DNS6")
tap_check "the same over IPv6" has "$ev" \
    "\"requested\":{\"ip\":\"$WORLD_DNS6\",\"port\":53}" \
    '"destination_mismatch":true'

ev=$(ask deny3.test +notcp "@$WORLD_DNS4")
tap_check "UDP: answered by the forwarder, the resolver asked is not known" \
    has "$ev" '"transport":"udp'
tap_check "... so no requested address and no mismatch flag" sh -c \
    "grep -F '\"name\":\"deny3.test\"' '$tel' | grep -v -q -e '\"requested\"' -e 'destination_mismatch'"

tap_done
