"""Command line: ``spatialinno run [--out DIR] [--quiet]``."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spatialinno", description="Spatial econometrics of "
                                     "innovation in China's cities.")
    parser.add_argument("--version", action="version", version=f"spatialinno {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the default analysis on the shipped (synthetic) data")
    run.add_argument("--out", default="out", help="output folder (replaced on success)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    if args.command == "run":
        from .errors import SpatialinnoError
        from .runner import run_default

        try:
            run_default(args.out, quiet=args.quiet)
        except SpatialinnoError as exc:
            print(f"spatialinno: error: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
