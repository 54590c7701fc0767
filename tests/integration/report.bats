#!/usr/bin/env bats
# The event log written by many processes and threads at once, and
# `portshim report` over logs of real programs: its numbers are the log's.

load helper
load ../helpers/cli

# count_lines FILE PYTHON_CONDITION: how many JSON lines of FILE satisfy it
# (a condition over `d`).
count_lines() {
	"$PYTHON" -c '
import json, sys
print(sum(1 for line in open(sys.argv[1]) if eval(sys.argv[2], {"d": json.loads(line)})))' "$1" "$2"
}

@test "4 processes x 4 threads log into one file: every line is JSON, the counts add up" {
	start_server tcp 127.0.0.1 5000
	log=$BATS_TEST_TMPDIR/ev.jsonl stats=$BATS_TEST_TMPDIR/stats
	pids=()
	for i in 1 2 3 4; do
		wrap --connect odd --log "$log" --stats "$stats" -- "$THREADCONN" -t 4 -n 25 127.0.0.1 5000 \
			>"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
	cat "$BATS_TEST_TMPDIR"/out.*
	[ "$(wc -l <"$log")" -eq 400 ]
	# Every line is one whole JSON object with every field (none torn or
	# interleaved), and the numbers add up exactly.
	"$PYTHON" - "$log" <<-'EOF'
	import collections, json, sys
	fields = ["time", "pid", "tid", "comm", "fd", "call", "proto", "family", "dst", "dst_addr",
	          "dst_port", "policy", "strategy", "port", "parity", "attempts", "result", "errno",
	          "error"]
	pids, tids = collections.Counter(), collections.Counter()
	for n, line in enumerate(open(sys.argv[1]), 1):
	    d = json.loads(line)
	    assert list(d) == fields, (n, list(d))
	    assert d["call"] == "connect" and d["proto"] == "tcp" and d["result"] == "ok", (n, d)
	    assert d["port"] % 2 == 1 and d["parity"] == "odd" and d["policy"] == "odd", (n, d)
	    assert d["dst"] == "127.0.0.1:5000" and d["attempts"] >= 1, (n, d)
	    assert d["dst_addr"] == "127.0.0.1" and d["dst_port"] == 5000, (n, d)
	    assert d["comm"] == "threadconn", (n, d)
	    pids[d["pid"]] += 1
	    tids[(d["pid"], d["tid"])] += 1
	assert sorted(pids.values()) == [100] * 4, pids
	assert sorted(tids.values()) == [25] * 16, tids
	EOF
	# Each thread said it made 25 good connects, and each process's summary agrees.
	[ "$(cat "$BATS_TEST_TMPDIR"/out.* | awk '$2 == 25 && $3 == 0' | wc -l)" -eq 16 ]
	[ "$(grep -c ': 100 decisions: ok 100, fallback 0, exhausted 0, passthrough 0, clash 0; ports: even 0, odd 100;' "$stats")" -eq 4 ]
	# The server saw the 400 connections.
	[ "$(server_ports 5000 400 | wc -l)" -eq 400 ]

	run "$PSTEST_CLI" report --json "$log"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/r.json"
	[ "$(json_get "$BATS_TEST_TMPDIR/r.json" 'd["decisions"], d["processes"], d["bad_lines"], d["parity"]["odd"]')" = "(400, 4, 0, 400)" ]
}

