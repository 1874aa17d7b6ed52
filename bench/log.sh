#!/bin/sh
# bench/log: `agentgatectl log` against jq on the same 1,000,000 events, in
# the same run: a filtered query (--json) and a summary. Prints the times
# and the ratio ours/jq (below 1 means faster than jq). Not a test.
#   bench/log.sh [AGENTGATECTL] [EVENTS]     (make bench-log)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
ctl=${1:-ctl/agentgatectl}
events=${2:-1000000}
command -v jq >/dev/null || { echo "bench/log: jq is needed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-log.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
D=$tmp/log

now() { date +%s.%N; }
# run NAME OUTFILE COMMAND...: time one command, output to OUTFILE
run() {
	name=$1 out=$2
	shift 2
	t0=$(now)
	"$@" >"$out"
	t1=$(now)
	echo "$t0 $t1" | awk -v n="$name" '{ printf "%-30s %8.2f s\n", n, $2 - $1 }'
	echo "$t0 $t1" | awk '{ print $2 - $1 }' >"$out.time"
}

t0=$(now)
python3 "$here/../tests/log/logfix.py" bench "$D" "$events"
t1=$(now)
set -- "$D"/egress-*
echo "$events events, $# files, $(du -sh "$D" | cut -f1) written in $(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }') s"
cat "$D"/egress-* >/dev/null	# same page cache for both

q='select(.agentgate.task.id == "task-007" and .agentgate.outcome == "denied" and ((.destination.domain // "") | endswith(".example.test")))'
s='reduce (inputs | select(.event.action == "egress")) as $e ({};
  .[($e.destination.domain // $e.destination.ip // "-") + " " + ($e.agentgate.outcome // "-")] += 1)
  | to_entries | sort_by(-.value, .key) | .[] | "\(.value) \(.key)"'

echo "query: --json --task task-007 --outcome denied --domain '*.example.test'"
run "  agentgatectl log" "$tmp/q.ours" "$ctl" log --dir "$D" --json \
    --task task-007 --outcome denied --domain '*.example.test'
run "  jq -c 'select(...)'" "$tmp/q.jq" jq -c "$q" "$D"/egress-*
echo "summary: --summary"
run "  agentgatectl log --summary" "$tmp/s.ours" "$ctl" log --dir "$D" --summary
run "  jq -n 'reduce ...'" "$tmp/s.jq" jq -rn "$s" "$D"/egress-*

# Same answers: as many lines for the query, the same counts in the summary.
nq=$(wc -l <"$tmp/q.ours")
[ "$nq" -eq "$(wc -l <"$tmp/q.jq")" ] || { echo "bench/log: query results differ" >&2; exit 1; }
tail -n +2 "$tmp/s.ours" | awk '{ print $1, $3, $2 }' | sort >"$tmp/s1"
sort "$tmp/s.jq" >"$tmp/s2"
cmp -s "$tmp/s1" "$tmp/s2" || { echo "bench/log: summaries differ" >&2; exit 1; }

awk -v a="$(cat "$tmp/q.ours.time")" -v b="$(cat "$tmp/q.jq.time")" \
    -v c="$(cat "$tmp/s.ours.time")" -v d="$(cat "$tmp/s.jq.time")" -v n="$nq" 'BEGIN {
	printf "ratio ours/jq: query %.3f (%d lines, same as jq), summary %.3f (same counts)\n", a / b, n, c / d
}'
