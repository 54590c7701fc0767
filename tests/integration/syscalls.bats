#!/usr/bin/env bats
# System calls per connect(), counted, not timed: on a machine where one
# costs a microsecond or more they are what a program under the shim pays.
# churn connects to one listener over and over; strace lists every system
# call, and the calls from the start of its second cycle to the start of
# its last are counted, under the shim and natively in the same namespace.
# The difference per cycle must stay within the budget written here
# (tests/bench/README.md), whatever the machine's speed or load.
# Every cycle's port is checked against the policy too: a shim that did
# nothing would count nothing.

load helper

BUILT=$(dirname "$PSTEST_LIB")
CLI=${PSTEST_CLI:-$BUILT/portshim}
CHURN=$PSTEST_HELPERS/churn
CYCLES=200

setup() {
	common_setup
	require_cmd strace
	start_server tcp 127.0.0.1 7301
}

# traced OUT COMMAND...: COMMAND in the namespace under strace -f, the
# trace in OUT.  Without the test's own settings.
traced() {
	local out=$1
	shift
	in_ns env "${SCRUB[@]}" strace -f -qq -e signal=none -o "$out" "$@"
}

# cycle_calls TRACE: the system calls from the start of churn's second
# cycle (its second TCP socket()) to the start of its last, one name a
# line.  The first cycle is left out for what a process does once (the
# first connect of a destination), the last for the exit.
cycle_calls() {
	awk -v last="$CYCLES" '
		/ resumed>/ { next }              # second half of an interrupted call
		{ sub(/^[0-9]+ +/, ""); name = $0; sub(/\(.*/, "", name) }
		name == "" || name ~ /^[+-]/ { next }
		/^socket\(AF_INET, SOCK_STREAM/ { cycle++ }
		cycle >= 2 && cycle < last { print name }' "$1"
}

# budget NAME BUDGET ENV... -- CHURN_ARGS...: churn natively and then with
# ENV (LD_PRELOAD, a wrapper...), every port odd under the shim, and the
# extra system calls per cycle at most BUDGET.
budget() {
	local name=$1 budget=$2 env=() native shim extra cycles=$((CYCLES - 2))
	shift 2
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	traced "$BATS_TEST_TMPDIR/native" "$CHURN" -n "$CYCLES" "$@" 127.0.0.1 7301
	run traced "$BATS_TEST_TMPDIR/shim" "${env[@]}" "$CHURN" -n "$CYCLES" "$@" 127.0.0.1 7301
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *" odd=$CYCLES even=0 "* ]]
	native=$(cycle_calls "$BATS_TEST_TMPDIR/native" | wc -l)
	shim=$(cycle_calls "$BATS_TEST_TMPDIR/shim" | wc -l)
	[ "$native" -ge $((4 * cycles)) ] # socket, connect, getsockname, close
	extra=$((shim - native))
	echo "$name: $native system calls natively, $shim under the shim, in $cycles cycles:" \
		"$((extra / cycles)).$((extra * 100 / cycles % 100)) extra per connect (budget $budget)"
	echo "a cycle under the shim:" \
		"$(cycle_calls "$BATS_TEST_TMPDIR/shim" | head -n 40 | tail -n 20 | tr '\n' ' ')"
	# A tenth of a call per connect for what happens now and then (one
	# call more on every connect is ten times that).
	[ "$extra" -le $((budget * cycles + cycles / 10)) ]
}

library() {
	printf '%s\n' env LD_PRELOAD="$(shim_preload)" PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY="$1"
}

@test "strategy range: one setsockopt per connect, the address in the caller's frame" {
	mapfile -t env < <(library range)
	budget "range, stack" 1 "${env[@]}" -- -a stack
}

@test "strategy range: one setsockopt per connect, the address in static data" {
	mapfile -t env < <(library range)
	budget "range, static" 1 "${env[@]}" -- -a static
}

@test "strategy range: one setsockopt per connect, the address in a thread's frame" {
	mapfile -t env < <(library range)
	budget "range, thread" 1 "${env[@]}" -- -a thread
}

@test "strategy range: one setsockopt per connect, the address in main()'s frame and a second thread connecting" {
	mapfile -t env < <(library range)
	budget "range, main's frame from a thread" 1 "${env[@]}" -- -a main
}

@test "strategy range: the address on the heap costs one check more" {
	mapfile -t env < <(library range)
	budget "range, heap" 2 "${env[@]}" -- -a heap
}

@test "strategy auto picks range here: one system call per connect" {
	mapfile -t env < <(library auto)
	budget "auto, stack" 1 "${env[@]}" -- -a stack
}

@test "strategy reuse: bind and SO_REUSEADDR, its floor (the route cache knows the socket's namespace)" {
	mapfile -t env < <(library reuse)
	budget "reuse, stack" 2 "${env[@]}" -- -a stack
}

@test "strategy exclusive: the bind alone" {
	mapfile -t env < <(library exclusive)
	budget "exclusive, stack" 1 "${env[@]}" -- -a stack
}

@test "the event log adds what one line costs: open, its owner checked, write, close" {
	mapfile -t env < <(library range)
	budget "range, logged" 6 "${env[@]}" PORTSHIM_LOG="$BATS_TEST_TMPDIR/ev.jsonl" -- -a stack
	[ "$(grep -c '"call":"connect"' "$BATS_TEST_TMPDIR/ev.jsonl")" -eq "$CYCLES" ]
}

@test "the seccomp backend: what the supervisor makes per connect, named in tests/bench/README.md" {
	[ -x "$BUILT/static/churn" ] || skip "no static build of churn (gcc -static)"
	CHURN=$BUILT/static/churn
	# The program's trapped connect() returns once the supervisor answers;
	# the supervisor's calls are counted with the program's.
	budget "seccomp, range" 12 "$CLI" --backend seccomp --connect odd --strategy range -- -a stack
}
