#!/usr/bin/env bats
# Compatibility matrix: real, unmodified programs under the shim with
# PORTSHIM_CONNECT=odd, each checked by the ports its SERVER saw (servers run
# without the shim).  The namespace's range 40000-40999 makes the kernel give
# connect() even ports, and every test first shows that without the shim, so
# odd ones are the shim's doing.  (curl, socat and nc: programs.bats.)

load helper

setup() {
	common_setup
	ns_range 40000 40999
}

# server_saw PORT COUNT RULE: the server on PORT saw exactly COUNT
# connections, every port satisfying RULE; then empties its log.
server_saw() {
	local got
	got=$(server_ports "$1")
	echo "server $1 saw: $(echo $got)"
	[ "$(printf '%s\n' "$got" | grep -c .)" -eq "$2" ]
	assert_ports "$3" $got
	: >"$(server_log "$1")"
}

@test "wget: odd ports" {
	require_cmd wget
	start_server tcp 127.0.0.1 5000 httplog.py
	local urls=()
	for i in $(seq 10); do urls+=("http://127.0.0.1:5000/$i"); done
	# No keep-alive: wget may otherwise reuse a connection the HTTP/1.0
	# server is closing ("No data received").
	local WGET_OPTS='--no-proxy --no-http-keep-alive --tries=1 --timeout=5'
	run noshim wget -nv -O - $WGET_OPTS "${urls[@]:0:3}"
	echo "$output"
	[ "$status" -eq 0 ]
	server_saw 5000 3 even
	run shim PORTSHIM_CONNECT=odd wget -nv -O - $WGET_OPTS "${urls[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^hello$' <<<"$output")" -eq 10 ]
	server_saw 5000 10 odd
}

@test "python3 http.client: odd ports" {
	start_server tcp 127.0.0.1 5000 httplog.py
	local prog='
import http.client, sys
for i in range(int(sys.argv[1])):
    c = http.client.HTTPConnection("127.0.0.1", 5000, timeout=5)
    c.connect()
    port = c.sock.getsockname()[1]
    c.request("GET", "/")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"hello\n"
    c.close()
    print(port)'
	run noshim "$PYTHON" -c "$prog" 3
	[ "$status" -eq 0 ]
	server_saw 5000 3 even
	run shim PORTSHIM_CONNECT=odd "$PYTHON" -c "$prog" 10
	echo "$output"
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5000)"
	server_saw 5000 10 odd
}

@test "python3 asyncio open_connection (non-blocking connect): odd ports" {
	start_server tcp 127.0.0.1 5000
	local prog='
import asyncio, sys
async def main(n):
    for i in range(n):
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 5000), 5)
        print(w.get_extra_info("sockname")[1], flush=True)
        await asyncio.wait_for(r.read(), 5)
        w.close()
        await w.wait_closed()
asyncio.run(main(int(sys.argv[1])))'
	run noshim "$PYTHON" -c "$prog" 3
	[ "$status" -eq 0 ]
	server_saw 5000 3 even
	run shim PORTSHIM_CONNECT=odd "$PYTHON" -c "$prog" 10
	echo "$output"
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5000)"
	server_saw 5000 10 odd
}

@test "node net.connect: odd ports" {
	require_cmd node
	start_server tcp 127.0.0.1 5000
	local prog='
const net = require("net");
let left = +process.argv[1];
function one() {
  if (left-- <= 0) return;
  const s = net.connect(5000, "127.0.0.1", () => console.log(s.localPort));
  s.setTimeout(5000, () => { console.error("timeout"); process.exit(1); });
  s.on("data", () => {});
  s.on("error", (e) => { console.error(e.message); process.exit(1); });
  s.on("close", one);
}
one();'
	run noshim node -e "$prog" 3
	[ "$status" -eq 0 ]
	server_saw 5000 3 even
	run shim PORTSHIM_CONNECT=odd node -e "$prog" 10
	echo "$output"
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5000)"
	server_saw 5000 10 odd
}

@test "java java.net.Socket: odd ports" {
	require_cmd java
	start_server tcp 127.0.0.1 5000
	# The single-file launcher compiles the source in memory each run.
	run noshim java "$PROGRAMS/JavaSocket.java" 127.0.0.1 5000 3
	echo "$output"
	[ "$status" -eq 0 ]
	server_saw 5000 3 even
	run shim PORTSHIM_CONNECT=odd java "$PROGRAMS/JavaSocket.java" 127.0.0.1 5000 10
	echo "$output"
	[ "$status" -eq 0 ]
	assert_same_lists "$output" "$(server_ports 5000)"
	server_saw 5000 10 odd
}

