# The namespace test world every integration test runs in (bash, as root):
# a gateway namespace, an upstream namespace with nginx, dnsmasq and an echo
# service, and client namespaces routed through the gateway. Everything it
# makes is named with a per-run prefix and torn down from an EXIT trap.
# Layout, addresses and usage: docs/testing.md.

# The WORLD_* variables are the API for the tests that source this file.
# shellcheck disable=SC2034
WORLD_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Fixed addresses (docs/testing.md has the table). Only 198.18.0.0/15 and
# fd00::/8, and they exist only inside the world's namespaces.
WORLD_GW_UP4=198.19.0.1		# gateway, upstream side
WORLD_GW_UP6=fd00:aa:ff::1
WORLD_UP4=198.19.0.2		# nginx: allowed.test, other.test, *.wild.test
WORLD_UP6=fd00:aa:ff::2
WORLD_EVIL4=198.19.0.66		# nginx: evil.test, whatever name is asked
WORLD_EVIL6=fd00:aa:ff::66
WORLD_DNS4=198.19.0.53		# dnsmasq, authoritative for .test
WORLD_DNS6=fd00:aa:ff::53
WORLD_UPNET4=198.19.0.0/24
# Outside the client range, as 198.19.0.0/24 is outside 198.18.0.0/16: a
# gateway whose sandbox pool is the whole client range drops new traffic
# *to* the pool, so the upstream must not be in it.
WORLD_UPNET6=fd00:aa:ff::/64
WORLD_CLIENTNET4=198.18.0.0/16	# client X: 198.18.X.0/24
WORLD_CLIENTNET6=fd00:a9::/32	# client X: fd00:a9:<X in hex>::/64
WORLD_ECHO_PORT=7		# TCP and UDP echo in up
WORLD_NAMES="allowed.test other.test evil.test wild.test"
# Real services on $WORLD_UP4/6, HTTPS only: git over HTTP (git-http-backend
# through fcgiwrap, see world_git_repo) and a simple-index package mirror
# (world_pypi_wheel).
WORLD_SERVICE_NAMES="git.test pypi.test"

WORLD_NGINX=${WORLD_NGINX:-/usr/sbin/nginx}
WORLD_DNSMASQ=${WORLD_DNSMASQ:-/usr/sbin/dnsmasq}
WORLD_PYTHON=${WORLD_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

# Set by world_up: WORLD_DIR (run folder), WORLD_PREFIX, WORLD_NS_GW,
# WORLD_NS_UP, WORLD_CA (CA certificate for --cacert), WORLD_LOG (log
# folder), WORLD_DNS_LOG, WORLD_NGINX_LOG (access log: addr, SNI, Host).

world__err()
{
	echo "world: $*" >&2
}

# world__ip ARGS: every ip(8) call of the world goes through here so that
# none runs in the host namespace by mistake: ARGS must start with -n NS.
world__ip()
{
	if [ "$1" != "-n" ] || [ -z "$2" ]; then
		world__err "internal: ip called without -n: $*"
		return 1
	fi
	ip "$@"
}

# world_ns NAME: the full namespace name of gw, up, or a client NAME.
world_ns()
{
	[ -n "${WORLD_PREFIX:-}" ] || { world__err "world is not up"; return 1; }
	case "$1" in
	gw|up) echo "${WORLD_PREFIX}$1" ;;
	*) echo "${WORLD_PREFIX}c-$1" ;;
	esac
}

