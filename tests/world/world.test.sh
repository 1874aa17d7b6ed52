#!/bin/bash
# Self-test of the namespace test world (TAP): the gateway namespace only
# routes here, and every client, server and teardown promise the later
# integration tests rely on is checked. Needs root; skips otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
. "$here/world.sh"

world_require -- ip nginx dnsmasq curl dig openssl iptables ip6tables "$WORLD_PYTHON"
if ! ip netns add "ag$$-probe" 2>/dev/null; then
	tap_skip_all "cannot create network namespaces here"
fi
ip netns del "ag$$-probe"

# What the host looks like before; nothing of it may change.
host_state()
{
	ip -o link | awk -F': ' '{print $2}' | sort
	ip route; ip -6 route
	iptables -S; ip6tables -S; iptables -t nat -S
	cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding
	md5sum /etc/resolv.conf
}
host_before=$(host_state 2>&1)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
t0=$(now)
world_up
tap_ok $? "world_up builds the world" || tap_bail "world_up failed"
tap_diag "world_up took $(since "$t0") s"
dir=$WORLD_DIR
prefix=$WORLD_PREFIX

tap_is "$(ip netns list | awk '{print $1}' | grep "^$prefix" | sort | tr '\n' ' ')" \
    "${prefix}gw ${prefix}up " "gateway and upstream namespaces carry the run's prefix"

world_client c1
tap_ok $? "client c1 made (resolver: the gateway)"
world_client c2 --dns "$WORLD_DNS4"
tap_ok $? "client c2 made (resolver: the world's DNS through the gateway)"

tap_is "$(world_client_addr c1 4) $(world_client_addr c1 6) $(world_client_gw c2 6)" \
    "198.18.1.2 fd00:a9:1::2 fd00:a9:2::1" "client addresses follow the plan"

tap_is "$(world_exec c1 ip -4 route | sort | tr -s ' ' | sed 's/ $//')" \
    "$(printf '%s\n' '198.18.1.0/24 dev eth0 proto kernel scope link src 198.18.1.2' \
    'default via 198.18.1.1 dev eth0' | sort)" \
    "client's only IPv4 routes are its link and the gateway"
tap_is "$(world_exec gw ip route show default; world_exec gw ip -6 route show default;
    world_exec up ip route show default; world_exec up ip -6 route show default)" "" \
    "neither gateway nor upstream has a default route"

body() { echo "vhost=$1 scheme=$2 addr=$3 host=$4"; }

# HTTPS and HTTP to allowed.test, both families, names pinned with --resolve.
tap_is "$(world_curl c1 --resolve "allowed.test:443:$WORLD_UP4" https://allowed.test/)" \
    "$(body allowed.test https "$WORLD_UP4" allowed.test)" "HTTPS allowed.test over IPv4"
tap_is "$(world_curl c1 --resolve "allowed.test:443:[$WORLD_UP6]" https://allowed.test/)" \
    "$(body allowed.test https "$WORLD_UP6" allowed.test)" "HTTPS allowed.test over IPv6"
tap_is "$(world_curl c1 --resolve "allowed.test:80:$WORLD_UP4" http://allowed.test/)" \
    "$(body allowed.test http "$WORLD_UP4" allowed.test)" "HTTP allowed.test over IPv4"
tap_is "$(world_curl c1 --resolve "allowed.test:80:[$WORLD_UP6]" http://allowed.test/)" \
    "$(body allowed.test http "$WORLD_UP6" allowed.test)" "HTTP allowed.test over IPv6"
tap_is "$(world_curl c1 --resolve "other.test:8443:$WORLD_UP4" https://other.test:8443/)" \
    "$(body other.test https "$WORLD_UP4" other.test)" "HTTPS other.test on port 8443"
tap_is "$(world_curl c1 --resolve "a.wild.test:443:[$WORLD_UP6]" https://a.wild.test/)" \
    "$(body '*.wild.test' https "$WORLD_UP6" a.wild.test)" "HTTPS a.wild.test served by the wildcard vhost"
