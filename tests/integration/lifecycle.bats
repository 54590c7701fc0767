#!/usr/bin/env bats
# sanitizers: tsan
# The allocator across a process's life (shim/README.md, "The allocator": safe with
# threads, fork() and a connect() from a signal handler): parent and child
# connecting at once after fork(), fork() from a multithreaded process
# while another thread is inside connect(), and connect() from a SIGALRM
# handler that interrupts connect().  Everything under PORTSHIM_CONNECT=odd
# against the sink (another process); the numbers go to the TAP log.

load helper

setup() {
	common_setup
	require_helpers sink forkconn sigconn
}

# both_fork STRATEGY: forkconn both, in the 500 odd ports of 40000-40999,
# 100 connections before fork() and 700 after in each process: 1,500
# connections on 500 ports, parent and child competing for them.
both_fork() {
	local pre=100 n=700 total
	total=$((pre + 2 * n))
	ns_sysctl net/ipv4/ip_local_port_range "40000 40999"
	start_sink
	run shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$1 \
		"$PSTEST_HELPERS/forkconn" both -p "$pre" -n "$n" 127.0.0.1 "${SINK_PORTS[@]}"
	local line
	line=$(grep '^forkconn:' <<<"$output" | head -n 1)
	stop_sink
	echo "$output"
	echo "$SINK"
	diag "$1: parent $(kv "$line" parent) + child $(kv "$line" child) connections on 500 odd" \
		"ports (odd=$(kv "$line" odd) even=$(kv "$line" even)), 4-tuples in both:" \
		"$(kv "$line" shared), sink accepted $(kv "$SINK" accepted)"
	expect "$line" parent -eq $((pre + n)) && expect "$line" parent_failed -eq 0 &&
		expect "$line" child -eq "$n" && expect "$line" child_failed -eq 0 &&
		expect "$line" odd -eq "$total" && expect "$line" even -eq 0 &&
		expect "$line" shared -eq 0 && expect "$line" dup -eq 0 &&
		expect "$SINK" accepted -eq "$total" && expect "$SINK" even -eq 0 &&
		expect "$SINK" dup -eq 0 && expect "$SINK" tuples = "$(kv "$line" tuples)" &&
		[ "$status" -eq 0 ] || return 1
}

@test "fork: parent and child connect at once (range): all odd, no live 4-tuple in both" {
	both_fork range
}

@test "fork: parent and child connect at once (reuse): all odd, no live 4-tuple in both" {
	both_fork reuse
}

