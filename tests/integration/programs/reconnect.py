#!/usr/bin/env python3
"""reconnect.py CLOSED OPEN: a TCP connect refused by 127.0.0.1:CLOSED, then
the same socket connected to 127.0.0.1:OPEN.  The kernel lets the port of a
refused connect go (getsockname() still shows it): another socket binds it
meanwhile, and the reconnect takes a port afresh.  Prints

    first ECONNREFUSED
    blocker bound            (or the errno of its bind)
    reconnected new-port     (or same-port; or "reconnect ERRNO")

and the reconnected socket's port on stderr."""
import errno
import socket
import sys

closed, opened = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket()
try:
    s.connect(("127.0.0.1", closed))
    print("first connected")
except OSError as e:
    print("first", errno.errorcode[e.errno])
port = s.getsockname()[1]
blocker = socket.socket()
try:
    blocker.bind(("0.0.0.0", port))
    print("blocker bound")
except OSError as e:
    print("blocker", errno.errorcode[e.errno])
try:
    s.connect(("127.0.0.1", opened))
    now = s.getsockname()[1]
    print("reconnected", "same-port" if now == port else "new-port")
    print(now, file=sys.stderr)
except OSError as e:
    print("reconnect", errno.errorcode[e.errno])