# world_exec NAME CMD...: run CMD in namespace NAME (gw, up or a client).
world_exec()
{
	local ns
	ns=$(world_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# world_spawn NAME TAG CMD...: start CMD in the background in namespace NAME,
# stdout and stderr to $WORLD_LOG/TAG.log, pid in $WORLD_DIR/pid/TAG.pid;
# world_down stops it. CMD must stay in the foreground (no daemonising).
world_spawn()
{
	local ns=$1 tag=$2 nsname
	shift 2
	nsname=$(world_ns "$ns") || return 1
	# ip netns exec execs CMD, so $! is CMD's own pid.
	ip netns exec "$nsname" "$@" >"$WORLD_LOG/$tag.log" 2>&1 </dev/null &
	echo $! >"$WORLD_DIR/pid/$tag.pid"
}

# world_pid TAG: the pid of a process started by world_spawn or world_up
# (nginx, dnsmasq, echo).
world_pid()
{
	cat "$WORLD_DIR/pid/$1.pid" 2>/dev/null
}

# world__gone PID: the process has exited (a zombie counts: a child of this
# shell is reaped here, another one's parent or init reaps it).
world__gone()
{
	kill -0 "$1" 2>/dev/null || return 0
	[ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ] || return 1
	wait "$1" 2>/dev/null
	return 0
}

# world__kill_pid PID...: TERM all, wait up to 2 s for them all, then KILL.
world__kill_pid()
{
	local pid left i
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	for i in $(seq 20); do
		left=""
		for pid in "$@"; do
			world__gone "$pid" || left="$left $pid"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $left 2>/dev/null
	for pid in $left; do
		wait "$pid" 2>/dev/null
	done
	return 0
}

# world_stop TAG: stop one process of the world now (e.g. to test what
# happens when a daemon dies).
world_stop()
{
	local pid
	pid=$(world_pid "$1") || return 0
	[ -n "$pid" ] && world__kill_pid "$pid"
	rm -f "$WORLD_DIR/pid/$1.pid"
}

# world_wait DESC CMD...: poll CMD up to 50 x 0.1 s; fail with a message.
world_wait()
{
	local desc=$1 i
	shift
	for i in $(seq 50); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	world__err "timed out waiting for $desc"
	return 1
}

# world__wait_daemon TAG DESC CMD...: like world_wait for a process started
# by world_spawn, but gives up at once when it has exited.
world__wait_daemon()
{
	local tag=$1 desc=$2 pid _
	shift 2
	pid=$(world_pid "$tag")
	for _ in $(seq 50); do
		"$@" >/dev/null 2>&1 && return 0
		if world__gone "$pid"; then
			world__err "$tag exited before $desc answered"
			world__tail "$tag"
			return 1
		fi
		sleep 0.1
	done
	world__err "timed out waiting for $desc"
	world__tail "$tag"
	return 1
}

# world__tail TAG: the end of a process's log, since the run folder goes
# with the world.
world__tail()
{
	tail -n 5 "$WORLD_LOG/$1.log" 2>/dev/null | sed 's/^/world:   /' >&2
	world__err "(WORLD_KEEP=1 keeps $WORLD_LOG/$1.log)"
}

# world_tcp_open NAME ADDR PORT: does a TCP connect from NAME succeed?
world_tcp_open()
{
	world_exec "$1" timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3"
}

# world_wait_tcp NAME ADDR PORT: wait until a daemon listens (e.g. the proxy
# started with world_spawn gw).
world_wait_tcp()
{
	world_wait "TCP $2 port $3 from $1" world_tcp_open "$1" "$2" "$3"
}

# world_gw_iptables ARGS / world_gw_ip6tables ARGS: firewall rules in the
# gateway namespace only; they vanish with it.
world_gw_iptables()
{
	world_exec gw iptables -w "$@"
}

world_gw_ip6tables()
{
	world_exec gw ip6tables -w "$@"
}

# world_atexit CMD: run CMD (a string, eval'd) at the start of world_down,
# for a test's own cleanup, since the world owns the EXIT trap.
world_atexit()
{
	printf '%s\n' "$1" >>"$WORLD_DIR/atexit"
}

# world__addns NAME: create namespace NAME (full name), lo up, recorded for
# world_down before anything else is done in it.
world__addns()
{
	ip netns add "$1" || return 1
	echo "$1" >>"$WORLD_DIR/namespaces"
	# No duplicate address detection, for link-local addresses too: while
	# fe80:: is tentative, neighbour discovery stalls the first IPv6
	# packets for a second or two.
	ip netns exec "$1" sysctl -q -w net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0 >/dev/null &&
	world__ip -n "$1" link set lo up
}

# world__link_ready NS DEV: the kernel has activated DEV (operstate UP,
# a real qdisc). Until then, a fresh veth drops what is sent on it, which
# costs the first IPv6 neighbour solicitation a one-second retry.
world__link_ready()
{
	world__ip -n "$1" -o link show dev "$2" | grep -q 'qdisc noqueue.* state UP '
}

world__wait_links()
{
	local ns dev
	while [ $# -ge 2 ]; do
		ns=$1 dev=$2
		shift 2
		world_wait "link $dev in $ns" world__link_ready "$ns" "$dev" || return 1
	done
}

# world_client NAME [--dns ADDR]: make client namespace NAME, routed via the
# gateway: veth eth0 (client) <-> c-NAME (gw), 198.18.X.2/24 and
# fd00:a9:X::2/64, default routes via .1 / ::1. Its resolv.conf (seen by
# `world_exec NAME`) names ADDR, by default the gateway's address on its link.
world_client()
{
	local name=$1 dns="" idx ns gw4 gw6 c4 c6 hex
	shift
	if [ "${1:-}" = --dns ]; then
		dns=$2
		shift 2
	fi
	case "$name" in
	gw|up|*[!a-z0-9]*|"") world__err "bad client name '$name' (a-z0-9)"; return 1 ;;
	esac
	if [ ${#name} -gt 12 ]; then
		world__err "client name '$name' too long (12 max)"
		return 1
	fi
	if [ -e "$WORLD_DIR/clients/$name" ]; then
		world__err "client '$name' exists"
		return 1
	fi
	idx=$(($(ls "$WORLD_DIR/clients" | wc -l) + 1))
	if [ "$idx" -gt 254 ]; then
		world__err "too many clients"
		return 1
	fi
	echo "$idx" >"$WORLD_DIR/clients/$name"
	ns=$(world_ns "$name")
	hex=$(printf %x "$idx")
	gw4=198.18.$idx.1 c4=198.18.$idx.2
	gw6=fd00:a9:$hex::1 c6=fd00:a9:$hex::2
	[ -n "$dns" ] || dns=$gw4
	world__addns "$ns" &&
	world__ip -n "$WORLD_NS_GW" link add "c-$name" type veth peer name eth0 netns "$ns" &&
	world__ip -n "$WORLD_NS_GW" addr add "$gw4/24" dev "c-$name" &&
	world__ip -n "$WORLD_NS_GW" addr add "$gw6/64" dev "c-$name" nodad &&
	world__ip -n "$WORLD_NS_GW" link set "c-$name" up &&
	world__ip -n "$ns" addr add "$c4/24" dev eth0 &&
	world__ip -n "$ns" addr add "$c6/64" dev eth0 nodad &&
	world__ip -n "$ns" link set eth0 up &&
	world__ip -n "$ns" route add default via "$gw4" &&
	world__ip -n "$ns" -6 route add default via "$gw6" &&
	world__wait_links "$ns" eth0 "$WORLD_NS_GW" "c-$name" || {
		world__err "cannot make client '$name'"
		return 1
	}
	world__etc_netns_add "$ns" \
	    "$(printf 'nameserver %s\noptions timeout:1 attempts:2' "$dns")"
}

# ip netns exec bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf
# inside NS only; the host's file is untouched. /etc/netns itself, when a
# world made it, carries a marker and goes with the last world's client.
# Worlds run in parallel, so both steps hold a lock (flock on /etc).
WORLD_ETC_NETNS_MARK=/etc/netns/.agentgate-world

# world__etc_netns_add NS RESOLVCONF: /etc/netns/NS/resolv.conf.
world__etc_netns_add()
{
	echo "/etc/netns/$1" >>"$WORLD_DIR/etc-netns"
	(
		flock 9 || exit 1
		if [ ! -d /etc/netns ]; then
			mkdir /etc/netns && touch "$WORLD_ETC_NETNS_MARK" || exit 1
		fi
		mkdir -p "/etc/netns/$1" &&
		printf '%s\n' "$2" >"/etc/netns/$1/resolv.conf"
	) 9</etc
}

# world__etc_netns_del DIR...: remove these /etc/netns/NS folders, and
# /etc/netns when a world made it and nothing else is left in it.
world__etc_netns_del()
{
	(
		flock 9 || exit 1
		for f in "$@"; do
			case "$f" in /etc/netns/ag*-*) rm -rf "$f" ;; esac
		done
		if [ -f "$WORLD_ETC_NETNS_MARK" ] &&
		    [ "$(ls -A /etc/netns)" = "${WORLD_ETC_NETNS_MARK##*/}" ]; then
			rm -f "$WORLD_ETC_NETNS_MARK" && rmdir /etc/netns
		fi
		exit 0
	) 9</etc
}

# world_client_addr NAME 4|6: the client's own address.
# world_client_gw NAME 4|6: the gateway's address on the client's link.
world_client_addr()
{
	world__client_host "$1" "$2" 2
}

world_client_gw()
{
	world__client_host "$1" "$2" 1
}

world__client_host()
{
	local idx
	idx=$(cat "$WORLD_DIR/clients/$1" 2>/dev/null) || {
		world__err "no client '$1'"
		return 1
	}
	case "$2" in
	4) echo "198.18.$idx.$3" ;;
	6) printf 'fd00:a9:%x::%s\n' "$idx" "$3" ;;
	*) world__err "family must be 4 or 6"; return 1 ;;
	esac
}

