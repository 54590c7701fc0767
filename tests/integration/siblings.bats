#!/usr/bin/env bats
# Children forked one after another with no draw in between (a pre-forking
# server's workers, multiprocessing.Pool).  Each child draws from a random
# stream of its own (with a copy of the parent's, worker i would get the
# ports of worker 0 plus i and need i + 1 attempts per connect); without a
# seed the workers share one per-destination walk (the shim's counters live
# in memory shared across fork()), so they need one attempt per connect;
# with PORTSHIM_SEED each worker walks on its own and gets the same ports
# run after run.  Checked from the ports the sink saw and the event log's
# `attempts`, under every strategy.

load helper

setup() {
	common_setup
	require_helpers sink prefork
}

# attempts LOG: "DECISIONS ATTEMPTS" of an event log.
attempts() {
	grep -o '"attempts":[0-9]*' "$1" | awk -F: '{ n++; a += $2 } END { print n + 0, a + 0 }'
}

# run_workers SETTING=VALUE... -- PREFORK_ARGS...: prefork under the shim
# against a fresh sink, logging; leaves its summary in $LINE, its worker
# lines in $WORKER_LINES, the log's counts in $DECISIONS and $ATTEMPTS.
run_workers() {
	local settings=() log=$BATS_TEST_TMPDIR/ev-$((++SINK_RUNS)).jsonl
	while [ "$1" != -- ]; do settings+=("$1"); shift; done
	shift
	start_sink
	if [ "${settings[0]:-}" = native ]; then
		run noshim "$PSTEST_HELPERS/prefork" "$@" 127.0.0.1 "${SINK_PORTS[@]}"
	else
		run shim PORTSHIM_LOG="$log" "${settings[@]}" \
			"$PSTEST_HELPERS/prefork" "$@" 127.0.0.1 "${SINK_PORTS[@]}"
	fi
	stop_sink
	echo "$output"
	echo "$SINK"
	[ "$status" -eq 0 ] || return 1
	LINE=$(grep '^prefork:' <<<"$output")
	WORKER_LINES=$(grep '^worker ' <<<"$output")
	read -r DECISIONS ATTEMPTS < <(if [ -e "$log" ]; then attempts "$log"; else echo 0 0; fi)
}

# assert_own_streams TOTAL [PRE [PERCENT]]: the workers' TOTAL connects all
# worked and the sink saw exactly those and the parent's PRE; the log has as
# many decisions, needing at most PERCENT (105) attempts per 100 connects.
assert_own_streams() {
	local total=$1 pre=${2:-0} percent=${3:-105}
	expect "$LINE" connected -eq "$total" && expect "$LINE" failed -eq 0 &&
		expect "$SINK" accepted -eq $((total + pre)) && expect "$SINK" dup -eq 0 &&
		expect "$SINK" tuples = "$(kv "$LINE" tuples)" || return 1
	total=$((total + pre))
	[ "$DECISIONS" -eq "$total" ] || { echo "log: $DECISIONS decisions, not $total" >&2; return 1; }
	((ATTEMPTS * 100 <= DECISIONS * percent)) ||
		{ echo "$ATTEMPTS attempts for $DECISIONS connects" >&2; return 1; }
}

# apart: at most 5% of the workers' k-th ports lie near each other (each
# worker walks on its own, from its own stream).
apart() {
	(($(kv "$LINE" near) * 20 <= $(kv "$LINE" pairs))) ||
		{ echo "the workers' ports follow each other: $LINE" >&2; return 1; }
}

# prefork_workers STRATEGY: 4, then 16 pre-forked workers, 20 connects each.
prefork_workers() {
	local w
	for w in 4 16; do
		run_workers PORTSHIM_STRATEGY="$1" -- -w "$w" -n 20 &&
			diag "$1, $w workers: $ATTEMPTS attempts for $DECISIONS connects," \
				"$(kv "$LINE" near) of $(kv "$LINE" pairs) port pairs near" &&
			assert_own_streams $((w * 20)) || return 1
		new_netns
	done
}

@test "pre-forked workers (range): one walk, one attempt per connect" {
	prefork_workers range
}

