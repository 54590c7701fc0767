# Shared by every tests/integration/*.bats file (`load helper`).
#
# Every test gets its own network namespace (setup), and runs all its
# programs in it through in_ns: `shim` runs one under the shim, `noshim`
# without it, `start_server` starts a port-logging server.  The namespace
# has only `lo`, so tests may narrow its port range and reserve ports
# without touching the host, and start from a kernel with no history.
bats_require_minimum_version 1.5.0

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROGRAMS=$TESTS_DIR/programs
# `make test` passes both; these defaults let `bats tests/integration` run
# straight after `make`.
PSTEST_LIB=${PSTEST_LIB:-$TESTS_DIR/../../build/libportshim.so}
PSTEST_HELPERS=${PSTEST_HELPERS:-$TESTS_DIR/../../build/helpers}
PROBE=$PSTEST_HELPERS/portprobe
NBCONNECT=$PSTEST_HELPERS/nbconnect

# A missing tool skips the test, except in CI (PSTEST_STRICT=1),
# where a skip would hide that a whole area went untested.
require_cmd() {
	local cmd
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 && continue
		if [ "${PSTEST_STRICT:-0}" = 1 ]; then
			echo "required command '$cmd' is missing (PSTEST_STRICT=1)" >&2
			return 1
		fi
		skip "$cmd is not installed"
	done
}

# The one place that says what LD_PRELOAD is: sanitizer builds preload
# their runtime ahead of the shim and hand the whole list in PSTEST_PRELOAD.
shim_preload() {
	if [ -n "${PSTEST_PRELOAD:-}" ]; then
		printf '%s\n' "$PSTEST_PRELOAD"
	else
		printf '%s\n' "${PSTEST_LIB:?}"
	fi
}

