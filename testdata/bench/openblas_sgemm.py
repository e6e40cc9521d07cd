#!/usr/bin/python3
"""Reference GEMM throughput: numpy float32 matmul on Debian's OpenBLAS.

Run on the same machine, in the same session, as BenchmarkSgemm:

    apt-get install python3-numpy libopenblas0-pthread
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 testdata/bench/openblas_sgemm.py
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 testdata/bench/openblas_sgemm.py

It prints one line per shape in GFLOP/s (best of several repetitions), using
the same (M, N, K) shapes and names as BenchmarkSgemm in internal/simd.
Never a runtime or CI dependency of emosel.
"""
import os
import time

import numpy as np

SHAPES = [
    ("conv1_2", 64, 50176, 576),
    ("conv2_2", 128, 12544, 1152),
    ("conv3_2", 256, 3136, 2304),
    ("conv4_2", 512, 784, 4608),
    ("conv5_2", 512, 196, 4608),
    ("alexnet_conv2", 192, 729, 1600),
    ("fc6_b16", 4096, 16, 25088),
]


def main():
    rng = np.random.default_rng(1)
    cfg = np.__config__
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "?")
    print(f"# numpy {np.__version__}, OPENBLAS_NUM_THREADS={threads}")
    for name, m, n, k in SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        np.matmul(a, b, out=c)
        best = float("inf")
        reps = max(3, int(2e10 / (2 * m * n * k)))
        for _ in range(reps):
            t = time.perf_counter()
            np.matmul(a, b, out=c)
            best = min(best, time.perf_counter() - t)
        print(f"{name}\t{2 * m * n * k / best / 1e9:.1f} GFLOP/s")
    del cfg


if __name__ == "__main__":
    main()
