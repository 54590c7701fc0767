#!/usr/bin/env bats
# Real, unmodified programs under the shim: Python's socket module, curl,
# socat and nc.  The namespace's range 40000-40999 makes the kernel give
# connect() even ports, so odd ones are the shim's doing; the servers (not
# under the shim) record the ports they saw.

load helper

setup() {
	common_setup
	ns_range 40000 40999
}

@test "python3 TCP client (socket.create_connection): odd ports, as the server saw them" {
	start_server tcp 127.0.0.1 5000
	run shim PORTSHIM_CONNECT=odd "$PYTHON" "$PROGRAMS/pyclient.py" tcp 127.0.0.1 5000 20
	echo "$output"
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5000)"
	assert_ports odd $(server_ports 5000)
	[ "$(server_ports 5000 | wc -l)" -eq 20 ]
}

@test "python3 UDP client (first sendto on an unconnected socket): 4:1 ports, IPv4 and IPv6" {
	start_server udp 127.0.0.1 5001
	start_server udp ::1 5002
	run shim PORTSHIM_CONNECT=4:1 "$PYTHON" "$PROGRAMS/pyclient.py" udp 127.0.0.1 5001 20
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5001)"
	assert_ports 4:1 $(server_ports 5001)
	run shim PORTSHIM_CONNECT=4:1 "$PYTHON" "$PROGRAMS/pyclient.py" udp ::1 5002 20
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5002)"
	assert_ports 4:1 $(server_ports 5002)
}

@test "a Python server bound to port 0 gets the bind policy's port and serves on it" {
	run shim PORTSHIM_BIND=even "$PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
port = s.getsockname()[1]
c = socket.create_connection(("127.0.0.1", port), timeout=5)
a, peer = s.accept()
a.sendall(b"hi")
assert c.recv(2) == b"hi"
print(port)'
	echo "$output"
	[ "$status" -eq 0 ]
	assert_ports even "$output"
	assert_ports 40000-40999 "$output"
}

@test "AF_UNIX bind/connect/sendto in Python pass through untouched" {
	# Path binds, the kernel's abstract autobind (bind with only a family),
	# stream connect and datagram sendto, under a shim that would rebind
	# any inet socket.
	cd "$BATS_TEST_TMPDIR"
	run shim PORTSHIM_PARITY=even "$PYTHON" -c '
import socket
s = socket.socket(socket.AF_UNIX)
s.bind("srv.sock")
s.listen()
c = socket.socket(socket.AF_UNIX)
c.connect("srv.sock")
a, _ = s.accept()
a.sendall(b"hi")
print("stream", s.getsockname(), c.recv(2).decode())
auto = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
auto.bind("")
name = auto.getsockname()
print("autobind", len(name), name[:1] == b"\0")
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.sendto(b"yo", name)
print("dgram", auto.recv(2).decode())'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "stream srv.sock hi" ]
	# The kernel's autobind name: a NUL and five hex digits.
	[ "${lines[1]}" = "autobind 6 True" ]
	[ "${lines[2]}" = "dgram yo" ]
}

@test "curl against a local HTTP server: the server saw odd client ports (IPv4 and IPv6)" {
	require_cmd curl
	start_server - 127.0.0.1 8080 httplog.py
	start_server - ::1 8081 httplog.py
	# Short bounds: this curl deadlocks at start-up under a preloaded ASan
	# runtime, shim or not (make asan), and should not cost a minute.
	for i in 1 2 3 4 5 6 7 8; do
		NS_TIMEOUT=20 run shim PORTSHIM_CONNECT=odd curl -sS --max-time 10 http://127.0.0.1:8080/
		[ "$status" -eq 0 ]
		[ "$output" = hello ]
	done
	for i in 1 2 3 4; do
		NS_TIMEOUT=20 run shim PORTSHIM_CONNECT=odd curl -sS --max-time 10 -g 'http://[::1]:8081/'
		[ "$status" -eq 0 ]
		[ "$output" = hello ]
	done
	[ "$(server_ports 8080 | wc -l)" -eq 8 ]
	[ "$(server_ports 8081 | wc -l)" -eq 4 ]
	assert_ports odd $(server_ports 8080) $(server_ports 8081)
}

@test "curl fetching several URLs in one process (one connection each): 4:3 ports" {
	require_cmd curl
	start_server - 127.0.0.1 8080 httplog.py
	# HTTP/1.0 answers: the server closes, so curl connects anew per URL.
	NS_TIMEOUT=30 run shim PORTSHIM_CONNECT=4:3 curl -sS --max-time 20 \
		"http://127.0.0.1:8080/[1-10]"
	[ "$status" -eq 0 ]
	[ "$(server_ports 8080 | wc -l)" -eq 10 ]
	assert_ports 4:3 $(server_ports 8080)
}

@test "socat TCP and UDP (connected and sendto): odd ports" {
	require_cmd socat
	start_server tcp 127.0.0.1 5000
	start_server udp 127.0.0.1 5001
	for i in 1 2 3 4 5; do
		run shim PORTSHIM_CONNECT=odd socat -T 5 - TCP:127.0.0.1:5000 </dev/null
		[ "$status" -eq 0 ]
	done
	# UDP: socat sends "x" and prints the server's reply, then stops
	# (readbytes: once it has the 2 bytes; -t: after its input ends, it
	# waits up to 10 s for them, not the default half second).
	for address in UDP:127.0.0.1:5001 UDP-SENDTO:127.0.0.1:5001 \
		UDP:127.0.0.1:5001 UDP-SENDTO:127.0.0.1:5001; do
		run shim PORTSHIM_CONNECT=odd socat -t 10 -T 10 - "$address,readbytes=2" <<<x
		[ "$status" -eq 0 ]
		[ "$output" = ok ]
	done
	[ "$(server_ports 5000 | wc -l)" -eq 5 ]
	[ "$(server_ports 5001 | wc -l)" -eq 4 ]
	assert_ports odd $(server_ports 5000) $(server_ports 5001)
}

@test "nc (OpenBSD netcat) TCP and UDP: odd ports" {
	require_cmd nc
	start_server tcp 127.0.0.1 5000
	start_server udp 127.0.0.1 5001
	for i in 1 2 3 4 5; do
		run shim PORTSHIM_CONNECT=odd nc -N -w 5 127.0.0.1 5000 </dev/null
		[ "$status" -eq 0 ]
	done
	for i in 1 2 3; do
		# -W 1: done once the reply is in; -w 10: waits that long for it.
		run shim PORTSHIM_CONNECT=odd nc -u -W 1 -w 10 127.0.0.1 5001 <<<x
		[ "$output" = ok ]
	done
	[ "$(server_ports 5000 | wc -l)" -eq 5 ]
	[ "$(server_ports 5001 | wc -l)" -eq 3 ]
	assert_ports odd $(server_ports 5000) $(server_ports 5001)
}
