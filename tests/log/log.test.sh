#!/bin/sh
# agentgatectl log, log verify and report, run for real on telemetry folders
# that tests/log/logfix.py writes (chained as docs/telemetry.md says). Each
# query is compared byte for byte with logfix.py's reference answer; each
# tampering must be reported at the file:line logfix.py says. TAP output;
# needs python3, no root.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
ctl=${AGENTGATECTL:-$top_builddir/ctl/agentgatectl}
fix="python3 $top_srcdir/tests/log/logfix.py"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
	d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 is needed to write the fixtures"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/log.test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
D=$tmp/fx
$fix gen "$D"

# --- queries: --json is the lines themselves, in merged order ----------
for f in "" "--task t1" "--outcome denied" "--outcome pending" \
    "--domain *.example.test" "--domain evil.example.test" \
    "--domain deep.sub.example.test" "--dst 198.18.0.0/24" \
    "--dst fd00::/8" "--dst 198.18.0.66" "--port 443" "--port 22" \
    "--event task-ended" "--event approval-decided" \
    "--since 2026-11-27T10:01:00Z" "--until 2026-11-27T11:01:00+01:00" \
    "--task t2 --outcome denied --domain *.example.test" \
    "--task t1 --port 443 --since 2026-11-27T10:00:00.000002Z"; do
	# shellcheck disable=SC2086
	"$ctl" log --dir "$D" --json $f >"$tmp/got" 2>"$tmp/err"
	rc=$?
	# shellcheck disable=SC2086
	$fix expect "$D" $f >"$tmp/want"
	if [ $rc -eq 0 ] && cmp -s "$tmp/got" "$tmp/want" && [ -s "$tmp/want" ] &&
	    [ ! -s "$tmp/err" ]; then
		ok "log --json $f: $(wc -l <"$tmp/want") lines as expected"
	else
		not_ok "log --json $f (rc $rc)"
		diff "$tmp/got" "$tmp/want" | sed 's/^/# /' | head -10
	fi
done

# Relative times against the clock: the fixture is in the past.
"$ctl" log --dir "$D" --json --since 10000w >"$tmp/got"
check "--since 10000w keeps every line" \
    test "$(wc -l <"$tmp/got")" -eq "$(cat "$D"/egress-* | wc -l)"
"$ctl" log --dir "$D" --json --since 1s >"$tmp/got"
check "--since 1s keeps none" test ! -s "$tmp/got"
"$ctl" log --dir "$D" --json --until 90m --task t2 >"$tmp/got"
check "--until 90m keeps the past" test "$(wc -l <"$tmp/got")" -eq 5

# --- summaries ----------------------------------------------------------
for f in "" "--by task" "--task t1" "--outcome denied --by task"; do
	# shellcheck disable=SC2086
	"$ctl" log --dir "$D" --summary $f >"$tmp/got"
	# shellcheck disable=SC2086
	$fix summary "$D" $f >"$tmp/want"
	if cmp -s "$tmp/got" "$tmp/want"; then
		ok "log --summary $f"
	else
		not_ok "log --summary $f"
		diff "$tmp/got" "$tmp/want" | sed 's/^/# /'
	fi
done
"$ctl" log --dir "$D" --summary >"$tmp/got"
check "summary: most frequent first" \
    test "$(sed -n 2p "$tmp/got")" = "       2  denied    evil.example.test"

# --- table and CSV: hostile strings are escaped -------------------------
"$ctl" log --dir "$D" --task t2 >"$tmp/got"
check "table: header" grep -q '^TIME  *TASK  *OUTCOME  *DESTINATION  *ADDRESS  *RULE  *REASON$' "$tmp/got"
check "table: one row per event" test "$(wc -l <"$tmp/got")" -eq 6
check "table: an allowed row" grep -q '^2026-11-27T10:02:00\.000Z  t2  *allowed  pypi\.org  *198\.18\.0\.10:443  *dev\.rules:3  *-$' "$tmp/got"
check "table: IPv4 row without a name" grep -q ' denied   -  *198\.18\.5\.5:22  *(default)  *no rule, port 22$' "$tmp/got"
check "table: control characters shown escaped" \
    grep -qF 'evil\x1b[31m red\r\n\x07<b>&"'"'" "$tmp/got"
check "table: no raw escape byte reaches the terminal" \
    sh -c "! LC_ALL=C grep -q \"\$(printf '[\\001-\\010\\013-\\037\\177]')\" '$tmp/got'"
