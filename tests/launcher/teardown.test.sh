#!/bin/bash
# agentgate-run leaves nothing behind: 200 tasks, 50 at a time, each fetching
# an allowed name through the real gateway (and leaving a background process
# behind), then the gateway's and the host's links, the host's mounts, the
# registry, the processes and the firewall rules are as before. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require run proxy ctl -- iptables-save ip6tables-save iptables-restore ip6tables-restore curl ss xargs
TASKS=${TEARDOWN_TASKS:-200}
PARALLEL=${TEARDOWN_PARALLEL:-50}

world_up || tap_bail "world_up failed"
world_gateway "sandbox-pool4 198.18.200.0/22" "sandbox-pool6 fd00:a9:c8::/48" ||
	tap_bail "the gateway did not start"
cat >"$WORLD_POLICIES/td.rules" <<RULES
allow allowed.test
allow $WORLD_UPNET4 $WORLD_UPNET6
RULES
body="vhost=allowed.test scheme=https addr=$WORLD_UP4 host=allowed.test"

# One task: odd ones under the named policy, even ones under an inline
# policy (written under RUN_DIR/policies, to be removed). Each leaves a
# sleep behind (its argument is this run's marker) for the init to kill,
# and records its exit status and output.
out=$WORLD_DIR/td
mkdir -p "$out"
marker=31.$$
cat >"$WORLD_DIR/task.sh" <<EOF
#!/bin/bash
i=\$1
if [ \$((i % 2)) -eq 1 ]; then
	pol=(--policy td)
else
	pol=(--allow allowed.test --allow $WORLD_UP4 --allow $WORLD_UP6)
fi
ip netns exec $WORLD_NS_GW $WORLD_RUN --config $WORLD_CONF --task td-\$i \\
    "\${pol[@]}" --timeout 60s -- sh -c 'sleep $marker & exec curl -4 -sS \\
    --max-time 20 --retry 0 --cacert $WORLD_CA https://allowed.test/' \\
    >$out/\$i.out 2>$out/\$i.err
echo \$? >$out/\$i.status
EOF
chmod 755 "$WORLD_DIR/task.sh"

# What a task could leave behind, one section each.
links_gw() { world_exec gw ip -o link | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort; }
links_host() { ip -o link | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort; }
# Mount points and what is mounted (no ids). /run/netns changes whenever a
# parallel test makes or deletes a namespace.
mounts_host()
{
	awk '{ for (i = 7; $i != "-"; i++); print $5, $(i + 1), $(i + 2) }' \
	    /proc/self/mountinfo | grep -v '^/run/netns' | sort
}
registry() { ls -A "$WORLD_RUNDIR/tasks" "$WORLD_RUNDIR/policies" "$WORLD_RUNDIR/sandbox" 2>&1; }
# Launchers and their inits (both carry this world's settings path in
# their command line), and the sleeps the tasks left.
procs()
{
	echo "launchers and inits: $(pgrep -c -f -- "agentgate-run --config $WORLD_CONF" || true)"
	echo "left-behind sleeps: $(pgrep -c -f "^sleep $marker\$" || true)"
}
rules()
{
	local t
	for t in iptables-save ip6tables-save; do
		world_exec gw "$t" | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
		"$t" | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
	done
}
snapshot()
{
	local d=$1
	mkdir -p "$d"
	links_gw >"$d/links-gw"
	links_host >"$d/links-host"
	mounts_host >"$d/mounts"
	registry >"$d/registry"
	procs >"$d/procs"
	rules >"$d/rules"
}

# One task first: files made once (the registry's lock, the telemetry lock
# and stream) exist before the snapshot.
"$WORLD_DIR/task.sh" 0
tap_is "$(cat "$out/0.status"): $(cat "$out/0.out")" "0: $body" \
    "a first task fetches https://allowed.test/ through the gateway"