@test "openssl s_client against a local openssl s_server (throwaway self-signed cert): odd ports" {
	require_cmd openssl
	local t=$BATS_TEST_TMPDIR i
	timeout 20 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$t/key.pem" -out "$t/cert.pem" -days 1 -subj /CN=localhost 2>/dev/null
	in_ns_background "$t/s_server.out" openssl s_server -accept 127.0.0.1:5443 -www \
		-cert "$t/cert.pem" -key "$t/key.pem"
	for i in $(seq 500); do
		grep -q ACCEPT "$t/s_server.out" && break
		sleep 0.02
	done
	grep -q ACCEPT "$t/s_server.out"
	# s_server logs no peer ports: clients reach it through a relay that does.
	: >"$(server_log 5444)"
	rm -f "$(server_log 5444).ready"
	in_ns_background "$t/relay.out" "$PYTHON" "$PROGRAMS/tcplogproxy.py" 127.0.0.1 5444 5443 "$(server_log 5444)"
	for i in $(seq 500); do
		[ -e "$(server_log 5444).ready" ] && break
		sleep 0.02
	done
	[ -e "$(server_log 5444).ready" ] || { cat "$t/relay.out"; return 1; }
	for i in 1 2 3 4 5 6; do
		if [ "$i" -eq 1 ]; then
			run noshim sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | timeout 10 openssl s_client -quiet -connect 127.0.0.1:5444 2>&1'
		else
			run shim PORTSHIM_CONNECT=odd sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | timeout 10 openssl s_client -quiet -connect 127.0.0.1:5444 2>&1'
		fi
		[ "$status" -eq 0 ]
		grep -q '^HTTP/1.0 200 ok' <<<"$output" || { echo "$output"; false; }
		[ "$i" -ne 1 ] || server_saw 5444 1 even
	done
	server_saw 5444 5 odd
}

# start_nginx PORT shim|seccomp|bpf|noshim [WORKERS [SETTING=VALUE...]]:
# nginx on 127.0.0.1:PORT proxying to the upstream on 5000, everything in the
# test's directory; one process, or a master and WORKERS pre-forked workers;
# under the library, under `portshim --backend seccomp` or `bpf` (in a
# cgroup it makes under its own), or alone.
start_nginx() {
	local port=$1 mode=$2 workers=${3:-0} d=$BATS_TEST_TMPDIR/nginx-$1 i env=()
	shift 2
	[ $# -eq 0 ] || shift
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<-CONF
	daemon off;
	master_process $([ "$workers" -gt 0 ] && echo "on; worker_processes $workers" || echo off);
	$([ "$(id -u)" != 0 ] || echo "user root;") # workers write the test's log
	pid $d/nginx.pid;
	error_log $d/error.log;
	events { worker_connections 64; }
	http {
		access_log off;
		client_body_temp_path $d/body;
		proxy_temp_path $d/proxy;
		fastcgi_temp_path $d/fastcgi;
		uwsgi_temp_path $d/uwsgi;
		scgi_temp_path $d/scgi;
		server {
			listen 127.0.0.1:$port;
			location / { proxy_pass http://127.0.0.1:5000; }
		}
	}
	CONF
	case $mode in
	shim) env=(env LD_PRELOAD="$(shim_preload)" PORTSHIM_CONNECT=odd "$@") ;;
	seccomp | bpf) env=(env PORTSHIM_CONNECT=odd "$@" "$(dirname "$PSTEST_LIB")/portshim" --backend "$mode" --) ;;
	esac
	in_ns_background "$d/out" "${env[@]}" nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf"
	for i in $(seq 500); do
		in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
		sleep 0.02
	done
	echo "nginx did not start:" >&2
	cat "$d/out" "$d/error.log" >&2
	return 1
}

@test "nginx reverse proxy under the shim: its upstream connections get odd ports" {
	require_cmd nginx
	start_server tcp 127.0.0.1 5000 httplog.py
	local prog='
import http.client, sys
for i in range(int(sys.argv[2])):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
    c.request("GET", "/")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"hello\n", r.status
    c.close()'
	start_nginx 8081 noshim
	run noshim "$PYTHON" -c "$prog" 8081 3
	echo "$output"
	[ "$status" -eq 0 ]
	server_saw 5000 3 even
	start_nginx 8080 shim
	run noshim "$PYTHON" -c "$prog" 8080 10
	echo "$output"
	[ "$status" -eq 0 ]
	server_saw 5000 10 odd
}

