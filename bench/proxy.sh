#!/bin/bash
# bench/proxy: agentgate-proxy beside a direct path, HAProxy and sniproxy in
# one namespace world (tests/world/world.sh): bulk throughput (1 and 16
# streams), new TLS connections per second, added latency p50/p99 and
# resident memory per idle relayed connection. Not a test; needs root.
#   bench/proxy.sh BUILDDIR        (make bench-proxy; RUNS=N, QUICK=1)
# Method and figures: docs/performance.md, "Proxy".
set -u

here=$(cd "$(dirname "$0")" && pwd)
builddir=$(cd "${1:-.}" && pwd)
proxy=$builddir/proxy/agentgate-proxy
ctl=$builddir/ctl/agentgatectl
load=$builddir/bench/proxyload
RUNS=${RUNS:-5}
# Idle connections: 10,000, unless RLIMIT_NOFILE's hard limit (raising it
# needs CAP_SYS_RESOURCE) cannot hold them: an idle relayed connection is
# two descriptors in each proxy (and one in the client and the origin).
# Every proxy gets the same count.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
fit=$(( (nofile - 500) / 2 ))
if [ -n "${QUICK:-}" ]; then
	RUNS=1 SECS=2 IDLE=${IDLE:-1000} LATN=200
else
	SECS=${SECS:-5} IDLE=${IDLE:-10000} LATN=${LATN:-1000}
fi
[ "$IDLE" -le "$fit" ] || IDLE=$fit
RATE_CLIENTS=${RATE_CLIENTS:-16}
PATHS=${PATHS:-direct agentgate haproxy sniproxy}	# a subset while iterating
PORT=9443			# the origin's port (nothing else uses it)
HAPORT=4443 SNIPORT=4444	# where their REDIRECTs send the clients

die() { echo "bench/proxy: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for f in "$proxy" "$ctl" "$load"; do
	[ -x "$f" ] || die "$f is not built"
done
PATH=$PATH:/usr/sbin:/sbin
for t in haproxy sniproxy taskset iptables ss timeout; do
	command -v "$t" >/dev/null || die "$t is not installed (tools/install-deps)"
done
[ "$(nproc --all)" -ge 2 ] || die "needs two CPUs (load on 0, proxies on 1)"
ulimit -Sn "$nofile" || die "cannot raise RLIMIT_NOFILE"

. "$here/../tests/world/world.sh"
world_up || die "world_up failed"
B=$WORLD_DIR/bench
mkdir -p "$B/res" "$B/policies" "$B/agrun" "$B/aglog"
origin=$WORLD_UP4

# One client namespace per path; only "ag" is in agentgate's sandbox pool,
# so the others are forwarded by the gateway untouched unless their own
# REDIRECT below catches them.
for c in ag direct haproxy sniproxy; do
	world_client "$c" || die "cannot make client $c"
	world_exec "$c" sysctl -q -w net.ipv4.ip_local_port_range="10000 65000" \
	    net.ipv4.tcp_tw_reuse=1 >/dev/null
done
world_exec gw sysctl -q -w net.ipv4.ip_local_port_range="10000 65000" \
    net.ipv4.tcp_tw_reuse=1 >/dev/null
ag_net=$(world_client_addr ag 4)
ag_net=${ag_net%.*}.0/24
ag_net6=$(world_client_addr ag 6)
ag_net6=${ag_net6%::*}::/64

# The load generator and the servers upstream on CPU 0, proxies on CPU 1.
taskset -pc 0 "$(world_pid dnsmasq)" >/dev/null
world_spawn up origin taskset -c 0 "$load" serve -a "$origin" -p "$PORT" \
    -c "$WORLD_DIR/certs/server.pem" -k "$WORLD_DIR/certs/server.key" -t 64
world_wait_tcp up "$origin" "$PORT" || die "origin did not start"

# --- agentgate-proxy: the transparent port, as `gateway up` installs it ---
cat >"$B/policies/bench.rules" <<RULES
allow allowed.test port $PORT
allow $origin port $PORT
RULES
conf=$B/agentgate.conf
cat >"$conf" <<CONF
sandbox-pool4 $ag_net
sandbox-pool6 $ag_net6
proxy-port 3129
proxy-explicit-port 3128
dns-port 5353
dns-upstream $WORLD_DNS4
log-dir $B/aglog
run-dir $B/agrun
policy-dir $B/policies
proxy-handshake-timeout 5s
proxy-idle-timeout 600s
proxy-max-conns $((IDLE + 100))
proxy-max-conns-per-task $((IDLE + 100))
proxy-user nobody
CONF
world_exec gw "$ctl" --config "$conf" gateway up >/dev/null ||
	die "agentgatectl gateway up failed"
world_exec gw "$ctl" --config "$conf" task add --id bench \
    --addr "$(world_client_addr ag 4)" --policy bench >/dev/null ||
	die "agentgatectl task add failed"

# --- HAProxy: mode tcp, waits for the ClientHello, SNI chooses the backend ---
cat >"$B/haproxy.cfg" <<EOF
global
	maxconn $((IDLE + 100))
	nbthread 1
defaults
	mode tcp
	timeout connect 5s
	timeout client 600s
	timeout server 600s
frontend sni
	bind 0.0.0.0:$HAPORT
	tcp-request inspect-delay 5s
	tcp-request content accept if { req_ssl_hello_type 1 }
	use_backend origin if { req_ssl_sni -i allowed.test }
backend origin
	server o1 $origin:$PORT
EOF
world_gw_iptables -t nat -A PREROUTING -i c-haproxy -p tcp \
    -j REDIRECT --to-ports "$HAPORT" || die "iptables"

# --- sniproxy: a table from the SNI to the same origin ---
cat >"$B/sniproxy.conf" <<EOF
user nobody
pidfile $B/sniproxy.pid
error_log {
	filename $B/sniproxy-error.log
	priority notice
}
listener 0.0.0.0:$SNIPORT {
	protocol tls
	table bench
}
table bench {
	^allowed\\.test\$ $origin:$PORT
}
EOF
touch "$B/sniproxy.pid" "$B/sniproxy-error.log"
chown nobody "$B/sniproxy.pid" "$B/sniproxy-error.log" 2>/dev/null
world_gw_iptables -t nat -A PREROUTING -i c-sniproxy -p tcp \
    -j REDIRECT --to-ports "$SNIPORT" || die "iptables"

listening() { world_exec gw ss -ltn "sport = :$1" | grep -q LISTEN; }
proxies_start() {
	world_spawn gw agentgate taskset -c 1 "$proxy" -f --config "$conf"
	world_spawn gw haproxy taskset -c 1 haproxy -db -f "$B/haproxy.cfg"
	world_spawn gw sniproxy taskset -c 1 sniproxy -f -c "$B/sniproxy.conf"
	world_wait "agentgate-proxy" listening 3129 &&
	world_wait "haproxy" listening "$HAPORT" &&
	world_wait "sniproxy" listening "$SNIPORT" || die "a proxy did not start"
}
proxies_stop() {
	world_stop agentgate
	world_stop haproxy
	world_stop sniproxy
}

# lg CLIENT MODE ARGS...: run the load generator from CLIENT on CPU 0 against
# the origin's address (the REDIRECTs take it to the proxy), bounded.
lg() {
	local c=$1 mode=$2
	shift 2
	timeout 300 ip netns exec "$(world_ns "$c")" taskset -c 0 "$load" "$mode" \
	    -a "$origin" -p "$PORT" -n allowed.test -C "$WORLD_CA" "$@"
}
# field LINE KEY: the value of KEY=value in LINE
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
note() { echo "$1" >>"$B/res/$2"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# cpu_us PID: user + system CPU time of the whole process, microseconds.
cpu_us() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1e6 / hz }' \
	    "/proc/$1/stat"
}