# world_curl NAME CURLARGS...: curl from NAME trusting the world's CA, with
# bounded time; prints the body.
world_curl()
{
	local name=$1
	shift
	world_exec "$name" curl -sS --max-time 5 --connect-timeout 3 \
	    --cacert "$WORLD_CA" "$@"
}

# world_dig NAME DIGARGS...: dig from NAME with bounded time.
world_dig()
{
	local name=$1
	shift
	world_exec "$name" dig +time=1 +tries=2 "$@"
}

# world_dns_mark: later world_dns_asked calls look only at queries after now.
world_dns_mark()
{
	world_dns_sync && wc -l <"$WORLD_DNS_LOG" >"$WORLD_DIR/dns-mark"
}

# world_dns_sync: return once every query dnsmasq received so far is in its
# log (it logs in order, so a fresh query's line comes after them all). Use
# before asserting that a name was NOT asked.
world_dns_sync()
{
	local name="sync-$RANDOM$RANDOM.world-sync.test"
	world_exec up dig +time=1 +tries=2 +short "@$WORLD_DNS4" "$name" >/dev/null
	world_wait "dnsmasq log line for $name" grep -qF " $name from " "$WORLD_DNS_LOG"
}

# world_dns_asked NAME [TYPE]: did dnsmasq receive a query for NAME (of TYPE,
# e.g. A, AAAA, TXT) since world_dns_mark? Syncs with the log first, so a
# "no" is certain.
world_dns_asked()
{
	local name=$1 type=${2:-[A-Z0-9]*}
	world_dns_sync || return 1
	world__dns_lines | grep -qi "query\[$type\] ${name//./\\.} from "
}