@test "report: the table's numbers are those of a real program's log" {
	start_server tcp 127.0.0.1 5000
	start_server udp 127.0.0.1 5001
	log=$BATS_TEST_TMPDIR/ev.jsonl
	run wrap --connect odd --log "$log" -- "$PYTHON" "$PROGRAMS/pyclient.py" tcp 127.0.0.1 5000 30
	[ "$status" -eq 0 ]
	run wrap --connect even --log "$log" -- "$PYTHON" "$PROGRAMS/pyclient.py" udp 127.0.0.1 5001 10
	[ "$status" -eq 0 ]
	run wrap --bind odd --log "$log" -- "$PROBE" -n 5 bind0
	[ "$status" -eq 0 ]
	# Python connects with a timeout, non-blocking: each of its 30 connects
	# is in progress first, and its end has a line of its own.
	total=$(count_lines "$log" 'd["call"] != "connect-result"')
	[ "$total" -eq 45 ]
	[ "$(count_lines "$log" 'd["call"] == "connect" and d["error"] == "EINPROGRESS"')" -eq 30 ]
	[ "$(count_lines "$log" 'd["call"] == "connect-result" and d["result"] == "connected"')" -eq 30 ]
	[ "$(wc -l <"$log")" -eq 75 ]
	run "$PSTEST_CLI" report "$log"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "portshim report: 1 file, 45 decisions from 3 processes, 0 bad lines" ]
	odd=$(count_lines "$log" 'd["parity"] == "odd" and d["call"] != "connect-result"')
	even=$(count_lines "$log" 'd["parity"] == "even"')
	[ "$odd" -eq 35 ]
	[ "$even" -eq 10 ]
	grep -E '^  odd +35 +77\.8%  #{31}$' <<<"$output"
	grep -E '^  even +10 +22\.2%  #{9}$' <<<"$output"
	grep -E '^  none \(no port\) +0 +0\.0%  $' <<<"$output"
	# Per destination: TCP to 5000 all odd, UDP to 5001 all even, binds have none.
	grep -E '^  127\.0\.0\.1:5000 +30 +0 +30 +0  o{20}$' <<<"$output"
	grep -E '^  127\.0\.0\.1:5001 +10 +10 +0 +0  e{20}$' <<<"$output"
	grep -E '^  \(none: bind\) +5 +0 +5 +0  o{20}$' <<<"$output"
	# Per policy.
	grep -E '^  odd +35 +0 +35 +0 ' <<<"$output"
	grep -E '^  even +10 +10 +0 +0 ' <<<"$output"
	grep -E '^  ok +45 +100\.0%$' <<<"$output"
	grep -E "^  1 +$(count_lines "$log" 'd["attempts"] == 1') " <<<"$output"
	grep -E '^  connect/tcp +30 ' <<<"$output"
	grep -E '^  sendto/udp +10 ' <<<"$output"
	grep -E '^  bind/tcp +5 ' <<<"$output"
	# In progress is no error.
	grep -Fx 'in progress 30 (connect() returned EINPROGRESS; no error): then connected 30, failed 0, not seen 0' <<<"$output"
	! grep -E '^  EINPROGRESS ' <<<"$output"
}

# Issue 14 item 3: "did that connection work?" from the log alone.
@test "log: a curl to a closed port is in progress, then failed ECONNREFUSED; comm, dst_addr, dst_port" {
	require_cmd curl
	log=$BATS_TEST_TMPDIR/ev.jsonl
	run plain_wrap --connect odd --log "$log" -- curl -s --max-time 10 http://127.0.0.1:9/
	[ "$status" -eq 7 ] # curl: "Couldn't connect"
	cat "$log"
	"$PYTHON" - "$log" <<-'EOF'
	import json, sys
	lines = [json.loads(l) for l in open(sys.argv[1])]
	connect = [d for d in lines if d["call"] == "connect"]
	result = [d for d in lines if d["call"] == "connect-result"]
	assert len(connect) == 1 and len(result) == 1, lines
	c, r = connect[0], result[0]
	assert c["error"] == "EINPROGRESS" and c["result"] == "ok" and c["port"] % 2 == 1, c
	assert c["comm"] == "curl" and r["comm"] == "curl", (c, r)
	assert c["dst"] == "127.0.0.1:9" and c["dst_addr"] == "127.0.0.1" and c["dst_port"] == 9, c
	for k in ("pid", "fd", "port", "dst", "dst_addr", "dst_port", "proto", "family"):
	    assert r[k] == c[k], (k, c, r)
	assert r["result"] == "failed" and r["error"] == "ECONNREFUSED" and r["errno"] == 111, r
	EOF
	run --separate-stderr "$PSTEST_CLI" report --json "$log"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/r.json"
	[ "$(json_get "$BATS_TEST_TMPDIR/r.json" 'd["errors"], d["in_progress"], d["decisions"]')" = \
		"({'ECONNREFUSED': 1}, {'count': 1, 'connected': 0, 'failed': 1}, 1)" ]
}

