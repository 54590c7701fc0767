#!/usr/bin/env bats
# The examples: the load-balancer demo's numbers (make demo, the README's
# first command), the parity experiment script, and the systemd/container
# snippets' settings.

load helper
load ../helpers/cli

# demo_row HASH RUN: the backend counts of one row of the demo's table
# ($output), then "REACHED OF".  RUN is native, even, odd or any.
demo_row() {
	local label
	[ "$2" = native ] && label="native \(kernel's choice\)" || label="portshim --connect $2"
	grep -E "^$1 +$label " <<<"$output" | sed -E "s/^$1 +$label +//" | grep -oE '[0-9]+' | tr '\n' ' '
}

# check_demo CONNECTIONS BACKENDS: the weak hash reaches exactly half the
# backends natively and under even and odd, the complementary halves, and
# all of them under any; the strong hash reaches all of them every time.
check_demo() {
	local connections=$1 backends=$2 half=$(($2 / 2)) run row counts n sum zeros
	declare -A zero
	for run in native even odd any; do
		for hash in weak strong; do
			row=($(demo_row "$hash" "$run"))
			echo "$hash $run: ${row[*]}"
			[ ${#row[@]} -eq $((backends + 2)) ]
			counts=("${row[@]:0:backends}")
			sum=0 zeros=
			for n in "${!counts[@]}"; do
				sum=$((sum + counts[n]))
				((counts[n] == 0)) && zeros+="$n "
			done
			[ "$sum" -eq "$connections" ]
			[ "${row[backends + 1]}" -eq "$backends" ]
			if [ "$hash" = weak ] && [ "$run" != any ]; then
				[ "${row[backends]}" -eq "$half" ]
			else
				[ "${row[backends]}" -eq "$backends" ]
			fi
			zero[$hash.$run]=$zeros
		done
	done
	# The kernel's parity is even here (the namespace's range starts at
	# 32768): natively the same backends as under even, and odd the others.
	[ "${zero[weak.native]}" = "${zero[weak.even]}" ]
	[ -n "${zero[weak.odd]}" ] && [ "${zero[weak.odd]}" != "${zero[weak.even]}" ]
}

@test "make demo: the weak hash reaches half the backends natively and under even/odd, all under any" {
	require_cmd make
	# From an empty build tree, as after a clean clone (the suite's own
	# build is left as it is).
	run in_ns env "${SCRUB[@]}" make -s -j4 -C "$REPO_ROOT" demo BUILD="$BATS_TEST_TMPDIR/build"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -x "$BATS_TEST_TMPDIR/build/portshim" ]
	output=$(sed -n '/^portshim load-balancer demo: 200 connections per run/,$p' <<<"$output")
	[ -n "$output" ]
	check_demo 200 4
}

@test "the demo with 6 backends: 3 of 6 natively and under even, 6 of 6 under any" {
	run in_ns env "${SCRUB[@]}" $(cli_preload) PORTSHIM="$PSTEST_CLI" \
		"$REPO_ROOT/examples/lb-demo/run.sh" 100 6
	echo "$output"
	[ "$status" -eq 0 ]
	check_demo 100 6
}

@test "parity-experiment.sh runs a command under each policy and reports by policy" {
	start_server tcp 127.0.0.1 5000
	dir=$BATS_TEST_TMPDIR/exp
	run in_ns env "${SCRUB[@]}" $(cli_preload) PORTSHIM="$PSTEST_CLI" \
		"$REPO_ROOT/examples/parity-experiment.sh" -o "$dir" -- \
		"$PYTHON" "$PROGRAMS/pyclient.py" tcp 127.0.0.1 5000 10
	echo "$output"
	[ "$status" -eq 0 ]
	for policy in off even odd any; do
		grep -E "^--connect $policy +exit 0 +10 decisions" <<<"$output"
		[ "$(wc -l <"$dir/$policy.out")" -eq 10 ] # the client's ports
		assert_same_lists "$(cat "$dir/$policy.out")" "$(ports_of_log "$dir/$policy.jsonl")"
	done
	assert_ports even $(cat "$dir/even.out")
	assert_ports odd $(cat "$dir/odd.out")
	# The report's policy table: the kernel (off) gives even ports here.
	grep -E '^  even +10 +10 +0 +0 ' <<<"$output"
	grep -E '^  odd +10 +0 +10 +0 ' <<<"$output"
	grep -E '^  off +10 +10 +0 +0 ' <<<"$output"
	grep -E '^  any +10 +' <<<"$output"
	grep -E '^portshim report: 4 files, 40 decisions from 4 processes, 0 bad lines$' <<<"$output"
}

@test "the systemd and container snippets name only settings the library accepts" {
	ex=$REPO_ROOT/examples
	settings=()
	mapfile -t -O ${#settings[@]} settings < <(sed -n 's/^Environment=\(PORTSHIM_[A-Z_]*=.*\)$/\1/p' "$ex/systemd/portshim.conf")
	mapfile -t -O ${#settings[@]} settings < <(sed -n 's/^ *\(PORTSHIM_[A-Z_]*\): \([^ ]*\).*$/\1=\2/p' "$ex/container/compose.yaml")
	mapfile -t -O ${#settings[@]} settings < <(grep -o 'PORTSHIM_[A-Z_]*=[^ \\]*' "$ex/container/Dockerfile.portshim")
	printf '%s\n' "${settings[@]}"
	[ ${#settings[@]} -ge 6 ]
	for setting in "${settings[@]}"; do
		# --check fails on a log it could not create: the unit's
		# LogsDirectory= makes /var/log/portshim, a directory of the
		# test's stands in for it here.
		run wrap "${setting//\/var\/log\/portshim/$BATS_TEST_TMPDIR}" --check
		[ "$status" -eq 0 ] || { echo "$setting: $output"; return 1; }
	done
	# They all preload the library where make install puts it by default.
	for f in "$ex/systemd/portshim.conf" "$ex/container/compose.yaml" "$ex/container/Dockerfile.portshim"; do
		grep -q 'LD_PRELOAD[=:] */usr/local/lib/libportshim.so' "$f"
	done
}

@test "the README's first command is make demo, the second make test" {
	commands=$(sed -n '/^## Two commands/,/^## /p' "$REPO_ROOT/README.md" |
		sed -n '/^```/,/^```/p' | grep -v '^```' | grep -v '^$' | sed 's/ *#.*//')
	[ "$(sed -n 1p <<<"$commands")" = "make demo" ]
	[ "$(sed -n 2p <<<"$commands")" = "make test" ]
}

@test "the example scripts use no PORTSHIM_ name but the library's settings" {
	# The library refuses an unknown PORTSHIM_ name: a helper variable of
	# a script (PORTSHIM_LIB) would stop every program run under the shim.
	run --separate-stderr noshim LD_PRELOAD="$(shim_preload)" PORTSHIM_NO_SUCH=1 true
	known=$(grep -o 'PORTSHIM_[A-Z_]*' <<<"$stderr" | grep -v NO_SUCH | sort -u)
	[ "$(wc -l <<<"$known")" -ge 13 ]
	used=$(grep -rhoE 'PORTSHIM_[A-Z_]+' "$REPO_ROOT/examples" | sort -u)
	for name in $used; do
		grep -qx "$name" <<<"$known" || { echo "examples/ use $name, not a setting"; return 1; }
	done
}

@test "parity-experiment.sh checks every policy before it runs any" {
	dir=$BATS_TEST_TMPDIR/exp
	marker=$BATS_TEST_TMPDIR/ran
	run --separate-stderr in_ns env "${SCRUB[@]}" $(cli_preload) PORTSHIM="$PSTEST_CLI" \
		"$REPO_ROOT/examples/parity-experiment.sh" -o "$dir" -p "off even evn" -- \
		"$PROBE" -t "$marker" noop
	echo "status $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 125 ]
	[[ $stderr == "portshim: --connect='evn': expected even, odd, "* ]]
	[ ! -e "$marker" ] && [ ! -e "$dir/off.out" ]
}
