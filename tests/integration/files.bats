#!/usr/bin/env bats
# sanitizers: tsan
# Files the shim opens by a path it was given, as root:
# a log or summary file is never followed through a symbolic link, nor
# written when another user owns it (one warning, the program runs on, the
# file left byte for byte); a config file must be a regular file, and a
# privileged process reads only one that passes OpenSSH's StrictModes
# checks (else exit 125 before main()); PORTSHIM_LOG=stderr never reaches a
# socket a daemon got as fd 2.

load helper
load ../helpers/cli

FDLIFE=$PSTEST_HELPERS/fdlife

setup() {
	common_setup
	[ "$(id -u)" = 0 ] || {
		[ "${PSTEST_STRICT:-0}" != 1 ] || { echo "these tests need root" >&2; return 1; }
		skip "needs root (files owned by another user)"
	}
	# A directory only root can write to, as /etc/portshim would be.
	T=$BATS_TEST_TMPDIR/files
	mkdir -m 0755 "$T"
}

# bind0 [NAME=VALUE...]: one bind(0) under the shim (a decision, so one log
# line and a summary), with these settings; its port must be odd.
bind0() {
	run --separate-stderr shim PORTSHIM_BIND=odd "$@" "$PROBE" bind0
	echo "status $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 0 ]
	assert_ports odd "$output"
}

# untouched FILE COPY: FILE has COPY's bytes, and its owner and mode.
untouched() {
	cmp "$1" "$2"
	[ "$(stat -c '%u %a' "$1")" = "$(stat -c '%u %a' "$2")" ]
}

@test "a log and a summary file another user created are left untouched: one warning each, the program runs on" {
	printf 'planted by nobody\n' >"$T/ev.jsonl"
	chown nobody "$T/ev.jsonl"
	chmod 0666 "$T/ev.jsonl"
	cp -p "$T/ev.jsonl" "$T/copy"
	bind0 PORTSHIM_LOG="$T/ev.jsonl" PORTSHIM_STATS="$T/ev.jsonl"
	untouched "$T/ev.jsonl" "$T/copy"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 2 ]
	grep -qxF "portshim: PORTSHIM_LOG='$T/ev.jsonl': not written: owned by uid $(id -u nobody), neither this process's effective uid 0 nor root; the program runs on without it" <<<"$stderr"
	grep -q "^portshim: PORTSHIM_STATS='$T/ev.jsonl': not written: owned by uid " <<<"$stderr"
	# The control: once root owns it, the same run appends both lines.
	chown root "$T/ev.jsonl"
	bind0 PORTSHIM_LOG="$T/ev.jsonl" PORTSHIM_STATS="$T/ev.jsonl"
	[ -z "$stderr" ]
	[ "$(wc -l <"$T/ev.jsonl")" -eq 3 ]
	grep -q '"call":"bind".*"result":"ok"' "$T/ev.jsonl"
}

@test "a symbolic link as the log path is never followed, dangling or not" {
	printf 'root only\n' >"$T/target"
	chmod 0600 "$T/target"
	cp -p "$T/target" "$T/copy"
	ln -s "$T/target" "$T/ev.jsonl"
	ln -s "$T/absent" "$T/stats"
	bind0 PORTSHIM_LOG="$T/ev.jsonl" PORTSHIM_STATS="$T/stats"
	untouched "$T/target" "$T/copy"
	[ ! -e "$T/absent" ]
	[ -L "$T/ev.jsonl" ]
	[ -L "$T/stats" ]
	grep -qxF "portshim: PORTSHIM_LOG='$T/ev.jsonl': not written: a symbolic link (never followed); the program runs on without it" <<<"$stderr"
	grep -qxF "portshim: PORTSHIM_STATS='$T/stats': not written: a symbolic link (never followed); the program runs on without it" <<<"$stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 2 ]
}

@test "a directory or a FIFO as the log path: refused, and the program does not hang" {
	mkfifo "$T/fifo"
	mkdir "$T/dir"
	NS_TIMEOUT=20 bind0 PORTSHIM_LOG="$T/fifo" PORTSHIM_STATS="$T/dir"
	grep -qF "PORTSHIM_LOG='$T/fifo': not written: cannot open: ENXIO" <<<"$stderr"
	grep -qF "PORTSHIM_STATS='$T/dir': not written: cannot open: EISDIR" <<<"$stderr"
}

@test "a new log file is created 0600, whatever the umask lets through" {
	bind0 PORTSHIM_LOG="$T/new.jsonl"
	[ -z "$stderr" ]
	[ "$(stat -c '%u %a' "$T/new.jsonl")" = "0 600" ]
	[ "$(wc -l <"$T/new.jsonl")" -eq 1 ]
}

# The file's line is a bad value: once the file is accepted, the error
# becomes the parser's, which shows the file is read only then.
PARSED="1: connect='evn': expected "

