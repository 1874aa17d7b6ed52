#!/bin/bash
# agentgatectl task add / list / del / prune, driven as a launcher or an
# admin would, on a registry in a temporary run folder. TAP; needs no root.
set -u
ctl="$(cd "${top_builddir:-.}" && pwd)/ctl/agentgatectl"
tmp=$(mktemp -d)
sleeper=
trap '[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null; rm -rf "$tmp"' EXIT

n=0 fails=0
ok()   { n=$((n + 1)); echo "ok $n - $1"; }
nok()  { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# expect DESC STATUS PATTERN CMD...: exit status and a line of combined output.
expect() {
	local desc=$1 want=$2 pat=$3 out st
	shift 3
	out=$("$@" 2>&1); st=$?
	if [ "$st" -ne "$want" ]; then
		nok "$desc" "exit $st, wanted $want" "$out"
	elif ! grep -qE -- "$pat" <<<"$out"; then
		nok "$desc" "output lacks /$pat/" "$out"
	else
		ok "$desc"
	fi
}
# refute DESC PATTERN CMD...: the command succeeds and PATTERN is absent.
refute() {
	local desc=$1 pat=$2 out st
	shift 2
	out=$("$@" 2>&1); st=$?
	if [ "$st" -ne 0 ] || grep -qE -- "$pat" <<<"$out"; then
		nok "$desc" "exit $st or /$pat/ present" "$out"
	else
		ok "$desc"
	fi
}

mkdir -p "$tmp/policies" "$tmp/work"
echo 'allow example.com' >"$tmp/policies/ci.rules"
echo 'alow example.com' >"$tmp/policies/broken.rules"
echo 'allow other.test' >"$tmp/work/inline.rules"
t=(--run-dir "$tmp/run" --policy-dir "$tmp/policies" task)
dir="$tmp/run/tasks"

echo "1..32"
expect "list: no registry yet is empty" 0 '^ID +ADDRESSES +POLICY +STARTED +PID +STATE$' "$ctl" "${t[@]}" list
expect "add: named policy" 0 'added task build-1' \
	"$ctl" "${t[@]}" add --id build-1 --addr 198.18.1.2 --addr FD00:A9:1:0::2 --policy ci --pid $$ --trace-id tr-9
expect "add: file holds canonical addresses" 0 '"addresses":\["198.18.1.2","fd00:a9:1::2"\]' cat "$dir/build-1.json"
expect "add: file names the launcher pid" 0 "\"launcher\":\\{\"pid\":$$,\"start_time\":[0-9]+\\}" cat "$dir/build-1.json"
expect "add: file has the trace id and an RFC 3339 start" 0 '"trace_id":"tr-9","started":"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"' cat "$dir/build-1.json"
expect "list: the task, alive" 0 "^build-1 +198.18.1.2,fd00:a9:1::2 +ci +20[0-9-]+T[0-9:]+Z +$$ +alive$" "$ctl" "${t[@]}" list
expect "list --json: one object per task" 0 '^\{"id":"build-1",.*"alive":true\}$' "$ctl" "${t[@]}" list --json
expect "add: duplicate id" 1 "task 'build-1' already exists" \
	"$ctl" "${t[@]}" add --id build-1 --addr 198.18.1.9 --policy ci
expect "add: address in use, spelt as mapped IPv6" 1 "address 198.18.1.2 is already used by task 'build-1'" \
	"$ctl" "${t[@]}" add --id build-2 --addr ::ffff:198.18.1.2 --policy ci
expect "add: IPv6 address in use" 1 "address fd00:a9:1::2 is already used by task 'build-1'" \
	"$ctl" "${t[@]}" add --id build-2 --addr fd00:a9:1::2 --policy ci
expect "add: bad address" 1 "bad address '198.18.1.300'" \
	"$ctl" "${t[@]}" add --id build-2 --addr 198.18.1.300 --policy ci
expect "add: a prefix is no address" 1 "bad address '198.18.1.0/24'" \
	"$ctl" "${t[@]}" add --id build-2 --addr 198.18.1.0/24 --policy ci
expect "add: multicast is no source address" 1 "not a source address" \
	"$ctl" "${t[@]}" add --id build-2 --addr 224.0.0.1 --policy ci
expect "add: five addresses" 1 "at most 4 addresses" \
	"$ctl" "${t[@]}" add --id build-2 --addr 198.18.2.1 --addr 198.18.2.2 --addr 198.18.2.3 \
	--addr 198.18.2.4 --addr 198.18.2.5 --policy ci
expect "add: bad id" 1 "bad task id '../etc'" \
	"$ctl" "${t[@]}" add --id ../etc --addr 198.18.1.9 --policy ci
expect "add: missing named policy refused" 1 "policy not found: .*/policies/nope.rules" \
	"$ctl" "${t[@]}" add --id build-2 --addr 198.18.1.9 --policy nope
expect "add: invalid policy refused with file:line" 1 "broken.rules:1:1: " \
	"$ctl" "${t[@]}" add --id build-2 --addr 198.18.1.9 --policy broken
expect "add: --force adds despite a missing policy" 0 'added task forced' \
	"$ctl" "${t[@]}" add --id forced --addr 198.18.1.8 --policy nope --force
expect "add: relative policy file made absolute" 0 'added task inline' \
	bash -c "cd '$tmp/work' && '$ctl' ${t[*]} add --id inline --addr fd00:a9:2::2 --policy-file ./inline.rules"
expect "add: file has the absolute policy path" 0 "\"policy_file\":\"$tmp/work/inline.rules\"" cat "$dir/inline.json"
expect "add: both policy kinds is a usage error" 2 'one of --policy or --policy-file' \
	"$ctl" "${t[@]}" add --id build-2 --addr 198.18.1.9 --policy ci --policy-file /x.rules
expect "add: no address is a usage error" 2 'needs --id, --addr' \
	"$ctl" "${t[@]}" add --id build-2 --policy ci
( exit 0 ) & gone=$!; wait "$gone"
expect "add: launcher pid that does not exist" 1 "launcher pid $gone: no such process" \
	"$ctl" "${t[@]}" add --id build-2 --addr 198.18.1.9 --policy ci --pid "$gone"

# A launcher that exits leaves a stale task that prune removes.
sleep 60 & sleeper=$!
"$ctl" "${t[@]}" add --id short --addr 198.18.1.7 --policy ci --pid "$sleeper" >/dev/null
mkdir -p "$tmp/run/policies"
echo 'allow other.test' >"$tmp/run/policies/short2.rules"
"$ctl" "${t[@]}" add --id short2 --addr 198.18.1.10 --policy-file "$tmp/run/policies/short2.rules" --pid "$sleeper" >/dev/null
kill "$sleeper"; wait "$sleeper" 2>/dev/null; sleeper=
expect "list: a task whose launcher exited is stale" 0 '^short .* stale$' "$ctl" "${t[@]}" list
"$ctl" "${t[@]}" prune >"$tmp/prune.out" 2>&1; st=$?
expect "prune: removes the stale task" 0 '^removed task short \(launcher pid [0-9]+ is gone\)$' sh -c "cat '$tmp/prune.out'; exit $st"
expect "prune: removes a stale launcher's inline policy" 0 "^removed its inline policy $tmp/run/policies/short2.rules\$" cat "$tmp/prune.out"
if [ ! -e "$tmp/run/policies/short2.rules" ] && [ -e "$tmp/work/inline.rules" ]; then
	ok "prune: the inline policy file is gone, a named policy file is kept"
else
	nok "prune: the inline policy file is gone, a named policy file is kept" "$(ls -l "$tmp/run/policies" "$tmp/work")"
fi
refute "prune: keeps live tasks and tasks without launcher" 'build-1|forced|inline' "$ctl" "${t[@]}" prune
printf '{"id":"junk"' >"$dir/junk.json"
expect "list: an invalid file is skipped with its reason" 0 "junk.json: skipped: not JSON: truncated" "$ctl" "${t[@]}" list
expect "del: removes a task" 0 'removed task forced' "$ctl" "${t[@]}" del forced
expect "del: absent task" 1 "no task 'forced'" "$ctl" "${t[@]}" del forced
expect "--help documents add" 0 'task add --id ID --addr ADDR' "$ctl" "${t[@]}" --help
[ "$fails" -eq 0 ]
