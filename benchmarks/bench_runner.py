"""Benchmark: the shipped default analysis end to end (target < 60 s on a 2-core machine).

Each run is a fresh process (`spatialinno run --quiet`), as a user would start it; the per-step
timings come from the run's manifest.json. Run: python benchmarks/bench_runner.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    walls, steps = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            out = Path(tmp) / f"run{i}"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "spatialinno.cli", "run", "--out", str(out), "--quiet"],
                           check=True)
            walls.append(time.perf_counter() - t)
            steps.append(json.loads((out / "manifest.json").read_text())["timings_seconds"])
    print(f"default analysis (analyses/nqpf_spillover.toml): median {statistics.median(walls):.1f} s "
          f"over {args.runs} fresh-process runs (target < 60 s)")
    for name in steps[0]:
        print(f"  {name:<10} median {statistics.median(s[name] for s in steps):.2f} s")


if __name__ == "__main__":
    main()
