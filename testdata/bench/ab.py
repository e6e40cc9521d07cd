#!/usr/bin/python3
"""Interleaved A/B runs of Go test binaries on a noisy machine.

    go test -c -o /tmp/old.test ./alexnet      # at the old commit
    go test -c -o /tmp/new.test ./alexnet      # at the new one
    /usr/bin/python3 testdata/bench/ab.py alexnet 'Layers/layer=features.3$' 10x 8 /tmp/old.test /tmp/new.test

Runs each binary's benchmarks (-test.cpu 2) in turn, ROUNDS times, from
package directory DIR, and prints per benchmark and binary the minimum,
median and maximum of the first metric after ns/op. The host's speed
drifts by tens of percent over minutes, so only binaries that alternate
within one run are compared. Never a runtime or CI dependency of emosel.
"""
import collections
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    pkg, pat, benchtime, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    bins = sys.argv[5:]
    res = collections.defaultdict(list)
    order = []
    for _ in range(rounds):
        for b in bins:
            out = subprocess.run([b, "-test.run", "^$", "-test.bench", pat, "-test.benchtime", benchtime,
                                  "-test.cpu", "2"], capture_output=True, text=True, cwd=pkg, check=True).stdout
            for line in out.splitlines():
                if line.startswith("Benchmark"):
                    f = line.split()
                    if f[0] not in order:
                        order.append(f[0])
                    res[(f[0], b)].append(float(f[4]))
    for name in order:
        cols = []
        for b in bins:
            v = res[(name, b)]
            cols.append("%s: min %.2f med %.2f max %.2f" % (b.split("/")[-1], min(v), statistics.median(v), max(v)))
        print(name, "|", " | ".join(cols))


if __name__ == "__main__":
    main()
