#!/usr/bin/python3
"""Fixtures for lowlevel.FitLogistic: L2-regularised logistic regression.

Writes lowlevel/testdata/logistic.json. Run from the repository root:

    /usr/bin/python3 testdata/gen/lowlevel_gen.py

Each case minimises
    (1/n) sum_i [log(1 + exp(z_i)) - y_i z_i] + (lam/2) ||w||^2,  z = X w + b
(bias not penalised) with scipy.optimize.minimize, method "trust-exact" with
the analytic gradient and Hessian, gtol 1e-12. Data from
numpy.random.default_rng(20240618); the values are float64, written with
repr (exact).
"""
import json
import os

import numpy as np
import scipy
import scipy.optimize
from scipy.special import expit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "lowlevel", "testdata", "logistic.json")


def fit(X, y, lam):
    n, p = X.shape
    Xt = np.hstack([X, np.ones((n, 1))])
    pen = np.ones(p + 1)
    pen[p] = 0

    def f(w):
        z = Xt @ w
        return np.mean(np.logaddexp(0, z) - y * z) + lam / 2 * np.sum(pen * w * w)

    def g(w):
        return Xt.T @ (expit(Xt @ w) - y) / n + lam * pen * w

    def h(w):
        s = expit(Xt @ w)
        return (Xt.T * (s * (1 - s))) @ Xt / n + lam * np.diag(pen)

    r = scipy.optimize.minimize(f, np.zeros(p + 1), jac=g, hess=h, method="trust-exact",
                                options={"gtol": 1e-12, "maxiter": 1000})
    assert np.max(np.abs(g(r.x))) < 1e-10, (r.message, np.max(np.abs(g(r.x))))
    return r.x[:p], r.x[p], r.fun


def main():
    rng = np.random.default_rng(20240618)
    cases = []
    for name, n, p, lam, sep in (("small", 40, 3, 0.1, 1.0),
                                 ("wide", 25, 40, 0.01, 2.0),
                                 ("imbalanced", 120, 10, 1e-3, 0.5),
                                 ("separable", 30, 2, 1e-4, 10.0)):
        X = rng.normal(size=(n, p))
        beta = rng.normal(size=p) * sep
        prob = expit(X @ beta - (1.0 if name == "imbalanced" else 0.0))
        y = (rng.random(n) < prob).astype(float)
        if name == "separable":
            y = (X @ beta > 0).astype(float)
        w, b, obj = fit(X, y, lam)
        cases.append({"name": name, "lambda": lam, "x": X.tolist(), "y": [bool(v) for v in y],
                      "w": w.tolist(), "b": float(b), "objective": float(obj)})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"numpy": np.__version__, "scipy": scipy.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
