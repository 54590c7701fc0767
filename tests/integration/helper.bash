# The one helper library of tests/integration (`load helper` in every
# .bats file; tests/README.md lists what each function does).
#
# Every test gets its own network namespace (setup, new_netns), and runs all
# its programs in it through in_ns: `shim` runs one under the shim, `noshim`
# without it, `start_server` starts a port-logging server, `start_sink` the
# C sink that accepts and counts many connections.  The namespace has only
# `lo`, so tests may narrow its port range and reserve ports without
# touching the host, and start from a kernel with no history.
bats_require_minimum_version 1.5.0

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROGRAMS=$TESTS_DIR/programs
# `make test` passes both; these defaults let `bats tests/integration` run
# straight after `make`.
PSTEST_LIB=${PSTEST_LIB:-$TESTS_DIR/../../build/libportshim.so}
PSTEST_HELPERS=${PSTEST_HELPERS:-$TESTS_DIR/../../build/helpers}
PROBE=$PSTEST_HELPERS/portprobe
NBCONNECT=$PSTEST_HELPERS/nbconnect
# The sink's listening ports (start_sink), outside every port range the
# tests use.
SINK_PORTS=(8001 8002 8003 8004)
# How long a namespace holder or a background program may live, in
# seconds: a bound on what a run that never reached teardown leaves behind
# (teardown ends each by its pid).  Longer than any test: the long haul of
# hostile.bats runs up to its own bound of 300 s (NS_TIMEOUT) with a server
# in the background.
BACKGROUND_LIFETIME=900

# A missing tool skips the test, except in CI (PSTEST_STRICT=1),
# where a skip would hide that a whole area went untested.
require_cmd() {
	local cmd
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 && continue
		if [ "${PSTEST_STRICT:-0}" = 1 ]; then
			echo "required command '$cmd' is missing (PSTEST_STRICT=1)" >&2
			return 1
		fi
		skip "$cmd is not installed"
	done
}

# need FILE...: test programs make builds (static ones need libc6-dev's
# libc.a, goconn needs golang-go); missing, the test skips (fails under
# PSTEST_STRICT=1).
need() {
	local f
	for f in "$@"; do
		[ -x "$f" ] && continue
		if [ "${PSTEST_STRICT:-0}" = 1 ]; then
			echo "$f was not built (PSTEST_STRICT=1)" >&2
			return 1
		fi
		skip "$f was not built"
	done
}

# require_helpers NAME...: the C programs of tests/helpers that a file's
# tests run are built (a clear failure rather than a missing file later).
require_helpers() {
	local name
	for name in "$@"; do
		[ -x "$PSTEST_HELPERS/$name" ] ||
			{ echo "missing $PSTEST_HELPERS/$name: run make" >&2; return 1; }
	done
}

# The one place that says what LD_PRELOAD is: sanitizer builds preload
# their runtime ahead of the shim and hand the whole list in PSTEST_PRELOAD.
shim_preload() {
	if [ -n "${PSTEST_PRELOAD:-}" ]; then
		printf '%s\n' "$PSTEST_PRELOAD"
	else
		printf '%s\n' "${PSTEST_LIB:?}"
	fi
}