# idle CLIENT TAG: bytes of the proxy's RSS per idle relayed connection.
idle() {
	local c=$1 tag=$2 pid before after out=$B/idle.out lpid i open
	pid=$(world_pid "$tag")
	# A few connections first, so that start-up allocations are not
	# counted per connection.
	lg "$c" lat -r 20 >/dev/null
	sleep 0.5
	before=$(rss_kb "$pid")
	: >"$out"
	timeout 600 ip netns exec "$(world_ns "$c")" taskset -c 0 "$load" idle \
	    -a "$origin" -p "$PORT" -n allowed.test -C "$WORLD_CA" \
	    -r "$IDLE" -t 8 -d 300 >"$out" 2>&1 &
	lpid=$!
	for i in $(seq 1200); do
		grep -q '^open=' "$out" && break
		kill -0 "$lpid" 2>/dev/null || break
		sleep 0.25
	done
	sleep 1
	after=$(rss_kb "$pid")
	open=$(field "$(grep '^open=' "$out")" open)
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	if [ -z "$open" ] || [ "$open" -lt "$IDLE" ]; then
		echo "  $tag: only ${open:-0} of $IDLE idle connections opened" >&2
		[ -n "$open" ] && [ "$open" -gt 0 ] || return 0
	fi
	echo "  $tag: RSS $before -> $after KiB for $open idle connections"
	note "$(( (after - before) * 1024 / open ))" "$tag.idle"
	# Let the proxy close them all before the next one.
	for i in $(seq 100); do
		[ "$(world_exec gw ss -tn state established | wc -l)" -lt 50 ] && break
		sleep 0.2
	done
}

client_of() { [ "$1" = agentgate ] && echo ag || echo "$1"; }

