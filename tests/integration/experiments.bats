#!/usr/bin/env bats
# sanitizers: tsan
# Experiment controls: per-destination rules, config files, seeds.

load helper

@test "rules: odd towards one listener, the kernel's own choice towards the other" {
	ns_range 40000 40999
	in_ns ip addr add 127.0.0.2/8 dev lo
	start_server tcp 127.0.0.1 5000
	start_server tcp 127.0.0.2 5000
	# The default policy is off: only the rule's destination is touched.
	run shim PORTSHIM_CONNECT=off PORTSHIM_RULES='127.0.0.2/32:5000=odd' \
		"$PROBE" -n 40 connect 127.0.0.2 5000
	[ "$status" -eq 0 ]
	assert_ports odd $output
	run shim PORTSHIM_CONNECT=off PORTSHIM_RULES='127.0.0.2/32:5000=odd' \
		"$PROBE" -n 40 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	# The kernel gives connect() the parity of the range's low end: even.
	assert_ports even $output
	# And what the server saw is what the client reported.
	[ "$(server_ports 5000 | wc -l)" -ge 40 ]
}

@test "rules: first match wins; port, wildcard and IPv6 rules" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	start_server tcp 127.0.0.1 5001
	start_server tcp ::1 5002
	rules='127.0.0.0/8:5000=odd; 127.0.0.1=4:2; [::1]/128=3:1; *=even'
	run shim PORTSHIM_RULES="$rules" "$PROBE" -n 20 connect 127.0.0.1 5000
	assert_ports odd $output
	run shim PORTSHIM_RULES="$rules" "$PROBE" -n 20 connect 127.0.0.1 5001
	assert_ports 4:2 $output
	run shim PORTSHIM_RULES="$rules" "$PROBE" -6 -n 20 connect ::1 5002
	assert_ports 3:1 $output
	# An IPv4-mapped destination on an IPv6 socket matches the IPv4 rules.
	run shim PORTSHIM_RULES="$rules" "$PROBE" -6 -n 20 connect ::ffff:127.0.0.1 5000
	assert_ports odd $output
}

@test "config file: its settings apply, the environment beats it" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	conf=$BATS_TEST_TMPDIR/odd.conf
	printf '# an experiment\nconnect = odd\nrange = 40100-40199   # narrower\n\n' >"$conf"
	run shim PORTSHIM_CONFIG="$conf" "$PROBE" -n 30 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports odd $output
	assert_ports 40100-40199 $output
	run shim PORTSHIM_CONFIG="$conf" PORTSHIM_CONNECT=even "$PROBE" -n 30 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports even $output
	assert_ports 40100-40199 $output
}

