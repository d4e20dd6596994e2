"""Benchmark at county size, beside the peers in the same run.

1. The whole county analysis ``analyses/county_demo.toml`` (join, index, 3 W, Moran/LISA with 999
   permutations, model choice, 3 SDMs two-way with 1,000-draw effects, maps) in a fresh process,
   wall time and the runner's per-step timings.
2. SDM with two-way effects and 1,000-draw effects inference on the SYNTHETIC county demo panel
   (n = 2,840 county units, T = 15, queen W with islands joined to their 2 nearest units,
   row-standardised), beside spreg ``ML_LagFE(slx_lags=1)`` (unit effects, its point impacts)
   and splm ``spml(model="within", effect="twoways", lag=TRUE, spatial.error="none")`` with the
   W*X columns as regressors (an SDM; splm gives no effects inference), on the same y, X and W.

Usage (from the repository root; R with splm for the splm column, see ../shared/r_peers)::

    python benchmarks/bench_county.py [--repeat 3] [--no-analysis] [--no-spreg] [--no-splm]

Output: printed, and committed as ``benchmarks/bench_county.txt``. Wall times depend on what else
runs on the machine (the load average is printed); CPU seconds (user + system, all threads) much
less, so both are given.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import spatialinno as si

ROOT = Path(__file__).resolve().parents[1]
FORMULA = "ln_innov ~ x1 + x2 + x3"
SPLM_SCRIPT = r"""
suppressPackageStartupMessages({library(splm); library(spdep); library(Matrix)})
d <- read.csv(file.path(Sys.getenv("BENCH_DIR"), "panel.csv"))
tr <- read.csv(file.path(Sys.getenv("BENCH_DIR"), "w.csv"))
n <- max(d$id)
W <- sparseMatrix(i = tr$row, j = tr$col, x = tr$weight, dims = c(n, n))
lw <- mat2listw(as.matrix(W), style = "W")
d$id <- factor(d$id, levels = 1:n)
t0 <- proc.time()
fit <- spml(y ~ x1 + x2 + x3 + wx1 + wx2 + wx3, data = d, index = c("id", "time"), listw = lw,
            model = "within", effect = "twoways", lag = TRUE, spatial.error = "none")
el <- proc.time() - t0
cat(sprintf("SPLM_SECONDS %.3f\n", el[["elapsed"]]))
cat(sprintf("SPLM_CPU %.3f\n", el[["user.self"]] + el[["sys.self"]]))
cat(sprintf("SPLM_LAMBDA %.6f\n", fit$coefficients[["lambda"]]))
cat(sprintf("SPLM_BLAS %s\n", extSoftVersion()[["BLAS"]]))
"""


def county_data() -> tuple[pd.DataFrame, si.Weights]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = si.load_panel(si.datasets.path("county_demo"), unit="county", time="year",
                              level="county", province="province", prefecture="prefecture")
    layer = si.load_boundaries(level="county")
    layer = layer[layer["adcode"].isin(panel.units)].reset_index(drop=True)
    w = si.Weights.contiguity(layer, islands="connect", k_islands=2)
    return panel.data, w


def time_ours(data: pd.DataFrame, w: si.Weights,
              repeat: int) -> tuple[float, float, float, object]:
    """(first call wall, median wall, median CPU, result)."""
    def run():
        return si.fit(FORMULA, data, w, model="sdm", effects="twoway", unit="adcode",
                      time="year", effects_draws=1000, seed=0)
    t = time.perf_counter()
    res = run()
    cold = time.perf_counter() - t
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return cold, statistics.median(walls), statistics.median(cpus), res


def arrays(data: pd.DataFrame, w: si.Weights):
    """y (T x n) and X (T x n x 3) in W's unit order, time-major, for the peers."""
    codes = list(w.codes)
    d = data.set_index(["year", "adcode"]).sort_index()
    years = sorted(data["year"].unique())
    y = np.stack([d.loc[t].reindex(codes)["ln_innov"].to_numpy() for t in years])
    X = np.stack([d.loc[t].reindex(codes)[["x1", "x2", "x3"]].to_numpy() for t in years])
    return y, X


def time_spreg(y: np.ndarray, X: np.ndarray, w: si.Weights) -> tuple[float, float, float]:
    import libpysal
    import spreg

    W = libpysal.weights.WSP(w.sparse.tocsr()).to_W(silence_warnings=True)
    W.transform = "r"
    t, c = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        m = spreg.ML_LagFE(y.reshape(-1, 1), X.reshape(-1, 3), W, slx_lags=1)
    return time.perf_counter() - t, time.process_time() - c, float(np.ravel(m.rho)[0])


