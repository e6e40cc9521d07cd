#!/usr/bin/python3
"""Fixtures for selectivity.TwoWayANOVA: Type II two-way ANOVA per channel.

Writes selectivity/testdata/twoway.json. Run from the repository root:

    /usr/bin/python3 testdata/gen/twoway_gen.py

The reference uses numpy and scipy only. Each sum of squares is an explicit
comparison of two least-squares fits (numpy.linalg.lstsq on dummy-coded
design matrices), degrees of freedom are differences of the designs' ranks
(numpy.linalg.matrix_rank), p-values are scipy.stats.f.sf. The
Benjamini-Hochberg q-values are computed by hand (the step-up definition).
Responses are float32 (the Go side reads float32 arrays) stored as the
float64 values of those float32s, so both sides see the same numbers.
Categories are integer codes 0..K-1 (-1 = unknown); a factor level "" is
missing.
"""
import json
import os

import numpy as np
import scipy
import scipy.stats

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "selectivity", "testdata", "twoway.json")


def dummies(codes, levels):
    """Full indicator matrix (one column per level)."""
    return np.array([[1.0 if c == l else 0.0 for l in levels] for c in codes])


def rss_rank(X, y):
    beta, _, _, _ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    return float(r @ r), int(np.linalg.matrix_rank(X))


def anova2(y, a, b):
    """Type II two-way ANOVA of y on factors a, b (lists of hashables)."""
    la, lb = sorted(set(a)), sorted(set(b))
    n = len(y)
    one = np.ones((n, 1))
    A, B = dummies(a, la), dummies(b, lb)
    cells = sorted(set(zip(a, b)))
    AB = dummies(list(zip(a, b)), cells)
    rss_a, r_a = rss_rank(np.hstack([one, A]), y)
    rss_b, r_b = rss_rank(np.hstack([one, B]), y)
    rss_add, r_add = rss_rank(np.hstack([one, A, B]), y)
    rss_full, r_full = rss_rank(AB, y)
    dfe = n - r_full
    out = {"sse": rss_full, "dfe": dfe}
    for name, ss, df in (("category", rss_b - rss_add, r_add - r_b),
                         ("factor", rss_a - rss_add, r_add - r_a),
                         ("interaction", rss_add - rss_full, r_full - r_add)):
        ss = max(ss, 0.0)
        if df > 0:
            F = (ss / df) / (rss_full / dfe)
            p = float(scipy.stats.f.sf(F, df, dfe))
            eta = ss / (ss + rss_full)
        else:
            F = p = eta = None  # NaN on the Go side
        out[name] = {"ss": ss, "df": df, "f": F, "p": p, "eta2": eta}
    return out


def bh(p):
    """Benjamini-Hochberg q-values, None (NaN) ignored."""
    idx = [i for i, v in enumerate(p) if v is not None]
    m = len(idx)
    q = [None] * len(p)
    order = sorted(idx, key=lambda i: p[i])
    for rank, i in enumerate(order, start=1):
        q[i] = min(1.0, min(p[order[j - 1]] * m / j for j in range(rank, m + 1)))
    return q


def case(name, rng, cats, levels, channels, effects):
    """cats: category codes per image; levels: level names per image."""
    n = len(cats)
    resp = np.zeros((n, channels))
    for ch in range(channels):
        ea, eb, eab = effects[ch % len(effects)]
        ca = rng.normal(size=8) * ea
        cb = {l: rng.normal() * eb for l in sorted(set(levels))}
        cab = {}
        for i in range(n):
            k = (cats[i], levels[i])
            if k not in cab:
                cab[k] = rng.normal() * eab
            c = max(cats[i], 0)
            resp[i, ch] = 3.0 + ca[c] + cb[levels[i]] + cab[k] + rng.normal()
    resp = resp.astype(np.float32)
    keep = [i for i in range(n) if cats[i] >= 0 and levels[i] != ""]
    out = []
    for ch in range(channels):
        y = resp[keep, ch].astype(np.float64)
        out.append(anova2(y, [cats[i] for i in keep], [levels[i] for i in keep]))
    qs = {t: bh([c[t]["p"] for c in out]) for t in ("category", "factor", "interaction")}
    return {
        "name": name,
        "categories": [int(c) for c in cats],
        "levels": list(levels),
        "responses": [[float(v) for v in row] for row in resp],
        "channels": out,
        "q": qs,
    }


def main():
    rng = np.random.default_rng(20240617)
    cases = []
    effects = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.6, 0.6, 0.8), (0.3, 0.1, 0.0)]

    # Balanced 3 x 3, 5 per cell.
    cats = [a for a in range(3) for b in range(3) for _ in range(5)]
    levs = [l for a in range(3) for l in ("object", "people", "scene") for _ in range(5)]
    cases.append(case("balanced", rng, cats, levs, 10, effects))

    # Unbalanced 3 x 3 with unknown images and missing levels, as in a real set.
    n = 90
    cats = list(rng.choice([0, 1, 2], size=n, p=[0.3, 0.45, 0.25]))
    levs = list(rng.choice(["animal", "object", "person", "scene"], size=n, p=[0.1, 0.4, 0.3, 0.2]))
    for i in rng.choice(n, size=6, replace=False):
        cats[i] = -1
    for i in rng.choice(n, size=5, replace=False):
        levs[i] = ""
    cases.append(case("unbalanced", rng, [int(c) for c in cats], [str(l) for l in levs], 12, effects))

    # An empty cell: category 2 never appears with level "c" (rank-deficient
    # interaction). (Three categories: stimuli.Category 3 is Unknown today.)
    cats, levs = [], []
    for a in range(3):
        for l in ("a", "b", "c"):
            if a == 2 and l == "c":
                continue
            m = 3 + (a + len(l) * 2) % 4
            cats += [a] * m
            levs += [l] * m
    cases.append(case("emptycell", rng, cats, levs, 8, effects))

    # Two categories, two levels, 4, 7, 2, 9 images per cell.
    cats = [0] * 11 + [1] * 11
    levs = ["x"] * 4 + ["y"] * 7 + ["x"] * 2 + ["y"] * 9
    cases.append(case("twobytwo", rng, cats, levs, 6, effects))

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"numpy": np.__version__, "scipy": scipy.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
