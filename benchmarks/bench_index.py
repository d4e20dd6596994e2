"""Timing of spatialinno.index.build_index on the shipped SYNTHETIC demo panel.

Demo panel (``spatialinno.demo_panel()``): 337 prefecture-level units x 12 years (2011-2022) x 14
indicators in 3 dimensions (innovation 5, digital 5, green 4; 3 negative). Prints the median wall
time over ``--runs`` (default 7) calls of each configuration; the target is < 1 s each.
``--synthetic`` uses an in-script random panel of the same shape instead (no data dependency).

Run: ``python benchmarks/bench_index.py [--runs 7]``
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from spatialinno.index import build_index

N_UNITS, YEARS = 337, list(range(2011, 2023))
DIMENSIONS = {
    "innovation": ["rd_intensity", "patents_pc", "sci_staff", "hightech_share", "univ_students"],
    "digital": ["internet_users", "broadband", "telecom_rev", "digital_firms", "ecommerce"],
    "green": ["energy_intensity", "co2_intensity", "so2_per_gdp", "green_area"],
}
NEGATIVE = {"energy_intensity", "co2_intensity", "so2_per_gdp", "digital_firms"}


def synthetic_panel(seed: int = 20240601) -> tuple[pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(seed)
    n = N_UNITS * len(YEARS)
    df = pd.DataFrame({"unit": np.repeat([f"C{i:03d}" for i in range(N_UNITS)], len(YEARS)),
                       "year": np.tile(YEARS, N_UNITS)})
    level = rng.normal(size=N_UNITS).repeat(len(YEARS))  # common city effect -> correlated columns
    trend = (df["year"].to_numpy() - YEARS[0]) / len(YEARS)
    for k, col in enumerate(c for cols in DIMENSIONS.values() for c in cols):
        df[col] = np.exp(0.6 * level + 0.5 * trend + rng.normal(scale=0.4 + 0.05 * k, size=n))
    return df, {c: ("-" if c in NEGATIVE else "+") for c in df.columns[2:]}


def median_time(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--synthetic", action="store_true", help="use an in-script random panel")
    args = parser.parse_args()
    if args.runs < 7:
        parser.error("--runs must be >= 7")
    if args.synthetic:
        df, dirs = synthetic_panel()
        dimensions = DIMENSIONS
    else:
        from spatialinno import demo_panel
        from spatialinno.data.make_demo_panel import INDICATORS

        df = demo_panel().data.rename(columns={"adcode": "unit"})
        dirs = {k: v[1] for k, v in INDICATORS.items()}
        dimensions = {d: [k for k, v in INDICATORS.items() if v[0] == d]
                      for d in ("innovation", "digital", "green")}
        df = df[["unit", "year", *dirs]]
    configs = []
    for method in ("entropy", "topsis", "critic"):
        configs.append((f"{method}, flat, pooled", dict(method=method)))
        configs.append((f"{method}, hierarchical, pooled",
                        dict(method=method, dimensions=dimensions)))
        configs.append((f"{method}, hierarchical, per year",
                        dict(method=method, dimensions=dimensions, pooled=False)))
    print(f"panel: {N_UNITS} units x {len(YEARS)} years x {len(dirs)} indicators "
          f"({len(df)} rows); median of {args.runs} runs")
    worst = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the synthetic panel must need no filling
        for label, kw in configs:
            t = median_time(lambda kw=kw: build_index(df, dirs, **kw), args.runs)
            worst = max(worst, t)
            print(f"  {label:<36s} {t * 1e3:8.2f} ms")
    print(f"slowest: {worst * 1e3:.2f} ms ({'OK' if worst < 1.0 else 'ABOVE'} target of 1 s)")


if __name__ == "__main__":
    main()
