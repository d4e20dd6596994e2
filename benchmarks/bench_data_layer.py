"""Benchmark: load the shipped boundary layer and join the SYNTHETIC demo panel (target < 2 s).

Cold = a fresh Python process each run (imports, file reads and registry indexing included: what a
user waits for the first time); warm = repeated calls in one process (caches filled).
Run: python benchmarks/bench_data_layer.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

COLD = """
import time
t = time.perf_counter()
import spatialinno as si
layer = si.load_boundaries()
panel = si.demo_panel()
assert len(layer) == 337 and panel.is_balanced
print(time.perf_counter() - t)
"""


def main(runs: int = 7) -> None:
    cold = [float(subprocess.run([sys.executable, "-c", COLD], check=True, capture_output=True,
                                 text=True).stdout) for _ in range(runs)]
    import spatialinno as si

    si.load_boundaries(), si.demo_panel()
    warm_layer, warm_join = [], []
    for _ in range(runs):
        t = time.perf_counter()
        si.load_boundaries()
        warm_layer.append(time.perf_counter() - t)
        t = time.perf_counter()
        si.demo_panel()
        warm_join.append(time.perf_counter() - t)
    print(f"load layer + join demo panel, cold (fresh process incl. imports): median "
          f"{statistics.median(cold):.3f} s over {runs} runs (target < 2 s)")
    print(f"  warm: load_boundaries median {statistics.median(warm_layer) * 1e3:.1f} ms; "
          f"demo_panel join median {statistics.median(warm_join) * 1e3:.1f} ms (4053 rows)")


if __name__ == "__main__":
    main()
