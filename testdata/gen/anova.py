#!/usr/bin/python3
"""Write selectivity/testdata/anova.json: per-channel one-way ANOVA
(scipy.stats.f_oneway), Benjamini-Hochberg q-values computed by hand, and
the K-class d' (numpy) for small response matrices, the reference for
selectivity.IndexK, FTail and BH. Run from the repository root:

    /usr/bin/python3 testdata/gen/anova.py
"""
import json

import numpy as np
import scipy
import scipy.stats


def bh(p):
    """Benjamini-Hochberg by the definition: q_(i) = min_{j>=i} p_(j) m / j."""
    p = np.asarray(p, dtype=np.float64)
    ok = ~np.isnan(p)
    idx = np.where(ok)[0]
    m = len(idx)
    q = np.full(len(p), np.nan)
    order = idx[np.argsort(p[idx], kind="stable")]
    for r, i in enumerate(order):
        q[i] = min(1.0, min(p[order[j]] * m / (j + 1) for j in range(r, m)))
    return q


def case(name, k, n, c, seed, unknown=0):
    rng = np.random.default_rng(seed)
    labels = np.array([i % k for i in range(n)])
    rng.shuffle(labels)
    if unknown:
        labels[rng.choice(n, unknown, replace=False)] = -1
    effect = rng.normal(0, 1, (k, c)) * np.linspace(0, 3, c)  # channel 0: no effect
    x = rng.normal(0, 1, (n, c)) * rng.uniform(0.5, 2, c)
    for i in range(n):
        if labels[i] >= 0:
            x[i] += effect[labels[i]]
    x = np.maximum(x + 0.5, 0).astype(np.float32)  # ReLU-like, float32 as recorded
    xd = x.astype(np.float64)
    F, P, dprime = [], [], []
    for j in range(c):
        groups = [xd[labels == e, j] for e in range(k)]
        f, p = scipy.stats.f_oneway(*groups)
        F.append(float(f))
        P.append(float(p))
        m = np.array([g.mean() for g in groups])
        v = np.array([g.var() for g in groups])  # population variance
        den = np.sqrt(v.sum() / (k - 1))
        dprime.append([float((m[e] - (m.sum() - m[e]) / (k - 1)) / den) for e in range(k)])
    return {
        "name": name, "k": k, "n": n, "c": c,
        "labels": labels.tolist(),
        "x": [float(v) for v in x.ravel()],
        "f": F, "p": P, "q": [float(v) for v in bh(P)], "dprime": dprime,
    }


cases = [
    case("k2", 2, 20, 6, 1),
    case("k3", 3, 30, 8, 2, unknown=3),
    case("k4", 4, 41, 8, 3),
    case("k6", 6, 60, 5, 4, unknown=5),
    case("k8strong", 8, 160, 4, 5),
]
out = {"scipy": scipy.__version__, "numpy": np.__version__, "cases": cases}
with open("selectivity/testdata/anova.json", "w") as f:
    json.dump(out, f, indent=0)
    f.write("\n")
