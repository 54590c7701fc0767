#!/usr/bin/env python3
"""The fidelity workload: COUNT TCP connects spread round-robin over the
listeners given, every connection kept open, then BINDS bind(0) calls on TCP
sockets, also kept open.  Prints one JSON object:
    {"lo": <range low end>, "connect": {"PORT": [local ports in order]},
     "bind": [ports]}

    fidelity.py COUNT BINDS LISTENER_PORT...

The listeners are on 127.0.0.1 and accept with a backlog large enough for
the whole run (they are started by this program, before anything is
measured, with bind() to explicit ports so the shim's bind policy does not
touch them)."""
import json
import socket
import sys


def main():
    count, binds = int(sys.argv[1]), int(sys.argv[2])
    ports = [int(p) for p in sys.argv[3:]]
    listeners = []
    for port in ports:
        s = socket.socket()
        s.bind(("127.0.0.1", port))
        s.listen(4096)
        listeners.append(s)
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    seen = {str(p): [] for p in ports}
    keep = []
    for i in range(count):
        port = ports[i % len(ports)]
        c = socket.create_connection(("127.0.0.1", port))
        seen[str(port)].append(c.getsockname()[1])
        keep.append(c)
        if i % 64 == 63:  # keep the accept queues short
            for s in listeners:
                s.setblocking(False)
                try:
                    while True:
                        keep.append(s.accept()[0])
                except BlockingIOError:
                    pass
    bound = []
    for _ in range(binds):
        b = socket.socket()
        b.bind(("127.0.0.1", 0))
        bound.append(b.getsockname()[1])
        keep.append(b)
    print(json.dumps({"lo": lo, "connect": seen, "bind": bound}))


if __name__ == "__main__":
    main()
