#!/usr/bin/env bats
# The bpf backend (portshim(1), BACKENDS): portshim runs the command in a
# cgroup of its own, under a test cgroup made here, where a BPF program
# binds every connect()'s socket to a port of the policy, whatever the
# program: static C, Go with CGO_ENABLED=0, a raw syscall(SYS_connect),
# io_uring's IORING_OP_CONNECT, curl and python3.  Each test checks the
# ports the server (or getsockname()) saw, against the same program run
# natively, in a network namespace of its own; the test cgroup is removed
# after, and what portshim attached goes with it.

load helper
load ../helpers/bpf

@test "bpf: static C, Go, raw syscall(SYS_connect) and python3 get odd ports under every strategy; natively even" {
	need "$STATIC/portprobe" "$GOCONN"
	require_helpers rawconnect
	start_server tcp 127.0.0.1 8080
	server_saw_program even 20 noshim "$STATIC/portprobe" -n 20 connect 127.0.0.1 8080
	server_saw_program even 20 noshim "$GOCONN" -n 20 127.0.0.1:8080
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		server_saw_program odd 20 bpfrun --strategy "$strategy" --connect odd -- \
			"$STATIC/portprobe" -n 20 connect 127.0.0.1 8080
		server_saw_program odd 20 bpfrun --strategy "$strategy" --connect odd -- "$GOCONN" -n 20 127.0.0.1:8080
		server_saw_program odd 20 bpfrun --strategy "$strategy" --connect odd -- \
			"$PSTEST_HELPERS/rawconnect" -n 20 127.0.0.1 8080
		server_saw_program odd 20 bpfrun --strategy "$strategy" --connect odd -- \
			"$PYTHON" -c 'import socket
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", 8080)); print(s.getsockname()[1]); s.recv(1); s.close()'
	done
}

@test "bpf: io_uring connects (IORING_OP_CONNECT), with sockets from socket() and from IORING_OP_SOCKET, get the policy; natively even" {
	require_helpers uringconn
	start_server tcp 127.0.0.1 8080
	run noshim "$URING" -n 1 127.0.0.1 8080
	if [ "$status" -eq 3 ]; then
		[ "${PSTEST_STRICT:-0}" != 1 ] || { echo "io_uring is disabled (PSTEST_STRICT=1): $output" >&2; return 1; }
		skip "io_uring is disabled here: $output"
	fi
	server_saw_program even 30 noshim "$URING" -n 30 127.0.0.1 8080
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		server_saw_program odd 30 bpfrun --strategy "$strategy" --connect odd -- "$URING" -n 30 127.0.0.1 8080
		server_saw_program 4:3 30 bpfrun --strategy "$strategy" --connect 4:3 -- "$URING" -s -n 30 127.0.0.1 8080
	done
}

@test "bpf: curl gets an odd port; connected UDP, IPv6 and IPv4-mapped sockets too" {
	require_cmd curl
	start_server tcp 127.0.0.1 8080 httplog.py
	run -0 bpfrun --connect odd -- curl -sS -o /dev/null http://127.0.0.1:8080/
	mapfile -t got < <(server_ports 8080 1)
	assert_ports odd "${got[@]}"
	start_server udp 127.0.0.1 8081
	start_server tcp ::1 8082
	start_server tcp :: 8083
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run -0 bpfrun --strategy "$strategy" --connect odd -- "$PROBE" -u -n 10 connect 127.0.0.1 8081
		mapfile -t got < <(output_ports); [ "${#got[@]}" -eq 10 ]; assert_ports odd "${got[@]}"
		run -0 bpfrun --strategy "$strategy" --connect odd -- "$PROBE" -6 -n 10 connect ::1 8082
		mapfile -t got < <(output_ports); [ "${#got[@]}" -eq 10 ]; assert_ports odd "${got[@]}"
		run -0 bpfrun --strategy "$strategy" --connect odd -- "$PROBE" -6 -n 10 connect ::ffff:127.0.0.1 8083
		mapfile -t got < <(output_ports); [ "${#got[@]}" -eq 10 ]; assert_ports odd "${got[@]}"
	done
	# The controls: the kernel alone gives connect() even ports.
	run -0 noshim "$PROBE" -6 -n 10 connect ::ffff:127.0.0.1 8083
	mapfile -t got < <(output_ports); assert_ports even "${got[@]}"
}

