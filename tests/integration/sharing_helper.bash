# Shared by sharing.bats and lifecycle.bats: many connections, churn,
# fork() and signals, with the C programs of tests/helpers (sink, connhold,
# churn, forkconn, sigconn).  Self-contained on purpose: these files only
# need a namespace, the preload value and a sink.
#
# Every test runs its programs in network namespaces of its own, each held
# by a sleeping process (NS_PID) and entered with nsenter; new_netns makes a
# fresh one when a test needs a kernel with no history (no TIME_WAIT left by
# an earlier run).  The accepting side is always `sink`, in a process of
# its own (a process here may hold at most 20,000 files), listening on
# 127.0.0.1 at SINK_PORTS, which lie outside every port range used here.
bats_require_minimum_version 1.5.0

HELPERS=${PSTEST_HELPERS:-$BATS_TEST_DIRNAME/../../build/helpers}
SHIM_LIB=${PSTEST_LIB:-$BATS_TEST_DIRNAME/../../build/libportshim.so}
SINK_PORTS=(8001 8002 8003 8004)

# What LD_PRELOAD must be: sanitizer builds hand the whole list over.
preload() {
	printf '%s\n' "${PSTEST_PRELOAD:-$SHIM_LIB}"
}

# TAP diagnostics, shown in CI logs.
diag() {
	printf '# %s\n' "$*" >&3
}

# new_netns: a fresh namespace with lo up and a large accept backlog; the
# previous one of this test is ended first.
new_netns() {
	local i ns
	if [ -n "${NS_PID:-}" ]; then
		kill "$NS_PID" 2>/dev/null || true
		wait "$NS_PID" 2>/dev/null || true
	fi
	if [ "$(id -u)" = 0 ]; then
		unshare -n sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	else
		unshare -rn sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	fi
	NS_PID=$!
	NS_PIDS+=("$NS_PID")
	for i in $(seq 500); do
		ns=$(readlink "/proc/$NS_PID/ns/net" 2>/dev/null) || true
		[ -n "$ns" ] && [ "$ns" != "$HOST_NETNS" ] && break
		sleep 0.01
	done
	[ "$(ns readlink /proc/self/ns/net)" != "$HOST_NETNS" ] || {
		echo "could not enter a new network namespace" >&2
		return 1
	}
	ns ip link set lo up
	ns_sysctl net/core/somaxconn 65535
}

# ns COMMAND...: COMMAND in the test's namespace, without the shim and
# without the PORTSHIM_* settings of the test's own environment, bounded
# by NS_TIMEOUT seconds (default 60).
ns() {
	local userns=()
	[ "$(id -u)" = 0 ] || userns=(-U)
	timeout "${NS_TIMEOUT:-60}" nsenter -t "$NS_PID" -n "${userns[@]}" -- \
		env "${SCRUB[@]}" -u LD_PRELOAD "$@"
}

# shim [NAME=VALUE...] COMMAND...: the same under the shim.
shim() {
	ns env LD_PRELOAD="$(preload)" "$@"
}

# ns_bg OUT COMMAND...: COMMAND in the namespace in the background, output
# to OUT; $! is timeout's pid, which passes a SIGTERM on to COMMAND.  OUT is
# emptied before this returns: the background job's own redirection comes
# later, and a caller waiting for a line must not find an earlier run's.
ns_bg() {
	local out=$1 userns=()
	shift
	: >"$out"
	[ "$(id -u)" = 0 ] || userns=(-U)
	timeout 300 nsenter -t "$NS_PID" -n "${userns[@]}" -- env "${SCRUB[@]}" -u LD_PRELOAD "$@" \
		</dev/null >"$out" 2>&1 3>&- &
	BG_PIDS+=("$!")
}

# ns_sysctl KEY VALUE: a sysctl of the namespace (never the host's).
ns_sysctl() {
	ns sh -c '[ "$(readlink /proc/self/ns/net)" != "$1" ] || exit 1
		printf "%s\n" "$3" >"/proc/sys/$2"' sh "$HOST_NETNS" "$1" "$2"
}

