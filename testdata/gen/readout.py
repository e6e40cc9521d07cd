#!/usr/bin/python3
"""Golden fixtures for nn.Trainer (the readout head), computed with PyTorch.

Run from the repository root:

    /usr/bin/python3 testdata/gen/readout.py

Made with Debian's python3-torch (torch 1.13.0a0) and numpy 1.24.2 on CPU
in float32, torch.set_num_threads(1). Each case seeds
torch.manual_seed(20240701 + case number) and draws, in order, the data x,
the labels y, the initial nn.Linear (PyTorch's default init) and the
batch order. The batch order is saved and replayed explicitly by the Go
test, so the two sides need not share a random generator.

Per case <name>, nn/testdata/readout/ holds (all '<f4', C order):

    <name>.x.npy      [N, D]   features
    <name>.y.npy      [N]      class labels (integers stored as float32)
    <name>.order.npy  [E, N]   the sample order of each epoch (integers)
    <name>.w0.npy     [K, D]   initial weight
    <name>.b0.npy     [K]      initial bias
    <name>.w.npy      [K, D]   weight after training
    <name>.b.npy      [K]      bias after training
    <name>.loss.npy   [S]      the loss of every step, before the step
    <name>.cw.npy     [K]      class weights of F.cross_entropy (adamcw only)

Batches are consecutive slices of each epoch's order of size BATCH, the
last one short (a DataLoader with drop_last=False). The loss is
F.cross_entropy (mean over the batch; with weight=, the weighted mean
sum(w[y]*l)/sum(w[y])).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240701
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "nn", "testdata", "readout")

assert torch.__version__.startswith("1.13"), torch.__version__
torch.set_num_threads(1)

# name, N, D, K, epochs, batch, optimizer, kwargs
CASES = [
    # The paper's recipe on a small problem: Adam, lr 1e-3, 2 classes.
    ("adam2", 37, 11, 2, 3, 8, "adam", dict(lr=1e-3)),
    # A larger rate, so that the weights move far from their start, and 3
    # classes (general k).
    ("adam3", 29, 9, 3, 4, 6, "adam", dict(lr=5e-2)),
    # Non-default betas, eps and weight decay.
    ("adamwd", 20, 7, 2, 2, 7, "adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    # SGD with momentum, and plain SGD.
    ("sgdm", 31, 10, 2, 3, 8, "sgd", dict(lr=5e-2, momentum=0.9)),
    ("sgd", 25, 6, 3, 2, 10, "sgd", dict(lr=1e-1)),
    # Class-weighted cross-entropy (nn.TrainConfig.ClassWeight), the
    # balanced weights n/(k*n_c) of a one-vs-rest task with a 1:3 class
    # ratio, as the K-design readouts use.
    ("adamcw", 40, 8, 2, 3, 8, "adam", dict(lr=1e-2)),
]


def save(name, key, t):
    os.makedirs(OUT, exist_ok=True)
    a = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
    np.save(os.path.join(OUT, f"{name}.{key}.npy"), a, allow_pickle=False)


for i, (name, n, d, k, epochs, batch, opt, kw) in enumerate(CASES):
    torch.manual_seed(SEED + i)
    # Features like fc7 post-ReLU rows: non-negative, a few large.
    x = torch.relu(torch.randn(n, d) * 2 + 0.5)
    y = torch.randint(0, k, (n,))
    weight = None
    if name == "adamcw":
        y = (torch.rand(n) < 0.25).long()
        counts = torch.bincount(y, minlength=k).double()
        weight = (n / (k * counts)).float()
        save(name, "cw", weight)
    lin = torch.nn.Linear(d, k)
    save(name, "x", x)
    save(name, "y", y.numpy().astype(np.float32))
    save(name, "w0", lin.weight.detach())
    save(name, "b0", lin.bias.detach())
    order = torch.stack([torch.randperm(n) for _ in range(epochs)])
    save(name, "order", order.numpy().astype(np.float32))
    if opt == "adam":
        o = torch.optim.Adam(lin.parameters(), **kw)
    else:
        o = torch.optim.SGD(lin.parameters(), **kw)
    losses = []
    for e in range(epochs):
        for s in range(0, n, batch):
            idx = order[e, s:s + batch]
            o.zero_grad()
            loss = F.cross_entropy(lin(x[idx]), y[idx], weight=weight)
            losses.append(loss.item())
            loss.backward()
            o.step()
    save(name, "w", lin.weight.detach())
    save(name, "b", lin.bias.detach())
    save(name, "loss", np.array(losses))
    print(name, "steps", len(losses), "final loss", losses[-1])
