#!/usr/bin/env bats
# The seccomp backend under many connections (portshim(1), BACKENDS): a
# static program's 8 threads x 2,000 connects, 18,000 held at once on one
# parity, 20,000 connect/close cycles through TIME_WAIT, and a second
# process walking into a first one's live 4-tuples (also with portshim run
# by another user, and with the program in another network namespace).  The
# sink's count, the program's summary and the event log must agree, every
# port on the policy's parity, each test in a network namespace of its own.

load helper
load ../helpers/seccomp

setup() {
	common_setup
	UNPRIV_DIR=
}

teardown() {
	common_teardown
	[ -z "$UNPRIV_DIR" ] || rm -rf "$UNPRIV_DIR"
}

# json_get_stdin EXPR: a value of the JSON document on stdin.
json_get_stdin() {
	"$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

@test "a static program with 8 threads x 2,000 connects: all odd, one log line each" {
	# connhold: each thread's connections held open, over 4 destinations
	# (one destination cannot take 16,000 connections closed within a
	# second on one parity's 14,116 ports: their TIME_WAITs hold them).
	need "$STATIC/connhold"
	local log=$BATS_TEST_TMPDIR/ev.jsonl out=$BATS_TEST_TMPDIR/connhold.out pid
	local stats=$BATS_TEST_TMPDIR/stats
	start_sink
	in_ns_background "$out" "$CLI" --connect odd --log "$log" --stats "$stats" -- "$STATIC/connhold" -w -t 8 -n 2000 \
		127.0.0.1 "${SINK_PORTS[@]}"
	pid=$!
	wait_line "$out" '^connhold:' 240 "$pid"
	CLIENT=$(grep '^connhold:' "$out")
	stop_sink
	kill -TERM "$pid"
	CLIENT_STATUS=0
	wait "$pid" || CLIENT_STATUS=$?
	echo "$CLIENT"
	echo "$SINK"
	assert_held 16000
	log_check "$log" 16000 odd ok
	assert_ports odd $(printf '%s\n' "${log_ports[@]}" | sort -u)
	# The program's 8 threads, as the log names them (not the supervisor's).
	[ "$(grep -o '"tid":[0-9]*' "$log" | sort -u | wc -l)" -eq 8 ]
	[ "$(grep -o '"pid":[0-9]*' "$log" | sort -u | wc -l)" -eq 1 ]
	# The exit summary, under the program's pid, and portshim report.
	local pid_seen
	pid_seen=$(grep -o '"pid":[0-9]*' "$log" | head -n 1 | cut -d: -f2)
	grep -E "^portshim: pid $pid_seen: 16000 decisions: ok 16000, .*; ports: even 0, odd 16000; attempts: 1:16000 " "$stats"
	run -0 "$CLI" report --json "$log"
	[ "$(json_get_stdin 'd["parity"]["odd"]' <<<"$output")" = 16000 ]
	diag "8 x 2,000 connects in $(kv "$CLIENT" ms) ms; attempts:" \
		"$(grep -o '"attempts":[0-9]*' "$log" | sort | uniq -c | tr -s ' \n' ' ')"
}

@test "18,000 concurrent connections of a static program on one parity" {
	need "$STATIC/connhold"
	local out=$BATS_TEST_TMPDIR/connhold.out pid
	start_sink
	in_ns_background "$out" "$CLI" --connect odd -- "$STATIC/connhold" -w -n 18000 127.0.0.1 "${SINK_PORTS[@]}"
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

# sup_churn PARITY STRATEGY: churn's 20,000 connect/close cycles (the client
# closing first, so every port goes through TIME_WAIT) to 4 listeners under
# the supervisor, in a fresh namespace: every cycle connected, on the
# parity, no reset, the 4-tuples the sink saw, and the log's attempts (none
# over 8, a mean of at most 1.05).  Strategy reuse must leave the ports
# shareable: with the program's SO_REUSEADDR put back, TIME_WAIT ports
# refused every later bind (1,416 of 20,000 connects failed).
sup_churn() {
	local parity=$1 strategy=$2 log=$BATS_TEST_TMPDIR/churn-$2.jsonl stats
	new_netns
	start_sink
	run sup --backend seccomp --connect "$parity" --strategy "$strategy" --log "$log" -- \
		"$PSTEST_HELPERS/churn" -n 20000 127.0.0.1 "${SINK_PORTS[@]}"
	CHURN=$(grep '^churn:' <<<"$output")
	stop_sink
	echo "$parity/$strategy: $CHURN"
	echo "$SINK"
	[ "$status" -eq 0 ] || return 1
	expect "$CHURN" connected -eq 20000 && expect "$CHURN" failed -eq 0 &&
		expect "$SINK" accepted -eq 20000 && expect "$SINK" resets -eq 0 &&
		expect "$SINK" tuples = "$(kv "$CHURN" tuples)" || return 1
	[ "$parity" != odd ] || expect "$CHURN" even -eq 0 || return 1
	stats=$(jq -rs '"lines=\(length) sum=\(map(.attempts) | add) max=\(map(.attempts) | max)"' "$log")
	diag "supervisor $parity/$strategy: $stats"
	expect "$stats" lines -eq 20000 && expect "$stats" sum -le 21000 && expect "$stats" max -le 8
}

@test "churn under the supervisor: 20,000 connect/close cycles through TIME_WAIT, every strategy: all connected, first try, no reset" {
	local strategy
	for strategy in auto range reuse; do
		sup_churn odd "$strategy"
	done
	# Exclusive binds cannot share a port in TIME_WAIT: both parities.
	sup_churn any exclusive
}

@test "a second process walking into a first one's live 4-tuples (same seed) under the supervisor, every strategy: every connect works, past them in a few attempts" {
	local s log
	for s in range reuse exclusive; do
		log=$BATS_TEST_TMPDIR/second-$s.jsonl
		second_process "$s" "$log" "$CLI" --backend seccomp --seed 7 --strategy "$s" \
			--connect odd --log "$log" -- || return 1
		new_netns
	done
}

@test "reuse: the same, with portshim run by an unprivileged user (no rights over its namespace: the lookup still sees them)" {
	[ "$(id -u)" = 0 ] || {
		[ "${PSTEST_STRICT:-0}" != 1 ] || { echo "this test needs root" >&2; return 1; }
		skip "needs root to become another user"
	}
	require_cmd setpriv
	# What nobody runs and writes, where nobody may reach it.
	UNPRIV_DIR=$(mktemp -d /tmp/portshim-unpriv.XXXXXX) && chmod 755 "$UNPRIV_DIR" &&
		cp "$CLI" "$PSTEST_HELPERS/connhold" "$PSTEST_HELPERS/sink" "$UNPRIV_DIR/" &&
		: >"$UNPRIV_DIR/second.jsonl" && chmod 666 "$UNPRIV_DIR/second.jsonl" || return 1
	PSTEST_HELPERS=$UNPRIV_DIR second_process reuse "$UNPRIV_DIR/second.jsonl" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$UNPRIV_DIR/portshim" \
		--backend seccomp --seed 7 --strategy reuse --connect odd \
		--log "$UNPRIV_DIR/second.jsonl" --
}

@test "reuse: the same, with the program in another network namespace than the supervisor (the 4-tuples looked up there)" {
	[ "$(id -u)" = 0 ] || {
		# Entering a namespace of another user namespace needs root.
		[ "${PSTEST_STRICT:-0}" != 1 ] || { echo "this test needs root" >&2; return 1; }
		skip "needs root"
	}
	local home=$NS_PID away i
	unshare -n sleep "$BACKGROUND_LIFETIME" </dev/null >/dev/null 2>&1 3>&- &
	away=$!
	NETNS_PIDS+=("$away")
	# Until the sleeper is in a namespace of its own.
	for i in $(seq 500); do
		[ "$(readlink "/proc/$away/ns/net" 2>/dev/null)" != "$(readlink "/proc/$home/ns/net")" ] &&
			[ "$(readlink "/proc/$away/ns/net" 2>/dev/null)" != "$HOST_NETNS" ] && break
		[ "$i" -lt 500 ] || { echo "no second namespace" >&2; return 1; }
		sleep 0.01
	done
	NS_PID=$away
	in_ns ip link set lo up && ns_sysctl net/core/somaxconn 65535 || return 1
	# portshim in the test's namespace; the program, the first process and
	# the sink in the other.
	second_process reuse "$BATS_TEST_TMPDIR/second-away.jsonl" nsenter -t "$home" -n "$CLI" \
		--backend seccomp --seed 7 --strategy reuse --connect odd \
		--log "$BATS_TEST_TMPDIR/second-away.jsonl" -- nsenter -t "$away" -n
}