# A task's veth goes with its network namespace, which the kernel frees
# in the background after the launcher exits: wait (bounded) for the first
# task's to go before the snapshot, and for all 200 after them.
veths_gone()
{
	local i
	for i in $(seq 300); do
		world_exec gw ip -o link | grep -q ': agr' || return 0
		sleep 0.1
	done
	return 1
}
veths_gone || tap_diag "the first task's veth is still there after 30 s"
snapshot "$WORLD_DIR/before"
# The probe sees a running task: its launcher, its init, its sleep.
ip netns exec "$WORLD_NS_GW" "$WORLD_RUN" --config "$WORLD_CONF" --task td-probe \
    --policy td -- sh -c "sleep $marker & sleep 5" 2>/dev/null &
probe=$!
world_wait "task td-probe registered" test -e "$WORLD_RUNDIR/tasks/td-probe.json"
tap_is "$(procs | tr '\n' ' ')" "launchers and inits: 2 left-behind sleeps: 1 " \
    "(while a task runs, the check counts its launcher, init and sleep)"
kill -TERM "$probe"
wait "$probe"

t0=$(date +%s%N)
seq "$TASKS" | timeout 600 xargs -P "$PARALLEL" -n 1 "$WORLD_DIR/task.sh"
ms=$((($(date +%s%N) - t0) / 1000000))
tap_diag "$TASKS tasks, $PARALLEL at a time: $ms ms"

bad=""
for i in $(seq "$TASKS"); do
	[ "$(cat "$out/$i.status" 2>/dev/null)" = 0 ] &&
	    [ "$(cat "$out/$i.out")" = "$body" ] || bad="$bad $i"
done
tap_is "${bad# }" "" "all $TASKS tasks exit 0 with allowed.test's page"
for i in $(echo $bad | cut -d' ' -f1-10); do
	tap_diag "task $i: status $(cat "$out/$i.status" 2>/dev/null): $(head -c 300 "$out/$i.err")"
done
# Each task is registered before its command starts; the proxy re-reads
# the registry before it refuses an address it does not know, so no query
# of a launched task is refused as from an unknown address.
tap_is "$(grep -c 'no task for' "$WORLD_LOG/proxy.log")" 0 \
    "no task's query refused as from an unknown address"
tel=$WORLD_TELDIR/egress-run.jsonl
tap_is "$(grep '"action":"task-ended"' "$tel" | grep '"task":{"id":"td-[1-9]' |
    grep -c '"exit_code":0')" "$TASKS" "$TASKS task-ended events with exit code 0"
tap_is "$(grep '"action":"egress"' "$WORLD_TELDIR/egress-proxy.jsonl" |
    grep '"task":{"id":"td-[1-9]' | grep '"server_name":"allowed.test"' |
    grep -c '"outcome":"allowed"')" "$TASKS" "$TASKS allowed egress events from the proxy"

# The launchers have exited (xargs waited); the kernel may still be
# finishing a namespace's teardown.
veths_gone || tap_diag "tasks' veths still there after 30 s"
snapshot "$WORLD_DIR/after"
for what in links-gw:"the gateway's links (no agr* veth left)" \
    links-host:"the host's links" mounts:"the host's mounts" \
    registry:"the registry (no task file, inline policy or sandbox folder)" \
    procs:"processes (no launcher, no init, no sleep left)" \
    rules:"the firewall rules (gateway and host, both families)"; do
	f=${what%%:*}
	tap_check "unchanged: ${what#*:}" diff "$WORLD_DIR/before/$f" "$WORLD_DIR/after/$f"
done
tap_is "$(tr '\n' ' ' <"$WORLD_DIR/after/procs")" \
    "launchers and inits: 0 left-behind sleeps: 0 " "no launcher, init or sleep at all"
tap_is "$(ls -A "$WORLD_RUNDIR/tasks" "$WORLD_RUNDIR/policies" "$WORLD_RUNDIR/sandbox" |
    grep -v -e '^\.lock$' -e ':$' -e '^$' | tr '\n' ' ')" "" \
    "no task file, policy or sandbox folder at all"

tap_check "the run stream's hash chain verifies ($TASKS writers)" \
    "$WORLD_CTL" --log-dir "$WORLD_TELDIR" log verify
world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" gateway down >/dev/null
tap_done
