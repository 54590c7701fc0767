#!/usr/bin/env bats
# Nothing the shim sets on a socket outlives the call that needed it
# (tests/helpers/leftover.c): after a UDP connect and an AF_UNSPEC
# disconnect, sendto() and bind(0) behave as without the shim once another
# socket took the old port; a TCP socket read through a dup() and inherited
# across exec shows the application's own IP_LOCAL_PORT_RANGE.  Each under
# every strategy, compared with the same program without the shim.
# sanitizers: tsan

load helper

LEFTOVER=$PORTSHIM_HELPERS/leftover

# compare CASE PORT STRATEGY...: the case natively, then under each strategy.
compare() {
	local case=$1 port=$2 native strategy
	shift 2
	run --separate-stderr noshim "$LEFTOVER" "$case" "$port"
	echo "native: $output $stderr"
	[ "$status" -eq 0 ]
	native=$output
	for strategy in "$@"; do
		run --separate-stderr shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY="$strategy" \
			"$LEFTOVER" "$case" "$port"
		echo "$strategy: $output $stderr"
		[ "$status" -eq 0 ]
		assert_same_lists "$native" "$output"
	done
}

@test "UDP connect, AF_UNSPEC disconnect, old port taken by another socket: sendto() and bind(0) as without the shim, every strategy" {
	start_server udp 127.0.0.1 5000
	compare udp 5000 auto range reuse exclusive
	[[ $output == "udp: sendto=ok bind0=ok" ]]
}

@test "TCP connect: IP_LOCAL_PORT_RANGE through a dup() and across exec as without the shim (range, auto, exclusive)" {
	start_server tcp 127.0.0.1 5000
	# Strategy reuse leaves the kernel's SO_REUSEADDR at 1 for the port to
	# be shared; across exec that shows (README, "Strategies").
	compare exec 5000 auto range exclusive
	[[ $output == *"exec: reuseaddr=0 range=0-0"* ]]
}
