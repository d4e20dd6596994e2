"""Time every spatialinno.weights builder.

Run from the repository root: ``python benchmarks/bench_weights.py [--runs 7]``. Prints the
median (and min/max) wall time in milliseconds of each weights type on the shipped 337-unit
layer (the layer is loaded once, outside the timings; each build includes computing unit points
where it needs them), of the diagnostics (``summary()``, dense eigenvalues), and of kNN and
inverse distance on 3,000 random points (county scale, seeded). Target: contiguity on the
shipped layer < 2 s.

OpenBLAS runs single-threaded here unless OPENBLAS_NUM_THREADS is set: on a small shared machine
its thread pool made a 337 x 337 eigen-decomposition take 0.02-2 s instead of 5 ms.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported; see docstring

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from spatialinno.boundaries import load_boundaries
from spatialinno.runner import demo_panel
from spatialinno.weights import IslandWarning, Weights

CONTIGUITY_TARGET_MS = 2000.0


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(label: str, ms: list[float]) -> float:
    med = statistics.median(ms)
    print(f"{label:<52} median {med:9.1f} ms   min {min(ms):9.1f}   max {max(ms):9.1f}   "
          f"(n={len(ms)})")
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per case (at least 5)")
    args = parser.parse_args()
    runs = max(args.runs, 5)
    warnings.simplefilter("ignore", IslandWarning)
    layer = load_boundaries()
    data = demo_panel().data
    Weights.contiguity(layer)  # warm imports (libpysal, pyproj)
    geo = Weights.distance(layer=layer)
    econ = Weights.economic(data, "pgdp")

    print(f"-- shipped layer, n = {len(layer)} (OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']})")
    queen_ms = report("contiguity (queen, keep)", timed(lambda: Weights.contiguity(layer), runs))
    report("contiguity (rook, keep)", timed(lambda: Weights.contiguity(layer, rook=True), runs))
    report("contiguity (queen, connect)",
           timed(lambda: Weights.contiguity(layer, islands="connect"), runs))
    report("knn (k=5)", timed(lambda: Weights.knn(5, layer=layer), runs))
    report("inverse distance (alpha=1, dense)", timed(lambda: Weights.distance(layer=layer), runs))
    report("inverse distance (alpha=2, cutoff 500 km)",
           timed(lambda: Weights.distance(alpha=2, cutoff_km=500, layer=layer), runs))
    report("exponential decay (bandwidth 300 km)",
           timed(lambda: Weights.distance("exponential", bandwidth_km=300, layer=layer), runs))
    report("economic (pgdp, 2011-2022 mean)", timed(lambda: Weights.economic(data, "pgdp"), runs))
    report("nested (inverse distance x pgdp)",
           timed(lambda: Weights.nested(geo, data, "pgdp"), runs))
    report("mix (phi=0.5)", timed(lambda: Weights.mix(geo, econ, 0.5), runs))
    groups = {c: c[:2] for c in geo.codes}
    report("blocks (within/between by province)", timed(lambda: Weights.blocks(geo, groups), runs))
    queen = Weights.contiguity(layer)
    report("summary() of queen (fresh object: eigenvalues too)",
           timed(lambda: queen.with_transform("row").summary(), runs))
    report("summary() of inverse distance (dense, non-sym.)",
           timed(lambda: geo.with_transform("row").summary(), runs))

    rng = np.random.default_rng(20240601)
    n = 3000
    seats = pd.DataFrame({"code": [f"{i:06d}" for i in range(n)], "lon": rng.uniform(98, 122, n),
                          "lat": rng.uniform(22, 42, n)})
    print(f"-- {n} random points (seed 20240601)")
    report("knn (k=8)", timed(lambda: Weights.knn(8, seats=seats), runs))
    report("inverse distance (alpha=1, cutoff 150 km)",
           timed(lambda: Weights.distance(cutoff_km=150, seats=seats), runs))
    report("inverse distance (alpha=1, dense, 9e6 links)",
           timed(lambda: Weights.distance(seats=seats), runs))
    status = "OK" if queen_ms < CONTIGUITY_TARGET_MS else "SLOWER THAN TARGET"
    print(f"contiguity target < {CONTIGUITY_TARGET_MS:.0f} ms: {status} ({queen_ms:.0f} ms)")


if __name__ == "__main__":
    main()
