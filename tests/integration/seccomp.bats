#!/usr/bin/env bats
# The seccomp backend (portshim(1), BACKENDS): portshim supervises the
# command through seccomp user notification and decides its ports with
# the library's core.  Static C programs (gcc -static), a Go program built
# with CGO_ENABLED=0, and a raw syscall(SYS_connect) from a dynamic program,
# each in a network namespace of its own; every test checks the ports the
# server saw, and the event log.  Controls show the same programs get the
# kernel's even ports without the supervisor.

load helper

BUILT=$(dirname "$PSTEST_LIB")
CLI=${PSTEST_CLI:-$BUILT/portshim}
STATIC=$BUILT/static
GOCONN=$BUILT/go/goconn

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
	assert_same_lists "$(printf '%s\n' "${ports[@]}")" "$(server_ports 8080 "${#ports[@]}")"
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
	assert_ports even $(server_ports 8080 40)
}

@test "a Go program built with CGO_ENABLED=0: odd ports under every strategy" {
	need "$GOCONN"
	start_server tcp 127.0.0.1 8080
	for strategy in auto range reuse exclusive; do
		probe_run "$strategy" "$GOCONN" -n 40 127.0.0.1:8080
	done
	: >"$(server_log 8080)"
	run -0 sup --connect odd --backend preload -- "$GOCONN" -n 40 127.0.0.1:8080
	assert_ports even $(server_ports 8080 40)
}

@test "syscall(SYS_connect) from a dynamic program: --backend seccomp reaches it, the library does not" {
	start_server tcp 127.0.0.1 8080
	for strategy in auto range reuse exclusive; do
		probe_run "$strategy" --backend seccomp "$PSTEST_HELPERS/rawconnect" -n 40 127.0.0.1 8080
	done
	: >"$(server_log 8080)"
	# The control: the library does not see it.  Under make asan the plain
	# build's command and program (an instrumented library needs the ASan
	# runtime ahead of it, which the command does not preload).
	local cli=$CLI raw=$PSTEST_HELPERS/rawconnect
	if [ "${PSTEST_SANITIZER:-}" = asan ]; then
		cli=$(dirname "$PSTEST_PLAIN_LIB")/portshim
		raw=$(dirname "$PSTEST_PLAIN_LIB")/helpers/rawconnect
	fi
	run -0 noshim "$cli" --connect odd -- "$raw" -n 40 127.0.0.1 8080
	assert_ports even $(server_ports 8080 40)
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

@test "exhaustion: the kernel's errno when no port of the policy is free (TCP EADDRNOTAVAIL, UDP EAGAIN)" {
	need "$STATIC/portprobe"
	local log=$BATS_TEST_TMPDIR/ev.jsonl strategy
	start_server tcp 127.0.0.1 8080
	start_server udp 127.0.0.1 8081
	# Two odd ports: the third connection to one destination has none.
	for strategy in range reuse exclusive; do
		rm -f "$log"
		run sup --connect odd --range 40000-40003 --strategy "$strategy" --log "$log" -- \
			"$STATIC/portprobe" -k -1 -n 3 connect 127.0.0.1 8080
		echo "$strategy: $output"
		[ "$status" -eq 1 ]
		assert_ports odd $(printf '%s\n' "$output" | head -n 2)
		[ "$(printf '%s\n' "$output" | tail -n 1)" = EADDRNOTAVAIL ]
		# Under reuse the held ports stay shareable, but their 4-tuples
		# towards this destination are taken: no candidate is left.
		grep -q '"result":"exhausted","errno":99,"error":"EADDRNOTAVAIL"' "$log"
	done
	rm -f "$log"
	run sup --connect odd --range 40000-40003 --log "$log" -- \
		"$STATIC/portprobe" -u -k -1 -n 3 connect 127.0.0.1 8081
	echo "udp: $output"
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "$output" | tail -n 1)" = EAGAIN ]
	grep -q '"proto":"udp".*"result":"exhausted","errno":11,"error":"EAGAIN"' "$log"
}