# TCP Fast Open: a send with MSG_FASTOPEN connects an unconnected socket,
# through the same connect hook; with the client side of Fast Open off the
# kernel refuses it (EOPNOTSUPP) before the hook, and the socket stays
# unbound, as natively.
@test "bpf: TCP Fast Open (sendto, sendmsg, sendmmsg with MSG_FASTOPEN) gets the policy under every strategy; refused, no port, as natively" {
	need "$STATIC/portprobe"
	start_server tcp 127.0.0.1 8080
	server_saw_program even 10 noshim "$STATIC/portprobe" -F -n 10 sendto 127.0.0.1 8080
	local strategy call
	for strategy in "${STRATEGIES[@]}"; do
		for call in sendto sendmsg sendmmsg; do
			server_saw_program odd 10 bpfrun --strategy "$strategy" --connect odd -- \
				"$STATIC/portprobe" -F -n 10 "$call" 127.0.0.1 8080
		done
	done
	ns_sysctl net/ipv4/tcp_fastopen 2
	run -1 noshim "$STATIC/portprobe" -F -P sendto 127.0.0.1 8080
	[ "$output" = "EOPNOTSUPP 0" ]
	for strategy in "${STRATEGIES[@]}"; do
		run -1 bpfrun --strategy "$strategy" --connect odd -- "$STATIC/portprobe" -F -P sendto 127.0.0.1 8080
		[ "$output" = "EOPNOTSUPP 0" ]
	done
}

# A program that holds N connections to each of the sink's first two
# ports at once and prints each one's local port (or the errno's name).
@test "bpf: the program's getsockopt(SO_REUSEADDR) reads its own value, as natively" {
	start_server tcp 127.0.0.1 8080
	local prog='import socket, sys
s = socket.socket()
if sys.argv[1] == "1": s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.connect(("127.0.0.1", 8080))
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR), s.getsockname()[1] % 2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(sys.argv[2]))
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
# A 1 the kernel refuses (optlen 2: EINVAL) changes nothing.
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
one = ctypes.c_int(1)
r = libc.setsockopt(s.fileno(), socket.SOL_SOCKET, socket.SO_REUSEADDR, ctypes.byref(one), 2)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR), r, ctypes.get_errno() if r else 0)'
	local own later native
	for own in 0 1; do
		for later in 0 1; do
			run -0 noshim "$PYTHON" -c "$prog" "$own" "$later"
			native=$(sed 's/ [01]$//' <<<"$output")
			run -0 bpfrun --connect odd -- "$PYTHON" -c "$prog" "$own" "$later"
			echo "own $own later $later: native [$native] bpf [$output]"
			[ "$(sed -n 1p <<<"$output")" = "$own 1" ]
			[ "$(sed 's/ [01]$//' <<<"$output")" = "$native" ]
		done
	done
}

@test "bpf: 2,000 sockets to one destination each read their own SO_REUSEADDR, under every strategy, as natively" {
	local prog='import socket
l = socket.socket()
l.bind(("127.0.0.1", 9090))
l.listen(4096)
socks = []
for i in range(2000):
    s = socket.socket()
    s.connect(("127.0.0.1", 9090))
    socks.append(s)
ports = [s.getsockname()[1] for s in socks]
print(sum(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) for s in socks),
      len(set(ports)), sum(p % 2 for p in ports))'
	local strategy
	run -0 noshim "$PYTHON" -c "$prog"
	echo "native: $output"
	[ "${output%% *}" = 0 ]
	for strategy in "${STRATEGIES[@]}"; do
		run -0 bpfrun --connect odd --strategy "$strategy" -- "$PYTHON" -c "$prog"
		echo "$strategy: $output"
		[ "$output" = "0 2000 2000" ]
	done
}

@test "bpf: exit status, signals and environment are the command's; its cgroup is gone after, with what was attached" {
	run -7 bpfrun --connect odd -- sh -c 'exit 7'
	# The flags configure portshim, not the command's environment.
	run -0 noshim env PORTSHIM_CONNECT=even "$CLI" --backend bpf --cgroup-parent "$TEST_CG" \
		--connect odd --seed 9 -- env
	[ "$(grep ^PORTSHIM_ <<<"$output")" = PORTSHIM_CONNECT=even ]
	run -143 bpfrun --connect odd -- sh -c 'kill -TERM $$'
	run -127 bpfrun --connect odd -- no-such-command-here
	signals_passed_on bpfrun --connect odd --
	[ -z "$(find "$TEST_CG" -mindepth 1 -type d)" ]
}

