#!/usr/bin/env bats
# sanitizers: tsan
# Port sharing at scale (portshim(7), STRATEGIES): with strategies `range`
# and `reuse` the shim shares a source port among connections to different
# destinations as the kernel's own connect() does, so one parity of a
# narrow range carries several times the connections an exclusive bind
# allows; the full default range carries 18,000 connections of one parity;
# and connect/close churn through TIME_WAIT costs little.  The accepting
# side (sink) is another process; the numbers go to the TAP log.

load helper

setup() {
	common_setup
	require_helpers sink connhold churn
}

# held_diag LABEL: what connhold and the sink reported, as TAP diagnostics.
held_diag() {
	diag "$1: $(kv "$CLIENT" connected) of $(kv "$CLIENT" attempted) connected" \
		"(odd=$(kv "$CLIENT" odd) even=$(kv "$CLIENT" even) dup=$(kv "$CLIENT" dup))," \
		"ports $(kv "$CLIENT" lo)-$(kv "$CLIENT" hi), $(kv "$CLIENT" ms) ms;" \
		"sink holds $(kv "$SINK" open) (dup=$(kv "$SINK" dup))"
}

@test "range 40000-40999, odd: range strategy holds 1,500 connections on 500 ports" {
	ns_sysctl net/ipv4/ip_local_port_range "40000 40999"
	hold PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=range -- -n 1500
	held_diag range
	assert_held 1500
	expect "$CLIENT" lo -ge 40000
	expect "$CLIENT" hi -le 40999
}

@test "range 40000-40999, odd: reuse strategy holds 1,500 connections on 500 ports" {
	ns_sysctl net/ipv4/ip_local_port_range "40000 40999"
	hold PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=reuse -- -n 1500
	held_diag reuse
	assert_held 1500
	expect "$CLIENT" lo -ge 40000
	expect "$CLIENT" hi -le 40999
}

@test "range 40000-40999, odd: exclusive strategy stops at the 500 ports (EADDRNOTAVAIL)" {
	# The control: the same workload with one connection per port.
	ns_sysctl net/ipv4/ip_local_port_range "40000 40999"
	hold PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=exclusive -- -k -n 1500
	diag "exclusive: $(kv "$CLIENT" connected) of 1500 connected, errors $(kv "$CLIENT" errors)"
	expect "$CLIENT" connected -le 500
	expect "$CLIENT" connected -ge 450
	expect "$CLIENT" attempted -eq 1500
	expect "$CLIENT" errors = "EADDRNOTAVAIL:$((1500 - $(kv "$CLIENT" connected)))"
	expect "$CLIENT" even -eq 0
	expect "$CLIENT" dup -eq 0
	expect "$SINK" accepted -eq "$(kv "$CLIENT" connected)"
}

# churn_run native|SETTING=VALUE...: 20,000 connect/close cycles in a fresh
# namespace (no TIME_WAIT from earlier runs), the client closing first;
# leaves churn's summary in $CHURN and the sink's in $SINK.
churn_run() {
	local cycles=20000
	new_netns
	start_sink
	if [ "$1" = native ]; then
		run -0 noshim "$PSTEST_HELPERS/churn" -n "$cycles" 127.0.0.1 "${SINK_PORTS[@]}"
	else
		run -0 shim "$@" "$PSTEST_HELPERS/churn" -n "$cycles" 127.0.0.1 "${SINK_PORTS[@]}"
	fi
	CHURN=$(grep '^churn:' <<<"$output")
	stop_sink
	echo "$CHURN"
	echo "$SINK"
	expect "$CHURN" connected -eq "$cycles" && expect "$CHURN" failed -eq 0 &&
		expect "$SINK" accepted -eq "$cycles" && expect "$SINK" errors -eq 0 &&
		expect "$SINK" tuples = "$(kv "$CHURN" tuples)" || return 1
}

