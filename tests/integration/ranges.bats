#!/usr/bin/env bats
# sanitizers: tsan
# Which ports exist for the policies (PORTSHIM_RANGE, the namespace's range,
# reserved ports from PORTSHIM_RESERVED or ip_local_reserved_ports) and in
# which order they come (PORTSHIM_ORDER, PORTSHIM_SEED).

load helper

setup() {
	common_setup
	start_server tcp 127.0.0.1 5000
}

# connect_ports [SETTING=VALUE...] -- PROBE_ARGS...: see probe_vs_server.
connect_ports() {
	probe_vs_server 5000 "$@" connect 127.0.0.1 5000
}

# The distinct values of the array `ports`, sorted, on one line.
distinct_ports() {
	printf '%s\n' "${ports[@]}" | sort -n | uniq | tr '\n' ' '
}

@test "PORTSHIM_RANGE: every port inside it, connect and bind(0)" {
	# The namespace's own range stays the default 32768-60999.
	connect_ports PORTSHIM_RANGE=40100-40199 -- -n 200
	assert_ports 40100-40199 "${ports[@]}"
	run shim PORTSHIM_RANGE=40100-40199 PORTSHIM_BIND=any "$PROBE" -n 100 bind0
	[ "$status" -eq 0 ]
	assert_ports 40100-40199 $(output_ports)
	[ "$(output_ports | wc -l)" -eq 100 ]
}

@test "PORTSHIM_RANGE reaching past the namespace's range: still every port inside it, of the policy's parity" {
	# The shim's range is the user's to choose; the kernel's own range
	# only sets the default.  Half of 40900-41099 is outside 40000-40999.
	ns_range 40000 40999
	connect_ports PORTSHIM_RANGE=40900-41099 PORTSHIM_CONNECT=odd -- -n 30
	assert_ports 40900-41099 "${ports[@]}"
	assert_ports odd "${ports[@]}"
	connect_ports PORTSHIM_RANGE=50000-50009 PORTSHIM_CONNECT=odd -- -n 10
	assert_ports 50000-50009 "${ports[@]}"
	assert_ports odd "${ports[@]}"
}

@test "the namespace's ip_local_port_range is the default range" {
	# Odd connect and even bind(0) ports: the opposite of the kernel's
	# own choice in this range, so these are the shim's.
	ns_range 45000 45099
	connect_ports PORTSHIM_CONNECT=odd -- -n 40
	assert_ports 45000-45099 "${ports[@]}"
	assert_ports odd "${ports[@]}"
	run shim PORTSHIM_BIND=even "$PROBE" -n 40 bind0
	[ "$status" -eq 0 ]
	assert_ports 45000-45099 $(output_ports)
	assert_ports even $(output_ports)
}

@test "PORTSHIM_RESERVED: listed ports are never handed out, the others are" {
	connect_ports PORTSHIM_RANGE=40000-40019 PORTSHIM_RESERVED=40000-40009,40015 -- -n 150
	# 150 random picks over 9 ports: each shows up (a miss is ~1e-6).
	[ "$(distinct_ports)" = "40010 40011 40012 40013 40014 40016 40017 40018 40019 " ]
	run shim PORTSHIM_RANGE=40000-40019 PORTSHIM_RESERVED=40000-40009,40015 \
		PORTSHIM_BIND=any "$PROBE" -n 50 bind0
	[ "$status" -eq 0 ]
	mapfile -t ports < <(output_ports)
	[ "${#ports[@]}" -eq 50 ]
	assert_ports 40010-40019 "${ports[@]}"
	[ "$(printf '%s\n' "${ports[@]}" | grep -cx 40015)" -eq 0 ]
}

@test "ip_local_reserved_ports of the namespace: never handed out" {
	ns_range 40000 40019
	ns_sysctl net/ipv4/ip_local_reserved_ports 40000-40009,40015
	connect_ports PORTSHIM_CONNECT=any -- -n 150
	[ "$(distinct_ports)" = "40010 40011 40012 40013 40014 40016 40017 40018 40019 " ]
	run shim PORTSHIM_BIND=any "$PROBE" -u -n 50 bind0
	[ "$status" -eq 0 ]
	mapfile -t ports < <(output_ports)
	[ "${#ports[@]}" -eq 50 ]
	assert_ports 40010-40019 "${ports[@]}"
	[ "$(printf '%s\n' "${ports[@]}" | grep -cx 40015)" -eq 0 ]
}

