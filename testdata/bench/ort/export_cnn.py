#!/usr/bin/python3
"""Exports random-init torchvision CNNs (seed 0, eval mode) at full size for
the ONNX-graph benchmark (onnx BenchmarkForwardFull, run_cnn.sh).

    /usr/bin/python3 testdata/bench/ort/export_cnn.py DIR [resnet50 mobilenet_v2 ...]

writes DIR/<name>.onnx: opset 13, input "x" [n,3,224,224] with a dynamic
batch, output "y". Debian's torch (python3-torch) only; never a runtime or
CI dependency of emosel.
"""
import sys

import torch
import torchvision


def main():
    d = sys.argv[1]
    names = sys.argv[2:] or ["resnet50", "mobilenet_v2"]
    for name in names:
        torch.manual_seed(0)
        m = getattr(torchvision.models, name)().eval()
        x = torch.randn(2, 3, 224, 224)
        torch.onnx.export(m, x, f"{d}/{name}.onnx", opset_version=13, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
        print(f"wrote {d}/{name}.onnx")


if __name__ == "__main__":
    main()
