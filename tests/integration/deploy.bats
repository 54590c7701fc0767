#!/usr/bin/env bats
# Deployment: the library's symbol versions, the release
# tarball, and the container and systemd snippets of examples/ as written.

load helper
load ../helpers/cli

# The highest GLIBC_x.y a shared object's dynamic symbols ask for.
highest_glibc() {
	objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -uV | tail -n 1
}
# Is GLIBC_x.y at most GLIBC_2.17?
glibc_at_most_217() {
	[ "$(printf '%s\n%s\n' "$1" GLIBC_2.17 | sort -V | tail -n 1)" = GLIBC_2.17 ]
}

@test "the library asks for no symbol version above GLIBC_2.17, and names libdl and libpthread" {
	require_cmd objdump readelf
	# A sanitizer runtime asks for its own versions: under make asan, the
	# plain library of the same tree is the one to check.
	local lib=$PSTEST_LIB
	[ -z "${PSTEST_SANITIZER:-}" ] || lib=${PSTEST_PLAIN_LIB:?}
	run highest_glibc "$lib"
	echo "highest: $output"
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	glibc_at_most_217 "$output"
	# The comparison refuses what glibc 2.34 and 2.32 brought.
	! glibc_at_most_217 GLIBC_2.34 || false
	! glibc_at_most_217 GLIBC_2.32 || false
	glibc_at_most_217 GLIBC_2.2.5
	# Before glibc 2.34, dlsym and pthread_once live in these two.
	readelf -d "$lib" | grep -F '[libdl.so.2]'
	readelf -d "$lib" | grep -F '[libpthread.so.0]'
}

# The build stage of Dockerfile.portshim, as written: its tar and make
# lines, run against the tarball of `make dist` in a directory of its own.
@test "make dist: a versioned tarball that builds (as Dockerfile.portshim does) a working library" {
	local version dist src=$BATS_TEST_TMPDIR/src
	version=$(sed -n 's/^#define PORTSHIM_VERSION "\(.*\)"/\1/p' "$REPO_ROOT/shim/cli/cli.h")
	run make -s -C "$REPO_ROOT" BUILD="$BATS_TEST_TMPDIR/build" dist
	echo "$output"
	[ "$status" -eq 0 ]
	dist=$BATS_TEST_TMPDIR/build/portshim-$version.tar.gz
	[ -f "$dist" ]
	tar -tzf "$dist" | grep -qx "portshim-$version/Makefile"
	! tar -tzf "$dist" | grep -q "^portshim-$version/build/" || false
	# The Dockerfile's own commands, with /tmp and /src moved here.
	grep -q 'COPY --from=portshim-dist portshim-\*.tar.gz /tmp/' \
		"$REPO_ROOT/examples/container/Dockerfile.portshim"
	mkdir -p "$BATS_TEST_TMPDIR/tmp" && cp "$dist" "$BATS_TEST_TMPDIR/tmp/"
	local cmds
	cmds=$(sed -n '/^RUN mkdir -p \/src\/portshim/,/[^\\]$/p' \
		"$REPO_ROOT/examples/container/Dockerfile.portshim" |
		sed -e 's/^RUN //' -e "s|/tmp/|$BATS_TEST_TMPDIR/tmp/|g" -e "s|/src/portshim|$src|g")
	echo "$cmds"
	[[ $cmds == *"make -C $src build/libportshim.so build/portshim"* ]]
	# As in a fresh image: none of the suite's build settings (make asan
	# runs the suite with BUILD=build/asan).
	run env -u BUILD bash -ec "$cmds"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -x "$src/build/portshim" ]
	run "$src/build/portshim" --version
	[ "$output" = "portshim $version" ]
	start_server tcp 127.0.0.1 5000
	# A plain program for the plain library (under make asan the suite's
	# own are instrumented, and want their runtime first).
	local probe=$PROBE
	[ -z "${PSTEST_SANITIZER:-}" ] || probe=$(dirname "${PSTEST_PLAIN_LIB:?}")/helpers/portprobe
	run in_ns env "${SCRUB[@]}" LD_PRELOAD="$src/build/libportshim.so" PORTSHIM_CONNECT=odd \
		"$probe" -k -1 -n 4 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports odd $(output_ports)
}

@test "the Dockerfiles copy no build context and set LD_PRELOAD last" {
	local f last
	for f in "$REPO_ROOT"/examples/container/Dockerfile.portshim*; do
		echo "$f"
		! grep -Eq '^COPY +\. ' "$f" || false
		grep -q '^COPY --from=portshim-dist ' "$f"
		last=$(grep -E '^[A-Z]+ ' "$f" | tail -n 1)
		[[ $last == "ENV LD_PRELOAD="* ]]
		# LD_PRELOAD is set in that line alone, nowhere earlier.
		[ "$(grep -c 'LD_PRELOAD=' "$f")" -eq 1 ]
	done
}

# systemd's own parser over each drop-in, beside a unit of our own; the
# ExecStart= form run as written, with the test's paths.
@test "systemd drop-ins: all three verify; the ExecStart form runs the service under the shim" {
	require_cmd systemd-analyze
	local dir=$BATS_TEST_TMPDIR/units conf line log=$BATS_TEST_TMPDIR/demo.jsonl
	for conf in portshim.conf portshim-exec.conf portshim-bpf.conf; do
		rm -rf "$dir" && mkdir -p "$dir/demo.service.d"
		printf '[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/true\n' >"$dir/demo.service"
		sed -e "s|/usr/local/bin/portshim|$PSTEST_CLI|" -e 's|/usr/sbin/SERVICE|/bin/true|' \
			"$REPO_ROOT/examples/systemd/$conf" >"$dir/demo.service.d/$conf"
		run bash -c "cd '$dir' && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./demo.service 2>&1"
		echo "$conf: $output"
		[ "$status" -eq 0 ]
		! grep -q 'Unknown\|unknown\|Failed' <<<"$output" || false
	done
	grep -q '^LogsDirectory=portshim' "$REPO_ROOT/examples/systemd/portshim-exec.conf"
	grep -q '^/var/log/portshim/\*.jsonl {' "$REPO_ROOT/examples/systemd/portshim.logrotate"
	line=$(grep '^ExecStart=.*portshim .* -- ' "$REPO_ROOT/examples/systemd/portshim-exec.conf")
	line=${line#ExecStart=}
	line=${line/\/usr\/local\/bin\/portshim/$PSTEST_CLI}
	line=${line/\/var\/log\/portshim\/%N.jsonl/$log}
	line=${line%% -- *}
	start_server tcp 127.0.0.1 5000
	# The unit's own LD_PRELOAD stays, behind the library.
	run in_ns env "${SCRUB[@]}" $(cli_preload) $line -- "$PROBE" -n 2 connect 127.0.0.1 5000
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '"call":"connect"' "$log")" -eq 2 ]
	# A bad setting stops the start: status 125, one line naming it.
	run in_ns env "${SCRUB[@]}" $(cli_preload) ${line/--connect any/--connect evn} -- /bin/true
	[ "$status" -eq 125 ]
	[[ $output == *"--connect='evn': expected"* ]]
}
