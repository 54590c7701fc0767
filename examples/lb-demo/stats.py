#!/usr/bin/env python3
"""Asks the demo's balancer for the backend counts since the last ask.

    stats.py CONTROL_PORT

Prints one line per hash: "weak 0 100 0 100".
"""
import json
import socket
import sys

with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
    s.sendall(b"stats\n")
    answer = json.loads(s.makefile().readline())
for name in ("weak", "strong"):
    print(name, *answer[name])
