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

@test "a static program with 8 threads x 2,000 connects: all odd, one log line each" {
	need "$STATIC/threadconn"
	local log=$BATS_TEST_TMPDIR/ev.jsonl
	start_sink
	NS_TIMEOUT=240 run sup --connect odd --log "$log" -- "$STATIC/threadconn" -t 8 -n 2000 \
		127.0.0.1 "${SINK_PORTS[0]}"
	stop_sink
	echo "$output"
	echo "$SINK"
	[ "$status" -eq 0 ]
	[ "$(awk '$2 == 2000 && $3 == 0' <<<"$output" | wc -l)" -eq 8 ]
	expect "$SINK" accepted -eq 16000 && expect "$SINK" odd -eq 16000 && expect "$SINK" even -eq 0
	log_check "$log" 16000 odd ok
	assert_ports odd $(printf '%s\n' "${log_ports[@]}" | sort -u)
	# The program's threads, as the log names them (not the supervisor's).
	[ "$(grep -o '"tid":[0-9]*' "$log" | sort -u | wc -l)" -eq 8 ]
	diag "8 x 2,000 connects: attempts $(grep -o '"attempts":[0-9]*' "$log" | sort | uniq -c | tr -s ' \n' ' ')"
}

@test "a static program that forks 4 workers: every worker's ports odd, under range, reuse, exclusive" {
	need "$STATIC/prefork"
	local strategy log line
	for strategy in range reuse exclusive; do
		new_netns
		log=$BATS_TEST_TMPDIR/ev-$strategy.jsonl
		start_sink
		run sup --connect odd --strategy "$strategy" --log "$log" -- "$STATIC/prefork" -w 4 -n 50 \
			127.0.0.1 "${SINK_PORTS[@]}"
		stop_sink
		echo "$output"
		echo "$SINK"
		[ "$status" -eq 0 ]
		line=$(grep '^prefork:' <<<"$output")
		expect "$line" connected -eq 200 && expect "$line" failed -eq 0 &&
			expect "$line" even -eq 0 && expect "$SINK" accepted -eq 200 &&
			expect "$SINK" even -eq 0 && expect "$SINK" dup -eq 0 &&
			expect "$SINK" tuples = "$(kv "$line" tuples)"
		log_check "$log" 200 odd ok
		# Four processes, each its own pid in the log.
		[ "$(grep -o '"pid":[0-9]*' "$log" | sort -u | wc -l)" -eq 4 ]
	done
}

# signals [-r]: static sigconn, 2,000 blocking connects kept open while
# SIGALRM every 200 us interrupts them and connects from its handler, as
# lifecycle.bats checks the library.  With SA_RESTART (-r) everything is
# as natively.  Without it, a signal that arrives before the supervisor has
# taken the call makes connect() return EINTR before anything began
# (README.md, "Backends": the kernel ends the wait with ERESTARTSYS); sigconn
# then polls a socket that is not connecting and counts a port 0 as even.
# Those are the only non-odd ones, every connection that reached the sink
# is one sigconn counted, none got an even port, and none is extra.
signals() {
	local n=2000 line
	start_sink
	NS_TIMEOUT=60 run sup --connect odd -- "$STATIC/sigconn" -n "$n" -i 200 "$@" \
		127.0.0.1 "${SINK_PORTS[@]}"
	line=$(grep '^sigconn:' <<<"$output")
	stop_sink
	echo "$output"
	echo "$SINK"
	[ "$status" -ne 124 ] || { echo "sigconn did not finish (deadlock?)" >&2; return 1; }
	diag "seccomp ${*:-(no SA_RESTART)}: $(kv "$line" connected) connects, $(kv "$line" eintr)" \
		"returned EINTR ($(kv "$line" even) before the connect began), $(kv "$line" signals)" \
		"signals ($(kv "$line" during_connect) inside connect()), $(kv "$line" handler_connected)" \
		"connects in the handler"
	expect "$line" connected -eq "$n" && expect "$line" failed -eq 0 &&
		expect "$line" signals -ge 200 && expect "$line" during_connect -ge 100 &&
		expect "$line" handler_connected -eq "$(kv "$line" signals)" &&
		expect "$line" handler_failed -eq 0 && expect "$line" handler_even -eq 0 &&
		expect "$line" even -le "$(kv "$line" eintr)" &&
		expect "$SINK" accepted -eq $(($(kv "$line" odd) + $(kv "$line" handler_connected))) &&
		expect "$SINK" even -eq 0 && expect "$SINK" dup -eq 0 || return 1
	[ "${1:-}" = -r ] || return 0
	expect "$line" eintr -eq 0 && expect "$line" odd -eq "$n" && expect "$line" dup -eq 0 &&
		expect "$SINK" tuples = "$(kv "$line" tuples)" && [ "$status" -eq 0 ]
}

@test "signals interrupting blocking connects of a static program: the kernel's EINTR, nothing extra" {
	need "$STATIC/sigconn"
	signals
	new_netns
	signals -r
}

@test "18,000 concurrent connections of a static program on one parity" {
	need "$STATIC/connhold"
	local out=$BATS_TEST_TMPDIR/connhold.out pid
	start_sink
	ns_bg "$out" "$CLI" --connect odd -- "$STATIC/connhold" -w -n 18000 127.0.0.1 "${SINK_PORTS[@]}"
	pid=$!
	wait_line "$out" '^connhold:' 240 "$pid"
	CLIENT=$(grep '^connhold:' "$out")
	stop_sink
	kill -TERM "$pid"
	CLIENT_STATUS=0
	wait "$pid" || CLIENT_STATUS=$?
	echo "$CLIENT"
	echo "$SINK"
	diag "seccomp: $(kv "$CLIENT" connected) held, ports $(kv "$CLIENT" lo)-$(kv "$CLIENT" hi)," \
		"$(kv "$CLIENT" ms) ms"
	assert_held 18000
}
