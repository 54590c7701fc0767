#!/usr/bin/env python3
"""A plain Python client, run under the shim: Python's socket module calls
libc's connect()/sendto(), so the shim must pick its source ports.

    pyclient.py tcp|udp HOST PORT COUNT

tcp: socket.create_connection(), read until the server closes, close.
udp: an unconnected socket's first sendto(), then wait for the reply.
Prints the local port of each socket (getsockname), one per line.
"""
import socket
import sys


def main():
    proto, host, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(count):
        if proto == "tcp":
            with socket.create_connection((host, port), timeout=10) as s:
                print(s.getsockname()[1], flush=True)
                while s.recv(64):
                    pass
        else:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.settimeout(10)
                s.sendto(b"x", (host, port))
                print(s.getsockname()[1], flush=True)
                s.recvfrom(64)


if __name__ == "__main__":
    main()
