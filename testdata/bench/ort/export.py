#!/usr/bin/python3
"""Exports torchvision's VGG-16 (random init, seed 0) for the ORT benchmark,
and times PyTorch on the same modules.

    /usr/bin/python3 testdata/bench/ort/export.py DIR          # writes DIR/<case>.onnx
    /usr/bin/python3 testdata/bench/ort/export.py DIR --torch  # prints PyTorch's img/s per case

Cases (batch = the study's chunk at 224 px, see run.sh):
  full     the whole network, 3x224x224 -> 1000 logits
  conv1_2  from the post-ReLU output of conv1_2 (features.3) to fc7's ReLU (classifier.4)
  conv3_3  from features.15 to classifier.4
  conv5_1  from features.25 to classifier.4
The suffix cases take the cached activation as input: a per-channel gain on
it costs one multiply per value, left out of every engine. Debian's torch
(python3-torch) only; never a runtime or CI dependency of emosel.
"""
import sys
import time

import torch
import torchvision

# (input child index in features, input shape)
SUFFIXES = {
    "conv1_2": (4, (64, 224, 224)),
    "conv3_3": (16, (256, 56, 56)),
    "conv5_1": (26, (512, 14, 14)),
}


def modules():
    torch.manual_seed(0)
    vgg = torchvision.models.vgg16().eval()
    out = {"full": (vgg, (3, 224, 224))}
    for name, (start, shape) in SUFFIXES.items():
        m = torch.nn.Sequential(vgg.features[start:], vgg.avgpool, torch.nn.Flatten(1), vgg.classifier[:5]).eval()
        out[name] = (m, shape)
    return out


def export(d):
    for name, (m, shape) in modules().items():
        x = torch.randn(2, *shape)
        torch.onnx.export(m, x, f"{d}/{name}.onnx", opset_version=13, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
        print(f"wrote {d}/{name}.onnx")


def bench(batches, reps=3):
    torch.set_num_threads(2)
    for name, (m, shape) in modules().items():
        b = batches[name]
        x = torch.randn(b, *shape)
        with torch.inference_mode():
            m(x[:1])
            ts = []
            for _ in range(reps):
                t = time.perf_counter()
                m(x)
                ts.append(time.perf_counter() - t)
        ts.sort()
        print(f"torch\t{name}\tbatch={b}\t{b / ts[len(ts) // 2]:.2f} img/s")


if __name__ == "__main__":
    if "--torch" in sys.argv:
        batches = dict(a.split("=") for a in sys.argv[2:] if "=" in a)
        bench({k: int(v) for k, v in batches.items()})
    else:
        export(sys.argv[1])