# reachable_copies DIR LIST: the libraries of an LD_PRELOAD list (':' or
# blanks between them), those of the build copied into DIR for a process of
# another user; the system's own (a sanitizer's runtime) stay where they
# are.  Prints the new list.
reachable_copies() {
	local dir=$1 lib out=()
	for lib in ${2//:/ }; do
		case $lib in
		/usr/* | /lib/* | /lib64/*) out+=("$lib") ;;
		*)
			install -m 0755 "$lib" "$dir/"
			out+=("$dir/$(basename "$lib")")
			;;
		esac
	done
	printf '%s\n' "${out[*]}"
}

# `env` arguments that drop every PORTSHIM_* variable of the test's own
# environment (a user's shell may set some; the suite's own variables are
# named PSTEST_* so that they cannot collide): the shim rejects unknown
# PORTSHIM_* names, and a test must set exactly the settings it means.
# Computed once per test, in common_setup; LD_PRELOAD goes too.
scrub_args() {
	local name
	SCRUB=(-u LD_PRELOAD)
	for name in $(compgen -e); do
		case $name in PORTSHIM_*) SCRUB+=(-u "$name") ;; esac
	done
}

# new_netns: a sleeping process in a new network namespace; its pid becomes
# NS_PID, the namespace in_ns uses, and lo is up.  The holder of the
# previous NS_PID, if any, is ended (the namespace lives on while a
# background program of the test is still in it).  setup makes the first;
# a test makes another when it needs a kernel with no history (no TIME_WAIT
# from a run before).  Root uses `unshare -n`, others a user namespace too.
new_netns() {
	local i ns
	if [ -n "${NS_PID:-}" ]; then
		kill "$NS_PID" 2>/dev/null || true
		wait "$NS_PID" 2>/dev/null || true
	fi
	if [ "$(id -u)" = 0 ]; then
		unshare -n sleep "$BACKGROUND_LIFETIME" </dev/null >/dev/null 2>&1 3>&- &
	else
		unshare -rn sleep "$BACKGROUND_LIFETIME" </dev/null >/dev/null 2>&1 3>&- &
	fi
	NS_PID=$!
	NETNS_PIDS+=("$NS_PID")
	# The fork comes before unshare(2): until the process has switched,
	# entering "its" namespace would enter the host's.
	for i in $(seq 500); do
		ns=$(readlink "/proc/$NS_PID/ns/net" 2>/dev/null) || true
		[ -n "$ns" ] && [ "$ns" != "$HOST_NETNS" ] && break
		sleep 0.01
	done
	[ "$(in_ns readlink /proc/self/ns/net)" != "$HOST_NETNS" ] || {
		echo "could not enter a new network namespace" >&2
		return 1
	}
	in_ns ip link set lo up
}

# in_ns COMMAND...: COMMAND in the test's namespace, with the test's own
# environment, bounded by timeout (NS_TIMEOUT seconds, default 60).  Not
# root: the user namespace too, where our uid is root (unshare -r's
# mapping; setgroups is denied there, hence --preserve-credentials).
in_ns() {
	local userns=()
	[ "$(id -u)" = 0 ] || userns=(-U --preserve-credentials)
	timeout "${NS_TIMEOUT:-60}" nsenter -t "$NS_PID" -n "${userns[@]}" -- "$@"
}

# shim [NAME=VALUE...] COMMAND...: COMMAND under the shim, with no
# PORTSHIM_* settings but the ones given.  noshim: the same without it.
# Under `make asan` every program runs with ASan's runtime preloaded ahead
# of the sanitized library, except those that cannot run with it at all:
# curl and wget hang with clang 14's runtime preloaded (curl in setlocale()
# at start-up; no shim needed to see either).  Those get the plain library,
# so their tests still run and still check what the shim did.
shim() {
	local arg preload
	preload=$(shim_preload)
	for arg in "$@"; do
		[[ $arg == *=* ]] && continue
		if [ "${PSTEST_SANITIZER:-}" = asan ] &&
			[[ " curl wget " == *" $(basename "$arg") "* ]]; then
			preload=${PSTEST_PLAIN_LIB:?make asan passes the plain library}
		fi
		break
	done
	in_ns env "${SCRUB[@]}" LD_PRELOAD="$preload" "$@"
}
noshim() {
	in_ns env "${SCRUB[@]}" "$@"
}

# ns_sysctl KEY VALUE (KEY like net/ipv4/ip_local_port_range): sets a sysctl
# of the test's namespace, refusing if it is somehow the host's, and reads
# it back (blanks and tabs alike: "0 2147483647" reads "0<TAB>2147483647").
ns_sysctl() {
	local key=$1 value=$2 got
	in_ns sh -c '[ "$(readlink /proc/self/ns/net)" != "$1" ] || exit 1
		printf "%s\n" "$3" >"/proc/sys/$2"' sh "$HOST_NETNS" "$key" "$value"
	got=$(in_ns cat "/proc/sys/$key" | tr -s ' \t' '  ')
	[ "$got" = "$(printf '%s' "$value" | tr -s ' \t' '  ')" ] || {
		echo "sysctl $key: wrote '$value', reads '$got'" >&2
		return 1
	}
}

# ns_range LO HI: the namespace's ip_local_port_range.
ns_range() {
	ns_sysctl net/ipv4/ip_local_port_range "$1 $2"
}

# in_ns_background OUT COMMAND...: COMMAND in the namespace, in the
# background, stdout and stderr to OUT, with no PORTSHIM_* setting and no
# LD_PRELOAD of the test's environment (a program under the shim gets them
# from `env` in COMMAND).  A simple command, not a function, so that $! is
# timeout's own pid (kept for teardown, and the caller may use $! too), and
# timeout passes a SIGTERM on to COMMAND.  OUT is emptied before this
# returns: the job's own redirection comes later, and a caller waiting for a
# line must not find an earlier run's.
in_ns_background() {
	local out=$1 userns=()
	shift
	: >"$out"
	[ "$(id -u)" = 0 ] || userns=(-U --preserve-credentials)
	timeout "$BACKGROUND_LIFETIME" nsenter -t "$NS_PID" -n "${userns[@]}" -- \
		env "${SCRUB[@]}" "$@" </dev/null >"$out" 2>&1 3>&- &
	BACKGROUND_PIDS+=("$!")
}

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

# diag TEXT...: a TAP diagnostic line, shown in the suite's output and CI
# logs whether the test passes or not.
diag() {
	printf '# %s\n' "$*" >&3
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

# signals_passed_on RUNNER...: under RUNNER (a portshim that runs the
# command as its child, ending in --), a program signals its parent with
# each of INT TERM HUP QUIT USR1 USR2 ALRM WINCH; the parent lives on and
# passes the signal on, and the program's trap exits 42 (or, 10 s later,
# the program exits 1 by itself, leaving no orphan behind a parent that
# died).
signals_passed_on() {
	local sig
	for sig in INT TERM HUP QUIT USR1 USR2 ALRM WINCH; do
		run "$@" sh -c "trap 'exit 42' $sig; kill -$sig \$PPID; i=0
			while [ \$i -lt 200 ]; do sleep 0.05; i=\$((i + 1)); done; exit 1"
		echo "$sig: $status $output"
		[ "$status" -eq 42 ] || return 1
	done
}

# wait_for FILE PYTHON_CONDITION_OVER_LINES: until the condition over the
# log's JSON lines (`ls`) holds; 20 s at most.
wait_for() {
	local i
	for i in $(seq 400); do
		"$PYTHON" -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1]) if l.endswith("\n")]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $2" >&2
	cat "$1" >&2
	return 1
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

# The Python interpreter itself, not a version manager's wrapper script
# around it (pyenv's costs half a second per start): found once per file,
# or per test in a file with a setup_file of its own.
python_path() {
	: "${PYTHON:=$(python3 -c 'import sys; print(sys.executable)')}"
	export PYTHON
}

setup_file() {
	python_path
}

# What every test starts with (a file with a setup of its own calls it
# first): its namespace, and the environment its programs get.
common_setup() {
	python_path
	HOST_NETNS=$(readlink /proc/self/ns/net)
	NETNS_PIDS=()
	BACKGROUND_PIDS=()
	NS_PID=
	SINK_RUNS=0
	scrub_args
	new_netns
}

setup() {
	common_setup
}

# Background programs and namespace holders are ended by their pid,
# nothing by name.  A file with a teardown of its own calls it.
common_teardown() {
	local pid
	for pid in "${BACKGROUND_PIDS[@]}" "${NETNS_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

teardown() {
	common_teardown
}
