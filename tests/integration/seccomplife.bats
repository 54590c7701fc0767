#!/usr/bin/env bats
# The seccomp backend's supervisor and the life of its program (portshim(1),
# BACKENDS): forked workers, signals interrupting connects, a program in
# another network namespace than the supervisor, what the supervisor refuses
# to run under, the command's exit status and the signals it passes on, and
# a supervisor that dies first.  Each test runs in a network namespace of its
# own; where the program connects, the ports the server or the sink saw and
# the event log are checked.

load helper
load ../helpers/seccomp

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

# signals [-r]: static sigconn, 2,000 blocking connects or more kept open
# while SIGALRM every 200 us interrupts them and connects from its handler
# (until 200 signals, 100 inside connect()), as
# lifecycle.bats checks the library.  With SA_RESTART (-r) everything is
# as natively.  Without it, a signal that arrives before the supervisor has
# taken the call makes connect() return EINTR before anything began
# (portshim(1), BACKENDS: the kernel ends the wait with ERESTARTSYS); sigconn
# then polls a socket that is not connecting and counts a port 0 as even.
# Those are the only non-odd ones, every connection that reached the sink
# is one sigconn counted, none got an even port, and none is extra.
signals() {
	local n=2000 line
	start_sink
	NS_TIMEOUT=60 run sup --connect odd -- "$STATIC/sigconn" -n "$n" -i 200 -S 200 "$@" \
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
	expect "$line" connected -ge "$n" && expect "$line" failed -eq 0 &&
		expect "$line" signals -ge 200 && expect "$line" during_connect -ge 100 &&
		expect "$line" handler_connected -eq "$(kv "$line" signals)" &&
		expect "$line" handler_failed -eq 0 && expect "$line" handler_even -eq 0 &&
		expect "$line" even -le "$(kv "$line" eintr)" &&
		expect "$SINK" accepted -eq $(($(kv "$line" odd) + $(kv "$line" handler_connected))) &&
		expect "$SINK" even -eq 0 && expect "$SINK" dup -eq 0 || return 1
	[ "${1:-}" = -r ] || return 0
	expect "$line" eintr -eq 0 && expect "$line" odd -eq "$(kv "$line" connected)" &&
		expect "$line" dup -eq 0 &&
		expect "$SINK" tuples = "$(kv "$line" tuples)" && [ "$status" -eq 0 ]
}

@test "signals interrupting blocking connects of a static program: the kernel's EINTR, nothing extra" {
	need "$STATIC/sigconn"
	signals
	new_netns
	signals -r
}

# A program that moves into a network namespace of its own (unshare -n:
# only a loopback that is down, so no route anywhere) while portshim stays
# in the test's.  The supervisor's route probe, made in its own namespace,
# must not judge the program's connects: natively ENETUNREACH leaves the
# socket unbound, and so must the supervisor under every strategy.
@test "a program in another network namespace than the supervisor: a connect with no route leaves the socket unbound, every strategy" {
	require_cmd unshare
	local prog='
import errno, socket
for family, dst in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(family)
    try:
        s.connect((dst, 80))
        print("connected", s.getsockname()[1])
    except OSError as e:
        print(errno.errorcode[e.errno], s.getsockname()[1])'
	run -0 noshim unshare -n "$PYTHON" -c "$prog"
	echo "native: $output"
	# IPv4 has no route; IPv6 not even ::1 (EADDRNOTAVAIL): both unbound.
	[ "${lines[0]}" = "ENETUNREACH 0" ]
	[ "${lines[1]}" = "EADDRNOTAVAIL 0" ]
	local native=$output
	every_strategy_prints 0 "$native" unshare -n "$PYTHON" -c "$prog"
}

@test "fails closed: no pidfd_getfd, no seccomp: one line, exit 125, nothing runs" {
	need "$STATIC/portprobe"
	local marker=$BATS_TEST_TMPDIR/ran denied
	for denied in pidfd_getfd:ENOSYS pidfd_getfd:EPERM process_vm_readv:EPERM seccomp:EPERM; do
		run sup --backend seccomp -- true
		[ "$status" -eq 0 ]
		run noshim "$PSTEST_HELPERS/denysys" "${denied%:*}" "${denied#*:}" \
			"$CLI" -- "$STATIC/portprobe" -t "$marker" noop
		echo "$denied: $output"
		[ "$status" -eq 125 ]
		[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
		grep -qE "^portshim: the seccomp backend needs .*${denied%:*}" <<<"$output"
		[ "$denied" != pidfd_getfd:EPERM ] ||
			[ "$output" = "portshim: the seccomp backend needs pidfd_getfd() (Linux 5.6), which is forbidden here (EPERM); nothing was run" ]
		[ ! -e "$marker" ]
		# --check says so too.
		run noshim "$PSTEST_HELPERS/denysys" "${denied%:*}" "${denied#*:}" \
			"$CLI" --check -- "$STATIC/portprobe"
		[ "$status" -eq 125 ]
		grep -qE "^backend +seccomp: does not work here: needs .*${denied%:*}" <<<"$output"
	done
	# A dynamic command keeps the library under auto, wherever seccomp fails.
	run -0 noshim "$PSTEST_HELPERS/denysys" pidfd_getfd ENOSYS "$CLI" --check -- "$PSTEST_HELPERS/portprobe"
	grep -q 'the shim reaches it with .*libportshim.so' <<<"$output"
}

@test "the command's exit status and signals: its own status, 128+signal, every signal sent to portshim forwarded" {
	run sup --backend seccomp -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run sup --backend seccomp -- sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ]
	run -127 sup --backend seccomp -- /nonexistent/program
	signals_passed_on sup --backend seccomp --
}

@test "if the supervisor dies, the program's connects fail with ENOSYS rather than run without the policy" {
	need "$STATIC/portprobe"
	start_server tcp 127.0.0.1 8080
	# The program kills its supervisor (its parent), then connects.
	run sup --connect odd --backend seccomp -- sh -c \
		'kill -KILL $PPID; while kill -0 $PPID 2>/dev/null; do sleep 0.05; done; '"$STATIC"'/portprobe -n 3 connect 127.0.0.1 8080'
	echo "$output"
	[ "$(printf '%s\n' "$output" | grep -c '^ENOSYS$')" -eq 3 ]
	[ ! -s "$(server_log 8080)" ]
}
