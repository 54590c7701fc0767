#!/usr/bin/env python3
"""The demo's client: COUNT connections to each PORT on 127.0.0.1, one at a
time; each reads the balancer's answer ("backend K") to the end.

    client.py COUNT PORT...

Python's socket module calls libc's connect(), so under portshim the
source ports follow the policy.  Prints nothing; exits 1 on any error.
"""
import socket
import sys


def main():
    count, ports = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
    for _ in range(count):
        for port in ports:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.shutdown(socket.SHUT_WR)
                while s.recv(64):
                    pass


if __name__ == "__main__":
    main()
