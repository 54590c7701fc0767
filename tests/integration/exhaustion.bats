#!/usr/bin/env bats
# sanitizers: tsan
# A tiny range held full by live sockets: PORTSHIM_ON_EXHAUST=fail gives the
# kernel's own errno for a full range, =kernel lets the kernel pick.  Ports
# come back when their socket goes away (close, dup2/dup3 over it,
# close_range), so a 2-port range serves any number of sequential sockets.

load helper

setup() {
	common_setup
	ns_range 40000 40999
}

# held_then_one [SETTINGS...] -- PROBE_ARGS...: three attempts, all kept
# open, with the shim's range narrowed to 40000-40001.
held_then_one() {
	local settings=()
	while [ "$1" != -- ]; do settings+=("$1"); shift; done
	shift
	run shim PORTSHIM_RANGE=40000-40001 "${settings[@]}" "$PROBE" -k -1 -n 3 "$@"
	echo "$output"
	mapfile -t lines <<<"$output"
	[ "${#lines[@]}" -eq 3 ]
	[ "$(printf '%s\n' "${lines[@]:0:2}" | sort -n | tr '\n' ' ')" = "40000 40001 " ]
}

@test "the kernel's own errno when its range is full (the reference for the next tests)" {
	start_server tcp 127.0.0.1 5000
	start_server udp 127.0.0.1 5001
	ns_range 40000 40001
	run noshim "$PROBE" -k -1 -n 3 connect 127.0.0.1 5000
	[ "${lines[2]}" = EADDRNOTAVAIL ]
	run noshim "$PROBE" -u -k -1 -n 3 connect 127.0.0.1 5001
	[ "${lines[2]}" = EAGAIN ]
	run noshim "$PROBE" -k -1 -n 3 bind0
	[ "${lines[2]}" = EADDRINUSE ]
}

@test "on-exhaust=fail (default): TCP connect gets EADDRNOTAVAIL" {
	start_server tcp 127.0.0.1 5000
	held_then_one PORTSHIM_CONNECT=any -- connect 127.0.0.1 5000
	[ "$status" -eq 1 ]
	[ "${lines[2]}" = EADDRNOTAVAIL ]
	held_then_one PORTSHIM_CONNECT=any PORTSHIM_ON_EXHAUST=fail -- connect 127.0.0.1 5000
	[ "${lines[2]}" = EADDRNOTAVAIL ]
	# The server saw only the two that worked.
	[ "$(server_ports 5000 | sort -n | uniq | tr '\n' ' ')" = "40000 40001 " ]
}

@test "on-exhaust=fail: UDP connect and sendto get EAGAIN" {
	start_server udp 127.0.0.1 5001
	held_then_one -- -u connect 127.0.0.1 5001
	[ "${lines[2]}" = EAGAIN ]
	held_then_one -- -u sendto 127.0.0.1 5001
	[ "${lines[2]}" = EAGAIN ]
}

@test "on-exhaust=fail: bind(0) gets EADDRINUSE, TCP and UDP" {
	held_then_one PORTSHIM_BIND=any -- bind0
	[ "${lines[2]}" = EADDRINUSE ]
	held_then_one PORTSHIM_BIND=any -- -u bind0
	[ "${lines[2]}" = EADDRINUSE ]
}

@test "on-exhaust=kernel: connect and bind(0) get a port the kernel chose, outside the policy's range" {
	start_server tcp 127.0.0.1 5000
	start_server udp 127.0.0.1 5001
	held_then_one PORTSHIM_ON_EXHAUST=kernel -- connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports 40002-40999 "${lines[2]}"
	assert_same_lists "$output" "$(server_ports 5000)"
	held_then_one PORTSHIM_ON_EXHAUST=kernel -- -u sendto 127.0.0.1 5001
	[ "$status" -eq 0 ]
	assert_ports 40002-40999 "${lines[2]}"
	held_then_one PORTSHIM_ON_EXHAUST=kernel PORTSHIM_BIND=any -- bind0
	[ "$status" -eq 0 ]
	assert_ports 40002-40999 "${lines[2]}"
}

@test "a range held full by another process: EADDRNOTAVAIL / EADDRINUSE, or the kernel's choice" {
	start_server tcp 127.0.0.1 5000
	# Bound by the kernel in a 2-port range, then the range widened: the
	# shim's bitmap knows nothing of these, the kernel refuses them.
	ns_range 40000 40001
	hold_ports 2 bind0
	ns_range 40000 40999
	run shim PORTSHIM_RANGE=40000-40001 "$PROBE" connect 127.0.0.1 5000
	[ "$output" = EADDRNOTAVAIL ]
	run shim PORTSHIM_RANGE=40000-40001 PORTSHIM_BIND=odd "$PROBE" bind0
	[ "$output" = EADDRINUSE ]
	run shim PORTSHIM_RANGE=40000-40001 PORTSHIM_ON_EXHAUST=kernel "$PROBE" connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports 40002-40999 "$output"
}

@test "a 2-port range serves 200 sequential TCP connections and 200 UDP sockets" {
	start_server tcp-reset 127.0.0.1 5000
	start_server udp 127.0.0.1 5001
	# A server that resets (-R): no 4-tuple is still closing at the next
	# connect.
	probe_vs_server 5000 PORTSHIM_RANGE=40000-40001 -- -R -n 200 connect 127.0.0.1 5000
	[ "${#ports[@]}" -eq 200 ]
	assert_ports 40000-40001 "${ports[@]}"
	probe_vs_server 5001 PORTSHIM_RANGE=40000-40001 -- -u -n 200 sendto 127.0.0.1 5001
	[ "${#ports[@]}" -eq 200 ]
	assert_ports 40000-40001 "${ports[@]}"
}

# released_at_once HOW: one socket holds 40000 for the whole run; 30 more
# take turns on the other port and are released with HOW.  A released port
# is known free, so each connect costs exactly one bind() and no bind() is
# ever refused (a port still marked as held would be found only by the
# last-resort scan, which tries the busy port too).  strace counts them.
# The server resets each connection (-R), so the next connect never meets
# the last one's 4-tuple still closing (natively that connect would fail
# too); the explicit binds of `exclusive` keep the port until the release.
released_at_once() {
	require_cmd strace
	start_server tcp-reset 127.0.0.1 5000
	: >"$(server_log 5000)"
	run noshim PORTSHIM_RANGE=40000-40001 PORTSHIM_STRATEGY=exclusive \
		strace -f -qq -e trace=bind -e signal=none -o "$BATS_TEST_TMPDIR/trace" \
		-E LD_PRELOAD="$(shim_preload)" "$PROBE" -k 1 -n 31 -R -r "$1" connect 127.0.0.1 5000
	echo "$output"
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5000)"
	mapfile -t ports <<<"$output"
	[ "${#ports[@]}" -eq 31 ]
	assert_ports 40000-40001 "${ports[@]}"
	# Every port after the first is the one the first did not take.
	[ "$(printf '%s\n' "${ports[@]:1}" | sort -u)" = "$((40001 - (ports[0] - 40000)))" ]
	cat "$BATS_TEST_TMPDIR/trace"
	[ "$(grep -c 'bind(' "$BATS_TEST_TMPDIR/trace")" -eq 31 ]
	[ "$(grep -c 'EADDRINUSE' "$BATS_TEST_TMPDIR/trace")" -eq 0 ]
}

@test "close() gives the port back at once" {
	released_at_once close
}

@test "dup2() over a socket gives its port back" {
	released_at_once dup2
}

@test "dup3() over a socket gives its port back" {
	released_at_once dup3
}

@test "close_range() gives the ports back" {
	released_at_once close_range
}