tap_is "$(world_curl c1 --resolve "evil.test:443:$WORLD_EVIL4" https://evil.test/)" \
    "$(body evil.test https "$WORLD_EVIL4" evil.test)" "evil.test answers from its own IPv4 address"
tap_is "$(world_curl c1 --resolve "evil.test:443:[$WORLD_EVIL6]" https://evil.test/)" \
    "$(body evil.test https "$WORLD_EVIL6" evil.test)" "evil.test answers from its own IPv6 address"
# What an SNI-spoofing test looks for: an allowed name sent to evil's
# address is answered by evil, so a test sees where a connection went.
tap_is "$(world_curl c1 --connect-to "allowed.test:443:$WORLD_EVIL4:443" https://allowed.test/)" \
    "$(body evil.test https "$WORLD_EVIL4" allowed.test)" "allowed name at evil's address reaches evil"
tap_check "nginx's log records client source, upstream address and SNI" \
    grep -qF "198.18.1.2 -> $WORLD_EVIL4:443 sni=allowed.test host=allowed.test" "$WORLD_NGINX_LOG"

# DNS from a client, through the gateway, to the world's dnsmasq.
tap_is "$(world_dig c1 +short "@$WORLD_DNS4" allowed.test A)" "$WORLD_UP4" "DNS A allowed.test"
tap_is "$(world_dig c1 +short "@$WORLD_DNS4" allowed.test AAAA)" "$WORLD_UP6" "DNS AAAA allowed.test"
tap_is "$(world_dig c1 +short "@$WORLD_DNS4" evil.test A)" "$WORLD_EVIL4" "DNS A evil.test is evil's own address"
tap_is "$(world_dig c1 +short "@$WORLD_DNS4" allowed.test TXT)" '"world-txt allowed.test"' "DNS TXT allowed.test"
tap_is "$(world_dig c1 +short "@$WORLD_DNS6" deep.x.wild.test AAAA)" "$WORLD_UP6" "DNS wildcard over IPv6 transport"
tap_is "$(world_dig c1 +short +tcp "@$WORLD_DNS6" alias.test A | tr '\n' ' ')" \
    "allowed.test. $WORLD_UP4 " "DNS over TCP, CNAME alias.test"
tap_is "$(world_dig c1 +short "@$WORLD_DNS4" rebind-metadata.test A)" "169.254.169.254" \
    "DNS rebind-metadata.test points at the metadata address"
dns_status() { world_dig c1 "@$WORLD_DNS4" "$1" | grep -q "status: $2"; }
tap_check "DNS unknown .test name is NXDOMAIN" dns_status nothere.test NXDOMAIN
tap_check "DNS outside .test is REFUSED (there is no upstream to forward to)" dns_status example.com REFUSED
tap_check "DNS log shows the A query from the client's address" world_dns_asked allowed.test A
tap_check "DNS log shows the AAAA query" world_dns_asked allowed.test AAAA
tap_check "DNS log shows the source address" grep -qF "query[A] allowed.test from 198.18.1.2" "$WORLD_DNS_LOG"
world_dns_sync
tap_check_not "a name never asked is absent from the DNS log" grep -qi never-asked "$WORLD_DNS_LOG"
tap_check_not "world_dns_asked says no for it" world_dns_asked never-asked.test
world_dns_mark
tap_check_not "world_dns_mark hides earlier queries" world_dns_asked allowed.test A

# The client's own resolver (resolv.conf of its namespace), not the host's.
tap_is "$(world_curl c2 -4 https://allowed.test/)" \
    "$(body allowed.test https "$WORLD_UP4" allowed.test)" "c2 resolves allowed.test through its resolv.conf (A)"
