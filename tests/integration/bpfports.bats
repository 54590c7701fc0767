#!/usr/bin/env bats
# The bpf backend's ports (portshim(1), "The bpf backend"): shared across
# destinations as the kernel shares them, a 4-tuple in use or in TIME_WAIT
# passed over, exhaustion with the kernel's errno, and connects the kernel
# refuses before it needs a port left unbound.  Each test compares with the
# same program run natively, in a network namespace of its own, under a
# test cgroup removed after.

load helper
load ../helpers/bpf

HOLD_TWO='import socket, sys
n = int(sys.argv[1]); held = []
for port in (8001, 8002):
    for _ in range(n):
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port)); print(port, s.getsockname()[1])
        except OSError as e:
            import errno; print(port, errno.errorcode[e.errno])
        held.append(s)'

# fresh_sink LO HI: a namespace with no TIME_WAIT from an earlier run (a
# program that exits closes first), its range LO-HI, the sink listening.
fresh_sink() {
	new_netns
	ns_range "$1" "$2"
	start_sink
}

@test "bpf: two destinations share every port of the policy, as the kernel shares its ports; one more fails with EADDRNOTAVAIL" {
	# Natively the kernel gives each destination the 10 even ports.
	fresh_sink 40000 40019
	run -0 noshim "$PYTHON" -c "$HOLD_TWO" 10
	[ "$(grep -c ' [0-9]*[02468]$' <<<"$output")" -eq 20 ]
	local strategy
	for strategy in auto reuse; do
		fresh_sink 40000 40019
		run -0 bpfrun --strategy "$strategy" --connect odd -- "$PYTHON" -c "$HOLD_TWO" 11
		echo "$strategy: $output"
		[ "$(grep -c '^8001 [0-9]*[13579]$' <<<"$output")" -eq 10 ]
		[ "$(grep -c '^8002 [0-9]*[13579]$' <<<"$output")" -eq 10 ]
		[ "$(grep -c ' EADDRNOTAVAIL$' <<<"$output")" -eq 2 ]
		assert_same_lists "$(awk '$1 == 8001 && $2 ~ /^[0-9]+$/ {print $2}' <<<"$output" | sort)" \
			"$(awk '$1 == 8002 && $2 ~ /^[0-9]+$/ {print $2}' <<<"$output" | sort)"
	done
	# exclusive: one port, one socket (10 connections in all).
	fresh_sink 40000 40019
	run -0 bpfrun --strategy exclusive --connect odd -- "$PYTHON" -c "$HOLD_TWO" 10
	[ "$(grep -c ' [0-9]*[13579]$' <<<"$output")" -eq 10 ]
	[ "$(grep -c ' EADDRNOTAVAIL$' <<<"$output")" -eq 10 ]
}

# A listener on 8090 that closes each connection only once the client
# has: every 4-tuple stays on the client's side (FIN_WAIT2, TIME_WAIT).
CLOSES_SECOND='import socket, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 8090)); srv.listen(64)
print("ready", flush=True)
def drain(c):
    while c.recv(100): pass
    c.close()
while True:
    c, _ = srv.accept(); threading.Thread(target=drain, args=(c,), daemon=True).start()'

# held_towards_8090 PORT...: once every teardown towards 127.0.0.1:8090
# is over, does ss show a TIME_WAIT from each PORT?
held_towards_8090() {
	local i p held
	for i in $(seq 250); do
		in_ns ss -Htan "dport = :8090" | grep -qv '^TIME-WAIT' || break
		sleep 0.02
	done
	held=$(in_ns ss -Htan state time-wait "dport = :8090" |
		awk '{ sub(/.*:/, "", $(NF - 1)); print $(NF - 1) }')
	for p in "$@"; do
		grep -qx "$p" <<<"$held" || { echo "no TIME_WAIT from port $p"; return 1; }
	done
}

# hold_towards_8090 PORT...: each PORT's 4-tuple to 127.0.0.1:8090 put in
# TIME_WAIT, natively, by a connection closed first, from a port the
# program binds itself with SO_REUSEADDR (so that a bind does not refuse
# it).
hold_towards_8090() {
	noshim "$PYTHON" -c 'import socket, sys
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p))); s.connect(("127.0.0.1", 8090)); s.close()' "$@" &&
		held_towards_8090 "$@"
}

