#!/usr/bin/env bats
# Hostile and careless socket calls (tests/helpers/hostile.c and
# tests/helpers/hostile/): the shim must give the application exactly what
# the kernel gives it, errors, errno (EFAULT for bad pointers) and socket
# state included, under every strategy; 24-byte IPv6 addresses; descriptors
# above 65,536; the application's own socket options read back;
# close_range(); and a long connect/close run (under the default strategy).
# sanitizers: tsan

load helper

HOSTILE=$PSTEST_HELPERS/hostile
FDLIFE=$PSTEST_HELPERS/fdlife

STRATEGIES=(range reuse exclusive auto)

# hostile_compare STRATEGY: `hostile cases` natively and under the shim
# with that strategy: the same lines, each case's result, errno and socket
# state (the diff names the cases that differ).
hostile_compare() {
	run --separate-stderr noshim "$HOSTILE" cases
	[ "$status" -eq 0 ]
	native=$output
	echo "$stderr"
	run --separate-stderr shim PORTSHIM_STRATEGY="$1" PORTSHIM_CONNECT=odd PORTSHIM_BIND=odd \
		"$HOSTILE" cases
	echo "strategy $1: status $status"
	[ "$status" -eq 0 ]
	shimmed=$output
	[ "$(printf '%s\n' "$native" | wc -l)" -ge 190 ]
	# Every successful call left errno alone (EDOM was set before it).
	! printf '%s\n' "$native" | grep -E 'ret=[0-9]+ errno=' | grep -v 'errno=EDOM' || false
	# The bad pointers got the kernel's EFAULT, natively.
	[ "$(printf '%s\n' "$native" | grep -c 'errno=EFAULT')" -ge 50 ]
	assert_same_lists "$native" "$shimmed"
}

@test "hostile calls under strategy range: identical results, errno and socket state with and without the shim" {
	hostile_compare range
}

@test "hostile calls under strategy reuse: identical results, errno and socket state with and without the shim" {
	hostile_compare reuse
}

@test "hostile calls under strategy exclusive: identical results, errno and socket state with and without the shim" {
	hostile_compare exclusive
}

@test "hostile calls under strategy auto: identical results, errno and socket state with and without the shim" {
	hostile_compare auto
}

@test "bad pointers under every strategy: EFAULT as natively, nothing bound, no decision logged" {
	local strategy log
	run --separate-stderr noshim "$HOSTILE" memory
	[ "$status" -eq 0 ]
	native=$output
	for strategy in "${STRATEGIES[@]}"; do
		log=$BATS_TEST_TMPDIR/$strategy.jsonl
		run --separate-stderr shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd \
			PORTSHIM_BIND=odd PORTSHIM_LOG="$log" "$HOSTILE" memory
		echo "strategy $strategy: status $status"
		[ "$status" -eq 0 ]
		assert_same_lists "$native" "$output"
		cat "$log"
		# The only decisions: the listener's bind(0) and the three good
		# connects the option cases need.
		[ "$(wc -l <"$log")" -eq 4 ]
		[ "$(grep -c '"call":"bind",.*"result":"ok","errno":0,' "$log")" -eq 1 ]
		[ "$(grep -c '"call":"connect",.*"result":"ok","errno":0,' "$log")" -eq 3 ]
	done
}

