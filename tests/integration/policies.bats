#!/usr/bin/env bats
# sanitizers: tsan
# Each policy of the connect and bind settings, over TCP on 127.0.0.1, as
# the server saw the ports.  The namespace's range is chosen so that the
# kernel's own choice would fail the check: the kernel gives connect() the
# parity of the range's low end and bind(0) the other one.

load helper

# connect_ports [SETTING=VALUE...] -- PROBE_ARGS...: TCP connections to the
# server on 127.0.0.1:5000; see probe_vs_server.
connect_ports() {
	probe_vs_server 5000 "$@" connect 127.0.0.1 5000
}

@test "even: every connect port is even (kernel here would give odd)" {
	ns_range 40001 40999
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_CONNECT=even -- -n 50
	[ "${#ports[@]}" -eq 50 ]
	assert_ports even "${ports[@]}"
	assert_ports 40001-40999 "${ports[@]}"
}

@test "odd: every connect port is odd (kernel here would give even)" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_CONNECT=odd -- -n 50
	[ "${#ports[@]}" -eq 50 ]
	assert_ports odd "${ports[@]}"
	assert_ports 40000-40999 "${ports[@]}"
}

@test "prefer-even: even while there are any, then odd, then EADDRNOTAVAIL" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	# Four ports, every connection kept open: two even, then two odd.
	run shim PORTSHIM_CONNECT=prefer-even PORTSHIM_RANGE=40000-40003 \
		"$PROBE" -k -1 -n 5 connect 127.0.0.1 5000
	echo "$output"
	[ "$status" -eq 1 ]
	mapfile -t lines <<<"$output"
	assert_ports even "${lines[@]:0:2}"
	assert_ports odd "${lines[@]:2:2}"
	[ "${lines[4]}" = EADDRNOTAVAIL ]
	[ "$(printf '%s\n' "${lines[@]:0:4}" | sort -n | tr '\n' ' ')" = "40000 40001 40002 40003 " ]
	assert_same_lists "$(output_ports)" "$(server_ports 5000)"
}

@test "prefer-odd: odd while there are any, then even" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run shim PORTSHIM_CONNECT=prefer-odd PORTSHIM_RANGE=40001-40004 \
		"$PROBE" -k -1 -n 4 connect 127.0.0.1 5000
	echo "$output"
	[ "$status" -eq 0 ]
	mapfile -t lines <<<"$output"
	assert_ports odd "${lines[@]:0:2}"
	assert_ports even "${lines[@]:2:2}"
	assert_same_lists "$output" "$(server_ports 5000)"
}

@test "prefer-even does not fall over early: 50 connections in a wide range, all even" {
	ns_range 40001 40999
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_CONNECT=prefer-even -- -n 50
	assert_ports even "${ports[@]}"
}

@test "any: over 1000 connections each parity gets 40-60%" {
	# The namespace's default range (32768-60999): the kernel would give
	# only even ports.
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_CONNECT=any -- -n 1000
	[ "${#ports[@]}" -eq 1000 ]
	assert_ports 32768-60999 "${ports[@]}"
	even=$(count_even "${ports[@]}")
	echo "even: $even of 1000"
	[ "$even" -ge 400 ]
	[ "$even" -le 600 ]
}

@test "default with nothing set is any: both parities over 200 connections" {
	start_server tcp 127.0.0.1 5000
	connect_ports -- -n 200
	even=$(count_even "${ports[@]}")
	echo "even: $even of 200"
	[ "$even" -ge 60 ]
	[ "$even" -le 140 ]
}

@test "N:K 4:1: every port is 1 mod 4" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_CONNECT=4:1 -- -n 60
	assert_ports 4:1 "${ports[@]}"
}

@test "N:K 3:2: every port is 2 mod 3" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_CONNECT=3:2 -- -n 60
	assert_ports 3:2 "${ports[@]}"
	# Not only even ones: 3:2 spans both parities.
	even=$(count_even "${ports[@]}")
	[ "$even" -gt 0 ]
	[ "$even" -lt 60 ]
}

@test "off: connect gets the kernel's own ports, the parity of the range's low end" {
	# Checked first without the shim, so that the expectation is this
	# kernel's behaviour and not an assumption about it.
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run noshim "$PROBE" -n 30 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports even $(output_ports)
	connect_ports PORTSHIM_CONNECT=off -- -n 100
	assert_ports even "${ports[@]}"

	ns_range 40001 40999
	connect_ports PORTSHIM_PARITY=off -- -n 100
	assert_ports odd "${ports[@]}"
}

@test "off: bind(0) gets the kernel's own ports, the other parity" {
	ns_range 40000 40999
	run noshim "$PROBE" -n 30 bind0
	[ "$status" -eq 0 ]
	assert_ports odd $(output_ports)
	run shim PORTSHIM_PARITY=off "$PROBE" -n 30 bind0
	[ "$status" -eq 0 ]
	assert_ports odd $(output_ports)
}

@test "PORTSHIM_PARITY sets both connect and bind" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_PARITY=4:3 -- -n 30
	assert_ports 4:3 "${ports[@]}"
	run shim PORTSHIM_PARITY=4:3 "$PROBE" -n 30 bind0
	[ "$status" -eq 0 ]
	assert_ports 4:3 $(output_ports)
}

@test "PORTSHIM_CONNECT and PORTSHIM_BIND override PORTSHIM_PARITY each for its own call" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_PARITY=4:3 PORTSHIM_CONNECT=4:1 -- -n 30
	assert_ports 4:1 "${ports[@]}"
	run shim PORTSHIM_PARITY=4:3 PORTSHIM_CONNECT=4:1 "$PROBE" -n 30 bind0
	[ "$status" -eq 0 ]
	assert_ports 4:3 $(output_ports)
	run shim PORTSHIM_PARITY=4:3 PORTSHIM_BIND=4:2 "$PROBE" -n 30 bind0
	[ "$status" -eq 0 ]
	assert_ports 4:2 $(output_ports)
}
