#!/usr/bin/env bash
# The load-balancer skew demo: a client makes CONNECTIONS connections to a
# balancer on 127.0.0.1 with BACKENDS backends, natively and under portshim
# --connect even / odd / any, and the table shows which backends got them,
# for a weak hash of the 4-tuple (the old Linux bonding layer3+4 one) and a
# strong one.
#
#   examples/lb-demo/run.sh [CONNECTIONS [BACKENDS]]     (make demo runs it)
#
# Needs python3; builds build/portshim if PORTSHIM does not name one.  No
# root, nothing outside 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
connections=${1:-200}
backends=${2:-4}
portshim=${PORTSHIM:-$root/build/portshim}
if [ ! -x "$portshim" ]; then
	make -s -C "$root" build/portshim build/libportshim.so >/dev/null
fi

# The interpreter itself, not a version manager's wrapper script around it.
python=$(python3 -c 'import sys; print(sys.executable)')
work=$(mktemp -d)
"$python" "$here/lb.py" "$backends" "$work/ready" 2>"$work/lb.err" &
lb=$!
trap 'kill "$lb" 2>/dev/null; wait "$lb" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
	[ -s "$work/ready" ] && break
	kill -0 "$lb" 2>/dev/null || { cat "$work/lb.err" >&2; exit 1; }
	sleep 0.05
done
read -r weak strong control <"$work/ready"

# cell COUNT: appends the count and a bar to $row; a full bar is what a
# backend gets when only half of them are reached.
full=$((2 * connections / backends))
bars=("" "#" "##" "###" "####" "#####" "######" "#######" "########")
cell() {
	local n=$1 width=$(( ($1 * 6 + full / 2) / (full > 0 ? full : 1) ))
	((n > 0 && width == 0)) && width=1
	((width > 8)) && width=8
	printf -v row '%s %5d %-8s' "$row" "$n" "${bars[width]}"
}

echo "portshim load-balancer demo: $connections connections per run to each of two"
echo "balancers on 127.0.0.1, $backends backends each; which backends got them:"
echo "  weak hash:   ((sport ^ dport) ^ ((saddr ^ daddr) & 0xffff)) % $backends"
echo "               (Linux bonding layer3+4 before b5f862180d70: its low bit is the port's)"
echo "  strong hash: keyed BLAKE2b of the 4-tuple % $backends"
echo
header=$(printf '%-7s %-27s' hash "client's source ports")
for ((b = 0; b < backends; b++)); do header+=$(printf ' %-14s' "backend $b"); done
printf '%s %s\n' "$header" reached

declare -A rows
for run in native even odd any; do
	if [ "$run" = native ]; then
		label="native (kernel's choice)"
		"$python" "$here/client.py" "$connections" "$weak" "$strong"
	else
		label="portshim --connect $run"
		"$portshim" --connect "$run" -- "$python" "$here/client.py" "$connections" "$weak" "$strong"
	fi
	while read -r hash counts; do
		printf -v row '%-7s %-27s' "$hash" "$label"
		reached=0
		for n in $counts; do
			cell "$n"
			((n > 0)) && reached=$((reached + 1))
		done
		rows[$hash]+="$row $reached of $backends"$'\n'
	done < <("$python" "$here/stats.py" "$control")
done
printf '%s' "${rows[weak]}" "${rows[strong]}"
echo
echo "The kernel gives connect() source ports of one parity (Linux 4.2+), so the weak"
echo "hash reaches half the backends natively, as under even or odd; with both parities"
echo "(any) it reaches all of them.  The strong hash reaches all of them in every run."