@test "a 24-byte sockaddr_in6 (no sin6_scope_id) gets the policy and the log under every strategy: connect, UDP connect/sendto/sendmsg, bind(0)" {
	ns_range 40000 40999
	local strategy log call n=10
	# Natively connect() gets even ports here and bind(0) odd ones: odd
	# connects and even binds below are the shim's doing.
	run noshim "$HOSTILE" rfc2133 $n
	echo "native: $output"
	[ "$status" -eq 0 ]
	assert_ports even $(printf '%s\n' "$output" | awk '$1 == "connect" { print $2 }')
	assert_ports odd $(printf '%s\n' "$output" | awk '$1 == "bind" { print $2 }')
	for strategy in "${STRATEGIES[@]}"; do
		log=$BATS_TEST_TMPDIR/$strategy.jsonl
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd PORTSHIM_BIND=even \
			PORTSHIM_LOG="$log" "$HOSTILE" rfc2133 $n
		echo "strategy $strategy: $output"
		[ "$status" -eq 0 ]
		for call in connect connect_udp sendto sendmsg; do
			mapfile -t ports < <(printf '%s\n' "$output" | awk -v c=$call '$1 == c { print $2 }')
			[ "${#ports[@]}" -eq $n ]
			assert_ports odd "${ports[@]}"
			assert_ports 40000-40999 "${ports[@]}"
			[ "$(grep -c "\"call\":\"${call%_udp}\",.*\"dst\":\"\[::1\]:[0-9]*\",.*\"parity\":\"odd\",.*\"result\":\"ok\"" "$log")" -ge $n ]
		done
		mapfile -t ports < <(printf '%s\n' "$output" | awk '$1 == "bind" { print $2 }')
		[ "${#ports[@]}" -eq $n ]
		assert_ports even "${ports[@]}"
		# The listener's own bind(0) is one more.
		[ "$(grep -c '"call":"bind",.*"parity":"even",.*"result":"ok"' "$log")" -eq $((n + 1)) ]
		[ "$(grep -c '"dst":"\[::1\]:' "$log")" -eq $((4 * n)) ]
	done
	# A per-destination rule matches a 24-byte destination as well.
	run shim PORTSHIM_CONNECT=odd PORTSHIM_RULES='[::1]=4:3' "$HOSTILE" rfc2133 $n
	echo "rule [::1]=4:3: $output"
	[ "$status" -eq 0 ]
	for call in connect connect_udp sendto sendmsg; do
		mapfile -t ports < <(printf '%s\n' "$output" | awk -v c=$call '$1 == c { print $2 }')
		[ "${#ports[@]}" -eq $n ]
		assert_ports 4:3 "${ports[@]}"
	done
}

@test "a socket dup2'ed to a descriptor above 65,536 (or the highest allowed): connect, bind, close, odd under every strategy" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run --separate-stderr noshim "$FDLIFE" highfd 5000 10
	echo "native: $output $stderr"
	[ "$status" -eq 0 ]
	IFS=, read -ra native <<<"${output#*ports=}"
	# Without the shim: connect() gets even ports here (so odd ones below
	# are the shim's doing), bind(0) odd.
	assert_ports even "${native[@]:0:10}"
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run --separate-stderr shim PORTSHIM_STRATEGY=$strategy PORTSHIM_CONNECT=odd \
			PORTSHIM_BIND=odd "$FDLIFE" highfd 5000 10
		echo "shim $strategy: $output $stderr"
		[ "$status" -eq 0 ]
		IFS=, read -ra ports <<<"${output#*ports=}"
		[ "${#ports[@]}" -eq 11 ]
		assert_ports odd "${ports[@]}"
		assert_ports 40000-40999 "${ports[@]}"
	done
	[ "$(server_ports 5000 | wc -l)" -eq $((10 + 10 * ${#STRATEGIES[@]})) ]
}

@test "getsockopt(SO_REUSEADDR, IP_LOCAL_PORT_RANGE) read back the application's own values under every strategy" {
	start_server tcp 127.0.0.1 5000
	local strategy mode want
	for mode in none reuse range; do
		run noshim "$FDLIFE" sockopt 5000 "$mode"
		echo "native $mode: $output"
		[ "$status" -eq 0 ]
		case $mode in
		none) want='reuseaddr=0 range=0-0' ;;
		reuse) want='reuseaddr=1 range=0-0' ;;
		range) want='reuseaddr=0 range=40000-40999' ;;
		esac
		[[ $output == "$want port="* ]]
		native=${output#* port=*[0-9] }
		for strategy in "${STRATEGIES[@]}"; do
			run shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$strategy "$FDLIFE" sockopt 5000 "$mode"
			echo "shim $strategy $mode: $output"
			[ "$status" -eq 0 ]
			[[ $output == "$want port="* ]]
			# The same return values, errno and lengths as without the shim.
			[ "${output#* port=*[0-9] }" = "$native" ]
			port=${output#* port=}
			port=${port%% *}
			assert_ports odd "$port"
			[ "$mode" != range ] || assert_ports 40000-40999 "$port"
		done
	done
}

@test "IP_LOCAL_PORT_RANGE reads 0 after a connect under every strategy: through dup(), dup2(), F_DUPFD, a short read, across exec; bind(0) after a refused connect" {
	start_server tcp 127.0.0.1 5000
	run noshim "$FDLIFE" leftrange 5000 5999
	echo "native: $output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c 'range=0-0 len=4')" -eq 6 ]
	printf '%s\n' "$output" | grep -qx 'short: ret=0 value=65280 len=1'
	native=$output
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_CONNECT=even PORTSHIM_STRATEGY=$strategy "$FDLIFE" leftrange 5000 5999
		echo "shim $strategy: $output"
		[ "$status" -eq 0 ]
		case $strategy in
		range | auto) assert_same_lists "$native" "$output" ;;
		# A port bound before the connect outlives its refusal, so the
		# later bind(0) fails (README.md, "Known limits"); the rest is
		# the same.
		*) assert_same_lists "$(printf '%s\n' "$native" | grep -v '^refused')" \
			"$(printf '%s\n' "$output" | grep -v '^refused')" ;;
		esac
	done
}

