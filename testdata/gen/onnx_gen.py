#!/usr/bin/python3
"""ONNX fixtures for package onnx: reduced-width torchvision CNNs exported
by torch.onnx, with PyTorch's output of every ReLU.

Run from the repository root:

    /usr/bin/python3 testdata/gen/onnx_gen.py            # small fixtures (committed)
    /usr/bin/python3 testdata/gen/onnx_gen.py --full DIR # full-size nets, 224 px

Versions used: Debian python3-torch 1.13.0a0, python3-torchvision 0.14.1a0,
numpy 1.24.2; torch.manual_seed(20261207 + k) for model k; float32, one
thread.

Each network is built by torchvision's own constructor, then every Conv2d,
BatchNorm2d and Linear is swapped for one 1/DIV as wide (the 3 input
channels and the 10 classes kept; a depthwise convolution stays depthwise),
so the topology and module names are torchvision's and the files small.
BatchNorm statistics are those of a random batch of 32 (one pass in
training mode with cumulative averaging; each variance raised to at least a
tenth of its layer's median, so that no near-constant channel of a 1x1 map
gets a huge scale that would amplify rounding), then its affine parameters
are drawn at random,
so that activations stay O(1) through 50+ layers and folding a BN into its
convolution is exercised by non-trivial values. Reduced VGG-16-BN takes
32 px input, where its 7x7 adaptive pool cannot be exported, so there
`avgpool` is an identity and classifier[0] takes the 1x1 map.

For each model <m>, testdata/onnx/ gets

    <m>.onnx       torch.onnx.export of the eval-mode model, opset as listed;
                   "bn" models keep BatchNormalization nodes
                   (TrainingMode.PRESERVE), the others are exported with
                   TrainingMode.EVAL, which folds Conv+BN itself
    <m>.x.npy      the input batch [2, 3, S, S], uniform in [-2, 2)
    <m>.relu.npy   every ReLU (and ReLU6) output of the forward pass, in call
                   order, flattened and concatenated: float32
    <m>.relu.txt   one line per ReLU: "<op> <offset> <d0> <d1> ...", with op
                   relu or relu6, offset into <m>.relu.npy
    <m>.y.npy      the network's output [2, 10]

and vgg_small.onnx, alexnet_small.onnx: the weights of vgg/testdata and
alexnet/testdata exported at 224 px with a symbolic batch (write_native).

ReLUs are recorded by wrapping torch.nn.functional.relu and hardtanh during
the reference forward pass, so module ReLUs, reused ones (ResNet's
self.relu) and functional ones (DenseNet's last F.relu) all appear in the
order they run, the order in which torch.onnx writes the Relu and Clip
nodes. The Go test pairs them up in order and checks the shapes.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "testdata", "onnx")
CLASSES = 10


def shrink(model, div):
    """Replaces every Conv2d, BatchNorm2d and Linear in model by one 1/div
    as wide, keeping 3-channel inputs and CLASSES-wide outputs."""
    def w(n):
        return n if n in (3, CLASSES) else n // div

    for name, mod in list(model.named_modules()):
        for cname, c in list(mod.named_children()):
            if isinstance(c, tnn.Conv2d):
                depthwise = c.groups == c.in_channels and c.groups > 1
                new = tnn.Conv2d(w(c.in_channels), w(c.out_channels), c.kernel_size, c.stride,
                                 c.padding, c.dilation, w(c.groups) if depthwise else c.groups,
                                 c.bias is not None)
            elif isinstance(c, tnn.BatchNorm2d):
                new = tnn.BatchNorm2d(w(c.num_features), momentum=None)
            elif isinstance(c, tnn.Linear):
                new = tnn.Linear(w(c.in_features), w(c.out_features), c.bias is not None)
            else:
                continue
            setattr(mod, cname, new)
    return model


def calibrate(model, size, k):
    """Sets BN statistics from a random batch, then draws BN's affine
    parameters, and returns the eval-mode model."""
    g = torch.Generator().manual_seed(7000 + k)
    model.train()
    for m in model.modules():
        if isinstance(m, tnn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    with torch.no_grad():
        model(torch.rand(32, 3, size, size, generator=g) * 4 - 2)
        for m in model.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.running_var.clamp_(min=float(m.running_var.median()) / 10)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.num_features, generator=g) * 0.4 - 0.2)
    return model.eval()


def vgg16_bn_small(div):
    m = torchvision.models.vgg16_bn(num_classes=CLASSES)
    m.avgpool = tnn.Identity()
    m.classifier[0] = tnn.Linear(512, 4096)
    return shrink(m, div)


class Ops(tnn.Module):
    """The operators torchvision's CNNs leave out or use only one way:
    grouped and dilated convolution with uneven strides, a depthwise
    convolution with channel multiplier 2, ReLU6, average pooling with and
    without count_include_pad in ceil mode, dilated max pooling in ceil
    mode, Concat of flattened maps, and a Linear."""

    def __init__(self):
        super().__init__()
        self.grouped = tnn.Conv2d(4, 6, 3, stride=(2, 1), padding=(2, 1), dilation=(2, 1), groups=2)
        self.depthwise = tnn.Conv2d(6, 12, 3, stride=2, padding=1, groups=6)
        self.relu6 = tnn.ReLU6()  # F.relu6 would export as Relu then Clip
        self.avg_incl = tnn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=True)
        self.avg_excl = tnn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
        self.maxpool = tnn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True)
        with torch.no_grad():
            n = self.features(torch.zeros(1, 4, 23, 37)).shape[1]
        self.fc = tnn.Linear(n, CLASSES)

    def features(self, x):
        a = F.relu(self.grouped(x))
        b = self.relu6(self.depthwise(a))
        c = F.relu(self.avg_incl(b))
        d = F.relu(self.avg_excl(b))
        e = F.relu(self.maxpool(b))
        return torch.cat([torch.flatten(c, 1), torch.flatten(d, 1), torch.flatten(e, 1)], 1)

    def forward(self, x):
        return self.fc(self.features(x))


# name: (constructor, width divisor, input size, opset, keep BN nodes)
SMALL = {
    "resnet18": (lambda: shrink(torchvision.models.resnet18(num_classes=CLASSES), 8), 32, 11, False),
    "resnet50": (lambda: shrink(torchvision.models.resnet50(num_classes=CLASSES), 16), 32, 15, True),
    "squeezenet1_1": (lambda: shrink(torchvision.models.squeezenet1_1(num_classes=CLASSES), 4), 32, 12, False),
    "mobilenet_v2": (lambda: shrink(torchvision.models.mobilenet_v2(num_classes=CLASSES), 8), 32, 13, True),
    "densenet121": (lambda: shrink(torchvision.models.densenet121(num_classes=CLASSES), 8), 32, 14, False),
    "vgg16_bn": (lambda: vgg16_bn_small(16), 32, 17, False),
    "ops": (Ops, (23, 37), 13, False),
}

FULL = {
    "resnet18": lambda: torchvision.models.resnet18(),
    "resnet50": lambda: torchvision.models.resnet50(),
    "squeezenet1_1": lambda: torchvision.models.squeezenet1_1(),
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(),
    "densenet121": lambda: torchvision.models.densenet121(),
    "vgg16_bn": lambda: torchvision.models.vgg16_bn(),
}


def record(model, x):
    """Runs model on x, returning its output and every ReLU's output."""
    recs = []
    relu, hardtanh = F.relu, F.hardtanh

    def rec_relu(input, inplace=False):
        y = relu(input, inplace=inplace)
        recs.append(("relu", y.detach().clone()))
        return y

    def rec_hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
        y = hardtanh(input, min_val, max_val, inplace)
        if min_val == 0:
            recs.append(("relu6" if max_val == 6 else "clip", y.detach().clone()))
        return y

    F.relu, F.hardtanh = rec_relu, rec_hardtanh
    try:
        with torch.no_grad():
            y = model(x)
    finally:
        F.relu, F.hardtanh = relu, hardtanh
    return y, recs