# world_dns_log: the query lines since world_dns_mark (for diagnostics).
world_dns_log()
{
	world__dns_lines | grep -F 'query['
}

world__dns_lines()
{
	local mark
	mark=$(cat "$WORLD_DIR/dns-mark" 2>/dev/null || echo 0)
	tail -n +"$((mark + 1))" "$WORLD_DNS_LOG"
}

# world_git_repo NAME: a bare repository NAME.git served at
# https://git.test/NAME.git, with one commit holding README ("world-git
# NAME"). Starts fcgiwrap (git-http-backend behind nginx) in up on first use,
# with its socket in the run folder: never a system service.
world_git_repo()
{
	local name=$1 d=$WORLD_DIR/git work
	case "$name" in
	""|*[!a-z0-9-]*) world__err "bad repository name '$name'"; return 1 ;;
	esac
	mkdir -p "$d" || return 1
	work=$(mktemp -d "$WORLD_DIR/git-work.XXXXXX") || return 1
	{
		git init -q -b main "$work" &&
		echo "world-git $name" >"$work/README" &&
		git -C "$work" add README &&
		git -C "$work" -c user.name=world -c user.email=world@git.test \
		    commit -q -m "world repository $name" &&
		git clone -q --bare "$work" "$d/$name.git"
	} >>"$WORLD_LOG/git.log" 2>&1 || {
		world__err "cannot make repository $name: see $WORLD_LOG/git.log"
		rm -rf "$work"
		return 1
	}
	rm -rf "$work"
	[ -n "$(world_pid fcgiwrap)" ] && return 0
	world_spawn up fcgiwrap /usr/sbin/fcgiwrap -c 2 -s "unix:$d/fcgiwrap.sock"
	world__wait_daemon fcgiwrap "fcgiwrap's socket" test -S "$d/fcgiwrap.sock" ||
		return 1
	# nginx's workers run as nobody.
	chmod 666 "$d/fcgiwrap.sock"
}

# world_pypi_wheel NAME VERSION: a pure-Python wheel NAME-VERSION made now by
# hand (a module NAME.py, METADATA, WHEEL, RECORD) and listed in the simple
# index at https://pypi.test/simple/NAME/ (PEP 503: the name normalised,
# `a_b` under simple/a-b/; the link carries the wheel's sha256).
world_pypi_wheel()
{
	local name=$1 version=$2 d=$WORLD_DIR/pypi
	case "$name$version" in
	""|*[!a-z0-9_.]*) world__err "bad package '$name' '$version'"; return 1 ;;
	esac
	mkdir -p "$d/files" || return 1
	"$WORLD_PYTHON" - "$d" "$name" "$version" <<-'PY' 2>>"$WORLD_LOG/pypi.log" || {
	import base64, hashlib, os, re, sys, zipfile
	d, name, version = sys.argv[1:4]
	# The index folder is the normalised project name (PEP 503).
	index = os.path.join(d, "simple", re.sub(r"[-_.]+", "-", name).lower())
	os.makedirs(index, exist_ok=True)
	whl = "%s-%s-py3-none-any.whl" % (name, version)
	info = "%s-%s.dist-info" % (name, version)
	files = {
	    "%s.py" % name: "WORLD = %r\n" % ("world-pypi %s %s" % (name, version)),
	    info + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
	        "Summary: agentgate test world package\n" % (name, version),
	    info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: world.sh\n"
	        "Root-Is-Purelib: true\nTag: py3-none-any\n",
	}
	def digest(data):
	    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
	    return "sha256=" + h.rstrip(b"=").decode()
	record = "".join("%s,%s,%d\n" % (p, digest(t.encode()), len(t.encode()))
	                 for p, t in files.items())
	files[info + "/RECORD"] = record + info + "/RECORD,,\n"
	path = os.path.join(d, "files", whl)
	with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
	    for p, t in files.items():
	        z.writestr(p, t)
	sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
	links = os.path.join(index, "links")
	with open(links, "a") as f:
	    f.write('<a href="../../files/%s#sha256=%s">%s</a><br>\n' % (whl, sha, whl))
	with open(os.path.join(index, "index.html"), "w") as f:
	    f.write("<!DOCTYPE html>\n<html><body>\n" + open(links).read() +
	            "</body></html>\n")
	PY
		world__err "cannot make wheel $name $version: see $WORLD_LOG/pypi.log"
		return 1
	}
}

