"""Write county_changes_from_diffs.csv: expected successors of county records, read from the
change lines of yescallop/areacodes (CC0), independently of spatialinno/data/build_counties.py.

The registry build takes successors from areacodes' ``result.csv``; this script reads the
``diff/`` files' own change lines instead (``-CODE NAME>selector,...``), resolves each selector in
the next year-end table by a deliberately simple rule (``.`` = same code, ``_`` = same name, a
name = the one record of that name in the province, preferring the same prefecture; ``?``
selectors disabled, ``!`` kept) and follows each successor through later change lines to the
2024 table. Lines it cannot resolve this way are left out (not guessed). The test
``tests/test_counties.py`` checks that the shipped registry resolves every listed record,
in its last year of use, to the same units.

Build time only::

    python tests/data/make_county_changes.py --areacodes ../shared/reference/areacodes
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

FIRST, LAST = 2000, 2024
HERE = Path(__file__).resolve().parent


def table(areacodes: Path, year: int) -> dict[str, str]:
    out = {}
    for line in (areacodes / "data" / f"{year}.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip().lstrip("\ufeff")
        if line:
            code, name = line.split(maxsplit=1)
            out[code] = name
    return out


def change_lines(areacodes: Path, year: int) -> dict[str, tuple[str, list[str], int, str, str]]:
    """{old code: (old name, selectors, line number, date text, 文号)} of the '-' lines."""
    out = {}
    date = doc = ""
    path = areacodes / "diff" / f"{year - 1}-{year}.diff"
    for i, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = re.match(r"#\s*(日期|文号)：(.*)", raw)
        if m:
            date, doc = (m[2].strip(), doc) if m[1] == "日期" else (date, m[2].strip())
            continue
        if raw.startswith("## "):
            date = doc = ""
        m = re.match(r"-(\d{6}) ([^>]+)>(.+)$", raw.strip())
        if m:
            out[m[1]] = (m[2].strip(), m[3].split(","), i, date, doc)
    return out


def pick(selector: str, old_code: str, old_name: str, nxt: dict[str, str]) -> str | None:
    """The code one selector names in the next table, or None when this simple rule can't tell."""
    if selector.endswith("?"):
        return ""  # disabled selector: names nothing
    selector = selector.rstrip("!")
    if selector == ".":
        return old_code if old_code in nxt else None
    if selector == "..":
        return None
    name = old_name if selector == "_" else selector
    same = [c for c, n in nxt.items()
            if n == name and c[:2] == old_code[:2] and not c.endswith("00")]
    if len(same) > 1:
        same = [c for c in same if c[:4] == old_code[:4]]
    return same[0] if len(same) == 1 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areacodes", type=Path,
                        default=HERE.parents[2] / "shared/reference/areacodes")
    args = parser.parse_args()
    tables = {y: table(args.areacodes, y) for y in range(FIRST, LAST + 1)}
    lines = {y: change_lines(args.areacodes, y) for y in range(FIRST + 1, LAST + 1)}

    def follow(code: str, name: str, year: int, depth: int = 0) -> set[str] | None:
        """Today's codes of the record (code, name) listed in the table of ``year``."""
        for y in range(year + 1, LAST + 1):
            if tables[y].get(code) == name:
                continue
            entry = lines[y].get(code)
            if entry is None or entry[0] != name or depth > 10:
                return None
            out: set[str] = set()
            for sel in entry[1]:
                c = pick(sel, code, name, tables[y])
                if c is None:
                    return None
                if c:
                    sub = follow(c, tables[y][c], y, depth + 1)
                    if sub is None:
                        return None
                    out |= sub
            return out or None
        return {code}

    rows = []
    for y in range(FIRST + 1, LAST + 1):
        for code, (name, sels, line, date, doc) in sorted(lines[y].items()):
            if code.endswith("00") or tables[y - 1].get(code) != name:
                continue
            today = follow(code, name, y - 1)
            if today:
                rows.append(dict(old_code=code, old_name=name, last_year=y - 1,
                                 today=";".join(sorted(today)), date=date, doc_no=doc,
                                 source=f"yescallop/areacodes@eed219a0678d diff/{y - 1}-{y}.diff "
                                        f"line {line}"))
    out = HERE / "county_changes_from_diffs.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    dated = sum(bool(r["date"]) for r in rows)
    print(f"{out.name}: {len(rows)} dated changes ({dated} with a date)")


if __name__ == "__main__":
    main()