# churn_check SETTING=VALUE...: churn_run under the shim with an event log,
# then what the client and the server saw: every cycle connected on a port
# of the policy, both ends agree on the 4-tuples, no connection was reset,
# descriptors flat, and the attempts the log records: none over 8, and a
# mean of at most 1.05 - except for the kernel's own algorithm, which the
# emulation reproduces clashes and all: a mean up to 1.5 (1.1 seen when its
# 10-second re-salt lands on the destination's newest TIME_WAITs), a tail the
# kernel's walk does not bound (its step of 2 from a shared perturbation can
# cross a run of its own TIME_WAIT 4-tuples; 10 was seen once in 20,000), so
# only a runaway search (over 32) fails it.
churn_check() {
	local log=$BATS_TEST_TMPDIR/churn-$((++SINK_RUNS)).jsonl parity=$1 stats most=21000 longest=8
	shift
	[ "$parity" != kernel ] || { most=30000; longest=32; }
	churn_run PORTSHIM_CONNECT="$parity" PORTSHIM_LOG="$log" "$@" || return 1
	expect "$SINK" resets -eq 0 && expect "$CHURN" fds_after -eq "$(kv "$CHURN" fds_before)" ||
		return 1
	if [ "$parity" = odd ]; then
		expect "$CHURN" odd -eq 20000 && expect "$SINK" even -eq 0 || return 1
	fi
	stats=$(jq -rs '"lines=\(length) sum=\(map(.attempts) | add) max=\(map(.attempts) | max)" +
		" ok=\(map(select(.result == "ok")) | length)"' "$log")
	diag "$parity $*: $stats; histogram $(jq -r .attempts "$log" | sort -n | uniq -c |
		awk '{printf "%s:%s ", $2, $1}')"
	expect "$stats" lines -eq 20000 && expect "$stats" ok -eq 20000 &&
		expect "$stats" sum -le "$most" && expect "$stats" max -le "$longest"
}

@test "churn: 20,000 connect/close cycles through TIME_WAIT to 4 listeners, every strategy: first try, no reset, fds flat" {
	churn_run native
	expect "$SINK" resets -eq 0
	expect "$CHURN" fds_after -eq "$(kv "$CHURN" fds_before)"
	local strategy
	for strategy in auto range reuse; do
		churn_check odd PORTSHIM_STRATEGY=$strategy
	done
	churn_check any PORTSHIM_STRATEGY=reuse
	# An exclusive bind cannot share a port in TIME_WAIT: both parities
	# (28,232 ports) hold the 20,000 cycles.
	churn_check any PORTSHIM_STRATEGY=exclusive
	churn_check kernel PORTSHIM_STRATEGY=range
	churn_check kernel PORTSHIM_STRATEGY=reuse
}

@test "8 threads x 2,000 connects kept open (16,000 > 14,116 odd ports): all odd, distinct" {
	local strategy
	for strategy in auto reuse; do
		[ "$strategy" = auto ] || new_netns
		hold PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$strategy -- -t 8 -n 2000
		held_diag "$strategy, 8 threads"
		assert_held 16000
	done
}

@test "full scale: 18,000 concurrent connections, odd, default range, one process" {
	local strategy
	for strategy in auto range reuse; do
		[ "$strategy" = auto ] || new_netns
		if [ "$strategy" = auto ]; then
			hold PORTSHIM_CONNECT=odd -- -n 18000
		else
			hold PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$strategy -- -n 18000
		fi
		held_diag "$strategy, one process"
		assert_held 18000
	done
}

# Two processes with one seed walk the same ports; the second starts in
# the first's run of live connections to the same destination, as two
# unrelated processes' walks meet.  Under reuse, binding such a port would
# work and the connect fail on a socket that cannot be unbound: a port
# whose 4-tuple a live socket holds is skipped (sock_diag).  Under every
# strategy every connect works, as natively, and the walk jumps out of
# the run rather than step through it.  (The supervisor's side:
# seccompscale.bats.)
@test "a second process walking into a first one's live 4-tuples (same seed), every strategy: every connect works, past them in a few attempts" {
	local s log
	for s in range reuse exclusive; do
		log=$BATS_TEST_TMPDIR/second-$s.jsonl
		second_process "$s" "$log" env LD_PRELOAD="$(shim_preload)" PORTSHIM_SEED=7 \
			PORTSHIM_STRATEGY=$s PORTSHIM_CONNECT=odd PORTSHIM_LOG="$log" || return 1
		new_netns
	done
}