# world__programs: WORLD_BUILD, the build folder (WORLD_BUILDDIR, else
# $top_builddir as make check sets it, else the source tree's top), and the
# paths of the programs the tests run from it. Fails when the folder is
# missing; the paths are set anyway (then nothing is found there).
world__programs()
{
	local st=0
	WORLD_BUILD=$(cd "${WORLD_BUILDDIR:-${top_builddir:-$WORLD_LIB/../..}}" &&
	    pwd) || st=1
	WORLD_CTL=$WORLD_BUILD/ctl/agentgatectl
	WORLD_PROXY=$WORLD_BUILD/proxy/agentgate-proxy
	WORLD_NFQ=$WORLD_BUILD/nfq-filter/agentgate-nfq
	WORLD_RUN=$WORLD_BUILD/sandbox-launcher/agentgate-run
	return "$st"
}

# world_require [PROGRAM...] [-- TOOL...]: the preamble of an integration
# test, before world_up (tap.sh sourced first). The whole test is skipped
# (tap_skip_all, exit 0) unless it runs as root, every PROGRAM of the build
# (ctl, proxy, nfq, run) is built and every TOOL is installed (a command
# looked up in PATH, /usr/sbin and /sbin, or a path). Sets WORLD_BUILD and
# the programs' paths: WORLD_CTL, WORLD_PROXY, WORLD_NFQ, WORLD_RUN.
world_require()
{
	local p t
	world__programs
	[ "$(id -u)" -eq 0 ] || tap_skip_all "not root"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case "$1" in
		ctl) p=$WORLD_CTL ;;
		proxy) p=$WORLD_PROXY ;;
		nfq) p=$WORLD_NFQ ;;
		run) p=$WORLD_RUN ;;
		*) tap_bail "world_require: unknown program '$1'" ;;
		esac
		[ -x "$p" ] || tap_skip_all "$p not built"
		shift
	done
	[ "${1:-}" = -- ] && shift
	for t in "$@"; do
		PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null 2>&1 ||
			tap_skip_all "$t is not installed (tools/install-deps)"
	done
}

# world_gateway [SETTING...]: the real gateway in gw. Writes the settings
# $WORLD_CONF (each SETTING, "key value", replaces the default line of its
# key or is added), runs agentgatectl gateway up, starts agentgate-proxy
# (world_spawn tag proxy) and waits for its transparent port and its DNS
# forwarder. Defaults: the pools are the whole client range, the usual
# ports, dns-upstream the world's dnsmasq, files under the run folder
# ($WORLD_RUNDIR, $WORLD_POLICIES, $WORLD_TELDIR). Programs as
# world_require finds them (WORLD_CTL, WORLD_PROXY).
world_gateway()
{
	local s key
	local -a lines
	world__programs || return 1
	WORLD_CONF=$WORLD_DIR/agentgate.conf
	WORLD_RUNDIR=$WORLD_DIR/agrun
	WORLD_POLICIES=$WORLD_DIR/policies
	WORLD_TELDIR=$WORLD_DIR/aglog
	lines=("sandbox-pool4 $WORLD_CLIENTNET4" "sandbox-pool6 $WORLD_CLIENTNET6"
	    "proxy-port 3129" "proxy-explicit-port 3128" "dns-port 5353"
	    "dns-upstream $WORLD_DNS4" "log-dir $WORLD_TELDIR"
	    "run-dir $WORLD_RUNDIR" "policy-dir $WORLD_POLICIES"
	    "proxy-user nobody")
	for s in "$@"; do
		key=${s%% *}
		lines=("${lines[@]/#$key */}" "$s")
	done
	mkdir -p "$WORLD_RUNDIR" "$WORLD_POLICIES" "$WORLD_TELDIR" || return 1
	printf '%s\n' "${lines[@]}" | grep . >"$WORLD_CONF"
	world_exec gw "$WORLD_CTL" --config "$WORLD_CONF" gateway up \
	    >"$WORLD_LOG/gateway-up.log" 2>&1 || {
		world__err "gateway up failed"
		world__tail gateway-up
		return 1
	}
	world_spawn gw proxy "$WORLD_PROXY" -f -v --config "$WORLD_CONF" || return 1
	world__wait_daemon proxy "agentgate-proxy's ports" world__proxy_ready
}

# The transparent port (TCP) and the forwarder (UDP) listen.
world__proxy_ready()
{
	local tp up
	tp=$(sed -n 's/^proxy-port //p' "$WORLD_CONF")
	up=$(sed -n 's/^dns-port //p' "$WORLD_CONF")
	world_exec gw ss -Hltn "sport = :$tp" | grep -q . &&
	    world_exec gw ss -Hlun "sport = :$up" | grep -q .
}

