# Shared by cli.bats, report.bats and demo.bats (`load ../helpers/cli`,
# after `load helper`): the portshim command under test.
#
# The command is the one built beside the library under test
# ($PSTEST_LIB's directory: build/portshim, or build/asan/portshim).
PSTEST_CLI=${PSTEST_CLI:-$(dirname "$PSTEST_LIB")/portshim}
REPO_ROOT=$(cd "$TESTS_DIR/../.." && pwd)
THREADCONN=$PSTEST_HELPERS/threadconn

# Under a sanitizer build, its runtime (PSTEST_PRELOAD's entries other
# than the library) must be preloaded ahead of the instrumented library in
# every program; the wrapper keeps a sanitizer runtime first.
sanitizer_preload() {
	local entry out=()
	for entry in ${PSTEST_PRELOAD:-}; do
		[ "$entry" = "$PSTEST_LIB" ] || out+=("$entry")
	done
	printf '%s\n' "${out[*]}"
}
cli_preload() {
	local san
	san=$(sanitizer_preload)
	[ -z "$san" ] || printf 'LD_PRELOAD=%s\n' "$san"
}

# wrap [NAME=VALUE...] ARGS...: `portshim ARGS...` in the test's namespace,
# with no PORTSHIM_* variable of the test's own environment, and only the
# NAME=VALUE settings given.
wrap() {
	local env=()
	while [[ ${1:-} == *=* && ${1:-} != -* ]]; do env+=("$1"); shift; done
	in_ns env "${SCRUB[@]}" $(cli_preload) "${env[@]}" "$PSTEST_CLI" "$@"
}

# plain_wrap ARGS...: wrap, except under `make asan`, where programs that
# hang with the ASan runtime preloaded (curl, wget: see shim in helper_netns.bash)
# run under the plain build's command and library instead.
plain_wrap() {
	if [ "${PSTEST_SANITIZER:-}" = asan ]; then
		in_ns env "${SCRUB[@]}" "$(dirname "${PSTEST_PLAIN_LIB:?}")/portshim" "$@"
	else
		wrap "$@"
	fi
}

# json_get FILE EXPR: a value of a JSON document, EXPR a Python expression
# over `d` (e.g. 'd["parity"]["odd"]').
json_get() {
	"$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ports_of_log FILE: the ports of a log's decisions, one per line.
ports_of_log() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    port = d.get("port")
    # connect-result and control lines are no decisions.
    if port is not None and d["call"] not in ("connect-result", "control"):
        print(port)' "$1"
}

# Every file that loads this one tests the command: each test starts in its
# own namespace (helper.bash) and with the command built.
setup() {
	common_setup
	[ -x "$PSTEST_CLI" ] || {
		echo "no $PSTEST_CLI: run make" >&2
		return 1
	}
}