# threads_fork STRATEGY: forkconn threads; 100 forks while 3 threads
# connect and close in a loop and a fourth sits in a connect() that cannot
# complete (to a full accept queue on port 8100).
threads_fork() {
	local forks=100
	start_sink
	run shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$1 "$PSTEST_HELPERS/forkconn" threads \
		-f "$forks" -t 3 -s 8100 127.0.0.1 "${SINK_PORTS[@]}"
	local line
	line=$(grep '^forkconn:' <<<"$output" | head -n 1)
	stop_sink
	echo "$output"
	echo "$SINK"
	diag "$1: $(kv "$line" children_ok)/$forks children connected with odd ports," \
		"$(kv "$line" deadlocked) deadlocked, $(kv "$line" inside_connect) forks with a thread" \
		"inside connect(); threads: $(kv "$line" loop) connects, $(kv "$line" stalled) stalled," \
		"odd=$(kv "$line" odd) even=$(kv "$line" even)"
	expect "$line" forks -eq "$forks" && expect "$line" deadlocked -eq 0 &&
		expect "$line" children_ok -eq "$forks" && expect "$line" child_bad -eq 0 &&
		expect "$line" inside_connect -ge $((forks / 2)) &&
		expect "$line" loop -ge 1000 && expect "$line" loop_failed -eq 0 &&
		expect "$line" stalled -ge 1 && expect "$line" even -eq 0 &&
		expect "$SINK" accepted -eq $(($(kv "$line" loop) + forks * ${#SINK_PORTS[@]})) &&
		expect "$SINK" even -eq 0 && [ "$status" -eq 0 ] || return 1
}

@test "fork() from a multithreaded process while a thread is inside connect() (auto)" {
	threads_fork auto
}

@test "fork() from a multithreaded process while a thread is inside connect() (reuse)" {
	threads_fork reuse
}

# signals STRATEGY [SIGCONN_ARGS...]: sigconn -W (the shim has resolved
# libc's functions before the timer starts): 2,000 connects or more kept
# open by the main thread, until 200 SIGALRMs (every 200 us) have made a
# connect() of their own, 100 of them interrupting the main thread's.
signals() {
	local n=2000 strategy=$1
	shift
	start_sink
	NS_TIMEOUT=30 run shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$strategy \
		"$PSTEST_HELPERS/sigconn" -W -n "$n" -i 200 -S 200 "$@" 127.0.0.1 "${SINK_PORTS[@]}"
	local line
	line=$(grep '^sigconn:' <<<"$output")
	stop_sink
	echo "$output"
	echo "$SINK"
	[ "$status" -ne 124 ] || { echo "sigconn did not finish (deadlock?)" >&2; return 1; }
	diag "$strategy ${*:-(no SA_RESTART)}: $(kv "$line" connected) connects, $(kv "$line" eintr)" \
		"returned EINTR, $(kv "$line" signals) signals ($(kv "$line" during_connect) inside" \
		"connect()), $(kv "$line" handler_connected) connects in the handler;" \
		"odd=$(kv "$line" odd)+$(kv "$line" handler_odd) even=$(kv "$line" even)+$(kv "$line" handler_even)"
	expect "$line" connected -ge "$n" && expect "$line" failed -eq 0 &&
		expect "$line" odd -eq "$(kv "$line" connected)" && expect "$line" even -eq 0 &&
		expect "$line" dup -eq 0 &&
		expect "$line" signals -ge 200 && expect "$line" during_connect -ge 100 &&
		expect "$line" handler_connected -eq "$(kv "$line" signals)" &&
		expect "$line" handler_failed -eq 0 && expect "$line" handler_even -eq 0 &&
		expect "$SINK" accepted -eq $(($(kv "$line" connected) + $(kv "$line" handler_connected))) &&
		expect "$SINK" even -eq 0 && expect "$SINK" tuples = "$(kv "$line" tuples)" &&
		[ "$status" -eq 0 ] || return 1
	# SA_RESTART: the kernel restarts an interrupted connect() itself.
	[ "${1:-}" != -r ] || expect "$line" eintr -eq 0
}

@test "connect() in a SIGALRM handler interrupting connect(), no SA_RESTART (EINTR polled)" {
	signals auto
	new_netns
	signals reuse
}

@test "connect() in a SIGALRM handler interrupting connect(), SA_RESTART" {
	signals auto -r
	new_netns
	signals reuse -r
}

@test "a signal handler's connect() interrupting the process's first connect() does not deadlock" {
	# No warm-up: the first hooked call of each process is interrupted by
	# SIGALRM every 100 us, and the handler connects too.  Five processes:
	# whatever the shim sets up lazily on its first call must survive
	# being re-entered from a handler on the same thread.  200 connects
	# take well under a second; 5 s is a deadlock.
	local run_no line
	start_sink
	for run_no in 1 2 3 4 5; do
		NS_TIMEOUT=5 run shim PORTSHIM_CONNECT=odd \
			"$PSTEST_HELPERS/sigconn" -n 200 -i 100 127.0.0.1 "${SINK_PORTS[@]}"
		echo "process $run_no: status $status: $output"
		if [ "$status" -eq 124 ]; then
			diag "process $run_no of 5 hung (killed after 5 s): a connect() in the handler" \
				"deadlocked against the interrupted first call"
			return 1
		fi
		line=$(grep '^sigconn:' <<<"$output")
		expect "$line" connected -eq 200 && expect "$line" even -eq 0 &&
			expect "$line" handler_failed -eq 0 && expect "$line" handler_even -eq 0 &&
			[ "$status" -eq 0 ] || return 1
	done
	stop_sink
	diag "5 processes whose first connect() a connecting handler interrupted: none hung"
}