@test "IPv6 and UDP (connect, sendto, sendmsg, sendmmsg) of a static program: odd ports" {
	need "$STATIC/portprobe"
	local log=$BATS_TEST_TMPDIR/ev.jsonl call
	start_server tcp ::1 8086
	start_server udp 127.0.0.1 8087
	start_server udp ::1 8088
	run -0 sup --connect odd --log "$log" -- "$STATIC/portprobe" -6 -n 20 connect ::1 8086
	assert_same_lists "$output" "$(server_ports 8086)"
	assert_ports odd $output
	[ "$(grep -c '"family":"ipv6","dst":"\[::1\]:8086".*"result":"ok"' "$log")" -eq 20 ]
	for call in connect sendto sendmsg sendmmsg; do
		: >"$(server_log 8087)"
		: >"$(server_log 8088)"
		rm -f "$log"
		run -0 sup --connect odd --log "$log" -- "$STATIC/portprobe" -u -n 10 "$call" 127.0.0.1 8087
		assert_same_lists "$output" "$(server_ports 8087)"
		assert_ports odd $output
		[ "$(grep -c "\"call\":\"$call\",\"proto\":\"udp\".*\"result\":\"ok\"" "$log")" -eq 10 ]
		run -0 sup --connect odd -- "$STATIC/portprobe" -6 -u -n 10 "$call" ::1 8088
		assert_same_lists "$output" "$(server_ports 8088)"
		assert_ports odd $output
	done
	# The control: natively, UDP gets any port; 40 are not all odd by chance.
	: >"$(server_log 8087)"
	run -0 noshim "$STATIC/portprobe" -u -n 40 sendto 127.0.0.1 8087
	[ "$(count_even $(server_ports 8087))" -gt 0 ]
}

@test "TCP Fast Open (sendto, sendmsg, sendmmsg with MSG_FASTOPEN) of a static program: odd ports under every strategy" {
	need "$STATIC/portprobe"
	local log=$BATS_TEST_TMPDIR/ev.jsonl call strategy
	start_server tcp 127.0.0.1 8089
	for strategy in auto range reuse exclusive; do
		for call in sendto sendmsg sendmmsg; do
			: >"$(server_log 8089)"
			rm -f "$log"
			run -0 sup --connect odd --strategy "$strategy" --log "$log" -- \
				"$STATIC/portprobe" -F -n 10 "$call" 127.0.0.1 8089
			assert_same_lists "$output" "$(server_ports 8089)"
			mapfile -t ports <<<"$output"
			[ "${#ports[@]}" -eq 10 ]
			assert_ports odd "${ports[@]}"
			[ "$(grep -c "\"call\":\"$call\",\"proto\":\"tcp\".*\"result\":\"ok\"" "$log")" -eq 10 ]
		done
	done
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
	[ "${lines[0]}" = "ENETUNREACH 0" ] && [ "${lines[1]}" = "EADDRNOTAVAIL 0" ]
	local native=$output
	every_strategy_prints 0 "$native" unshare -n "$PYTHON" -c "$prog"
}

@test "TCP Fast Open with the client side off: EOPNOTSUPP and no port, as natively, every strategy" {
	need "$STATIC/portprobe"
	start_server tcp 127.0.0.1 8089
	ns_sysctl net/ipv4/tcp_fastopen 2
	run -1 noshim "$STATIC/portprobe" -F -P sendto 127.0.0.1 8089
	[ "$output" = "EOPNOTSUPP 0" ]
	every_strategy_prints 1 "EOPNOTSUPP 0" "$STATIC/portprobe" -F -P sendto 127.0.0.1 8089
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

@test "SO_REUSEADDR read back as the program set it, before and after the connect, every strategy" {
	local prog='
import socket
out = []
for v in (0, 1):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, v)
    out.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    s.connect(("127.0.0.1", 8090))
    out.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1 - v)
    out.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    out.append(len(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 2)))
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, b"x")
    except OSError as e:
        out.append(e.strerror)
    out.append(s.getsockname()[1] % 2)
print(*out)'
	start_server tcp 127.0.0.1 8090
	run -0 noshim "$PYTHON" -c "$prog"
	echo "native: $output"
	# The kernel's even port natively, the policy's odd one under the shim.
	[ "$output" = "0 0 1 2 Invalid argument 0 1 1 0 2 Invalid argument 0" ]
	every_strategy_prints 0 "0 0 1 2 Invalid argument 1 1 1 0 2 Invalid argument 1" \
		"$PYTHON" -c "$prog"
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