@test "log: a non-blocking connect that completes: connect-result connected, from SO_ERROR" {
	log=$BATS_TEST_TMPDIR/ev.jsonl
	run wrap --connect any --log "$log" -- "$NBCONNECT" 127.0.0.1 5000
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "EINPROGRESS EALREADY 0 0 EISCONN" ]
	port=${lines[0]%% *}
	# One end, logged once (the later connect() calls log nothing more).
	[ "$(count_lines "$log" 'd["call"] == "connect-result"')" -eq 1 ]
	[ "$(count_lines "$log" "d['call'] == 'connect-result' and d['result'] == 'connected' and d['error'] is None and d['port'] == $port and d['comm'] == 'nbconnect'")" -eq 1 ]
}

@test "report: reads lines with a prefix (docker compose logs); no decision at all exits 1" {
	log=$BATS_TEST_TMPDIR/ev.jsonl
	run wrap --connect odd --log "$log" -- "$PROBE" -n 3 bind0
	[ "$status" -eq 0 ]
	sed 's/^/app-1  | /' "$log" >"$BATS_TEST_TMPDIR/compose.log"
	run --separate-stderr "$PSTEST_CLI" report "$BATS_TEST_TMPDIR/compose.log"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "portshim report: 1 file, 3 decisions from 1 process, 0 bad lines" ]
	# The same without the shim's lines: nothing to report is a failure.
	printf 'app-1  | listening on :8080\n\n' >"$BATS_TEST_TMPDIR/other.log"
	run --separate-stderr "$PSTEST_CLI" report "$BATS_TEST_TMPDIR/other.log"
	[ "$status" -eq 1 ]
	[[ $stderr == *"no decision in 1 line read"* ]]
	: >"$BATS_TEST_TMPDIR/empty.log"
	run --separate-stderr "$PSTEST_CLI" report "$BATS_TEST_TMPDIR/empty.log"
	[ "$status" -eq 1 ]
}

@test "report --json: one JSON object, the same numbers, every destination" {
	start_server tcp 127.0.0.1 5000
	start_server tcp 127.0.0.1 5001
	log=$BATS_TEST_TMPDIR/ev.jsonl
	wrap --connect even --log "$log" -- "$PROBE" -n 12 connect 127.0.0.1 5000 >/dev/null
	wrap --connect any --log "$log" -- "$PROBE" -n 8 connect 127.0.0.1 5001 >/dev/null
	run wrap --connect off --log "$log" -- "$PROBE" -n 3 connect 127.0.0.1 5002
	[ "$status" -eq 1 ] # nothing listens there: ECONNREFUSED, still decisions
	"$PSTEST_CLI" report --json "$log" >"$BATS_TEST_TMPDIR/r.json"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/r.json")" -eq 1 ]
	j=$BATS_TEST_TMPDIR/r.json
	[ "$(json_get "$j" 'd["files"], d["decisions"], d["bad_lines"]')" = "(1, 23, 0)" ]
	[ "$(json_get "$j" 'd["parity"]["even"] + d["parity"]["odd"] + d["parity"]["none"]')" = 23 ]
	[ "$(json_get "$j" 'd["parity"]["even"]')" -eq "$(count_lines "$log" 'd["parity"] == "even"')" ]
	[ "$(json_get "$j" 'sum(d["result"].values()), sum(d["attempts"].values())')" = "(23, 23)" ]
	[ "$(json_get "$j" 'd["result"]["passthrough"], d["attempts"]["0"]')" = "(3, 3)" ]
	[ "$(json_get "$j" 'd["calls"]')" = "{'connect/tcp': 23}" ]
	[ "$(json_get "$j" 'd["errors"]["ECONNREFUSED"]')" = 3 ]
	# A refused connect under off leaves no port to log: parity none.
	[ "$(json_get "$j" '[(x["dst"], x["total"], x["even"], x["none"]) for x in d["destinations"]]')" = \
		"[('127.0.0.1:5000', 12, 12, 0), ('127.0.0.1:5001', 8, $(count_lines "$log" 'd["dst"].endswith(":5001") and d["parity"] == "even"'), 0), ('127.0.0.1:5002', 3, 0, 3)]" ]
	[ "$(json_get "$j" 'sorted(x["policy"] for x in d["policies"])')" = "['any', 'even', 'off']" ]
}

