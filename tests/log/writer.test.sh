#!/bin/bash
# The telemetry writer and agentgatectl log end to end: events written by the
# real library (tests/log/emit) across many rotations and a restart, from two
# streams, then queried, summarised, verified, tampered with and verified
# again. Expected counts come from emit's documented formula, computed here.
# TAP output; no root.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
ctl="$top_builddir/ctl/agentgatectl"
emit="$top_builddir/tests/log/emit"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/writer.test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
D=$tmp/log

n=0 fails=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
is()  { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got '$2'" "want '$3'"; fi; }
log() { "$ctl" --log-dir "$D" log "$@"; }

# How many of emit's events 0..N-1 satisfy a predicate on i (bash arithmetic).
expect_count() {
	local total=$1 pred=$2 i c=0
	for ((i = 0; i < total; i++)); do
		(( $pred )) && c=$((c + 1))
	done
	echo $c
}

echo "1..16"
"$emit" "$D" proxy 1500 8192 && "$emit" "$D" nfq 400 8192
is "writer made many rotated files" "$( [ "$(ls "$D" | grep -c '^egress-proxy.jsonl')" -gt 20 ] && echo yes)" yes

# A restart continues the chain in the same folder.
"$emit" "$D" proxy 500 8192
out=$(log verify 2>&1); st=$?
is "verify: intact chains after rotations and a restart" "$st" 0
grep -q "proxy" <<<"$out" && grep -q "nfq" <<<"$out" && ok "verify: names both streams" || nok "verify: names both streams" "$out"

# emit's egress events: proxy i in 0..1499 and 0..499 again, nfq i in 0..399.
want=$(( $(expect_count 1500 'i%5==3 && i%3==0') + $(expect_count 500 'i%5==3 && i%3==0') + $(expect_count 400 'i%5==3 && i%3==0') ))
got=$(log --json --task task-3 --outcome denied | wc -l)
is "query: --task task-3 --outcome denied counts every stream and file" "$got" "$want"

want=$(( $(expect_count 1500 'i%7==2') + $(expect_count 500 'i%7==2') + $(expect_count 400 'i%7==2') ))
got=$(log --json --domain host2.example.test | wc -l)
is "query: --domain exact" "$got" "$want"
got=$(log --json --domain '*.example.test' --event egress | wc -l)
is "query: --domain wildcard matches all egress" "$got" 2400
got=$(log --json --domain '*.host2.example.test' | wc -l)
is "query: wildcard is strictly below the suffix" "$got" 0

want=$(( $(expect_count 1500 'i%250==9') + $(expect_count 500 'i%250==9') + $(expect_count 400 'i%250==9') ))
got=$(log --json --dst 198.18.0.10 | wc -l)
is "query: --dst single address" "$got" "$want"

ts=$(log --json | python3 -c '
import json, sys
prev = ""
for line in sys.stdin:
    t = json.loads(line)["@timestamp"]
    if t < prev:
        print("out of order", prev, t); sys.exit(0)
    prev = t
print("sorted")')
is "query: merged output is in time order" "$ts" sorted

want=$(( $(expect_count 1500 'i%3==0') + $(expect_count 500 'i%3==0') + $(expect_count 400 'i%3==0') ))
# Columns: COUNT OUTCOME TASK.
got=$(log --summary --by task | awk '$2 == "denied" { s += $1 } END { print s + 0 }')
is "summary --by task: denied counts add up" "$got" "$want"

# Tampering: edit one line in the middle of a rotated proxy file.
victim=$(grep -l '"task-1"' "$D"/egress-proxy.jsonl.* | sort | sed -n 5p)
line=$(grep -n '"task-1"' "$victim" | sed -n 1p | cut -d: -f1)
cp -a "$D" "$tmp/pristine"
sed -i "${line}s/\"task-1\"/\"task-4\"/" "$victim"
out=$(log verify 2>&1); st=$?
is "verify: an edited line fails" "$st" 1
grep -q "$(basename "$victim"):$((line + 1))" <<<"$out" && ok "verify: names the line after the edit" ||
	nok "verify: names the line after the edit" "edited $victim:$line" "$out"

# A deleted line.
rm -rf "$D" && cp -a "$tmp/pristine" "$D"
sed -i "${line}d" "$victim"
log verify >/dev/null 2>&1
is "verify: a deleted line fails" "$?" 1

# A missing file in the middle of the stream.
rm -rf "$D" && cp -a "$tmp/pristine" "$D"
rm "$victim"
out=$(log verify 2>&1); st=$?
is "verify: a missing file fails" "$st" 1
grep -qi "missing" <<<"$out" && ok "verify: says a file is missing" || nok "verify: says a file is missing" "$out"

rm -rf "$D" && cp -a "$tmp/pristine" "$D"
log verify >/dev/null 2>&1
is "verify: the untouched copy still verifies" "$?" 0
[ "$fails" -eq 0 ]