# measure CLIENT TAG: throughput, connection rate and latency of one path,
# and the proxy's own CPU time for the bytes and the connections.
measure() {
	local c=$1 tag=$2 out pid="" t0
	[ "$tag" = direct ] || pid=$(world_pid "$tag")
	out=$(lg "$c" bulk -t 1 -d "$SECS") && note "$(field "$out" mbps)" "$tag.bulk1"
	echo "  $tag bulk 1:  $out"
	[ -z "$pid" ] || t0=$(cpu_us "$pid")
	out=$(lg "$c" bulk -t 16 -d "$SECS") && note "$(field "$out" mbps)" "$tag.bulk16"
	echo "  $tag bulk 16: $out"
	[ -z "$pid" ] || note "$(awk -v a="$t0" -v b="$(cpu_us "$pid")" -v n="$(field "$out" bytes)" \
	    'BEGIN { print (n > 0 ? (b - a) / 1e3 / (n / 1e9) : "nan") }')" "$tag.cpugb"
	[ -z "$pid" ] || t0=$(cpu_us "$pid")
	out=$(lg "$c" rate -t "$RATE_CLIENTS" -d "$SECS") && note "$(field "$out" cps)" "$tag.cps"
	echo "  $tag rate:    $out"
	[ -z "$pid" ] || note "$(awk -v a="$t0" -v b="$(cpu_us "$pid")" -v n="$(field "$out" conns)" \
	    'BEGIN { print (n > 0 ? (b - a) / n : "nan") }')" "$tag.cpuconn"
	out=$(lg "$c" lat -r "$LATN") &&
	note "$(field "$out" p50_us)" "$tag.p50" && note "$(field "$out" p99_us)" "$tag.p99"
	echo "  $tag latency: $out"
}

if [ -n "${HOLD:-}" ]; then
	# For profiling: everything up, the commands printed, until ^C.
	proxies_start
	echo "world $WORLD_DIR; e.g.: ip netns exec $(world_ns ag) taskset -c 0" \
	    "$load lat -a $origin -p $PORT -n allowed.test -C $WORLD_CA -r 100"
	echo "agentgate-proxy pid $(world_pid agentgate), haproxy $(world_pid haproxy)," \
	    "sniproxy $(world_pid sniproxy); HOLD ends in $HOLD s"
	sleep "$HOLD" &
	wait $!
	exit 0
fi

for run in $(seq "$RUNS"); do
	echo "run $run of $RUNS"
	proxies_start
	for t in agentgate haproxy sniproxy; do
		case " $PATHS " in *" $t "*) idle "$(client_of $t)" "$t" ;; esac
	done
	for t in $PATHS; do
		measure "$(client_of "$t")" "$t"
	done
	proxies_stop
done

# The table: medians of the runs, and the ratios.
med() {
	[ -s "$B/res/$1" ] || { echo nan; return; }
	sort -g "$B/res/$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for k in bulk1 bulk16 cpugb cps cpuconn p50 p99 idle; do
	for t in direct agentgate haproxy sniproxy; do
		echo "$k $t $(med "$t.$k")"
	done
done >"$B/medians"
echo
echo "bench/proxy: medians of $RUNS run(s); ${SECS} s per throughput/rate figure," \
    "$RATE_CLIENTS clients for conn/s, $LATN requests for latency, $IDLE idle connections"
awk -v lat="$LATN" '
{ v[$1, $2] = $3 }
function r(a, b) { return (b + 0 > 0 && a != "nan") ? sprintf("%.2f", a / b) : "-" }
function row(name, k, fmt,   d, a, h, s) {
	d = v[k, "direct"]; a = v[k, "agentgate"]; h = v[k, "haproxy"]; s = v[k, "sniproxy"]
	printf "| %-34s | %9s | %9s | %9s | %9s | %6s | %6s | %6s |\n", name,
	    d == "" ? "-" : sprintf(fmt, d), sprintf(fmt, a), sprintf(fmt, h), sprintf(fmt, s),
	    d == "" || d == "-" ? "-" : r(a, d), r(a, h), r(a, s)
}
function added(name, k,   d) {
	d = v[k, "direct"]
	v["a" k, "agentgate"] = v[k, "agentgate"] - d
	v["a" k, "haproxy"] = v[k, "haproxy"] - d
	v["a" k, "sniproxy"] = v[k, "sniproxy"] - d
	v["a" k, "direct"] = ""
	row(name, "a" k, "%.0f")
}
END {
	printf "| %-34s | %9s | %9s | %9s | %9s | %6s | %6s | %6s |\n", "figure", "direct",
	    "agentgate", "haproxy", "sniproxy", "ag/dir", "ag/hap", "ag/sni"
	print "|------------------------------------|-----------|-----------|-----------|-----------|--------|--------|--------|"
	row("bulk, 1 stream (MB/s)", "bulk1", "%.0f")
	row("bulk, 16 streams (MB/s)", "bulk16", "%.0f")
	v["cpugb", "direct"] = ""
	row("proxy CPU per GB, 16 streams (ms)", "cpugb", "%.0f")
	row("new TLS connections/s", "cps", "%.0f")
	v["cpuconn", "direct"] = ""
	row("proxy CPU per connection (us)", "cpuconn", "%.0f")
	row("request time p50 (us)", "p50", "%.0f")
	row("request time p99 (us)", "p99", "%.0f")
	added("added latency p50 (us)", "p50")
	added("added latency p99 (us)", "p99")
	v["idle", "direct"] = ""
	row("RSS per idle relayed conn (bytes)", "idle", "%.0f")
}' "$B/medians"
