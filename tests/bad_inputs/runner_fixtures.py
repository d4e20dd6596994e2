"""Small, fast analysis files for the runner's bad-input tests (no join, no boundaries: ~0.1 s)."""

from __future__ import annotations

from pathlib import Path

PLAIN_CSV = "unit,year,y,x\n" + "".join(
    f"U{u},{2000 + t},{(u * 7 + t * 3) % 11 + 1.5},{(u + t) % 5 + 0.25}\n"
    for u in range(4) for t in range(3))

PLAIN_ANALYSIS = """[analysis]
title = "tiny"
seed = 7

[data]
panel = "tiny.csv"
unit = "unit"
time = "year"
registry = false
boundaries = "none"
"""


def tiny_project(folder: Path, analysis: str = PLAIN_ANALYSIS, csv: str = PLAIN_CSV) -> Path:
    """Write tiny.csv and analysis.toml into ``folder``; return the analysis path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.csv").write_text(csv, encoding="utf-8")
    path = folder / "analysis.toml"
    path.write_text(analysis, encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder`` (links not followed): file bytes, link targets, folders."""
    if not folder.exists():
        return {}
    state: dict[str, object] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():
            state[rel] = ("link", str(p.readlink()))
        elif p.is_dir():
            state[rel] = ("dir",)
        else:
            state[rel] = ("file", p.read_bytes())
    return state
