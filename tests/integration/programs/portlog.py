#!/usr/bin/env python3
"""The tests' server: logs the source port of every client it sees.

    portlog.py tcp|tcp-reset|udp ADDR PORT LOG

Runs without the shim.  Appends "PEER_ADDR PEER_PORT" to LOG per TCP
connection accepted or UDP datagram received, flushed at once, and creates
LOG.ready once it listens.  TCP: the server closes first, right after
logging, so the client's port is free again as soon as the client closes (the
TIME_WAIT stays on the server's side).  tcp-reset: the server waits for the
client's first byte (the client has its port), logs, and resets the
connection (SO_LINGER 0): nothing of the 4-tuple is left on either side, so
a client may reuse it at once (portprobe -R).  UDP: replies to the sender, so
a client that waits for the reply knows its port is logged.  Runs until
killed.
"""
import socket
import struct
import sys


def main():
    proto, addr, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    with open(log, "a") as out:
        if kind == socket.SOCK_STREAM:
            s.listen(1024)
        open(log + ".ready", "w").close()
        while True:
            if kind == socket.SOCK_STREAM:
                conn, peer = s.accept()
                if proto == "tcp-reset":
                    conn.recv(1)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                out.write(f"{peer[0]} {peer[1]}\n")
                out.flush()
                conn.close()
            else:
                _, peer = s.recvfrom(2048)
                out.write(f"{peer[0]} {peer[1]}\n")
                out.flush()
                s.sendto(b"ok", peer)


if __name__ == "__main__":
    main()
