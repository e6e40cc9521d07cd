#!/usr/bin/python3
"""Golden fixtures for emosel's conv and nn packages, computed with PyTorch.

Run from the repository root:

    /usr/bin/python3 testdata/gen/ops.py

Made with Debian's python3-torch (torch 1.13.0a0) and numpy 1.24.2 on
CPU in float32. Every case seeds torch.manual_seed(SEED + case number),
with SEED = 20240601, so rerunning the script reproduces the files
(bit-for-bit with the same torch build; other builds may differ in the
last float32 bits, well within the Go tests' 1e-5 tolerance).

Each tensor is written as a little-endian float32 .npy file (format 1.0,
C order). The Go tests hard-code the same case table (shapes and
parameters) as this script; testdata/gen/README.md lists the cases.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240601
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONV = os.path.join(ROOT, "conv", "testdata")
NN = os.path.join(ROOT, "nn", "testdata")

assert torch.__version__.startswith("1.13"), torch.__version__
torch.set_num_threads(1)


def save(d, name, t):
    os.makedirs(d, exist_ok=True)
    a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
    np.save(os.path.join(d, name + ".npy"), a, allow_pickle=False)


def seed(i):
    torch.manual_seed(SEED + i)


# ---- conv: convolutions -------------------------------------------------
# name, x shape, weight shape, stride, padding, dilation
CONVS = [
    ("alexnet1", (1, 3, 63, 63), (8, 3, 11, 11), (4, 4), (2, 2), (1, 1)),
    ("vgg3x3", (2, 5, 12, 12), (6, 5, 3, 3), (1, 1), (1, 1), (1, 1)),
    ("dilated", (1, 3, 17, 14), (4, 3, 3, 2), (2, 3), (2, 1), (2, 3)),
    ("pointwise", (1, 6, 7, 7), (5, 6, 1, 1), (1, 1), (0, 0), (1, 1)),
]
for i, (name, xs, ws, st, pd, dl) in enumerate(CONVS):
    seed(i)
    x = torch.randn(xs)
    w = torch.randn(ws) / (ws[1] * ws[2] * ws[3]) ** 0.5
    b = torch.randn(ws[0])
    y = F.conv2d(x, w, b, stride=st, padding=pd, dilation=dl)
    for k, v in (("x", x), ("w", w), ("b", b), ("y", y)):
        save(CONV, f"conv_{name}.{k}", v)

# ---- conv: max pooling --------------------------------------------------
# name, x shape, kernel, stride, padding, dilation, ceil_mode
POOLS = [
    ("alexnet3s2", (2, 3, 13, 13), 3, 2, 0, 1, False),
    ("vgg2s2", (1, 4, 14, 14), 2, 2, 0, 1, False),
    ("ceil3s2p1", (1, 2, 13, 12), 3, 2, 1, 1, True),
    ("ceil2s2", (1, 2, 7, 9), 2, 2, 0, 1, True),
    ("ceil3s3p1", (1, 2, 5, 8), 3, 3, 1, 1, True),  # last window would start in the padding
    ("dilated", (1, 2, 11, 10), (3, 2), (2, 1), (1, 1), (2, 3), True),
]
for i, (name, xs, k, s, p, d, c) in enumerate(POOLS):
    seed(100 + i)
    x = torch.randn(xs)
    if name == "alexnet3s2":
        x[0, 1, 4, 4] = float("nan")  # NaN must propagate to its windows
        x[1, 2, 0, 0] = float("-inf")
    y = F.max_pool2d(x, k, s, p, d, ceil_mode=c)
    save(CONV, f"maxpool_{name}.x", x)
    save(CONV, f"maxpool_{name}.y", y)

# ---- conv: adaptive average pooling -------------------------------------
# name, x shape, output size
ADAPT = [
    ("13to7", (1, 3, 13, 13), (7, 7)),
    ("13to6", (2, 3, 13, 13), (6, 6)),
    ("5to7", (1, 3, 5, 5), (7, 7)),
    ("13x9to6x4", (1, 2, 13, 9), (6, 4)),
]
for i, (name, xs, o) in enumerate(ADAPT):
    seed(200 + i)
    x = torch.randn(xs)
    y = F.adaptive_avg_pool2d(x, o)
    save(CONV, f"adaptive_{name}.x", x)
    save(CONV, f"adaptive_{name}.y", y)

# ---- nn: Linear ---------------------------------------------------------
seed(300)
lin = nn.Linear(20, 7)
x = torch.randn(3, 20)
save(NN, "linear.x", x)
save(NN, "linear.weight", lin.weight)
save(NN, "linear.bias", lin.bias)
save(NN, "linear.y", lin(x))

# ---- nn: ReLU with a per-channel gain -----------------------------------
# y = (1 + alpha_c) * relu(x); means are Eq 2's spatial means of y.
seed(301)
alpha = torch.tensor([-1.0, 0.0, 0.5, 2.0, -0.3])
x4 = torch.randn(2, 5, 4, 3)
y4 = (1 + alpha).view(1, 5, 1, 1) * torch.relu(x4)
save(NN, "gainrelu4d.x", x4)
save(NN, "gainrelu.alpha", alpha)
save(NN, "gainrelu4d.y", y4)
save(NN, "gainrelu4d.means", y4.mean(dim=(2, 3)))
x2 = torch.randn(3, 5)
save(NN, "gainrelu2d.x", x2)
save(NN, "gainrelu2d.y", (1 + alpha).view(1, 5) * torch.relu(x2))


# ---- nn: a tiny torchvision-style network -------------------------------
class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(4, 6, 5, stride=2, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(24, 5),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(5, 3),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


seed(400)
net = Tiny().eval()
gain = torch.tensor([0.5, -1.0, 0.0, 1.0, -0.5, 0.25])  # on features.4
recorded = {}


def hook(name, g):
    def f(mod, inp, out):
        if g is not None:
            out = (1 + g).view(1, -1, *([1] * (out.dim() - 2))) * out
        recorded[name] = out.mean(dim=(2, 3)) if out.dim() == 4 else out.clone()
        return out
    return f


net.features[1].register_forward_hook(hook("features.1", None))
net.features[4].register_forward_hook(hook("features.4", gain))
net.classifier[1].register_forward_hook(hook("classifier.1", None))
x = torch.randn(2, 3, 32, 30)
with torch.no_grad():
    y = net(x)
TD = os.path.join(NN, "tiny")
for k, v in net.state_dict().items():
    save(TD, k, v)
save(TD, "input", x)
save(TD, "output", y)
save(TD, "gain.features.4", gain)
for k, v in recorded.items():
    save(TD, "means." + k, v)
print("ok")
