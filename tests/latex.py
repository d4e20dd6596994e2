"""Compile LaTeX tables the way a user would: a minimal A4 article with the packages each table's
leading comment names, under the engine it names; report errors and overfull boxes per table."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Log lines that fail a table: TeX errors, boxes that stick out, floats taller than the page,
#: glyphs the font lacks.
PROBLEMS = re.compile(r"^(! .*|Overfull \\[hv]box.*|.*Float too large.*|Missing character.*)$",
                      re.MULTILINE)
MARK = "@@spatialinno-table "


@dataclass(frozen=True)
class Compiled:
    engine: str
    tables: tuple[str, ...]
    problems: dict[str, list[str]]   # table -> offending log lines
    seconds: float


def engine_of(tex: str) -> str:
    """'xelatex' when the table's leading comment asks for xelatex (Chinese: with ctex), else
    'pdflatex'."""
    head = next(line for line in tex.splitlines() if line.startswith("% Engine:"))
    return "xelatex" if head.startswith("% Engine: xelatex") else "pdflatex"


def packages_of(tex: str) -> list[str]:
    head = next(line for line in tex.splitlines() if line.startswith("% Preamble:"))
    return re.search(r"\\usepackage\{([^}]*)\}", head).group(1).split(",")


def document(tables: dict[str, Path], engine: str) -> str:
    """One article holding every table (each on its own page, preceded by a marker in the
    log), loading the union of the packages the tables declare, and ctex under xelatex."""
    pkgs: list[str] = []
    for path in tables.values():
        pkgs += [p for p in packages_of(path.read_text(encoding="utf-8")) if p not in pkgs]
    lines = [r"\documentclass[a4paper]{article}"]
    if engine == "xelatex":
        lines.append(r"\usepackage{ctex}")
    lines.append(r"\usepackage{" + ",".join(pkgs) + "}")
    if "longtable" in pkgs:
        # One chunk per longtable: its column widths are final in the first run, so one run
        # shows what the second run of a user's document would (and takes half the time).
        lines.append(r"\setcounter{LTchunksize}{100000}")
    lines.append(r"\begin{document}")
    for name, path in tables.items():
        lines += [r"\typeout{" + MARK + name + "}", r"\input{" + path.as_posix() + "}",
                  r"\clearpage"]
    lines += [r"\typeout{" + MARK + "(end)}", r"\end{document}"]
    return "\n".join(lines) + "\n"


def _per_table(log: str, names: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n: [] for n in names}
    parts = log.split(MARK)
    out["(preamble)"] = PROBLEMS.findall(parts[0])
    for part in parts[1:]:
        name, _, text = part.partition("\n")
        if name.strip() in out:
            out[name.strip()] += PROBLEMS.findall(text)
    return {k: v for k, v in out.items() if v}


def compile_tables(tables: dict[str, Path], engine: str, workdir: Path, *,
                   runs: int = 1) -> Compiled:
    """Compile ``tables`` (name -> .tex file) in one document with ``engine`` and return the
    problems of each table (one run suffices: see the ``LTchunksize`` of :func:`document`)."""
    import time

    workdir.mkdir(parents=True, exist_ok=True)
    doc = workdir / f"tables-{engine}.tex"
    doc.write_text(document(tables, engine), encoding="utf-8")
    t0 = time.perf_counter()
    for _ in range(runs):
        proc = subprocess.run([engine, "-interaction=nonstopmode", doc.name],
                              cwd=workdir, capture_output=True, timeout=600)
    log = (workdir / f"tables-{engine}.log").read_text(encoding="utf-8", errors="replace")
    problems = _per_table(log, list(tables))
    if proc.returncode != 0 and not problems:
        problems["(document)"] = [f"{engine} exited with {proc.returncode}"]
    return Compiled(engine, tuple(tables), problems, time.perf_counter() - t0)


def available(engine: str) -> bool:
    return shutil.which(engine) is not None