@test "config file: rule lines, and every example in config/ is accepted" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	conf=$BATS_TEST_TMPDIR/rules.conf
	printf 'connect = off\nrule = 127.0.0.1:5000=odd\nrule = *=even\n' >"$conf"
	run shim PORTSHIM_CONFIG="$conf" "$PROBE" -n 20 connect 127.0.0.1 5000
	assert_ports odd $output
	# Each with the modes a packaged install gives it (0644, in a
	# directory only its owner writes): a checkout's own modes are whatever
	# git or tar left (0664 from a release tarball extracted by root), and
	# the shim rightly refuses a group-writable file (portshim(7), FILES
	# THE LIBRARY OPENS).
	local installed=$BATS_TEST_TMPDIR/etc-portshim
	mkdir -m 0755 "$installed"
	for example in "$BATS_TEST_DIRNAME"/../../config/*.conf; do
		install -m 0644 "$example" "$installed/"
		example=$installed/$(basename "$example")
		run --separate-stderr shim PORTSHIM_CONFIG="$example" "$PROBE" -n 1 connect 127.0.0.1 5000
		echo "$example: $status $output $stderr"
		[ "$status" -eq 0 ]
	done
}

@test "config file errors name the file and line, the key and what is accepted" {
	conf=$BATS_TEST_TMPDIR/bad.conf
	printf 'parity = odd\n\n# fine so far\nbind = evn\n' >"$conf"
	run --separate-stderr shim PORTSHIM_CONFIG="$conf" "$PROBE" noop
	[ "$status" -eq 125 ]
	[ "$stderr" = "portshim: $conf:4: bind='evn': expected even, odd, prefer-even, prefer-odd, any, N:K (0 <= K < N <= 65535), kernel, linux-4.2, legacy or off" ]
	printf 'colour = odd\n' >"$conf"
	run --separate-stderr shim PORTSHIM_CONFIG="$conf" "$PROBE" noop
	[ "$status" -eq 125 ]
	[[ $stderr == "portshim: $conf:1: colour: unknown setting; known: parity, connect, bind,"* ]]
	printf 'rule = 10.0.0.0/33=odd\n' >"$conf"
	run --separate-stderr shim PORTSHIM_CONFIG="$conf" "$PROBE" noop
	[ "$status" -eq 125 ]
	[[ $stderr == "portshim: $conf:1: rule='10.0.0.0/33=odd': rule 1: bad destination '10.0.0.0/33'; expected "* ]]
	printf 'range 40000-41000\n' >"$conf"
	run --separate-stderr shim PORTSHIM_CONFIG="$conf" "$PROBE" noop
	[ "$status" -eq 125 ]
	[ "$stderr" = "portshim: $conf:1: 'range 40000-41000': expected key = value" ]
	run --separate-stderr shim PORTSHIM_CONFIG="$BATS_TEST_TMPDIR/missing.conf" "$PROBE" noop
	[ "$status" -eq 125 ]
	[[ $stderr == *"missing.conf': cannot open: No such file or directory" ]]
}

# seeded_ports VAR ORDER SEED: VAR gets the 40 ports of a fresh namespace's
# run of the probe.  Not in a command substitution: the namespace's holder
# must be recorded in this shell, for teardown to end it.
seeded_ports() {
	local -n into=$1
	shift
	new_netns
	ns_range 40000 49999
	start_server tcp 127.0.0.1 5000
	into=$(shim PORTSHIM_CONNECT=odd PORTSHIM_ORDER="$1" PORTSHIM_SEED="$2" \
		"$PROBE" -k -1 -n 40 connect 127.0.0.1 5000)
}

@test "seed: the same program twice in fresh namespaces gets the same ports (random order)" {
	seeded_ports first random 12345
	seeded_ports second random 12345
	seeded_ports other random 54321
	assert_same_lists "$first" "$second"
	assert_ports odd $first
	[ "$first" != "$other" ]
	# One destination walks the odd ports from a start the seed decides:
	# each port the next odd one after the last (wrapping round the range).
	local steps
	steps=$(awk 'NR > 1 { d = $1 - prev; if (d == 2 || d < -9000) n++ } { prev = $1 } END { print n + 0 }' <<<"$first")
	[ "$steps" -eq 39 ]
}

@test "seed: sequential order walks upwards and repeats run after run" {
	seeded_ports first sequential 7
	seeded_ports second sequential 7
	assert_same_lists "$first" "$second"
	[ "$(head -n 3 <<<"$first" | tr '\n' ' ')" = "40001 40003 40005 " ]
	[ "$(sort -n <<<"$first")" = "$first" ]
}

@test "seed: kernel policy runs shorter than 10 s are reproducible" {
	ns_range 40000 49999
	start_server tcp 127.0.0.1 5000
	run shim PORTSHIM_PARITY=kernel PORTSHIM_SEED=99 "$PROBE" -k -1 -n 30 connect 127.0.0.1 5000
	first=$output
	new_netns
	ns_range 40000 49999
	start_server tcp 127.0.0.1 5000
	run shim PORTSHIM_PARITY=kernel PORTSHIM_SEED=99 "$PROBE" -k -1 -n 30 connect 127.0.0.1 5000
	assert_same_lists "$first" "$output"
	assert_ports even $first
}
