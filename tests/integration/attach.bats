#!/usr/bin/env bats
# The bpf backend on cgroups that exist (portshim(1), BACKENDS): portshim
# attach and detach by --cgroup, --unit and --container (systemctl and
# docker answered by stand-ins), portshim status, the systemd drop-in's
# lines, and --check.  Each test has its own network namespace and test
# cgroup, removed after with what was attached.

load helper
load ../helpers/bpf

# in_cgroup CGROUP COMMAND...: COMMAND in the test's namespace, moved into
# CGROUP before it execs.
in_cgroup() {
	local cg=$1
	shift
	noshim sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

CONNECT3='import socket
for _ in range(3):
    s = socket.create_connection(("127.0.0.1", 8080)); print(s.getsockname()[1]); s.recv(1); s.close()'

@test "bpf: portshim attach --cgroup pins the policy to a cgroup that exists, status shows it with its counters, attach again switches it, detach leaves the cgroup as it was" {
	start_server tcp 127.0.0.1 8080
	local cg=$TEST_CG/service before
	mkdir "$cg"
	before=$(attachments "$cg")
	# A path relative to the hierarchy's mount point.
	run -0 noshim "$CLI" attach --cgroup "${cg#"$CG_MOUNT"/}" --connect odd --on-exhaust kernel
	[ "$output" = "portshim: attached to $cg: connect=odd on-exhaust=kernel" ]
	[ "$(attachments "$cg" | wc -l)" -eq 4 ]
	# The attachment outlives the command that made it.
	run -0 in_cgroup "$cg" "$PYTHON" -c "$CONNECT3"
	mapfile -t got < <(output_ports)
	[ "${#got[@]}" -eq 3 ]
	assert_ports odd "${got[@]}"
	run -0 "$CLI" status
	echo "$output"
	grep -A4 -x "$cg" <<<"$output" | grep -qx '  settings  connect=odd on-exhaust=kernel'
	grep -A4 -x "$cg" <<<"$output" | grep -q 'counters  ok=3 fallback=0 exhausted=0'
	grep -A5 -x "$cg" <<<"$output" | grep -q '^  by policy connect=odd: ok=3 fallback=0 exhausted=0'
	# Attached again: the attachment takes the new settings in place.
	run -0 noshim "$CLI" attach --cgroup "$cg" --connect even
	[ "$output" = "portshim: switched the attachment of $cg: connect=even" ]
	[ "$(attachments "$cg" | wc -l)" -eq 4 ]
	run -0 in_cgroup "$cg" "$PYTHON" -c "$CONNECT3"
	mapfile -t got < <(output_ports)
	[ "${#got[@]}" -eq 3 ]
	assert_ports even "${got[@]}"
	run -0 "$CLI" status
	grep -A1 -x "$cg" <<<"$output" | grep -qx '  settings  connect=even'
	run -125 noshim "$CLI" attach --cgroup "$cg" --connect kernel
	[[ $output == "portshim: attach: the bpf backend needs connect=kernel: "*"; nothing was switched" ]]
	run -0 noshim "$CLI" detach --cgroup "$cg"
	[ "$output" = "portshim: detached from $cg" ]
	[ "$(attachments "$cg")" = "$before" ]
	# bpffs as it was: no directory of its pins, nor an empty one of all.
	[ ! -e "/sys/fs/bpf/portshim/$(stat -c %i "$cg")" ]
	[ ! -e /sys/fs/bpf/portshim ] || [ -n "$(ls -A /sys/fs/bpf/portshim)" ]
	run -0 "$CLI" status
	! grep -qx "$cg" <<<"$output" || false
	run -0 in_cgroup "$cg" "$PYTHON" -c "$CONNECT3"
	mapfile -t got < <(output_ports)
	assert_ports even "${got[@]}"
	run -125 noshim "$CLI" detach --cgroup "$cg"
	[ "$output" = "portshim: detach: needs an attachment to detach: portshim attached nothing to $cg" ]
}

@test "bpf: under portshim attach, a network namespace made after it has its own range, reserved ports and addresses: two destinations share its ports" {
	local cg=$TEST_CG/service
	mkdir "$cg"
	run -0 noshim "$CLI" attach --cgroup "$cg" --connect odd --on-exhaust fail
	# 4 odd ports (43001 reserved); 4 connections to each of two
	# destinations on them, then one more to the first: refused by the
	# program's 4-tuple check (exhausted), not by the kernel's connect.
	local prog='import socket, sys
fam, a, b = (socket.AF_INET, "127.0.0.1", "127.0.0.2") if sys.argv[1] == "4" else (socket.AF_INET6, "::1", "::1")
l1 = socket.socket(fam); l1.bind((a, 8090)); l1.listen(64)
l2 = socket.socket(fam); l2.bind((b, 8091)); l2.listen(64)
socks = []
def one(dest):
    s = socket.socket(fam); s.connect(dest); socks.append(s); return s.getsockname()[1]
print(*[one((a, 8090)) for _ in range(4)])
print(*[one((b, 8091)) for _ in range(4)])
try:
    one((a, 8090)); print("connected")
except OSError as e:
    print(e.errno)'
	local inner='ip link set lo up && echo "43000 43009" >/proc/sys/net/ipv4/ip_local_port_range &&
		echo 43001 >/proc/sys/net/ipv4/ip_local_reserved_ports && exec "$0" -c "$1" "$2"'
	local family line ok=0
	for family in 4 6; do
		run -0 in_cgroup "$cg" unshare -n sh -c "$inner" "$PYTHON" "$prog" "$family"
		echo "IPv$family: $output"
		for line in 1 2; do
			[ "$(sed -n "${line}p" <<<"$output" | tr ' ' '\n' | sort -n | xargs)" = \
				"43003 43005 43007 43009" ]
		done
		[ "$(sed -n 3p <<<"$output")" = 99 ]
		ok=$((ok + 8))
		run -0 "$CLI" status
		echo "$output"
		grep -A4 -x "$cg" <<<"$output" | grep -q "counters  ok=$ok fallback=0 exhausted=$((ok / 8)) .* new-netns=0 "
	done
	run -0 noshim "$CLI" detach --cgroup "$cg"
}

@test "bpf: portshim attach --unit takes the unit's cgroup from systemd, --container the container's first process's cgroup and network namespace" {
	start_server tcp 127.0.0.1 8080
	local cg=$TEST_CG/unit bin=$BATS_TEST_TMPDIR/bin out=$BATS_TEST_TMPDIR/held i
	mkdir "$cg" "$bin"
	# Stand-ins that answer as systemctl and docker do.
	printf '#!/bin/sh\n[ "$*" = "show --property=ControlGroup --value demo.service" ] && echo "%s"\n' \
		"${cg#"$CG_MOUNT"}" >"$bin/systemctl"
	chmod +x "$bin/systemctl"
	run -0 noshim env PATH="$bin:$PATH" "$CLI" attach --unit demo.service --connect odd
	[ "$output" = "portshim: attached to $cg: connect=odd" ]
	run -0 in_cgroup "$cg" "$PYTHON" -c "$CONNECT3"
	mapfile -t got < <(output_ports); [ "${#got[@]}" -eq 3 ]; assert_ports odd "${got[@]}"
	run -0 noshim env PATH="$bin:$PATH" "$CLI" detach --unit demo.service
	run -125 noshim env PATH="$bin:$PATH" "$CLI" attach --unit other.service --connect odd
	[[ $output == "portshim: --unit='other.service': systemd gives it no cgroup"* ]]

	# The container: a process of the test, in the cgroup, in the namespace.
	in_ns_background "$out" sh -c 'echo $$ >"$0/cgroup.procs" && exec sleep 300' "$cg"
	for i in $(seq 500); do
		[ -n "$(cat "$cg/cgroup.procs")" ] && break
		sleep 0.01
	done
	printf '#!/bin/sh\n[ "$*" = "inspect --format {{.State.Pid}} c0ffee" ] && echo %s\n' \
		"$(head -n 1 "$cg/cgroup.procs")" >"$bin/docker"
	chmod +x "$bin/docker"
	# Attached from the host's namespace: the container's range is read in its own.
	ns_range 41000 41099
	run -0 env PATH="$bin:$PATH" "$CLI" attach --container c0ffee --connect 4:1
	[ "$output" = "portshim: attached to $cg: connect=4:1" ]
	run -0 in_cgroup "$cg" "$PYTHON" -c "$CONNECT3"
	mapfile -t got < <(output_ports); [ "${#got[@]}" -eq 3 ]
	assert_ports 4:1 "${got[@]}"
	assert_ports 41000-41099 "${got[@]}"
	run -0 env PATH="$bin:$PATH" "$CLI" detach --container c0ffee
	[ -z "$(attachments "$cg")" ]
}

@test "bpf: portshim --check says the backend works here and what it reaches; without privilege, what it needs" {
	run -0 noshim "$CLI" --check --backend bpf --connect odd -- true
	grep -qx 'backend      bpf: works here' <<<"$output"
	grep -q '^reaches      every connect() of every process' <<<"$output"
	grep -q '^not          bind(0); a UDP sendto() without connect()' <<<"$output"
	grep -qx 'namespaces   one made later: read from the kernel at its first connect (range, reserved ports, addresses)' \
		<<<"$output"
	run -125 noshim "$CLI" --check --backend bpf --connect kernel -- true
	grep -q "needs connect=kernel: the bpf backend applies" <<<"$output"
	[ "$(id -u)" = 0 ] || skip "the unprivileged case needs root to switch to nobody"
	as_nobody --check --backend bpf -- true
	[ "$status" -eq 125 ]
	grep -qx 'backend      bpf: does not work here: needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (or root) to load the program (Operation not permitted)' <<<"$output"
}

@test "bpf: the systemd drop-in's lines attach the policy to the unit's cgroup before it starts, and take it off after" {
	start_server tcp 127.0.0.1 8080
	local cg=$TEST_CG/demo bin=$BATS_TEST_TMPDIR/bin pre post
	mkdir "$cg" "$bin"
	printf '#!/bin/sh\n[ "$*" = "show --property=ControlGroup --value demo.service" ] && echo "%s"\n' \
		"${cg#"$CG_MOUNT"}" >"$bin/systemctl"
	chmod +x "$bin/systemctl"
	pre=$(sed -n 's/^ExecStartPre=+//p' "$REPO_ROOT/examples/systemd/portshim-bpf.conf")
	post=$(sed -n 's/^ExecStopPost=-+//p' "$REPO_ROOT/examples/systemd/portshim-bpf.conf")
	pre=${pre//%n/demo.service}
	post=${post//%n/demo.service}
	[[ $pre == "/usr/local/bin/portshim attach --unit demo.service "* ]]
	run -0 noshim env PATH="$bin:$PATH" $(sed "s|/usr/local/bin/portshim|$CLI|" <<<"$pre")
	run -0 in_cgroup "$cg" "$PYTHON" -c "$CONNECT3"
	mapfile -t got < <(output_ports); [ "${#got[@]}" -eq 3 ]
	# The drop-in's policy is any: ports of both parities over more connects.
	run -0 in_cgroup "$cg" "$PROBE" -n 40 connect 127.0.0.1 8080
	mapfile -t got < <(output_ports)
	[ "$(count_even "${got[@]}")" -gt 0 ]
	[ "$(count_even "${got[@]}")" -lt 40 ]
	run -0 noshim env PATH="$bin:$PATH" $(sed "s|/usr/local/bin/portshim|$CLI|" <<<"$post")
	[ -z "$(attachments "$cg")" ]
}

@test "bpf: portshim attach mounts the BPF file system where the system has not" {
	local cg=$TEST_CG/nobpffs
	mkdir "$cg"
	# A mount namespace of the test's own, without /sys/fs/bpf.
	run -0 in_ns unshare -m sh -c 'umount /sys/fs/bpf 2>/dev/null
		grep -q " /sys/fs/bpf bpf " /proc/self/mounts && exit 3
		"$0" attach --cgroup "$1" --connect odd || exit 1
		grep -q " /sys/fs/bpf bpf " /proc/self/mounts || exit 4
		"$0" detach --cgroup "$1"' "$CLI" "$cg"
	echo "$output"
	[ "${lines[0]}" = "portshim: attached to $cg: connect=odd" ]
	[ "${lines[1]}" = "portshim: detached from $cg" ]
	[ -z "$(attachments "$cg")" ]
}
