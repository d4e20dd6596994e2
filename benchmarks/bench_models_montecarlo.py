"""Monte Carlo with known truth: SDM with two-way FE, n = 300, T = 10, 200 replications.

DGP: y_t = rho W y_t + X_t b + W X_t theta + mu + alpha_t 1 + e_t, e ~ N(0, 1), kNN (k=6) W,
rho = 0.4, b = (1, -0.5), theta = (0.5, 0.3); mu_i correlated with unit means of X, alpha_t
trending. Estimator: ``fit_array(..., "sdm", "twoway")`` with the Lee-Yu correction on (default)
and effects by 1000-draw simulation. Reports mean bias with its MC standard error (|bias| < 3 MC SE
expected) and 95% CI coverage of the indirect effects (expected in [0.92, 0.98]); for contrast the
bias of rho without the correction. Output committed as ``bench_models_montecarlo.txt``.

    python benchmarks/bench_models_montecarlo.py [--reps 200] [--seed 2026]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from bench_models import knn_w
from spatialinno.models import fit_array
from spatialinno.models.core import _eigenvalues


RHO, BETA, THETA = 0.4, np.array([1.0, -0.5]), np.array([0.5, 0.3])


def mc_arguments() -> argparse.Namespace:
    """--reps, --n, --T, --seed of the SDM two-way Monte Carlo scripts."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    return ap.parse_args()


def sdm_twoway_samples(n: int, T: int, reps: int, seed: int):
    """W, its eigenvalues, and ``reps`` samples (y (T, n), X (T, n, 2)) of the DGP above."""
    W = knn_w(n, 6, seed=7)
    ev = _eigenvalues(W)
    lu = sp.linalg.splu(sp.csc_matrix(sp.identity(n) - RHO * W))
    rng = np.random.default_rng(seed)

    def draws():
        for _ in range(reps):
            X = rng.standard_normal((T, n, 2))
            mu = 0.5 * X.mean(axis=0).sum(axis=1) + rng.standard_normal(n)
            alpha = 0.1 * np.arange(T) + rng.standard_normal(T)
            y = np.empty((T, n))
            for t in range(T):
                y[t] = lu.solve(X[t] @ BETA + (W @ X[t]) @ THETA + mu + alpha[t]
                                + rng.standard_normal(n))
            yield y, X
    return W, ev, draws()


def main() -> None:
    a = mc_arguments()
    n, T = a.n, a.T
    rho, b, th = RHO, BETA, THETA
    W, ev, samples = sdm_twoway_samples(n, T, a.reps, a.seed)
    Wd = W.toarray()
    S = np.linalg.inv(np.eye(n) - rho * Wd)
    true_direct = np.array([np.trace(S @ (b[k] * np.eye(n) + th[k] * Wd)) / n for k in range(2)])
    true_total = (b + th) / (1 - rho)
    true_ind = true_total - true_direct
    est, est_off, cover, cover_d, ses = [], [], [], [], []
    t0 = time.perf_counter()
    for r, (y, X) in enumerate(samples):
        res = fit_array(y, X, W, "sdm", "twoway", eigenvalues=ev, effects_draws=1000, seed=r)
        off = fit_array(y, X, W, "sdm", "twoway", lee_yu=False, eigenvalues=ev, effects_draws=0)
        est.append(res.params.to_numpy())
        ses.append(res.std_errors.to_numpy())
        est_off.append(off.params.to_numpy())
        e = res.effects[res.effects["effect"] == "indirect"]
        cover.append((e["ci_lower"].to_numpy() <= true_ind)
                     & (true_ind <= e["ci_upper"].to_numpy()))
        dlt = res.impacts("delta")
        dlt = dlt[dlt["effect"] == "indirect"]
        cover_d.append((dlt["ci_lower"].to_numpy() <= true_ind)
                       & (true_ind <= dlt["ci_upper"].to_numpy()))
    secs = time.perf_counter() - t0
    est, est_off, ses = np.array(est), np.array(est_off), np.array(ses)
    truth = np.concatenate([b, th, [rho]])
    names = ["x1", "x2", "W*x1", "W*x2", "rho"]
    print(f"SDM two-way FE Monte Carlo: n={n}, T={T}, reps={a.reps}, seed={a.seed}, "
          f"{secs:.1f} s ({secs / a.reps:.2f} s per replication, both fits)")
    print(f"{'param':>6} {'truth':>8} {'mean':>9} {'bias':>9} {'MC SE':>8} {'|z|':>6} "
          f"{'mean SE':>8} {'sd est':>8}  {'bias (no Lee-Yu)':>16}")
    ok = True
    for j, nm in enumerate(names):
        bias = est[:, j].mean() - truth[j]
        mcse = est[:, j].std(ddof=1) / np.sqrt(a.reps)
        ok &= abs(bias) < 3 * mcse
        print(f"{nm:>6} {truth[j]:>8.3f} {est[:, j].mean():>9.4f} {bias:>9.4f} {mcse:>8.4f} "
              f"{abs(bias) / mcse:>6.2f} {ses[:, j].mean():>8.4f} {est[:, j].std(ddof=1):>8.4f}  "
              f"{est_off[:, j].mean() - truth[j]:>16.4f}")
    cov = np.array(cover).mean(axis=0)
    covd = np.array(cover_d).mean(axis=0)
    print(f"true indirect effects: {np.round(true_ind, 4).tolist()}")
    print("95% CI coverage of indirect effects, simulation (1000 draws): "
          f"{np.round(cov, 3).tolist()}")
    print("95% CI coverage of indirect effects, delta method:            "
          f"{np.round(covd, 3).tolist()}")
    in_band = bool(np.all((cov >= 0.92) & (cov <= 0.98)))
    print(f"criteria: all |bias| < 3 MC SE: {ok}; simulation coverage in [0.92, 0.98]: {in_band}")


if __name__ == "__main__":
    main()
