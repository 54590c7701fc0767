# Part of helper.bash, which sources it (a test file loads helper alone):
# running programs in the test's network namespace.  The namespace itself
# (new_netns), its sysctls, and what a program there sees of the test's
# environment: exactly the settings the test gives, LD_PRELOAD only under
# `shim`, and no PORTSHIM_* variable of the caller's.

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
# PORTSHIM_* names, and a test must set exactly the settings it means.
# Computed once per test, in common_setup; LD_PRELOAD goes too.
scrub_args() {
	local name
	SCRUB=(-u LD_PRELOAD)
	for name in $(compgen -e); do
		case $name in PORTSHIM_*) SCRUB+=(-u "$name") ;; esac
	done
}

# new_netns: a sleeping process in a new network namespace; its pid becomes
# NS_PID, the namespace in_ns uses, and lo is up.  The holder of the
# previous NS_PID, if any, is ended (the namespace lives on while a
# background program of the test is still in it).  setup makes the first;
# a test makes another when it needs a kernel with no history (no TIME_WAIT
# from a run before).  Root uses `unshare -n`, others a user namespace too.
new_netns() {
	local i ns
	if [ -n "${NS_PID:-}" ]; then
		kill "$NS_PID" 2>/dev/null || true
		wait "$NS_PID" 2>/dev/null || true
	fi
	if [ "$(id -u)" = 0 ]; then
		unshare -n sleep "$BACKGROUND_LIFETIME" </dev/null >/dev/null 2>&1 3>&- &
	else
		unshare -rn sleep "$BACKGROUND_LIFETIME" </dev/null >/dev/null 2>&1 3>&- &
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

# in_ns COMMAND...: COMMAND in the test's namespace, with the test's own
# environment, bounded by timeout (NS_TIMEOUT seconds, default 60).  Not
# root: the user namespace too, where our uid is root (unshare -r's
# mapping; setgroups is denied there, hence --preserve-credentials).
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
# it back (blanks and tabs alike: "0 2147483647" reads "0<TAB>2147483647").
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
# background, stdout and stderr to OUT, with no PORTSHIM_* setting and no
# LD_PRELOAD of the test's environment (a program under the shim gets them
# from `env` in COMMAND).  A simple command, not a function, so that $! is
# timeout's own pid (kept for teardown, and the caller may use $! too), and
# timeout passes a SIGTERM on to COMMAND.  OUT is emptied before this
# returns: the job's own redirection comes later, and a caller waiting for a
# line must not find an earlier run's.
in_ns_background() {
	local out=$1 userns=()
	shift
	: >"$out"
	[ "$(id -u)" = 0 ] || userns=(-U --preserve-credentials)
	timeout "$BACKGROUND_LIFETIME" nsenter -t "$NS_PID" -n "${userns[@]}" -- \
		env "${SCRUB[@]}" "$@" </dev/null >"$out" 2>&1 3>&- &
	BACKGROUND_PIDS+=("$!")
}