@test "report reads many logs at once, and standard input" {
	start_server tcp 127.0.0.1 5000
	for policy in even odd; do
		wrap --connect "$policy" --log "$BATS_TEST_TMPDIR/$policy.jsonl" -- \
			"$PROBE" -n 7 connect 127.0.0.1 5000 >/dev/null
	done
	run "$PSTEST_CLI" report --json "$BATS_TEST_TMPDIR/even.jsonl" "$BATS_TEST_TMPDIR/odd.jsonl"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/r.json"
	[ "$(json_get "$BATS_TEST_TMPDIR/r.json" 'd["files"], d["decisions"], d["parity"]["even"], d["parity"]["odd"], d["processes"]')" = "(2, 14, 7, 7, 2)" ]
	run "$PSTEST_CLI" report - <"$BATS_TEST_TMPDIR/odd.jsonl"
	[ "${lines[0]}" = "portshim report: 1 file, 7 decisions from 1 process, 0 bad lines" ]
}

@test "report: bad lines are counted and named, never fatal; the parser is strict" {
	start_server tcp 127.0.0.1 5000
	log=$BATS_TEST_TMPDIR/ev.jsonl
	wrap --connect odd --log "$log" -- "$PROBE" -n 4 connect 127.0.0.1 5000 >/dev/null
	good=$(head -n 1 "$log") ff=$'\xff'
	{
		echo 'not json at all'
		printf '%s\n' "${good:0:40}"                          # a torn line
		printf '%s\n' "${good/\"port\":/\"port\":\"x\",\"p\":}" # port not a number
		printf '%s\n' "${good/\"attempts\":/\"attempts\":-}"    # negative attempts
		printf '%s\n' "${good/\"parity\":\"odd\"/\"parity\":\"even\"}" # disagrees with port
		printf '%s\n' "${good/\"fd\":/\"fd\":[1],\"x\":}"      # nested
		printf '%s\n' "${good/\"fd\":/\"pid\":1,\"x\":}"       # duplicate key
		printf '%s\n' "${good/\"fd\":/\"fd\":01,\"x\":}"       # leading zero
		printf '%s\n' "${good/\"tcp\"/\"t${ff}p\"}"              # invalid UTF-8
		printf '%s x\n' "$good"                                # text after the object
		printf '\n  \n'                                       # blank: not counted
	} >>"$log"
	wrap --connect odd --log "$log" -- "$PROBE" -n 2 connect 127.0.0.1 5000 >/dev/null
	run --separate-stderr "$PSTEST_CLI" report "$log"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "portshim report: 1 file, 6 decisions from 2 processes, 10 bad lines" ]
	grep -E '^  odd +6 +100\.0%' <<<"$output"
	[ "$(grep -c "^portshim report: $log:[0-9]*: bad line (.*): skipped\$" <<<"$stderr")" -eq 10 ]
	grep -q ":5: bad line (expected '{'): skipped" <<<"$stderr"
	grep -q ':7: bad line (field "port": expected an integer from 1 to 65535 or null): skipped' <<<"$stderr"
	grep -q ':9: bad line (field "parity" does not match "port"): skipped' <<<"$stderr"
	grep -q ':10: bad line (nested object or array at byte ' <<<"$stderr"
	grep -q ':11: bad line (duplicate key at byte ' <<<"$stderr"
	grep -q ':13: bad line (invalid UTF-8 in a string at byte ' <<<"$stderr"
	grep -q ':14: bad line (text after the object at byte ' <<<"$stderr"
}

@test "report: usage errors exit 125, an unreadable file 1" {
	run --separate-stderr "$PSTEST_CLI" report
	[ "$status" -eq 125 ]
	[[ $stderr == "portshim report: no log file given; usage: "* ]]
	run --separate-stderr "$PSTEST_CLI" report --frob x
	[ "$status" -eq 125 ]
	run --separate-stderr "$PSTEST_CLI" report "$BATS_TEST_TMPDIR/missing.jsonl"
	[ "$status" -eq 1 ]
	[ "$stderr" = "portshim report: $BATS_TEST_TMPDIR/missing.jsonl: No such file or directory" ]
	run "$PSTEST_CLI" report --help
	[ "$status" -eq 0 ]
	[[ $output == "usage: portshim report [--json] FILE..."* ]]
}
