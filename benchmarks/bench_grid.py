"""Benchmark of the Dask mechanism of spatialinno.grid (issue 23): wall times serial, on a local
cluster with 1 worker process and with 2, for

* placebo tests of 500 permutations (one SDM two-way refit each, eigenvalues of W computed once)
  through :func:`spatialinno.grid.map_chunks` (``policy.placebo(..., client=)``), checking the
  draws are identical in every setting: the SYNTHETIC demo pilot (337 cities x 12 years; a refit
  takes milliseconds, so this measures Dask's overhead) and a SYNTHETIC pilot on a 50 x 50
  lattice (2,500 units x 12 years; a refit takes a tenth of a second);
* the shipped robustness grid ``analyses/nqpf_robustness.toml`` (54 cells) through
  ``spatialinno.grid.run``, checking the outputs are the same bytes in every setting.

Cluster start-up (worker processes started and the package imported in each) is timed apart: it
is paid once per run. Usage (from the repository root)::

    python benchmarks/bench_grid.py [--draws 500] [--chunks 16]

Output: printed, and committed as ``benchmarks/bench_grid.txt``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def placebo_setup():
    import spatialinno as si
    from spatialinno import policy

    data = si.demo_panel().data.merge(policy.demo_policy(), on=["adcode", "year"])
    for col in ("pgdp", "fdi", "fiscal_expenditure", "human_capital"):
        data[f"ln_{col}"] = np.log(data[col])
    w = si.Weights.contiguity(units=sorted(data["adcode"].unique()), islands="connect",
                              k_islands=2)
    tr = policy.treatment(data, column="pilot", w=w)
    controls = ["ln_pgdp", "ln_fdi", "ln_fiscal_expenditure", "ln_human_capital"]
    return tr, controls


def lattice_setup(side: int = 50, T: int = 12, seed: int = 3):
    """A SYNTHETIC staggered pilot on a side x side rook lattice: SDM-DID with rho = 0.4, direct
    0.5 and W*D 0.3, unit and year effects; 30% of the units adopt in 2015-2020."""
    import pandas as pd
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    from spatialinno import policy

    n, rng = side * side, np.random.default_rng(seed)
    grid = np.arange(n).reshape(side, side)
    a = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    b = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
    adj = sp.csr_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    W = sp.diags(1 / np.asarray(adj.sum(1)).ravel()) @ adj
    codes = [f"u{i:05d}" for i in range(n)]
    years = np.arange(2011, 2011 + T)
    first = np.where(rng.random(n) < 0.3, rng.integers(2015, 2021, n), 0)
    D = ((first[:, None] > 0) & (years[None, :] >= first[:, None])).astype(float)
    x = rng.normal(size=(n, T))
    xb = (x + 0.5 * D + 0.3 * (W @ D) + 0.2 * (W @ x) + rng.normal(size=(n, 1))
          + rng.normal(size=(1, T)) + 0.5 * rng.normal(size=(n, T)))
    y = spl.spsolve((sp.identity(n) - 0.4 * W).tocsc(), xb)
    df = pd.DataFrame({"unit": np.repeat(codes, T), "t": np.tile(years, n), "y": y.ravel(),
                       "x": x.ravel(), "D": D.ravel().astype(int)})
    return policy.treatment(df, column="D", unit="unit", time="t", w=(W, codes)), ["x"]


def cluster(workers: int):
    """The local cluster of ``spatialinno grid`` (grid.engine) with ``workers`` processes, the
    package imported in each; and the seconds that took."""
    from spatialinno import grid

    t0 = time.perf_counter()
    ctx = grid.engine(workers=workers)
    eng = ctx.__enter__()
    eng.client.wait_for_workers(workers)
    eng.client.run(_warm_up)  # import the package in every worker (paid once per process)
    return ctx, eng.client, time.perf_counter() - t0


def _warm_up() -> None:
    import spatialinno.policy  # noqa: F401


def bench_placebo(draws: int, chunks: int, case: str) -> None:
    from spatialinno import policy

    if case == "demo":
        tr, controls = placebo_setup()
        outcome, what = "ln_gtfp_pilot", "the SYNTHETIC demo pilot (cities)"
    else:
        tr, controls = lattice_setup()
        outcome, what = "y", "a SYNTHETIC pilot on a 50 x 50 lattice"
    print(f"placebo: {draws} permutations of {what}, SDM two-way, "
          f"{len(tr.units)} units x {len(tr.times)} years, {chunks} chunks")
    t0 = time.perf_counter()
    serial = policy.placebo(tr, outcome, controls, draws=draws, seed=7, chunks=chunks)
    print(f"  serial (this process): {time.perf_counter() - t0:.1f} s; p-values "
          f"{serial.p_values.round(4).to_dict()}")
    for workers in (1, 2):
        lc, client, start = cluster(workers)
        try:
            t0 = time.perf_counter()
            res = policy.placebo(tr, outcome, controls, draws=draws, seed=7,
                                 chunks=chunks, client=client)
            wall = time.perf_counter() - t0
        finally:
            lc.__exit__(None, None, None)
        same = res.draws.equals(serial.draws)
        print(f"  local Dask cluster, {workers} worker(s): {wall:.1f} s (cluster start "
              f"{start:.1f} s); draws identical to serial: {same}")


def bench_grid() -> None:
    from spatialinno import grid

    path = ROOT / "analyses" / "nqpf_robustness.toml"
    outs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, kw in (("serial", {"serial": True}), ("1 worker", {"workers": 1}),
                          ("2 workers", {"workers": 2})):
            t0 = time.perf_counter()
            res = grid.run(path, Path(tmp) / label.replace(" ", "_"), quiet=True, **kw)
            wall = time.perf_counter() - t0
            folder = res.out
            outs[label] = {p.relative_to(folder).as_posix(): p.read_bytes()
                           for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}
            ok = sum(r.ok for r in res.results)
            start = "" if label == "serial" else " (with cluster start)"
            print(f"  {label}: {wall:.1f} s{start}, {ok} of {len(res.results)} "
                  f"cells fitted; same bytes as serial: {outs[label] == outs['serial']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--chunks", type=int, default=16)
    args = ap.parse_args()
    print(f"# bench_grid on {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")
    bench_placebo(args.draws, args.chunks, "demo")
    bench_placebo(args.draws, args.chunks, "lattice")
    print("grid: analyses/nqpf_robustness.toml (54 cells: 3 W x 2 models x 3 periods x 3 index "
          "methods, 500 effect draws per cell)")
    bench_grid()


if __name__ == "__main__":
    main()
