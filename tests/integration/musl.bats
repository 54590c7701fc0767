#!/usr/bin/env bats
# Programs built with musl-gcc (dynamic linker /lib/ld-musl-*.so.1, as in
# Alpine images) under the musl build of the library: through
# the wrapper, which picks the library by the program's loader, and through
# a direct LD_PRELOAD.  TCP, UDP, IPv6, bind(0), a non-blocking connect and
# fork()ed workers get the policy's ports as the server saw them; the
# hostile calls give the same answers as without the shim.

load helper
load ../helpers/cli

MUSL_LIB=${PSTEST_MUSL_LIB:-$TESTS_DIR/../../build/musl/libportshim-musl.so}
MUSL=${PSTEST_MUSL_HELPERS:-$TESTS_DIR/../../build/musl/helpers}

setup() {
	common_setup
	# make builds the musl tree only when musl-gcc is installed.
	require_cmd musl-gcc
	local f
	for f in "$MUSL_LIB" "$MUSL/portprobe" "$MUSL/nbconnect" "$MUSL/prefork" "$MUSL/hostile"; do
		[ -e "$f" ] || { echo "missing $f: run make (with musl-gcc installed)" >&2; return 1; }
	done
	readelf -l "$MUSL/portprobe" | grep -q 'interpreter: /lib/ld-musl-' ||
		{ echo "$MUSL/portprobe is not a musl program" >&2; return 1; }
}

# musl_preload SETTING=VALUE... PROGRAM ARGS...: under a direct LD_PRELOAD
# of the musl library (never a sanitizer runtime: those are glibc's).
musl_preload() {
	in_ns env "${SCRUB[@]}" LD_PRELOAD="$MUSL_LIB" "$@"
}

# musl_wrap ARGS...: the wrapper, with the plain library tree's command.
musl_wrap() {
	in_ns env "${SCRUB[@]}" "$(dirname "$MUSL_LIB")/../portshim" "$@"
}

# policy_ports HOW: TCP, UDP and IPv6 connects and bind(0) of the musl
# probe, run by HOW (musl_wrap or musl_preload), all odd and all seen by
# the servers.
policy_ports() {
	local how=$1 run_it
	ns_range 40000 40999
	start_server tcp 127.0.0.1 5000
	start_server udp 127.0.0.1 5001
	start_server tcp ::1 5002
	if [ "$how" = musl_wrap ]; then
		run_it=(musl_wrap --connect odd --bind odd --)
	else
		run_it=(musl_preload PORTSHIM_CONNECT=odd PORTSHIM_BIND=odd)
	fi
	local args
	for args in "connect 127.0.0.1 5000" "-u sendto 127.0.0.1 5001" "-6 connect ::1 5002"; do
		local port=${args##* }
		: >"$(server_log "$port")"
		# shellcheck disable=SC2086
		run "${run_it[@]}" "$MUSL/portprobe" -n 8 $args
		echo "$args: $output"
		[ "$status" -eq 0 ] || return 1
		assert_same_lists "$output" "$(server_ports "$port")" || return 1
		assert_ports odd $(output_ports) || return 1
	done
	run "${run_it[@]}" "$MUSL/portprobe" -n 8 bind0
	echo "bind0: $output"
	[ "$status" -eq 0 ]
	[ "$(output_ports | wc -l)" -eq 8 ]
	assert_ports odd $(output_ports)
	# Natively, connect() gets even ports here: odd ones are the shim's.
	run noshim "$MUSL/portprobe" -n 4 connect 127.0.0.1 5000
	assert_ports even $(output_ports)
}

@test "musl programs under the wrapper: TCP, UDP, IPv6 and bind(0) ports are odd" {
	policy_ports musl_wrap
}

@test "musl programs under LD_PRELOAD of the musl library: TCP, UDP, IPv6 and bind(0) ports are odd" {
	policy_ports musl_preload
}

@test "musl: a non-blocking connect gives the same answers as natively, from an odd port" {
	run noshim "$MUSL/nbconnect" 127.0.0.1 6000
	[ "$status" -eq 0 ]
	native=$(sed -n 2p <<<"$output")
	run musl_preload PORTSHIM_CONNECT=odd "$MUSL/nbconnect" 127.0.0.1 6001
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sed -n 2p <<<"$output")" = "$native" ]
	read -r local seen <<<"$(sed -n 1p <<<"$output")"
	[ "$local" = "$seen" ] && assert_ports odd "$local"
}

@test "musl: fork()ed workers connect from odd ports, one walk, one attempt per connect, under every strategy" {
	local s log
	for s in range reuse exclusive; do
		log=$BATS_TEST_TMPDIR/ev-$s.jsonl
		start_server tcp 127.0.0.1 5100
		run musl_preload PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$s PORTSHIM_LOG="$log" \
			"$MUSL/prefork" -w 4 -n 10 127.0.0.1 5100
		echo "$output"
		[ "$status" -eq 0 ] || return 1
		grep -q '^prefork: workers=4 connected=40 failed=0 .* odd=40 even=0' \
			<<<"$output" || return 1
		[ "$(grep -c "\"strategy\":\"$s\",\"port\":[0-9]*,\"parity\":\"odd\",\"attempts\":1,\"result\":\"ok\"" \
			"$log")" -eq 40 ] || return 1
		[ "$(sort <(server_ports 5100 40))" = "$(grep '^worker' <<<"$output" | cut -d: -f2 |
			tr ' ' '\n' | grep . | sort)" ] || return 1
		new_netns
	done
}

@test "musl: the hostile calls give the same answers with and without the shim, every strategy" {
	run --separate-stderr noshim "$MUSL/hostile" cases
	[ "$status" -eq 0 ]
	native=$output
	[ "$(printf '%s\n' "$native" | wc -l)" -ge 60 ]
	local s
	for s in range reuse exclusive auto; do
		run --separate-stderr musl_preload PORTSHIM_CONNECT=odd PORTSHIM_BIND=odd \
			PORTSHIM_STRATEGY=$s "$MUSL/hostile" cases
		echo "$s: status $status"
		[ "$status" -eq 0 ]
		assert_same_lists "$native" "$output"
	done
}

@test "the wrapper: --check names the musl library for a musl program, and why; an unknown loader gets one line and 125" {
	run musl_wrap --check -- "$MUSL/portprobe"
	[ "$status" -eq 0 ]
	grep -E "^library +.*/libportshim-musl\.so\$" <<<"$output"
	grep -E "^command +$MUSL/portprobe \(dynamically linked, musl's loader /lib/ld-musl-.*\): the shim reaches it with .*libportshim-musl\.so\$" <<<"$output"
	# A glibc program still gets the glibc library.
	run musl_wrap --check -- "$PROBE"
	grep -E "^library +.*/libportshim\.so\$" <<<"$output"
	# A loader of another libc: nothing runs.
	"$PYTHON" - "$PROBE" "$BATS_TEST_TMPDIR/other" <<-'EOF'
		import sys
		d = open(sys.argv[1], "rb").read()
		i = d.index(b"/ld-linux")
		open(sys.argv[2], "wb").write(d[:i] + b"/ld-other" + d[i + 9:])
	EOF
	chmod +x "$BATS_TEST_TMPDIR/other"
	run --separate-stderr musl_wrap -- "$BATS_TEST_TMPDIR/other" -t "$BATS_TEST_TMPDIR/ran" noop
	[ "$status" -eq 125 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == *"is neither glibc's nor musl's"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}
