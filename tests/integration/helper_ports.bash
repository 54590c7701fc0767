# Part of helper.bash, which sources it (a test file loads helper alone):
# where the ports are read and how they are checked.  The logging servers,
# and the probe run against them or refused before its main(); the sink,
# and the summary lines of the C programs that hold or cycle many
# connections against it.

# start_server tcp|udp ADDR PORT [PROGRAM]: a logging server (default
# portlog.py; httplog.py takes no protocol) in the background, without the
# shim; returns once it listens.  Its log: server_log PORT.
start_server() {
	local proto=$1 addr=$2 port=$3 program=${4:-portlog.py} log i
	log=$(server_log "$port")
	: >"$log"
	rm -f "$log.ready"
	local args=("$proto" "$addr" "$port" "$log")
	[ "$program" = portlog.py ] || args=("$addr" "$port" "$log")
	in_ns_background "$log.out" "$PYTHON" "$PROGRAMS/$program" "${args[@]}"
	for i in $(seq 500); do
		[ -e "$log.ready" ] && return 0
		kill -0 "${BACKGROUND_PIDS[-1]}" 2>/dev/null || break
		sleep 0.02
	done
	echo "server on $addr:$port did not start:" >&2
	cat "$log.out" >&2
	return 1
}

# hold_ports N PROBE_ARGS...: a probe without the shim that makes N
# attempts, keeps every socket open and sleeps; returns once it has them
# all, their ports (or errors) in $held.
hold_ports() {
	local n=$1 out=$BATS_TEST_TMPDIR/holder-${#BACKGROUND_PIDS[@]} i
	shift
	in_ns_background "$out" "$PROBE" -k -1 -s 200 -n "$n" "$@"
	for i in $(seq 500); do
		[ "$(wc -l <"$out")" -ge "$n" ] && break
		sleep 0.02
	done
	held=$(cat "$out")
	echo "holder: $held"
	[ "$(wc -l <"$out")" -eq "$n" ]
}

server_log() {
	printf '%s\n' "$BATS_TEST_TMPDIR/server-$1.log"
}

# server_ports PORT [COUNT]: the client ports the server on PORT saw, in
# order.  With COUNT, once it has logged that many (for up to 20 s): a
# client that closes without waiting for the server (Go, rawconnect,
# prefork) can be done before the server has logged its last connections.
server_ports() {
	local log i
	log=$(server_log "$1")
	if [ -n "${2:-}" ]; then
		for i in $(seq 1000); do
			[ "$(wc -l <"$log")" -lt "$2" ] || break
			sleep 0.02
		done
	fi
	awk '{ print $2 }' "$log"
}

# The lines of $output that are ports (a probe prints errno names too).
output_ports() {
	printf '%s\n' "$output" | grep -E '^[0-9]+$' || true
}

# assert_ports RULE PORT...: at least one port, each a number satisfying
# RULE: even | odd | MOD:RES | LO-HI (inclusive).  An empty list fails: a
# check that passes on nothing proves nothing.
assert_ports() {
	local rule=$1 p bad=0
	shift
	if [ $# -eq 0 ]; then
		echo "assert_ports $rule: no ports at all" >&2
		return 1
	fi
	for p in "$@"; do
		if ! [[ $p =~ ^[0-9]+$ ]]; then
			echo "assert_ports $rule: '$p' is not a port" >&2
			bad=1
			continue
		fi
		case $rule in
		even) ((p % 2 == 0)) ;;
		odd) ((p % 2 == 1)) ;;
		*:*) ((p % ${rule%%:*} == ${rule##*:})) ;;
		*-*) ((p >= ${rule%%-*} && p <= ${rule##*-})) ;;
		esac || {
			echo "assert_ports $rule: port $p does not satisfy it" >&2
			bad=1
		}
	done
	return $bad
}

# assert_same_lists A B: two newline-separated lists are equal and non-empty.
assert_same_lists() {
	if [ -z "$1" ] || [ "$1" != "$2" ]; then
		echo "lists differ (or are empty):" >&2
		diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") >&2 || true
		return 1
	fi
}

# count_even PORT...: how many are even.
count_even() {
	local p n=0
	for p in "$@"; do ((p % 2 == 0)) && n=$((n + 1)); done
	echo "$n"
}

# probe_vs_server PORT [SETTING=VALUE...] -- PROBE_ARGS...: runs the probe
# under the shim with those settings, checks that every attempt worked and
# that its ports are exactly the ones the server on PORT saw (the log is
# emptied first); leaves them in the array `ports`.
probe_vs_server() {
	local server=$1 settings=()
	shift
	while [ "$1" != -- ]; do settings+=("$1"); shift; done
	shift
	: >"$(server_log "$server")"
	run shim "${settings[@]}" "$PROBE" "$@"
	[ "$status" -eq 0 ] || { echo "probe failed: $output" >&2; return 1; }
	assert_same_lists "$output" "$(server_ports "$server")"
	mapfile -t ports <<<"$output"
}

# rejected shim|wrap ARGS...: the probe, run under the shim with the
# NAME=VALUE settings ARGS (shim) or by the portshim command with the
# options ARGS, which then end with -- (wrap, from tests/helpers/cli.bash),
# is refused before its main() runs: exit 125, nothing on stdout, exactly
# one line on stderr (left in $line).
rejected() {
	local runner=$1 marker=$BATS_TEST_TMPDIR/main-ran
	shift
	rm -f "$marker"
	run --separate-stderr "$runner" "$@" "$PROBE" -t "$marker" noop
	echo "status $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[ ! -e "$marker" ]
	line=$stderr
}

# start_sink: the sink (tests/helpers/sink.c), without the shim, listening
# on 127.0.0.1 at SINK_PORTS with the namespace's accept backlog raised to
# 65535; returns once it listens.  It runs in a process of its own: a
# process here may hold at most 20,000 files, and the client side of a test
# may hold nearly as many connections.
start_sink() {
	ns_sysctl net/core/somaxconn 65535 || return 1
	SINK_OUT=$BATS_TEST_TMPDIR/sink-$((++SINK_RUNS)).out
	in_ns_background "$SINK_OUT" "$PSTEST_HELPERS/sink" "${SINK_PORTS[@]}"
	SINK_PID=$!
	wait_line "$SINK_OUT" '^READY' 10 "$SINK_PID"
}

# stop_sink: asks the sink for its summary; leaves it in $SINK.
stop_sink() {
	kill -TERM "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" || { echo "sink failed:" >&2; cat "$SINK_OUT" >&2; return 1; }
	SINK=$(grep '^sink:' "$SINK_OUT") || { cat "$SINK_OUT" >&2; return 1; }
}

# kv LINE KEY: the value of KEY=VALUE in LINE (a summary line of a C
# helper: `connhold: connected=1500 odd=1500 ...`).
kv() {
	local re="(^| )$2=([^ ]*)"
	[[ $1 =~ $re ]] && printf '%s\n' "${BASH_REMATCH[2]}"
}

# expect LINE KEY OP VALUE (OP: -eq -le -ge = ...): one check of a summary
# line, which is shown when it fails.
expect() {
	local value
	value=$(kv "$1" "$2") || { echo "no $2= in: $1" >&2; return 1; }
	[ "$value" "$3" "$4" ] || { echo "expected $2 $3 $4, got $2=$value in: $1" >&2; return 1; }
}

# hold SETTING=VALUE... -- CONNHOLD_ARGS...: connhold under the shim against
# the sink, holding its connections while the sink counts what it holds;
# leaves the summaries in $CLIENT and $SINK and connhold's status in
# $CLIENT_STATUS.
hold() {
	local settings=() out=$BATS_TEST_TMPDIR/connhold-$((++SINK_RUNS)).out pid
	while [ "$1" != -- ]; do settings+=("$1"); shift; done
	shift
	start_sink
	in_ns_background "$out" env LD_PRELOAD="$(shim_preload)" "${settings[@]}" \
		"$PSTEST_HELPERS/connhold" -w "$@" 127.0.0.1 "${SINK_PORTS[@]}"
	pid=$!
	wait_line "$out" '^connhold:' 120 "$pid" || return 1
	CLIENT=$(grep '^connhold:' "$out")
	stop_sink
	kill -TERM "$pid" 2>/dev/null
	CLIENT_STATUS=0
	wait "$pid" || CLIENT_STATUS=$?
	echo "$CLIENT"
	echo "$SINK"
}

# assert_held N: connhold and the sink agree on N live connections, every
# local port odd, no 4-tuple twice.
assert_held() {
	local n=$1
	expect "$CLIENT" connected -eq "$n" && expect "$CLIENT" failed -eq 0 &&
		expect "$CLIENT" odd -eq "$n" && expect "$CLIENT" even -eq 0 &&
		expect "$CLIENT" dup -eq 0 && expect "$CLIENT" wrong -eq 0 &&
		expect "$SINK" accepted -eq "$n" && expect "$SINK" open -eq "$n" &&
		expect "$SINK" odd -eq "$n" && expect "$SINK" dup -eq 0 &&
		expect "$SINK" errors -eq 0 &&
		expect "$SINK" tuples = "$(kv "$CLIENT" tuples)" &&
		[ "$CLIENT_STATUS" -eq 0 ] || return 1
}

# second_process STRATEGY LOG COMMAND...: a first process (the library,
# seed 7, odd, STRATEGY) holds 3,000 connections to one destination, a run
# of 3,000 of its 5,000 odd ports; then COMMAND (connhold with the same
# seed and strategy, under the library or the supervisor, logging to LOG)
# makes 1,000 more, from the start of that run.  They must all connect,
# odd, no 4-tuple twice, and get past the run in a few jumps: at most 1,100
# attempts in the log, where stepping through it would cost 4,000.
# connhold and the sink come from PSTEST_HELPERS (a test may point it at
# copies another user can reach).
second_process() {
	local first=$BATS_TEST_TMPDIR/first-$((++SINK_RUNS)).out strategy=$1 log=$2 pid line stats
	shift 2
	ns_sysctl net/ipv4/ip_local_port_range "40000 49999"
	start_sink
	in_ns_background "$first" env LD_PRELOAD="$(shim_preload)" PORTSHIM_SEED=7 \
		PORTSHIM_STRATEGY="$strategy" PORTSHIM_CONNECT=odd \
		"$PSTEST_HELPERS/connhold" -w -n 3000 127.0.0.1 "${SINK_PORTS[0]}"
	pid=$!
	wait_line "$first" '^connhold:' 120 "$pid" || return 1
	expect "$(grep '^connhold:' "$first")" connected -eq 3000 || return 1
	run noshim "$@" "$PSTEST_HELPERS/connhold" -k -n 1000 127.0.0.1 "${SINK_PORTS[0]}"
	line=$(grep '^connhold:' <<<"$output")
	echo "second: $line"
	kill -TERM "$pid"
	wait "$pid" || true
	stop_sink
	stats=$(jq -rs '"lines=\(length) sum=\(map(.attempts) | add) max=\(map(.attempts) | max)"' \
		"$log") || return 1
	diag "$(basename "$log" .jsonl): $stats"
	expect "$line" connected -eq 1000 && expect "$line" failed -eq 0 &&
		expect "$line" even -eq 0 && expect "$line" dup -eq 0 &&
		expect "$stats" lines -eq 1000 && expect "$stats" sum -le 1100
}

# reconnect_every_strategy RUNNER: programs/reconnect.py (a TCP connect
# refused, its old port bound by another socket, the same socket connected
# again to a listener on 127.0.0.1:5000) in each of its modes natively, then
# under RUNNER STRATEGY... (a function that runs its arguments under the
# shim with that strategy, PORTSHIM_CONNECT=odd and a log) for every
# strategy.  Under range (and auto, which is range here) the program sees
# what it sees natively, and the reconnect gets a port of the policy as the
# kernel gets one of its own; under reuse and exclusive the socket stays
# bound to its port (README.md, "Known limits"), so the other socket's bind
# fails and the reconnect keeps the port.
reconnect_every_strategy() {
	local runner=$1 prog=$BATS_TEST_DIRNAME/programs/reconnect.py mode strategy native
	for mode in plain sendto nonblocking soerror unspec dup dup-refused; do
		run -0 --separate-stderr noshim "$PYTHON" "$prog" $mode 5999 5000
		echo "native $mode: $output"
		native=$output
		[[ $native == *"blocker bound"$'\n'"reconnected new-port"* ]] || return 1
		for strategy in auto range; do
			run -0 --separate-stderr "$runner" "$strategy" "$PYTHON" "$prog" $mode 5999 5000
			echo "$strategy $mode: $output (port $stderr)"
			[ "$output" = "$native" ] || return 1
			[ $((stderr % 2)) -eq 1 ] || return 1
		done
	done
	for strategy in reuse exclusive; do
		run -0 --separate-stderr "$runner" "$strategy" "$PYTHON" "$prog" plain 5999 5000
		echo "$strategy: $output (port $stderr)"
		[ "$output" = "first ECONNREFUSED
blocker EADDRINUSE
reconnected same-port" ] || return 1
		[ $((stderr % 2)) -eq 1 ] || return 1
	done
}
