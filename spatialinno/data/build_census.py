"""Build the shipped census table from the reference copy of leiii/census (build time only).

    python spatialinno/data/build_census.py --source ../shared/reference/census

Reads ``census_city_2010-2020_v1.csv`` (369 prefecture-level units, 2010 and 2020 census
figures; MIT, Lei Dong et al.) and writes ``census_2010_2020_REAL.csv`` beside this script: the
same rows and figures, unchanged, without the source's WKT polygons (``coord``; compared with the
shipped layer in ``shapefiles/compare_census_polygons.py``), with the UTF-8 byte-order mark
removed, and with one added column ``boundary_year`` = 2020: the source adjusted the 2010 figures
to the 2020 boundaries, so both years describe the units of 2020 (codes and names are resolved
as of 2020). Also copies the licence as ``LICENSE_census.txt``. A second run reproduces both files
byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
SOURCE_FILE = "census_city_2010-2020_v1.csv"
OUT = HERE / "census_2010_2020_REAL.csv"
LICENSE = HERE / "LICENSE_census.txt"
DROP = ("coord",)


def build(source: Path) -> int:
    csv.field_size_limit(sys.maxsize)
    with open(source / SOURCE_FILE, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    keep = [i for i, name in enumerate(header) if name not in DROP]
    if len(body) != 369 or len({r[header.index("city_code")] for r in body}) != 369:
        raise SystemExit(f"expected 369 distinct units in {SOURCE_FILE}, got {len(body)}")
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([header[i] for i in keep] + ["boundary_year"])
        writer.writerows([[r[i] for i in keep] + ["2020"] for r in body])
    shutil.copyfile(source / "LICENSE", LICENSE)
    return len(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder of the reference copy")
    n = build(parser.parse_args().source)
    print(f"wrote {OUT.name} ({n} units) and {LICENSE.name}")
