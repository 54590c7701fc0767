# What the bpf backend's tests share (bpf.bats, attach.bats): the command,
# a test cgroup per test under the cgroup v2 mount (setup, teardown),
# portshim --backend bpf in the test's namespace (bpfrun), and what is
# attached to a cgroup (attachments).
BUILT=$(dirname "$PSTEST_LIB")
CLI=${PSTEST_CLI:-$BUILT/portshim}
STATIC=$BUILT/static
GOCONN=$BUILT/go/goconn
URING=$PSTEST_HELPERS/uringconn
REPO_ROOT=$(cd "$TESTS_DIR/../.." && pwd)

setup() {
	common_setup
	if [ "$(id -u)" != 0 ]; then
		[ "${PSTEST_STRICT:-0}" != 1 ] || { echo "the bpf backend needs root (PSTEST_STRICT=1)" >&2; return 1; }
		skip "the bpf backend needs root"
	fi
	require_cmd bpftool
	CG_MOUNT=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	[ -n "$CG_MOUNT" ] || { echo "no cgroup2 file system is mounted" >&2; return 1; }
	TEST_CG=$CG_MOUNT/pstest-$$-$BATS_TEST_NUMBER
	mkdir "$TEST_CG"
}

# Every process the test left in its cgroup is one it started (through
# portshim): ended by pid, then the cgroups are removed, deepest first.
teardown() {
	local pid dir
	common_teardown
	[ -d "${TEST_CG:-}" ] || return 0
	# What a failed test left attached (pins outlive a removed cgroup).
	for dir in "$TEST_CG"/*/; do
		[ -d "$dir" ] && "$CLI" detach -q --cgroup "${dir%/}" 2>/dev/null || true
	done
	for pid in $(cat "$TEST_CG"/cgroup.procs "$TEST_CG"/*/cgroup.procs 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null || true
	done
	for dir in "$TEST_CG"/*/ "$TEST_CG"; do
		[ -d "$dir" ] || continue
		wait_unpopulated "$dir"
		rmdir "$dir"
	done
}

# wait_unpopulated DIR: until no process is left in the cgroup.
wait_unpopulated() {
	local i
	for i in $(seq 500); do
		grep -qx 'populated 0' "$1/cgroup.events" && return 0
		sleep 0.01
	done
	return 1
}

# bpfrun ARGS... -- COMMAND...: portshim --backend bpf in the namespace,
# its cgroup under the test's, no PORTSHIM_* setting but those given.
bpfrun() {
	noshim "$CLI" --backend bpf --cgroup-parent "$TEST_CG" "$@"
}

# attachments CGROUP: the programs attached to it, one line each.
attachments() {
	bpftool cgroup show "$1" 2>/dev/null | awk 'NR > 1 && NF' || true
}

# The strategies the backend applies (range it refuses: see below).
STRATEGIES=(auto reuse exclusive)

# server_saw_program RULE N COMMAND...: COMMAND prints N ports (or Go's
# local addresses), all
# satisfying RULE (assert_ports), and the server on 8080 saw exactly those.
server_saw_program() {
	local rule=$1 n=$2
	shift 2
	: >"$(server_log 8080)"
	run -0 "$@"
	# A port alone, or Go's ADDR:PORT.
	mapfile -t got < <(sed -nE 's/^(.*:)?([0-9]+)$/\2/p' <<<"$output")
	[ "${#got[@]}" -eq "$n" ] || { echo "expected $n ports: $output" >&2; return 1; }
	assert_ports "$rule" "${got[@]}"
	assert_same_lists "$(printf '%s\n' "${got[@]}" | sort -n)" "$(server_ports 8080 "$n" | sort -n)"
}

# as_nobody ARGS...: portshim ARGS as user nobody, from a copy in a
# directory of its own that nobody can reach (the checkout may be one only
# root can enter); its status and output in run's.
as_nobody() {
	local dir
	dir=$(mktemp -d /tmp/pstest-bpf.XXXXXX)
	install -m 0755 "$CLI" "$dir/portshim"
	chmod 0755 "$dir"
	run setpriv --reuid nobody --regid nogroup --clear-groups -- "$dir/portshim" "$@"
	rm -rf "$dir"
}
