#!/usr/bin/env bats
# Hostile and careless socket calls (tests/helpers/hostile.c): the shim must
# give the application exactly what the kernel gives it, errors, errno and
# socket state included; descriptors above 65,536; the application's own
# socket options read back; close_range(); and a long connect/close run.
# sanitizers: tsan

load helper

HOSTILE=$PORTSHIM_HELPERS/hostile
FDLIFE=$PORTSHIM_HELPERS/fdlife

@test "hostile calls: identical results, errno and socket state with and without the shim" {
	run --separate-stderr noshim "$HOSTILE" cases
	[ "$status" -eq 0 ]
	native=$output
	echo "$stderr"
	run --separate-stderr shim PORTSHIM_CONNECT=odd PORTSHIM_BIND=odd "$HOSTILE" cases
	[ "$status" -eq 0 ]
	shimmed=$output
	[ "$(printf '%s\n' "$native" | wc -l)" -ge 60 ]
	# Every successful call left errno alone (EDOM was set before it).
	! printf '%s\n' "$native" | grep -E 'ret=[0-9]+ errno=' | grep -v 'errno=EDOM'
	assert_same_lists "$native" "$shimmed"
}

@test "a socket dup2'ed to a descriptor above 65,536 (or the highest allowed): connect, bind, close, odd under the shim" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run --separate-stderr noshim "$FDLIFE" highfd 5000 10
	echo "native: $output $stderr"
	[ "$status" -eq 0 ]
	IFS=, read -ra native <<<"${output#*ports=}"
	# Without the shim: connect() gets even ports here (so odd ones below
	# are the shim's doing), bind(0) odd.
	assert_ports even "${native[@]:0:10}"
	run --separate-stderr shim PORTSHIM_CONNECT=odd PORTSHIM_BIND=odd "$FDLIFE" highfd 5000 10
	echo "shim: $output $stderr"
	[ "$status" -eq 0 ]
	IFS=, read -ra ports <<<"${output#*ports=}"
	[ "${#ports[@]}" -eq 11 ]
	assert_ports odd "${ports[@]}"
	assert_ports 40000-40999 "${ports[@]}"
	[ "$(server_ports 5000 | wc -l)" -eq 20 ]
}

@test "getsockopt(SO_REUSEADDR, IP_LOCAL_PORT_RANGE) read back the application's own values under strategies range and reuse" {
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
		for strategy in range reuse; do
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

@test "close_range(3, ~0U, 0) gives the shim's ports back: 2-port range, connects go on" {
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	run shim PORTSHIM_RANGE=40000-40001 PORTSHIM_CONNECT=any "$FDLIFE" closerange 5000 10
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '^held 4000[01]$')" -eq 2 ]
	printf '%s\n' "$output" | grep -qx 'close_range ret=0 errno=EDOM'
	mapfile -t ports < <(output_ports)
	[ "${#ports[@]}" -eq 10 ]
	assert_ports 40000-40001 "${ports[@]}"
}

@test "long haul: 1,000,000 connect/close cycles over a 64-port range, server closing first; no failure, fd count and RSS flat" {
	ns_range 40000 40999
	local out=$BATS_TEST_TMPDIR/server.out i
	in_ns_background "$out" "$FDLIFE" server 5001
	for i in $(seq 250); do
		grep -q READY "$out" 2>/dev/null && break
		sleep 0.02
	done
	grep -q READY "$out"
	# About 50 s here; a sanitizer build runs 20,000.
	local cycles=1000000
	[ -z "${PORTSHIM_SANITIZER:-}" ] || cycles=20000
	SECONDS=0
	NS_TIMEOUT=300 run shim PORTSHIM_RANGE=40000-40063 PORTSHIM_CONNECT=any "$FDLIFE" longhaul 5001 $cycles
	echo "$output (${SECONDS} s)"
	[ "$status" -eq 0 ]
	[[ $output =~ cycles=$cycles\ failed=0\ fd10=([0-9]+)\ fdend=([0-9]+)\ rss10=([0-9]+)\ rssend=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
	# Flat: a leak of even 1 byte a cycle over the last 90 % would show.
	[ "${BASH_REMATCH[4]}" -le $((BASH_REMATCH[3] + 256)) ]
}