# world__certs: a test CA and one server certificate with a SAN for every
# name of the world, made now (EC P-256: fast).
world__certs()
{
	local d=$WORLD_DIR/certs names n san=""
	mkdir -p "$d"
	names="$WORLD_NAMES *.wild.test $WORLD_SERVICE_NAMES $WORLD_EXTRA_NAMES"
	for n in $names; do
		san="$san${san:+,}DNS:$n"
	done
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
		    -subj "/CN=agentgate test world CA" \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$d/server.key" -out "$d/server.csr" \
		    -subj "/CN=allowed.test" &&
		printf '%s\n' "subjectAltName=$san" \
		    "basicConstraints=critical,CA:FALSE" \
		    "keyUsage=critical,digitalSignature" \
		    "extendedKeyUsage=serverAuth" >"$d/server.ext" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
		    -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		    -extfile "$d/server.ext" -out "$d/server.pem"
	} >"$WORLD_LOG/openssl.log" 2>&1 || {
		world__err "cannot make certificates: see $WORLD_LOG/openssl.log"
		return 1
	}
	WORLD_CA=$d/ca.pem
}

# world__nginx_vhost ADDR4 ADDR6 SERVER_NAMES VHOST DEFAULT: one server block
# per port set; the body names the vhost so a test knows who answered.
world__nginx_vhost()
{
	local a4=$1 a6=$2 names=$3 vhost=$4 def=$5 p
	echo "server {"
	for p in 80 8080; do
		echo "	listen $a4:$p$def; listen [$a6]:$p$def;"
	done
	for p in 443 8443; do
		echo "	listen $a4:$p ssl http2$def; listen [$a6]:$p ssl http2$def;"
	done
	echo "	server_name $names;"
	echo "	add_header X-World-Vhost $vhost always;"
	echo "	location / { return 200 \"vhost=$vhost scheme=\$scheme addr=\$server_addr host=\$host\\n\"; }"
	echo "}"
}

world__nginx()
{
	local d=$WORLD_DIR/nginx n
	mkdir -p "$d/tmp"
	{
		cat <<-EOF
		# Made by tests/world/world.sh; never the system's configuration.
		worker_processes ${WORLD_NGINX_WORKERS:-1};
		pid $d/nginx.pid;
		daemon off;
		error_log $WORLD_LOG/nginx-error.log info;
		events { worker_connections 4096; }
		http {
		    default_type text/plain;
		    log_format world '\$remote_addr -> \$server_addr:\$server_port sni=\$ssl_server_name host=\$host "\$request" \$status';
		    access_log $WORLD_LOG/nginx-access.log world;
		    client_body_temp_path $d/tmp/body;
		    proxy_temp_path $d/tmp/proxy;
		    fastcgi_temp_path $d/tmp/fastcgi;
		    uwsgi_temp_path $d/tmp/uwsgi;
		    scgi_temp_path $d/tmp/scgi;
		    ssl_certificate $WORLD_DIR/certs/server.pem;
		    ssl_certificate_key $WORLD_DIR/certs/server.key;
		    ssl_protocols TLSv1.2 TLSv1.3;
		EOF
		# Any name on up's main address that no vhost claims.
		world__nginx_vhost "$WORLD_UP4" "$WORLD_UP6" '""' default " default_server"
		# evil.test owns its address: whatever SNI or Host arrives there,
		# evil answers, so a test sees where a connection really went.
		world__nginx_vhost "$WORLD_EVIL4" "$WORLD_EVIL6" evil.test evil.test " default_server"
		for n in $WORLD_NAMES $WORLD_EXTRA_NAMES; do
			[ "$n" = evil.test ] && continue
			world__nginx_vhost "$WORLD_UP4" "$WORLD_UP6" "$n" "$n" ""
		done
		world__nginx_vhost "$WORLD_UP4" "$WORLD_UP6" '*.wild.test' '*.wild.test' ""
		world__nginx_services
		echo "}"
	} >"$d/nginx.conf"
	# In the foreground, a child of the test shell: world_down stops it
	# by pid and nothing is left for init to reap.
	world_spawn up nginx "$WORLD_NGINX" -p "$d/" -c "$d/nginx.conf" \
	    -e "$WORLD_LOG/nginx-error.log"
}

# world__nginx_services: git.test and pypi.test (HTTPS, both families).
# git.test hands every request to git-http-backend through fcgiwrap's
# socket, which world_git_repo starts on first use; pypi.test serves
# $WORLD_DIR/pypi as files.
world__nginx_services()
{
	local l="listen $WORLD_UP4:443 ssl http2; listen [$WORLD_UP6]:443 ssl http2;"
	cat <<-EOF
	server {
	    $l
	    server_name git.test;
	    location / {
	        fastcgi_pass unix:$WORLD_DIR/git/fcgiwrap.sock;
	        fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
	        fastcgi_param GIT_PROJECT_ROOT $WORLD_DIR/git;
	        fastcgi_param GIT_HTTP_EXPORT_ALL 1;
	        fastcgi_param PATH_INFO \$uri;
	        fastcgi_param QUERY_STRING \$args;
	        fastcgi_param REQUEST_METHOD \$request_method;
	        fastcgi_param CONTENT_TYPE \$content_type;
	        fastcgi_param CONTENT_LENGTH \$content_length;
	        fastcgi_param REMOTE_ADDR \$remote_addr;
	        fastcgi_param SERVER_PROTOCOL \$server_protocol;
	        fastcgi_param GATEWAY_INTERFACE CGI/1.1;
	    }
	}
	server {
	    $l
	    server_name pypi.test;
	    root $WORLD_DIR/pypi;
	    default_type application/octet-stream;
	    location /simple/ { index index.html; default_type text/html; }
	}
	EOF
}

world__dnsmasq()
{
	local d=$WORLD_DIR/dnsmasq n
	mkdir -p "$d"
	{
		cat <<-EOF
		# Made by tests/world/world.sh. No upstream servers at all: .test
		# is answered here, everything else is refused.
		no-resolv
		no-hosts
		no-poll
		bind-interfaces
		listen-address=$WORLD_DNS4,$WORLD_DNS6
		port=53
		user=root
		keep-in-foreground
		pid-file=$d/dnsmasq.pid
		log-queries
		log-facility=$WORLD_DNS_LOG
		local=/test/
		local-ttl=5
		address=/wild.test/$WORLD_UP4
		address=/wild.test/$WORLD_UP6
		host-record=world-ready.test,$WORLD_UP4
		host-record=evil.test,$WORLD_EVIL4,$WORLD_EVIL6
		cname=alias.test,allowed.test
		host-record=rebind-loopback.test,127.0.0.1,::1
		host-record=rebind-private.test,10.1.2.3,fd12:3456::1
		host-record=rebind-linklocal.test,169.254.1.1,fe80::1
		host-record=rebind-metadata.test,169.254.169.254,fd00:ec2::254
		host-record=rebind-gateway.test,$WORLD_GW_UP4,$WORLD_GW_UP6
		EOF
		for n in $WORLD_NAMES $WORLD_SERVICE_NAMES $WORLD_EXTRA_NAMES; do
			case "$n" in
			evil.test|wild.test) ;;
			*) echo "host-record=$n,$WORLD_UP4,$WORLD_UP6" ;;
			esac
			echo "txt-record=$n,\"world-txt $n\""
		done
	} >"$d/dnsmasq.conf"
	world_spawn up dnsmasq "$WORLD_DNSMASQ" --conf-file="$d/dnsmasq.conf"
}