@test "bpf: portshim killed with SIGKILL leaves no attachment behind" {
	local out=$BATS_TEST_TMPDIR/run.out cg i pid
	in_ns_background "$out" "$CLI" --backend bpf --cgroup-parent "$TEST_CG" --connect odd -- sleep 300
	for i in $(seq 500); do
		cg=$(find "$TEST_CG" -mindepth 1 -maxdepth 1 -type d | head -n 1)
		[ -n "$cg" ] && grep -qx 'populated 1' "$cg/cgroup.events" && break
		sleep 0.01
	done
	[ "$(attachments "$cg" | wc -l)" -eq 4 ]
	attachments "$cg" | grep -q connect4
	# timeout's child is portshim (nsenter and env exec).
	pid=$(ps -o pid= --ppid "${BACKGROUND_PIDS[-1]}" | tr -d ' ')
	[ -n "$pid" ]
	kill -9 "$pid"
	for i in $(seq 500); do
		[ "$(attachments "$cg" | wc -l)" -eq 0 ] && break
		sleep 0.01
	done
	[ "$(attachments "$cg" | wc -l)" -eq 0 ]
}

@test "bpf: one line and status 125, nothing run: a kernel emulation, strategy range, a bind policy, no privilege" {
	run -125 bpfrun --connect kernel -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$output" = "portshim: the bpf backend needs connect=kernel: the bpf backend applies even, odd, any, N:K, prefer-even and prefer-odd; the kernel's emulations need the preload or seccomp backend; nothing was run" ]
	run -125 bpfrun --strategy range --connect odd -- touch "$BATS_TEST_TMPDIR/ran"
	[[ $output == "portshim: the bpf backend needs strategy=range: "*"; nothing was run" ]]
	run -125 bpfrun --bind odd -- touch "$BATS_TEST_TMPDIR/ran"
	[[ $output == "portshim: the bpf backend needs bind: "*"; nothing was run" ]]
	[ "$(id -u)" = 0 ] || skip "the unprivileged case needs root to switch to nobody"
	as_nobody --backend bpf --cgroup-parent "$TEST_CG" -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$status" -eq 125 ]
	[ "$output" = "portshim: the bpf backend needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (or root) to load the program (Operation not permitted); nothing was run" ]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
	[ -z "$(find "$TEST_CG" -mindepth 1 -type d)" ]
	# Root without CAP_SYS_ADMIN and CAP_PERFMON: the verifier refuses the
	# program, and the line names what is missing.
	run -125 noshim setpriv --bounding-set=-sys_admin,-perfmon -- \
		"$CLI" --backend bpf --cgroup-parent "$TEST_CG" -- touch "$BATS_TEST_TMPDIR/ran"
	[ "$output" = "portshim: the bpf backend needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (or root) to load the program (Permission denied); nothing was run" ]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "bpf: CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON are enough, without CAP_SYS_ADMIN" {
	need "$STATIC/portprobe"
	start_server tcp 127.0.0.1 8080
	server_saw_program odd 10 noshim setpriv --bounding-set=-sys_admin -- \
		"$CLI" --backend bpf --cgroup-parent "$TEST_CG" --connect odd -- \
		"$STATIC/portprobe" -n 10 connect 127.0.0.1 8080
}

@test "bpf: the event log has one line per connect, with the program's pid, name, port and result; portshim report reads it" {
	start_server tcp 127.0.0.1 8080
	local log=$BATS_TEST_TMPDIR/ev.jsonl
	run -0 bpfrun --connect odd --log "$log" -- "$STATIC/portprobe" -n 5 connect 127.0.0.1 8080
	mapfile -t got < <(output_ports)
	[ "$(wc -l <"$log")" -eq 5 ]
	[ "$(grep -c '"comm":"portprobe".*"call":"connect".*"policy":"odd".*"result":"ok"' "$log")" -eq 5 ]
	assert_same_lists "$(printf '%s\n' "${got[@]}")" "$(grep -o '"port":[0-9]*' "$log" | cut -d: -f2)"
	run -0 "$CLI" report "$log"
	echo "$output"
	grep -q 'odd' <<<"$output"
}

@test "bpf: the control file switches the policy of a running command, from even to odd" {
	start_server tcp 127.0.0.1 5000
	local dir=$BATS_TEST_TMPDIR log=$BATS_TEST_TMPDIR/ev.jsonl ctl=$BATS_TEST_TMPDIR/ctl.conf
	printf 'connect = even\n' >"$ctl"
	: >"$log"
	in_ns_background "$dir/client.out" env PORTSHIM_CONTROL="$ctl" PORTSHIM_LOG="$log" \
		"$CLI" --backend bpf --cgroup-parent "$TEST_CG" -- "$PYTHON" -c '
import os, socket, sys, time
while not os.path.exists(sys.argv[1]):
    s = socket.socket()
    s.connect(("127.0.0.1", 5000))
    s.recv(100)
    s.close()
    time.sleep(0.02)' "$dir/stop"
	wait_for "$log" 'len([d for d in ls if d["call"] == "connect"]) >= 10'
	printf '# switched by the test\nconnect = odd\n' >"$ctl.new" && mv "$ctl.new" "$ctl"
	wait_for "$log" 'any(d["call"] == "control" and d["connect"] == "odd" for d in ls)'
	wait_for "$log" 'len([d for d in ls[[i for i, d in enumerate(ls) if d["call"] == "control"][-1]:] if d["call"] == "connect"]) >= 20'
	touch "$dir/stop"
	wait "${BACKGROUND_PIDS[-1]}"
	cat "$dir/client.out"
	"$PYTHON" - "$log" <<-'EOF'
	import json, sys
	ls = [json.loads(l) for l in open(sys.argv[1])]
	ctl = [i for i, d in enumerate(ls) if d["call"] == "control"]
	assert [ls[i]["connect"] for i in ctl] == ["even", "odd"], [ls[i] for i in ctl]
	even = [d for d in ls[ctl[0]:ctl[1]] if d["call"] == "connect"]
	odd = [d for d in ls[ctl[1] + 1:] if d["call"] == "connect"]
	assert [d for d in ls[:ctl[0]] if d["call"] == "connect"] == []
	assert len(even) >= 10 and all(d["policy"] == "even" and d["port"] % 2 == 0 for d in even), even
	# A connect that looked up the old settings may be logged just after the switch.
	assert len(odd) >= 20 and all(d["port"] % 2 == 1 for d in odd[2:]), odd
	EOF
}

@test "bpf: a network namespace the command makes has its own range and reserved ports from its first connect, under every strategy" {
	# Inside: a new namespace with its own range and reserved ports, a
	# listener, and 20 connects.
	local prog='import socket, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 8090)); srv.listen(64)
def serve():
    while True:
        c, _ = srv.accept(); c.close()
threading.Thread(target=serve, daemon=True).start()
def one():
    s = socket.create_connection(("127.0.0.1", 8090)); p = s.getsockname()[1]; s.close(); return p
print(*[one() for _ in range(20)])'
	local inner='ip link set lo up && echo "42000 42099" >/proc/sys/net/ipv4/ip_local_port_range &&
		echo 42001,42003,42005-42011 >/proc/sys/net/ipv4/ip_local_reserved_ports && exec "$0" -c "$1"'
	local strategy got
	for strategy in "${STRATEGIES[@]}"; do
		run -0 bpfrun --connect odd --strategy "$strategy" -- unshare -n sh -c "$inner" "$PYTHON" "$prog"
		echo "$strategy: $output"
		read -ra got <<<"$output"
		[ "${#got[@]}" -eq 20 ]
		assert_ports odd "${got[@]}"
		assert_ports 42013-42099 "${got[@]}"
	done
	# The same settings with a range given: that range, in every namespace.
	run -0 bpfrun --connect odd --range 50000-50099 -- unshare -n sh -c "$inner" "$PYTHON" "$prog"
	echo "--range: $output"
	read -ra got <<<"$output"
	[ "${#got[@]}" -eq 20 ]
	assert_ports odd "${got[@]}"
	assert_ports 50000-50099 "${got[@]}"
}

@test "bpf: per-destination rules, the namespace's reserved ports, order=sequential and a seed" {
	ns_range 40000 40039
	ns_sysctl net/ipv4/ip_local_reserved_ports 40001,40003
	start_server tcp 127.0.0.1 8080
	start_server tcp 127.0.0.2 8081
	# The rule's destination gets even ports, the others odd ones; the
	# reserved ports are never given.
	run -0 bpfrun --connect odd --rule '127.0.0.2/32=even' --order sequential -- sh -c \
		'"$0" -n 5 connect 127.0.0.1 8080 && "$0" -n 5 connect 127.0.0.2 8081' "$PROBE"
	echo "$output"
	mapfile -t got < <(output_ports)
	[ "${#got[@]}" -eq 10 ]
	assert_ports odd "${got[@]:0:5}"
	assert_ports even "${got[@]:5:5}"
	# Sequential: upwards from the lowest allowed port, past the reserved.
	[ "${got[*]:0:5}" = "40005 40007 40009 40011 40013" ]
	[ "${got[*]:5:5}" = "40000 40002 40004 40006 40008" ]
	# A seed repeats a run's ports (a fresh namespace each time); another
	# seed gives others.
	local a b c
	new_netns; ns_range 40000 40039; start_server tcp 127.0.0.1 8080
	a=$(bpfrun --connect odd --seed 42 -- "$PROBE" -n 8 connect 127.0.0.1 8080)
	new_netns; ns_range 40000 40039; start_server tcp 127.0.0.1 8080
	b=$(bpfrun --connect odd --seed 42 -- "$PROBE" -n 8 connect 127.0.0.1 8080)
	new_netns; ns_range 40000 40039; start_server tcp 127.0.0.1 8080
	c=$(bpfrun --connect odd --seed 43 -- "$PROBE" -n 8 connect 127.0.0.1 8080)
	echo "42: $a / 42: $b / 43: $c" | tr '\n' ' '
	assert_same_lists "$a" "$b"
	[ "$a" != "$c" ]
}

@test "bpf: the program's other socket options are the kernel's, a buffer larger than a page included" {
	start_server tcp 127.0.0.1 8080
	# Through the C library: Python's own getsockopt() takes at most 1 KiB.
	local prog='import ctypes, socket
libc = ctypes.CDLL(None, use_errno=True)
s = socket.create_connection(("127.0.0.1", 8080))
buf, n = ctypes.create_string_buffer(8192), ctypes.c_uint(8192)
rc = libc.getsockopt(s.fileno(), socket.IPPROTO_TCP, socket.TCP_INFO, buf, ctypes.byref(n))
dev = ctypes.create_string_buffer(b"lo", 8192)
rc2 = libc.setsockopt(s.fileno(), socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev, 8192)
print(rc, n.value, rc2, ctypes.get_errno(), s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b"\0").decode(),
      s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)[0], s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))'
	run -0 noshim "$PYTHON" -c "$prog"
	local native=$output
	[[ $native == "0 "*" 0 0 lo 0 0" ]]
	run -0 bpfrun --connect odd -- "$PYTHON" -c "$prog"
	[ "$output" = "$native" ]
}

