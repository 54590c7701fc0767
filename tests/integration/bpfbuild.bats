#!/usr/bin/env bats
# The bpf backend as it is built: the command without it where bpftool,
# clang or libbpf-dev is missing, and the room the kernel's verifier leaves
# its programs (portshim(1), "The bpf backend").

load helper
load ../helpers/bpf

@test "bpf: where bpftool is missing, make says so and builds portshim without the backend, which then says what it needs" {
	local build=$BATS_TEST_TMPDIR/build
	# A build of its own: the suite's build tree is left as it is.
	run -0 make -s -j4 -C "$REPO_ROOT" BUILD="$build" BPFTOOL=/nonexistent "$build/portshim"
	grep -qx 'portshim: building without the bpf backend: needs clang, /nonexistent and libbpf-dev' \
		<<<"$output"
	run -125 noshim "$build/portshim" --backend bpf --connect odd -- true
	[ "$output" = "portshim: the bpf backend needs a portshim built with it (clang, bpftool and libbpf-dev at build time); nothing was run" ]
	run -0 noshim "$build/portshim" --backend seccomp --connect odd -- sh -c 'exit 0'
}

@test "bpf: the verifier takes each program with room to spare: at most 700,000 of its 1,000,000 instructions" {
	# Past the limit the load falls back to the program without the
	# kernel's namespaces (portshim --check says so); this says it before.
	local obj pin=/sys/fs/bpf/pstest-$$-verify count
	obj=$(dirname "$CLI")/bpf/portshim.bpf.o
	[ -f "$obj" ]
	run bpftool -d prog loadall "$obj" "$pin"
	rm -rf "$pin"
	[ "$status" -eq 0 ]
	mapfile -t count < <(grep -o '^processed [0-9]* insns' <<<"$output" | awk '{print $2}')
	echo "instructions processed: ${count[*]}"
	[ "${#count[@]}" -ge 4 ]
	for n in "${count[@]}"; do [ "$n" -le 700000 ]; done
}