# ns_keep_time_waits: an RST no longer ends a TIME_WAIT in the test's
# namespace (RFC 1337).  On loopback the kernel now and then answers a
# TIME_WAIT's ACK with one, natively (seen about once in 100 connections
# under load), which would free a 4-tuple a test holds.
ns_keep_time_waits() {
	ns_sysctl net/ipv4/tcp_rfc1337 1
}

@test "bpf: a 4-tuple in TIME_WAIT is passed over while a port of the policy is free, then taken over if it has timestamps, as by a socket bound to its port; without them the connect fails with EADDRNOTAVAIL" {
	# No TIME_WAIT is recycled by the kernel's own-choice rule here,
	# however slow the run.
	ns_sysctl net/ipv4/tcp_tw_reuse 0
	ns_keep_time_waits
	local out=$BATS_TEST_TMPDIR/srv.out i ts lo
	local connect='import socket, errno, sys
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 8090)); print(s.getsockname()[1])
    except OSError as e:
        print(errno.errorcode[e.errno])
    s.close()'
	in_ns_background "$out" "$PYTHON" -c "$CLOSES_SECOND"
	for i in $(seq 500); do grep -q ready "$out" && break; sleep 0.01; done
	for ts in 1 0; do
		# A range of its own each time: the first one's TIME_WAITs stay.
		lo=$((ts ? 40000 : 41000))
		ns_range "$lo" $((lo + 19))
		ns_sysctl net/ipv4/tcp_timestamps "$ts"
		# 5 of the 10 odd ports held natively, then five connects,
		# each closed first: the other 5 odd ports.
		hold_towards_8090 $(seq $((lo + 1)) 2 $((lo + 9)))
		run -0 bpfrun --connect odd -- "$PYTHON" -c "$connect" 5
		echo "tcp_timestamps $ts: $output"
		assert_ports odd "${lines[@]}"
		assert_ports $((lo + 11))-$((lo + 19)) "${lines[@]}"
		[ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -eq 5 ]
		# Every odd port held: one of the 10 in TIME_WAIT, or none.
		held_towards_8090 $(seq $((lo + 1)) 2 $((lo + 19)))
		run -0 bpfrun --connect odd -- "$PYTHON" -c "$connect" 1
		echo "then: $output"
		if [ "$ts" = 1 ]; then
			assert_ports odd "$output"
			assert_ports "$lo-$((lo + 19))" "$output"
		else
			[ "$output" = EADDRNOTAVAIL ]
		fi
	done
}

@test "bpf: every odd port taken: on-exhaust=fail gives the kernel's errno (TCP EADDRNOTAVAIL, UDP EAGAIN), on-exhaust=kernel lets the kernel choose, under every strategy" {
	ns_range 40000 40009
	start_server tcp 127.0.0.1 8080
	start_server udp 127.0.0.1 8080
	local strategy to
	# UDP, IPv4 and IPv6 (v4-mapped): natively the 11th of 10 ports fails
	# with EAGAIN.
	for to in "127.0.0.1" "-6 ::ffff:127.0.0.1"; do
		run -1 noshim "$PROBE" -u -k -1 -n 11 connect $to 8080
		[ "${lines[10]}" = EAGAIN ]
		for strategy in "${STRATEGIES[@]}"; do
			run -1 bpfrun --strategy "$strategy" --connect odd -- \
				"$PROBE" -u -k -1 -n 6 connect $to 8080
			echo "udp $to, $strategy: $output"
			mapfile -t got < <(output_ports)
			[ "${#got[@]}" -eq 5 ]; assert_ports odd "${got[@]}"
			[ "${lines[5]}" = EAGAIN ]
		done
	done
	for strategy in "${STRATEGIES[@]}"; do
		run -1 bpfrun --strategy "$strategy" --connect odd -- "$PROBE" -k -1 -n 6 connect 127.0.0.1 8080
		echo "$output"
		mapfile -t got < <(output_ports)
		[ "${#got[@]}" -eq 5 ]; assert_ports odd "${got[@]}"
		[ "${lines[5]}" = EADDRNOTAVAIL ]
		run -0 bpfrun --strategy "$strategy" --connect odd --on-exhaust kernel -- \
			"$PROBE" -k -1 -n 6 connect 127.0.0.1 8080
		mapfile -t got < <(output_ports)
		[ "${#got[@]}" -eq 6 ]; assert_ports odd "${got[@]:0:5}"; assert_ports even "${got[5]}"
	done
}

