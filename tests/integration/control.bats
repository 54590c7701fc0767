#!/usr/bin/env bats
# PORTSHIM_CONTROL (README.md, "Switching a running program"): a running
# program switched from even to any by rewriting its control file, and a bad
# control file refused.

load helper

@test "control file: a running program switches from even to any, and keeps any on a bad file" {
	start_server tcp 127.0.0.1 5000
	local dir=$BATS_TEST_TMPDIR log=$BATS_TEST_TMPDIR/ev.jsonl ctl=$BATS_TEST_TMPDIR/ctl.conf
	printf 'connect = even\n' >"$ctl"
	: >"$log"
	# One process, connecting every 20 ms until told to stop.
	in_ns_background "$dir/client.out" env LD_PRELOAD="$(shim_preload)" \
		PORTSHIM_CONTROL="$ctl" PORTSHIM_LOG="$log" "$PYTHON" -c '
import os, socket, sys, time
while not os.path.exists(sys.argv[1]):
    s = socket.socket()
    s.connect(("127.0.0.1", 5000))
    s.recv(100)
    s.close()
    time.sleep(0.02)' "$dir/stop"
	wait_for "$log" '[d for d in ls if d["call"] == "control" and d["result"] == "switched" and d["connect"] == "even"] and len([d for d in ls if d["call"] == "connect"]) >= 10'
	printf '# switched by the test\nconnect = any\n' >"$ctl.new" && mv "$ctl.new" "$ctl"
	wait_for "$log" 'any(d["call"] == "control" and d["connect"] == "any" for d in ls)'
	wait_for "$log" 'len([d for d in ls[[i for i, d in enumerate(ls) if d["call"] == "control"][-1]:] if d["call"] == "connect"]) >= 30'
	printf 'connect = evn\n' >"$ctl.new" && mv "$ctl.new" "$ctl"
	wait_for "$log" 'any(d["call"] == "control" and d["result"] == "refused" for d in ls)'
	wait_for "$log" 'len([d for d in ls[[i for i, d in enumerate(ls) if d["call"] == "control"][-1]:] if d["call"] == "connect"]) >= 5'
	touch "$dir/stop"
	wait "${BACKGROUND_PIDS[-1]}" || true
	cat "$dir/client.out"
	"$PYTHON" - "$log" <<-'EOF'
	import json, sys
	ls = [json.loads(l) for l in open(sys.argv[1])]
	ctl = [i for i, d in enumerate(ls) if d["call"] == "control"]
	assert [ls[i]["result"] for i in ctl] == ["switched", "switched", "refused"], [ls[i] for i in ctl]
	assert [ls[i]["connect"] for i in ctl] == ["even", "any", "any"], [ls[i] for i in ctl]
	assert "evn" in ls[ctl[2]]["error"], ls[ctl[2]]
	first = [d for d in ls[:ctl[0]] if d["call"] == "connect"]
	even = [d for d in ls[ctl[0]:ctl[1]] if d["call"] == "connect"]
	anyp = [d for d in ls[ctl[1]:] if d["call"] == "connect"]
	# The control file is read before the first connect chooses.
	assert first == [], first
	assert len(even) >= 10 and all(d["policy"] == "even" and d["port"] % 2 == 0 for d in even), even
	assert len(anyp) >= 35 and all(d["policy"] == "any" for d in anyp), anyp
	assert {d["port"] % 2 for d in anyp} == {0, 1}, [d["port"] for d in anyp]
	EOF
	# The refusal was said once on stderr, naming the value.
	[ "$(grep -c "^portshim: .*'evn'.*the policies in force stay" "$dir/client.out")" -eq 1 ]
}

@test "control file: only policies can be switched; a privileged process refuses a file others can write" {
	local log=$BATS_TEST_TMPDIR/ev.jsonl ctl=$BATS_TEST_TMPDIR/ctl.conf
	start_server tcp 127.0.0.1 5000
	printf 'range = 40000-40100\n' >"$ctl"
	run shim PORTSHIM_CONTROL="$ctl" PORTSHIM_LOG="$log" PORTSHIM_CONNECT=odd \
		"$PROBE" -n 2 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports odd $(output_ports)
	grep -q '"call":"control".*"result":"refused","connect":"odd".*only connect, bind and parity can be switched' "$log"
	[ "$(id -u)" = 0 ] || skip "the StrictModes half needs root"
	printf 'connect = even\n' >"$ctl" && chmod 0666 "$ctl"
	: >"$log"
	run shim PORTSHIM_CONTROL="$ctl" PORTSHIM_LOG="$log" PORTSHIM_CONNECT=odd \
		"$PROBE" -n 2 connect 127.0.0.1 5000
	[ "$status" -eq 0 ]
	assert_ports odd $(output_ports)
	grep -q '"result":"refused","connect":"odd".*writable by group or others' "$log"
}
