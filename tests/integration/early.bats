#!/usr/bin/env bats
# sanitizers: tsan
# connect() where a preload library meets it at odd times: in a constructor
# that runs before main() (and possibly before the shim's own), in children
# made by vfork() and posix_spawn().

load helper

EARLY=$PSTEST_HELPERS/earlyconn

@test "a constructor's connect() before main(): the policy applies (the kernel's would be even)" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run noshim EARLYCONN_PORT=5000 "$EARLY" 5000 ctor
	[ "$status" -eq 0 ]
	assert_ports even $output
	run shim PORTSHIM_CONNECT=odd EARLYCONN_PORT=5000 "$EARLY" 5000 ctor
	echo "$output"
	[ "$status" -eq 0 ]
	assert_ports odd $output
	assert_ports 40000-40999 $output
}

@test "children of vfork() connect under the policy" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run noshim "$EARLY" 5000 vfork
	[ "$status" -eq 0 ]
	[ "$(grep -c '^even$' <<<"$output")" -eq 20 ]
	run shim PORTSHIM_CONNECT=odd "$EARLY" 5000 vfork
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^odd$' <<<"$output")" -eq 20 ]
}

@test "children of posix_spawn() (a fresh exec) connect under the policy" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run shim PORTSHIM_CONNECT=odd "$EARLY" 5000 spawn
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -cE '^[0-9]+$' <<<"$output")" -eq 20 ]
	assert_ports odd $output
	# And without the shim, the same children get the kernel's even ports.
	run noshim "$EARLY" 5000 spawn
	[ "$status" -eq 0 ]
	assert_ports even $output
}
