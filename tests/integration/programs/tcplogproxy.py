#!/usr/bin/env python3
"""A TCP relay that logs each client's source port (for clients of servers
that log nothing themselves, like openssl s_server).

    tcplogproxy.py ADDR PORT UPSTREAM_PORT LOG

Accepts on ADDR:PORT, appends "PEER_ADDR PEER_PORT" to LOG per connection
(flushed at once), relays bytes both ways to ADDR:UPSTREAM_PORT until either
side closes, creates LOG.ready once it listens.  Runs without the shim, until
killed.
"""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    addr, port, upstream, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(128)
    out = open(log, "a")
    open(log + ".ready", "w").close()
    while True:
        conn, peer = s.accept()
        out.write(f"{peer[0]} {peer[1]}\n")
        out.flush()
        up = socket.create_connection((addr, upstream))
        threading.Thread(target=pump, args=(conn, up), daemon=True).start()
        threading.Thread(target=pump, args=(up, conn), daemon=True).start()


if __name__ == "__main__":
    main()
