#!/usr/bin/env python3
"""Compares two runs of fidelity.py (the native kernel and the `kernel`
policy) and exits non-zero when they disagree.

    fidelity_compare.py NATIVE.json EMULATED.json

What must agree:
  * parity: every connect() port has the parity of the range's low end, and
    every bind(0) port the other one, in both runs (the kernel's rule);
  * the steps between consecutive ports to one destination: the two-sample
    Kolmogorov-Smirnov distance between the two runs' step distributions
    is at most KS_BOUND.  With about 2,000 steps a side, the 0.1 % critical
    value is 1.95 * sqrt(2/2000) = 0.062; the bound leaves room for the
    kernel's shared table being touched by other connections of the host
    and for an epoch change inside a run.
Prints the statistics as TAP diagnostics."""
import json
import sys

KS_BOUND = 0.1


def steps(run):
    out = []
    for ports in run["connect"].values():
        out += [b - a for a, b in zip(ports, ports[1:])]
    return out


def ks_distance(a, b):
    values = sorted(set(a) | set(b))
    a, b = sorted(a), sorted(b)
    ia = ib = 0
    worst = 0.0
    for v in values:
        while ia < len(a) and a[ia] <= v:
            ia += 1
        while ib < len(b) and b[ib] <= v:
            ib += 1
        worst = max(worst, abs(ia / len(a) - ib / len(b)))
    return worst


def parity_breaks(run):
    lo = run["lo"]
    connect = [p for ports in run["connect"].values() for p in ports]
    bad_connect = sum((p - lo) % 2 != 0 for p in connect)
    bad_bind = sum((p - lo) % 2 != 1 for p in run["bind"])
    return len(connect), bad_connect, len(run["bind"]), bad_bind


def main():
    native, emulated = (json.load(open(path)) for path in sys.argv[1:3])
    ok = True
    for name, run in (("native", native), ("kernel policy", emulated)):
        n, bad_c, nb, bad_b = parity_breaks(run)
        print(f"# {name}: {n} connects, {bad_c} of the other parity; "
              f"{nb} binds, {bad_b} of the low parity")
        ok &= n > 0 and nb > 0 and bad_c == 0 and bad_b == 0
    sn, se = steps(native), steps(emulated)
    small = lambda s: sum(2 <= x <= 16 for x in s) / len(s)
    d = ks_distance(sn, se)
    print(f"# steps: native {len(sn)} ({small(sn):.1%} in 2..16), "
          f"kernel policy {len(se)} ({small(se):.1%} in 2..16); KS distance {d:.3f} "
          f"(bound {KS_BOUND})")
    ok &= len(sn) > 100 and len(se) > 100 and d <= KS_BOUND
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
