#!/usr/bin/env bats
# The program's own socket options under the seccomp backend: what it reads
# back of IP_LOCAL_PORT_RANGE and SO_REUSEADDR is what the kernel alone
# gives it, under every strategy, though a connected socket keeps the
# supervisor's [p, p] and a socket reuse bound keeps SO_REUSEADDR on
# (shim/seccomp/portrange.c, sockmemo.c).  Compared with the same program
# run natively, in the test's namespace.

load helper
load ../helpers/seccomp

FDLIFE=$PSTEST_HELPERS/fdlife

@test "seccomp: getsockopt(SO_REUSEADDR, IP_LOCAL_PORT_RANGE) read back the program's own values under every strategy, as natively" {
	start_server tcp 127.0.0.1 5000
	local strategy mode want native port
	for mode in none reuse range; do
		run -0 noshim "$FDLIFE" sockopt 5000 "$mode"
		echo "native $mode: $output"
		case $mode in
		none) want='reuseaddr=0 range=0-0' ;;
		reuse) want='reuseaddr=1 range=0-0' ;;
		range) want='reuseaddr=0 range=40000-40999' ;;
		esac
		[[ $output == "$want port="* ]]
		native=${output#* port=*[0-9] }
		for strategy in auto range reuse exclusive; do
			run -0 sup --backend seccomp --connect odd --strategy "$strategy" -- \
				"$FDLIFE" sockopt 5000 "$mode"
			echo "seccomp $strategy $mode: $output"
			[[ $output == "$want port="* ]]
			[ "${output#* port=*[0-9] }" = "$native" ]
			port=${output#* port=}
			port=${port%% *}
			assert_ports odd "$port"
			[ "$mode" != range ] || assert_ports 40000-40999 "$port"
		done
	done
}

@test "seccomp: IP_LOCAL_PORT_RANGE reads 0 after a connect under every strategy: through dup(), dup2(), F_DUPFD, a short read, across exec" {
	start_server tcp 127.0.0.1 5000
	run -0 noshim "$FDLIFE" leftrange 5000 5999
	echo "native: $output"
	[ "$(printf '%s\n' "$output" | grep -c 'range=0-0 len=4')" -eq 6 ]
	local native=$output strategy
	for strategy in auto range reuse exclusive; do
		run -0 sup --backend seccomp --connect even --strategy "$strategy" -- \
			"$FDLIFE" leftrange 5000 5999
		echo "seccomp $strategy: $output"
		case $strategy in
		range | auto) assert_same_lists "$native" "$output" ;;
		# A port bound before the connect outlives its refusal (README.md,
		# "Known limits"); the rest is the same.
		*) assert_same_lists "$(grep -v '^refused' <<<"$native")" "$(grep -v '^refused' <<<"$output")" ;;
		esac
	done
}

# A socket connected while no program had set a range keeps [p, p]; once
# one has, connects put the program's range back, and the first socket
# still reads 0.  Forked children share the supervisor's knowledge.
@test "seccomp: sockets connected before and after the program sets a range of its own read what the kernel alone gives, every strategy" {
	start_server tcp 127.0.0.1 5000
	local prog='import os, socket
R = 51
def rng(s): return s.getsockopt(0, R)
a = socket.create_connection(("127.0.0.1", 5000))
b = socket.socket()
b.setsockopt(0, R, (40000 | 40099 << 16).to_bytes(4, "little"))
b.connect(("127.0.0.1", 5000))
c = socket.create_connection(("127.0.0.1", 5000))
pid = os.fork()
if pid == 0:
    d = socket.create_connection(("127.0.0.1", 5000))
    print("child", rng(d), rng(a)); os._exit(0)
os.waitpid(pid, 0)
print("a", rng(a), "b", rng(b) & 0xffffffff == (40000 | 40099 << 16), 40000 <= b.getsockname()[1] <= 40099, "c", rng(c))
print("parity", sorted({s.getsockname()[1] % 2 for s in (a, c)}))'
	run -0 noshim "$PYTHON" -c "$prog"
	echo "native: $output"
	[ "${lines[0]}" = "child 0 0" ]
	[ "${lines[1]}" = "a 0 b True True c 0" ]
	local strategy
	for strategy in auto range reuse exclusive; do
		run -0 sup --backend seccomp --connect odd --strategy "$strategy" -- "$PYTHON" -c "$prog"
		echo "seccomp $strategy: $output"
		[ "${lines[0]}" = "child 0 0" ]
		[ "${lines[1]}" = "a 0 b True True c 0" ]
		[ "${lines[2]}" = "parity [1]" ]
	done
}

seccomp_strategy() {
	local strategy=$1
	shift
	sup --backend seccomp --connect odd --strategy "$strategy" \
		--log "$BATS_TEST_TMPDIR/reconnect.jsonl" -- "$@"
}

@test "seccomp: a TCP socket connected again after a refused connect gets a port afresh, as natively, every strategy" {
	start_server tcp 127.0.0.1 5000
	reconnect_every_strategy seccomp_strategy
}
