# TAP output for the integration tests (bash). Source it, call tap_ok /
# tap_check for each check, tap_done at the end: the plan comes last so a
# test need not count its checks in advance (automake's TAP driver accepts it).

TAP_N=0
TAP_FAILED=0

# tap_skip_all REASON: the whole test does not apply here; exits 0.
tap_skip_all()
{
	echo "1..0 # SKIP $*"
	exit 0
}

# tap_ok STATUS DESCRIPTION: one result from an exit status computed by the caller.
tap_ok()
{
	local st=$1
	shift
	TAP_N=$((TAP_N + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	return "$st"
}

# tap_check DESCRIPTION CMD...: run CMD; ok when it exits 0. Its output goes
# to the TAP stream as comments, so a failure shows why.
tap_check()
{
	local desc=$1 out st
	shift
	out=$("$@" 2>&1)
	st=$?
	[ "$st" -ne 0 ] && [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	tap_ok "$st" "$desc"
}

# tap_check_not DESCRIPTION CMD...: ok when CMD fails (e.g. a blocked connect).
tap_check_not()
{
	local desc=$1 out st
	shift
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" -eq 0 ]; then
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
		tap_ok 1 "$desc"
	else
		tap_ok 0 "$desc"
	fi
}

# tap_is GOT WANT DESCRIPTION: ok when two strings are equal.
tap_is()
{
	local got=$1 want=$2 st=0
	shift 2
	if [ "$got" != "$want" ]; then
		st=1
		printf '# got:  %s\n# want: %s\n' "$got" "$want"
	fi
	tap_ok "$st" "$*"
}

# tap_skip DESCRIPTION REASON: one check that does not apply.
tap_skip()
{
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

# tap_diag TEXT...: a comment line in the TAP stream.
tap_diag()
{
	printf '# %s\n' "$*"
}

# tap_bail REASON: stop the whole test (the EXIT trap still tears down).
tap_bail()
{
	echo "Bail out! $*"
	exit 1
}

# tap_done: print the plan; exit status 1 when any check failed.
tap_done()
{
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
