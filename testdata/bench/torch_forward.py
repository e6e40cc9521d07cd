#!/usr/bin/python3
"""Reference forward throughput: torchvision VGG-16 / AlexNet on PyTorch CPU.

    apt-get install python3-torch python3-torchvision
    /usr/bin/python3 testdata/bench/torch_forward.py [threads]

Random-init weights (throughput does not depend on the values), inference
mode, channels_last, batch 1 and 16, 3x224x224 inputs; prints img/s as the
best of several timed repetitions. Compare with BenchmarkForward in vgg and
alexnet run in the same session. Never a runtime or CI dependency of emosel.
"""
import sys
import time

import torch
import torchvision


def bench(model, batch, reps):
    x = torch.randn(batch, 3, 224, 224).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        model(x)
        best = float("inf")
        for _ in range(reps):
            t = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - t)
    return batch / best


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    print(f"# torch {torch.__version__}, torchvision {torchvision.__version__}, threads={threads}")
    for name, ctor in [("vgg16", torchvision.models.vgg16), ("alexnet", torchvision.models.alexnet)]:
        model = ctor().eval().to(memory_format=torch.channels_last)
        for batch in (1, 16):
            reps = 3 if name == "vgg16" and batch == 16 else 8
            print(f"{name}\tbatch={batch}\t{bench(model, batch, reps):.2f} img/s")


if __name__ == "__main__":
    main()
