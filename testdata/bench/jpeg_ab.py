#!/usr/bin/python3
"""Interleaved A/B runs of imagenet test binaries on the JPEG benchmark.

    go test -c -o /tmp/a.test ./imagenet       # at one commit
    go test -c -o /tmp/b.test ./imagenet       # at another
    /usr/bin/python3 testdata/bench/jpeg_ab.py DIR ROUNDS /tmp/a.test /tmp/b.test

DIR holds the files testdata/bench/jpeg_decode.py writes. Each round runs
every binary's BenchmarkJPEGDecode in turn (GOMAXPROCS=1, pinned to CPU
0, -benchtime 1x -count 10, the best of the 10), and the table shows per
benchmark and binary the median over the rounds in ms, and the ratio of
each binary to the first. Never a runtime or CI dependency of emosel.
"""
import collections
import os
import re
import statistics
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    d, rounds, bins = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    pat = os.environ.get("BENCH", "JPEGDecode")
    env = dict(os.environ, GOMAXPROCS="1", EMOSEL_JPEG_BENCH=d)
    res = collections.defaultdict(list)
    order = []
    for _ in range(rounds):
        for b in bins:
            out = subprocess.run(["taskset", "-c", "0", b, "-test.run", "^$", "-test.bench", pat,
                                  "-test.benchtime", "1x", "-test.count", "10", "-test.cpu", "1"],
                                 env=env, capture_output=True, text=True, check=True).stdout
            best = {}
            for m in re.finditer(r"^Benchmark(\S+)\s+\d+\s+(\d+) ns/op", out, re.M):
                best[m.group(1)] = min(best.get(m.group(1), float("inf")), int(m.group(2)) / 1e6)
            for name, t in best.items():
                if name not in order:
                    order.append(name)
                res[name, b].append(t)
    print(f"{'benchmark':44}" + "".join(f"{os.path.basename(b):>14}" for b in bins))
    for name in order:
        med = [statistics.median(res[name, b]) for b in bins]
        print(f"{name:44}" + "".join(f"{m:11.2f} ms" for m in med) +
              "".join(f"  {m / med[0]:.3f}" for m in med[1:]))


main()