world__ready_http()
{
	world_exec up curl -s -o /dev/null --max-time 1 --cacert "$WORLD_CA" \
	    --resolve "allowed.test:443:$WORLD_UP4" https://allowed.test/
}

world__ready_dns()
{
	[ "$(world_exec up dig +time=1 +tries=1 +short "@$WORLD_DNS4" world-ready.test A)" = "$WORLD_UP4" ]
}

# world_up: build the world and arm the teardown trap. When anything fails
# it says what on stderr, tears down what it made and returns non-zero.
world_up()
{
	if [ -n "${WORLD_DIR:-}" ]; then
		world__err "world is already up ($WORLD_DIR)"
		return 1
	fi
	world__up && return 0
	world_down
	return 1
}

world__up()
{
	local tmp=${TMPDIR:-/tmp}
	if [ "$(id -u)" -ne 0 ]; then
		world__err "must run as root"
		return 1
	fi
	# BASHPID, not $$: two subshells of one test may each have a world.
	WORLD_PREFIX=ag$BASHPID-
	if ip netns list | grep -q "^$WORLD_PREFIX"; then
		# A leftover from a dead run with the same pid.
		WORLD_PREFIX=ag${BASHPID}x$RANDOM-
	fi
	WORLD_DIR=$(mktemp -d "$tmp/agentgate-world.XXXXXX") || {
		WORLD_DIR=""
		return 1
	}
	# Daemons that drop privileges (nginx workers, later the proxy) must
	# still reach their files.
	chmod 755 "$WORLD_DIR"
	trap 'world__on_exit' EXIT
	trap 'world_down; trap - EXIT; exit 130' INT
	trap 'world_down; trap - EXIT; exit 143' TERM
	WORLD_LOG=$WORLD_DIR/log
	WORLD_DNS_LOG=$WORLD_LOG/dns-queries.log
	WORLD_NGINX_LOG=$WORLD_LOG/nginx-access.log
	WORLD_NS_GW=${WORLD_PREFIX}gw
	WORLD_NS_UP=${WORLD_PREFIX}up
	WORLD_EXTRA_NAMES=${WORLD_EXTRA_NAMES:-}
	mkdir -p "$WORLD_LOG" "$WORLD_DIR/pid" "$WORLD_DIR/clients"
	: >"$WORLD_DIR/namespaces"
	echo "$BASHPID" >"$WORLD_DIR/owner"
	echo "$WORLD_PREFIX" >"$WORLD_DIR/prefix"

	world__addns "$WORLD_NS_GW" && world__addns "$WORLD_NS_UP" &&
	world__ip -n "$WORLD_NS_GW" link add up0 type veth peer name gw0 netns "$WORLD_NS_UP" &&
	world__ip -n "$WORLD_NS_GW" addr add "$WORLD_GW_UP4/24" dev up0 &&
	world__ip -n "$WORLD_NS_GW" addr add "$WORLD_GW_UP6/64" dev up0 nodad &&
	world__ip -n "$WORLD_NS_GW" link set up0 up &&
	world__ip -n "$WORLD_NS_UP" addr add "$WORLD_UP4/24" dev gw0 &&
	world__ip -n "$WORLD_NS_UP" addr add "$WORLD_EVIL4/24" dev gw0 &&
	world__ip -n "$WORLD_NS_UP" addr add "$WORLD_DNS4/24" dev gw0 &&
	world__ip -n "$WORLD_NS_UP" addr add "$WORLD_UP6/64" dev gw0 nodad &&
	world__ip -n "$WORLD_NS_UP" addr add "$WORLD_EVIL6/64" dev gw0 nodad &&
	world__ip -n "$WORLD_NS_UP" addr add "$WORLD_DNS6/64" dev gw0 nodad &&
	world__ip -n "$WORLD_NS_UP" link set gw0 up &&
	world__ip -n "$WORLD_NS_UP" route add "$WORLD_CLIENTNET4" via "$WORLD_GW_UP4" &&
	world__ip -n "$WORLD_NS_UP" -6 route add "$WORLD_CLIENTNET6" via "$WORLD_GW_UP6" || {
		world__err "cannot make the namespaces"
		return 1
	}
	# Forwarding in the gateway namespace only (sysctl under ip netns
	# exec writes that namespace's /proc/sys/net).
	world_exec gw sysctl -q -w net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 >/dev/null || return 1

	world__certs || return 1
	world__nginx || return 1
	world__dnsmasq || return 1
	world_spawn up echo "$WORLD_PYTHON" "$WORLD_LIB/echo.py" "$WORLD_ECHO_PORT" || return 1
	# The links come up while the certificates and daemons are made.
	world__wait_links "$WORLD_NS_UP" gw0 "$WORLD_NS_GW" up0 || return 1
	world__wait_daemon nginx "nginx on $WORLD_UP4:443" world__ready_http &&
	world__wait_daemon dnsmasq "dnsmasq on $WORLD_DNS4:53" world__ready_dns &&
	world__wait_daemon echo "echo on $WORLD_UP4:$WORLD_ECHO_PORT" \
	    world_tcp_open up "$WORLD_UP4" "$WORLD_ECHO_PORT" || return 1
	world_dns_mark
}

