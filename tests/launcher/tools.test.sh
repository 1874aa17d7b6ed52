#!/bin/bash
# agentgate-run's positive path with real tools through the real gateway
# (agentgate-proxy, its DNS forwarder, the gateway rules): curl, git clone
# over HTTPS and pip download from the world's servers succeed for allowed
# names; the same tools fail for a name the policy does not allow, and the
# proxy's refusal is in its telemetry. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../world/tap.sh"
. "$here/../world/world.sh"

world_require run proxy ctl -- iptables-restore ip6tables-restore curl git ss /usr/sbin/fcgiwrap \
    /usr/lib/git-core/git-http-backend
"$WORLD_PYTHON" -m pip --version >/dev/null 2>&1 ||
	tap_skip_all "pip for $WORLD_PYTHON is not installed (python3-pip)"

world_up || tap_bail "world_up failed"
# Pools of their own: the world makes no client here.
world_gateway "sandbox-pool4 198.18.200.0/22" "sandbox-pool6 fd00:a9:c8::/48" ||
	tap_bail "the gateway did not start"
world_git_repo hello || tap_bail "cannot make the git repository"
world_pypi_wheel agentgate_world_pkg 1.0 || tap_bail "cannot make the wheel"

# The upstream lives in benchmarking and ULA ranges: the address rule lets
# the proxy and the forwarder use those answers (the rebinding rule).
cat >"$WORLD_POLICIES/tools.rules" <<RULES
allow allowed.test git.test pypi.test
allow $WORLD_UPNET4 $WORLD_UPNET6
RULES
tel=$WORLD_TELDIR/egress-proxy.jsonl
tel_mark() { mark=$(wc -l <"$tel"); }
# tel_has STRING...: one line since the mark holds every STRING.
tel_has()
{
	local lines
	lines=$(tail -n +"$((mark + 1))" "$tel")
	for s in "$@"; do
		lines=$(grep -F -- "$s" <<<"$lines")
	done
	[ -n "$lines" ]
}
tel_wait() { world_wait "telemetry: $*" tel_has "$@"; }

out=$WORLD_DIR/out
mkdir -p "$out"
# sandbox ID CMD...: the command in a sandbox (task tools-ID) under the tools
# policy, bounded, with an environment of its own: this host's PIP_CERT,
# REQUESTS_CA_BUNDLE and the like would override the tools' --cert options.
sandbox()
{
	local id=$1
	shift
	world_exec gw "$WORLD_RUN" --config "$WORLD_CONF" --task "tools-$id" \
	    --policy tools --timeout 30s --clear-env \
	    --env PATH=/usr/local/bin:/usr/bin:/bin --env HOME="$out" -- "$@"
}

# --- curl ---------------------------------------------------------------------
tel_mark
tap_is "$(sandbox curl4 curl -4 -sS --max-time 10 --cacert "$WORLD_CA" https://allowed.test/ 2>&1)" \
    "vhost=allowed.test scheme=https addr=$WORLD_UP4 host=allowed.test" \
    "curl: an allowed HTTPS name, resolved by the gateway's forwarder"
tap_check "curl: its allowed egress event" tel_wait '"server_name":"allowed.test"' \
    '"outcome":"allowed"'
tap_is "$(sandbox curl6 curl -6 -sS --max-time 10 --cacert "$WORLD_CA" https://allowed.test/ 2>&1)" \
    "vhost=allowed.test scheme=https addr=$WORLD_UP6 host=allowed.test" \
    "curl -6: the same over IPv6"