def time_splm(y: np.ndarray, X: np.ndarray,
              w: si.Weights) -> tuple[float, float, float, float, str]:
    """(spml wall, spml CPU, wall with R start, lambda, BLAS)."""
    nan = float("nan")
    if shutil.which("Rscript") is None:
        return nan, nan, nan, nan, "Rscript not found"
    T, n = y.shape
    Wm = w.sparse.tocsr()
    wx = np.stack([Wm @ X[t] for t in range(T)])
    with tempfile.TemporaryDirectory() as tmp:
        rows = {"id": np.tile(np.arange(1, n + 1), T), "time": np.repeat(np.arange(1, T + 1), n),
                "y": y.ravel()}
        for k in range(3):
            rows[f"x{k + 1}"] = X[:, :, k].ravel()
            rows[f"wx{k + 1}"] = wx[:, :, k].ravel()
        pd.DataFrame(rows).to_csv(Path(tmp) / "panel.csv", index=False)
        coo = Wm.tocoo()
        pd.DataFrame({"row": coo.row + 1, "col": coo.col + 1, "weight": coo.data}).to_csv(
            Path(tmp) / "w.csv", index=False)
        script = Path(tmp) / "fit.R"
        script.write_text(SPLM_SCRIPT)
        t = time.perf_counter()
        out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True,
                             env={**os.environ, "BENCH_DIR": tmp}, timeout=1200)
        wall = time.perf_counter() - t
    if out.returncode != 0:
        return nan, nan, wall, nan, "error: " + out.stderr[-300:]
    get = dict(re.findall(r"^(SPLM_\w+) (.*)$", out.stdout, flags=re.M))
    return (float(get["SPLM_SECONDS"]), float(get["SPLM_CPU"]), wall, float(get["SPLM_LAMBDA"]),
            get.get("SPLM_BLAS", ""))


def time_analysis() -> tuple[float, float, str]:
    """(wall, CPU of the child process, the runner's per-step timings line)."""
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "spatialinno.cli", "run",
                              str(ROOT / "analyses" / "county_demo.toml"), "--out",
                              str(Path(tmp) / "out")],
                             capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = (out.stdout + out.stderr).strip().splitlines()
    steps = next((line for line in text if line.startswith("wrote ")), text[-1] if text else "")
    return wall, cpu, (steps if out.returncode == 0 else f"FAILED ({out.returncode}): {steps}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-analysis", action="store_true")
    ap.add_argument("--no-spreg", action="store_true")
    ap.add_argument("--no-splm", action="store_true")
    a = ap.parse_args()
    print(f"# benchmarks/bench_county.py --repeat {a.repeat}  ({time.strftime('%Y-%m-%d')}, "
          f"{os.cpu_count()} CPUs, {platform.python_version()}, numpy {np.__version__}, "
          f"load {os.getloadavg()[0]:.1f})")
    if not a.no_analysis:
        wall, cpu, steps = time_analysis()
        print(f"whole analysis analyses/county_demo.toml, fresh process: {wall:.1f} s wall, "
              f"{cpu:.1f} s CPU")
        print(f"  {steps}")
    data, w = county_data()
    y, X = arrays(data, w)
    print(f"SDM two-way, n = {w.n}, T = {y.shape[0]}, queen W ({w.nnz} links), "
          "SYNTHETIC county demo")
    cold, warm, cpu, res = time_ours(data, w, a.repeat)
    rho = float(res.params["rho"])
    print(f"  spatialinno fit(model='sdm', effects='twoway', effects_draws=1000): first call "
          f"{cold:.2f} s, median of {a.repeat} {warm:.2f} s wall, {cpu:.2f} s CPU; rho {rho:.4f}")
    if not a.no_spreg:
        t_spreg, c_spreg, rho_spreg = time_spreg(y, X, w)
        print(f"  spreg ML_LagFE(slx_lags=1) (unit FE, point impacts): {t_spreg:.2f} s wall, "
              f"{c_spreg:.2f} s CPU; rho {rho_spreg:.4f}; ratio {t_spreg / warm:.1f}x wall, "
              f"{c_spreg / cpu:.1f}x CPU")
    if not a.no_splm:
        t_splm, c_splm, wall, lam, blas = time_splm(y, X, w)
        print(f"  splm spml(within, twoways, lag, W*X regressors): {t_splm:.2f} s wall, "
              f"{c_splm:.2f} s CPU in spml ({wall:.1f} s with R start and reading); lambda "
              f"{lam:.4f}; ratio {t_splm / warm:.1f}x wall, {c_splm / cpu:.1f}x CPU; BLAS {blas}")


if __name__ == "__main__":
    main()
