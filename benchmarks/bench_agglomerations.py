"""Benchmarks of the agglomeration stage, output committed as ``bench_agglomerations.txt``.

1. Demo panel (SYNTHETIC, 337 cities, 2011-2022), queen W (islands connected), SDM with two-way
   FE: wall time of the within/between/outside decomposition table (1000 draws) and of the map
   of the 19 agglomerations written to PNG; acceptance: their sum < 5 s (median of ``--repeat``
   runs after a warm-up). The fit itself and the per-agglomeration Moran table are timed too.
2. Monte Carlo of the two-W model (SDM-2W, unit FE, Lee-Yu on): n = 300, T = 10, kNN (k = 6) W
   on random points, 6 random groups plus ungrouped units (W_w, W_b from ``Weights.blocks``),
   rho_w = 0.5, rho_b = 0.1, b = (1, -0.5), theta = (0.5, 0.3), e ~ N(0, 1). Reports mean bias
   with its MC standard error (|bias| < 3 MC SE expected), 95% CI coverage, mean analytic SE vs
   the MC standard deviation, and rejection rates of rho_w = rho_b (power here); plus the size
   of the LR/Wald tests under rho_w = rho_b = 0.3.

    python benchmarks/bench_agglomerations.py [--reps 200] [--repeat 5] [--seed 2026]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from spatialinno.models.api import fit_two_w_array
from spatialinno.weights import Weights


def knn_w(n: int, k: int = 6, seed: int = 0) -> sp.csr_matrix:
    from scipy.spatial import cKDTree
    xy = np.random.default_rng(seed).random((n, 2))
    _, nb = cKDTree(xy).query(xy, k + 1)
    return sp.csr_matrix((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k),
                                                       nb[:, 1:].ravel())), shape=(n, n))


def demo_timing(repeat: int) -> list[str]:
    import spatialinno as si
    from spatialinno import agglomerations as ag
    from spatialinno import plots
    panel = si.demo_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Weights.contiguity(islands="connect")
    partition = ag.groups(overlap=list(ag.agglomerations()["scope"]))
    formula = "ln_gtfp ~ np.log(rd_expenditure) + digital_finance_index"
    note = "SYNTHETIC DATA (demo panel)"
    out_dir = Path(tempfile.mkdtemp())
    times: dict[str, list[float]] = {"fit": [], "decomposition": [], "map": [], "moran": []}
    res = dec = None
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        res = si.fit(formula, panel.data, w, model="sdm", effects="twoway", unit="adcode",
                     time="year", effects_draws=1000)
        t1 = time.perf_counter()
        dec = ag.decompose_effects(res, partition, draws=1000, seed=0, note=note)
        dec.to_markdown()
        t2 = time.perf_counter()
        plots.save_figure(plots.agglomeration_map(note=note), out_dir / "agglomerations.png")
        t3 = time.perf_counter()
        ag.moran_by_agglomeration(panel, "ln_gtfp", w, partition, permutations=99, note=note)
        t4 = time.perf_counter()
        if i:  # first run is a warm-up
            for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                times[k].append(v)
    med = {k: statistics.median(v) for k, v in times.items()}
    lines = [f"Demo panel (SYNTHETIC): n=337, T=12, SDM two-way FE, queen W; medians of {repeat} "
             f"runs after a warm-up",
             f"  fit (incl. 1000-draw effects)          {med['fit']:7.3f} s",
             f"  decomposition table (1000 draws)       {med['decomposition']:7.3f} s",
             f"  agglomeration map -> PNG               {med['map']:7.3f} s",
             f"  Moran's I by agglomeration x year      {med['moran']:7.3f} s (99 permutations)",
             f"  decomposition + map                    {med['decomposition'] + med['map']:7.3f} s"
             f"  (criterion < 5 s: {med['decomposition'] + med['map'] < 5})",
             f"  checks: identity {dec.check['identity']:.2e}, vs effects module "
             f"{dec.check['vs_effects']:.2e}", "", dec.table.to_string(
                 index=False, float_format=lambda x: f"{x:.5f}"), ""]
    return lines


def simulate(Ww, Wb, T, rho_w, rho_b, rng):
    n = Ww.shape[0]
    W = Ww + Wb
    X = rng.standard_normal((T, n, 2))
    lu = sp.linalg.splu(sp.csc_matrix(sp.identity(n) - rho_w * Ww - rho_b * Wb))
    mu = rng.standard_normal(n) + X.mean(axis=0) @ np.array([0.5, 0.5])
    y = np.stack([lu.solve(X[t] @ np.array([1.0, -0.5]) + (W @ X[t]) @ np.array([0.5, 0.3])
                           + mu + rng.standard_normal(n)) for t in range(T)])
    return y, X


def monte_carlo(reps: int, n: int, T: int, seed: int) -> list[str]:
    W = knn_w(n, 6, seed=0)
    labels = np.random.default_rng(11).integers(-1, 6, n)  # -1 = in no group
    codes = [str(i) for i in range(n)]
    groups = {codes[i]: f"g{g}" for i in range(n) if (g := labels[i]) >= 0}
    ww, wb = Weights.blocks(Weights.from_sparse(W, codes), groups, unassigned="between")
    Ww, Wb = sp.csr_matrix(ww.sparse), sp.csr_matrix(wb.sparse)
    truth = np.array([1.0, -0.5, 0.5, 0.3, 0.5, 0.1])
    names = ["x1", "x2", "W*x1", "W*x2", "rho_within", "rho_between"]
    rng = np.random.default_rng(seed)
    est, se, rej = [], [], []
    t0 = time.perf_counter()
    for _ in range(reps):
        y, X = simulate(Ww, Wb, T, 0.5, 0.1, rng)
        r = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "unit", effects_draws=0)
        est.append(r.params.to_numpy())
        se.append(r.std_errors.to_numpy())
        rej.append((r.tests["p_value"] < 0.05).to_numpy())
    el = time.perf_counter() - t0
    size = []
    for _ in range(reps):
        y, X = simulate(Ww, Wb, T, 0.3, 0.3, rng)
        r = fit_two_w_array(y, X, Ww, Wb, "sdm2w", "unit", effects_draws=0)
        size.append((r.tests["p_value"] < 0.05).to_numpy())
    est, se = np.array(est), np.array(se)
    bias = est.mean(axis=0) - truth
    mcse = est.std(axis=0, ddof=1) / np.sqrt(reps)
    cover = np.mean(np.abs(est - truth) <= 1.959964 * se, axis=0)
    lines = [f"Two-W model (SDM-2W, unit FE, Lee-Yu) Monte Carlo: n={n}, T={T}, reps={reps}, "
             f"seed={seed}, kNN(6) W, 6 random groups + {int((labels < 0).sum())} ungrouped "
             f"units; W_w share of links {Ww.nnz / W.nnz:.3f}; {el:.1f} s ({el / reps:.2f} s "
             f"per fit)",
             f"{'param':>12} {'truth':>7} {'mean':>9} {'bias':>9} {'MC SE':>8} {'|z|':>6} "
             f"{'mean SE':>8} {'sd est':>8} {'cover95':>8}"]
    for j, nm in enumerate(names):
        lines.append(f"{nm:>12} {truth[j]:7.3f} {est[:, j].mean():9.4f} {bias[j]:9.4f} "
                     f"{mcse[j]:8.4f} {abs(bias[j]) / mcse[j]:6.2f} {se[:, j].mean():8.4f} "
                     f"{est[:, j].std(ddof=1):8.4f} {cover[j]:8.3f}")
    rej, size = np.mean(rej, axis=0), np.mean(size, axis=0)
    lines += [f"rejection of rho_w = rho_b at 5% (truth 0.5 vs 0.1): LR {rej[0]:.3f}, "
              f"Wald {rej[1]:.3f}",
              f"size at 5% under rho_w = rho_b = 0.3: LR {size[0]:.3f}, Wald {size[1]:.3f}",
              f"criteria: all |bias| < 3 MC SE: {bool(np.all(np.abs(bias) < 3 * mcse))}; "
              f"coverage in [0.92, 0.98]: {bool(np.all((cover >= 0.92) & (cover <= 0.98)))}"]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--skip-mc", action="store_true")
    a = ap.parse_args()
    lines = demo_timing(a.repeat)
    print("\n".join(lines), flush=True)
    if not a.skip_mc:
        mc = monte_carlo(a.reps, a.n, a.T, a.seed)
        print("\n".join(mc), flush=True)


if __name__ == "__main__":
    main()
