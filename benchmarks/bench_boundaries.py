"""Time spatialinno.boundaries.load_boundaries().

Run from the repository root: ``python benchmarks/bench_boundaries.py [--runs 15]``. Prints the
median (and min/max) wall time in milliseconds of the first (cold) read of the shipped layer and
of repeated calls, which reuse the parsed file and return a copy, for the default layer and for
``include="all"``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from spatialinno import boundaries
from spatialinno.boundaries import load_boundaries


def timed(fn: Callable[[], object], runs: int,
          before: Callable[[], None] | None = None) -> list[float]:
    out = []
    for _ in range(runs):
        if before is not None:
            before()
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(label: str, ms: list[float]) -> None:
    print(f"{label:<38} median {statistics.median(ms):8.1f} ms   "
          f"min {min(ms):8.1f}   max {max(ms):8.1f}   (n={len(ms)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per case (at least 7)")
    args = parser.parse_args()
    runs = max(args.runs, 7)
    clear = boundaries._read_shipped.cache_clear
    report("load_boundaries() cold (file read)", timed(load_boundaries, runs, before=clear))
    load_boundaries()
    report("load_boundaries() warm", timed(load_boundaries, runs))
    report('load_boundaries(include="all") warm',
           timed(lambda: load_boundaries(include="all"), runs))


if __name__ == "__main__":
    main()