@test "as root, a config file others can write, or another user owns, is refused before it is read" {
	conf=$T/p.conf
	printf 'connect = evn\n' >"$conf"
	chmod 0666 "$conf"
	rejected shim PORTSHIM_CONFIG="$conf"
	[ "$line" = "portshim: PORTSHIM_CONFIG='$conf': it is writable by group or others (mode 0666); a privileged process (euid 0) reads only a regular file owned by root or uid 0, not writable by group or others, in directories only they can write to" ]
	chmod 0620 "$conf"
	rejected shim PORTSHIM_CONFIG="$conf"
	[[ $line == *"it is writable by group or others (mode 0620)"* ]]
	chmod 0644 "$conf"
	chown nobody "$conf"
	rejected shim PORTSHIM_CONFIG="$conf"
	[[ $line == *"': it is owned by uid $(id -u nobody); "* ]]
	chown root "$conf"
	rejected shim PORTSHIM_CONFIG="$conf"
	[[ $line == "portshim: $conf:$PARSED"* ]]
}

@test "as root, a config file in a directory others can write to is refused, sticky or not, or behind a link there" {
	mkdir -m 0777 "$T/ww"
	printf 'connect = evn\n' >"$T/ww/p.conf"
	rejected shim PORTSHIM_CONFIG="$T/ww/p.conf"
	[[ $line == "portshim: PORTSHIM_CONFIG='$T/ww/p.conf': its directory $T/ww is writable by group or others (mode 0777); "* ]]
	chmod 1777 "$T/ww"
	rejected shim PORTSHIM_CONFIG="$T/ww/p.conf"
	[[ $line == *"its directory $T/ww is writable by group or others (mode 1777); "* ]]
	# A link in that directory to a good file: whoever writes there could
	# point it anywhere.
	printf 'connect = evn\n' >"$T/good.conf"
	ln -s "$T/good.conf" "$T/ww/link.conf"
	rejected shim PORTSHIM_CONFIG="$T/ww/link.conf"
	[[ $line == *"its directory $T/ww is writable by group or others (mode 1777); "* ]]
	# A directory further up: only a sticky one is tolerated.
	mkdir -m 0777 "$T/up" && mkdir -m 0755 "$T/up/etc"
	printf 'connect = evn\n' >"$T/up/etc/p.conf"
	rejected shim PORTSHIM_CONFIG="$T/up/etc/p.conf"
	[[ $line == *"$T/up, a directory above it is writable by group or others (mode 0777); "* ]]
	chmod 1777 "$T/up"
	rejected shim PORTSHIM_CONFIG="$T/up/etc/p.conf"
	[[ $line == "portshim: $T/up/etc/p.conf:$PARSED"* ]]
	chmod 0755 "$T/ww"
	rejected shim PORTSHIM_CONFIG="$T/ww/p.conf"
	[[ $line == "portshim: $T/ww/p.conf:$PARSED"* ]]
}

@test "a process without privileges is not held to those checks" {
	require_cmd setpriv
	# Reachable by nobody: a directory of its own, writable by all.
	dir=$(mktemp -d /tmp/portshim-files.XXXXXX)
	chmod 0777 "$dir"
	printf 'connect = evn\n' >"$dir/p.conf"
	chmod 0666 "$dir/p.conf"
	# What nobody runs comes from there too: the checkout may be where
	# only root can enter (a clone in root's home).
	local preload
	preload=$(reachable_copies "$dir" "$(shim_preload)")
	install -m 0755 "$PROBE" "$dir/portprobe"
	run --separate-stderr in_ns setpriv --reuid nobody --regid nogroup --clear-groups \
		env "${SCRUB[@]}" LD_PRELOAD="$preload" PORTSHIM_CONFIG="$dir/p.conf" \
		"$dir/portprobe" -t "$dir/ran" noop
	rm -rf "$dir"
	echo "status $status, stderr '$stderr'"
	[ "$status" -eq 125 ]
	[[ $stderr == "portshim: $dir/p.conf:$PARSED"* ]]
}

@test "a config that is not a regular file: directory, FIFO with no writer, pipe, device, unreadable; exit 125, no hang" {
	mkfifo "$T/fifo"
	NS_TIMEOUT=20 rejected shim PORTSHIM_CONFIG="$T/fifo"
	[ "$line" = "portshim: PORTSHIM_CONFIG='$T/fifo': a FIFO or pipe; expected a regular file" ]
	rejected shim PORTSHIM_CONFIG="$T"
	[ "$line" = "portshim: PORTSHIM_CONFIG='$T': a directory; expected a regular file" ]
	rejected shim PORTSHIM_CONFIG=/dev/null
	[ "$line" = "portshim: PORTSHIM_CONFIG='/dev/null': a character device; expected a regular file" ]
	# A pipe: the first process would have consumed it for its children.
	rejected shim PORTSHIM_CONFIG=/dev/stdin < <(printf 'connect = odd\n')
	[ "$line" = "portshim: PORTSHIM_CONFIG='/dev/stdin': a FIFO or pipe; expected a regular file" ]
	# A read that fails is not the end of the file: /proc/self/mem is a
	# regular file whose first page cannot be read (EIO).
	rejected shim PORTSHIM_CONFIG=/proc/self/mem
	[ "$line" = "portshim: PORTSHIM_CONFIG='/proc/self/mem': cannot read: Input/output error" ]
}