world__on_exit()
{
	local rc=$?
	world_down
	exit "$rc"
}

# world_down: stop every process, delete every namespace (and so every veth
# and firewall rule in it), remove the run folder unless WORLD_KEEP=1.
# WORLD_KEEP=running leaves the whole world up for debugging; clean it later
# with tests/world/world-clean. Idempotent.
world_down()
{
	local dir=${WORLD_DIR:-} f ns pids
	# Cleared first: a signal arriving during teardown finds nothing to do.
	WORLD_DIR=""
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	if [ "${WORLD_KEEP:-}" = running ]; then
		echo "world: kept running in $dir (prefix $WORLD_PREFIX);" \
		    "remove with $WORLD_LIB/world-clean $dir" >&2
		return 0
	fi
	if [ -f "$dir/atexit" ]; then
		# The hooks still see the world (world_exec, world_stop, logs).
		mv "$dir/atexit" "$dir/atexit.run"
		WORLD_DIR=$dir
		while IFS= read -r f; do
			eval "$f"
		done <"$dir/atexit.run"
		WORLD_DIR=""
	fi
	pids=""
	for f in "$dir"/pid/*.pid; do
		[ -f "$f" ] || continue
		pids="$pids $(cat "$f")"
	done
	# shellcheck disable=SC2086
	world__kill_pid $pids
	rm -f "$dir"/pid/*.pid
	# Anything else still inside the world's namespaces (a daemon a test
	# started with world_exec and forgot) goes too.
	pids=""
	while IFS= read -r ns; do
		[ -n "$ns" ] && pids="$pids $(ip netns pids "$ns" 2>/dev/null)"
	done <"$dir/namespaces"
	# shellcheck disable=SC2086
	world__kill_pid $pids
	while IFS= read -r ns; do
		[ -n "$ns" ] || continue
		for _ in 1 2 3 4 5; do
			ip netns del "$ns" 2>/dev/null || true
			ip netns list | grep -q "^$ns\( \|$\)" || break
			sleep 0.1
		done
	done <"$dir/namespaces"
	if [ -f "$dir/etc-netns" ]; then
		# shellcheck disable=SC2046
		world__etc_netns_del $(cat "$dir/etc-netns")
	fi
	if [ "${WORLD_KEEP:-}" = 1 ]; then
		echo "world: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
	WORLD_PREFIX=""
	return 0
}