# nginx_workers shim|seccomp|bpf SETTING=VALUE...: nginx with 4 pre-forked
# workers under the library, the seccomp supervisor or the bpf backend (odd) in the
# namespace's default range; 400 proxied requests from 8 clients at once must
# all be answered 200, the upstream must see 400 odd ports, and the event log
# must show every decision ok, made by the 4 workers.
nginx_workers() {
	local mode=$1
	shift
	require_cmd nginx
	ns_range 32768 60999
	start_server tcp 127.0.0.1 5000 httplog.py
	local log=$BATS_TEST_TMPDIR/nginx.jsonl i workers=0 prog='
import concurrent.futures, http.client, sys
def get(i):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
    c.request("GET", "/")
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status if body == b"hello\n" else -r.status
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    statuses = list(pool.map(get, range(400)))
print(" ".join(f"{s}:{statuses.count(s)}" for s in sorted(set(statuses))))'
	start_nginx 8090 "$mode" 4 PORTSHIM_LOG="$log" "$@"
	# The master forked the 4 workers that connect upstream.
	# nginx listens before it writes its pid file.
	local master
	for i in $(seq 500); do
		master=$(cat "$BATS_TEST_TMPDIR/nginx-8090/nginx.pid" 2>/dev/null) || true
		workers=0
		[ -z "$master" ] || workers=$(pgrep -c -P "$master") || true
		[ "$workers" -lt 4 ] || break
		sleep 0.02
	done
	[ "$workers" -eq 4 ]
	run noshim "$PYTHON" -c "$prog" 8090
	echo "$*: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "200:400" ]
	server_saw 5000 400 odd
	run jq -r 'select(.call == "connect") | "\(.result) \(.attempts)"' "$log"
	[ "$(grep -c . <<<"$output")" -eq 400 ]
	[ "$(grep -cv '^ok 1$' <<<"$output")" -eq 0 ] || { sort <<<"$output" | uniq -c; false; }
	# All 4 workers connected upstream.
	[ "$(jq -r 'select(.call == "connect") | .pid' "$log" | sort -u | wc -l)" -eq 4 ]
}

@test "nginx with 4 pre-forked workers, 400 proxied requests, 8 clients at once: all 200, odd, first try (strategy auto)" {
	nginx_workers shim
}

@test "nginx with 4 pre-forked workers, 400 proxied requests, 8 clients at once: all 200, odd, first try (strategy range)" {
	nginx_workers shim PORTSHIM_STRATEGY=range
}

@test "nginx with 4 pre-forked workers, 400 proxied requests, 8 clients at once: all 200, odd, first try (strategy reuse)" {
	nginx_workers shim PORTSHIM_STRATEGY=reuse
}

@test "nginx with 4 pre-forked workers, 400 proxied requests, 8 clients at once: all 200, odd, first try (strategy exclusive)" {
	nginx_workers shim PORTSHIM_STRATEGY=exclusive
}

@test "nginx with 4 pre-forked workers under portshim --backend seccomp, 400 proxied requests: all 200, odd, first try (strategy auto)" {
	nginx_workers seccomp
}

@test "nginx with 4 pre-forked workers under portshim --backend seccomp, 400 proxied requests: all 200, odd, first try (strategy range)" {
	nginx_workers seccomp PORTSHIM_STRATEGY=range
}

@test "nginx with 4 pre-forked workers under portshim --backend seccomp, 400 proxied requests: all 200, odd, first try (strategy reuse)" {
	nginx_workers seccomp PORTSHIM_STRATEGY=reuse
}

@test "nginx with 4 pre-forked workers under portshim --backend seccomp, 400 proxied requests: all 200, odd, first try (strategy exclusive)" {
	nginx_workers seccomp PORTSHIM_STRATEGY=exclusive
}

@test "nginx with 4 pre-forked workers under portshim --backend bpf, 400 proxied requests: all 200, odd, first try (strategy auto)" {
	[ "$(id -u)" = 0 ] || skip "the bpf backend needs root"
	nginx_workers bpf
}

@test "nginx with 4 pre-forked workers under portshim --backend bpf, 400 proxied requests: all 200, odd, first try (strategy exclusive)" {
	[ "$(id -u)" = 0 ] || skip "the bpf backend needs root"
	nginx_workers bpf PORTSHIM_STRATEGY=exclusive
}