@test "bpf: a TCP connect the kernel refuses before it needs a port (the other family, v4-mapped on IPV6_V6ONLY, multicast, broadcast) leaves the socket unbound, under every strategy, as natively" {
	local prog='import ctypes, errno, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
def after(s, what):
    try:
        what()
        r = "connected"
    except OSError as e:
        r = errno.errorcode[e.errno]
    port = s.getsockname()[1]
    try:
        s.bind(("0.0.0.0", 0) if s.family == socket.AF_INET else ("::", 0)); b = "0"
    except OSError as e:
        b = errno.errorcode[e.errno]
    print(r, port, b)
    s.close()
def raw(s, blob):
    if libc.connect(s.fileno(), blob, len(blob)) != 0:
        raise OSError(ctypes.get_errno(), "connect")
s = socket.socket()
after(s, lambda: raw(s, struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", 8080, 0) +
                    socket.inet_pton(socket.AF_INET6, "::1") + struct.pack("=I", 0)))
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
after(s, lambda: s.connect(("::ffff:127.0.0.1", 8080)))
s = socket.socket(); after(s, lambda: s.connect(("224.0.0.1", 8080)))
s = socket.socket(); after(s, lambda: s.connect(("255.255.255.255", 8080)))
s = socket.socket(socket.AF_INET6); after(s, lambda: s.connect(("ff0e::1", 8080)))
s = socket.socket(socket.AF_INET6); after(s, lambda: s.connect(("::ffff:224.0.0.1", 8080)))'
	run -0 noshim "$PYTHON" -c "$prog"
	local native=$output strategy
	echo "native: $native"
	[ "$(grep -c ' 0 0$' <<<"$native")" -eq 6 ]
	for strategy in "${STRATEGIES[@]}"; do
		run -0 bpfrun --strategy "$strategy" --connect odd -- "$PYTHON" -c "$prog"
		echo "$strategy: $output"
		[ "$output" = "$native" ]
	done
}

@test "bpf: a TIME_WAIT the kernel's own choice would recycle (tcp_tw_reuse, its delay) counts as free at once; with tcp_tw_reuse 0, only once every port is held" {
	[ -e /proc/sys/net/ipv4/tcp_tw_reuse_delay ] || skip "no tcp_tw_reuse_delay before Linux 6.14"
	ns_range 40000 40003
	ns_sysctl net/ipv4/tcp_tw_reuse_delay 1
	ns_keep_time_waits
	local out=$BATS_TEST_TMPDIR/srv.out log=$BATS_TEST_TMPDIR/ev.jsonl i reuse
	in_ns_background "$out" "$PYTHON" -c "$CLOSES_SECOND"
	for i in $(seq 500); do grep -q ready "$out" && break; sleep 0.01; done
	# Two connects take both odd ports and leave their TIME_WAITs; the
	# third needs one of them (after a millisecond's delay).
	local prog='import socket, time
for n in range(3):
    s = socket.socket(); s.connect(("127.0.0.1", 8090)); print(s.getsockname()[1]); s.close()
    time.sleep(0.01)'
	for reuse in 1 0; do
		ns_sysctl net/ipv4/tcp_tw_reuse "$reuse"
		: >"$log"
		run -0 bpfrun --connect odd --log "$log" -- "$PYTHON" -c "$prog"
		echo "tcp_tw_reuse $reuse: $output"
		mapfile -t got < <(output_ports)
		[ "${#got[@]}" -eq 3 ]
		assert_ports odd "${got[@]}"
		[ "$(in_ns ss -Htan state time-wait 'dport = :8090' | wc -l)" -ge 2 ]
		# The third connect's attempts: under the kernel's rule its first
		# candidate; without it, both passed over, then one taken.
		run -0 grep -o '"attempts":[0-9]*' "$log"
		echo "$output"
		[ "${lines[2]}" = "\"attempts\":$((reuse ? 1 : 3))" ]
	done
}
