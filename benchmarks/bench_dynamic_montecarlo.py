"""Monte Carlo with known truth: the dynamic spatial Durbin model, n = 200, T = 10, 200 reps.

DGP (:func:`spatialinno.models.dynamic.simulate_dynamic`): y_t = tau y_{t-1} + rho W y_t +
eta W y_{t-1} + X_t b + W X_t theta + mu [+ alpha_t] + e_t, e ~ N(0, 1), kNN (k=6) row-standardised
W, tau = 0.4, rho = 0.3, eta = 0.1, b = (1, -0.5), theta = (0.5, 0.3); mu_i correlated with the
unit means of X; alpha_t (trend + noise) in the two-way design. T = 10 periods enter the
likelihood (T + 1 = 11 are simulated: the first is the initial condition), after a burn-in of 30.

Designs (``fit_dynamic_array``):
  unit FE, ``bias_correction="transform"`` (Yu, de Jong & Lee 2008 correction; = "analytic"),
  without and with the parametric-bootstrap second stage (``bias_bootstrap=99``);
  two-way FE, ``"transform"`` (Lee & Yu 2010 F_{n,n-1} transformation + YdJL correction);
  two-way FE, ``"analytic"`` (direct two-way ML + both analytic corrections);
  two-way FE, ``"transform"`` + the parametric-bootstrap second stage (``bias_bootstrap=99``:
  removes the O(1/T^2) bias the analytic corrections leave);
  two-way FE, ``"transform"`` with 2T periods (how fast the remaining bias shrinks).
Reports mean bias with its MC standard error (|bias| < 3 MC SE expected for the corrected
estimators; the analytic corrections remove the O(1/T) and O(1/n) terms, not O(1/T^2)), the bias of the
uncorrected estimate for contrast, the mean information-matrix SE against the MC standard
deviation, and the 95% coverage of the long-run total effects (simulation, 500 draws). Output
committed as ``bench_dynamic_montecarlo.txt``.

    python benchmarks/bench_dynamic_montecarlo.py [--reps 200] [--n 200] [--T 10] [--seed 2026]
                                                  [--workers N]   (0: serial; default all CPUs)

Replications run through spatialinno.grid.map_chunks on a local Dask cluster; replication r
draws from the seed (seed, r), so the numbers do not depend on the number of workers.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_models import knn_w

from spatialinno import grid
from spatialinno.models.core import _eigenvalues
from spatialinno.models.dynamic import fit_dynamic_array, simulate_dynamic

TAU, RHO, ETA = 0.4, 0.3, 0.1
BETA, THETA = np.array([1.0, -0.5]), np.array([0.5, 0.3])
NAMES = ["x1", "x2", "W*x1", "W*x2", "y(t-1)", "W*y(t-1)", "rho"]
TRUTH = np.concatenate([BETA, THETA, [TAU, ETA, RHO]])
#: True long-run total effects for row-standardised W: (b + theta) / (1 - tau - rho - eta).
LR_TOTAL = (BETA + THETA) / (1 - TAU - RHO - ETA)
DESIGNS = (("unit", "transform", 1, 0), ("unit", "transform", 1, 99),
           ("twoway", "transform", 1, 0), ("twoway", "analytic", 1, 0),
           ("twoway", "transform", 1, 99), ("twoway", "transform", 2, 0))
# (effects, bias_correction, multiple of T, bootstrap draws of the second-stage correction)


def replicate(shared: tuple, part: list[int]) -> list[tuple[np.ndarray, ...]]:
    """Replications ``part`` of one design: simulate, fit, keep the estimates, the uncorrected
    ones, the standard errors and the coverage of the long-run totals. Replication r draws from
    the seed (seed, r), so any number of workers gives the same numbers."""
    W, ev, fe, bc, T, boot, seed = shared
    out = []
    for r in part:
        rng = np.random.default_rng(np.random.SeedSequence([seed, r]))
        y, X = simulate_dynamic(W, T + 1, tau=TAU, rho=RHO, eta=ETA, beta=BETA, theta=THETA,
                                time_effects=fe == "twoway", seed=rng)
        res = fit_dynamic_array(y, X, W, "sdm", fe, bias_correction=bc, eigenvalues=ev,
                                effects_draws=500, seed=r, exog_names=["x1", "x2"],
                                bias_bootstrap=boot)
        e = res.effects[res.effects["effect"] == "total (long run)"]
        out.append((res.params.to_numpy(), res.uncorrected.to_numpy(), res.std_errors.to_numpy(),
                    (e["ci_lower"].to_numpy() <= LR_TOTAL) & (LR_TOTAL <= e["ci_upper"].to_numpy())))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--workers", type=int, default=None,
                    help="local Dask worker processes (default: all CPUs; 0 = serial)")
    a = ap.parse_args()
    W = knn_w(a.n, 6, seed=7)
    ev = _eigenvalues(W)
    print(f"Dynamic SDM Monte Carlo: n={a.n}, T={a.T} (+1 initial period), reps={a.reps}, "
          f"seed={a.seed}; truth tau={TAU}, rho={RHO}, eta={ETA}, b={BETA.tolist()}, "
          f"theta={THETA.tolist()}; long-run totals {np.round(LR_TOTAL, 4).tolist()}")
    verdict = {}
    with grid.engine(workers=a.workers, serial=a.workers == 0) as eng:
        print(f"replications on {eng.description} (replication r seeded by (seed, r))")
        for fe, bc, mult, boot in DESIGNS:
            T = mult * a.T
            t0 = time.perf_counter()
            reps = grid.map_chunks(replicate, list(range(a.reps)), (W, ev, fe, bc, T, boot, a.seed),
                                   client=eng.client, chunks=4 * max(1, eng.workers))
            secs = time.perf_counter() - t0
            est, raw, ses = (np.array([r[j] for r in reps]) for j in range(3))
            cover = np.array([r[3] for r in reps])
            label = f", bootstrap {boot}" if boot else ""
            print(f"\n{fe} FE, bias_correction={bc!r}{label}, T={T}: {secs:.1f} s wall "
                  f"({secs / a.reps:.2f} s per replication, fit + 500-draw effects)")
            verdict[(fe, bc, boot, T)] = report(est, raw, ses, cover, a.reps)
    print("\nall |bias| < 3 MC SE: " + "; ".join(
        f"{fe} {bc}{' + bootstrap' if boot else ''} T={T}: {ok}"
        for (fe, bc, boot, T), ok in verdict.items()))


def report(est: np.ndarray, raw: np.ndarray, ses: np.ndarray, cover: np.ndarray,
           reps: int) -> bool:
    print(f"{'param':>9} {'truth':>7} {'mean':>9} {'bias':>9} {'MC SE':>8} {'|z|':>6} "
          f"{'mean SE':>8} {'sd est':>8}  {'bias uncorrected':>16}")
    ok = True
    for j, nm in enumerate(NAMES):
        bias = est[:, j].mean() - TRUTH[j]
        mcse = est[:, j].std(ddof=1) / np.sqrt(reps)
        ok &= abs(bias) < 3 * mcse
        print(f"{nm:>9} {TRUTH[j]:>7.3f} {est[:, j].mean():>9.4f} {bias:>9.4f} {mcse:>8.4f} "
              f"{abs(bias) / mcse:>6.2f} {ses[:, j].mean():>8.4f} {est[:, j].std(ddof=1):>8.4f}"
              f"  {raw[:, j].mean() - TRUTH[j]:>16.4f}")
    print(f"95% CI coverage of the long-run total effects (x1, x2): "
          f"{np.round(cover.mean(axis=0), 3).tolist()}")
    print(f"criterion: all |bias| < 3 MC SE: {ok}")
    return bool(ok)


if __name__ == "__main__":
    main()