@test "pre-forked workers (reuse): one walk, one attempt per connect" {
	prefork_workers reuse
}

@test "pre-forked workers (exclusive): one walk, one attempt per connect" {
	prefork_workers exclusive
}

@test "pre-forked workers, natively: every connect works, as under the shim" {
	run_workers native -- -w 16 -n 20
	diag "native, 16 workers: $(kv "$LINE" near) of $(kv "$LINE" pairs) port pairs near"
	expect "$LINE" connected -eq 320 && expect "$LINE" failed -eq 0 &&
		expect "$SINK" accepted -eq 320 && expect "$SINK" tuples = "$(kv "$LINE" tuples)"
}

@test "workers made by a raw clone() (no atfork handler ran): one attempt per connect" {
	local s
	for s in range reuse exclusive; do
		run_workers PORTSHIM_STRATEGY=$s -- -r -w 16 -n 20 && assert_own_streams 320 || return 1
		new_netns
	done
	# Seeded, each worker walks on its own from a phase it draws at random
	# (it cannot know its number): about one run in 25 two of the 16 phases
	# fall within 5 ports, and that pair retries over each other's ports on
	# every destination, up to 20 attempts more.  125 per 100 allows four
	# such pairs (about one run in 10^7); workers that shared one stream
	# would retry over every port of the workers before them (thousands).
	run_workers PORTSHIM_STRATEGY=range PORTSHIM_SEED=77 -- -r -w 16 -n 20
	assert_own_streams 320 0 125
}

# seeded STRATEGY SEED: the worker lines of a run that starts them one by
# one, after 3 connects in the parent, in a fresh namespace.
seeded() {
	new_netns
	run_workers PORTSHIM_STRATEGY="$1" PORTSHIM_SEED="$2" -- -s -p 3 -w 16 -n 10 &&
		assert_own_streams 160 3 && apart && printf '%s\n' "$WORKER_LINES" >"$BATS_TEST_TMPDIR/$1-$2-$3"
}

@test "PORTSHIM_SEED: the same seed gives every worker the same ports, another seed others" {
	local s
	for s in range reuse exclusive; do
		seeded "$s" 12345 a && seeded "$s" 12345 b && seeded "$s" 54321 c || return 1
		diff "$BATS_TEST_TMPDIR/$s-12345-a" "$BATS_TEST_TMPDIR/$s-12345-b" || return 1
		! cmp -s "$BATS_TEST_TMPDIR/$s-12345-a" "$BATS_TEST_TMPDIR/$s-54321-c" ||
			{ echo "$s: seeds 12345 and 54321 gave the same ports" >&2; return 1; }
	done
	# The parent's position counts: 3 connects before forking, or none.
	new_netns
	run_workers PORTSHIM_STRATEGY=range PORTSHIM_SEED=12345 -- -s -w 16 -n 10
	[ "$WORKER_LINES" != "$(cat "$BATS_TEST_TMPDIR/range-12345-a")" ]
}

@test "multiprocessing.Pool(8) under every strategy: one attempt per connect" {
	local s log line
	for s in range reuse exclusive; do
		log=$BATS_TEST_TMPDIR/pool-$s.jsonl
		start_sink
		run shim PORTSHIM_STRATEGY=$s PORTSHIM_LOG="$log" \
			"$PYTHON" "$BATS_TEST_DIRNAME/programs/poolconn.py" 8 10 127.0.0.1 "${SINK_PORTS[@]}"
		stop_sink
		echo "$output"
		[ "$status" -eq 0 ] || return 1
		line=$(grep '^pool:' <<<"$output")
		read -r DECISIONS ATTEMPTS < <(attempts "$log")
		diag "Pool(8), $s: $ATTEMPTS attempts for $DECISIONS connects," \
			"$(kv "$line" near) of $(kv "$line" pairs) port pairs near"
		expect "$line" workers -eq 8 && expect "$line" connected -eq 80 &&
			expect "$SINK" accepted -eq 80 && [ "$DECISIONS" -eq 80 ] &&
			((ATTEMPTS * 100 <= DECISIONS * 105)) || return 1
		new_netns
	done
}
