#!/usr/bin/env python3
"""multiprocessing.Pool workers connecting, run under the shim: the pool
forks its workers one after another, with no connect in between.

    poolconn.py WORKERS N HOST PORT...

Each of the WORKERS workers (fork start method) makes N connections, the
k-th to PORT number k (cycling), keeping them open until every worker is
done.  Prints one line per worker with its local ports in order, then

    pool: workers=W connected=N near=N pairs=N

near/pairs as prefork.c counts them: pairs (i < j, k) of the workers' k-th
ports that lie within WORKERS of each other.
"""
import multiprocessing
import os
import socket
import sys

held = []
done = None


def start(ready, all_done):
    # Every worker exists before any connects: each gets exactly one task.
    global done
    done = all_done
    ready.wait()


def work(args):
    host, ports, n = args
    got = []
    for k in range(n):
        s = socket.create_connection((host, ports[k % len(ports)]), timeout=10)
        held.append(s)
        got.append(s.getsockname()[1])
    done.wait()  # hold the connections until everyone has connected
    return os.getpid(), got


def main():
    workers, n, host = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ports = [int(p) for p in sys.argv[4:]]
    ctx = multiprocessing.get_context("fork")
    barriers = ctx.Barrier(workers), ctx.Barrier(workers)
    with ctx.Pool(workers, initializer=start, initargs=barriers) as pool:
        results = pool.map(work, [(host, ports, n)] * workers, chunksize=1)
    near = pairs = 0
    for i, (pid, got) in enumerate(results):
        print("worker %d:" % pid, " ".join(map(str, got)))
        for _, other in results[:i]:
            for a, b in zip(got, other):
                pairs += 1
                near += abs(a - b) <= workers
    print("pool: workers=%d connected=%d near=%d pairs=%d"
          % (len({pid for pid, _ in results}), sum(len(g) for _, g in results), near, pairs))


if __name__ == "__main__":
    main()
