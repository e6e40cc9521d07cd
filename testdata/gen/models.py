#!/usr/bin/python3
"""Golden fixtures for whole networks: reduced-width VGG-16 and AlexNet.

Run from the repository root:

    /usr/bin/python3 testdata/gen/models.py            # small fixtures (committed)
    /usr/bin/python3 testdata/gen/models.py --full DIR # full-size random-init nets

Versions used: Debian python3-torch 1.13.0a0, python3-torchvision 0.14.1a0,
python3-pil 9.4.0, numpy 1.24.2; torch.manual_seed(20241126 + k).

Each network is built by torchvision's own classes (torchvision.models.VGG
with torchvision.models.vgg.make_layers, and torchvision.models.AlexNet),
with narrower layers swapped in so that the files stay small but the
topology, module names and state-dict keys are torchvision's. The state dict
is written three ways, exactly as a user might have it:

    <net>.pt             torch.save(sd)                                 (zip)
    <net>_legacy.pt      torch.save(sd, _use_new_zipfile_serialization=False)
    <net>.safetensors    the safetensors layout, written by hand below

Inputs are PNG images (so JPEG decoding is not in play), preprocessed as
emosel does: PIL convert("L"), resize to SIZE x SIZE with Image.BILINEAR,
replicate to 3 channels, ToTensor, Normalize(ImageNet mean/std). Outputs:

    <net>.means.<unit>.npy   [N, C] spatial mean of each post-ReLU map (Eq 2),
                             recorded by forward hooks on the ReLU modules
    <net>.logits.npy         [N, classes]
    <net>.input.npy          [N, 3, SIZE, SIZE], the preprocessed batch
    torchvision_keys.txt     "<arch> <key> <shape...>" of torchvision's full-size
                             vgg11/13/16/19 and alexnet state dicts
"""
import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as tnn
import torchvision
from PIL import Image
from torchvision import transforms

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZE = 64
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def vgg16(width, hidden, classes):
    cfg = [v if v == "M" else max(1, round(v * width)) for v in
           [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]]
    model = torchvision.models.VGG(torchvision.models.vgg.make_layers(cfg), num_classes=classes)
    last = [v for v in cfg if v != "M"][-1]
    if width != 1 or hidden != 4096:
        model.classifier[0] = tnn.Linear(last * 49, hidden)
        model.classifier[3] = tnn.Linear(hidden, hidden)
        model.classifier[6] = tnn.Linear(hidden, classes)
        for m in (model.classifier[0], model.classifier[3], model.classifier[6]):
            tnn.init.normal_(m.weight, 0, 0.01)
            tnn.init.constant_(m.bias, 0)
        # torchvision's VGG init leaves conv biases at 0; give them values so
        # that the bias path is tested too.
        for m in model.features:
            if isinstance(m, tnn.Conv2d):
                tnn.init.uniform_(m.bias, -0.1, 0.1)
    names = []
    b, j = 1, 1
    for m in model.features:
        if isinstance(m, tnn.MaxPool2d):
            b, j = b + 1, 1
        elif isinstance(m, tnn.ReLU):
            names.append((f"conv{b}_{j}", m))
            j += 1
    names += [("fc6", model.classifier[1]), ("fc7", model.classifier[4])]
    return model.eval(), names


def alexnet(width, hidden, classes):
    model = torchvision.models.AlexNet(num_classes=classes)
    if width != 1 or hidden != 4096:
        ch = [max(1, round(c * width)) for c in (64, 192, 384, 256, 256)]
        f = model.features
        f[0] = tnn.Conv2d(3, ch[0], 11, 4, 2)
        f[3] = tnn.Conv2d(ch[0], ch[1], 5, padding=2)
        f[6] = tnn.Conv2d(ch[1], ch[2], 3, padding=1)
        f[8] = tnn.Conv2d(ch[2], ch[3], 3, padding=1)
        f[10] = tnn.Conv2d(ch[3], ch[4], 3, padding=1)
        c = model.classifier
        c[1] = tnn.Linear(ch[4] * 36, hidden)
        c[4] = tnn.Linear(hidden, hidden)
        c[6] = tnn.Linear(hidden, classes)
    relus = [m for m in model.features if isinstance(m, tnn.ReLU)]
    names = [(f"conv{i + 1}", m) for i, m in enumerate(relus)]
    names += [("fc6", model.classifier[2]), ("fc7", model.classifier[5])]
    return model.eval(), names