"$ctl" log --dir "$D" --csv --task t2 >"$tmp/got"
check "csv: header" test "$(head -1 "$tmp/got")" = "time,event,task,outcome,destination,address,port,rule,reason"
check "csv: quoting (RFC 4180)" grep -qxF '2026-11-27T10:02:00.000002Z,egress,t2,denied,evil.example.test,198.18.0.66,443,,"evil\x1b[31m red\r\n\x07<b>&""'"'"'"' "$tmp/got"
check "csv: field with a comma quoted" grep -qxF '2026-11-27T10:02:00.000003Z,egress,t2,denied,,198.18.5.5,22,,"no rule, port 22"' "$tmp/got"
check "csv: rule as file:line" grep -qF ',/etc/agentgate/policies/dev.rules:3,' "$tmp/got"
check "csv: one record per line" test "$(wc -l <"$tmp/got")" -eq 6

# --- usage errors: exit 2 and say what is wrong --------------------------
for a in "--outcome maybe" "--port 70000" "--domain a..b" "--dst 198.18.0.1/15" \
    "--since yesterday" "--event egres" "--json --csv" "--by task" \
    "--summary --follow" "--nosuch" "extra"; do
	# shellcheck disable=SC2086
	"$ctl" log --dir "$D" $a >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q '^usage: agentgatectl log' "$tmp/err"; then
		ok "usage error: $a"
	else
		not_ok "usage error: $a (rc $rc)"
	fi
done
"$ctl" log --help >"$tmp/got"
check "log --help on stdout, exit 0" grep -q -- '--follow' "$tmp/got"

# --- malformed lines: a warning naming file:line, never a crash ----------
M=$tmp/malformed
cp -r "$D" "$M"
printf 'not json\n{"@timestamp":"bad"}\n\0\001\n{"a":' >>"$M/egress-nfq.jsonl"
"$ctl" log --dir "$M" --json >"$tmp/got" 2>"$tmp/err"
rc=$?
check "malformed: exit 0" test $rc -eq 0
check "malformed: the good lines all printed" cmp -s "$tmp/got" "$($fix expect "$D" >"$tmp/want"; echo "$tmp/want")"
check "malformed: warning names line 5" grep -q "egress-nfq.jsonl:5: skipped" "$tmp/err"
check "malformed: warning names line 6" grep -q "egress-nfq.jsonl:6: skipped" "$tmp/err"
check "malformed: warning names line 7" grep -q "egress-nfq.jsonl:7: skipped" "$tmp/err"
check "malformed: torn last line reported" grep -q "egress-nfq.jsonl:8: skipped: torn line" "$tmp/err"

# --- verify ---------------------------------------------------------------
"$ctl" log verify --dir "$D" >"$tmp/got"
rc=$?
printf 'ok: nfq: 4 lines in 1 files\nok: proxy: 16 lines in 4 files\nok: run: 3 lines in 1 files\n' >"$tmp/want"
check "verify: intact folder, exit 0" test $rc -eq 0
check "verify: one ok line per stream" cmp -s "$tmp/got" "$tmp/want"
for m in edit edit-last delete insert insert-junk swap rmfile truncate nonjson; do
	T=$tmp/t-$m
	cp -r "$D" "$T"
	where=$($fix tamper "$T" $m)
	"$ctl" log verify --dir "$T" >"$tmp/got"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "^$where: " "$tmp/got" &&
	    [ "$(grep -c '^ok: ' "$tmp/got")" -eq 2 ]; then
		ok "verify: $m caught at $(basename "$where")"
	else
		not_ok "verify: $m at $where (rc $rc)"
		sed 's/^/# /' "$tmp/got"
	fi
done
"$ctl" log verify --dir "$tmp/t-delete" | grep -q 'deleted before this line: seq jumps from 6 to 8$'
check "verify: deletion says which seqs" test $? -eq 0
"$ctl" log verify --dir "$tmp/t-swap" | grep -q 'lines reordered: seq 7 comes before seq 6$'
check "verify: swap says reordered" test $? -eq 0
"$ctl" log verify --dir "$tmp/t-rmfile" | grep -q "a file is missing (log-opened names 'egress-proxy.jsonl.20261127T100100Z-2')"
check "verify: missing file named" test $? -eq 0

