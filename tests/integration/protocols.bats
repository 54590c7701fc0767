#!/usr/bin/env bats
# sanitizers: tsan
# UDP (connect, and the first sendto()/sendmsg() of an unconnected socket),
# IPv6 on ::1, and an IPv4-mapped destination on an AF_INET6 socket: the
# ports the server saw.  The kernel picks UDP ports at random, and TCP ones
# of the range's low parity, so a shim that did nothing would fail these.

load helper

setup() {
	common_setup
	ns_range 40000 40999
}

@test "UDP connect(): odd ports" {
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_CONNECT=odd -- -u -n 40 connect 127.0.0.1 5001
	[ "${#ports[@]}" -eq 40 ]
	assert_ports odd "${ports[@]}"
	assert_ports 40000-40999 "${ports[@]}"
}

@test "UDP sendto() on an unconnected socket: the first send gets an even port" {
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_CONNECT=even -- -u -n 40 sendto 127.0.0.1 5001
	[ "${#ports[@]}" -eq 40 ]
	assert_ports even "${ports[@]}"
	assert_ports 40000-40999 "${ports[@]}"
}

@test "UDP sendmsg() on an unconnected socket: the first send gets a 4:3 port" {
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_CONNECT=4:3 -- -u -n 40 sendmsg 127.0.0.1 5001
	[ "${#ports[@]}" -eq 40 ]
	assert_ports 4:3 "${ports[@]}"
}

@test "UDP sendmmsg() on an unconnected socket: the first send gets an odd port" {
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_CONNECT=odd -- -u -n 40 sendmmsg 127.0.0.1 5001
	[ "${#ports[@]}" -eq 40 ]
	assert_ports odd "${ports[@]}"
}

@test "UDP with the default policy (any): both parities, inside PORTSHIM_RANGE" {
	# The kernel picks UDP ports at random too: the range is what shows
	# the shim chose them.
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_RANGE=40100-40199 -- -u -n 100 sendto 127.0.0.1 5001
	assert_ports 40100-40199 "${ports[@]}"
	even=$(count_even "${ports[@]}")
	[ "$even" -gt 20 ]
	[ "$even" -lt 80 ]
}

@test "IPv6 TCP to ::1: odd ports" {
	start_server tcp ::1 5000
	probe_vs_server 5000 PORTSHIM_CONNECT=odd -- -6 -n 40 connect ::1 5000
	[ "${#ports[@]}" -eq 40 ]
	assert_ports odd "${ports[@]}"
	assert_ports 40000-40999 "${ports[@]}"
	# The server really saw IPv6 clients.
	[ "$(awk '{ print $1 }' "$(server_log 5000)" | sort -u)" = "::1" ]
}

@test "IPv6 UDP to ::1: connect() and sendto() get even ports" {
	ns_range 40001 40999
	start_server udp ::1 5001
	probe_vs_server 5001 PORTSHIM_CONNECT=even -- -6 -u -n 30 connect ::1 5001
	assert_ports even "${ports[@]}"
	probe_vs_server 5001 PORTSHIM_CONNECT=even -- -6 -u -n 30 sendto ::1 5001
	assert_ports even "${ports[@]}"
	[ "$(awk '{ print $1 }' "$(server_log 5001)" | sort -u)" = "::1" ]
}

@test "IPv4-mapped destination on an AF_INET6 socket: odd ports, seen by an IPv4 server" {
	start_server tcp 127.0.0.1 5000
	probe_vs_server 5000 PORTSHIM_CONNECT=odd -- -6 -n 30 connect ::ffff:127.0.0.1 5000
	[ "${#ports[@]}" -eq 30 ]
	assert_ports odd "${ports[@]}"
	[ "$(awk '{ print $1 }' "$(server_log 5000)" | sort -u)" = 127.0.0.1 ]
}

@test "IPv4-mapped UDP sendto() on an AF_INET6 socket: even ports" {
	ns_range 40001 40999
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_CONNECT=even -- -6 -u -n 30 sendto ::ffff:127.0.0.1 5001
	assert_ports even "${ports[@]}"
	[ "$(awk '{ print $1 }' "$(server_log 5001)" | sort -u)" = 127.0.0.1 ]
}

# TCP Fast Open: sendto()/sendmsg()/sendmmsg() with MSG_FASTOPEN connect an
# unconnected socket with their data, so the kernel binds it then; natively
# the port is even (connect()'s parity), under the shim the connect policy's.
@test "TCP Fast Open (sendto, sendmsg, sendmmsg with MSG_FASTOPEN): odd ports under every strategy, even natively" {
	local call strategy
	start_server tcp 127.0.0.1 5000
	: >"$(server_log 5000)"
	run -0 noshim "$PROBE" -F -n 20 sendto 127.0.0.1 5000
	assert_same_lists "$output" "$(server_ports 5000)"
	mapfile -t ports <<<"$output"
	[ "${#ports[@]}" -eq 20 ]
	assert_ports even "${ports[@]}"
	for strategy in auto range reuse exclusive; do
		for call in sendto sendmsg sendmmsg; do
			probe_vs_server 5000 PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$strategy -- \
				-F -n 20 "$call" 127.0.0.1 5000
			[ "${#ports[@]}" -eq 20 ]
			assert_ports odd "${ports[@]}"
			assert_ports 40000-40999 "${ports[@]}"
		done
	done
}

# With the client side of Fast Open off (net.ipv4.tcp_fastopen without bit
# 1), a MSG_FASTOPEN send fails with EOPNOTSUPP before the kernel needs a
# port: the socket stays unbound, under the shim too.
@test "TCP Fast Open with the client side off: EOPNOTSUPP and no port, as natively, every strategy" {
	local strategy
	start_server tcp 127.0.0.1 5000
	ns_sysctl net/ipv4/tcp_fastopen 2
	run -1 noshim "$PROBE" -F -P sendto 127.0.0.1 5000
	[ "$output" = "EOPNOTSUPP 0" ]
	for strategy in auto range reuse exclusive; do
		run -1 shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$strategy "$PROBE" -F -P sendto 127.0.0.1 5000
		echo "$strategy: $output"
		[ "$output" = "EOPNOTSUPP 0" ]
	done
}
