"""The shipped county layer (shapefiles/china_counties.parquet): load_boundaries(level="county")."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import shapely

from spatialinno import counties, load_boundaries
from spatialinno.errors import BoundaryError

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "shapefiles" / "county_queen_pairs_raw.csv"
NO_BOUNDARY = {"653228", "653229", "659011", "659012"}  # newer than the Amap data
ISLANDS_ALL = {"210224", "330921", "350527", "440523", "460302", "460303", "710000"}
#: Size stated in shapefiles/README.md; the layer must stay "a few MB".
MAX_BYTES = 5_000_000


@lru_cache(maxsize=1)
def _all():
    return load_boundaries(level="county", include="all")


def _queen_pairs(gdf) -> set[tuple[str, str]]:
    """Pairs of units whose boundaries meet (shapely, independent of the build's libpysal Queen;
    in a valid coverage two units meet only at shared vertices, so this is queen contiguity)."""
    geoms = gdf.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    codes = gdf["adcode"].to_numpy()
    keep = left < right
    return {tuple(sorted(p)) for p in zip(codes[left[keep]], codes[right[keep]], strict=True)}


def test_default_layer_is_the_county_registry_less_four_newer_units():
    gdf = load_boundaries(level="county")
    assert len(gdf) == 2846 and gdf["adcode"].is_unique and gdf.crs.to_epsg() == 4326
    assert list(gdf["adcode"]) == sorted(gdf["adcode"])
    reg = counties.registry().set_index("adcode")
    assert set(reg.index) - set(gdf["adcode"]) == NO_BOUNDARY
    assert (gdf.set_index("adcode")["prefecture"] == reg.loc[gdf["adcode"], "prefecture"]).all()
    assert (gdf.set_index("adcode")["name"] == reg.loc[gdf["adcode"], "name"]).all()
    assert (ROOT / "shapefiles" / "china_counties.parquet").stat().st_size < MAX_BYTES


def test_groups():
    sizes = {g: len(load_boundaries(level="county", include=g))
             for g in ("sar", "taiwan", "outside_code_table")}
    assert sizes == {"sar": 2846 + 26, "taiwan": 2847, "outside_code_table": 2848}
    assert len(_all()) == 2875
    with pytest.raises(BoundaryError, match="province_county"):
        load_boundaries(level="county", include="province_county")  # a prefecture-layer group
    with pytest.raises(BoundaryError, match=r"level='city'.*prefecture.*county"):
        load_boundaries(level="city")


def test_coverage_valid_and_every_geometry_a_valid_multipolygon():
    geoms = _all().geometry.values
    assert (shapely.get_type_id(geoms) == 6).all() and shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)


def test_simplification_kept_every_queen_pair_of_the_raw_source():
    raw = {tuple(line.split(",")) for line in PAIRS.read_text().splitlines()[1:]}
    assert len(raw) == 8205
    pairs = _queen_pairs(_all())
    assert pairs == raw
    nb = {c: {b if a == c else a for a, b in pairs if c in (a, b)} for c in ("110108", "440304")}
    assert nb["110108"] == {"110102", "110105", "110106", "110107", "110109", "110114"}  # 海淀
    assert {"440303", "440305", "440309"} <= nb["440304"]  # 福田: 罗湖 南山 龙华
    codes = set(_all()["adcode"])
    assert {c for c in codes if not any(c in p for p in pairs)} == ISLANDS_ALL


def test_counties_add_up_to_the_prefecture_layer():
    """Both layers come from the same Amap data: a prefecture's counties cover it (areas within
    the two simplifications' error)."""
    cty = load_boundaries(level="county").to_crs("ESRI:102025")
    pref = load_boundaries(include="province_county").to_crs("ESRI:102025").set_index("adcode")
    sums = cty.assign(area=cty.area).groupby("prefecture")["area"].sum()
    common = sums.index.intersection(pref.index)
    assert len(common) >= 360
    ratio = sums[common] / pref.loc[common].area
    # 659xxx 兵团 cities and the four units newer than the data change a few prefectures
    assert np.median(np.abs(ratio - 1)) < 0.001 and (np.abs(ratio - 1) < 0.05).mean() > 0.98