@test "ORDER=sequential: increasing from the lowest port (random order walks from a secret start)" {
	ns_range 40000 40999
	connect_ports PORTSHIM_CONNECT=odd PORTSHIM_ORDER=sequential -- -n 30
	assert_ports odd "${ports[@]}"
	for ((i = 1; i < 30; i++)); do
		[ "${ports[i]}" -gt "${ports[i - 1]}" ] || { echo "not increasing at $i"; false; }
	done
	[ "${ports[0]}" -eq 40001 ]
	# Random order walks too (per destination), but from where a secret
	# says: two programs start at different ports (1 in 500 alike; three
	# retries all alike, 1 in 500^3, say the start is not secret).
	connect_ports PORTSHIM_CONNECT=odd PORTSHIM_ORDER=random -- -n 1
	local first=${ports[0]} try
	for try in 1 2 3; do
		connect_ports PORTSHIM_CONNECT=odd PORTSHIM_ORDER=random -- -n 1
		[ "${ports[0]}" -eq "$first" ] || return 0
	done
	echo "four programs all started at $first" >&2
	return 1
}

@test "ORDER=sequential wraps round a small range and takes every port" {
	connect_ports PORTSHIM_RANGE=40000-40009 PORTSHIM_ORDER=sequential -- -n 15
	[ "$(printf '%s\n' "${ports[@]:0:10}" | sort -n | tr '\n' ' ')" = \
		"40000 40001 40002 40003 40004 40005 40006 40007 40008 40009 " ]
	for ((i = 1; i < 10; i++)); do [ "${ports[i]}" -gt "${ports[i - 1]}" ]; done
	assert_ports 40000-40009 "${ports[@]}"
}

@test "SEED: the same seed gives the same ports in two fresh namespaces; another seed does not" {
	ns_range 40000 40999
	connect_ports PORTSHIM_SEED=42 -- -n 20
	first=("${ports[@]}")
	new_netns  # a second, fresh namespace
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	connect_ports PORTSHIM_SEED=42 -- -n 20
	[ "${ports[*]}" = "${first[*]}" ]
	# Distinct ports, not a constant.
	[ "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" -ge 15 ]

	connect_ports PORTSHIM_SEED=43 -- -n 20
	[ "${ports[*]}" != "${first[*]}" ]
	# No seed: a secret of its own.  A run walks consecutive ports from a
	# secret start, so it matches seed 42's when the starts meet (1 in
	# 1,000); three fresh runs that all match say the secret is fixed.
	local try
	for try in 1 2 3; do
		new_netns
		ns_range 40000 40999
		start_server tcp 127.0.0.1 5000
		connect_ports -- -n 20
		[ "${ports[*]}" = "${first[*]}" ] || return 0
	done
	echo "three runs without a seed got seed 42's ports: ${ports[*]}" >&2
	return 1
}

@test "SEED: UDP sendto and bind(0) are reproducible too" {
	ns_range 40000 40999
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_SEED=7 PORTSHIM_CONNECT=odd -- -u -n 10 sendto 127.0.0.1 5001
	udp_first=("${ports[@]}")
	run shim PORTSHIM_SEED=7 PORTSHIM_BIND=any "$PROBE" -n 10 bind0
	bind_first=$output
	new_netns
	ns_range 40000 40999
	start_server udp 127.0.0.1 5001
	probe_vs_server 5001 PORTSHIM_SEED=7 PORTSHIM_CONNECT=odd -- -u -n 10 sendto 127.0.0.1 5001
	[ "${ports[*]}" = "${udp_first[*]}" ]
	assert_ports odd "${ports[@]}"
	run shim PORTSHIM_SEED=7 PORTSHIM_BIND=any "$PROBE" -n 10 bind0
	assert_same_lists "$output" "$bind_first"
}
