#!/usr/bin/env bats
# sanitizers: tsan
# Bad configuration is never silently ignored: one line on stderr naming the
# variable and its value, exit status 125, and the program's main() never
# runs (the probe's -t would have created a file).  And the library exports
# nothing but the calls it interposes.

load helper

@test "a good configuration runs the program (the control for the tests below)" {
	marker=$BATS_TEST_TMPDIR/main-ran
	run --separate-stderr shim PORTSHIM_CONNECT=even PORTSHIM_RANGE=40000-40999 \
		PORTSHIM_RESERVED=40010 PORTSHIM_ORDER=sequential PORTSHIM_SEED=1 \
		PORTSHIM_ON_EXHAUST=kernel "$PROBE" -t "$marker" noop
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ -e "$marker" ]
}

@test "PORTSHIM_CONNECT=evn is rejected" {
	rejected shim PORTSHIM_CONNECT=evn
	[[ $line == "portshim: PORTSHIM_CONNECT='evn': expected "* ]]
	# What is accepted is spelled out.
	[[ $line == *even*odd*prefer-even* ]]
}

@test "PORTSHIM_PARITY=evn and PORTSHIM_BIND=ood are rejected" {
	rejected shim PORTSHIM_PARITY=evn
	[[ $line == "portshim: PORTSHIM_PARITY='evn': expected "* ]]
	rejected shim PORTSHIM_BIND=ood
	[[ $line == "portshim: PORTSHIM_BIND='ood': expected "* ]]
}

@test "PORTSHIM_RANGE=60000-1000 (low above high) is rejected" {
	rejected shim PORTSHIM_RANGE=60000-1000
	[[ $line == "portshim: PORTSHIM_RANGE='60000-1000': expected "* ]]
}

@test "PORTSHIM_RANGE=70000-80000 (not ports) is rejected" {
	rejected shim PORTSHIM_RANGE=70000-80000
	[[ $line == "portshim: PORTSHIM_RANGE='70000-80000': expected "* ]]
}

@test "PORTSHIM_CONNECT=5:7 (residue not below modulus) is rejected" {
	rejected shim PORTSHIM_CONNECT=5:7
	[[ $line == "portshim: PORTSHIM_CONNECT='5:7': expected "* ]]
}

@test "bad PORTSHIM_ORDER, PORTSHIM_SEED, PORTSHIM_ON_EXHAUST, PORTSHIM_RESERVED are rejected" {
	rejected shim PORTSHIM_ORDER=backwards
	[[ $line == "portshim: PORTSHIM_ORDER='backwards': expected "* ]]
	rejected shim PORTSHIM_SEED=12abc
	[[ $line == "portshim: PORTSHIM_SEED='12abc': expected "* ]]
	rejected shim PORTSHIM_ON_EXHAUST=retry
	[[ $line == "portshim: PORTSHIM_ON_EXHAUST='retry': expected "* ]]
	rejected shim PORTSHIM_RESERVED=40000,x
	[[ $line == "portshim: PORTSHIM_RESERVED='40000,x': expected "* ]]
}

@test "a bad value among good ones is still rejected (no half-applied configuration)" {
	rejected shim PORTSHIM_CONNECT=odd PORTSHIM_RANGE=40000-40999 PORTSHIM_ORDER=sideways
	[[ $line == "portshim: PORTSHIM_ORDER='sideways': expected "* ]]
}

@test "an unknown name (PORTSHIM_PARTIY) is rejected, naming it" {
	rejected shim PORTSHIM_PARTIY=even
	[[ $line == "portshim: PORTSHIM_PARTIY"* ]]
	# The user is told what the names are, so the typo is obvious.
	[[ $line == *PORTSHIM_PARITY* ]]
}

@test "a policy no port of the range satisfies is rejected, naming the setting" {
	# Only 40001 in the range: no even port at all.
	rejected shim PORTSHIM_CONNECT=even PORTSHIM_RANGE=40001-40001
	[[ $line == "portshim: PORTSHIM_CONNECT='even': "* ]]
	# Every port reserved.
	rejected shim PORTSHIM_RANGE=40000-40009 PORTSHIM_RESERVED=40000-40009
	[[ $line == "portshim: PORTSHIM_"* ]]
}

@test "the library exports exactly the calls it interposes" {
	require_cmd nm
	got=$(nm -D --defined-only "$PSTEST_LIB" | awk '$2 ~ /^[TtWwiI]$/ { print $3 }' | sort | tr '\n' ' ')
	want="bind close close_range connect dup dup2 dup3 execl execle execlp execv execve execvp execvpe fcntl fcntl64 fexecve getsockopt sendmmsg sendmsg sendto setns setsockopt socket unshare "
	echo "got:  $got"
	echo "want: $want"
	[ "$got" = "$want" ]
	# Nothing else defined at all (data, versioned or not), beyond the
	# dynamic section's own symbols.
	others=$(nm -D --defined-only "$PSTEST_LIB" | awk '$2 !~ /^[TtWwiI]$/ { print $3 }' | sort | tr '\n' ' ')
	echo "other symbols: $others"
	[ -z "$others" ]
}
