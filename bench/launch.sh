#!/bin/sh
# bench/launch: time to run `true` in an agentgate-run sandbox, beside
# `unshare -n true` and `bwrap --unshare-net --dev-bind / / true`, median and
# p95 over RUNS runs each, interleaved in the same run (docs/performance.md,
# "Launcher"). Sets up a minimal gateway of its own (a network namespace with
# `agentgatectl gateway up`, settings in a temporary folder) and removes it.
# Needs root. Not a test.
#   bench/launch.sh BUILDDIR [RUNS]        (make bench-launch RUNS=N)
set -eu

build=$(cd "${1:-.}" && pwd)
runs=${2:-200}
run=$build/sandbox-launcher/agentgate-run
ctl=$build/ctl/agentgatectl
timer=$build/bench/launch
[ "$(id -u)" -eq 0 ] || { echo "bench/launch: needs root" >&2; exit 1; }
for b in "$run" "$ctl" "$timer"; do
	[ -x "$b" ] || { echo "bench/launch: $b is not built" >&2; exit 1; }
done
command -v bwrap >/dev/null || { echo "bench/launch: bwrap is needed" >&2; exit 1; }

ns=agbench$$-gw
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-launch.XXXXXX")
cleanup()
{
	ip netns exec "$ns" "$ctl" --config "$tmp/agentgate.conf" gateway down \
	    >/dev/null 2>&1 || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A gateway with no upstream: the launcher only needs its rules and pools.
cat >"$tmp/agentgate.conf" <<CONF
run-dir $tmp/run
policy-dir $tmp/policies
log-dir $tmp/log
sandbox-pool4 198.18.200.0/22
sandbox-pool6 fd00:a9:c8::/48
CONF
mkdir -p "$tmp/policies"
printf 'allow allowed.test\n' >"$tmp/policies/bench.rules"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" "$ctl" --config "$tmp/agentgate.conf" gateway up >/dev/null

echo "bench/launch: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "run-dir on tmpfs (as /run), log-dir on $(df --output=fstype "$tmp" | tail -n 1)"
# RUN_DIR is on a tmpfs as /run/agentgate is on a Debian host, mounted in a
# mount namespace of the benchmark's own (gone with it).
mkdir -p "$tmp/run"
ip netns exec "$ns" unshare -m --propagation private sh -c \
    'mount -t tmpfs -o size=16m,mode=0755 agentgate-bench "$0" && exec "$@"' \
    "$tmp/run" "$timer" -n "$runs" \
    "$run" --config "$tmp/agentgate.conf" --task bench --policy bench -- true \
    ::: unshare -n true \
    ::: bwrap --unshare-net --dev-bind / / true
