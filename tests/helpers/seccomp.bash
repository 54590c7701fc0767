# What the seccomp backend's tests share (seccomp.bats, seccomplife.bats,
# seccompscale.bats): the command and the programs the library cannot reach,
# portshim in the test's namespace (sup), a command's output under every
# strategy (every_strategy_prints), and the event log's lines (log_check).
BUILT=$(dirname "$PSTEST_LIB")
CLI=${PSTEST_CLI:-$BUILT/portshim}
STATIC=$BUILT/static
GOCONN=$BUILT/go/goconn

# sup ARGS...: portshim ARGS... in the namespace, no PORTSHIM_* but those given.
sup() {
	noshim "$CLI" "$@"
}

# every_strategy_prints STATUS EXPECTED COMMAND...: COMMAND under
# `portshim --backend seccomp --connect odd` and each strategy exits with
# STATUS and prints EXPECTED.
every_strategy_prints() {
	local status=$1 expected=$2 strategy
	shift 2
	for strategy in auto range reuse exclusive; do
		run "-$status" sup --strategy "$strategy" --connect odd --backend seccomp -- "$@"
		echo "$strategy: $output"
		[ "$output" = "$expected" ] || return 1
	done
}

# log_check LOG N POLICY RESULT: N lines, each with that policy and result;
# their ports (with "port":null dropped) are left in log_ports.
log_check() {
	local log=$1 n=$2
	[ "$(wc -l <"$log")" -eq "$n" ] || { echo "expected $n log lines:" >&2; head "$log" >&2; return 1; }
	[ "$(grep -c "\"policy\":\"$3\".*\"result\":\"$4\"" "$log")" -eq "$n" ] ||
		{ echo "not every line has policy $3, result $4:" >&2; head "$log" >&2; return 1; }
	mapfile -t log_ports < <(grep -o '"port":[0-9]*' "$log" | cut -d: -f2)
}
