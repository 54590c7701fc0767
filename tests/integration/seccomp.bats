#!/usr/bin/env bats
# The seccomp backend (README.md, "Backends"): portshim supervises the
# command through seccomp user notification and decides its ports with
# the library's core.  Static C programs (gcc -static), a Go program built
# with CGO_ENABLED=0, and a raw syscall(SYS_connect) from a dynamic program,
# each in a network namespace of its own; every test checks the ports the
# server saw, and the event log.  Controls show the same programs get the
# kernel's even ports without the supervisor.

load helper
load sharing_helper

BUILT=$(dirname "$PORTSHIM_LIB")
CLI=${PORTSHIM_CLI:-$BUILT/portshim}
STATIC=$BUILT/static
GOCONN=$BUILT/go/goconn

setup() {
	common_setup
	NS_PIDS=()
	BG_PIDS=()
	SINK_RUNS=0
	ns_sysctl net/core/somaxconn 65535
}

teardown() {
	local pid
	for pid in "${BACKGROUND_PIDS[@]}" "${BG_PIDS[@]}" "${NETNS_PIDS[@]}" "${NS_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# need FILE...: test programs make builds (static ones need libc6-dev's
# libc.a, goconn needs golang-go); missing, the test skips (fails under
# PORTSHIM_TEST_STRICT=1).
need() {
	local f
	for f in "$@"; do
		[ -x "$f" ] && continue
		if [ "${PORTSHIM_TEST_STRICT:-0}" = 1 ]; then
			echo "$f was not built (PORTSHIM_TEST_STRICT=1)" >&2
			return 1
		fi
		skip "$f was not built"
	done
}

# sup ARGS...: portshim ARGS... in the namespace, no PORTSHIM_* but those given.
sup() {
	ns "$CLI" "$@"
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

# probe_run STRATEGY PROGRAM...: the program under `portshim --connect odd
# --strategy STRATEGY` (default backend) against the server on 8080; its
# ports are the server's, all odd, and the log's, under one pid that is
# not the supervisor's.
probe_run() {
	local strategy=$1 log=$BATS_TEST_TMPDIR/ev-$1.jsonl want extra=()
	shift
	[ "$1" != --backend ] || { extra=("$1" "$2"); shift 2; }
	: >"$(server_log 8080)"
	rm -f "$log"
	run sup --connect odd --strategy "$strategy" --log "$log" "${extra[@]}" -- "$@"
	echo "$output"
	[ "$status" -eq 0 ]
	mapfile -t ports < <(printf '%s\n' "$output" | grep -oE '[0-9]+$')
	assert_same_lists "$(printf '%s\n' "${ports[@]}")" "$(server_ports 8080)"
	assert_ports odd "${ports[@]}"
	log_check "$log" "${#ports[@]}" odd ok
	assert_same_lists "$(printf '%s\n' "${ports[@]}" | sort)" "$(printf '%s\n' "${log_ports[@]}" | sort)"
	want=$strategy
	[ "$want" != auto ] || want=range
	[ "$(grep -c "\"strategy\":\"$want\"" "$log")" -eq "${#ports[@]}" ]
	[ "$(grep -o '"pid":[0-9]*' "$log" | sort -u | wc -l)" -eq 1 ]
}

@test "a static C program: portshim's default backend is seccomp; odd ports under every strategy" {
	need "$STATIC/portprobe"
	start_server tcp 127.0.0.1 8080
	run -0 sup --check -- "$STATIC/portprobe"
	grep -E '^backend +seccomp: works here$' <<<"$output"
	grep -E 'static executable.*seccomp backend \(auto' <<<"$output"
	for strategy in auto range reuse exclusive; do
		probe_run "$strategy" "$STATIC/portprobe" -n 40 connect 127.0.0.1 8080
	done
	# The control: the library cannot reach it; the kernel's even ports.
	: >"$(server_log 8080)"
	run -0 sup --connect odd --backend preload -- "$STATIC/portprobe" -n 40 connect 127.0.0.1 8080
	grep -q 'static executable' <<<"$output"
	assert_ports even $(server_ports 8080)
}

@test "a Go program built with CGO_ENABLED=0: odd ports under every strategy" {
	need "$GOCONN"
	start_server tcp 127.0.0.1 8080
	for strategy in auto range reuse exclusive; do
		probe_run "$strategy" "$GOCONN" -n 40 127.0.0.1:8080
	done
	: >"$(server_log 8080)"
	run -0 sup --connect odd --backend preload -- "$GOCONN" -n 40 127.0.0.1:8080
	assert_ports even $(server_ports 8080)
}

@test "syscall(SYS_connect) from a dynamic program: --backend seccomp reaches it, the library does not" {
	start_server tcp 127.0.0.1 8080
	for strategy in auto range reuse exclusive; do
		probe_run "$strategy" --backend seccomp "$PORTSHIM_HELPERS/rawconnect" -n 40 127.0.0.1 8080
	done
	: >"$(server_log 8080)"
	run -0 sup --connect odd -- "$PORTSHIM_HELPERS/rawconnect" -n 40 127.0.0.1 8080
	assert_ports even $(server_ports 8080)
}