def write_safetensors(path, sd):
    """The safetensors layout: u64 header length, JSON header, raw data."""
    header, blobs, off = {}, [], 0
    for k, t in sd.items():
        b = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_images(outdir, n, seed):
    """Procedural PNGs of assorted sizes and modes (L, RGB, RGBA)."""
    rng = np.random.default_rng(seed)
    paths = []
    sizes = [(80, 70), (64, 64), (50, 90), (120, 100)]
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        yy, xx = np.mgrid[0:h, 0:w]
        base = 128 + 100 * np.sin(xx / (3 + i) + i) * np.cos(yy / (5 + 2 * i))
        noise = rng.normal(0, 20, (h, w, 3))
        img = np.clip(base[..., None] + noise + rng.uniform(-40, 40, 3), 0, 255).astype(np.uint8)
        mode = ["RGB", "L", "RGBA"][i % 3]
        pil = Image.fromarray(img, "RGB")
        if mode == "L":
            pil = pil.convert("L")
        elif mode == "RGBA":
            pil = pil.convert("RGBA")
        p = os.path.join(outdir, f"img{i}.png")
        pil.save(p)
        paths.append(p)
    return paths


def preprocess(paths, size):
    tf = transforms.Compose([
        transforms.Resize((size, size), interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.Grayscale(num_output_channels=3),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])
    # Grayscale after resize would differ from resize after grayscale, so
    # convert to L first, as emosel does, then let the pipeline replicate.
    return torch.stack([tf(Image.open(p).convert("L")) for p in paths])


def record(model, names, x):
    means = {}
    hooks = []
    for name, m in names:
        def hook(mod, inp, out, name=name):
            o = out.detach()
            means[name] = o.mean(dim=(2, 3)) if o.dim() == 4 else o.clone()
        hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        logits = model(x)
    for h in hooks:
        h.remove()
    return means, logits


def save(outdir, prefix, model, names, x):
    sd = model.state_dict()
    torch.save(sd, os.path.join(outdir, f"{prefix}.pt"))
    torch.save(sd, os.path.join(outdir, f"{prefix}_legacy.pt"), _use_new_zipfile_serialization=False)
    write_safetensors(os.path.join(outdir, f"{prefix}.safetensors"), sd)
    means, logits = record(model, names, x)
    for name, m in means.items():
        np.save(os.path.join(outdir, f"{prefix}.means.{name}.npy"), m.numpy().astype("<f4"))
    np.save(os.path.join(outdir, f"{prefix}.logits.npy"), logits.numpy().astype("<f4"))


def write_keys(path, models):
    """Each torchvision model's state-dict keys and shapes, one per line."""
    with open(path, "w") as f:
        for arch, model in models:
            for k, v in model.state_dict().items():
                f.write(f"{arch} {k} {' '.join(str(d) for d in v.shape)}\n")


def main():
    torch.set_num_threads(1)
    write_keys(os.path.join(ROOT, "vgg", "testdata", "torchvision_keys.txt"),
               [(a, getattr(torchvision.models, a)(weights=None)) for a in ("vgg11", "vgg13", "vgg16", "vgg19")])
    write_keys(os.path.join(ROOT, "alexnet", "testdata", "torchvision_keys.txt"),
               [("alexnet", torchvision.models.alexnet(weights=None))])
    if len(sys.argv) == 3 and sys.argv[1] == "--full":
        out = sys.argv[2]
        os.makedirs(out, exist_ok=True)
        paths = make_images(out, 2, 7)
        x = preprocess(paths, 224)
        np.save(os.path.join(out, "input.npy"), x.numpy().astype("<f4"))
        torch.manual_seed(20241126 + 10)
        model, names = vgg16(1, 4096, 1000)
        save(out, "vgg16", model, names, x)
        torch.manual_seed(20241126 + 11)
        model, names = alexnet(1, 4096, 1000)
        save(out, "alexnet", model, names, x)
        return
    for k, (pkg, build, width, hidden) in enumerate([
        ("vgg", vgg16, 1 / 16, 32),
        ("alexnet", alexnet, 1 / 8, 32),
    ]):
        out = os.path.join(ROOT, pkg, "testdata")
        os.makedirs(out, exist_ok=True)
        paths = make_images(out, 4, 100 + k)
        x = preprocess(paths, SIZE)
        np.save(os.path.join(out, "input.npy"), x.numpy().astype("<f4"))
        torch.manual_seed(20241126 + k)
        model, names = build(width, hidden, 10)
        save(out, "small", model, names, x)


if __name__ == "__main__":
    main()
