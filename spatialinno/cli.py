"""Command line: ``spatialinno run [ANALYSIS.toml] --out DIR``, ``spatialinno grid FILE --out DIR
[--scheduler tcp://HOST:PORT]``, ``spatialinno verify DIR``, ``spatialinno check DATA`` and
``spatialinno init DATA``.

Exit codes: 0 success; 1 ``verify`` found differences or ``check`` found rows it could not join,
or an internal error (a bug: one line on
the console, the traceback written to a file whose path is printed); 2 a user error (bad input,
analysis file, output folder: ``spatialinno: error: ...``, never a traceback); 130 interrupted
(Ctrl-C; nothing is left half-written).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback

from . import __version__

EXIT_OK, EXIT_DIFFERENCES, EXIT_INTERNAL, EXIT_USER, EXIT_INTERRUPTED = 0, 1, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spatialinno", description="Spatial econometrics of "
                                     "innovation in China's cities.")
    parser.add_argument("--version", action="version", version=f"spatialinno {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an analysis file (default: the shipped nqpf_spillover.toml)")
    run.add_argument("analysis", nargs="?", default=None, help="analysis file (TOML)")
    run.add_argument("--out", default="out", help="output folder: created, or replaced when it "
                     "holds only an earlier run's outputs; anything else is refused")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    grid = sub.add_parser("grid", help="run the robustness grid of an analysis file's [grid] "
                          "table (or of a grid file) on a Dask cluster")
    grid.add_argument("file", help="analysis file with a [grid] table, or a grid file")
    grid.add_argument("--out", default="grid_out", help="output folder (same rules as run --out)")
    grid.add_argument("--scheduler", default=None, help="address of a running Dask scheduler, "
                      "tcp://HOST:PORT (default: DASK_SCHEDULER_ADDRESS, else a local cluster)")
    grid.add_argument("--workers", type=int, default=None, help="worker processes of the local "
                      "cluster (default: the CPUs this process may use)")
    grid.add_argument("--serial", action="store_true", help="run the cells here, without Dask "
                      "(the outputs are the same bytes)")
    grid.add_argument("--quiet", action="store_true", help="print nothing but errors")
    ver = sub.add_parser("verify", help="re-run a recorded analysis and compare every output")
    ver.add_argument("folder", help="output folder of an earlier run (with manifest.json)")
    for name, text in (("check", "read and join a data file, print what matched and what did not "
                        "(writes nothing)"),
                       ("init", "write a commented analysis file for a data file")):
        p = sub.add_parser(name, help=text)
        p.add_argument("data", help="yearbook file (CSV, Excel, Parquet)")
        p.add_argument("--unit", help="unit column (default: detected)")
        p.add_argument("--time", help="time column (default: detected)")
        p.add_argument("--header", type=int, help="line of the header row (1-based)")
        p.add_argument("--skiprows", type=int, help="title lines to skip at the top")
        p.add_argument("--sep", help="CSV separator (default: detected)")
        p.add_argument("--encoding", help="text encoding (default: UTF-8, then GB18030)")
        p.add_argument("--sheet", help="Excel sheet name")
        if name == "init":
            p.add_argument("--output", help="analysis file to write (default: DATA.toml)")
            p.add_argument("--force", action="store_true", help="overwrite an existing file")
    return parser


def _reading(args: argparse.Namespace) -> dict[str, object]:
    return {k: getattr(args, k) for k in ("header", "skiprows", "sep", "encoding", "sheet")
            if getattr(args, k, None) is not None}


def _dispatch(args: argparse.Namespace) -> int:
    from .runner import run as run_analysis
    from .runner import verify

    if args.command == "run":
        run_analysis(args.analysis, args.out, quiet=args.quiet)
        return EXIT_OK
    if args.command == "grid":
        from .grid import run as run_grid

        run_grid(args.file, args.out, scheduler=args.scheduler, workers=args.workers,
                 serial=args.serial, quiet=args.quiet)
        return EXIT_OK
    if args.command in ("check", "init"):
        from .quickstart import check_file, write_analysis

        if args.command == "check":
            result = check_file(args.data, unit=args.unit, time=args.time, **_reading(args))
            print(result.text)
            return EXIT_OK if result.ok else EXIT_DIFFERENCES
        target = write_analysis(args.data, args.output, unit=args.unit, time=args.time,
                                overwrite=args.force, **_reading(args))
        print(f"wrote {target}; run it with: spatialinno run {target} --out {target.stem}_out")
        return EXIT_OK
    report = verify(args.folder)
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_DIFFERENCES


def _internal_error(exc: BaseException) -> int:
    """One line on the console; the traceback in a file (a bug report needs it, a user does not)."""
    fd, path = tempfile.mkstemp(prefix="spatialinno-error-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"spatialinno {__version__}, Python {sys.version.split()[0]}\n")
        f.write(f"command: {' '.join(sys.argv)}\n\n")
        f.write("".join(traceback.format_exception(exc)))
    print(f"spatialinno: internal error: {type(exc).__name__}: {exc}. This is a bug in spatialinno, "
          f"not in your input; the details are in {path} (please attach it to a bug report).",
          file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .errors import SpatialinnoError

    try:
        return _dispatch(args)
    except SpatialinnoError as exc:
        print(f"spatialinno: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): stop quietly
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        except OSError:
            pass
        return EXIT_OK
    except KeyboardInterrupt:
        print("spatialinno: interrupted; no output folder was changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # permissions, a full disk, a path that is not a folder
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"spatialinno: error: {exc.strerror or exc}{where}; nothing was changed in the "
              "output folder", file=sys.stderr)
        return EXIT_USER
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        return _internal_error(exc)


if __name__ == "__main__":
    raise SystemExit(main())
