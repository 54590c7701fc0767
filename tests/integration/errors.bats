#!/usr/bin/env bats
# sanitizers: tsan
# The application sees the same return values and errno with the shim as
# without it: each case runs once without the shim (the reference, which
# is also checked against what the kernel is known to say) and once with.
# The probe also fails any successful call that changed errno.

load helper

# Each case runs under every strategy: how a port is applied must not show
# in what the application gets.
STRATEGIES=(auto range reuse exclusive)

setup() {
	common_setup
	ns_range 40000 40999
}

@test "non-blocking connect: EINPROGRESS, EALREADY, then connected, on an odd port, exactly as without the shim" {
	run noshim "$NBCONNECT" 127.0.0.1 6000
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "EINPROGRESS EALREADY 0 0 EISCONN" ]
	reference=${lines[1]}

	local strategy port=6001
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd "$NBCONNECT" 127.0.0.1 $port
		echo "$strategy: $output"
		[ "$status" -eq 0 ]
		[ "${lines[1]}" = "$reference" ]
		# The port the connection completed on, as the listener saw it.
		read -r local peer <<<"${lines[0]}"
		[ "$local" = "$peer" ]
		assert_ports odd "$peer"
		port=$((port + 1))
	done
}

@test "non-blocking connect over IPv6, exactly as without the shim" {
	run noshim "$NBCONNECT" ::1 6000
	[ "$status" -eq 0 ]
	reference=${lines[1]}
	[ "$reference" = "EINPROGRESS EALREADY 0 0 EISCONN" ]
	local strategy port=6001
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd "$NBCONNECT" ::1 $port
		echo "$strategy: $output"
		[ "$status" -eq 0 ]
		[ "${lines[1]}" = "$reference" ]
		read -r local peer <<<"${lines[0]}"
		[ "$local" = "$peer" ]
		assert_ports odd "$peer"
		port=$((port + 1))
	done
}

@test "TCP connect to a closed port: ECONNREFUSED, as without the shim" {
	run noshim "$PROBE" connect 127.0.0.1 7
	[ "$output" = ECONNREFUSED ]
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		for policy in odd even any 4:1; do
			run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=$policy "$PROBE" connect 127.0.0.1 7
			[ "$status" -eq 1 ]
			[ "$output" = ECONNREFUSED ]
			run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=$policy "$PROBE" -6 connect ::1 7
			[ "$output" = ECONNREFUSED ]
		done
	done
}

@test "connected UDP to a closed port: ECONNREFUSED on the reply, as without the shim" {
	run noshim "$PROBE" -u connect 127.0.0.1 7
	[ "$output" = ECONNREFUSED ]
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd "$PROBE" -u connect 127.0.0.1 7
		[ "$output" = ECONNREFUSED ]
	done
}

@test "bind(0) to an address that is not local: EADDRNOTAVAIL, as without the shim" {
	run noshim "$PROBE" -B 192.0.2.1 bind0
	[ "$output" = EADDRNOTAVAIL ]
	run shim PORTSHIM_BIND=even "$PROBE" -B 192.0.2.1 bind0
	[ "$output" = EADDRNOTAVAIL ]
	run shim PORTSHIM_BIND=even "$PROBE" -u -B 192.0.2.1 bind0
	[ "$output" = EADDRNOTAVAIL ]
}

@test "connect to an unreachable network: ENETUNREACH, as without the shim" {
	# Only lo exists in the namespace: no route to 192.0.2.1.
	run noshim "$PROBE" connect 192.0.2.1 80
	[ "$output" = ENETUNREACH ]
	run noshim "$PROBE" -u sendto 192.0.2.1 80
	reference=$output
	[ "$reference" = ENETUNREACH ]
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd "$PROBE" connect 192.0.2.1 80
		[ "$output" = ENETUNREACH ]
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd "$PROBE" -u sendto 192.0.2.1 80
		[ "$output" = "$reference" ]
	done
}

@test "a successful call leaves errno alone (the probe checks it on every call)" {
	start_server tcp 127.0.0.1 5000
	start_server udp 127.0.0.1 5001
	# Each of these fails with ERRNO_CHANGED if the shim leaves its own
	# errno behind on success, e.g. from a refused candidate port.
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		probe_vs_server 5000 PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd -- \
			-n 20 connect 127.0.0.1 5000
		probe_vs_server 5001 PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd -- \
			-u -n 20 sendmsg 127.0.0.1 5001
	done
	run shim PORTSHIM_BIND=even "$PROBE" -n 20 bind0
	[ "$status" -eq 0 ]

	# Candidates the kernel refuses on the way (ports held by another
	# process, tried first in sequential order) must not leak EADDRINUSE
	# into errno either.
	ns_range 40000 40001
	hold_ports 2 bind0
	ns_range 40000 40999
	run shim PORTSHIM_RANGE=40000-40002 PORTSHIM_ORDER=sequential PORTSHIM_BIND=any \
		"$PROBE" -n 3 bind0
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | sort -u)" = 40002 ]
	# The only port's 4-tuple, three times in a row: against a server that
	# resets (-R), nothing of it outlives a connection, natively too.
	start_server tcp-reset 127.0.0.1 5002
	for strategy in "${STRATEGIES[@]}"; do
		probe_vs_server 5002 PORTSHIM_STRATEGY=$strategy PORTSHIM_RANGE=40000-40002 \
			PORTSHIM_ORDER=sequential -- -R -n 3 connect 127.0.0.1 5002
		[ "$(printf '%s\n' "${ports[@]}" | sort -u)" = 40002 ]
	done
}
