#!/usr/bin/env bats
# What a new user trips on: nothing fails silently (files that
# cannot be written, a library that does not load, a name one letter off),
# the command's conventions (abbreviations, bundled short options, -q),
# --print-env for a unit file or an image, and `portshim status PID`.

load helper
load ../helpers/cli

@test "a log or summary file that cannot be written: one line each per process, the program runs" {
	log=$BATS_TEST_TMPDIR/nodir/ev.jsonl stats=$BATS_TEST_TMPDIR/nodir/stats
	run --separate-stderr shim PORTSHIM_LOG="$log" PORTSHIM_STATS="$stats" "$PROBE" -n 3 bind0
	echo "status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 3 ] # the program's own output: its three ports
	[ "$stderr" = "portshim: PORTSHIM_LOG='$log': not written: cannot open: ENOENT; the program runs on without it
portshim: PORTSHIM_STATS='$stats': not written: cannot open: ENOENT; the program runs on without it" ]
	# --check says the same, and fails.
	run --separate-stderr wrap --log "$log" --check
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[[ $stderr == "portshim: PORTSHIM_LOG='$log': not written: cannot open: ENOENT"* ]]
}

@test "the summary line: 1 decision, 2 decisions" {
	stats=$BATS_TEST_TMPDIR/stats
	run shim PORTSHIM_BIND=odd PORTSHIM_STATS="$stats" "$PROBE" -n 1 bind0
	[ "$status" -eq 0 ]
	grep -qE '^portshim: pid [0-9]+: 1 decision: ok 1, ' "$stats"
	run shim PORTSHIM_BIND=odd PORTSHIM_STATS="$stats.2" "$PROBE" -n 2 bind0
	grep -qE '^portshim: pid [0-9]+: 2 decisions: ok 2, ' "$stats.2"
}

@test "--check asks the dynamic linker: a file that is not a library fails, with its words" {
	run --separate-stderr wrap --library /etc/hostname --check
	echo "status $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[[ $stderr == "portshim: /etc/hostname: the dynamic linker would not load it: "*"cannot be preloaded"* ]]
	# The same for the command's own loader.
	run --separate-stderr wrap --library /etc/hostname --check -- "$PROBE" noop
	[ "$status" -eq 125 ]
	# The real library loads.
	run --separate-stderr wrap --check -- "$PROBE" noop
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
}

@test "a name one edit off: did you mean, from the library and from the command" {
	run --separate-stderr noshim LD_PRELOAD="$(shim_preload)" PORTSHIM_CONECT=odd true
	[ "$status" -eq 125 ]
	[ "$stderr" = "portshim: PORTSHIM_CONECT: unknown setting; did you mean PORTSHIM_CONNECT?" ]
	run --separate-stderr wrap PORTSHIM_STRATEGIE=reuse -- true
	[ "$status" -eq 125 ]
	[ "$stderr" = "portshim: PORTSHIM_STRATEGIE: unknown setting; did you mean PORTSHIM_STRATEGY?" ]
	# A helper's name far from every setting is still refused, with the list.
	run --separate-stderr noshim LD_PRELOAD="$(shim_preload)" PORTSHIM_LIB=/x true
	[ "$status" -eq 125 ]
	[[ $stderr == "portshim: PORTSHIM_LIB: unknown setting; known: PORTSHIM_PARITY, "* ]]
}

@test "options: unambiguous abbreviations, bundled short options, -q" {
	run --separate-stderr wrap --conn odd --che
	[ "$status" -eq 0 ]
	grep -E '^connect +odd +flag --connect$' <<<"$output"
	run --separate-stderr wrap --r 40000-40009 --check
	[ "$status" -eq 125 ]
	[ "$stderr" = "portshim: ambiguous option '--r': --range, --reserved, --rule (see portshim --help)" ]
	run wrap -qV
	[ "$status" -eq 0 ]
	[[ $output =~ ^portshim\ [0-9.]+$ ]]
	run --separate-stderr wrap -x
	[ "$status" -eq 125 ]
	[ "$stderr" = "portshim: unknown option '-x' (see portshim --help)" ]
	# -q silences the command's warnings, and only those.
	run --separate-stderr wrap --seed 1 --order sequential --check
	[[ $stderr == "portshim: warning: a seed does nothing with order = sequential"* ]]
	run --separate-stderr wrap -q --seed 1 --order sequential --check
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run --separate-stderr wrap -q --connect evn -- true
	[ "$status" -eq 125 ] && [ -n "$stderr" ]
}

@test "--print-env: the validated settings for a shell, a systemd unit, a Dockerfile" {
	lib=$(realpath "$PSTEST_LIB")
	run --separate-stderr wrap PORTSHIM_RANGE=40000-40999 --print-env --connect odd \
		--rule '10.0.0.0/8=any' --rule '*:53=even'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "export PORTSHIM_CONNECT='odd'
export PORTSHIM_RANGE='40000-40999'
export PORTSHIM_RULES='10.0.0.0/8=any; *:53=even'
export LD_PRELOAD='$lib'" ]
	# What it prints, a shell takes back: the same configuration.
	run bash -c "$output; printf '%s\n' \"\$PORTSHIM_RULES\""
	[ "$output" = "10.0.0.0/8=any; *:53=even" ]
	run wrap --print-env --format systemd --log "/var/log/a b%\"c"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'Environment="PORTSHIM_LOG=/var/log/a b%%\"c"' ]
	[ "${lines[1]}" = "Environment=\"LD_PRELOAD=$lib\"" ]
	run wrap --print-env --format docker --seed 7 --stats 'x$y'
	[ "${lines[0]}" = 'ENV PORTSHIM_SEED="7"' ]
	[[ ${lines[1]} == 'ENV PORTSHIM_STATS="/'*'/x\$y"' ]]
	# Nothing invalid is printed.
	run --separate-stderr wrap --print-env --connect evn
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	run --separate-stderr wrap --print-env --format yaml
	[ "$status" -eq 125 ]
	[ "$stderr" = "portshim: --format='yaml': expected shell, systemd or docker" ]
}

