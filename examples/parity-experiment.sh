#!/usr/bin/env bash
# Runs a command once under each port policy, each run logging its
# decisions to its own file, and summarizes the logs with `portshim report`:
# does the parity of the source ports change what the command sees?
#
#   examples/parity-experiment.sh [-o DIR] [-s SETTING] [-p POLICIES] [--] COMMAND [ARG...]
#
#   -o DIR       where the logs and outputs go (default: a new
#                ~/.local/state/portshim/parity-experiment.*, never /tmp)
#   -s SETTING   connect (default), bind or parity: which calls the policy applies to
#   -p POLICIES  the policies, in order (default: "off even odd any"; off = the
#                kernel's own choice, logged)
#
# Each run's output goes to DIR/POLICY.out, its log to DIR/POLICY.jsonl.
# Finds portshim in $PORTSHIM, beside this repository's build/, or in PATH.
# Example:
#   examples/parity-experiment.sh -- sh -c 'for i in 1 2 3 4 5; do curl -so /dev/null http://127.0.0.1:8080/; done'
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir= setting=connect policies="off even odd any"
while getopts o:s:p:h opt; do
	case $opt in
	o) dir=$OPTARG ;;
	s) setting=$OPTARG ;;
	p) policies=$OPTARG ;;
	*) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { echo "parity-experiment: no command given (-h for help)" >&2; exit 2; }
case $setting in connect | bind | parity) ;; *)
	echo "parity-experiment: -s $setting: expected connect, bind or parity" >&2; exit 2 ;;
esac

portshim=${PORTSHIM:-}
if [ -z "$portshim" ]; then
	if [ -x "$here/../build/portshim" ]; then
		portshim=$here/../build/portshim
	elif command -v portshim >/dev/null; then
		portshim=portshim
	else
		make -s -C "$here/.." build/portshim build/libportshim.so >/dev/null
		portshim=$here/../build/portshim
	fi
fi
# Every policy checked before any runs: a typo in the last one must not
# cost the runs before it (portshim's own line says what is wrong).
for policy in $policies; do
	"$portshim" "--$setting" "$policy" --check >/dev/null || exit 125
done
if [ -z "$dir" ]; then
	# The user's own directory: in /tmp another user could create the log
	# files first, and the shim would refuse them.
	state=${XDG_STATE_HOME:-$HOME/.local/state}/portshim
	mkdir -p "$state"
	dir=$(mktemp -d "$state/parity-experiment.XXXXXX")
fi
mkdir -p "$dir"

logs=()
for policy in $policies; do
	log=$dir/$policy.jsonl
	: >"$log"
	status=0
	"$portshim" "--$setting" "$policy" --log "$log" -- "$@" >"$dir/$policy.out" 2>&1 || status=$?
	printf '%-18s exit %-3d %6d decisions  (output: %s)\n' "--$setting $policy" "$status" \
		"$(grep -vc '"call":"\(connect-result\|control\)"' "$log")" "$dir/$policy.out"
	[ "$status" -ne 125 ] || { cat "$dir/$policy.out" >&2; exit 125; }
	logs+=("$log")
done
echo
"$portshim" report "${logs[@]}"
