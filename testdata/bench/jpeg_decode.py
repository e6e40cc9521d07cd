#!/usr/bin/python3
"""JPEG decoding: emosel's decoder against PIL's, on one core, in one run.

    /usr/bin/python3 testdata/bench/jpeg_decode.py [DIR] [ROUNDS]

Writes photo-like test files into DIR (a new temporary directory if not
given): a 1411x1411 baseline 4:2:0 JPEG, a 2013x2241 progressive 4:2:0 one
(PIL's encoder, quality 90) and a 1411x1411 grey one. Then, ROUNDS times
(default 5), alternately, it times PIL (python3-pil, libjpeg-turbo) on
each file, Image.open(f).load() and Image.open(f).convert("L"), and runs
BenchmarkJPEGDecode of ./imagenet on the same files with GOMAXPROCS=1
-cpu 1: imagenet.DecodeFile and imagenet.LoadGray (the study's loader),
which like PIL's calls start from the file name. Both sides take the
best of 10 single calls per round (Go: -benchtime 1x -count 10), which a
host shared with other work disturbs least, and the table shows the
median over the rounds. Both are pinned to CPU 0 (taskset). Prints ms
per image and MP/s for each, and the ratio. It also writes each round's
best in Go's benchmark format to DIR/pil.bench and DIR/emosel.bench
(the same names on both sides), so that

    go run golang.org/x/perf/cmd/benchstat@latest DIR/pil.bench DIR/emosel.bench

gives the ratio with its confidence interval and p-value. Never a
runtime or CI dependency of emosel.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image


def photo(w, h, seed):
    """A photo-like RGB picture: smooth large-scale structure, edges,
    texture and sensor noise."""
    rng = np.random.RandomState(seed)
    out = np.zeros((h, w, 3))
    for scale, amp in ((64, 70), (16, 30), (4, 12)):
        small = rng.rand(h // scale + 2, w // scale + 2, 3)
        big = np.kron(small, np.ones((scale, scale, 1)))[:h, :w]
        # Smooth the blocky upsampling with a box filter along each axis.
        k = max(1, scale // 2)
        c = np.cumsum(np.pad(big, ((k, k), (0, 0), (0, 0)), mode="edge"), axis=0)
        big = (c[2 * k:] - c[:-2 * k]) / (2 * k)
        c = np.cumsum(np.pad(big, ((0, 0), (k, k), (0, 0)), mode="edge"), axis=1)
        big = (c[:, 2 * k:] - c[:, :-2 * k]) / (2 * k)
        out += amp * (big[:h, :w] - 0.5)
    yy, xx = np.mgrid[0:h, 0:w]
    out += 40 * ((xx // 97 + yy // 131) % 2)[..., None]  # edges
    out += rng.normal(0, 4, out.shape)  # noise
    return Image.fromarray(np.clip(out + 128, 0, 255).astype(np.uint8), "RGB")


def pil_time(path, conv, reps):
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        im = Image.open(path)
        if conv:
            im.convert("L")
        else:
            im.load()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    os.makedirs(d, exist_ok=True)
    os.sched_setaffinity(0, {0})
    files = {
        "base420_1411.jpg": (1411, 1411, dict(quality=90, subsampling=2)),
        "prog420_2013x2241.jpg": (2013, 2241, dict(quality=90, subsampling=2, progressive=True)),
        "grey_1411.jpg": (1411, 1411, dict(quality=90)),
    }
    for name, (w, h, opts) in files.items():
        p = os.path.join(d, name)
        if not os.path.exists(p):
            im = photo(w, h, len(name))
            if name.startswith("grey"):
                im = im.convert("L")
            im.save(p, "JPEG", **opts)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    test = os.path.join(d, "imagenet.test")
    subprocess.run(["go", "test", "-c", "-o", test, "./imagenet"], cwd=repo, check=True)
    env = dict(os.environ, GOMAXPROCS="1", EMOSEL_JPEG_BENCH=d)
    pil, go = {}, {}
    for _ in range(rounds):
        for name in files:
            p = os.path.join(d, name)
            for conv in (False, True):
                pil.setdefault((name, conv), []).append(pil_time(p, conv, 10))
        out = subprocess.run(["taskset", "-c", "0", test, "-test.run", "^$", "-test.bench", "JPEGDecode",
                              "-test.benchtime", "1x", "-test.count", "10", "-test.cpu", "1"],
                             cwd=os.path.join(repo, "imagenet"), env=env, capture_output=True, text=True,
                             check=True).stdout
        best = {}
        for m in re.finditer(r"BenchmarkJPEGDecode/(\S+?)/(decode|gray)\S*\s+\d+\s+(\d+) ns/op", out):
            key = (m.group(1), m.group(2) == "gray")
            best[key] = min(best.get(key, float("inf")), int(m.group(3)) / 1e9)
        for key, t in best.items():
            go.setdefault(key, []).append(t)
    cpu = open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()
    for side, res in (("pil", pil), ("emosel", go)):
        with open(os.path.join(d, side + ".bench"), "w") as f:
            f.write(f"goos: linux\ngoarch: amd64\npkg: jpeg_decode.py\ncpu: {cpu}\n")
            for (name, conv), ts in res.items():
                for t in ts:
                    f.write(f"BenchmarkJPEGDecode/{name}/{'gray' if conv else 'decode'} 1 {round(t * 1e9)} ns/op\n")
    print(f"{os.cpu_count()} CPUs; {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
    print(f"{'file':24} {'what':14} {'PIL ms':>8} {'emosel ms':>10} {'PIL MP/s':>9} {'emosel MP/s':>12} {'emosel/PIL time':>16}")
    for name, (w, h, _) in files.items():
        for conv in (False, True):
            a = statistics.median(pil[name, conv])
            b = statistics.median(go.get((name, conv), [float("nan")]))
            mp = w * h / 1e6
            what = 'convert("L")' if conv else "load()"
            print(f"{name:24} {what:14} {a*1e3:8.1f} {b*1e3:10.1f} {mp/a:9.1f} {mp/b:12.1f} {b/a:16.2f}")


main()
