#!/usr/bin/env python3
"""A small L4 load balancer on 127.0.0.1, to show what source-port parity
does to a hash of the 4-tuple.

    lb.py BACKENDS READYFILE

Starts two front ends, each with its own BACKENDS backends:

  weak    the old Linux bonding layer3+4 hash (before b5f862180d70):
          ((sport ^ dport) ^ ((saddr ^ daddr) & 0xffff)) % N
          Its low bit is the low bit of sport ^ dport: with every client port
          of one parity, it reaches only the backends of one parity.
  strong  a keyed BLAKE2b hash of the 4-tuple, % N

Each accepted connection is forwarded to the chosen backend (bytes both
ways); a backend answers with its number and closes; backends count what
they get.  A control port answers "stats" with the counts as JSON and
resets them.  READYFILE gets "WEAK_PORT STRONG_PORT CONTROL_PORT" once
everything listens.  Runs until killed (or for 10 minutes).
"""
import hashlib
import json
import os
import socket
import sys
import threading

HOST = "127.0.0.1"


def weak_hash(saddr, sport, daddr, dport, n):
    ip = lambda a: int.from_bytes(socket.inet_aton(a), "big")
    return ((sport ^ dport) ^ ((ip(saddr) ^ ip(daddr)) & 0xFFFF)) % n


KEY = os.urandom(16)


def strong_hash(saddr, sport, daddr, dport, n):
    tuple_ = f"{saddr}:{sport}>{daddr}:{dport}".encode()
    digest = hashlib.blake2b(tuple_, key=KEY, digest_size=8).digest()
    return int.from_bytes(digest, "big") % n


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, 0))
    s.listen(256)
    return s


def serve(sock, handle):
    def loop():
        while True:
            conn, peer = sock.accept()
            threading.Thread(target=handle, args=(conn, peer), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


class Pool:
    """N backends that count the connections they get."""

    def __init__(self, n):
        self.lock = threading.Lock()
        self.counts = [0] * n
        self.ports = []
        for i in range(n):
            s = listener()
            self.ports.append(s.getsockname()[1])
            serve(s, lambda conn, peer, i=i: self.answer(i, conn))

    def answer(self, i, conn):
        with self.lock:
            self.counts[i] += 1
        with conn:
            conn.sendall(f"backend {i}\n".encode())

    def take(self):
        with self.lock:
            counts, self.counts = self.counts, [0] * len(self.counts)
        return counts


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def front_end(pool, hash_fn):
    def handle(conn, peer):
        saddr, sport = peer
        daddr, dport = conn.getsockname()
        backend = hash_fn(saddr, sport, daddr, dport, len(pool.ports))
        with conn, socket.create_connection((HOST, pool.ports[backend])) as up:
            other = threading.Thread(target=pump, args=(conn, up), daemon=True)
            other.start()
            pump(up, conn)
            other.join(5)
    s = listener()
    serve(s, handle)
    return s.getsockname()[1]


def main():
    n, ready = int(sys.argv[1]), sys.argv[2]
    pools = {"weak": Pool(n), "strong": Pool(n)}
    ports = [front_end(pools["weak"], weak_hash), front_end(pools["strong"], strong_hash)]

    control = listener()

    def stats(conn, peer):
        with conn:
            if conn.makefile().readline().strip() == "stats":
                answer = {name: pool.take() for name, pool in pools.items()}
                conn.sendall((json.dumps(answer) + "\n").encode())
    serve(control, stats)

    with open(ready + ".tmp", "w") as out:
        out.write(f"{ports[0]} {ports[1]} {control.getsockname()[1]}\n")
    os.rename(ready + ".tmp", ready)
    threading.Event().wait(600)


if __name__ == "__main__":
    main()