tel_mark
msg=$(sandbox curl-denied curl -sS --max-time 10 --cacert "$WORLD_CA" https://other.test/ 2>&1)
tap_is "$?: $msg" "6: curl: (6) Could not resolve host: other.test" \
    "curl: a name the policy does not allow does not resolve (REFUSED)"
tap_check "curl: the forwarder's denied DNS event" \
    tel_wait '"question":{"name":"other.test"' '"outcome":"denied"'
tel_mark
msg=$(sandbox curl-resolve curl -sS --max-time 10 --cacert "$WORLD_CA" \
    --resolve "other.test:443:$WORLD_UP4" https://other.test/ 2>&1)
st=$?
tap_ok "$([ "$st" -eq 35 ] || [ "$st" -eq 56 ]; echo $?)" \
    "curl: the denied name with its address given is refused by the proxy ($st: $msg)"
tap_check "curl: the proxy's denied event names other.test" \
    tel_wait '"server_name":"other.test"' '"outcome":"denied"' '"reason":"default deny"'

# --- git clone over HTTPS ---------------------------------------------------------
tel_mark
msg=$(sandbox git env GIT_SSL_CAINFO="$WORLD_CA" GIT_TERMINAL_PROMPT=0 \
    git clone -q https://git.test/hello.git "$out/hello" 2>&1)
tap_is "$?: $msg" "0: " "git clone https://git.test/hello.git succeeds"
tap_is "$(cat "$out/hello/README" 2>&1)" "world-git hello" \
    "the clone holds the repository's README"
tap_is "$(git -C "$out/hello" log --format=%s 2>&1)" "world repository hello" \
    "the clone holds the repository's commit"
tap_check "git: the proxy's allowed events for git.test" \
    tel_wait '"server_name":"git.test"' '"outcome":"allowed"'
tap_check "git: nginx served git-http-backend's upload-pack" \
    grep -q '"POST /hello.git/git-upload-pack HTTP/2.0" 200' "$WORLD_NGINX_LOG"
# The same repository under a name the policy does not allow: git.test's
# own address, so only the name differs.
tel_mark
msg=$(sandbox git-denied env GIT_SSL_CAINFO="$WORLD_CA" GIT_TERMINAL_PROMPT=0 \
    git -c "http.curloptResolve=other.test:443:$WORLD_UP4" \
    clone -q https://other.test/hello.git "$out/denied" 2>&1)
st=$?
tap_ok "$([ "$st" -eq 128 ] && grep -q "^fatal: unable to access 'https://other.test/hello.git/'" <<<"$msg"; echo $?)" \
    "git clone from a name the policy does not allow fails (128: $msg)"
tap_check "git: the proxy's refusal of other.test in telemetry" \
    tel_wait '"server_name":"other.test"' '"outcome":"denied"' '"reason":"default deny"'
tap_ok "$([ ! -e "$out/denied" ]; echo $?)" "git: nothing was cloned"
msg=$(sandbox git-denied-dns env GIT_SSL_CAINFO="$WORLD_CA" GIT_TERMINAL_PROMPT=0 \
    git clone -q https://other.test/hello.git "$out/denied" 2>&1)
tap_is "$?: $msg" \
    "128: fatal: unable to access 'https://other.test/hello.git/': Could not resolve host: other.test" \
    "git clone by the denied name alone: it does not resolve"

# --- pip download from a simple-index mirror ------------------------------------------
tel_mark
msg=$(sandbox pip "$WORLD_PYTHON" -m pip download --no-cache-dir \
    --disable-pip-version-check --no-deps --index-url https://pypi.test/simple/ \
    --cert "$WORLD_CA" -d "$out/pip" agentgate_world_pkg 2>&1)
st=$?
tap_ok "$([ "$st" -eq 0 ] && [ -f "$out/pip/agentgate_world_pkg-1.0-py3-none-any.whl" ]; echo $?)" \
    "pip download of a wheel from https://pypi.test/simple/ succeeds ($st)"
[ "$st" -eq 0 ] || tap_diag "$msg"
tap_is "$(cmp "$out/pip/agentgate_world_pkg-1.0-py3-none-any.whl" \
    "$WORLD_DIR/pypi/files/agentgate_world_pkg-1.0-py3-none-any.whl" 2>&1 && echo same)" same \
    "pip: the wheel is the mirror's, byte for byte (pip checked its sha256)"
tap_check "pip: the proxy's allowed event for pypi.test" \
    tel_wait '"server_name":"pypi.test"' '"outcome":"allowed"'
tel_mark
msg=$(sandbox pip-denied "$WORLD_PYTHON" -m pip download --no-cache-dir \
    --disable-pip-version-check --no-deps --retries 0 --timeout 5 \
    --index-url https://other.test/simple/ --cert "$WORLD_CA" \
    -d "$out/pip-denied" agentgate_world_pkg 2>&1)
st=$?
tap_ok "$([ "$st" -eq 1 ] &&
    grep -q 'No matching distribution found for agentgate_world_pkg' <<<"$msg"; echo $?)" \
    "pip download from a name the policy does not allow fails ($st)"
tap_ok "$([ ! -e "$out/pip-denied" ] || [ -z "$(ls -A "$out/pip-denied")" ]; echo $?)" \
    "pip: nothing was downloaded"
tap_check "pip: the forwarder's denial of other.test in telemetry" \
    tel_wait '"question":{"name":"other.test"' '"outcome":"denied"'

tap_check "the proxy's telemetry chain verifies" \
    "$WORLD_CTL" --log-dir "$WORLD_TELDIR" log verify
world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" gateway down >/dev/null
tap_done
