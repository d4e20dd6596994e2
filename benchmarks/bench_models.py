"""Benchmark: SDM with two-way FE + effects (1000-draw simulation inference) vs spreg ML_LagFE.

Synthetic kNN (k=6, row-standardised) panels, n = 300, 1000, 2850, T = 15. spreg 1.9 has unit
effects only, so its comparator is ``ML_LagFE(slx_lags=1)`` (unit-FE SDM, default options, its own
'full' impacts off); ours is the heavier two-way FE + Lee-Yu + 1000 draws. Medians of ``--repeat``
runs after one warm-up. Usage::

    python benchmarks/bench_models.py [--sizes 300 1000 2850] [--repeat 3] [--no-spreg]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp

from spatialinno.models import fit_array


def knn_w(n: int, k: int = 6, seed: int = 0) -> sp.csr_matrix:
    from scipy.spatial import cKDTree
    xy = np.random.default_rng(seed).random((n, 2))
    _, nb = cKDTree(xy).query(xy, k + 1)
    nb = nb[:, 1:]
    return sp.csr_matrix((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k), nb.ravel())),
                         shape=(n, n))


def panel(W: sp.csr_matrix, T: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    n = W.shape[0]
    X = rng.standard_normal((T, n, 2))
    A = sp.linalg.splu((sp.identity(n) - 0.4 * W).tocsc())
    mu, al = rng.standard_normal(n), rng.standard_normal(T)
    y = np.empty((T, n))
    for t in range(T):
        y[t] = A.solve(X[t] @ [1.0, -0.5] + (W @ X[t]) @ [0.3, 0.1] + mu + al[t]
                       + 0.5 * rng.standard_normal(n))
    return y, X


def timed(f, repeat: int) -> float:
    f()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 2850])
    ap.add_argument("--T", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-spreg", action="store_true")
    a = ap.parse_args()
    print(f"{'n':>6} {'T':>4} {'ours (s)':>10} {'spreg (s)':>10} {'ratio':>7}")
    for n in a.sizes:
        W = knn_w(n)
        y, X = panel(W, a.T)
        ours = timed(lambda: fit_array(y, X, W, "sdm", "twoway", effects_draws=1000, seed=0),
                     a.repeat)
        ref = float("nan")
        if not a.no_spreg:
            import libpysal
            import spreg
            w = libpysal.weights.WSP(W).to_W(silence_warnings=True)
            w.transform = "r"
            yy, XX = y.reshape(-1, 1), X.reshape(-1, 2)

            def run_spreg():
                with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                    warnings.simplefilter("ignore")
                    spreg.ML_LagFE(yy, XX, w, slx_lags=1)
            ref = timed(run_spreg, 1 if n > 1000 else a.repeat)
        print(f"{n:>6} {a.T:>4} {ours:>10.3f} {ref:>10.3f} {ref / ours:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