@test "bpf: a log line's time is when the program connected, not when portshim read the event" {
	start_server tcp 127.0.0.1 8080
	local log=$BATS_TEST_TMPDIR/ev.jsonl
	# Ten connects 30 ms apart, each with the time right after it: read
	# every 100 ms, the events' own times must still be within 20 ms.
	run -0 bpfrun --connect odd --log "$log" -- "$PYTHON" -c 'import socket, time
for _ in range(10):
    s = socket.create_connection(("127.0.0.1", 8080)); print(s.getsockname()[1], time.time()); s.close()
    time.sleep(0.03)'
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/said"
	"$PYTHON" - "$log" "$BATS_TEST_TMPDIR/said" <<-'EOF'
	import datetime, json, sys
	said = dict(line.split() for line in open(sys.argv[2]))
	lines = [json.loads(l) for l in open(sys.argv[1]) if '"call":"connect"' in l]
	assert len(lines) == 10, lines
	for d in lines:
	    t = datetime.datetime.strptime(d["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
	    gap = float(said[str(d["port"])]) - t
	    assert 0 <= gap < 0.02, (d["port"], gap)
	EOF
}

@test "bpf: a socket bound to an address with IP_BIND_ADDRESS_NO_PORT keeps its address and gets a port of the policy" {
	start_server tcp 127.0.0.1 8080
	local prog='import socket
for _ in range(5):
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", 8080)); a, p = s.getsockname(); print(a, p); s.recv(1); s.close()'
	run -0 noshim "$PYTHON" -c "$prog"
	[ "$(grep -c '^127\.0\.0\.2 [0-9]*[02468]$' <<<"$output")" -eq 5 ]
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run -0 bpfrun --strategy "$strategy" --connect odd -- "$PYTHON" -c "$prog"
		echo "$strategy: $output"
		[ "$(grep -c '^127\.0\.0\.2 [0-9]*[13579]$' <<<"$output")" -eq 5 ]
	done
}

