# Shared set-up of the approval tests (sourced after tap.sh and world.sh):
# a world whose dnsmasq and nginx know the ask names, client c1 registered
# as task t1 under policy "ap", and helpers to find, decide and wait for
# requests. Scenarios stay in the *.test.sh files.
# shellcheck disable=SC2034

world_require proxy ctl -- iptables-restore ip6tables-restore curl dig python3 ss

# The synthetic pools (the defaults, written out so the tests can check).
AP_POOL4=198.19.254.0/24
AP_POOL4_PREFIX=198.19.254.
AP_POOL6=fd00:a6e1::/112

# ap_world: the world (with the ask names) and client c1.
ap_world()
{
	WORLD_EXTRA_NAMES="$AP_NAMES" world_up || tap_bail "world_up failed"
	world_client c1
	c1v4=$(world_client_addr c1 4)
	c1v6=$(world_client_addr c1 6)
}

# ap_gateway SETTING...: policy ap, the gateway with these settings on top
# of the approval defaults, client c1 registered as task t1.
ap_gateway()
{
	mkdir -p "$WORLD_DIR/policies"
	# *.ask.test on the usual ports, ssh.ask.test on 2222 (a protocol that
	# is neither TLS nor HTTP); the upstream's own addresses for the
	# rebinding rule once a name is approved.
	cat >"$WORLD_DIR/policies/ap.rules" <<-RULES
	ask ssh.ask.test port 2222
	ask *.ask.test
	allow allowed.test
	allow $WORLD_UPNET4 $WORLD_UPNET6 port 80,443,2222
	RULES
	AP_STATE=$WORLD_DIR/agstate
	mkdir -p "$AP_STATE"
	world_gateway "approval-pool4 $AP_POOL4" "approval-pool6 $AP_POOL6" \
	    "state-dir $AP_STATE" "$@" || tap_bail "the gateway did not start"
	AP_SOCK=$WORLD_RUNDIR/control.sock
	tel=$WORLD_TELDIR/egress-proxy.jsonl
	tap_check "task t1 registered for c1" agctl task add --id t1 \
	    --addr "$c1v4" --addr "$c1v6" --policy ap
}

agctl() { "$WORLD_CTL" --config "$WORLD_CONF" "$@"; }

ap_up() { ap_world && ap_gateway "$@"; }

# ap_list_json: every request the proxy knows, one JSON object per line.
ap_list_json() { agctl approvals list --json; }

# ap_id NAME [STATE]: the id of the request for NAME (pending by default).
ap_id()
{
	ap_list_json | grep -F "\"name\":\"$1\"" |
	    grep -F "\"state\":\"${2:-pending}\"" |
	    sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -1
}

# ap_wait_id NAME [CONNS]: wait until a pending request for NAME holds at
# least CONNS connections (1 by default) and print its id.
ap_wait_id()
{
	local i n id
	for i in $(seq 100); do
		id=$(ap_id "$1")
		if [ -n "$id" ]; then
			n=$(ap_list_json | grep -F "\"id\":\"$id\"" |
			    sed -n 's/.*"connections":\([0-9]*\).*/\1/p')
			if [ "${n:-0}" -ge "${2:-1}" ]; then
				echo "$id"
				return 0
			fi
		fi
		sleep 0.1
	done
	echo "no pending request for $1 with ${2:-1} connection(s):" >&2
	ap_list_json >&2
	return 1
}

# ap_curl_bg TAG URL CURLARGS...: curl from c1 in the background, bounded
# by 30 s; its body in $WORLD_DIR/TAG.out, exit status in TAG.rc, the
# milliseconds it took in TAG.ms.
ap_curl_bg()
{
	local tag=$1
	shift
	(
		start=$(date +%s%N)
		world_exec c1 curl -sS --max-time 30 --cacert "$WORLD_CA" "$@" \
		    >"$WORLD_DIR/$tag.out" 2>"$WORLD_DIR/$tag.err"
		rc=$?
		echo $(( ($(date +%s%N) - start) / 1000000 )) >"$WORLD_DIR/$tag.ms"
		echo "$rc" >"$WORLD_DIR/$tag.rc"
	) &
}

# ap_curl_wait TAG: wait for a background curl (at most 35 s); its status.
ap_curl_wait()
{
	local i
	for i in $(seq 350); do
		[ -s "$WORLD_DIR/$1.rc" ] && return "$(cat "$WORLD_DIR/$1.rc")"
		sleep 0.1
	done
	echo "curl $1 did not end" >&2
	return 124
}

tel_mark() { mark=$(wc -l <"$tel"); }
tel_since() { tail -n +"$((mark + 1))" "$tel"; }
# tel_has STRING...: one line since the mark holds every STRING.
tel_has()
{
	local lines
	lines=$(tel_since)
	for s in "$@"; do
		lines=$(grep -F -- "$s" <<<"$lines")
	done
	[ -n "$lines" ]
}
tel_wait() { world_wait "telemetry: $*" tel_has "$@"; }

# proxy_log_has STRING: the proxy's log (stderr) holds STRING.
proxy_log_has() { grep -F -q -- "$1" "$WORLD_LOG/${AP_PROXY_TAG:-proxy}.log"; }

# ap_restart: stop agentgate-proxy and start it again (tag proxyN).
ap_restart_n=1
ap_restart()
{
	world_stop "${AP_PROXY_TAG:-proxy}"
	ap_restart_n=$((ap_restart_n + 1))
	AP_PROXY_TAG=proxy$ap_restart_n
	world_spawn gw "$AP_PROXY_TAG" "$WORLD_PROXY" -f -v --config "$WORLD_CONF"
	world_wait "agentgate-proxy again" world__proxy_ready
}
