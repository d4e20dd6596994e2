"""Command line: ``spatialinno run [ANALYSIS.toml] --out DIR`` and ``spatialinno verify DIR``."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spatialinno", description="Spatial econometrics of "
                                     "innovation in China's cities.")
    parser.add_argument("--version", action="version", version=f"spatialinno {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an analysis file (default: the shipped nqpf_spillover.toml)")
    run.add_argument("analysis", nargs="?", default=None, help="analysis file (TOML)")
    run.add_argument("--out", default="out", help="output folder (replaced on success)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    ver = sub.add_parser("verify", help="re-run a recorded analysis and compare every output")
    ver.add_argument("folder", help="output folder of an earlier run (with manifest.json)")
    args = parser.parse_args(argv)

    from .errors import SpatialinnoError
    from .runner import run as run_analysis
    from .runner import verify

    try:
        if args.command == "run":
            run_analysis(args.analysis, args.out, quiet=args.quiet)
            return 0
        report = verify(args.folder)
        print(report.summary())
        return 0 if report.ok else 1
    except SpatialinnoError as exc:
        print(f"spatialinno: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
