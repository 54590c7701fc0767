#!/usr/bin/env bats
# sanitizers: tsan
# connect() where a preload library meets it at odd times: in a constructor
# that runs before main() (and possibly before the shim's own), in children
# made by vfork() and posix_spawn().

load helper

EARLY=$PSTEST_HELPERS/earlyconn
# Under every strategy: when the shim sets itself up must not depend on how
# it applies a port.
STRATEGIES=(auto range reuse exclusive)

@test "a constructor's connect() before main(): the policy applies (the kernel's would be even)" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run noshim EARLYCONN_PORT=5000 "$EARLY" 5000 ctor
	[ "$status" -eq 0 ]
	assert_ports even $output
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd EARLYCONN_PORT=5000 \
			"$EARLY" 5000 ctor
		echo "$strategy: $output"
		[ "$status" -eq 0 ]
		assert_ports odd $output
		assert_ports 40000-40999 $output
	done
}

@test "children of vfork() connect under the policy" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run noshim "$EARLY" 5000 vfork
	[ "$status" -eq 0 ]
	[ "$(grep -c '^even$' <<<"$output")" -eq 20 ]
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd "$EARLY" 5000 vfork
		echo "$strategy: $output"
		[ "$status" -eq 0 ]
		[ "$(grep -c '^odd$' <<<"$output")" -eq 20 ]
	done
}

@test "children of posix_spawn() (a fresh exec) connect under the policy" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd "$EARLY" 5000 spawn
		echo "$strategy: $output"
		[ "$status" -eq 0 ]
		[ "$(grep -cE '^[0-9]+$' <<<"$output")" -eq 20 ]
		assert_ports odd $output
	done
	# And without the shim, the same children get the kernel's even ports.
	run noshim "$EARLY" 5000 spawn
	[ "$status" -eq 0 ]
	assert_ports even $output
}