tap_is "$(world_curl c2 -6 https://allowed.test/)" \
    "$(body allowed.test https "$WORLD_UP6" allowed.test)" "c2 resolves allowed.test through its resolv.conf (AAAA)"
tap_check "that lookup reached dnsmasq from c2" grep -qF "allowed.test from 198.18.2.2" "$WORLD_DNS_LOG"
tap_is "$(world_exec c1 cat /etc/resolv.conf | head -1)" "nameserver 198.18.1.1" \
    "c1's resolv.conf names the gateway"

# The echo service, TCP both families, and UDP.
echo_tcp() { world_exec "$1" timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/7"; echo ping-$0 >&3; head -1 <&3' "$2"; }
echo_udp() { world_exec "$1" timeout 2 bash -c 'exec 3<>"/dev/udp/$0/7"; echo ping-$0 >&3; head -1 <&3' "$2"; }
tap_is "$(echo_tcp c1 "$WORLD_UP4")" "ping-$WORLD_UP4" "TCP echo over IPv4"
tap_is "$(echo_tcp c1 "$WORLD_UP6")" "ping-$WORLD_UP6" "TCP echo over IPv6"
tap_is "$(echo_udp c1 "$WORLD_UP4")" "ping-$WORLD_UP4" "UDP echo over IPv4"
# The client's UDP socket is connected: it sees only an answer that comes
# from the address it asked, as conntrack needs on the gateway.
for a in "$WORLD_UP6" "$WORLD_EVIL4" "$WORLD_EVIL6" "$WORLD_DNS4"; do
	tap_is "$(echo_udp c1 "$a")" "ping-$a" "UDP echo answers from the address asked ($a)"
done
tap_check "the upstream IPv6 link is outside the client range" "$WORLD_PYTHON" -c '
import ipaddress, sys
sys.exit(ipaddress.ip_network(sys.argv[1]).overlaps(ipaddress.ip_network(sys.argv[2])))' \
    "$WORLD_UPNET6" "$WORLD_CLIENTNET6"

# Firewall rules go into the gateway only.
world_gw_iptables -I FORWARD -p tcp --dport 7 -j REJECT --reject-with tcp-reset &&
    world_gw_ip6tables -I FORWARD -p tcp --dport 7 -j REJECT --reject-with tcp-reset
tap_ok $? "rules added in the gateway"
tap_check_not "gateway rule stops IPv4 echo" world_tcp_open c1 "$WORLD_UP4" 7
tap_check_not "gateway rule stops IPv6 echo" world_tcp_open c1 "$WORLD_UP6" 7
tap_is "$(host_state 2>&1)" "$host_before" "host's links, routes, rules, sysctls and resolv.conf untouched"
world_gw_iptables -D FORWARD -p tcp --dport 7 -j REJECT --reject-with tcp-reset
tap_is "$(echo_tcp c1 "$WORLD_UP4")" "ping-$WORLD_UP4" "rule deleted, echo passes again"

# A daemon run in the gateway, the way the proxy will be.
world_spawn gw sleeper sleep 600
sleeper=$(world_pid sleeper)
# $! is ours at once, but in the gateway only once ip(8) has called setns.
in_gw() { [ "$(ip netns identify "$sleeper")" = "${prefix}gw" ]; }
tap_check "world_spawn gw runs in the gateway namespace" world_wait "sleeper in gw" in_gw

# Worlds beside this one: a test killed by TERM, one that fails, one kept.
child=$dir/child
cat >"$child.sh" <<-EOF
	. "$here/world.sh"
	world_up || exit 9
	world_client k1
	echo "\$WORLD_DIR \$WORLD_PREFIX \$(world_pid nginx) \$(world_pid dnsmasq) \$(world_pid echo)" >"\$1"
	case "\$2" in
	wait) while :; do sleep 0.1; done ;;
	fail) false || exit 3 ;;
	esac
