"""Benchmark at a hundred thousand and a million units: SDM two-way with effects on the Monte Carlo
log-determinant (issue 23), beside the exact sparse-LU fit where it is computable.

For each n (a fresh process per n, so that the peak memory is that fit's): kNN-6 W on n random
points (row-standardised), T = 10, SYNTHETIC SDM data with rho = 0.5 simulated by the Neumann
series (no factorisation), then

* ``fit_array(..., "sdm", "twoway", logdet="auto", effects_draws=1000)`` -- from 200,000 units
  ``"auto"`` is :class:`spatialinno.models.MonteCarlo`: wall and CPU time, peak memory (max RSS);
* for n <= 100,000 also ``logdet="lu"`` (exact) and ``logdet=MonteCarlo()``: their rho, and the
  Monte Carlo log-determinant against the exact one at rho in {-0.5, 0.2, 0.5, 0.8} with its
  stated error bound (3 probe standard errors + the truncation bound).

Usage (from the repository root)::

    python benchmarks/bench_large.py [--n 100000 1000000] [--T 10]

Output: printed, and committed as ``benchmarks/bench_large.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
RHO, BETA, THETA = 0.5, np.array([1.0, -0.5]), np.array([0.3, 0.2])


def knn_w(n: int, k: int = 6, seed: int = 0) -> sp.csr_matrix:
    from scipy.spatial import cKDTree
    xy = np.random.default_rng(seed).random((n, 2))
    _, nb = cKDTree(xy).query(xy, k + 1)
    return sp.csr_matrix((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k),
                                                    nb[:, 1:].ravel())), shape=(n, n))


def simulate(W: sp.csr_matrix, T: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """y_t = (I - rho W)^-1 (X_t b + W X_t theta + mu + alpha_t + e_t) by the Neumann series."""
    rng = np.random.default_rng(seed)
    n = W.shape[0]
    X = rng.standard_normal((T, n, 2))
    mu = rng.standard_normal(n)
    y = np.empty((T, n))
    for t in range(T):
        v = X[t] @ BETA + (W @ X[t]) @ THETA + mu + 0.1 * t + rng.standard_normal(n)
        acc, term = v.copy(), v
        for _ in range(200):
            term = RHO * (W @ term)
            acc += term
            if np.abs(term).max() < 1e-14 * np.abs(acc).max():
                break
        y[t] = acc
    return y, X


def child(n: int, T: int) -> dict:
    from spatialinno.models import MonteCarlo, SparseLU, fit_array
    t0 = time.perf_counter()
    W = knn_w(n)
    y, X = simulate(W, T)
    out = {"n": n, "T": T, "setup_s": time.perf_counter() - t0}
    warnings.simplefilter("ignore")
    c0, w0 = time.process_time(), time.perf_counter()
    res = fit_array(y, X, W, "sdm", "twoway", logdet="auto", effects_draws=1000, seed=0)
    out["auto_wall_s"], out["auto_cpu_s"] = time.perf_counter() - w0, time.process_time() - c0
    out["auto_rho"], out["auto_rho_se"] = float(res.params["rho"]), float(res.std_errors["rho"])
    info = res.info().set_index("item")["value"]
    out["logdet_note"] = str(info.get("Log-determinant", "exact (sparse LU)"))
    out["trace_note"] = str(info.get("Effects traces", ""))
    eff = res.effects.set_index(["variable", "effect"])["estimate"]
    out["direct_x1"], out["indirect_x1"] = float(eff[("x1", "direct")]), float(
        eff[("x1", "indirect")])
    if n <= 100_000:
        w0 = time.perf_counter()
        exact = fit_array(y, X, W, "sdm", "twoway", logdet="lu", effects_draws=0)
        out["lu_wall_s"], out["lu_rho"] = time.perf_counter() - w0, float(exact.params["rho"])
        w0 = time.perf_counter()
        mc = fit_array(y, X, W, "sdm", "twoway", logdet=MonteCarlo(), effects_draws=0)
        out["mc_wall_s"], out["mc_rho"] = time.perf_counter() - w0, float(mc.params["rho"])
        ld_mc, ld_lu = MonteCarlo().prepare(W), SparseLU().prepare(W)
        out["logdet"] = [(r, ld_lu(r), ld_mc(r), ld_mc.error_bound(r))
                         for r in (-0.5, 0.2, 0.5, 0.8)]
    out["max_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return out


def report(o: dict) -> None:
    print(f"n = {o['n']:,}, T = {o['T']}, kNN-6 (SYNTHETIC, rho = {RHO}); setup (W + data) "
          f"{o['setup_s']:.1f} s")
    print(f"  fit(sdm, twoway, logdet='auto', effects_draws=1000): {o['auto_wall_s']:.1f} s wall, "
          f"{o['auto_cpu_s']:.1f} s CPU, peak memory {o['max_rss_gb']:.2f} GB; rho "
          f"{o['auto_rho']:.6f} (SE {o['auto_rho_se']:.6f}); x1 direct {o['direct_x1']:.4f}, "
          f"indirect {o['indirect_x1']:.4f}")
    print(f"    log-determinant: {o['logdet_note']}")
    if o["trace_note"]:
        print(f"    effects traces: {o['trace_note']}")
    if "lu_rho" in o:
        d = o["mc_rho"] - o["lu_rho"]
        print(f"  exact (sparse LU) fit {o['lu_wall_s']:.1f} s: rho {o['lu_rho']:.8f}; Monte Carlo "
              f"fit {o['mc_wall_s']:.1f} s: rho {o['mc_rho']:.8f}; difference {d:+.2e} "
              f"(target |d| < 1e-4: {abs(d) < 1e-4})")
        for r, ex, mc, bound in o["logdet"]:
            print(f"  log|I - {r:+.1f} W|: exact {ex:.3f}, Monte Carlo {mc:.3f}, error "
                  f"{mc - ex:+.3f}, stated bound {bound:.3f} (within: {abs(mc - ex) <= bound})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--child", type=int, default=0)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.T)))
        return
    load = os.getloadavg()[0]
    print(f"# benchmarks/bench_large.py --n {' '.join(map(str, a.n))} --T {a.T}  "
          f"({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, {platform.python_version()}, "
          f"numpy {np.__version__}, load {load:.1f})")
    for n in a.n:
        p = subprocess.run([sys.executable, __file__, "--child", str(n), "--T", str(a.T)],
                           capture_output=True, text=True, check=True)
        report(json.loads(p.stdout.strip().splitlines()[-1]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
