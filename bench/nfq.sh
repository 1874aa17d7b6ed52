#!/bin/bash
# bench/nfq.sh: packets/s and new flows/s through NFQUEUE, agentgate-nfq
# (full judging, telemetry on) beside bench/nfqmin (accept everything),
# with 1, 2 and 4 queues, in the same run. Three namespaces: a client with
# 16 sandbox addresses, a gateway (the queue program), a sink. Run from a
# build folder as root (`make bench-nfq`). RUNS=N (default 5, median
# reported), QUICK=1 (smoke: one short run), QUEUES="1 2 4", DUR=seconds
# of a packets/s phase, NFLOWS=new flows of the max-rate phase, PRATE and
# FRATE (paced phases, packets/s and flows/s), PROGS, PROG_CPUS/LOAD_CPUS.
# Not a test. Figures and method: docs/performance.md, "Packet filter".
set -u
die() { echo "bench-nfq: $*" >&2; exit 1; }

build=$(pwd)
nfqmin=$build/bench/nfqmin
load=$build/bench/nfqload
nfqd=$build/nfq-filter/agentgate-nfq
ctl=$build/ctl/agentgatectl
for f in "$nfqmin" "$load" "$nfqd" "$ctl"; do
	[ -x "$f" ] || { echo "bench-nfq: $f not built" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench-nfq: needs root" >&2; exit 1; }

RUNS=${RUNS:-5}
QUEUES=${QUEUES:-1 2 4}
DUR=${DUR:-3}
NFLOWS=${NFLOWS:-40000}
PRATE=${PRATE:-20000}
FRATE=${FRATE:-5000}
if [ "${QUICK:-0}" = 1 ]; then
	RUNS=1 DUR=1 NFLOWS=8000
fi
ncpu=$(nproc)
# Generator and sink on CPU 0, the queue program on the others (on 2 CPUs:
# every queue thread shares CPU 1).
if [ "$ncpu" -ge 2 ]; then
	LOAD_CPUS=${LOAD_CPUS:-0}
	PROG_CPUS=${PROG_CPUS:-1-$((ncpu - 1))}
else
	LOAD_CPUS=${LOAD_CPUS:-0}
	PROG_CPUS=${PROG_CPUS:-0}
fi
# nfqmin-mark: the floor with the daemon's verdict marks (nfqmin -m).
PROGS=${PROGS:-nfqmin nfqmin-mark agentgate-nfq}
[ "${PROGS%% *}" = nfqmin ] || die "PROGS must start with nfqmin (the floor)"
NSRC=16
PORT=9000

P=agb$$
NS_C=$P-c NS_GW=$P-gw NS_S=$P-s
work=$(mktemp -d /var/tmp/agentgate-bench-nfq.XXXXXX)
prog_pid=""
sink_pid=""

cleanup()
{
	local pid
	for pid in $sink_pid $prog_pid; do
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.3
	for pid in $sink_pid $prog_pid; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "$NS_C" "$NS_GW" "$NS_S"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
mac() { inns "$1" cat "/sys/class/net/$2/address"; }

# The world: client (198.18.1.2-17) -- gateway -- sink (198.19.0.2).
# Addresses exist only in these namespaces; nothing has a default route
# out of them.
setup()
{
	local i srcs=""
	for ns in "$NS_C" "$NS_GW" "$NS_S"; do
		ip netns add "$ns" || die "ip netns add $ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_C" link add c0 type veth peer name gc0 netns "$NS_GW" ||
		die "veth"
	ip -n "$NS_S" link add s0 type veth peer name gs0 netns "$NS_GW" ||
		die "veth"
	for i in $(seq 2 $((NSRC + 1))); do
		ip -n "$NS_C" addr add "198.18.1.$i/24" dev c0
		srcs="$srcs${srcs:+,}198.18.1.$i"
	done
	SRCS=$srcs
	ip -n "$NS_GW" addr add 198.18.1.1/24 dev gc0
	ip -n "$NS_GW" addr add 198.19.0.1/24 dev gs0
	ip -n "$NS_S" addr add 198.19.0.2/24 dev s0
	for l in "$NS_C c0" "$NS_GW gc0" "$NS_GW gs0" "$NS_S s0"; do
		set -- $l
		ip -n "$1" link set "$2" up
	done
	ip -n "$NS_C" route add 198.19.0.0/24 via 198.18.1.1
	ip -n "$NS_S" route add 198.18.0.0/16 via 198.19.0.1
	# Static neighbours: no ARP resolution inside a measurement.
	ip -n "$NS_C" neigh replace 198.18.1.1 lladdr "$(mac "$NS_GW" gc0)" \
	    dev c0 nud permanent
	ip -n "$NS_GW" neigh replace 198.19.0.2 lladdr "$(mac "$NS_S" s0)" \
	    dev gs0 nud permanent
	inns "$NS_GW" sysctl -qw net.ipv4.ip_forward=1 || die "ip_forward"
	# One-way UDP flows stay unreplied: let conntrack forget them between
	# runs, so every run's new flows are new to conntrack too.
	inns "$NS_GW" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1 ||
		die "nf_conntrack_udp_timeout"
}

# The same rules for both programs: conntrack on (as in the gateway's own
# chains), every sandbox UDP packet queued (no connmark fast path, so the
# queue sees every packet), anything else dropped. No --queue-bypass.
rules()
{
	local nq=$1 target
	if [ "$nq" -eq 1 ]; then
		target="NFQUEUE --queue-num 0"
	else
		target="NFQUEUE --queue-balance 0:$((nq - 1))"
	fi
	inns "$NS_GW" iptables-restore <<EOF || die "iptables-restore"
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -s 198.18.1.0/24 -p udp -j $target
COMMIT
EOF
}

# agentgate-nfq's settings: a task per client address with a policy that
# allows the sink's network on UDP (the judged path: registry, policy,
# flow table, telemetry with the default fsync interval, on disk).
agentgate_conf()
{
	local i
	mkdir -p "$work/policies" "$work/run" "$work/log"
	cat >"$work/agentgate.conf" <<EOF
sandbox-pool4 198.18.1.0/24
nfq enable
nfq-queues 0
log-dir $work/log
run-dir $work/run
policy-dir $work/policies
EOF
	echo "allow 198.19.0.0/24 port $PORT proto udp" \
	    >"$work/policies/bench.rules"
	for i in $(seq 2 $((NSRC + 1))); do
		"$ctl" --config "$work/agentgate.conf" task add --id "b$i" \
		    --addr "198.18.1.$i" --policy bench >/dev/null ||
			die "task add"
	done
}

# start PROG NQ: the queue program in the gateway, pinned; wait for bind.
# ip netns exec and taskset exec, so $! is the program itself.
start_prog()
{
	local prog=$1 nq=$2 i
	: >"$work/prog.log"
	if [ "$prog" = nfqmin ]; then
		ip netns exec "$NS_GW" taskset -c "$PROG_CPUS" "$nfqmin" \
		    -q "0-$((nq - 1))" >"$work/prog.log" 2>&1 &
	elif [ "$prog" = nfqmin-markonly ]; then
		ip netns exec "$NS_GW" taskset -c "$PROG_CPUS" "$nfqmin" -m \
		    -q "0-$((nq - 1))" >"$work/prog.log" 2>&1 &
	elif [ "$prog" = nfqmin-mark ]; then
		ip netns exec "$NS_GW" taskset -c "$PROG_CPUS" "$nfqmin" -m -c \
		    -q "0-$((nq - 1))" >"$work/prog.log" 2>&1 &
	else
		rm -rf "$work/log"
		mkdir -p "$work/log"
		ip netns exec "$NS_GW" taskset -c "$PROG_CPUS" "$nfqd" \
		    --config "$work/agentgate.conf" --queues "0-$((nq - 1))" \
		    >"$work/prog.log" 2>&1 &
	fi
	prog_pid=$!
	for i in $(seq 100); do
		grep -q 'bound' "$work/prog.log" && return 0
		kill -0 "$prog_pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$work/prog.log" >&2
	die "$prog did not bind its queues"
}

# Stop the program and wait until the kernel has released its queues
# (the next program's bind fails with EPERM while they are held).
stop_prog()
{
	local i
	kill -TERM "$prog_pid" 2>/dev/null
	wait "$prog_pid" 2>/dev/null
	prog_pid=""
	for i in $(seq 100); do
		[ -z "$(inns "$NS_GW" cat /proc/net/netfilter/nfnetlink_queue)" ] &&
			return 0
		sleep 0.05
	done
	die "queues still bound after the program stopped"
}

# Kernel queue counters of the bound queues: "dropped user_dropped".
qdrops()
{
	inns "$NS_GW" cat /proc/net/netfilter/nfnetlink_queue |
	    awk '{ d += $6; u += $7 } END { printf "%d %d\n", d, u }'
}

# CPU time (ns) the queue program's threads have used so far.
prog_cpu()
{
	cat /proc/"$prog_pid"/task/*/schedstat 2>/dev/null |
	    awk '{ t += $1 } END { printf "%.0f\n", t }'
}

# phase ARGS...: one sender run (nfqload send ARGS) against a fresh sink;
# prints "delivered pps sent offered drops ns-per-packet", the last being
# the queue program's CPU time per delivered packet (its own threads:
# userspace and the kernel work of its receives and verdicts). Under a
# shared machine's load that cost moves much less than the rate does.
phase()
{
	local d0 d1 c0 c1 sent offered recv rate i
	d0=$(qdrops)
	c0=$(prog_cpu)
	ip netns exec "$NS_S" taskset -c "$LOAD_CPUS" "$load" sink -b 198.19.0.2 \
	    -p "$PORT" -q 400 -t 30 >"$work/sink.out" 2>&1 &
	sink_pid=$!
	for i in $(seq 100); do
		grep -q ready "$work/sink.out" && break
		sleep 0.02
	done
	inns "$NS_C" taskset -c "$LOAD_CPUS" "$load" send -s "$SRCS" \
	    -d 198.19.0.2 -p "$PORT" "$@" >"$work/send.out" 2>&1 ||
		{ cat "$work/send.out" >&2; die "sender failed"; }
	wait "$sink_pid"
	sink_pid=""
	grep -hE 'Sanitizer|runtime error' "$work/send.out" "$work/sink.out" >&2
	d1=$(qdrops)
	c1=$(prog_cpu)
	read -r _ sent _ _ _ offered _ _ <"$work/send.out"
	read -r _ recv _ _ _ rate <<<"$(grep '^received' "$work/sink.out")" ||
		{ cat "$work/sink.out" >&2; die "sink failed"; }
	echo "$recv $rate $sent $offered" \
	    "$(( ${d1% *} - ${d0% *} + ${d1#* } - ${d0#* } ))" \
	    "$(( recv > 0 ? (c1 - c0) / recv : 0 ))"
}

setup
agentgate_conf
echo "bench-nfq: $RUNS run(s), queues: $QUEUES; packets/s phase ${DUR}s on" \
    "$NSRC flows; new-flows phase $NFLOWS flows; load on CPU $LOAD_CPUS," \
    "queue program on CPU $PROG_CPUS ($ncpu CPUs)"
hdr='%-3s %-2s %-14s %7s %7s %7s %6s %6s | %7s %7s %7s %6s %6s %6s\n'
echo "per run: the delivered rate flat out (pps; flows/s: a new flow per" \
    "packet), the generator's offered rate, the kernel's queue drops, the" \
    "queue program's CPU ns per delivered packet (or flow) flat out and" \
    "paced at $PRATE pps / $FRATE flows/s; agentgate-nfq's egress events"
# shellcheck disable=SC2059
printf "$hdr" run nq program pps offered qdrops ns ns@r flows/s offered \
    qdrops ns ns@r events
res=$work/results
: >"$res"
for run in $(seq "$RUNS"); do
	for nq in $QUEUES; do
		rules "$nq"
		# Interleaved, so that a change in the machine's load touches
		# the programs of one run alike.
		for prog in $PROGS; do
			start_prog "$prog" "$nq"
			read -r _ pps _ poff pdrop pmax <<<"$(phase -f "$NSRC" -t "$DUR")"
			read -r _ _ _ _ _ pcost <<<"$(phase -f "$NSRC" -t "$DUR" -r "$PRATE")"
			read -r _ fps _ foff fdrop fmax <<<"$(phase -n "$NFLOWS" -t 20)"
			# Other source ports: flows the first phase did not make.
			read -r _ _ _ _ _ fcost <<<"$(phase -n "$((FRATE * DUR))" \
			    -t 20 -r "$FRATE" -P 40000)"
			events=-
			if [ "$prog" = agentgate-nfq ]; then
				# One egress event per judged flow, none per
				# packet: the 16 steady flows and each new one
				# that reached the daemon.
				events=$(cat "$work"/log/egress-nfq*.jsonl |
				    grep -c '"action":"egress"')
			fi
			stop_prog
			# What the daemon had to say (flow table full, lost
			# events, receive overruns) would change the figures;
			# a sanitizer build's reports would too.
			grep -E 'table full|event lost|overrun|Sanitizer|runtime error' \
			    "$work/prog.log" |
			    sort | uniq -c | head -5 >&2
			# shellcheck disable=SC2059
			printf "$hdr" "$run" "$nq" "$prog" "$pps" "$poff" \
			    "$pdrop" "$pmax" "$pcost" "$fps" "$foff" "$fdrop" \
			    "$fmax" "$fcost" "$events"
			echo "$nq $prog $pps $pmax $pcost $fps $fmax $fcost" >>"$res"
			# Let conntrack forget this run's flows (timeout 1 s).
			sleep 1.5
		done
	done
done

# Medians; ratio to nfqmin with as many queues (rates: prog/nfqmin;
# costs: nfqmin/prog, so that 1 is the floor either way); scaling: the
# rate over the same program's with the first queue count. "per CPU-s" is
# 1e9 / ns flat out: what one fully used CPU would carry.
median()
{
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	    else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
med=$work/medians
: >"$med"
for nq in $QUEUES; do
	for prog in $PROGS; do
		line="$nq $prog"
		for col in 3 4 5 6 7 8; do
			line="$line $(awk -v q="$nq" -v g="$prog" -v c="$col" \
			    '$1 == q && $2 == g { print $c }' "$res" | median)"
		done
		echo "$line" >>"$med"
	done
done
echo
echo "median of $RUNS run(s); ratio to nfqmin with as many queues, scaling" \
    "over ${QUEUES%% *} queue(s):"
awk -v first="${QUEUES%% *}" -v pr="$PRATE" -v fr="$FRATE" '
	{ k = $1 " " $2; for (c = 3; c <= 8; c++) v[k, c] = $c
	  n++; key[n] = k; nq[n] = $1; prog[n] = $2 }
	function r(a, b) { return b > 0 ? a / b : 0 }
	function cpu(ns) { return ns > 0 ? 1e9 / ns : 0 }
	function row(what, i, c, k, b, f) {
		printf("%-8s %-3s %-14s %9d %5.2f %5.2f | %9d %5.2f | %7d %5.2f\n",
		    what, nq[i], prog[i], v[k, c], r(v[k, c], v[b, c]),
		    r(v[k, c], v[f, c]), cpu(v[k, c + 1]),
		    r(v[b, c + 1], v[k, c + 1]), v[k, c + 2],
		    r(v[b, c + 2], v[k, c + 2]))
	}
	END {
		printf("%-8s %-3s %-14s %9s %5s %5s | %9s %5s | %7s %5s\n",
		    "", "nq", "program", "rate", "ratio", "scale",
		    "per CPU-s", "ratio", "ns@r", "ratio")
		for (i = 1; i <= n; i++)
			row("packets", i, 3, key[i], nq[i] " nfqmin",
			    first " " prog[i])
		for (i = 1; i <= n; i++)
			row("flows", i, 6, key[i], nq[i] " nfqmin",
			    first " " prog[i])
		printf("(rate: delivered per second flat out; per CPU-s: " \
		    "1e9 / the program'"'"'s CPU ns per packet or flow flat out; " \
		    "ns@r: CPU ns per packet at %d pps, per flow at %d flows/s)\n",
		    pr, fr)
	}' "$med"