@test "close_range(3, ~0U, 0) gives the shim's ports back under every strategy: 2-port range, connects go on" {
	ns_range 40000 40999
	start_server tcp-reset 127.0.0.1 5000
	local strategy
	for strategy in "${STRATEGIES[@]}"; do
		run shim PORTSHIM_STRATEGY=$strategy PORTSHIM_RANGE=40000-40001 PORTSHIM_CONNECT=any \
			"$FDLIFE" closerange 5000 10
		echo "$strategy: $output"
		[ "$status" -eq 0 ]
		[ "$(printf '%s\n' "$output" | grep -c '^held 4000[01]$')" -eq 2 ]
		printf '%s\n' "$output" | grep -qx 'close_range ret=0 errno=EDOM'
		mapfile -t ports < <(output_ports)
		[ "${#ports[@]}" -eq 10 ]
		assert_ports 40000-40001 "${ports[@]}"
	done
}

@test "long haul: 1,000,000 connect/close cycles over a 64-port range, server closing first; no failure, fd count and RSS flat" {
	ns_range 40000 40999
	local out=$BATS_TEST_TMPDIR/server.out i
	in_ns_background "$out" "$FDLIFE" server 5001
	for i in $(seq 500); do
		grep -q READY "$out" 2>/dev/null && break
		sleep 0.02
	done
	grep -q READY "$out"
	# About 50 s here; a sanitizer build runs 20,000.
	local cycles=1000000
	[ -z "${PSTEST_SANITIZER:-}" ] || cycles=20000
	SECONDS=0
	NS_TIMEOUT=300 run shim PORTSHIM_RANGE=40000-40063 PORTSHIM_CONNECT=any "$FDLIFE" longhaul 5001 $cycles
	echo "$output (${SECONDS} s)"
	[ "$status" -eq 0 ]
	[[ $output =~ cycles=$cycles\ failed=0\ fd10=([0-9]+)\ fdend=([0-9]+)\ rss10=([0-9]+)\ rssend=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
	# Flat: a leak of even 1 byte a cycle over the last 90 % would show.
	[ "${BASH_REMATCH[4]}" -le $((BASH_REMATCH[3] + 256)) ]
}