# check_refused ARGS...: `portshim --check ARGS...` (or running a command)
# exits 125 with one line on stderr (in $line), nothing on stdout.
check_refused() {
	run --separate-stderr wrap "$@"
	echo "status $status, stdout '$output', stderr '$stderr'"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	line=$stderr
}

@test "portshim --check and --config refuse the same config files, and warn about the same log files" {
	mkfifo "$T/fifo"
	NS_TIMEOUT=20 check_refused --check --config "$T/fifo"
	[ "$line" = "portshim: --config='$T/fifo': a FIFO or pipe; expected a regular file" ]
	NS_TIMEOUT=20 check_refused --config "$T/fifo" -- "$PROBE" noop
	[[ $line == "portshim: --config='$T/fifo': a FIFO or pipe"* ]]
	NS_TIMEOUT=20 check_refused PORTSHIM_CONFIG="$T/fifo" --check
	[ "$line" = "portshim: PORTSHIM_CONFIG='$T/fifo': a FIFO or pipe; expected a regular file" ]
	check_refused --check --config "$T"
	[[ $line == "portshim: --config='$T': a directory; expected a regular file" ]]
	printf 'connect = odd\n' >"$T/p.conf"
	chmod 0666 "$T/p.conf"
	check_refused --check --config "$T/p.conf"
	[[ $line == "portshim: --config='$T/p.conf': it is writable by group or others (mode 0666); "* ]]
	check_refused PORTSHIM_CONFIG="$T/p.conf" --check
	[[ $line == "portshim: PORTSHIM_CONFIG='$T/p.conf': it is writable by group or others"* ]]
	mkdir -m 1777 "$T/ww" && printf 'connect = odd\n' >"$T/ww/p.conf"
	check_refused --check --config "$T/ww/p.conf"
	[[ $line == *"its directory $T/ww is writable by group or others (mode 1777); "* ]]

	# Log files: the library would warn and run on without them, so
	# --check gives the library's warning for each and fails (nothing
	# said is silently lost); it creates and writes nothing.
	chmod 0644 "$T/p.conf"
	printf 'planted\n' >"$T/ev.jsonl"
	chown nobody "$T/ev.jsonl"
	cp -p "$T/ev.jsonl" "$T/copy"
	ln -s "$T/absent" "$T/stats"
	run --separate-stderr wrap --check --config "$T/p.conf" --log "$T/ev.jsonl" --stats "$T/stats"
	echo "status $status, stderr '$stderr'"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "$(wc -l <<<"$stderr")" -eq 2 ]
	grep -q "^portshim: PORTSHIM_LOG='$T/ev.jsonl': not written: owned by uid " <<<"$stderr"
	grep -qxF "portshim: PORTSHIM_STATS='$T/stats': not written: a symbolic link (never followed); the program runs on without it" <<<"$stderr"
	untouched "$T/ev.jsonl" "$T/copy"
	[ ! -e "$T/absent" ]
	# A log that does not exist yet is fine, and --check does not create it.
	run --separate-stderr wrap --check --config "$T/p.conf" --log "$T/later.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ ! -e "$T/later.jsonl" ]
	grep -qE "^connect +odd +file $T/p.conf\$" <<<"$output"
	# One that could not be created: in a directory that is not there, or
	# under a file.
	run --separate-stderr wrap --check --log "$T/nodir/ev.jsonl"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "$stderr" = "portshim: PORTSHIM_LOG='$T/nodir/ev.jsonl': not written: cannot open: ENOENT; the program runs on without it" ]
	[ ! -e "$T/nodir" ]
	run --separate-stderr wrap --check --stats "$T/p.conf/s"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "$stderr" = "portshim: PORTSHIM_STATS='$T/p.conf/s': not written: cannot open: ENOTDIR; the program runs on without it" ]
}

@test "PORTSHIM_LOG=stderr: a daemon that closed fd 2 and got a socket there receives no line" {
	# The control: with fd 2 as it was at start, the lines do reach it.
	bind0 PORTSHIM_LOG=stderr PORTSHIM_STATS=stderr
	grep -q '^{"time":.*"call":"bind"' <<<"$stderr"
	grep -q '^portshim: pid [0-9]*: 1 decision: ok 1' <<<"$stderr"
	# The child's connect is a decision, logged and counted; the socket it
	# got as fd 2 must receive nothing of it.
	run shim PORTSHIM_LOG=stderr PORTSHIM_STATS=stderr "$FDLIFE" daemon 5000
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "child=ECONNREFUSED bytes=0" ]
}