def write(out, name, model, x, opset, keep_bn):
    os.makedirs(out, exist_ok=True)
    y, recs = record(model, x)
    mode = torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, os.path.join(out, name + ".onnx"), opset_version=opset,
                      training=mode, do_constant_folding=not keep_bn,
                      input_names=["input"], output_names=["logits"])
    np.save(os.path.join(out, name + ".x.npy"), x.numpy())
    np.save(os.path.join(out, name + ".y.npy"), y.numpy())
    flat, lines, off = [], [], 0
    for op, t in recs:
        flat.append(t.numpy().ravel())
        lines.append("%s %d %s" % (op, off, " ".join(str(d) for d in t.shape)))
        off += t.numel()
    np.save(os.path.join(out, name + ".relu.npy"), np.concatenate(flat).astype(np.float32))
    with open(os.path.join(out, name + ".relu.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(name, "relus", len(recs), "opset", opset, "bn nodes" if keep_bn else "")


def write_native():
    """Exports the reduced VGG-16 and AlexNet whose weights the vgg and
    alexnet packages test with (vgg/testdata/small.pt, width 1/16, and
    alexnet/testdata/small.pt, width 1/8; hidden 32, 10 classes), built by
    models.py's constructors, at 224 px, where their adaptive pools are
    exportable (7x7 and 6x6 maps: identities). The Go test checks that
    these graphs give the same bits as vgg.Load and alexnet.Load."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import models
    for pkg, build, width in (("vgg", models.vgg16, 1 / 16), ("alexnet", models.alexnet, 1 / 8)):
        model, _ = build(width, 32, CLASSES)
        sd = torch.load(os.path.join(ROOT, pkg, "testdata", "small.pt"))
        model.load_state_dict(sd)
        model.eval()
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), os.path.join(OUT, pkg + "_small.onnx"),
                          opset_version=13, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        print(pkg, "small exported")


def main():
    torch.set_num_threads(1)
    full = None
    if len(sys.argv) == 3 and sys.argv[1] == "--full":
        full = sys.argv[2]
    for k, (name, (build, size, opset, keep_bn)) in enumerate(SMALL.items()):
        if full is not None and name not in FULL:
            continue
        torch.manual_seed(20261207 + k)
        if full is not None:
            model, size = FULL[name](), 224
        else:
            model = build()
        if name != "ops":
            model = calibrate(model, size, k)
        else:
            model = model.eval()
        g = torch.Generator().manual_seed(9000 + k)
        if name == "ops":
            x = torch.rand(2, 4, *size, generator=g) * 4 - 2
        else:
            x = torch.rand(2, 3, size, size, generator=g) * 4 - 2
        write(full or OUT, name, model, x, opset, keep_bn)
    if full is None:
        write_native()


if __name__ == "__main__":
    main()
