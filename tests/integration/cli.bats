#!/usr/bin/env bats
# The portshim command: every flag reaches the program (the ports it gets),
# flags beat the environment and the file, --check, bad flags, exit codes,
# LD_PRELOAD, the installed command, and the warning for programs the shim
# cannot reach.

load helper
load ../helpers/cli

# The ports a probe got, checked against what the server on 5000 saw.
probe_wrapped() {
	: >"$(server_log 5000)"
	run wrap "$@"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5000)"
	mapfile -t ports <<<"$output"
}

@test "--help names every setting of the library as a flag, and --version" {
	run "$PSTEST_CLI" --help
	[ "$status" -eq 0 ]
	help=$output
	# The library lists its settings when it rejects an unknown name.
	run --separate-stderr noshim LD_PRELOAD="$(shim_preload)" PORTSHIM_NO_SUCH=1 true
	[ "$status" -eq 125 ]
	vars=$(grep -o 'PORTSHIM_[A-Z_]*' <<<"$stderr" | grep -v NO_SUCH | sort -u)
	[ "$(wc -l <<<"$vars")" -ge 13 ]
	for var in $vars; do
		flag=$(tr 'A-Z_' 'a-z-' <<<"${var#PORTSHIM_}")
		[ "$flag" = rules ] && flag=rule
		grep -q -- "--$flag " <<<"$help" || { echo "--$flag ($var) missing from --help"; return 1; }
	done
	run "$PSTEST_CLI" --version
	[ "$status" -eq 0 ]
	[[ $output =~ ^portshim\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "the man page documents every flag of --help, every variable, and the same version" {
	man=$REPO_ROOT/shim/cli/portshim.1
	run "$PSTEST_CLI" --help
	flags=$(grep -oE -- '--[a-z][a-z-]*' <<<"$output" | sort -u)
	[ "$(wc -l <<<"$flags")" -ge 17 ]
	for flag in $flags; do
		# roff writes a dash as \-
		grep -qF -- "${flag//-/\\-}" "$man" || { echo "$flag missing from portshim.1"; return 1; }
	done
	run --separate-stderr noshim LD_PRELOAD="$(shim_preload)" PORTSHIM_NO_SUCH=1 true
	for var in $(grep -o 'PORTSHIM_[A-Z_]*' <<<"$stderr" | grep -v NO_SUCH | sort -u); do
		grep -q "^\.B $var\$" "$man" || { echo "$var missing from ENVIRONMENT in portshim.1"; return 1; }
	done
	version=$("$PSTEST_CLI" --version)
	grep -q "^\.TH PORTSHIM 1 .* \"$version\"" "$man"
	# Every exit status --help gives is in the man page too.
	for code in 125 126 127; do grep -q "^\.B $code\$" "$man"; done
}

@test "--connect even, odd, any and N:K: the ports the program got" {
	start_server tcp 127.0.0.1 5000
	probe_wrapped --connect even -- "$PROBE" -n 12 connect 127.0.0.1 5000
	assert_ports even "${ports[@]}"
	probe_wrapped --connect odd -- "$PROBE" -n 12 connect 127.0.0.1 5000
	assert_ports odd "${ports[@]}"
	probe_wrapped --connect=4:3 -- "$PROBE" -n 12 connect 127.0.0.1 5000
	assert_ports 4:3 "${ports[@]}"
	probe_wrapped --connect any -- "$PROBE" -n 40 connect 127.0.0.1 5000
	even=$(count_even "${ports[@]}")
	# Both parities (40 draws: both missing has probability 2^-39).
	[ "$even" -gt 0 ] && [ "$even" -lt 40 ]
}

@test "--bind and --parity: bind(0) gets the policy's ports" {
	run wrap --bind odd -- "$PROBE" -n 10 bind0
	[ "$status" -eq 0 ]
	assert_ports odd $(output_ports)
	run wrap --parity even -- "$PROBE" -n 10 bind0
	[ "$status" -eq 0 ]
	assert_ports even $(output_ports)
	start_server tcp 127.0.0.1 5000
	probe_wrapped --parity odd -- "$PROBE" -n 10 connect 127.0.0.1 5000
	assert_ports odd "${ports[@]}"
}

@test "--range, --reserved and --order sequential" {
	start_server tcp 127.0.0.1 5000
	probe_wrapped --connect even --range 41000-41099 -- "$PROBE" -n 10 connect 127.0.0.1 5000
	assert_ports 41000-41099 "${ports[@]}"
	assert_ports even "${ports[@]}"
	probe_wrapped --connect any --range 41000-41009 --reserved 41000-41007 -- \
		"$PROBE" -k -1 -n 2 connect 127.0.0.1 5000
	[ "$(printf '%s\n' "${ports[@]}" | sort | tr '\n' ' ')" = "41008 41009 " ]
	probe_wrapped --connect odd --order sequential --range 41000-41999 -- \
		"$PROBE" -k -1 -n 3 connect 127.0.0.1 5000
	[ "${ports[*]}" = "41001 41003 41005" ]
}

@test "--seed: the same seed gives the same ports" {
	start_server tcp 127.0.0.1 5000
	probe_wrapped --seed 1234 --range 42000-49999 -- "$PROBE" -k -1 -n 6 connect 127.0.0.1 5000
	first=("${ports[@]}")
	probe_wrapped --seed 1234 --range 42000-49999 -- "$PROBE" -k -1 -n 6 connect 127.0.0.1 5000
	[ "${ports[*]}" = "${first[*]}" ]
	probe_wrapped --seed 99 --range 42000-49999 -- "$PROBE" -k -1 -n 6 connect 127.0.0.1 5000
	[ "${ports[*]}" != "${first[*]}" ]
}

@test "--rule (repeated) gives destinations their own policy" {
	start_server tcp 127.0.0.1 5000
	start_server tcp 127.0.0.1 5001
	run wrap --connect even --rule '127.0.0.1:5001=odd' --rule '10.0.0.0/8=3:1' -- \
		"$PROBE" -n 8 connect 127.0.0.1 5001
	[ "$status" -eq 0 ]
	assert_ports odd $(output_ports)
	run wrap --connect even --rule '127.0.0.1:5001=odd' -- "$PROBE" -n 8 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports even $(output_ports)
	run wrap --rule '127.0.0.1:5001=odd' --rule '*=4:2' --check
	[ "$status" -eq 0 ]
	grep -E '^rules +127\.0\.0\.1/32:5001=odd; \*=4:2 +flag --rule$' <<<"$output"
}

@test "--strategy, --on-exhaust, --log and --stats" {
	start_server tcp 127.0.0.1 5000
	log=$BATS_TEST_TMPDIR/ev.jsonl stats=$BATS_TEST_TMPDIR/stats
	# One even port in the range: the second connect has none left.
	run wrap --connect even --range 43000-43001 --strategy exclusive --log "$log" \
		--stats "$stats" -- "$PROBE" -k -1 -n 2 connect 127.0.0.1 5000
	[ "$status" -eq 1 ]
	[ "$(output_ports)" = 43000 ]
	[[ $output == *EADDRNOTAVAIL* ]]
	[ "$(wc -l <"$log")" -eq 2 ]
	grep -q '"strategy":"exclusive","port":43000,"parity":"even","attempts":1,"result":"ok"' "$log"
	grep -q '"result":"exhausted"' "$log"
	grep -q ': 2 decisions: ok 1, fallback 0, exhausted 1' "$stats"
	# on-exhaust kernel: the kernel picks the second port instead.
	run wrap --connect even --range 43000-43001 --on-exhaust kernel --log "$log.2" -- \
		"$PROBE" -k -1 -n 2 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	grep -q '"result":"fallback"' "$log.2"
}

@test "--config: the file applies, and flags and the environment beat it" {
	start_server tcp 127.0.0.1 5000
	conf=$BATS_TEST_TMPDIR/p.conf
	printf 'connect = odd\nrange = 44000-44999\n' >"$conf"
	probe_wrapped --config "$conf" -- "$PROBE" -n 6 connect 127.0.0.1 5000
	assert_ports odd "${ports[@]}"
	assert_ports 44000-44999 "${ports[@]}"
	probe_wrapped --config "$conf" --connect even -- "$PROBE" -n 6 connect 127.0.0.1 5000
	assert_ports even "${ports[@]}"
	assert_ports 44000-44999 "${ports[@]}"
	probe_wrapped PORTSHIM_CONNECT=even --config "$conf" -- "$PROBE" -n 6 connect 127.0.0.1 5000
	assert_ports even "${ports[@]}"
}

@test "a flag beats the environment (--parity beats PORTSHIM_CONNECT too)" {
	start_server tcp 127.0.0.1 5000
	probe_wrapped PORTSHIM_CONNECT=even --connect odd -- "$PROBE" -n 8 connect 127.0.0.1 5000
	assert_ports odd "${ports[@]}"
	probe_wrapped PORTSHIM_CONNECT=even PORTSHIM_RANGE=45000-45999 --parity odd -- \
		"$PROBE" -n 8 connect 127.0.0.1 5000
	assert_ports odd "${ports[@]}"
	assert_ports 45000-45999 "${ports[@]}"
	# Without the flag the environment applies.
	probe_wrapped PORTSHIM_CONNECT=even -- "$PROBE" -n 8 connect 127.0.0.1 5000
	assert_ports even "${ports[@]}"
}

@test "--check prints each setting, its value and its source, and runs nothing" {
	ns_range 40000 40999
	conf=$BATS_TEST_TMPDIR/c.conf
	printf 'order = sequential\nrule = 10.0.0.0/8:443=odd\n' >"$conf"
	marker=$BATS_TEST_TMPDIR/ran
	run --separate-stderr wrap PORTSHIM_ON_EXHAUST=kernel PORTSHIM_CONFIG="$conf" --parity odd \
		--seed 7 --check -- "$PROBE" -t "$marker" noop
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$marker" ]
	# The seed does nothing with the file's order = sequential: said once.
	[ "$stderr" = "portshim: warning: a seed does nothing with order = sequential, which walks upwards from the lowest allowed port" ]
	[ "${lines[0]}" = "portshim: the configuration is valid" ]
	grep -E '^parity +odd +flag --parity$' <<<"$output"
	grep -E '^connect +odd +flag --parity$' <<<"$output"
	grep -E '^bind +odd +flag --parity$' <<<"$output"
	grep -E '^seed +7 +flag --seed$' <<<"$output"
	grep -E '^on-exhaust +kernel +env PORTSHIM_ON_EXHAUST$' <<<"$output"
	grep -E "^order +sequential +file $conf\$" <<<"$output"
	grep -E "^rules +10\.0\.0\.0/8:443=odd +file $conf\$" <<<"$output"
	grep -E "^config +$conf +env PORTSHIM_CONFIG\$" <<<"$output"
	grep -E '^strategy +auto +default$' <<<"$output"
	# The namespace's range, and how many ports each policy can use.
	grep -E "^range +40000-40999 +default: the kernel's ip_local_port_range\$" <<<"$output"
	grep -E '^  connect +odd +500$' <<<"$output"
	grep -E '^  bind +odd +500$' <<<"$output"
	grep -E '^  rule 1 +10\.0\.0\.0/8:443=odd +500$' <<<"$output"
	grep -E "^LD_PRELOAD +.*$(basename "$PSTEST_LIB")" <<<"$output"
	grep -E "^command +$PROBE \(dynamically linked, glibc's loader /.*ld-linux.*\): the shim reaches it with .*$(basename "$PSTEST_LIB")\$" <<<"$output"
	# Every setting of the library has a line.
	[ "$(sed -n '/^setting/,/^library/p' <<<"$output" | wc -l)" -ge 15 ]
}

@test "--check shows each kind of value as the library resolved it: a list, a range, none given" {
	run --separate-stderr wrap PORTSHIM_RANGE=40000-40009 PORTSHIM_RESERVED=40001-40003,40007 \
		PORTSHIM_STRATEGY=exclusive PORTSHIM_CONNECT=odd --check -- "$PROBE" noop
	echo "$output"
	[ "$status" -eq 0 ]
	grep -E '^parity +- +default$' <<<"$output"
	grep -E '^connect +odd +env PORTSHIM_CONNECT$' <<<"$output"
	grep -E '^bind +off +default$' <<<"$output"
	grep -E '^range +40000-40009 +env PORTSHIM_RANGE$' <<<"$output"
	grep -E '^reserved +40001-40003,40007 +env PORTSHIM_RESERVED$' <<<"$output"
	grep -E '^order +random +default$' <<<"$output"
	grep -E '^seed +- \(each process draws one\) +default$' <<<"$output"
	grep -E '^strategy +exclusive +env PORTSHIM_STRATEGY$' <<<"$output"
	grep -E '^log +- +default$' <<<"$output"
	grep -E '^rules +- +default$' <<<"$output"
}

@test "a bad flag value: one line naming the flag, exit 125, the command not run" {
	rejected wrap --parity evn --
	[[ $line == "portshim: --parity='evn': expected even, odd, "* ]]
	rejected wrap --connect=5:7 --
	[[ $line == "portshim: --connect='5:7': expected "* ]]
	rejected wrap --range 60000-1000 --
	[[ $line == "portshim: --range='60000-1000': expected "* ]]
	rejected wrap --seed 12abc --
	[[ $line == "portshim: --seed='12abc': expected "* ]]
	rejected wrap --rule '10.0.0.0/33=odd' --
	[[ $line == "portshim: --rule='10.0.0.0/33=odd': "* ]]
	rejected wrap --on-exhaust retry --
	[[ $line == "portshim: --on-exhaust='retry': expected fail or kernel" ]]
	# A combination the library refuses is named by the flag as well.
	rejected wrap --connect 7:6 --range 40000-40002 --
	[[ $line == "portshim: --connect='7:6': no port in the range 40000-40002"* ]]
}

@test "bad usage and a bad environment or file: one line, exit 125, nothing run" {
	rejected wrap --parity --
	[[ $line == "portshim: --parity: missing value"* ]] || [[ $line == "portshim: --parity='--': "* ]]
	rejected wrap --frobnicate 1 --
	[ "$line" = "portshim: unknown option '--frobnicate' (see portshim --help)" ]
	rejected wrap PORTSHIM_ORDER=sideways --connect odd --
	[[ $line == "portshim: PORTSHIM_ORDER='sideways': expected random or sequential" ]]
	rejected wrap PORTSHIM_PARTIY=odd --
	[[ $line == "portshim: PORTSHIM_PARTIY: unknown setting"* ]]
	printf 'connect = evn\n' >"$BATS_TEST_TMPDIR/bad.conf"
	rejected wrap --config "$BATS_TEST_TMPDIR/bad.conf" --
	[[ $line == "portshim: $BATS_TEST_TMPDIR/bad.conf:1: connect='evn': expected "* ]]
	rejected wrap --config "$BATS_TEST_TMPDIR/missing.conf" --
	[[ $line == "portshim: --config='$BATS_TEST_TMPDIR/missing.conf': cannot open: "* ]]
	rejected wrap --library /nonexistent/libportshim.so --
	run --separate-stderr wrap --connect odd
	[ "$status" -eq 125 ]
	[[ $stderr == "portshim: no command given"* ]]
}

@test "exit status: 127 not found, 126 not executable, else the command's own" {
	run -127 --separate-stderr wrap -- no-such-command-here
	[ "$status" -eq 127 ]
	[ "$stderr" = "portshim: no-such-command-here: command not found" ]
	printf '#!/bin/sh\necho hi\n' >"$BATS_TEST_TMPDIR/noexec"
	chmod 0644 "$BATS_TEST_TMPDIR/noexec"
	run --separate-stderr wrap -- "$BATS_TEST_TMPDIR/noexec"
	[ "$status" -eq 126 ]
	run wrap -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	# Options end at the command: its own flags are its own.
	run wrap --connect odd sh -c 'echo "$0 $1 $PORTSHIM_CONNECT"' --parity even
	[ "$status" -eq 0 ]
	[ "$output" = "--parity even odd" ]
	# exec, no fork: the command's parent is not portshim, and a signal
	# that kills the command is its exit status.
	run wrap -- sh -c 'readlink /proc/$PPID/exe'
	[ "$status" -eq 0 ]
	[[ $output != */portshim ]]
	run wrap -- sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
}

@test "LD_PRELOAD: the library is put first, an existing entry stays and still loads" {
	require_cmd cc
	cat >"$BATS_TEST_TMPDIR/other.c" <<-'EOF'
	#include <fcntl.h>
	#include <stdlib.h>
	#include <unistd.h>
	__attribute__((constructor)) static void loaded(void)
	{
		const char *path = getenv("OTHER_MARKER");
		if (path)
			close(open(path, O_CREAT | O_WRONLY, 0644));
	}
	EOF
	cc -shared -fPIC -o "$BATS_TEST_TMPDIR/libother.so" "$BATS_TEST_TMPDIR/other.c"
	other=$BATS_TEST_TMPDIR/libother.so
	marker=$BATS_TEST_TMPDIR/other-loaded
	# (Under a sanitizer its runtime stays in front of everything.)
	san=$(sanitizer_preload)
	san=${san:+$san }
	run wrap LD_PRELOAD="$san$other" OTHER_MARKER="$marker" --connect odd -- \
		sh -c 'printf "%s\n" "$LD_PRELOAD"'
	[ "$status" -eq 0 ]
	lib=$(realpath "$PSTEST_LIB")
	[[ " $output " == *" $lib $other "* ]]
	[ -e "$marker" ]
	# Both take effect in one program.
	rm -f "$marker"
	start_server tcp 127.0.0.1 5000
	probe_wrapped LD_PRELOAD="$san$other" OTHER_MARKER="$marker" --connect odd -- \
		"$PROBE" -n 5 connect 127.0.0.1 5000
	assert_ports odd "${ports[@]}"
	[ -e "$marker" ]
	# The library named again is not doubled.
	run wrap LD_PRELOAD="$san$lib:$other" -- sh -c 'printf "%s\n" "$LD_PRELOAD"'
	[ "$status" -eq 0 ]
	[ "$(grep -o "$lib" <<<"$output" | wc -l)" -eq 1 ]
}

@test "--library names the library to preload; one LD_PRELOAD cannot hold is refused" {
	mkdir -p "$BATS_TEST_TMPDIR/lib" "$BATS_TEST_TMPDIR/with space"
	cp "$PSTEST_LIB" "$BATS_TEST_TMPDIR/lib/libportshim.so"
	run wrap --library "$BATS_TEST_TMPDIR/lib/libportshim.so" -- sh -c 'printf "%s\n" "$LD_PRELOAD"'
	[ "$status" -eq 0 ]
	[[ " $output " == *" $BATS_TEST_TMPDIR/lib/libportshim.so "* ]]
	cp "$PSTEST_LIB" "$BATS_TEST_TMPDIR/with space/libportshim.so"
	rejected wrap --library "$BATS_TEST_TMPDIR/with space/libportshim.so" --
	[[ $line == *"LD_PRELOAD cannot hold a path with a space or a colon"* ]]
	rejected wrap --library "$BATS_TEST_TMPDIR/lib/missing.so" --
	[ "$line" = "portshim: --library='$BATS_TEST_TMPDIR/lib/missing.so': not a readable file" ]
}

@test "after make install DESTDIR=... PREFIX=/usr the installed command finds its library" {
	require_cmd make
	dest=$BATS_TEST_TMPDIR/root
	# A build of its own: the suite's build tree is left as it is.
	make -s -j4 -C "$REPO_ROOT" install DESTDIR="$dest" PREFIX=/usr \
		BUILD="$BATS_TEST_TMPDIR/build" >/dev/null
	[ -x "$dest/usr/bin/portshim" ]
	[ -f "$dest/usr/lib/libportshim.so" ]
	[ -f "$dest/usr/share/man/man1/portshim.1" ]
	run in_ns env "${SCRUB[@]}" "$dest/usr/bin/portshim" --check
	[ "$status" -eq 0 ]
	grep -E "^library +$dest/usr/lib/libportshim.so\$" <<<"$output"
	start_server tcp 127.0.0.1 5000
	: >"$(server_log 5000)"
	# (python, not the probe: a sanitizer build's probe needs its runtime.)
	run in_ns env "${SCRUB[@]}" "$dest/usr/bin/portshim" --connect odd -- \
		"$PYTHON" "$PROGRAMS/pyclient.py" tcp 127.0.0.1 5000 6
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5000)"
	assert_ports odd $(output_ports)
	make -s -C "$REPO_ROOT" uninstall DESTDIR="$dest" PREFIX=/usr BUILD="$BATS_TEST_TMPDIR/build" >/dev/null
	[ ! -e "$dest/usr/bin/portshim" ] && [ ! -e "$dest/usr/lib/libportshim.so" ]
}

@test "a static executable runs under the seccomp backend; under --backend preload: a one-line warning, and --check and --strict fail" {
	require_cmd cc
	printf 'int main(void) { return 3; }\n' >"$BATS_TEST_TMPDIR/static.c"
	cc -static -o "$BATS_TEST_TMPDIR/static" "$BATS_TEST_TMPDIR/static.c" 2>/dev/null ||
		skip "cc -static does not work here (no static libc)"
	run --separate-stderr wrap --connect odd -- "$BATS_TEST_TMPDIR/static"
	[ "$status" -eq 3 ]
	[ -z "$stderr" ]
	run wrap --check -- "$BATS_TEST_TMPDIR/static"
	grep -E "^backend +seccomp: works here" <<<"$output"
	run --separate-stderr wrap --backend preload --connect odd -- "$BATS_TEST_TMPDIR/static"
	[ "$status" -eq 3 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == "portshim: warning: $BATS_TEST_TMPDIR/static is a static executable: the shim cannot reach it"* ]]
	run --separate-stderr wrap --backend preload -q --connect odd -- "$BATS_TEST_TMPDIR/static"
	[ "$status" -eq 3 ]
	[ -z "$stderr" ]
	run wrap --backend preload --check -- "$BATS_TEST_TMPDIR/static"
	[ "$status" -eq 125 ]
	grep -E "^command +warning: .*static is a static executable" <<<"$output"
	rejected wrap --backend preload --strict -- "$BATS_TEST_TMPDIR/static" --
	[[ $line == "portshim: $BATS_TEST_TMPDIR/static is a static executable: "*"; --strict: nothing was run" ]]
	# A script whose interpreter is static: the same.
	printf '#!%s\n' "$BATS_TEST_TMPDIR/static" >"$BATS_TEST_TMPDIR/script"
	chmod +x "$BATS_TEST_TMPDIR/script"
	rejected wrap --backend preload --strict -- "$BATS_TEST_TMPDIR/script" --
	[[ $line == *"/script is a static executable run by $BATS_TEST_TMPDIR/static: "* ]]
	# A dynamic program gets no warning.
	run --separate-stderr wrap --strict -- sh -c 'exit 0'
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
}

@test "a setuid program owned by someone else gets a warning" {
	[ "$(id -u)" = 0 ] || skip "needs root to make another user's setuid file"
	cp "$(type -P true)" "$BATS_TEST_TMPDIR/suid"
	chown nobody "$BATS_TEST_TMPDIR/suid"
	chmod 4755 "$BATS_TEST_TMPDIR/suid"
	run wrap --check -- "$BATS_TEST_TMPDIR/suid"
	[ "$status" -eq 125 ]
	grep -E "^command +warning: .*suid is setuid, setgid or has file capabilities: the dynamic linker ignores LD_PRELOAD" <<<"$output"
	run --separate-stderr wrap -- "$BATS_TEST_TMPDIR/suid"
	[ "$status" -eq 0 ]
	[[ $stderr == "portshim: warning: $BATS_TEST_TMPDIR/suid is setuid, "* ]]
	run --separate-stderr wrap --strict -- "$BATS_TEST_TMPDIR/suid"
	[ "$status" -eq 125 ]
	[[ $stderr == *"; --strict: nothing was run" ]]
}
