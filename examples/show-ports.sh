#!/usr/bin/env bash
# Runs curl against a local HTTP server natively and under portshim with
# each parity policy, and shows which source ports the server saw.
#
#   examples/show-ports.sh [REQUESTS]
#
# Everything stays on 127.0.0.1.  Needs curl and python3; builds the library
# first if needed.  SHOW_PORTS_LIB=PATH names another library (the
# library's own settings, PORTSHIM_*, are refused when unknown, so this
# script's name must not start with PORTSHIM_).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-20}
lib=${SHOW_PORTS_LIB:-$PWD/build/libportshim.so}
[ -f "$lib" ] || make -s >/dev/null

work=$(mktemp -d)
python3 examples/port-recorder.py "$work/port" "$work/seen" &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")/"

printf '%-22s %5s %5s  %s\n' "run" "odd" "even" "first ports the server saw"
for policy in native even odd any; do
	: >"$work/seen"
	for _ in $(seq "$requests"); do
		if [ "$policy" = native ]; then
			curl -s -o /dev/null "$url"
		else
			LD_PRELOAD="$lib" PORTSHIM_CONNECT="$policy" curl -s -o /dev/null "$url"
		fi
	done
	odd=$(awk '$1 % 2' "$work/seen" | wc -l)
	total=$(wc -l <"$work/seen")
	label=$([ "$policy" = native ] && echo "curl (kernel's choice)" || echo "PORTSHIM_CONNECT=$policy")
	printf '%-22s %5d %5d  %s\n' "$label" "$odd" "$((total - odd))" \
		"$(head -n 6 "$work/seen" | tr '\n' ' ')"
done
