#!/usr/bin/env bats
# The seccomp backend (portshim(1), BACKENDS): portshim supervises the
# command through seccomp user notification and decides its ports with
# the library's core.  Here, the programs and their ports: static C programs
# (gcc -static), a Go program built with CGO_ENABLED=0, and a raw
# syscall(SYS_connect) from a dynamic program, each in a network namespace
# of its own; exhaustion, IPv6, UDP sends, TCP Fast Open, bind(0); and the
# calls whose results must be the native ones (SO_REUSEADDR read back, a
# non-blocking connect, hostile calls, raw sockets).  Every test checks the
# ports the server saw, and the event log.  Controls show the same programs
# get the kernel's even ports without the supervisor.  The supervisor's life
# with its program is seccomplife.bats's, many connections seccompscale.bats's.

load helper
load ../helpers/seccomp

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

@test "TCP Fast Open with the client side off: EOPNOTSUPP and no port, as natively, every strategy" {
	need "$STATIC/portprobe"
	start_server tcp 127.0.0.1 8089
	ns_sysctl net/ipv4/tcp_fastopen 2
	run -1 noshim "$STATIC/portprobe" -F -P sendto 127.0.0.1 8089
	[ "$output" = "EOPNOTSUPP 0" ]
	every_strategy_prints 1 "EOPNOTSUPP 0" "$STATIC/portprobe" -F -P sendto 127.0.0.1 8089
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