# --- report -----------------------------------------------------------------
"$ctl" report --dir "$D" --task t1 >"$tmp/got"
rc=$?
check "report md: exit 0" test $rc -eq 0
check "report md: title" grep -qx '# Task report: t1' "$tmp/got"
check "report md: started" grep -qx '| Started | 2026-11-27T10:00:00.000Z |' "$tmp/got"
check "report md: ended" grep -qx '| Ended | 2026-11-27T10:03:00.000Z |' "$tmp/got"
check "report md: exit status" grep -qx '| Exit status | 3 |' "$tmp/got"
check "report md: command escaped for Markdown" grep -qxF '| Command | make test \| tee x |' "$tmp/got"
check "report md: attempts" grep -qx '| Egress attempts | 8 (3 allowed, 4 denied, 1 pending) |' "$tmp/got"
check "report md: allowed with bytes" grep -qx '| files.pythonhosted.org | 1 | 800 | 1200000 | 2026-11-27T10:00:00.000Z | 2026-11-27T10:00:00.000Z |' "$tmp/got"
check "report md: denied with rule" grep -qx '| a.b.example.test | 1 | /etc/agentgate/policies/dev.rules:9 | rule denies | 2026-11-27T10:01:00.000Z | 2026-11-27T10:01:00.000Z |' "$tmp/got"
check "report md: default deny" grep -qx '| fd00::66 | 1 | (no rule: default deny) | udp to a non-gateway resolver | 2026-11-27T10:00:00.000Z | 2026-11-27T10:00:00.000Z |' "$tmp/got"
check "report md: approval decided by alice" grep -qx '| 2026-11-27T10:01:00.000Z | approval-decided | ap-1 | new.example.org | task | alice | allowed |' "$tmp/got"
check "report md: pending with its rule" grep -qx '| new.example.org | 1 | /etc/agentgate/policies/dev.rules:7 | waiting | 2026-11-27T10:01:00.000Z | 2026-11-27T10:01:00.000Z |' "$tmp/got"
check "report md: no task-t2 event" sh -c "! grep -q x.notexample '$tmp/got'"
"$ctl" report --dir "$D" --task t2 --format html --output "$tmp/r.html"
rc=$?
check "report html: exit 0" test $rc -eq 0
check "report html: a whole page" sh -c "head -1 '$tmp/r.html' | grep -qx '<!DOCTYPE html>' && tail -1 '$tmp/r.html' | grep -qx '</body></html>'"
check "report html: inline SVG chart" grep -q '^<svg xmlns="http://www.w3.org/2000/svg"' "$tmp/r.html"
check "report html: a denied bar of 4 and an allowed bar of 1" sh -c "grep -q '<title>4 denied</title>' '$tmp/r.html' && grep -q '<title>1 allowed</title>' '$tmp/r.html'"
check "report html: hostile reason escaped" grep -qF '<td>evil\x1b[31m red\r\n\x07&lt;b&gt;&amp;&quot;&#39;</td>' "$tmp/r.html"
check "report html: nothing loaded from elsewhere" sh -c "! grep -Eq '<script|<link|src=|url\\(' '$tmp/r.html'"
"$ctl" report --dir "$D" --task nosuch >/dev/null 2>&1
check "report: unknown task exits 1" test $? -eq 1
"$ctl" report --dir "$D" >/dev/null 2>&1
check "report: --task required (exit 2)" test $? -eq 2
"$ctl" report --dir "$D" --task t1 --format pdf >/dev/null 2>&1
check "report: bad --format (exit 2)" test $? -eq 2

# --- follow: new lines, across a rotation, until SIGTERM ------------------
F=$tmp/follow
cp -r "$D" "$F"
line() { # line SECOND TASK
	printf '{"@timestamp":"2026-11-27T11:00:%02dZ","event":{"action":"egress"},"agentgate":{"stream":"proxy","outcome":"denied","task":{"id":"%s"}}}\n' "$1" "$2"
}
"$ctl" log --dir "$F" --json --follow --task f >"$tmp/follow.out" 2>"$tmp/follow.err" &
pid=$!
wait_for() { # wait_for N: until the output has N lines (5 s at most)
	i=0
	while [ "$(wc -l <"$tmp/follow.out")" -lt "$1" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
sleep 0.3
line 1 f >>"$F/egress-proxy.jsonl"
wait_for 1
mv "$F/egress-proxy.jsonl" "$F/egress-proxy.jsonl.20261127T110002Z"
line 2 f >>"$F/egress-proxy.jsonl.20261127T110002Z"
line 3 f >"$F/egress-proxy.jsonl"
line 4 f >"$F/egress-new.jsonl"
wait_for 4
kill -TERM $pid
wait $pid
rc=$?
check "follow: exits 0 on SIGTERM" test $rc -eq 0
{ line 1 f; line 2 f; line 3 f; line 4 f; } >"$tmp/want"
if cmp -s "$tmp/follow.out" "$tmp/want"; then
	ok "follow: new lines, the rotated file's tail, the new file, a new stream"
else
	not_ok "follow output"
	diff "$tmp/follow.out" "$tmp/want" | sed 's/^/# /'
fi

echo "1..$n"
exit $failed
