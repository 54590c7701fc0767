#!/usr/bin/env bats
# Nothing the shim sets on a socket outlives the call that needed it
# (tests/helpers/leftover.c): after a UDP connect and an AF_UNSPEC
# disconnect, sendto() and bind(0) behave as without the shim once another
# socket took the old port; a TCP socket read through a dup() and inherited
# across exec shows the application's own IP_LOCAL_PORT_RANGE.  Each under
# every strategy, compared with the same program without the shim.  (Not
# under make tsan: one test runs python3, which a ThreadSanitizer library
# cannot be preloaded into.)

load helper

LEFTOVER=$PSTEST_HELPERS/leftover

# compare CASE PORT STRATEGY...: the case natively, then under each strategy.
compare() {
	local case=$1 port=$2 native strategy
	shift 2
	run --separate-stderr noshim "$LEFTOVER" "$case" "$port"
	echo "native: $output $stderr"
	[ "$status" -eq 0 ]
	native=$output
	for strategy in "$@"; do
		run --separate-stderr shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY="$strategy" \
			"$LEFTOVER" "$case" "$port"
		echo "$strategy: $output $stderr"
		[ "$status" -eq 0 ]
		assert_same_lists "$native" "$output"
	done
}

@test "UDP connect, AF_UNSPEC disconnect, old port taken by another socket: sendto() and bind(0) as without the shim, every strategy" {
	start_server udp 127.0.0.1 5000
	compare udp 5000 auto range reuse exclusive
	[[ $output == "udp: sendto=ok bind0=ok" ]]
}

@test "a connect the kernel refuses before it needs a port leaves the socket unbound, every strategy" {
	compare early 5000 auto range reuse exclusive
	# The TCP sockets stay unbound natively (a UDP socket is autobound
	# by the failed connect itself, with or without the shim).
	[ "$(grep -c '^early: tcp .* bind0=ok$' <<<"$output")" -eq 2 ]
}

@test "a bind and IP_LOCAL_PORT_RANGE through dup() or fcntl(F_DUPFD) hold for a connect through the original descriptor, every strategy" {
	start_server tcp 127.0.0.1 5000
	compare dup 5000 auto range reuse exclusive
	[[ $output == *"second: dup addr=127.0.0.2 inside=20/20"* ]]
	[[ $output == *"second: fcntl addr=127.0.0.2 inside=20/20"* ]]
}

@test "TCP connect: IP_LOCAL_PORT_RANGE and SO_REUSEADDR through a dup() and across exec as without the shim, every strategy" {
	start_server tcp 127.0.0.1 5000
	# Strategy reuse keeps the kernel's SO_REUSEADDR at 1 for the port to
	# be shared, and puts the application's 0 back before an exec.
	compare exec 5000 auto range reuse exclusive
	[[ $output == *"exec: reuseaddr=0 range=0-0"* ]]
}

@test "a client with its own SO_REUSEPORT never gets the port of a live SO_REUSEPORT listener, every strategy" {
	ns_range 40000 40099
	start_server tcp 127.0.0.1 5000
	# Listeners with SO_REUSEPORT on every odd port but 40099; then a
	# client socket with SO_REUSEPORT connects: the kernel's own choice
	# never joins a listener, so under `odd` only 40099 is left.
	local prog='
import socket, sys
held = []
for port in range(40001, 40099, 2):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    l.bind(("127.0.0.1", port))
    l.listen(1)
    held.append(l)
c = socket.socket()
c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
c.connect(("127.0.0.1", 5000))
print(c.getsockname()[1], c.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))'
	run noshim "$PYTHON" -c "$prog"
	echo "native: $output"
	[ "$status" -eq 0 ]
	# Natively connect() takes an even port here, and keeps SO_REUSEPORT.
	local port=${output% *}
	[ $((port % 2)) -eq 0 ]
	[ "${output#* }" = 1 ]
	local strategy
	for strategy in auto range reuse exclusive; do
		# A namespace each: 40099 in TIME_WAIT from the run before would
		# refuse an exclusive bind.
		new_netns
		ns_range 40000 40099
		start_server tcp 127.0.0.1 5000
		run shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$strategy "$PYTHON" -c "$prog"
		echo "$strategy: $output"
		[ "$status" -eq 0 ]
		[ "$output" = "40099 1" ]
	done
}

# A program whose thread moves to another network namespace (unshare(),
# setns(), through libc) makes its sockets there, and so does a child it
# forks from there: the route the shim found to a destination in the first
# says nothing of the second.  In the new
# namespace (no interface up) 127.0.0.1 has no route: natively ENETUNREACH
# leaves the socket unbound, so a bind() after it works.
@test "a program that moves to another network namespace (unshare, setns): a connect with no route there leaves the socket unbound, every strategy" {
	start_server tcp 127.0.0.1 5000
	local prog='
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
def attempt(tag):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 5000))
        result = "connected"
    except OSError as e:
        result = errno.errorcode[e.errno]
    try:
        s.bind(("0.0.0.0", 0))
        bound = "bind=ok"
    except OSError as e:
        bound = "bind=" + errno.errorcode[e.errno]
    print(tag, result, bound)
    s.close()
def call(rc):
    if rc != 0:
        raise OSError(ctypes.get_errno(), "libc")
# A namespace with no route, held by a child, for setns() to enter.
ready_r, ready_w = os.pipe()
done_r, done_w = os.pipe()
child = os.fork()
if child == 0:
    call(libc.unshare(CLONE_NEWNET))
    os.write(ready_w, b"x")
    os.read(done_r, 1)
    os._exit(0)
os.read(ready_r, 1)
home = os.open("/proc/self/ns/net", os.O_RDONLY)
attempt("home")
kept = socket.socket()
call(libc.setns(os.open("/proc/%d/ns/net" % child, os.O_RDONLY), CLONE_NEWNET))
attempt("setns")
# A child forked there: its own sockets are made there, the socket it
# inherited lives where it was made.
pid = os.fork()
if pid == 0:
    kept.connect(("127.0.0.1", 5000))
    attempt("forked")
    os._exit(0)
os.waitpid(pid, 0)
call(libc.setns(home, CLONE_NEWNET))
attempt("back")
os.write(done_w, b"x")
os.waitpid(child, 0)
pid = os.fork()
if pid == 0:
    attempt("child")
    call(libc.unshare(CLONE_NEWNET))
    attempt("unshare")
    os._exit(0)
os.waitpid(pid, 0)'
	run -0 noshim "$PYTHON" -c "$prog"
	echo "native: $output"
	local native=$output
	[ "$native" = "home connected bind=EINVAL
setns ENETUNREACH bind=ok
forked ENETUNREACH bind=ok
back connected bind=EINVAL
child connected bind=EINVAL
unshare ENETUNREACH bind=ok" ]
	local strategy
	for strategy in auto range reuse exclusive; do
		run -0 shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY=$strategy "$PYTHON" -c "$prog"
		echo "$strategy: $output"
		[ "$output" = "$native" ]
	done
}

# The kernel lets the port of a refused TCP connect go; range left [p, p]
# on the socket, and a reconnect met it (EADDRNOTAVAIL once another socket
# held p).  Library, logging (a connect in progress is followed).
library_strategy() {
	local strategy=$1
	shift
	shim PORTSHIM_CONNECT=odd PORTSHIM_STRATEGY="$strategy" \
		PORTSHIM_LOG="$BATS_TEST_TMPDIR/reconnect.jsonl" "$@"
}

@test "a TCP socket connected again after a refused connect gets a port afresh, as natively, every strategy" {
	start_server tcp 127.0.0.1 5000
	reconnect_every_strategy library_strategy
}
