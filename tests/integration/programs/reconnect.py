#!/usr/bin/env python3
"""reconnect.py MODE CLOSED OPEN: a TCP connect refused by 127.0.0.1:CLOSED,
then the same socket connected to 127.0.0.1:OPEN.  The kernel lets the
port of a refused connect go (getsockname() still shows it): another socket
binds it meanwhile, and the reconnect takes a port afresh.  MODE:

    plain        a blocking connect refused
    sendto       the same, then a send the kernel refuses (EPIPE)
    nonblocking  a non-blocking connect refused, connect() called again
                 (which reports the refusal), the range read
    soerror      a non-blocking connect refused, SO_ERROR read, connect()
                 called again (ECONNABORTED)
    unspec       a non-blocking connect refused, then an AF_UNSPEC disconnect
    dup          the reconnect through a dup(), the range read through the
                 original descriptor
    dup-refused  a dup() connected and refused again first

Prints one line per step (errno names), IP_LOCAL_PORT_RANGE as the program
reads it where MODE reads it, then

    blocker bound            (or the errno of its bind)
    reconnected new-port     (or same-port; or "reconnect ERRNO")

and the reconnected socket's port on stderr."""
import ctypes
import errno
import select
import socket
import sys

IP_LOCAL_PORT_RANGE = 51
mode, closed, opened = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def name(code):
    return errno.errorcode.get(code, str(code))


def disconnect(sock):
    libc = ctypes.CDLL(None, use_errno=True)
    unspec = ctypes.create_string_buffer(16)  # sa_family 0: AF_UNSPEC
    if libc.connect(sock.fileno(), unspec, 16) != 0:
        return name(ctypes.get_errno())
    return "ok"


s = socket.socket()
if mode in ("nonblocking", "soerror", "unspec"):
    s.setblocking(False)
    print("first", name(s.connect_ex(("127.0.0.1", closed))))
    select.select([], [s], [], 10)
    if mode == "nonblocking":
        print("again", name(s.connect_ex(("127.0.0.1", closed))))
        print("range", s.getsockopt(socket.IPPROTO_IP, IP_LOCAL_PORT_RANGE))
    elif mode == "soerror":
        print("so_error", name(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
        print("again", name(s.connect_ex(("127.0.0.1", closed))))
    else:
        print("disconnect", disconnect(s))
    s.setblocking(True)
else:
    print("first", name(s.connect_ex(("127.0.0.1", closed))))
    if mode == "dup-refused":
        print("dup", name(s.dup().connect_ex(("127.0.0.1", closed))))
port = s.getsockname()[1]
if mode == "sendto":
    try:
        s.sendto(b"x", ("127.0.0.1", opened))
        print("sendto ok")
    except OSError as e:
        print("sendto", name(e.errno))
blocker = socket.socket()
try:
    blocker.bind(("0.0.0.0", port))
    print("blocker bound")
except OSError as e:
    print("blocker", name(e.errno))
again = s.dup() if mode == "dup" else s
try:
    again.connect(("127.0.0.1", opened))
    now = again.getsockname()[1]
    print("reconnected", "same-port" if now == port else "new-port")
    if mode == "dup":
        print("range", s.getsockopt(socket.IPPROTO_IP, IP_LOCAL_PORT_RANGE))
    print(now, file=sys.stderr)
except OSError as e:
    print("reconnect", name(e.errno))