@test "portshim status PID: loaded or not, its settings, since when, its decisions" {
	start_server tcp 127.0.0.1 5000
	log=$BATS_TEST_TMPDIR/ev.jsonl pidfile=$BATS_TEST_TMPDIR/pid
	in_ns_background "$BATS_TEST_TMPDIR/client.out" $(cli_preload) "$PSTEST_CLI" \
		--connect odd --log "$log" -- "$PYTHON" -c '
import os, socket, sys, time
held = [socket.create_connection(("127.0.0.1", 5000)) for _ in range(3)]
open(sys.argv[1] + ".tmp", "w").write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)' "$pidfile"
	for _ in $(seq 200); do [ -s "$pidfile" ] && break; sleep 0.05; done
	pid=$(cat "$pidfile")
	run "$PSTEST_CLI" status "$pid"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "pid $pid: the shim is loaded: "*/libportshim*.so ]]
	grep -E "^started +$(date -u +%Y-%m-%d)T[0-9:]+Z\$" <<<"$output" ||
		grep -E "^started +[0-9-]+T[0-9:]+Z\$" <<<"$output"
	grep -E '^settings +PORTSHIM_CONNECT=odd$' <<<"$output"
	grep -E "^ +PORTSHIM_LOG=$log\$" <<<"$output"
	grep -E "^decisions +3 in $log\$" <<<"$output"
	# A process without the shim.
	run "$PSTEST_CLI" status $$
	[ "$status" -eq 1 ]
	[ "$output" = "pid $$: the shim is not loaded (no libportshim in /proc/$$/maps)" ]
	run --separate-stderr "$PSTEST_CLI" status nope
	[ "$status" -eq 125 ]
	[ "$stderr" = "portshim: usage: portshim status [PID]" ]
}

@test "--check's table keeps its columns with long rule lists" {
	run wrap --rule '10.0.0.0/8:443=odd' --rule '*:53=even' --rule '[2001:db8::]/32=any' --check
	echo "$output"
	[ "$status" -eq 0 ]
	col=$(grep -E '^setting ' <<<"$output" | grep -bo 'from' | cut -d: -f1)
	row=$(grep -E '^rules ' <<<"$output")
	[ "$row" = "$(printf '%-12s %-32s %s' rules '10.0.0.0/8:443=odd; *:53=even;' 'flag --rule')" ]
	[ "$(grep -bo 'flag --rule' <<<"$row" | cut -d: -f1)" -eq "$col" ]
	grep -A1 -E '^rules ' <<<"$output" | tail -n 1 | grep -qxE ' {13}\[2001:db8::\]/32=any'
}

@test "a dynamic program that execs a static one: one warning line naming it; a dynamic one: none" {
	local static=$PSTEST_HELPERS/../static/portprobe
	[ -x "$static" ] || { echo "no static test program at $static (make builds it)"; false; }
	run --separate-stderr shim PORTSHIM_CONNECT=odd sh -c 'exec "$1" noop' sh "$static"
	echo "status $status, stderr '$stderr'"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ]
	[[ $stderr == "portshim: warning: $static is a static executable: the shim cannot follow it there"* ]]
	# The same exec of a dynamic program says nothing.
	run --separate-stderr shim PORTSHIM_CONNECT=odd sh -c 'exec "$1" noop' sh "$PROBE"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "--strict and exec-static = refuse: a program that execs a static one ends there, status 125, one line" {
	local static=$PSTEST_HELPERS/../static/portprobe
	[ -x "$static" ] || { echo "no static test program at $static (make builds it)"; false; }
	printf '#!/bin/sh\nexec "$1" noop\n' >"$BATS_TEST_TMPDIR/wrapper.sh"
	chmod +x "$BATS_TEST_TMPDIR/wrapper.sh"
	# The command cannot see past the script: the library refuses the exec.
	run --separate-stderr wrap --strict --connect odd -- "$BATS_TEST_TMPDIR/wrapper.sh" "$static"
	echo "status $status, stderr '$stderr'"
	[ "$status" -eq 125 ]
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ]
	[[ $stderr == "portshim: $static is a static executable: "*"; exec-static = refuse: it was not run" ]]
	# The setting alone, under the library.
	run --separate-stderr shim PORTSHIM_EXEC_STATIC=refuse sh -c 'exec "$1" noop' sh "$static"
	[ "$status" -eq 125 ]
	[[ $stderr == *"exec-static = refuse: it was not run" ]]
	# Without either, the script runs its static child (with a warning).
	run --separate-stderr wrap --connect odd -- "$BATS_TEST_TMPDIR/wrapper.sh" "$static"
	[ "$status" -eq 0 ]
	[[ $stderr == "portshim: warning: $static is a static executable"* ]]
	# And --strict leaves a dynamic child alone.
	run --separate-stderr wrap --strict --connect odd -- "$BATS_TEST_TMPDIR/wrapper.sh" "$PROBE"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
}
