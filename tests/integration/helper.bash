# The one helper library of tests/integration (`load helper` in every
# .bats file; tests/README.md lists what each function does).
#
# Every test gets its own network namespace (setup, new_netns), and runs all
# its programs in it through in_ns: `shim` runs one under the shim, `noshim`
# without it, `start_server` starts a port-logging server, `start_sink` the
# C sink that accepts and counts many connections.  The namespace has only
# `lo`, so tests may narrow its port range and reserve ports without
# touching the host, and start from a kernel with no history.
#
# Here: the suite's variables, what a test requires, waiting and
# diagnostics, and every test's setup and teardown.  Two files it sources
# hold the rest, so that a test file still loads one helper:
# helper_netns.bash runs programs in the namespace, helper_ports.bash
# starts the servers and the sink and checks the ports they saw.
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

source "$TESTS_DIR/helper_netns.bash"
source "$TESTS_DIR/helper_ports.bash"

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