# wait_line FILE REGEX SECONDS [PID]: until a line of FILE matches (fails
# at the deadline, or at once when PID has exited without it).
wait_line() {
	local file=$1 regex=$2 deadline=$((SECONDS + $3)) pid=${4:-}
	until grep -qE "$regex" "$file" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ] || { [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; }; then
			grep -qE "$regex" "$file" 2>/dev/null && return 0
			echo "no line matching '$regex' in $file:" >&2
			cat "$file" >&2
			return 1
		fi
		sleep 0.02
	done
}

# start_sink: the sink on SINK_PORTS, once it listens.
start_sink() {
	SINK_OUT=$BATS_TEST_TMPDIR/sink-$((++SINK_RUNS)).out
	ns_bg "$SINK_OUT" "$HELPERS/sink" "${SINK_PORTS[@]}"
	SINK_PID=$!
	wait_line "$SINK_OUT" '^READY' 10 "$SINK_PID"
}

# stop_sink: asks the sink for its summary; leaves it in $SINK.
stop_sink() {
	kill -TERM "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" || { echo "sink failed:" >&2; cat "$SINK_OUT" >&2; return 1; }
	SINK=$(grep '^sink:' "$SINK_OUT") || { cat "$SINK_OUT" >&2; return 1; }
}

# kv LINE KEY: the value of KEY=VALUE in LINE.
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
	ns_bg "$out" env LD_PRELOAD="$(preload)" "${settings[@]}" \
		"$HELPERS/connhold" -w "$@" 127.0.0.1 "${SINK_PORTS[@]}"
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

# median N...: the middle value (the lower one of an even count).
median() {
	printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"
}

setup() {
	HOST_NETNS=$(readlink /proc/self/ns/net)
	NS_PIDS=()
	BG_PIDS=()
	NS_PID=
	SINK_RUNS=0
	SCRUB=()
	local name
	for name in $(compgen -e); do
		case $name in PORTSHIM_*) SCRUB+=(-u "$name") ;; esac
	done
	local program
	for program in sink connhold churn forkconn sigconn; do
		[ -x "$HELPERS/$program" ] || { echo "missing $HELPERS/$program: run make" >&2; return 1; }
	done
	new_netns
}

# Background programs and namespace holders are ended by their pid only.
teardown() {
	local pid
	for pid in "${BG_PIDS[@]}" "${NS_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# second_process STRATEGY LOG COMMAND...: a first process (the library,
# seed 7, odd, STRATEGY) holds 3,000 connections to one destination, a run
# of 3,000 of its 5,000 odd ports; then COMMAND (connhold with the same
# seed and strategy, under the library or the supervisor, logging to LOG)
# makes 1,000 more, from the start of that run.  They must all connect, odd, no 4-tuple twice, and get
# past the run in a few jumps: at most 1,100 attempts in the log, where
# stepping through it would cost 4,000.
second_process() {
	local first=$BATS_TEST_TMPDIR/first-$((++SINK_RUNS)).out strategy=$1 log=$2 pid line stats
	shift 2
	ns_sysctl net/ipv4/ip_local_port_range "40000 49999"
	start_sink
	ns_bg "$first" env LD_PRELOAD="$(preload)" PORTSHIM_SEED=7 PORTSHIM_STRATEGY="$strategy" \
		PORTSHIM_CONNECT=odd "$HELPERS/connhold" -w -n 3000 127.0.0.1 "${SINK_PORTS[0]}"
	pid=$!
	wait_line "$first" '^connhold:' 120 "$pid" || return 1
	expect "$(grep '^connhold:' "$first")" connected -eq 3000 || return 1
	run ns "$@" "$HELPERS/connhold" -k -n 1000 127.0.0.1 "${SINK_PORTS[0]}"
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
