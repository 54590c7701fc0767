#!/usr/bin/env bats
# sanitizers: tsan
# bind(): port 0 gets the bind policy's port; everything else is the
# application's own choice and must come through unchanged.  The range
# 40000-40999 makes the kernel give bind(0) odd ports and connect() even.

load helper

setup() {
	common_setup
	ns_range 40000 40999
}

@test "bind(0) TCP with PORTSHIM_BIND=even: even ports, and the socket listens and accepts" {
	# -L: each socket listen()s and accepts a connection made to its port.
	run shim PORTSHIM_BIND=even "$PROBE" -L -n 30 -B 127.0.0.1 bind0
	echo "$output"
	[ "$status" -eq 0 ]
	mapfile -t ports < <(output_ports)
	[ "${#ports[@]}" -eq 30 ]
	assert_ports even "${ports[@]}"
	assert_ports 40000-40999 "${ports[@]}"
}

@test "bind(0) on the wildcard address, IPv4 and IPv6, with PORTSHIM_BIND=even" {
	run shim PORTSHIM_BIND=even "$PROBE" -L -n 20 bind0
	[ "$status" -eq 0 ]
	assert_ports even $(output_ports)
	run shim PORTSHIM_BIND=even "$PROBE" -6 -L -n 20 bind0
	[ "$status" -eq 0 ]
	assert_ports even $(output_ports)
	run shim PORTSHIM_BIND=even "$PROBE" -6 -L -n 20 -B ::1 bind0
	[ "$status" -eq 0 ]
	assert_ports even $(output_ports)
}

@test "bind(0) UDP with PORTSHIM_BIND=4:2" {
	run shim PORTSHIM_BIND=4:2 "$PROBE" -u -n 30 -B 127.0.0.1 bind0
	[ "$status" -eq 0 ]
	assert_ports 4:2 $(output_ports)
	[ "$(output_ports | wc -l)" -eq 30 ]
}

@test "bind policy off by default: bind(0) keeps the kernel's parity even with PORTSHIM_CONNECT set" {
	run shim PORTSHIM_CONNECT=even "$PROBE" -n 30 -B 127.0.0.1 bind0
	[ "$status" -eq 0 ]
	assert_ports odd $(output_ports)
}

@test "an explicit bind(port) passes through unchanged, whatever the policies and range" {
	start_server tcp 127.0.0.1 5000
	# Odd ports, under even policies: they must stay what was asked for.
	for port in 40501 50001; do
		probe_vs_server 5000 PORTSHIM_PARITY=even PORTSHIM_RANGE=40000-40099 -- \
			-B 127.0.0.1 -b "$port" connect 127.0.0.1 5000
		[ "${ports[*]}" = "$port" ]
	done
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_PARITY=even -- -u -B 127.0.0.1 -b 40503 sendto 127.0.0.1 5001
	[ "${ports[*]}" = 40503 ]
}

@test "a socket already bound (the kernel's bind(0)) is left alone by connect()" {
	start_server tcp 127.0.0.1 5000
	# PORTSHIM_BIND=off: the kernel binds (odd here); connect's even
	# policy must not touch the bound port.
	probe_vs_server 5000 PORTSHIM_CONNECT=even -- -n 20 -B 127.0.0.1 connect 127.0.0.1 5000
	assert_ports odd "${ports[@]}"
	# Bound by the shim's bind policy (4:3): connect keeps it too.
	probe_vs_server 5000 PORTSHIM_BIND=4:3 PORTSHIM_CONNECT=even -- \
		-n 20 -B 127.0.0.1 connect 127.0.0.1 5000
	assert_ports 4:3 "${ports[@]}"
}

@test "IP_BIND_ADDRESS_NO_PORT: bind(addr, 0) defers, connect() applies the connect policy and keeps the address" {
	start_server tcp 127.0.0.1 5000
	# PORTSHIM_BIND=even must not apply at bind(): the port is the connect
	# policy's (odd), and the source address stays 127.0.0.2.
	probe_vs_server 5000 PORTSHIM_BIND=even PORTSHIM_CONNECT=odd -- \
		-N -B 127.0.0.2 -n 20 connect 127.0.0.1 5000
	assert_ports odd "${ports[@]}"
	[ "$(awk '{ print $1 }' "$(server_log 5000)" | sort -u)" = 127.0.0.2 ]
}
