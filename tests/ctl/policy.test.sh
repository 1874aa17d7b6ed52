#!/bin/bash
# agentgatectl policy check / explain, driven as an admin would, on real files.
# TAP output; needs no root.
set -u
ctl="${top_builddir:-.}/ctl/agentgatectl"
src="${top_srcdir:-.}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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

cat >"$tmp/good.rules" <<'POL'
# comment line
deny evil.github.com
allow github.com *.github.com
ask *.pypi.org port 443
allow 198.18.0.0/15 port 53 proto udp
allow fd00::/8 port any
include more.rules
POL
cat >"$tmp/more.rules" <<'POL'
allow bücher.example port 443
POL
cat >"$tmp/bad.rules" <<'POL'
allow github.com
alow example.com
allow exa%mple.com port 99999
allow 198.18.0.1/15
POL
mkdir "$tmp/policies"
cp "$tmp/good.rules" "$tmp/more.rules" "$tmp/policies/"

echo "1..27"
expect "check: valid file" 0 'good.rules: ok, policy .good., 6 rules' "$ctl" policy check "$tmp/good.rules"
expect "check: shipped example is valid" 0 'ok' "$ctl" policy check "$src/examples/policies/ci.rules"
expect "check: invalid file exits 1" 1 'invalid' "$ctl" policy check "$tmp/bad.rules"
expect "check: unknown action at line 2 col 1" 1 "bad.rules:2:1: .*alow" "$ctl" policy check "$tmp/bad.rules"
expect "check: bad name char reported at line 3 col 7" 1 "bad.rules:3:7: " "$ctl" policy check "$tmp/bad.rules"
expect "check: bad port reported on line 3" 1 "bad.rules:3:[0-9]+: .*99999" "$ctl" policy check "$tmp/bad.rules"
expect "check: host bits set on line 4" 1 "bad.rules:4:7: " "$ctl" policy check "$tmp/bad.rules"
expect "check: one bad file fails the run" 1 'good.rules: ok' "$ctl" policy check "$tmp/good.rules" "$tmp/bad.rules"
expect "check: missing file" 1 'missing.rules' "$ctl" policy check "$tmp/missing.rules"
expect "check: named policy from --policy-dir" 0 'good: ok' "$ctl" --policy-dir "$tmp/policies" policy check good
expect "explain: exact allow names its rule" 0 "rule: +.*good.rules:3: allow github.com \*.github.com" "$ctl" policy explain "$tmp/good.rules" github.com
expect "explain: earlier deny wins over later wildcard" 0 "verdict: deny" "$ctl" policy explain "$tmp/good.rules" EVIL.GitHub.com.
expect "explain: deny names line 2" 0 "good.rules:2: deny evil.github.com" "$ctl" policy explain "$tmp/good.rules" evil.github.com
expect "explain: wildcard does not match lookalike" 0 "no rule matched: deny" "$ctl" policy explain "$tmp/good.rules" evilgithub.com
expect "explain: ask on port 443" 0 "verdict: ask" "$ctl" policy explain "$tmp/good.rules" files.pypi.org:443
expect "explain: ask rule does not cover port 80" 0 "no rule matched" "$ctl" policy explain "$tmp/good.rules" files.pypi.org:80
expect "explain: udp CIDR rule" 0 "verdict: allow" "$ctl" policy explain "$tmp/good.rules" 198.19.1.1:53 --proto udp
expect "explain: same address over tcp is not allowed" 0 "no rule matched" "$ctl" policy explain "$tmp/good.rules" 198.19.1.1:53
expect "explain: integer IP spelling is an address" 0 "198.18.0.1 \(address\)" "$ctl" policy explain "$tmp/good.rules" 3323068417:53 --proto udp
expect "explain: bracketed IPv6 with port" 0 "good.rules:6: allow fd00::/8 port any" "$ctl" policy explain "$tmp/good.rules" '[fd00::1]:22'
expect "explain: rule from an included file, IDN name" 0 "more.rules:1: allow bücher.example port 443" "$ctl" policy explain "$tmp/good.rules" xn--bcher-kva.example
expect "explain: invalid name is denied" 0 "verdict: deny \(invalid" "$ctl" policy explain "$tmp/good.rules" 'git%hub.com'
expect "explain: bad port is a usage error" 2 "bad target" "$ctl" policy explain "$tmp/good.rules" github.com:0
expect "--help documents explain" 0 "policy explain FILE\|NAME TARGET" "$ctl" policy --help
printf 'log-dir relative\nbogus 1\n' >"$tmp/bad.conf"
expect "settings: every error as file:line, nothing applied" 1 "bad.conf:2: unknown setting 'bogus'" "$ctl" --config "$tmp/bad.conf" policy check "$tmp/good.rules"
expect "settings: a --config file that is missing is an error" 1 "missing.conf" "$ctl" --config "$tmp/missing.conf" policy check "$tmp/good.rules"
printf 'policy-dir %s\n' "$tmp/policies" >"$tmp/good.conf"
expect "settings: policy-dir from the file finds a named policy" 0 "good: ok" "$ctl" --config "$tmp/good.conf" policy check good
[ "$fails" -eq 0 ]