@test "bind(0) under --bind odd; a bind to a given port, and a connect after it, left alone" {
	need "$STATIC/portprobe"
	local log=$BATS_TEST_TMPDIR/ev.jsonl
	run -0 sup --bind odd --log "$log" -- "$STATIC/portprobe" -n 20 bind0
	assert_ports odd $output
	[ "$(grep -c '"call":"bind".*"policy":"odd".*"result":"ok"' "$log")" -eq 20 ]
	run -0 sup --bind even -- "$STATIC/portprobe" -u -n 20 bind0
	assert_ports even $output
	# An explicit port, and then a connect() of the bound socket: the
	# kernel's, untouched and not logged.
	start_server tcp 127.0.0.1 8080
	rm -f "$log"
	run -0 sup --parity odd --log "$log" -- "$STATIC/portprobe" -B 127.0.0.1 -b 45000 \
		connect 127.0.0.1 8080
	[ "$output" = 45000 ]
	[ "$(server_ports 8080)" = 45000 ]
	[ ! -s "$log" ]
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

@test "non-blocking connect of a static program: EINPROGRESS, EALREADY, then connected, as natively" {
	need "$STATIC/nbconnect"
	local family host
	for host in 127.0.0.1 ::1; do
		run -0 noshim "$STATIC/nbconnect" "$host" 6000
		[ "${lines[1]}" = "EINPROGRESS EALREADY 0 0 EISCONN" ]
		run -0 sup --connect odd -- "$STATIC/nbconnect" "$host" 6001
		echo "$output"
		[ "${lines[1]}" = "EINPROGRESS EALREADY 0 0 EISCONN" ]
		read -r local peer <<<"${lines[0]}"
		[ "$local" = "$peer" ]
		assert_ports odd "$peer"
	done
}

# Strategies reuse and exclusive bind before they connect: connects the
# kernel refuses before it needs a port (no route, a v4-mapped address on an
# IPV6_V6ONLY socket, link-local without a scope id) go straight to the
# kernel, as in the library (shim/core/early.c), so no case differs.

@test "hostile calls of a static program under every strategy: identical results, errno and socket state" {
	need "$STATIC/hostile"
	local strategy native
	run --separate-stderr noshim "$STATIC/hostile" cases
	[ "$status" -eq 0 ]
	native=$output
	[ "$(printf '%s\n' "$native" | wc -l)" -ge 190 ]
	[ "$(printf '%s\n' "$native" | grep -c 'errno=EFAULT')" -ge 50 ]
	for strategy in range auto reuse exclusive; do
		run --separate-stderr sup --strategy "$strategy" --connect odd --bind odd -- \
			"$STATIC/hostile" cases
		echo "strategy $strategy: status $status"
		[ "$status" -eq 0 ]
		assert_same_lists "$native" "$output"
	done
}

@test "raw TCP and UDP sockets and ping sockets are the kernel's: the same port, errno and state as natively, every strategy" {
	# The supervisor tells TCP and UDP from the protocol number alone;
	# raw sockets carry those numbers too, and always show a port (the
	# protocol's), so they must be left alone, as a ping socket is.
	local prog='
import errno, socket
out = []
for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    for proto in (socket.IPPROTO_TCP, socket.IPPROTO_UDP):
        s = socket.socket(family, socket.SOCK_RAW, proto)
        out.append(s.getsockname()[1])
        s.connect((host, 8091))
        out.append(s.getsockname()[1])
        try:
            s.sendto(b"x", (host, 8091))
            out.append("sent")
        except OSError as e:
            out.append(errno.errorcode[e.errno])
try:
    p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    p.connect(("127.0.0.1", 0))
    out.append("ping")
except OSError as e:
    out.append(errno.errorcode[e.errno])
t = socket.create_connection(("127.0.0.1", 8091))
out.append(t.getsockname()[1] % 2)
print(*out)'
	start_server tcp 127.0.0.1 8091
	ns_sysctl net/ipv4/ping_group_range "0 2147483647"
	run -0 noshim "$PYTHON" -c "$prog"
	echo "native: $output"
	local native=$output
	# Natively the TCP connect's port is even; under the supervisor, odd.
	[ "${native: -1}" = 0 ]
	[[ "$native" == "6 6 "*" 17 17 "*" 6 6 "*" 17 17 "* ]]
	local strategy log
	for strategy in auto range reuse exclusive; do
		log=$BATS_TEST_TMPDIR/raw-$strategy.jsonl
		run -0 sup --strategy "$strategy" --connect odd --backend seccomp --log "$log" -- \
			"$PYTHON" -c "$prog"
		echo "$strategy: $output"
		[ "$output" = "${native%0}1" ]
		# One decision: the TCP connect's; nothing of the others.
		log_check "$log" 1 odd ok
	done
}
