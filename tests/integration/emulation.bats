#!/usr/bin/env bats
# The kernel emulation policies against the running kernel itself, the same
# workload measured both ways in one test run, each in a fresh namespace.

load helper

# fidelity_run OUT [SETTING=VALUE...]: the fidelity workload (2,000 connects
# over 3 listeners, 500 bind(0)) in a fresh namespace, natively when no
# setting is given.
# The kernel's perturbation table is shared by every network namespace,
# and its slots are chosen by addresses and port alone: another run of
# the suite beside this one, connecting to the same listeners' ports,
# would move the native run's steps.  So each test draws its own ports.
fidelity_run() {
	local out=$1 base
	shift
	new_netns
	: "${FIDELITY_BASE:=$((7000 + RANDOM % 2000 * 3))}"
	base=$FIDELITY_BASE
	if [ $# -eq 0 ]; then
		noshim "$PYTHON" "$PROGRAMS/fidelity.py" 2000 500 $base $((base + 1)) $((base + 2)) >"$out"
	else
		shim "$@" "$PYTHON" "$PROGRAMS/fidelity.py" 2000 500 $base $((base + 1)) $((base + 2)) >"$out"
	fi
}

@test "kernel policy: same parities and step distribution as the running kernel" {
	fidelity_run "$BATS_TEST_TMPDIR/native.json"
	fidelity_run "$BATS_TEST_TMPDIR/kernel.json" PORTSHIM_PARITY=kernel
	run "$PYTHON" "$PROGRAMS/fidelity_compare.py" "$BATS_TEST_TMPDIR/native.json" \
		"$BATS_TEST_TMPDIR/kernel.json"
	echo "$output" >&3
	[ "$status" -eq 0 ]
}

@test "fidelity check fails for a policy that is not the kernel's (any)" {
	# The control: the comparison must be able to tell.
	fidelity_run "$BATS_TEST_TMPDIR/native.json"
	fidelity_run "$BATS_TEST_TMPDIR/any.json" PORTSHIM_PARITY=any
	run "$PYTHON" "$PROGRAMS/fidelity_compare.py" "$BATS_TEST_TMPDIR/native.json" \
		"$BATS_TEST_TMPDIR/any.json"
	echo "$output"
	[ "$status" -eq 1 ]
}

@test "kernel policy: parity is relative to the range's low end (40001: connect odd, bind even)" {
	ns_range 40001 45000
	run shim PORTSHIM_PARITY=kernel "$PYTHON" "$PROGRAMS/fidelity.py" 200 50 7001 7002
	[ "$status" -eq 0 ]
	connect=$(jq -r '.connect[][]' <<<"$output")
	bind=$(jq -r '.bind[]' <<<"$output")
	assert_ports odd $connect
	assert_ports even $bind
	assert_ports 40001-45000 $connect $bind
}

@test "kernel policy falls back to the other parity once the low parity is used up" {
	ns_range 40000 40009
	# Ten ports, five of each parity, all connections kept open.
	run shim PORTSHIM_CONNECT=kernel PORTSHIM_BIND=off \
		"$PYTHON" "$PROGRAMS/fidelity.py" 10 0 7001
	[ "$status" -eq 0 ]
	mapfile -t got < <(jq -r '.connect["7001"][]' <<<"$output")
	assert_ports even "${got[@]:0:5}"
	assert_ports odd "${got[@]:5:5}"
}

@test "linux-4.2: even start and step 1; legacy: step 1 from one global hint" {
	ns_range 40000 49999
	run shim PORTSHIM_CONNECT=linux-4.2 "$PYTHON" "$PROGRAMS/fidelity.py" 30 0 7001
	[ "$status" -eq 0 ]
	mapfile -t got < <(jq -r '.connect["7001"][]' <<<"$output")
	assert_ports even "${got[@]}"
	# hint += (i + 2) & ~1 with every port free: each connect 2 above the
	# last, round the range's 10,000 ports (a start near its top wraps).
	for i in $(seq 1 29); do [ $(((got[i] - got[i - 1] + 10000) % 10000)) -eq 2 ]; done
	run shim PORTSHIM_CONNECT=legacy "$PYTHON" "$PROGRAMS/fidelity.py" 30 0 7001
	[ "$status" -eq 0 ]
	mapfile -t got < <(jq -r '.connect["7001"][]' <<<"$output")
	for i in $(seq 1 29); do [ $(((got[i] - got[i - 1] + 10000) % 10000)) -eq 1 ]; done
}

@test "kernel bind(0) with SO_REUSEADDR takes the lower half of the range first" {
	ns_range 40000 40999
	run shim PORTSHIM_BIND=kernel "$PYTHON" -c '
import socket
keep = []
for _ in range(200):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    keep.append(s)
    print(s.getsockname()[1])'
	[ "$status" -eq 0 ]
	# mid = 40000 + ((1000 >> 2) << 1) = 40500; the other parity (odd).
	assert_ports 40000-40499 $output
	assert_ports odd $output
	[ "$(wc -l <<<"$output")" -eq 200 ]
}