# reachable_copies DIR LIST: the libraries of an LD_PRELOAD list (':' or
# blanks between them), those of the build copied into DIR for a process of
# another user; the system's own (a sanitizer's runtime) stay where they
# are.  Prints the new list.
reachable_copies() {
	local dir=$1 lib out=()
	for lib in ${2//:/ }; do
		case $lib in
		/usr/* | /lib/* | /lib64/*) out+=("$lib") ;;
		*)
			install -m 0755 "$lib" "$dir/"
			out+=("$dir/$(basename "$lib")")
			;;
		esac
	done
	printf '%s\n' "${out[*]}"
}

# `env` arguments that drop every PORTSHIM_* variable of the test's own
# environment (a user's shell may set some; the suite's own variables are
# named PSTEST_* so that they cannot collide): the shim rejects unknown
# PORTSHIM_* names, and a test must set exactly the settings it means.  Computed once per test, in common_setup.
scrub_args() {
	local name
	SCRUB=(-u LD_PRELOAD)
	for name in $(compgen -e); do
		case $name in PORTSHIM_*) SCRUB+=(-u "$name") ;; esac
	done
}

# start_netns: a sleeping process in a new network namespace; its pid
# becomes NS_PID, the namespace in_ns uses.  Root uses `unshare -n`, others
# a user namespace too.
start_netns() {
	local i ns
	if [ "$(id -u)" = 0 ]; then
		unshare -n sleep 900 </dev/null >/dev/null 2>&1 3>&- &
	else
		unshare -rn sleep 900 </dev/null >/dev/null 2>&1 3>&- &
	fi
	NS_PID=$!
	NETNS_PIDS+=("$NS_PID")
	# The fork comes before unshare(2): until the process has switched,
	# entering "its" namespace would enter the host's.
	for i in $(seq 500); do
		ns=$(readlink "/proc/$NS_PID/ns/net" 2>/dev/null) || true
		[ -n "$ns" ] && [ "$ns" != "$HOST_NETNS" ] && break
		sleep 0.01
	done
	[ "$(in_ns readlink /proc/self/ns/net)" != "$HOST_NETNS" ] || {
		echo "could not enter a new network namespace" >&2
		return 1
	}
	in_ns ip link set lo up
}

# in_ns COMMAND...: COMMAND in the test's namespace, bounded by timeout
# (NS_TIMEOUT seconds, default 60).  Not root: the user namespace too, where
# our uid is root (unshare -r's mapping; setgroups is denied there, hence
# --preserve-credentials).
in_ns() {
	local userns=()
	[ "$(id -u)" = 0 ] || userns=(-U --preserve-credentials)
	timeout "${NS_TIMEOUT:-60}" nsenter -t "$NS_PID" -n "${userns[@]}" -- "$@"
}

# shim [NAME=VALUE...] COMMAND...: COMMAND under the shim, with no
# PORTSHIM_* settings but the ones given.  noshim: the same without it.
# Under `make asan` every program runs with ASan's runtime preloaded ahead
# of the sanitized library, except those that cannot run with it at all:
# curl and wget hang with clang 14's runtime preloaded (curl in setlocale()
# at start-up; no shim needed to see either).  Those get the plain library,
# so their tests still run and still check what the shim did.
shim() {
	local arg preload
	preload=$(shim_preload)
	for arg in "$@"; do
		[[ $arg == *=* ]] && continue
		if [ "${PSTEST_SANITIZER:-}" = asan ] &&
			[[ " curl wget " == *" $(basename "$arg") "* ]]; then
			preload=${PSTEST_PLAIN_LIB:?make asan passes the plain library}
		fi
		break
	done
	in_ns env "${SCRUB[@]}" LD_PRELOAD="$preload" "$@"
}
noshim() {
	in_ns env "${SCRUB[@]}" "$@"
}

# ns_sysctl KEY VALUE (KEY like net/ipv4/ip_local_port_range): sets a sysctl
# of the test's namespace, refusing if it is somehow the host's, and reads
# it back.
ns_sysctl() {
	local key=$1 value=$2 got
	in_ns sh -c '[ "$(readlink /proc/self/ns/net)" != "$1" ] || exit 1
		printf "%s\n" "$3" >"/proc/sys/$2"' sh "$HOST_NETNS" "$key" "$value"
	got=$(in_ns cat "/proc/sys/$key" | tr -s ' \t' '  ')
	[ "$got" = "$(printf '%s' "$value" | tr -s ' \t' '  ')" ] || {
		echo "sysctl $key: wrote '$value', reads '$got'" >&2
		return 1
	}
}

# ns_range LO HI: the namespace's ip_local_port_range.
ns_range() {
	ns_sysctl net/ipv4/ip_local_port_range "$1 $2"
}

# in_ns_background OUT COMMAND...: COMMAND in the namespace, in the
# background, stdout and stderr to OUT.  A simple command, not a function,
# so that $! is timeout's own pid (kept for teardown), and timeout passes
# our SIGTERM on.  No shim: a background program here is the test's tool.
# OUT is emptied before this returns (the job's own redirection comes later).
in_ns_background() {
	local out=$1 userns=()
	shift
	: >"$out"
	[ "$(id -u)" = 0 ] || userns=(-U --preserve-credentials)
	# Longer than any test's own bound (the long haul's NS_TIMEOUT is 300
	# s); teardown ends it by pid.
	timeout 900 nsenter -t "$NS_PID" -n "${userns[@]}" -- env "${SCRUB[@]}" "$@" \
		</dev/null >"$out" 2>&1 3>&- &
	BACKGROUND_PIDS+=("$!")
}

# start_server tcp|udp ADDR PORT [PROGRAM]: a logging server (default
# portlog.py; httplog.py takes no protocol) in the background, without the
# shim; returns once it listens.  Its log: server_log PORT.
start_server() {
	local proto=$1 addr=$2 port=$3 program=${4:-portlog.py} log i
	log=$(server_log "$port")
	: >"$log"
	rm -f "$log.ready"
	local args=("$proto" "$addr" "$port" "$log")
	[ "$program" = portlog.py ] || args=("$addr" "$port" "$log")
	in_ns_background "$log.out" "$PYTHON" "$PROGRAMS/$program" "${args[@]}"
	for i in $(seq 500); do
		[ -e "$log.ready" ] && return 0
		kill -0 "${BACKGROUND_PIDS[-1]}" 2>/dev/null || break
		sleep 0.02
	done
	echo "server on $addr:$port did not start:" >&2
	cat "$log.out" >&2
	return 1
}

# hold_ports N PROBE_ARGS...: a probe without the shim that makes N
# attempts, keeps every socket open and sleeps; returns once it has them
# all, their ports (or errors) in $held.
hold_ports() {
	local n=$1 out=$BATS_TEST_TMPDIR/holder-${#BACKGROUND_PIDS[@]} i
	shift
	in_ns_background "$out" "$PROBE" -k -1 -s 200 -n "$n" "$@"
	for i in $(seq 500); do
		[ "$(wc -l <"$out")" -ge "$n" ] && break
		sleep 0.02
	done
	held=$(cat "$out")
	echo "holder: $held"
	[ "$(wc -l <"$out")" -eq "$n" ]
}

server_log() {
	printf '%s\n' "$BATS_TEST_TMPDIR/server-$1.log"
}

# server_ports PORT [COUNT]: the client ports the server on PORT saw, in
# order.  With COUNT, once it has logged that many (for up to 20 s): a
# client that closes without waiting for the server (Go, rawconnect,
# prefork) can be done before the server has logged its last connections.
server_ports() {
	local log i
	log=$(server_log "$1")
	if [ -n "${2:-}" ]; then
		for i in $(seq 1000); do
			[ "$(wc -l <"$log")" -lt "$2" ] || break
			sleep 0.02
		done
	fi
	awk '{ print $2 }' "$log"
}

# The lines of $output that are ports (a probe prints errno names too).
output_ports() {
	printf '%s\n' "$output" | grep -E '^[0-9]+$' || true
}

# assert_ports RULE PORT...: at least one port, each a number satisfying
# RULE: even | odd | MOD:RES | LO-HI (inclusive).  An empty list fails: a
# check that passes on nothing proves nothing.
assert_ports() {
	local rule=$1 p bad=0
	shift
	if [ $# -eq 0 ]; then
		echo "assert_ports $rule: no ports at all" >&2
		return 1
	fi
	for p in "$@"; do
		if ! [[ $p =~ ^[0-9]+$ ]]; then
			echo "assert_ports $rule: '$p' is not a port" >&2
			bad=1
			continue
		fi
		case $rule in
		even) ((p % 2 == 0)) ;;
		odd) ((p % 2 == 1)) ;;
		*:*) ((p % ${rule%%:*} == ${rule##*:})) ;;
		*-*) ((p >= ${rule%%-*} && p <= ${rule##*-})) ;;
		esac || {
			echo "assert_ports $rule: port $p does not satisfy it" >&2
			bad=1
		}
	done
	return $bad
}

# assert_same_lists A B: two newline-separated lists are equal and non-empty.
assert_same_lists() {
	if [ -z "$1" ] || [ "$1" != "$2" ]; then
		echo "lists differ (or are empty):" >&2
		diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") >&2 || true
		return 1
	fi
}

# count_even PORT...: how many are even.
count_even() {
	local p n=0
	for p in "$@"; do ((p % 2 == 0)) && n=$((n + 1)); done
	echo "$n"
}

# probe_vs_server PORT [SETTING=VALUE...] -- PROBE_ARGS...: runs the probe
# under the shim with those settings, checks that every attempt worked and
# that its ports are exactly the ones the server on PORT saw (the log is
# emptied first); leaves them in the array `ports`.
probe_vs_server() {
	local server=$1 settings=()
	shift
	while [ "$1" != -- ]; do settings+=("$1"); shift; done
	shift
	: >"$(server_log "$server")"
	run shim "${settings[@]}" "$PROBE" "$@"
	[ "$status" -eq 0 ] || { echo "probe failed: $output" >&2; return 1; }
	assert_same_lists "$output" "$(server_ports "$server")"
	mapfile -t ports <<<"$output"
}

# The Python interpreter itself, not a version manager's wrapper script
# around it (pyenv's costs half a second per start): found once per file,
# or per test in a file with a setup_file of its own.
python_path() {
	: "${PYTHON:=$(python3 -c 'import sys; print(sys.executable)')}"
	export PYTHON
}

setup_file() {
	python_path
}

common_setup() {
	python_path
	HOST_NETNS=$(readlink /proc/self/ns/net)
	NETNS_PIDS=()
	BACKGROUND_PIDS=()
	scrub_args
	start_netns
}

setup() {
	common_setup
}

# Background programs and namespace holders are ended by their pid,
# nothing by name.
teardown() {
	local pid
	for pid in "${BACKGROUND_PIDS[@]}" "${NETNS_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
