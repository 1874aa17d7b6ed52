#!/bin/bash
# agentgate-proxy follows its files without SIGHUP: a policy file (or a file
# it includes) edited takes effect for the next connection; a broken edit
# keeps the policy before, logs file:line and writes policy-rejected; the
# task registry folder removed and made again is watched again; a task
# whose launcher died is pruned with its inline policy. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require ctl proxy -- iptables-restore ip6tables-restore curl ss

world_up || tap_bail "world_up failed"
world_client c1
world_client c2
c1v4=$(world_client_addr c1 4)
c2v4=$(world_client_addr c2 4)
up4=$WORLD_UP4

world_gateway
tap_ok $? "gateway up" || tap_bail "the gateway did not start"
pol=$WORLD_POLICIES
run=$WORLD_RUNDIR
mkdir -p "$pol/shared"
# r1 takes its names from an included file in another folder.
cat >"$pol/r1.rules" <<RULES
include shared/names.rules
allow $up4
RULES
echo "allow allowed.test other.test" >"$pol/shared/names.rules"
agctl() { world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" "$@"; }
tel=$WORLD_TELDIR/egress-proxy.jsonl
log=$WORLD_LOG/proxy.log

tap_check "task t1 registered for c1 under r1" \
    agctl task add --id t1 --addr "$c1v4" --policy r1

get() { world_curl c1 --resolve "$1:443:$up4" "https://$1/" >/dev/null 2>&1; }
denied() { ! get "$1"; }
tel_mark() { mark=$(wc -l <"$tel"); }
tel_since() { tail -n +"$((mark + 1))" "$tel"; }
tel_has() { tel_since | grep -F -q -- "$1"; }
# A 5 s prune period needs a longer wait than world_wait's 5 s.
wait_long() {
	local i
	for i in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

tap_check "allowed.test is allowed at first" get allowed.test

# --- an edit of an included file: new verdict, no SIGHUP ---
tel_mark
echo "allow other.test" >"$pol/shared/names.rules"
tap_check "after the included file drops it, allowed.test is denied" \
    world_wait "allowed.test denied" denied allowed.test
tap_check "other.test is still allowed" get other.test
tap_check "a policy-loaded event names r1" sh -c \
    "tail -n +$((mark + 1)) '$tel' | grep '\"action\":\"policy-loaded\"' |
    grep -q '\"policy\":\"r1\"'"
tap_check "the log says why it reloaded" \
    grep -q "policy r1: its files changed, reloading" "$log"

# --- an editor's save (temp file renamed over it) of the policy itself ---
cat >"$pol/r1.rules.new" <<RULES
include shared/names.rules
allow allowed.test
allow $up4
RULES
mv "$pol/r1.rules.new" "$pol/r1.rules"
tap_check "after a save by rename, allowed.test is allowed again" \
    world_wait "allowed.test allowed" get allowed.test

# --- a broken edit keeps the policy before ---
tel_mark
cat >"$pol/r1.rules" <<RULES
include shared/names.rules
alow everything.test
allow $up4
RULES
tap_check "a policy-rejected event comes" \
    world_wait "policy-rejected" tel_has '"action":"policy-rejected"'
tap_check "it names the file, the line and the problem" sh -c \
    "tail -n +$((mark + 1)) '$tel' | grep '\"action\":\"policy-rejected\"' |
    grep -F '\"file\":\"$pol/r1.rules\",\"line\":2' |
    grep -q \"unknown action 'alow'\""
tap_check "the proxy's log has file:line:col of the error" \
    grep -q "$pol/r1.rules:2:1: unknown action 'alow'" "$log"
tap_check "the log says the policy before is kept" \
    grep -q "policy r1: keeping the policy loaded before" "$log"
tap_check "the old verdict stands: allowed.test allowed" get allowed.test
tap_check "... and other.test too" get other.test
tap_check "... and what the broken file names is still denied" \
    denied everything.test

tel_mark
cat >"$pol/r1.rules" <<RULES
include shared/names.rules
allow $up4
RULES
tap_check "fixed, it loads: allowed.test denied as the file now says" \
    world_wait "allowed.test denied" denied allowed.test
tap_check "... with a policy-loaded event" \
    tel_has '"action":"policy-loaded"'

# --- the registry folder removed, then made again ---
rm -rf "$run/tasks"
tap_check "with the registry folder gone, c1 has no task: denied" \
    world_wait "c1 denied" denied other.test
tap_check "the denial says no task" \
    world_wait "no task event" tel_has '"reason":"no task for the source address"'
tap_check "a task added afterwards (the folder made again) is registered" \
    agctl task add --id t2 --addr "$c1v4" --policy r1
tap_check "and works: other.test allowed for c1 again" \
    world_wait "other.test allowed" get other.test

# --- a task whose launcher is gone is pruned, with its inline policy ---
mkdir -p "$run/policies"
echo "allow other.test" >"$run/policies/dead1.rules"
sleep 300 &
spid=$!
tap_check "a task with a live launcher pid is registered" \
    agctl task add --id dead1 --addr "$c2v4" \
    --policy-file "$run/policies/dead1.rules" --pid "$spid"
tap_check "it stays while the launcher lives" sh -c \
    "sleep 0.5; test -f '$run/tasks/dead1.json'"
kill "$spid"
wait "$spid" 2>/dev/null
tap_check "the launcher dead, its task file is removed within 5 s" \
    wait_long sh -c "! test -e '$run/tasks/dead1.json'"
tap_check "its inline policy file went with it" \
    test ! -e "$run/policies/dead1.rules"
tap_check "the log names the task and the pid" \
    grep -q "task dead1 removed: its launcher (pid $spid) is gone" "$log"
tap_check "the live task t2 stays" test -f "$run/tasks/t2.json"
tap_check "no SIGHUP was needed: none was logged" \
    sh -c "! grep -q SIGHUP '$log'"
tap_check "the proxy runs as nobody" sh -c \
    "grep -q 'running as nobody' '$log'"

tap_done
