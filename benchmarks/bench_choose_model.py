"""Benchmark and simulation for ``choose_model`` (output committed as bench_choose_model.txt).

1. Timing: ``choose_model`` on the SYNTHETIC demo panel (337 cities x 2011-2022, queen W with
   islands connected to 2 nearest neighbours, NQPF entropy index + controls, two-way FE, Hausman
   on): median of ``--repeat`` runs after one warm-up (the warm-up caches W's eigenvalues on the
   Weights object, as in any session that fits more than one model). Acceptance: < 2 s.
2. Size: non-spatial DGP, n = 200 (20 x 10 rook lattice), T = 10, ``--reps`` replications, for
   pooled / unit / time / two-way FE and the LM conventions "lee_yu" (default) and "elhorst".
   Acceptance: each LM test rejects at 5 % in [0.03, 0.08] (default convention).
3. Power: SDM DGP (rho = 0.3, beta = (1, -0.5), theta = (0.3, -0.3), unit effects), same n, T;
   LR test of theta = 0 at 5 %, ``--reps`` replications. Acceptance: > 0.9.

Usage::

    python benchmarks/bench_choose_model.py [--repeat 7] [--reps 500] > benchmarks/bench_choose_model.txt
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp

N_ROWS, N_COLS, T = 20, 10, 10
LEVEL = 0.05


def rook_lattice(r: int, c: int) -> sp.csr_matrix:
    idx = np.arange(r * c).reshape(r, c)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    C = sp.csr_matrix((np.ones(2 * a.size), (np.r_[a, b], np.r_[b, a])), shape=(r * c, r * c))
    return sp.csr_matrix(C.multiply(1.0 / C.sum(axis=1)))


def demo_timing(repeat: int) -> list[float]:
    import spatialinno as si
    from spatialinno.data.make_demo_panel import INDICATORS
    from spatialinno.models.choose import choose_model
    from spatialinno.runner import SYNTHETIC_NOTE
    panel = si.demo_panel()
    dims = {d: [k for k, v in INDICATORS.items() if v[0] == d]
            for d in ("innovation", "digital", "green")}
    idx = si.build_index(panel.data, {k: v[1] for k, v in INDICATORS.items()}, method="entropy",
                         dimensions=dims, unit="adcode", time="year", name="nqpf")
    data = idx.with_index(panel.data)
    w = si.Weights.contiguity(islands="connect", k_islands=2)
    f = "ln_gtfp ~ nqpf + np.log(pgdp) + np.log(fdi) + human_capital + urbanisation"
    run = lambda: choose_model(f, data, w, unit="adcode", time="year",
                               note=SYNTHETIC_NOTE)
    res = run()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print("## choose_model on the demo panel (SYNTHETIC DATA)\n")
    print(f"formula: {f}; effects: two-way; n = 337, T = 12\n")
    print(res.to_markdown())
    return times


def lm_size(reps: int, effects: str, convention: str, seed: int = 20240501) -> np.ndarray:
    from spatialinno.models.diagnostics import lm_tests
    W = rook_lattice(N_ROWS, N_COLS)
    n = W.shape[0]
    rng = np.random.default_rng(seed)
    rej = np.zeros(4)
    for _ in range(reps):
        X = rng.standard_normal((T * n, 2))
        y = X @ [1.0, -0.5] + rng.standard_normal(T * n)
        if effects in ("unit", "twoway"):
            y += np.tile(rng.standard_normal(n), T)
        if effects in ("time", "twoway"):
            y += np.repeat(rng.standard_normal(T), n)
        rej += [t.p_value < LEVEL for t in lm_tests(y, X, W, n, T, effects,
                                                    convention=convention)]
    return rej / reps


def lr_power(reps: int, seed: int = 20240502) -> tuple[float, float]:
    from spatialinno.models import fit_array
    from spatialinno.models.diagnostics import lr_test, wald_theta_zero
    W = rook_lattice(N_ROWS, N_COLS)
    n = W.shape[0]
    ev = np.linalg.eigvals(W.toarray())
    lu = sp.linalg.splu(sp.csc_matrix(sp.identity(n) - 0.3 * W))
    rng = np.random.default_rng(seed)
    rej_lr = rej_w = 0
    for _ in range(reps):
        X = rng.standard_normal((T, n, 2))
        mu = rng.standard_normal(n)
        y = np.stack([lu.solve(X[t] @ [1.0, -0.5] + (W @ X[t]) @ [0.3, -0.3] + mu
                               + rng.standard_normal(n)) for t in range(T)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sdm = fit_array(y, X, W, "sdm", "unit", effects_draws=0, lee_yu=False,
                            eigenvalues=ev)
            sar = fit_array(y, X, W, "sar", "unit", effects_draws=0, lee_yu=False,
                            eigenvalues=ev)
        rej_lr += lr_test(sar, sdm, 2).p_value < LEVEL
        rej_w += wald_theta_zero(sdm).p_value < LEVEL
    return rej_lr / reps, rej_w / reps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--reps", type=int, default=500)
    a = ap.parse_args()
    print(f"# bench_choose_model ({platform.python_version()}, {platform.machine()})\n")
    times = demo_timing(a.repeat)
    print(f"\nchoose_model demo panel: median {statistics.median(times):.3f} s over {a.repeat} "
          f"runs (min {min(times):.3f}, max {max(times):.3f}); acceptance < 2 s\n")
    print(f"## LM size: non-spatial DGP, n = {N_ROWS * N_COLS}, T = {T}, {a.reps} reps, 5 %\n")
    print("| convention | effects | LM lag | LM error | robust LM lag | robust LM error |")
    print("|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    for conv in ("lee_yu", "elhorst"):
        for fe in ("none", "unit", "time", "twoway"):
            r = lm_size(a.reps, fe, conv)
            print(f"| {conv} | {fe} | " + " | ".join(f"{v:.3f}" for v in r) + " |")
    print(f"\n(LM size runs: {time.perf_counter() - t0:.1f} s)\n")
    t0 = time.perf_counter()
    p_lr, p_w = lr_power(a.reps)
    print(f"## Power: SDM DGP (rho 0.3, theta (0.3, -0.3)), unit FE, n = {N_ROWS * N_COLS}, "
          f"T = {T}, {a.reps} reps\n")
    print(f"LR theta = 0 rejection rate at 5 %: {p_lr:.3f}; Wald: {p_w:.3f} "
          f"({time.perf_counter() - t0:.1f} s); acceptance LR > 0.9")


if __name__ == "__main__":
    main()