EOF
# child_gone STATEFILE: nothing of that world is left (folder unless kept).
child_gone()
{
	local d p n1 n2 n3 keep=${2:-}
	read -r d p n1 n2 n3 <"$1" || return 1
	[ -n "$p" ] || return 1
	if ip netns list | grep -q "^$p"; then echo "namespaces left: $p"; return 1; fi
	if [ -e "/etc/netns/${p}c-k1" ]; then echo "/etc/netns left"; return 1; fi
	for pid in $n1 $n2 $n3; do
		if ! world__gone "$pid"; then echo "process $pid left"; return 1; fi
	done
	if [ -z "$keep" ] && [ -e "$d" ]; then echo "folder $d left"; return 1; fi
	if [ -n "$keep" ] && [ ! -d "$d/log" ]; then echo "folder $d not kept"; return 1; fi
	return 0
}
bash "$child.sh" "$child.1" wait 2>>"$child.log" &
cpid=$!
world_wait "second world" test -s "$child.1"
tap_is "$(read -r d p rest <"$child.1"; world_curl c1 --resolve "allowed.test:443:$WORLD_UP4" https://allowed.test/ >/dev/null &&
    ip netns exec "${p}c-k1" curl -s --max-time 3 --cacert "$d/certs/ca.pem" \
    --resolve "allowed.test:443:$WORLD_UP4" https://allowed.test/)" \
    "$(body allowed.test https "$WORLD_UP4" allowed.test)" "a second world runs beside this one, same addresses"
kill -TERM "$cpid"
wait "$cpid"
tap_is "$?" 143 "TERM to a test stops it"
tap_check "TERM tore its world down entirely" child_gone "$child.1"
WORLD_KEEP=1 bash "$child.sh" "$child.2" fail 2>>"$child.log"
tap_is "$?" 3 "a failing test keeps its exit status"
tap_check "the failing test's world is gone, folder kept with WORLD_KEEP=1" child_gone "$child.2" keep
read -r d rest <"$child.2" && rm -rf "$d"
WORLD_KEEP=running bash "$child.sh" "$child.3" fail 2>>"$child.log"
read -r d p rest <"$child.3"
tap_check "WORLD_KEEP=running leaves the world up" ip netns exec "${p}up" true
"$here/world-clean" "$d" >/dev/null
tap_check "world-clean removes a kept world" child_gone "$child.3"
bash "$child.sh" "$child.4" wait 2>>"$child.log" &
cpid=$!
world_wait "fourth world" test -s "$child.4"
kill -KILL "$cpid"
wait "$cpid" 2>/dev/null
tap_check_not "SIGKILL leaves a world behind" child_gone "$child.4"
"$here/world-clean" >/dev/null
tap_check "world-clean with no argument removes it, as its owner is dead" child_gone "$child.4"
tap_is "$(world_curl c1 --resolve "allowed.test:443:$WORLD_UP4" https://allowed.test/)" \
    "$(body allowed.test https "$WORLD_UP4" allowed.test)" "this world still works after the others left"

# Our own teardown.
pids="$(world_pid nginx) $(world_pid dnsmasq) $(world_pid echo) $sleeper"
nginx_workers=$(pgrep -P "$(world_pid nginx)")
world_down
tap_ok $? "world_down"
# Other runs may come and go meanwhile (make -j check): look at ours only.
tap_is "$(ip netns list | grep "^$prefix")" "" "no namespace left"
left=""
for p in $pids $nginx_workers; do
	world__gone "$p" || left="$left $p"
done
tap_is "$left" "" "no process left (nginx master and workers, dnsmasq, echo, gw daemon)"
tap_check "run folder removed" test ! -e "$dir"
tap_check "client resolv.conf folders removed" test ! -e "/etc/netns/${prefix}c-c1"
tap_is "$(host_state 2>&1)" "$host_before" "host's links (no veth), routes, rules, sysctls, resolv.conf as before"
world_down
tap_ok $? "world_down again is harmless"
tap_diag "total $(since "$t0") s"
tap_done
