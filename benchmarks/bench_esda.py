"""Timing of spatialinno.esda on the shipped SYNTHETIC demo panel (337 cities x 12 years).

Configurations (all with 999 permutations, queen contiguity W, variable ``ln_gtfp``):

* ``moran_by_year``: global Moran's I with normality, randomisation and permutation inference;
* ``lisa_by_year``: local Moran (conditional permutations), cluster labels, FDR adjustment;
* ``moran + lisa + transitions``: the whole ESDA table set of a paper (the target: < 3 s).

Prints the median wall time over ``--runs`` (default 7) calls after one warm-up. The weights are
built once outside the timed region. esda runs without numba here if numba is not installed
(its pure-Python fallback); install numba for faster LISA permutations.

Run: ``python benchmarks/bench_esda.py [--runs 7]``
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import spatialinno as si
from spatialinno import esda
from spatialinno.weights import Weights

TARGET_S = 3.0
VAR = "ln_gtfp"


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
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Weights.contiguity()
    panel = si.demo_panel()
    n_years = len(panel.years)

    def whole() -> None:
        esda.moran_by_year(panel, VAR, w, permutations=999)
        esda.lisa_by_year(panel, VAR, w, permutations=999, adjust="fdr").transitions()

    configs = {
        "moran_by_year (999 perm.)": lambda: esda.moran_by_year(panel, VAR, w, permutations=999),
        "lisa_by_year (999 perm., fdr)": lambda: esda.lisa_by_year(panel, VAR, w,
                                                                  permutations=999, adjust="fdr"),
        "moran + lisa + transitions": whole,
    }
    print(f"spatialinno.esda on {w.n} units x {n_years} years, median of {args.runs} runs")
    for name, fn in configs.items():
        t = median_time(fn, args.runs)
        flag = "" if name != "moran + lisa + transitions" else (
            f"  (target < {TARGET_S:.0f} s: {'met' if t < TARGET_S else 'MISSED'})")
        print(f"  {name:<32s} {t:7.3f} s{flag}")


if __name__ == "__main__":
    main()
